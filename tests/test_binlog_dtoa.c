/*
 * test_binlog_dtoa.c: binlog_dtoa against fixed texts, and against glibc's
 * correctly rounded printf and strtod/strtof on millions of random bit
 * patterns and on every binary exponent.
 *
 * The power-of-ten table is static in binlog_dtoa.c, so it is checked bit
 * for bit by `tests/tools/gen_pow10.py --check binlog/binlog_dtoa.c` (which
 * recomputes it with exact integer arithmetic); here every entry is
 * exercised through round trips: the exponent sweep reaches every entry
 * (each serves some exponent of a double, both for an ordinary significand
 * and for the lowest one of a binade), and the exact-decimal sweep hits
 * values whose scaled form is an integer or nearly one, where an entry
 * that is slightly off would first give a wrong answer.
 *
 * SLUICE_DTOA_RANDOM sets the number of random doubles and floats (default
 * 2,000,000 each, 200,000 under the sanitizers).
 */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "binlog_jsonw.h"

#if defined(__SANITIZE_ADDRESS__)
#define DTOA_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define DTOA_SANITIZED 1
#endif
#endif
#ifndef DTOA_SANITIZED
#define DTOA_SANITIZED 0
#endif

#define SEED 0x5eed0fd70a5eedULL

/* splitmix64; the state is the caller's so that threads need no locking. */
static uint64_t rnd(uint64_t *st)
{
	uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double from_bits(uint64_t b)
{
	double v;

	memcpy(&v, &b, sizeof(v));
	return v;
}

static uint64_t dbits(double v)
{
	uint64_t b;

	memcpy(&b, &v, sizeof(b));
	return b;
}

static float from_bits32(uint32_t b)
{
	float f;

	memcpy(&f, &b, sizeof(f));
	return f;
}

static uint32_t fbits(float f)
{
	uint32_t b;

	memcpy(&b, &f, sizeof(b));
	return b;
}

/*
 * The checks run on worker threads too, where cmocka's failure longjmp is
 * not allowed: they return -1 with a message in err instead, and the test
 * body turns that into a failure.
 */
#define ERR_LEN 256

static int err_set(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int err_set(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, ERR_LEN, fmt, ap);
	va_end(ap);
	return -1;
}

static void must(int rc, const char *err)
{
	if (rc)
		fail_msg("%s", err);
}

/*
 * binlog_dtoa into a NUL-terminated buffer, failing when it touches a byte
 * past out[31] (bytes between the length and 32 are scratch by contract).
 */
static int run_dtoa(double v, int single, char buf[64], char *err)
{
	size_t len;

	memset(buf, 0x55, 64);
	len = binlog_dtoa(v, single, buf);
	if (len == 0 || len > 32)
		return err_set(err, "%a: length %zu", v, len);
	for (size_t i = 32; i < 64; i++)
		if (buf[i] != 0x55)
			return err_set(err, "%a: wrote byte %zu (length %zu)", v, i, len);
	buf[len] = 0;
	return 0;
}

static void check_text(double v, int single, const char *want)
{
	char buf[64], err[ERR_LEN];

	must(run_dtoa(v, single, buf, err), err);
	if (strcmp(buf, want) != 0)
		fail_msg("%a (%s): got \"%s\", want \"%s\"", v, single ? "float" : "double", buf,
			 want);
}

static void test_fixed(void **state)
{
	(void)state;
	check_text(0.0, 0, "0.0");
	check_text(-0.0, 0, "-0.0");
	check_text(1.0, 0, "1.0");
	check_text(2.0, 0, "2.0");
	check_text(100.0, 0, "100.0");
	check_text(2.5, 0, "2.5");
	check_text(0.1, 0, "0.1");
	check_text(1.25, 0, "1.25");
	check_text(-2.5, 0, "-2.5");
	check_text(0.3, 0, "0.3");
	check_text(0.1 + 0.2, 0, "0.30000000000000004");
	check_text(1e21, 0, "1e+21");
	check_text(1e20, 0, "100000000000000000000.0");
	check_text(123456789012345680000.0, 0, "123456789012345680000.0");
	check_text(1e-7, 0, "1e-7");
	check_text(1.5e-7, 0, "1.5e-7");
	check_text(0.000001, 0, "0.000001");
	check_text(0.000001234, 0, "0.000001234");
	check_text(-0.00001, 0, "-0.00001");
	check_text(1e300, 0, "1e+300");
	check_text(1e23, 0, "1e+23");
	check_text(5e-324, 0, "5e-324");
	check_text(-5e-324, 0, "-5e-324");
	check_text(DBL_MAX, 0, "1.7976931348623157e+308");
	check_text(-DBL_MAX, 0, "-1.7976931348623157e+308");
	check_text(DBL_MIN, 0, "2.2250738585072014e-308");
	check_text(9007199254740992.0, 0, "9007199254740992.0");
	check_text(9007199254740993.0, 0, "9007199254740992.0");
	check_text(1152921504606846976.0, 0, "1152921504606847000.0");
	check_text(123.456, 0, "123.456");
	check_text(3.141592653589793, 0, "3.141592653589793");
	check_text(1.2345678901234567e-6, 0, "0.0000012345678901234567");
	check_text(-1.2345678901234567e-6, 0, "-0.0000012345678901234567");
	check_text(-1.2345678901234567e-308, 0, "-1.2345678901234567e-308");
	check_text(-123456789012345680000.0, 0, "-123456789012345680000.0");
	check_text(0x1p-1021, 0, "4.450147717014403e-308"); /* 1/4 gap below */
	check_text(0x1p1023, 0, "8.98846567431158e+307");
	check_text(9.999999999999999e22, 0, "1e+23");
	check_text(5e-7, 0, "5e-7");
	check_text(1.1f, 0, "1.100000023841858");
	check_text(1.1f, 1, "1.1");
	check_text(0.1f, 1, "0.1");
	check_text(-0.0f, 1, "-0.0");
	check_text(0.0f, 1, "0.0");
	check_text(3.4028235e38f, 1, "3.4028235e+38");
	check_text(FLT_MAX, 1, "3.4028235e+38");
	check_text(FLT_MIN, 1, "1.1754944e-38");
	check_text(1e-45f, 1, "1e-45");
	check_text(16777216.0f, 1, "16777216.0");
	check_text(16777217.0, 1, "16777216.0");
	check_text(1e10f, 1, "10000000000.0");
	check_text(0.3f, 1, "0.3");
	check_text(2.5f, 1, "2.5");
	check_text(0x1p-125f, 1, "2.3509887e-38");
	check_text(0x1p127f, 1, "1.7014118e+38");
	check_text(1e-40f, 1, "1e-40");
	check_text(50331648.0f, 1, "50331650.0");
	check_text(HUGE_VAL, 0, "null");
	check_text(-HUGE_VAL, 0, "null");
	check_text(NAN, 0, "null");
	check_text(HUGE_VAL, 1, "null");
	check_text(NAN, 1, "null");
	check_text(1e300, 1, "null");
}

/*
 * A decimal text as significant digits (no leading or trailing zeros) and
 * the decimal exponent of the first of them. Returns the digit count, 0
 * for zero.
 */
static int normalize(const char *s, char dig[64], int *exp10)
{
	int n = 0, pt = 0, seen_pt = 0, lead = 1;

	if (*s == '-')
		s++;
	for (; *s && *s != 'e' && *s != 'E'; s++) {
		if (*s == '.') {
			seen_pt = 1;
			continue;
		}
		if (lead && *s == '0') {
			if (seen_pt)
				pt--;
			continue;
		}
		lead = 0;
		if (n < 63)
			dig[n++] = *s;
		if (!seen_pt)
			pt++;
	}
	if (*s)
		pt += (int)strtol(s + 1, NULL, 10);
	while (n > 0 && dig[n - 1] == '0')
		n--;
	dig[n] = 0;
	*exp10 = pt - 1;
	return n;
}

/* JSON number grammar, and JavaScript's choice of layout. */
static int layout_ok(const char *s)
{
	const char *p = s;
	int has_pt = 0, has_e = 0, lead_digits = 0, e10;
	char dig[64], mant_last = 0;
	int n = normalize(s, dig, &e10);

	if (*p == '-')
		p++;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return 0;
	while (*p >= '0' && *p <= '9') {
		p++;
		lead_digits++;
	}
	if (!lead_digits)
		return 0;
	if (*p == '.') {
		has_pt = 1;
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	mant_last = p[-1];
	if (*p == 'e') {
		has_e = 1;
		p++;
		if (*p != '+' && *p != '-')
			return 0;
		p++;
		if (!(*p >= '1' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p || (!has_pt && !has_e))
		return 0;
	if (n == 0)
		return !has_e;
	/* Plain notation exactly for a point position -6 < pt <= 21. */
	if (has_e != !(-6 < e10 + 1 && e10 + 1 <= 21))
		return 0;
	/* Exponent form: one digit before the point, no trailing zeros. */
	if (has_e && (lead_digits != 1 || mant_last == '0'))
		return 0;
	/* Plain: a trailing zero only in the ".0" of an integral value. */
	if (!has_e && mant_last == '0' && (p[-2] != '.' || e10 + 1 < n))
		return 0;
	return 1;
}

/* Whether the correctly rounded p-digit text of v (left in buf) reads back
 * as v. */
static int round_trips_at(double v, int single, int p, char buf[64])
{
	snprintf(buf, 64, "%.*e", p - 1, v);
	if (single)
		return fbits(strtof(buf, NULL)) == fbits((float)v);
	return dbits(strtod(buf, NULL)) == dbits(v);
}

/*
 * One value: reads back exactly, valid layout, no more digits than the
 * shortest printf finds, and the same decimal as printf's correctly rounded
 * text of that length unless that text does not read back (so also the
 * closest; `closest` 0 skips that, to save a printf). `full` tries every
 * shorter precision; otherwise only one fewer digit, which suffices when
 * the rounding interval is symmetric (a closer decimal of more digits is
 * then inside it too, so reading back is monotone in the precision). Only
 * the lowest significand of a binade has an asymmetric interval.
 */
static int check_value(double v, int single, int full, int closest, char *err)
{
	char buf[64], ref[64], d1[64], d2[64];
	const char *ty = single ? "float" : "double";
	int n, e1, e2;

	if (run_dtoa(v, single, buf, err))
		return -1;
	if (single ? fbits(strtof(buf, NULL)) != fbits((float)v)
		   : dbits(strtod(buf, NULL)) != dbits(v))
		return err_set(err, "%a (%s): \"%s\" does not read back", v, ty, buf);
	if (!layout_ok(buf))
		return err_set(err, "%a: bad layout \"%s\"", v, buf);
	n = normalize(buf, d1, &e1);
	if (n == 0)
		return 0;
	for (int p = full ? 1 : n - 1; p >= 1 && p < n; p++)
		if (round_trips_at(v, single, p, ref))
			return err_set(err,
				       "%a (%s): \"%s\" has %d digits but %d "
				       "read back",
				       v, ty, buf, n, p);
	if (!closest)
		return 0;
	/* Same decimal as printf's: closest, and no need to parse it. */
	snprintf(ref, sizeof(ref), "%.*e", n - 1, v);
	normalize(ref, d2, &e2);
	if ((strcmp(d1, d2) != 0 || e1 != e2) && round_trips_at(v, single, n, ref))
		return err_set(err, "%a (%s): \"%s\" is not closest (\"%s\")", v, ty, buf, ref);
	return 0;
}

static long random_count(void)
{
	const char *e = getenv("SLUICE_DTOA_RANDOM");
	const char *san = getenv("SANITIZE");

	if (e && *e)
		return strtol(e, NULL, 10);
	if (DTOA_SANITIZED || (san && strcmp(san, "1") == 0))
		return 200000;
	return 2000000;
}

/* One thread's share of the random bit patterns. */
struct job {
	int single;
	long count;
	uint64_t seed;
	int failed;
	char err[ERR_LEN];
};

static void *random_job(void *arg)
{
	struct job *j = arg;
	uint64_t st = j->seed;
	long done = 0;

	while (done < j->count && !j->failed) {
		uint64_t b = rnd(&st);
		double v;
		int full;

		if (j->single) {
			uint32_t b32 = (uint32_t)(b >> 32);

			if ((b32 >> 23 & 0xff) == 0xff)
				continue;
			v = (double)from_bits32(b32);
			full = (b32 & 0x7fffff) == 0;
		} else {
			if ((b >> 52 & 0x7ff) == 0x7ff)
				continue;
			v = from_bits(b);
			full = (b & 0xfffffffffffffULL) == 0;
		}
		/* The closest-check on every other one keeps the run short;
		 * reading back and length are checked on all. */
		if (check_value(v, j->single, full, !(done & 1), j->err))
			j->failed = 1;
		done++;
	}
	return NULL;
}

/*
 * printf and strtod dominate the time, so the patterns are split over the
 * available cores to keep the test quick.
 */
static void run_random(int single)
{
	enum { MAX_THREADS = 4 };
	struct job jobs[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	int started[MAX_THREADS];
	long n = random_count(), cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int nt = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;

	for (int i = 0; i < nt; i++) {
		jobs[i] = (struct job){
			.single = single,
			.count = n / nt + (i < n % nt),
			.seed = SEED * (uint64_t)(2 * i + 1 + single),
		};
		started[i] = pthread_create(&th[i], NULL, random_job, &jobs[i]) == 0;
		if (!started[i]) /* no thread to spare: do it here */
			random_job(&jobs[i]);
	}
	for (int i = 0; i < nt; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	for (int i = 0; i < nt; i++)
		must(jobs[i].failed, jobs[i].err);
	printf("random %s: %ld bit patterns read back and are shortest, half "
	       "checked closest (%d threads)\n",
	       single ? "floats" : "doubles", n, nt);
}

static void test_random_double(void **state)
{
	(void)state;
	run_random(0);
}

static void test_random_float(void **state)
{
	(void)state;
	run_random(1);
}

/* Every exponent with edge and random significands, every precision. */
static void test_every_exponent(void **state)
{
	uint64_t st = SEED;
	char err[ERR_LEN];

	(void)state;
	for (uint64_t be = 0; be < 0x7ff; be++) {
		uint64_t fr[] = {0,
				 1,
				 2,
				 3,
				 0x8000000000000ULL,
				 0xfffffffffffffULL,
				 0xffffffffffffeULL,
				 rnd(&st) >> 12,
				 rnd(&st) >> 12};

		for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++) {
			uint64_t b = be << 52 | fr[i];

			if (b == 0)
				continue;
			must(check_value(from_bits(b), 0, 1, 1, err), err);
			must(check_value(-from_bits(b), 0, 1, 1, err), err);
		}
	}
	for (uint32_t be = 0; be < 0xff; be++) {
		uint32_t fr[] = {0,
				 1,
				 2,
				 3,
				 0x400000,
				 0x7fffff,
				 0x7ffffe,
				 (uint32_t)(rnd(&st) >> 41),
				 (uint32_t)(rnd(&st) >> 41)};

		for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++) {
			uint32_t b = be << 23 | fr[i];

			if (b == 0)
				continue;
			must(check_value((double)from_bits32(b), 1, 1, 1, err), err);
		}
	}
}

/*
 * Doubles and floats nearest to d * 10^N and (d + 0.5) * 10^N: their
 * scaled forms are integers or within a hair of one. The one-digit ones
 * must come back as exactly that text when it is the closest decimal.
 */
static void test_exact_decimals(void **state)
{
	char src[32], out[64], d[64], err[ERR_LEN];
	int e10;

	(void)state;
	for (int single = 0; single <= 1; single++) {
		for (int N = single ? -46 : -325; N <= (single ? 38 : 308); N++) {
			for (int dg = 1; dg <= 9; dg++) {
				double v;

				snprintf(src, sizeof(src), "%de%d", dg, N);
				v = single ? (double)strtof(src, NULL) : strtod(src, NULL);
				if (v == 0 || isinf(v))
					continue;
				must(check_value(v, single, 1, 1, err), err);
				must(run_dtoa(v, single, out, err), err);
				normalize(out, d, &e10);
				if ((single ? v >= FLT_MIN : v >= DBL_MIN) &&
				    (d[0] != '0' + dg || d[1] || e10 != N))
					fail_msg("%s -> %a -> %s", src, v, out);
				snprintf(src, sizeof(src), "%d5e%d", dg, N - 1);
				v = single ? (double)strtof(src, NULL) : strtod(src, NULL);
				if (v != 0 && !isinf(v))
					must(check_value(v, single, 1, 1, err), err);
			}
		}
	}
}

/* Two-decimal values (the fast path), at every magnitude up to and past
 * its 1e12 bound, are shortest, closest and read back. */
static void test_two_decimals(void **state)
{
	char err[ERR_LEN];
	uint64_t st = 42;

	(void)state;
	for (int mag = 0; mag <= 16; mag++) {
		uint64_t span = 1;
		for (int i = 0; i < mag; i++)
			span *= 10;
		for (int i = 0; i < 20000; i++) {
			uint64_t k = 1 + rnd(&st) % span;
			double v = (double)k / 100.0;
			must(check_value(v, 0, 1, 1, err), err);
			must(check_value(-v, 0, 1, 1, err), err);
		}
	}
	check_text(0.05, 0, "0.05");
	check_text(12.5, 0, "12.5");
	check_text(405.03, 0, "405.03");
	check_text(-1.1, 0, "-1.1");
	check_text(100.0, 0, "100.0");
	check_text(999999999999.99, 0, "999999999999.99");
	check_text(1e12, 0, "1000000000000.0");
}

/* Integers up to 2^53 are exact: their digits and ".0". */
static void test_integers(void **state)
{
	char buf[64], want[40], err[ERR_LEN];
	uint64_t st = SEED;
	size_t n;

	(void)state;
	for (uint64_t i = 1; i < 200000; i++) {
		uint64_t x = i < 100000 ? i : rnd(&st) >> (11 + rnd(&st) % 50);

		if (x == 0)
			continue;
		n = binlog_u64_to_dec(x, want);
		memcpy(want + n, ".0", 3);
		must(run_dtoa((double)x, 0, buf, err), err);
		if (strcmp(buf, want) != 0)
			fail_msg("%llu: got %s", (unsigned long long)x, buf);
	}
}

/* Best of several passes, so that a busy machine disturbs it less. */
static double ns_per_call(const double *v, size_t n, int single)
{
	struct timespec t0, t1;
	char out[64];
	size_t sum = 0;
	double best = 0;

	for (int r = 0; r < 16; r++) {
		double ns;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (size_t i = 0; i < n; i++)
			sum += binlog_dtoa(v[i], single, out);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
		     (double)n;
		if (r == 0 || ns < best)
			best = ns;
	}
	if (sum == 0)
		fail_msg("no output");
	return best;
}

/* Informational: printed, never asserted. */
static void test_throughput(void **state)
{
	size_t n = 1 << 16;
	double *v = malloc(n * sizeof(*v));
	double nd, nf, ns;
	uint64_t st = SEED;

	(void)state;
	assert_non_null(v);
	for (size_t i = 0; i < n;) {
		uint64_t b = rnd(&st);

		if ((b >> 52 & 0x7ff) != 0x7ff)
			v[i++] = from_bits(b);
	}
	nd = ns_per_call(v, n, 0);
	for (size_t i = 0; i < n;) {
		uint32_t b = (uint32_t)(rnd(&st) >> 32);

		if ((b >> 23 & 0xff) != 0xff)
			v[i++] = (double)from_bits32(b);
	}
	nf = ns_per_call(v, n, 1);
	for (size_t i = 0; i < n; i++)
		v[i] = (double)(int64_t)(rnd(&st) % 10000000) / 100.0;
	ns = ns_per_call(v, n, 0);
	printf("binlog_dtoa: %.1f ns/call random doubles, %.1f ns/call random "
	       "floats, %.1f ns/call short decimals%s\n",
	       nd, nf, ns, DTOA_SANITIZED ? " (sanitized build)" : "");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),          cmocka_unit_test(test_integers),
		cmocka_unit_test(test_exact_decimals), cmocka_unit_test(test_two_decimals),
		cmocka_unit_test(test_every_exponent), cmocka_unit_test(test_random_double),
		cmocka_unit_test(test_random_float),   cmocka_unit_test(test_throughput),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
