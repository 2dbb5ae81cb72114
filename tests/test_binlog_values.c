/*
 * test_binlog_values.c: column values as row images pack them, checked
 * against reference encoders written here from the server's storage
 * rules (DECIMAL's decimal2bin, the packed TIME2/DATETIME2 forms), over
 * random values, plus the fixed-size types and every short read.
 */
#include "testutil.h"

#include <time.h>

#include "binlog.h"
#include "binlog_decimal.h"
#include "binlog_jsonw.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---------------------------------------------------------------- DECIMAL */

static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};

static void put_be(uint8_t *p, uint32_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* decimal2bin from a digit string: intg digits, frac digits, sign. */
static size_t ref_decimal(const char *ip, const char *fp, int neg, int prec, int scale,
			  uint8_t *out)
{
	int intg = prec - scale, k = 0;
	char idig[80], fdig[80];
	size_t n = 0;

	/* left-pad the integer part, right-pad the fraction */
	memset(idig, '0', (size_t)intg);
	memcpy(idig + intg - (int)strlen(ip), ip, strlen(ip));
	memset(fdig, '0', (size_t)scale);
	memcpy(fdig, fp, strlen(fp));
	if (intg % 9) {
		uint32_t v = 0;
		for (int i = 0; i < intg % 9; i++)
			v = v * 10 + (uint32_t)(idig[k++] - '0');
		put_be(out + n, v, dig2bytes[intg % 9]);
		n += (size_t)dig2bytes[intg % 9];
	}
	for (int w = 0; w < intg / 9; w++) {
		uint32_t v = 0;
		for (int i = 0; i < 9; i++)
			v = v * 10 + (uint32_t)(idig[k++] - '0');
		put_be(out + n, v, 4);
		n += 4;
	}
	k = 0;
	for (int w = 0; w < scale / 9; w++) {
		uint32_t v = 0;
		for (int i = 0; i < 9; i++)
			v = v * 10 + (uint32_t)(fdig[k++] - '0');
		put_be(out + n, v, 4);
		n += 4;
	}
	if (scale % 9) {
		uint32_t v = 0;
		for (int i = 0; i < scale % 9; i++)
			v = v * 10 + (uint32_t)(fdig[k++] - '0');
		put_be(out + n, v, dig2bytes[scale % 9]);
		n += (size_t)dig2bytes[scale % 9];
	}
	if (neg)
		for (size_t i = 0; i < n; i++)
			out[i] ^= 0xff;
	out[0] ^= 0x80;
	return n;
}

static void decimal_random(void **state)
{
	binlog_buf_t b;
	uint8_t bin[40];
	char ip[70], fp[40], want[120];

	(void)state;
	binlog_buf_init(&b, 0);
	for (int iter = 0; iter < 200000; iter++) {
		int prec = 1 + (int)(rnd() % 65), scale = (int)(rnd() % 39), intg, ni, nf, neg;
		size_t n;
		if (scale > prec)
			scale = prec;
		intg = prec - scale;
		ni = intg ? (int)(rnd() % (unsigned)(intg + 1)) : 0;
		nf = (int)(rnd() % (unsigned)(scale + 1));
		for (int i = 0; i < ni; i++)
			ip[i] = (char)('0' + rnd() % 10);
		if (ni)
			ip[0] = (char)('1' + rnd() % 9);
		ip[ni] = 0;
		for (int i = 0; i < nf; i++)
			fp[i] = (char)('0' + rnd() % 10);
		fp[nf] = 0;
		neg = (int)(rnd() & 1);
		n = ref_decimal(ip, fp, neg, prec, scale, bin);
		assert_int_equal(n, binlog_decimal_size((unsigned)prec, (unsigned)scale));
		{
			/* expected text: sign unless zero, integer digits or 0,
			 * exactly `scale` decimals */
			int zero = 1, k = 0;
			for (int i = 0; ip[i]; i++)
				zero &= ip[i] == '0';
			for (int i = 0; fp[i]; i++)
				zero &= fp[i] == '0';
			if (neg && !zero)
				want[k++] = '-';
			if (ni)
				for (int i = 0; ip[i]; i++)
					want[k++] = ip[i];
			else
				want[k++] = '0';
			if (scale) {
				want[k++] = '.';
				for (int i = 0; i < scale; i++)
					want[k++] = i < nf ? fp[i] : '0';
			}
			want[k] = 0;
		}
		binlog_buf_reset(&b);
		assert_int_equal(binlog_decimal_format(&b, bin, (unsigned)prec, (unsigned)scale),
				 0);
		if (strcmp(tu_str(&b), want) != 0)
			fail_msg("DECIMAL(%d,%d) %s%s.%s: got %s want %s", prec, scale,
				 neg ? "-" : "", ip, fp, tu_str(&b), want);
	}
	binlog_buf_free(&b);
}

static void decimal_fixed(void **state)
{
	/* DECIMAL(10,5) 0.1 and -0.1; a corrupt group */
	static const uint8_t pos[] = {0x80, 0x00, 0x00, 0x00, 0x27, 0x10};
	static const uint8_t neg[] = {0x7f, 0xff, 0xff, 0xff, 0xd8, 0xef};
	static const uint8_t bad[] = {0xff, 0xff, 0xff, 0xff, 0x00}; /* DECIMAL(9,0) > 999999999 */
	binlog_buf_t b;

	(void)state;
	binlog_buf_init(&b, 0);
	assert_int_equal(binlog_decimal_format(&b, pos, 10, 5), 0);
	assert_string_equal(tu_str(&b), "0.10000");
	binlog_buf_reset(&b);
	assert_int_equal(binlog_decimal_format(&b, neg, 10, 5), 0);
	assert_string_equal(tu_str(&b), "-0.10000");
	binlog_buf_reset(&b);
	assert_int_equal(binlog_decimal_format(&b, bad, 9, 0), -1);
	assert_int_equal(b.len, 0);
	assert_int_equal(binlog_decimal_size(66, 0), 0);
	assert_int_equal(binlog_decimal_size(10, 11), 0);
	assert_int_equal(binlog_decimal_size(65, 30), 30);
	binlog_buf_free(&b);
}

/* --------------------------------------------------------------- temporal */

/* MySQL's my_time_packed_to_binary, from its definition. */
static size_t ref_time2(int neg, uint32_t h, uint32_t m, uint32_t s, uint32_t us, int fsp,
			uint8_t *out)
{
	int64_t hms = ((int64_t)h << 12) | ((int64_t)m << 6) | s;
	int64_t nr = (hms << 24) + us, ip, fp;

	/* the fraction is stored to fsp digits */
	static const uint32_t cut[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
	nr = (hms << 24) + (int64_t)(us / cut[fsp] * cut[fsp]);
	if (neg)
		nr = -nr;
	ip = nr >> 24;
	fp = nr % (1 << 24);
	switch (fsp) {
	case 0:
		put_be(out, (uint32_t)(0x800000 + ip), 3);
		return 3;
	case 1:
	case 2:
		put_be(out, (uint32_t)(0x800000 + ip), 3);
		out[3] = (uint8_t)(int8_t)(fp / 10000);
		return 4;
	case 3:
	case 4:
		put_be(out, (uint32_t)(0x800000 + ip), 3);
		put_be(out + 3, (uint32_t)(uint16_t)(int16_t)(fp / 100), 2);
		return 5;
	default: {
		uint64_t v = (uint64_t)(nr + 0x800000000000LL);
		for (int i = 5; i >= 0; i--) {
			out[i] = (uint8_t)v;
			v >>= 8;
		}
		return 6;
	}
	}
}

static const char *value_text(const binlog_column_t *c, const uint8_t *p, size_t n, binlog_buf_t *b)
{
	binlog_cur_t cur = binlog_cur_make(p, n);
	binlog_value_t v;
	binlog_err_t err;

	if (binlog_value_read(c, &cur, 0, NULL, 0, &v, &err) != BINLOG_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(binlog_cur_left(&cur), 0);
	binlog_buf_reset(b);
	switch (v.kind) {
	case BINLOG_V_TIME:
		binlog_time_put_time(b, &v.t, v.fsp);
		break;
	case BINLOG_V_DATETIME:
		binlog_time_put_datetime(b, &v.t, v.fsp);
		break;
	case BINLOG_V_DATE:
		binlog_time_put_date(b, &v.t);
		break;
	case BINLOG_V_TIMESTAMP: {
		binlog_time_t t;
		binlog_time_from_epoch(v.ts_sec, v.t.usec, &t);
		binlog_time_put_datetime(b, &t, v.fsp);
		break;
	}
	case BINLOG_V_INT:
		binlog_jw_i64(b, v.i);
		break;
	default:
		binlog_jw_u64(b, v.u);
	}
	return tu_str(b);
}

static void time2_random(void **state)
{
	binlog_column_t c;
	binlog_buf_t b;
	uint8_t bin[8];
	char want[64];

	(void)state;
	binlog_buf_init(&b, 0);
	memset(&c, 0, sizeof(c));
	c.type = c.wire_type = BINLOG_TYPE_TIME2;
	for (int iter = 0; iter < 200000; iter++) {
		int fsp = (int)(rnd() % 7), neg = (int)(rnd() & 1), k;
		uint32_t h = (uint32_t)(rnd() % 839), m = (uint32_t)(rnd() % 60),
			 s = (uint32_t)(rnd() % 60), us = (uint32_t)(rnd() % 1000000);
		static const uint32_t cut[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
		size_t n;
		if (iter % 5 == 0)
			us = 0;
		c.meta = (uint16_t)fsp;
		n = ref_time2(neg, h, m, s, us, fsp, bin);
		us = us / cut[fsp] * cut[fsp];
		k = snprintf(want, sizeof(want), "%s%02u:%02u:%02u",
			     (neg && (h | m | s | us)) ? "-" : "", h, m, s);
		if (fsp)
			snprintf(want + k, sizeof(want) - (size_t)k, ".%06u", us);
		want[k + (fsp ? 1 + fsp : 0)] = 0;
		if (strcmp(value_text(&c, bin, n, &b), want) != 0)
			fail_msg("TIME(%d) %s: got %s", fsp, want, tu_str(&b));
	}
	binlog_buf_free(&b);
}

static void datetime2_timestamp2_random(void **state)
{
	binlog_column_t c;
	binlog_buf_t b;
	uint8_t bin[8];
	char want[64];
	static const uint32_t cut[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};

	(void)state;
	binlog_buf_init(&b, 0);
	memset(&c, 0, sizeof(c));
	for (int iter = 0; iter < 100000; iter++) {
		int fsp = (int)(rnd() % 7), k;
		uint32_t y = (uint32_t)(rnd() % 10000), mo = (uint32_t)(1 + rnd() % 12),
			 d = (uint32_t)(1 + rnd() % 28), h = (uint32_t)(rnd() % 24),
			 mi = (uint32_t)(rnd() % 60), s = (uint32_t)(rnd() % 60),
			 us = (uint32_t)(rnd() % 1000000) / cut[fsp] * cut[fsp];
		uint64_t ymd = ((uint64_t)(y * 13 + mo) << 5) | d;
		uint64_t ip = (ymd << 17) | ((uint64_t)h << 12) | (mi << 6) | s;
		size_t n = 5;
		uint64_t v = ip + 0x8000000000ULL;
		for (int i = 4; i >= 0; i--) {
			bin[i] = (uint8_t)v;
			v >>= 8;
		}
		if (fsp)
			put_be(bin + 5, us / cut[(fsp + 1) / 2 * 2], (fsp + 1) / 2),
				n += (size_t)(fsp + 1) / 2;
		c.type = c.wire_type = BINLOG_TYPE_DATETIME2;
		c.meta = (uint16_t)fsp;
		k = snprintf(want, sizeof(want), "%04u-%02u-%02u %02u:%02u:%02u", y, mo, d, h, mi,
			     s);
		if (fsp)
			snprintf(want + k, sizeof(want) - (size_t)k, ".%06u", us);
		want[k + (fsp ? 1 + fsp : 0)] = 0;
		if (strcmp(value_text(&c, bin, n, &b), want) != 0)
			fail_msg("DATETIME(%d) %s: got %s", fsp, want, tu_str(&b));

		/* TIMESTAMP2 of a random second, against gmtime */
		{
			uint32_t sec = (uint32_t)rnd();
			time_t tt = sec;
			struct tm tm;
			gmtime_r(&tt, &tm);
			put_be(bin, sec, 4);
			n = 4;
			if (fsp)
				put_be(bin + 4, us / cut[(fsp + 1) / 2 * 2], (fsp + 1) / 2),
					n += (size_t)(fsp + 1) / 2;
			c.type = c.wire_type = BINLOG_TYPE_TIMESTAMP2;
			k = snprintf(want, sizeof(want), "%04d-%02d-%02d %02d:%02d:%02d",
				     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				     tm.tm_min, tm.tm_sec);
			if (fsp)
				snprintf(want + k, sizeof(want) - (size_t)k, ".%06u", us);
			want[k + (fsp ? 1 + fsp : 0)] = 0;
			if (strcmp(value_text(&c, bin, n, &b), want) != 0)
				fail_msg("TIMESTAMP(%d) %u: want %s got %s", fsp, sec, want,
					 tu_str(&b));
		}
	}
	binlog_buf_free(&b);
}

/* ----------------------------------------------------------- fixed types */

static void integers_and_old_types(void **state)
{
	binlog_column_t c;
	binlog_buf_t b;
	static const uint8_t i24[] = {0xff, 0xff, 0x7f};
	static const uint8_t i24n[] = {0x00, 0x00, 0x80};
	static const uint8_t ll[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t date[] = {0xcf, 0x2c, 0x0f};  /* 1942-06-15 */
	static const uint8_t otime[] = {0x59, 0x0a, 0x80}; /* -8385959: -838:59:59 */
	static const uint8_t odt[] = {0x00, 0xaa, 0xac, 0xa2,
				      0x68, 0x12, 0,    0}; /* 20240615123456 */
	static const uint8_t year[] = {124};
	static const uint8_t bit10[] = {0x02, 0x01};

	(void)state;
	binlog_buf_init(&b, 0);
	memset(&c, 0, sizeof(c));
	c.type = BINLOG_TYPE_INT24;
	assert_string_equal(value_text(&c, i24, 3, &b), "8388607");
	assert_string_equal(value_text(&c, i24n, 3, &b), "-8388608");
	c.flags = BINLOG_COL_UNSIGNED;
	assert_string_equal(value_text(&c, i24n, 3, &b), "8388608");
	c.type = BINLOG_TYPE_LONGLONG;
	assert_string_equal(value_text(&c, ll, 8, &b), "18446744073709551615");
	c.flags = 0;
	assert_string_equal(value_text(&c, ll, 8, &b), "-1");
	c.type = BINLOG_TYPE_DATE;
	assert_string_equal(value_text(&c, date, 3, &b), "1942-06-15");
	c.type = BINLOG_TYPE_TIME;
	assert_string_equal(value_text(&c, otime, 3, &b), "-838:59:59");
	c.type = BINLOG_TYPE_DATETIME;
	assert_string_equal(value_text(&c, odt, 8, &b), "2024-06-15 12:34:56");
	c.type = BINLOG_TYPE_YEAR;
	assert_string_equal(value_text(&c, year, 1, &b), "2024");
	c.type = BINLOG_TYPE_BIT;
	c.meta = 2 | (1 << 8); /* BIT(10): 2 bits + 1 byte */
	assert_string_equal(value_text(&c, bit10, 2, &b), "513");
	binlog_buf_free(&b);
}

/* Every type, given one byte too few, fails with a message saying so. */
static void short_reads(void **state)
{
	static const struct {
		uint8_t type;
		uint16_t meta, length;
		size_t need;
	} cases[] = {
		{BINLOG_TYPE_TINY, 0, 0, 1},
		{BINLOG_TYPE_SHORT, 0, 0, 2},
		{BINLOG_TYPE_INT24, 0, 0, 3},
		{BINLOG_TYPE_LONG, 0, 0, 4},
		{BINLOG_TYPE_LONGLONG, 0, 0, 8},
		{BINLOG_TYPE_FLOAT, 4, 0, 4},
		{BINLOG_TYPE_DOUBLE, 8, 0, 8},
		{BINLOG_TYPE_NEWDECIMAL, (20 << 8) | 4, 10, 10},
		{BINLOG_TYPE_YEAR, 0, 0, 1},
		{BINLOG_TYPE_DATE, 0, 0, 3},
		{BINLOG_TYPE_TIME, 0, 0, 3},
		{BINLOG_TYPE_DATETIME, 0, 0, 8},
		{BINLOG_TYPE_TIMESTAMP, 0, 0, 4},
		{BINLOG_TYPE_TIMESTAMP2, 6, 0, 7},
		{BINLOG_TYPE_DATETIME2, 3, 0, 7},
		{BINLOG_TYPE_TIME2, 5, 0, 6},
		{BINLOG_TYPE_ENUM, 0, 2, 2},
		{BINLOG_TYPE_SET, 0, 8, 8},
		{BINLOG_TYPE_BIT, 7 | (3 << 8), 0, 4},
	};
	uint8_t zero[16] = {0};
	binlog_column_t c;
	binlog_value_t v;
	binlog_err_t err;

	(void)state;
	zero[0] = 0x80; /* a valid decimal sign byte, and a non-zero year */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		binlog_cur_t cur = binlog_cur_make(zero, cases[i].need - 1);
		memset(&c, 0, sizeof(c));
		c.type = c.wire_type = cases[i].type;
		c.meta = cases[i].meta;
		c.length = cases[i].length;
		if (binlog_value_read(&c, &cur, 0, NULL, 0, &v, &err) == BINLOG_OK)
			fail_msg("type %s read from %zu bytes", binlog_column_type_name(c.type),
				 cases[i].need - 1);
		assert_non_null(strstr(err.msg, "left"));
	}
	/* a length prefix beyond the image */
	{
		static const uint8_t blob[] = {0xff, 0xff, 0xff, 0x7f, 'a'};
		binlog_cur_t cur = binlog_cur_make(blob, sizeof(blob));
		memset(&c, 0, sizeof(c));
		c.type = BINLOG_TYPE_BLOB;
		c.meta = 4;
		assert_int_equal(binlog_value_read(&c, &cur, 0, NULL, 0, &v, &err),
				 BINLOG_E_BAD_VALUE);
		assert_non_null(strstr(err.msg, "length 2147483647 exceeds the 1 bytes left"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decimal_random),
		cmocka_unit_test(decimal_fixed),
		cmocka_unit_test(time2_random),
		cmocka_unit_test(datetime2_timestamp2_random),
		cmocka_unit_test(integers_and_old_types),
		cmocka_unit_test(short_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
