/*
 * test_corrupt.c: flipping any byte of any event of the real fixtures
 * gives an error that names the file, the position and the event type,
 * and never a crash or an out-of-bounds read (run it under
 * `make SANITIZE=1` for the latter).
 *
 * For each event E of a fixture, the test builds a small binlog holding
 * the format description in force, the events from the start of E's
 * transaction up to E, and nothing after, then inverts each byte of E in
 * turn and decodes it through the file reader.
 *
 * With CRC32 checksums every flip must be an error at E's position naming
 * the (possibly flipped) type. Without checksums (MySQL 5.5, and 5.7 with
 * binlog_checksum=NONE) a flip inside a value cannot be noticed, so there
 * the test asserts only that a failure names the file and a position.
 *
 * To bound the run time, large fixtures are sampled (about 40 events
 * each) and so are the bytes of events over 256 bytes (all header and
 * trailer bytes, a stride through the values); CORRUPT_FULL=1 flips every
 * byte of every event.
 */

#include "testutil.h"

#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "decode_util.h"

typedef struct ev_ref {
	size_t off, len;
	uint8_t type;
} ev_ref_t;

static const char *fdir;
static int memfd = -1;
static char memfd_path[64];

static uint8_t *load(const char *path, size_t *n)
{
	gzFile gz = gzopen(path, "rb");
	size_t cap = 1 << 20, len = 0;
	uint8_t *buf = malloc(cap);
	int r;

	assert_non_null(gz);
	while ((r = gzread(gz, buf + len, (unsigned)(cap - len))) > 0) {
		len += (size_t)r;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	gzclose(gz);
	*n = len;
	return buf;
}

static size_t index_events(const uint8_t *b, size_t n, ev_ref_t **out)
{
	size_t cap = 64, k = 0, off = 4;
	ev_ref_t *ev = malloc(cap * sizeof(*ev));

	while (off + 19 <= n) {
		uint32_t len = binlog_le32(b + off + 9);
		if (k == cap)
			ev = realloc(ev, (cap *= 2) * sizeof(*ev));
		ev[k].off = off;
		ev[k].len = len;
		ev[k].type = b[off + 4];
		k++;
		off += len;
	}
	*out = ev;
	return k;
}

static int starts_txn(uint8_t t)
{
	return t == BINLOG_GTID_LOG_EVENT || t == BINLOG_ANONYMOUS_GTID_LOG_EVENT ||
	       t == BINLOG_GTID_TAGGED_LOG_EVENT || t == BINLOG_MARIA_GTID_EVENT ||
	       t == BINLOG_QUERY_EVENT;
}

static int has_crc(const uint8_t *b, const ev_ref_t *fde)
{
	/* The checksum algorithm byte of a 5.6+ format description. */
	return fde->len > 19 + 57 + 5 && b[fde->off + fde->len - 5] == 1;
}

/* Decode `len` bytes through the file reader; returns the result. */
static du_result_t *decode_bytes(const uint8_t *p, size_t len)
{
	assert_int_equal(ftruncate(memfd, 0), 0);
	assert_int_equal(pwrite(memfd, p, len, 0), (ssize_t)len);
	return du_decode(memfd_path, NULL);
}

static void flip_file(const char *name, size_t *flips, size_t *errors)
{
	char path[1024];
	size_t n, nev, stride = 1;
	uint8_t *b;
	ev_ref_t *ev;
	uint8_t *r;
	int full = getenv("CORRUPT_FULL") != NULL;

	snprintf(path, sizeof(path), "%s/%s", fdir, name);
	b = load(path, &n);
	nev = index_events(b, n, &ev);
	if (!full && n > 64 * 1024)
		stride = nev / 40 + 1; /* about 40 events of a large file */
	r = malloc(n + 4);

	for (size_t e = 0; e < nev; e += stride) {
		size_t fde = 0, start = e, len, epos;
		int crc;

		for (size_t k = 0; k <= e; k++)
			if (ev[k].type == BINLOG_FORMAT_DESCRIPTION_EVENT)
				fde = k;
		while (start > fde + 1 && !starts_txn(ev[start].type))
			start--;
		if (start <= fde)
			start = fde + 1;
		crc = has_crc(b, &ev[fde]);

		/* magic + FDE + events start..e */
		memcpy(r, b, 4);
		len = 4;
		if (e != fde) {
			memcpy(r + len, b + ev[fde].off, ev[fde].len);
			len += ev[fde].len;
			for (size_t k = start; k < e; k++) {
				memcpy(r + len, b + ev[k].off, ev[k].len);
				len += ev[k].len;
			}
		}
		epos = len;
		memcpy(r + len, b + ev[e].off, ev[e].len);
		len += ev[e].len;

		/* The untouched copy decodes, apart from what the excerpt
		 * cannot have (a table map of an earlier transaction). */
		{
			du_result_t *clean = decode_bytes(r, len);
			int skip = clean->rc != BINLOG_OK;
			du_free(clean);
			if (skip)
				continue;
		}
		for (size_t i = 0; i < ev[e].len; i++) {
			du_result_t *res;
			/* In a large event: every byte of the first 96 and the
			 * last 8 (headers, lengths, checksum), a stride through
			 * the values between. */
			if (!full && ev[e].len > 256 && i >= 96 && i + 8 < ev[e].len &&
			    (i - 96) % (ev[e].len / 96 + 1) != 0)
				continue;
			char want[128];
			uint8_t type;

			r[epos + i] ^= 0xff;
			type = r[epos + 4];
			res = decode_bytes(r, len);
			(*flips)++;
			if (res->rc != BINLOG_OK) {
				(*errors)++;
				if (!strstr(res->err.msg, memfd_path))
					fail_msg("%s event %zu byte %zu: error does not name the "
						 "file: %s",
						 name, e, i, res->err.msg);
				if (!strstr(res->err.msg, ": at "))
					fail_msg("%s event %zu byte %zu: error names no position: "
						 "%s",
						 name, e, i, res->err.msg);
				if (crc) {
					snprintf(want, sizeof(want), ": at %zu, ", epos);
					if (!strstr(res->err.msg, want))
						fail_msg("%s event %zu byte %zu: expected \"%s\" "
							 "in: %s",
							 name, e, i, want, res->err.msg);
					snprintf(want, sizeof(want), "(type %u)", type);
					if (!strstr(res->err.msg, want))
						fail_msg("%s event %zu byte %zu: expected \"%s\" "
							 "in: %s",
							 name, e, i, want, res->err.msg);
				}
			} else if (crc) {
				fail_msg("%s: flipping byte %zu of event %zu (%s at %zu) went "
					 "unnoticed",
					 name, i, e, binlog_event_type_name(ev[e].type), ev[e].off);
			}
			du_free(res);
			r[epos + i] ^= 0xff;
		}
	}
	free(r);
	free(ev);
	free(b);
}

static void every_fixture(void **state)
{
	static const char *const files[] = {
		"aurora-5.7.12_osheroff_padding-event.binlog",
		"mariadb-10.5.15_rmc_full-meta.000001",
		"mariadb-11.8.8_zongji.binlog",
		"mysql-5.5.27_osheroff_sakila.binlog.gz",
		"mysql-5.7.20_osheroff_checksum-none.binlog",
		"mysql-5.7.21_osheroff_checksum-crc32.binlog",
		"mysql-5.7.40_apecloud_gtid.000080",
		"mysql-8.0.17_rmc_hidden_gcol.000001",
		"mysql-8.0.22_rmc_json_partial_update.000001",
		"mysql-8.0.26_rmc_bit.000001",
		"mysql-8.0.26_rmc_invisible_columns.000001",
		"mysql-8.0.28_osheroff_compressed.binlog",
		"mysql-8.0.28_rmc_enum_set_strings.000001",
		"mysql-8.0.31_apecloud_gtid_compressed.000057",
		"mysql-8.0.32_rmc_transaction_compression.000001",
		"mysql-8.0.40_rmc_minimal_row_image.000001",
		"mysql-8.0.40_rmc_negative_time.000001",
		"mysql-8.4.8_zongji_full-meta.binlog",
		"mysql-8.4.8_zongji_full-meta_noblob_rowsquery.binlog",
		"mysql-8.4.8_zongji_minimal-meta.binlog",
		"mysql-9.0.1_rmc_json_opaque.binlog",
		"mysql-9.0.1_rmc_vector.binlog",
		"mysql-9.6.0_rmc_gtid_tagged.000001",
		"percona-5.6.16_gomysql_decimal_matrix.003320",
		"percona-5.7.24_easypost_gtid_decimal.000001",
		"percona-5.7.43_goparse_sysbench_rowsquery.000012",
		"percona-8.4.10_pso_gtid_prev_gtids.000003",
	};
	size_t flips = 0, errors = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		flip_file(files[i], &flips, &errors);
	printf("flipped %zu bytes, %zu errors (the rest in files without checksums)\n", flips,
	       errors);
	assert_true(flips > 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_fixture),
	};

	fdir = tu_fixture_dir();
	if (!fdir) {
		printf("SKIP: no binlog fixtures (set SLUICE_FIXTURES or provide "
		       "../shared/fixtures/binlog)\n");
		return 77;
	}
	memfd = memfd_create("corrupt.binlog", 0);
	if (memfd < 0) {
		perror("memfd_create");
		return 1;
	}
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
