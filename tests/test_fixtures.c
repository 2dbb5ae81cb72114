/*
 * test_fixtures.c: every real binlog in ../shared/fixtures/binlog decodes,
 * and its records hold the values the fixture's sidecar says the upstream
 * test suite asserts (or, where the sidecar names it, what mariadb-binlog
 * prints for the same bytes). Where a file holds something sluice cannot
 * decode, the specific error is asserted.
 *
 * Needs the shared fixtures (SLUICE_FIXTURES or ../shared/fixtures/binlog);
 * without them the test exits 77 (skipped) and says why.
 */
#include "testutil.h"

#include <zlib.h>

#include "binlog_gtid.h"
#include "decode_util.h"

static const char *fdir;

static const char *fx(const char *name)
{
	static char path[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", fdir, name);
	return path[k];
}

#define REC(r, i, needle) assert_rec(r, i, needle, __LINE__)
static void assert_rec(const du_result_t *r, size_t i, const char *needle, int line)
{
	if (i >= r->n)
		fail_msg("line %d: record %zu asked, %zu decoded", line, i, r->n);
	if (!strstr(r->rec[i], needle))
		fail_msg("line %d: record %zu lacks %s\n  record: %s", line, i, needle, r->rec[i]);
}

#define NOREC(r, i, needle) assert_norec(r, i, needle, __LINE__)
static void assert_norec(const du_result_t *r, size_t i, const char *needle, int line)
{
	if (i >= r->n)
		fail_msg("line %d: record %zu asked, %zu decoded", line, i, r->n);
	if (strstr(r->rec[i], needle))
		fail_msg("line %d: record %zu has %s\n  record: %s", line, i, needle, r->rec[i]);
}

static du_result_t *ok(const char *name)
{
	du_result_t *r = du_decode(fx(name), NULL);
	if (r->rc != BINLOG_OK)
		fail_msg("%s: %s %s", name, binlog_errname(r->rc), r->err.msg);
	return r;
}

/* Every record of every fixture: sequence strictly increasing. */
static void check_sequences(const du_result_t *r, const char *name)
{
	for (size_t i = 1; i < r->n; i++)
		if (du_seq(r->rec[i]) <= du_seq(r->rec[i - 1]))
			fail_msg("%s: record %zu seq %llu after %llu", name, i,
				 (unsigned long long)du_seq(r->rec[i]),
				 (unsigned long long)du_seq(r->rec[i - 1]));
}

static void aurora_padding(void **state)
{
	(void)state;
	du_result_t *r = ok("aurora-5.7.12_osheroff_padding-event.binlog");
	/* type 100, flagged ignorable, is skipped and the QUERY after it read */
	assert_int_equal(r->top_events, 5);
	assert_int_equal(r->ignored, 1);
	assert_int_equal(r->n, 0);
	du_free(r);
}

static void mariadb_10_5_full_meta(void **state)
{
	(void)state;
	du_result_t *r = ok("mariadb-10.5.15_rmc_full-meta.000001");
	assert_int_equal(r->n, 2);
	REC(r, 0, "\"data\":{\"id\":62,\"topic\":\"foo\",\"event_type\":\"JSON\",");
	/* `event` is a binary BLOB (collation 63): its bytes, base64 */
	REC(r, 0, "\"event\":\"eyJmb28iOjF9\"");
	REC(r, 0, "\"created\":\"2022-04-20 22:18:04Z\""); /* TIMESTAMP 1650493084 */
	REC(r, 0, "\"pk\":[\"id\"]");
	REC(r, 0, "\"gtid\":\"0-1-1\"");
	REC(r, 1, "\"id\":63");
	REC(r, 1, "\"created\":\"2022-04-20 22:19:55Z\""); /* 1650493195 */
	REC(r, 1, "\"gtid\":\"0-1-2\"");
	/* MariaDB GTID_LIST [] then 0-1-1: ordinal = seq_no 1 */
	assert_int_equal(du_seq(r->rec[0]), (uint64_t)1 << 24);
	assert_int_equal(du_seq(r->rec[1]), (uint64_t)2 << 24);
	assert_int_equal(r->nnotes, 2);
	assert_string_equal(r->notes[0],
			    "insert into outbox (topic, event_type, event) values ('foo', 'JSON', "
			    "'{\"foo\":1}')");
	du_free(r);
}

static void mariadb_11_8_hires_error(void **state)
{
	(void)state;
	du_result_t *r = du_decode(fx("mariadb-11.8.8_zongji.binlog"), NULL);
	/* capture_hires was created with mysql56_temporal_format=OFF: its
	 * DATETIME(3) is logged as type DATETIME with no precision. */
	assert_int_equal(r->rc, BINLOG_E_BAD_VALUE);
	assert_non_null(strstr(r->err.msg, "mariadb-11.8.8_zongji.binlog: at 5376, "
					   "WRITE_ROWS_EVENT_V1 (type 23)"));
	assert_non_null(strstr(r->err.msg, "capture_hires, column 1 (DATETIME)"));
	assert_non_null(strstr(r->err.msg, "mysql56_temporal_format=OFF"));
	assert_int_equal(r->n, 7); /* everything before it was delivered */
	du_free(r);
}

static void mariadb_11_8(void **state)
{
	(void)state;
	du_result_t *r = du_decode(fx("mariadb-11.8.8_zongji.binlog"), "*.capture_hires");
	if (r->rc != BINLOG_OK)
		fail_msg("%s", r->err.msg);
	assert_int_equal(r->top_events, 48);
	assert_int_equal(r->n, 8);
	/* capture_types row 1 as mariadb-binlog -vv prints it (MINIMAL
	 * metadata: positional names, ENUM/SET as numbers) */
	REC(r, 0, "\"@1\":1,\"@2\":9223372036854775807,\"@3\":18446744073709551615,");
	REC(r, 0, "\"@4\":\"-12345678901234567.0123456789\",\"@5\":\"héllo wörld\",\"@6\":\"abc\"");
	REC(r, 0, "\"@11\":1.25,\"@12\":-2.5,\"@13\":\"2024-06-15 12:34:56.789\"");
	REC(r, 0, "\"@14\":\"2024-06-15 12:34:56Z\""); /* epoch 1718454896 */
	REC(r, 0, "\"@15\":\"2024-06-15\",\"@16\":\"-01:02:03.500\",\"@17\":2024");
	REC(r, 0, "\"@18\":2,\"@19\":2,\"@20\":5,\"@21\":513");
	REC(r, 0,
	    "\"@22\":\"{\\\"a\\\": 1, \\\"big\\\": 9223372036854775807, \\\"arr\\\": "
	    "[\\\"x\\\", true, null], \\\"d\\\": 1.5}\"");
	REC(r, 0, "\"@24\":\"café ñ\",\"@25\":\"Ÿ€ señor\",\"@26\":\"héllo\"");
	REC(r, 0, "\"positional_names\":true");
	/* update/delete images leave out the blob columns: absent, not null */
	REC(r, 1, "\"op\":\"-U\"");
	REC(r, 2, "\"op\":\"+U\"");
	REC(r, 2, "\"@1\":2,");
	REC(r, 2, "\"@5\":\"updated\"");
	for (int i = 1; i <= 3; i++) {
		NOREC(r, i, "\"@9\":");
		NOREC(r, i, "\"@10\":");
		NOREC(r, i, "\"@22\":");
		NOREC(r, i, "\"@24\":");
	}
	REC(r, 3, "\"op\":\"-D\"");
	REC(r, 4, "\"@1\":3,\"@2\":null");
	/* capture_mariadb: UUID/INET4/INET6 are fixed binary strings in the
	 * binlog; '::' is logged with zero bytes and padded back to 16 */
	REC(r, 5, "\"@2\":\"ERERESIiMzNERFVVVVVVVQ==\",\"@3\":\"wKgBCg==\"");
	REC(r, 5, "\"@7\":\"squash-squash-");
	REC(r, 5, "\"@8\":\"café latin one\""); /* TEXT COMPRESSED latin1 */
	REC(r, 6, "\"@4\":\"AAAAAAAAAAAAAAAAAAAAAA==\"");
	/* the last insert, a MariaDB compressed rows event (type 166) */
	REC(r, 7, "\"@1\":3,");
	REC(r, 7, "\"@7\":\"flat-flat-flat-");
	REC(r, 7, "\"gtid\":\"0-1-16\"");
	assert_int_equal(r->stats.skipped_events, 1);
	assert_int_equal(r->nnotes, 8);
	du_free(r);
}

static void mysql_5_5_sakila(void **state)
{
	(void)state;
	/* Without gunzip the bytes are not a binlog. */
	{
		gzFile gz = gzopen(fx("mysql-5.5.27_osheroff_sakila.binlog.gz"), "rb");
		FILE *raw = fopen(fx("mysql-5.5.27_osheroff_sakila.binlog.gz"), "rb");
		uint8_t head[4];
		binlog_err_t e;
		assert_non_null(raw);
		assert_int_equal(fread(head, 1, 4, raw), 4);
		assert_int_equal(binlog_check_magic(head, 4, &e), BINLOG_E_BAD_MAGIC);
		assert_non_null(strstr(e.msg, "not a binary log"));
		fclose(raw);
		gzclose(gz);
	}
	du_result_t *r = ok("mysql-5.5.27_osheroff_sakila.binlog.gz");
	assert_int_equal(r->top_events, 1462); /* upstream testNextEvent */
	/* the Sakila dataset: 47273 rows in 16 tables */
	assert_int_equal(r->n, 47273);
	assert_int_equal(r->stats.inserts, 47273);
	{
		const char *actor1[] = {"\"table\":\"actor\"",
					"\"@1\":1,\"@2\":\"PENELOPE\",\"@3\":\"GUINESS\"", NULL};
		const char *film1[] = {"\"table\":\"film\"", "\"@2\":\"ACADEMY DINOSAUR\"", NULL};
		long i = du_find(r, 0, actor1);
		assert_true(i >= 0);
		/* old (4-byte) TIMESTAMP 1139974473 (as mariadb-binlog prints
		 * it), in UTC */
		REC(r, (size_t)i, "\"@4\":\"2006-02-15 03:34:33Z\"");
		i = du_find(r, 0, film1);
		assert_true(i >= 0);
		REC(r, (size_t)i, "\"@4\":2006");     /* YEAR */
		REC(r, (size_t)i, "\"@8\":\"0.99\""); /* DECIMAL(4,2) rental_rate */
	}
	check_sequences(r, "sakila");
	du_free(r);
}

static void mysql_5_7_checksum_none(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-5.7.20_osheroff_checksum-none.binlog");
	assert_int_equal(r->top_events, 191); /* upstream */
	assert_int_equal(r->stats.inserts, 34);
	assert_int_equal(r->stats.updates, 2);
	check_sequences(r, "checksum-none");
	du_free(r);
}

static void mysql_5_7_checksum_crc32(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-5.7.21_osheroff_checksum-crc32.binlog");
	assert_int_equal(r->top_events, 303); /* upstream */
	assert_int_equal(r->stats.transactions, 60);
	check_sequences(r, "checksum-crc32");
	du_free(r);
}

static void mysql_5_7_gtid(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-5.7.40_apecloud_gtid.000080");
	const char *g = "58cf6502-63db-11ed-8079-0242ac110002:";
	assert_int_equal(r->top_events, 37); /* upstream */
	assert_int_equal(r->stats.deletes, 4);
	assert_int_equal(r->stats.inserts, 3);
	/* two DELETE events of a.b, each with two rows id=12 */
	for (int i = 0; i < 4; i++) {
		REC(r, (size_t)i, "\"op\":\"-D\",\"db\":\"a\",\"table\":\"b\"");
		REC(r, (size_t)i, "\"@1\":12");
	}
	{
		const char *emoji[] = {"\"table\":\"emoji\"", "\"data\":{\"@1\":2,\"@2\":\"\"}",
				       NULL};
		assert_true(du_find(r, 0, emoji) >= 0);
	}
	/* PREVIOUS_GTIDS :1-52, so transaction :N has ordinal N */
	for (size_t i = 0; i < r->n; i++) {
		const char *p = strstr(r->rec[i], g);
		uint64_t gno;
		assert_non_null(p);
		gno = strtoull(p + strlen(g), NULL, 10);
		assert_true(gno >= 53 && gno <= 62);
		assert_int_equal(du_seq(r->rec[i]) >> 24, gno);
	}
	check_sequences(r, "5.7 gtid");
	du_free(r);
}

static void mysql_8_0_hidden_gcol(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.17_rmc_hidden_gcol.000001");
	assert_int_equal(r->n, 1);
	/* the hidden generated column (2) is not in the image */
	REC(r, 0, "\"data\":{\"@1\":1,\"@3\":\"1\"}");
	du_free(r);
}

static void mysql_8_0_json_partial(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.22_rmc_json_partial_update.000001");
	static const int age[] = {26, 34, 42, 26, 34, 42};
	char want[128];
	assert_int_equal(r->n, 6 + 12 + 12);
	REC(r, 0,
	    "\"@1\":1,\"@2\":{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"},"
	    "\"@3\":\"Joe\",\"@4\":24");
	REC(r, 2, "\"@2\":{\"age\":40,\"data\":\"zzzzzzzzzz\",\"name\":\"Pete\"}");
	/* full-image UPDATE: age 24 -> 25 */
	REC(r, 6, "\"op\":\"-U\"");
	REC(r, 7,
	    "\"@1\":1,\"@2\":{\"age\":25,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"},"
	    "\"@3\":\"Joe\",\"@4\":25");
	/* PARTIAL_UPDATE_ROWS with a before image of id only: the after
	 * image's JSON is a diff, written as such and flagged */
	for (int k = 0; k < 6; k++) {
		size_t b = 18 + 2 * (size_t)k, a = b + 1;
		snprintf(want, sizeof(want), "\"data\":{\"@1\":%d}", k + 1);
		REC(r, b, want);
		snprintf(want, sizeof(want),
			 "\"data\":{\"@2\":[{\"op\":\"replace\",\"path\":\"$.age\",\"value\":%d}],",
			 age[k]);
		REC(r, a, want);
		snprintf(want, sizeof(want), "\"@4\":%d},\"op\":\"+U\"", age[k]);
		REC(r, a, want);
		REC(r, a, "\"json_diff\":[\"@2\"]");
	}
	check_sequences(r, "json partial");
	du_free(r);
}

static void mysql_8_0_bit(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.26_rmc_bit.000001");
	assert_int_equal(r->n, 1);
	/* a=b'100', b='foo', c=b'00100000' */
	REC(r, 0, "\"data\":{\"a\":4,\"b\":\"foo\",\"c\":32}");
	REC(r, 0, "\"gtid\":\"fbda2ad0-7c46-11ec-ae30-4ef7efc81a2a:3\"");
	du_free(r);
}

static void mysql_8_0_invisible(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.26_rmc_invisible_columns.000001");
	assert_int_equal(r->n, 4);
	REC(r, 0,
	    "\"data\":{\"f1\":1,\"f2\":2,\"f3\":-3,\"f4\":\"4\",\"f5\":\"BQ==\","
	    "\"f6\":6000000000}");
	REC(r, 1,
	    "\"data\":{\"f1\":null,\"f2\":null,\"f3\":-33,\"f4\":\"44\",\"f5\":\"VQ==\","
	    "\"f6\":null}");
	REC(r, 2, "\"op\":\"-U\"");
	REC(r, 3,
	    "\"data\":{\"f1\":111,\"f2\":222,\"f3\":-333,\"f4\":\"444\",\"f5\":\"VQ==\","
	    "\"f6\":null},\"op\":\"+U\"");
	du_free(r);
}

static void mysql_8_0_compressed(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.28_osheroff_compressed.binlog");
	/* upstream: 5 top-level events; the payload holds 4 more */
	assert_int_equal(r->top_events, 5);
	assert_int_equal(r->events, 9);
	assert_int_equal(r->n, 2);
	REC(r, 0,
	    "\"@1\":1,\"@2\":\"Once Upon a Time in the West\",\"@3\":1968,\"@4\":\"Italy\","
	    "\"@5\":\"Western\",");
	REC(r, 0, "\"op\":\"-U\",\"db\":\"demo\",\"table\":\"movies\"");
	REC(r, 1, "\"@5\":\"Western|Action\",");
	REC(r, 1, "\"@7\":\"Sergio Leone\",\"@8\":\"Ennio Morricone\"");
	REC(r, 1, "\"@11\":\"Paramount Pictures\"}");
	du_free(r);
}

static void mysql_8_0_enum_set(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.28_rmc_enum_set_strings.000001");
	/* S298 of the sidecar, verbatim (note the missing 9s) */
	static const char s298[] =
		"01234567890123456789012345678901234567890123456789012345678901234567890123456789"
		"01234567890123456789012345678901234567890123456780123456789012345678901234567890"
		"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
		"1234567890123456780123456789012345678901234567890123456789";
	char want[512];
	assert_int_equal(strlen(s298), 298);
	assert_int_equal(r->n, 4);
	REC(r, 0,
	    "\"f1\":\"01234567890123456789012345678901234567890123456789"
	    "01234567890123456789012345678901234567890123456789\"");
	snprintf(want, sizeof(want),
		 "\"f2\":\"%s\",\"f3\":\"var1\",\"f4\":\"one,three\","
		 "\"f5\":\"0123456789\"}",
		 s298);
	REC(r, 0, want);
	REC(r, 1, want); /* UPDATE before = the written row */
	snprintf(want, sizeof(want),
		 "\"data\":{\"f1\":\"field1\",\"f2\":\"field_2\",\"f3\":"
		 "\"variant2\",\"f4\":\"two,four\",\"f5\":\"%s\"}",
		 s298);
	REC(r, 2, want);
	REC(r, 3, want); /* DELETE before = the updated row */
	REC(r, 3, "\"op\":\"-D\"");
	du_free(r);
}

static void mysql_8_0_gtid_compressed(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.31_apecloud_gtid_compressed.000057");
	assert_int_equal(r->top_events, 8); /* upstream */
	assert_int_equal(r->n, 4);
	/* PREVIOUS_GTIDS :1-10, DDL :11, then :12 and :13 */
	REC(r, 0, "\"data\":{\"@1\":1},\"op\":\"+I\",\"db\":\"a\",\"table\":\"b\"");
	REC(r, 0, "\"gtid\":\"76f3e7be-6720-11ed-9cad-0242ac110002:12\"");
	assert_int_equal(du_seq(r->rec[0]), (uint64_t)12 << 24);
	REC(r, 1, "\"op\":\"-U\"");
	REC(r, 2, "\"@1\":55555,");
	REC(r, 2, "\"op\":\"+U\"");
	REC(r, 3, "\"@1\":6666,\"@2\":\"product_item_value_2\"");
	REC(r, 3, "\"@10\":{\"c\":1}");
	assert_int_equal(du_seq(r->rec[3]), ((uint64_t)13 << 24) | 2);
	assert_int_equal(r->nnotes, 3);
	assert_string_equal(r->notes[0], "insert into b values(1)");
	du_free(r);
}

static void mysql_8_0_transaction_compression(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.32_rmc_transaction_compression.000001");
	/* FDE, PREVIOUS_GTIDS, ANONYMOUS_GTID, TRANSACTION_PAYLOAD, ROTATE;
	 * the payload holds exactly QUERY, TABLE_MAP, WRITE_ROWS, XID */
	assert_int_equal(r->top_events, 5);
	assert_int_equal(r->events, 9);
	assert_int_equal(r->n, 1);
	REC(r, 0, "\"data\":{\"@1\":1},\"op\":\"+I\",\"db\":\"test\",\"table\":\"tb1\"");
	du_free(r);
}

static void mysql_8_0_minimal_row_image(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.40_rmc_minimal_row_image.000001");
	assert_int_equal(r->n, 1);
	/* only columns 1, 3, 5 in the image; INT UNSIGNED > 2^31 */
	REC(r, 0, "\"data\":{\"@1\":1,\"@3\":\"a\",\"@5\":3230202323}");
	du_free(r);
}

static void mysql_8_0_negative_time(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.0.40_rmc_negative_time.000001");
	assert_int_equal(r->n, 1);
	REC(r, 0, "\"data\":{\"@1\":\"-507:48:27\"}");
	du_free(r);
}

/* The row the zongji fixtures write first, with FULL metadata. */
static void assert_zongji_row1(const du_result_t *r, size_t i)
{
	REC(r, i,
	    "\"id\":1,\"i_big\":9223372036854775807,\"u_big\":18446744073709551615,"
	    "\"dec_col\":\"-12345678901234567.0123456789\",\"vc\":\"héllo wörld\","
	    "\"ch\":\"abc\",\"bin_col\":\"3q2+7w==\",\"vb\":\"AQI=\"");
	REC(r, i,
	    "\"flt\":1.25,\"dbl\":-2.5,\"dt\":\"2024-06-15 12:34:56.789\","
	    "\"ts\":\"2024-06-15 12:34:56Z\",\"d\":\"2024-06-15\",\"t\":\"-01:02:03.500\","
	    "\"y\":2024,\"e\":\"b\",\"e2\":\"c'd\",\"s\":\"x,z\",\"bt\":513,");
	REC(r, i,
	    "\"js\":{\"a\":1,\"d\":1.5,\"arr\":[\"x\",true,null],\"big\":9223372036854775807}");
	/* POINT(1 2): SRID 0, WKB 01 01000000 f03f... 0040... */
	REC(r, i, "\"geo\":{\"srid\":0,\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAABA\"}");
	REC(r, i, "\"txt_latin1\":\"café ñ\",\"vc_latin1\":\"Ÿ€ señor\",\"vc_ucs2\":\"héllo\"");
}

static void mysql_8_4_full_meta(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.4.8_zongji_full-meta.binlog");
	assert_int_equal(r->n, 5);
	assert_int_equal(r->stats.inserts, 2);
	assert_int_equal(r->stats.updates, 1);
	assert_int_equal(r->stats.deletes, 1);
	assert_zongji_row1(r, 0);
	REC(r, 0, "\"txt\":\"text value\",\"blb\":\"yv4=\"");
	REC(r, 0, "\"pk\":[\"id\"]");
	REC(r, 0, "\"gtid\":\"75029619-787e-11f1-88ef-6acb2cd49b0e:12\"");
	/* no PREVIOUS_GTIDS (captured mid-stream): history assumed 1..gno */
	assert_int_equal(du_seq(r->rec[0]), (uint64_t)12 << 24);
	assert_zongji_row1(r, 1);
	REC(r, 2, "\"data\":{\"id\":2,");
	REC(r, 2, "\"vc\":\"updated\"");
	REC(r, 3, "\"data\":{\"id\":2,");
	REC(r, 3, "\"op\":\"-D\"");
	REC(r, 4, "\"data\":{\"id\":3,\"i_big\":null,");
	REC(r, 4, "\"vc_ucs2\":null}");
	check_sequences(r, "8.4 full-meta");
	du_free(r);
}

static void mysql_8_4_noblob_rowsquery(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.4.8_zongji_full-meta_noblob_rowsquery.binlog");
	assert_int_equal(r->n, 5);
	assert_zongji_row1(r, 0);
	/* txt, blb and txt_latin1 are absent from update/delete images */
	for (int i = 1; i <= 3; i++) {
		NOREC(r, (size_t)i, "\"txt\":");
		NOREC(r, (size_t)i, "\"blb\":");
		NOREC(r, (size_t)i, "\"txt_latin1\":");
		REC(r, (size_t)i, "\"js\":{");
	}
	REC(r, 2, "\"id\":2,");
	REC(r, 2, "\"vc\":\"updated\"");
	REC(r, 4, "\"data\":{\"id\":3,\"i_big\":null,");
	NOREC(r, 4, "\"txt\":");
	assert_int_equal(r->nnotes, 1);
	assert_string_equal(r->notes[0], "INSERT INTO capture_types (id) VALUES (3)");
	REC(r, 0, "\"gtid\":\"75029619-787e-11f1-88ef-6acb2cd49b0e:106\"");
	du_free(r);
}

static void mysql_8_4_minimal_meta(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-8.4.8_zongji_minimal-meta.binlog");
	assert_int_equal(r->n, 5);
	REC(r, 0,
	    "\"data\":{\"@1\":1,\"@2\":9223372036854775807,\"@3\":18446744073709551615,"
	    "\"@4\":\"-12345678901234567.0123456789\",\"@5\":\"héllo wörld\",\"@6\":\"abc\","
	    "\"@7\":\"3q2+7w==\",\"@8\":\"AQI=\",\"@9\":\"text value\",\"@10\":\"yv4=\"");
	/* no ENUM/SET strings without FULL metadata: index and bitmask */
	REC(r, 0, "\"@17\":2024,\"@18\":2,\"@19\":5,\"@20\":513,");
	REC(r, 0, "\"@22\":{\"srid\":0,\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAABA\"}}");
	REC(r, 0, "\"positional_names\":true");
	NOREC(r, 0, "\"pk\":");
	REC(r, 2, "\"@1\":2,");
	REC(r, 2, "\"@5\":\"updated\"");
	REC(r, 3, "\"op\":\"-D\"");
	REC(r, 4, "\"@1\":3,\"@2\":null");
	du_free(r);
}

static void mysql_9_0_json_opaque(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-9.0.1_rmc_json_opaque.binlog");
	assert_int_equal(r->n, 8);
	REC(r, 0, "\"data\":{\"a\":{\"a\":\"base64:type15:VQ==\"}}");
	REC(r, 1, "\"data\":{\"a\":{\"b\":\"2012-03-18\"}}");
	REC(r, 2, "\"data\":{\"a\":{\"c\":\"2012-03-18 11:30:45.000000\"}}");
	REC(r, 3, "\"data\":{\"a\":{\"c\":\"87:31:46.654321\"}}");
	/* opaque DECIMAL: upstream renders "123.456"; MySQL prints a number */
	REC(r, 4, "\"data\":{\"a\":{\"d\":123.456}}");
	REC(r, 5, "\"data\":{\"a\":{\"e\":9.00}}");
	REC(r, 6, "\"data\":{\"a\":{\"e\":[0,1,true,false]}}");
	REC(r, 7, "\"data\":{\"a\":{\"e\":null}}");
	du_free(r);
}

static void mysql_9_0_vector(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-9.0.1_rmc_vector.binlog");
	const char *v1[] = {"\"data\":{\"id\":1,\"vector_column\":[1.1,2.2,3.3]}", NULL};
	const char *v2[] = {"\"data\":{\"id\":2,\"vector_column\":[1.0,-1.0,0.0]}", NULL};
	assert_true(du_find(r, 0, v1) >= 0);
	assert_true(du_find(r, 0, v2) >= 0);
	du_free(r);
}

static void mysql_9_6_gtid_tagged(void **state)
{
	(void)state;
	du_result_t *r = ok("mysql-9.6.0_rmc_gtid_tagged.000001");
	assert_int_equal(r->n, 1);
	REC(r, 0, "\"gtid\":\"55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3\"");
	REC(r, 0, "\"db\":\"test\",\"table\":\"orders\"");
	/* PREVIOUS_GTIDS :1-13 and :mytag:1-2 (15 transactions), then
	 * :mytag:3 is the 16th */
	assert_int_equal(du_seq(r->rec[0]), (uint64_t)16 << 24);
	du_free(r);
}

static void mysql_9_6_previous_gtids_tagged(void **state)
{
	(void)state;
	/* Decode the PREVIOUS_GTIDS body straight from the file. */
	FILE *f = fopen(fx("mysql-9.6.0_rmc_gtid_tagged.000001"), "rb");
	uint8_t buf[1024];
	size_t n;
	binlog_decoder_t *d = binlog_decoder_new(NULL);
	binlog_gtid_set_t *s = binlog_gtid_set_new();
	binlog_buf_t b;
	binlog_event_t ev;
	binlog_err_t err;
	size_t off = 4;
	int found = 0;
	uint8_t raw[256];
	size_t raw_n = 0;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	binlog_buf_init(&b, 0);
	while (off + 19 <= n && !found) {
		uint32_t sz = binlog_le32(buf + off + 9);
		assert_int_equal(binlog_decoder_feed(d, buf + off, sz, off, &err), BINLOG_OK);
		while (binlog_decoder_next(d, &ev, &err) > 0)
			if (ev.type == BINLOG_PREVIOUS_GTIDS_LOG_EVENT) {
				assert_int_equal(binlog_gtid_set_decode(s, ev.u.prev_gtids.p,
									ev.u.prev_gtids.n, &err),
						 BINLOG_OK);
				assert_true(ev.u.prev_gtids.n <= sizeof(raw));
				raw_n = ev.u.prev_gtids.n;
				memcpy(raw, ev.u.prev_gtids.p, raw_n);
				found = 1;
			}
		off += sz;
	}
	assert_true(found);
	/* encoded back, byte for byte as the server wrote it */
	binlog_gtid_set_encode(s, &b);
	assert_int_equal(b.len, raw_n);
	assert_memory_equal(b.data, raw, raw_n);
	binlog_buf_reset(&b);
	binlog_gtid_set_format(s, &b);
	assert_string_equal(tu_str(&b), "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13,"
					"55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:1-2");
	assert_int_equal(binlog_gtid_set_count(s), 15);
	binlog_buf_free(&b);
	binlog_gtid_set_free(s);
	binlog_decoder_free(d);
}

static void percona_5_6_decimal_matrix(void **state)
{
	(void)state;
	du_result_t *r = ok("percona-5.6.16_gomysql_decimal_matrix.003320");
	assert_int_equal(r->n, 17);
	/* row 1: -10.55 stored in each column's precision and scale
	 * (mariadb-binlog cross-check in the sidecar) */
	REC(r, 0, "\"@2\":\"-10.55\",\"@3\":\"-11\",\"@4\":\"-10.550\"");
	REC(r, 0, "\"@8\":\"-9.99999999999999\"");
	/* row 2: 0.0123456789012345678912345 */
	REC(r, 1, "\"@2\":\"0.01\",\"@3\":\"0\",\"@4\":\"0.012\"");
	REC(r, 1, "\"@12\":\"0.0123456789012345678912345\"");
	/* row 3: 12345 clamped to each column's maximum */
	REC(r, 2, "\"@2\":\"99.99\",\"@3\":\"12345\",\"@4\":\"9999.999\"");
	REC(r, 2, "\"@8\":\"9.99999999999999\"");
	/* Percona 5.6 without GTIDs: sequence from file 3320 and offset */
	assert_int_equal(du_seq(r->rec[0]) >> 32, 3320);
	check_sequences(r, "decimal matrix");
	du_free(r);
}

static void percona_5_7_gtid_decimal(void **state)
{
	(void)state;
	du_result_t *r = ok("percona-5.7.24_easypost_gtid_decimal.000001");
	assert_int_equal(r->n, 2);
	REC(r, 0, "\"data\":{\"@1\":1,\"@2\":\"0.10000\",\"@3\":\"zero point one\"}");
	REC(r, 0, "\"db\":\"bltest\",\"table\":\"foo\"");
	REC(r, 0, "\"gtid\":\"87cee3a4-6b31-11e7-bdfd-0d98d6698870:14918\"");
	REC(r, 0, "\"ts_ms\":1550192291000");
	REC(r, 1, "\"data\":{\"@1\":2,\"@2\":\"1.00000\",\"@3\":\"one point zero\"}");
	/* PREVIOUS_GTIDS :1-14916 */
	assert_int_equal(du_seq(r->rec[0]), (uint64_t)14918 << 24);
	du_free(r);
}

/* The ROWS_QUERY text of every rows event says what it did: check each
 * UPDATE's values against its own SQL. */
static void percona_5_7_sysbench(void **state)
{
	(void)state;
	du_result_t *r = ok("percona-5.7.43_goparse_sysbench_rowsquery.000012");
	size_t checked = 0;
	assert_int_equal(r->top_events, 1847);
	assert_int_equal(r->stats.transactions, 123);
	assert_int_equal(r->n, 123 * 6);
	assert_int_equal(r->nnotes, 492);
	for (size_t i = 0; i < r->n; i++) {
		const char *rec = r->rec[i], *p;
		uint64_t gno;
		if (!(p = strstr(rec, "5133d310-9498-11ef-9f1b-0242ac190003:")))
			fail_msg("record %zu without GTID", i);
		gno = strtoull(p + 37, NULL, 10);
		assert_true(gno >= 11539 && gno <= 11661);
		assert_int_equal(du_seq(rec) >> 24, gno); /* PREVIOUS_GTIDS :1-11538 */
	}
	/* Records come in order U,U,D,I per transaction, as the notes do. */
	for (size_t t = 0; t < 123; t++) {
		const char *q = r->notes[t * 4];
		const char *before = r->rec[t * 6], *after = r->rec[t * 6 + 1];
		char want[64];
		long id;
		const char *kp, *kq;
		if (sscanf(q, "UPDATE sbtest%*d SET k=k+1 WHERE id=%ld", &id) != 1)
			fail_msg("unexpected statement: %s", q);
		snprintf(want, sizeof(want), "\"data\":{\"@1\":%ld,", id);
		REC(r, t * 6, want);
		REC(r, t * 6 + 1, want);
		kp = strstr(before, "\"@2\":");
		kq = strstr(after, "\"@2\":");
		assert_non_null(kp);
		assert_non_null(kq);
		assert_int_equal(strtol(kq + 5, NULL, 10), strtol(kp + 5, NULL, 10) + 1);
		checked++;
	}
	assert_int_equal(checked, 123);
	du_free(r);
}

static void percona_8_4_prev_gtids(void **state)
{
	(void)state;
	du_result_t *r = ok("percona-8.4.10_pso_gtid_prev_gtids.000003");
	assert_int_equal(r->n, 3);
	for (int i = 0; i < 3; i++) {
		char want[64];
		/* MINIMAL metadata: no column names */
		snprintf(want, sizeof(want), "\"data\":{\"@1\":%d},\"op\":\"+I\"", i + 1);
		REC(r, (size_t)i, want);
		REC(r, (size_t)i, "\"gtid\":\"ca3ce93b-9bea-11f1-b808-e608fdb6e3c5:3\"");
		assert_int_equal(du_seq(r->rec[i]), ((uint64_t)3 << 24) | (uint64_t)i);
	}
	du_free(r);
}

/* Decoding the same file twice gives the same bytes. */
static void deterministic(void **state)
{
	(void)state;
	du_result_t *a = ok("percona-5.7.43_goparse_sysbench_rowsquery.000012");
	du_result_t *b = ok("percona-5.7.43_goparse_sysbench_rowsquery.000012");
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_string_equal(a->rec[i], b->rec[i]);
	du_free(a);
	du_free(b);
}

/* Two files in one stream: sequences keep increasing across them, and
 * each file's records keep the sequences they have alone, since every
 * file re-anchors on its own PREVIOUS_GTIDS. */
static void two_files_one_stream(void **state)
{
	(void)state;
	const char *paths[] = {fx("mysql-5.7.40_apecloud_gtid.000080"),
			       fx("percona-5.7.43_goparse_sysbench_rowsquery.000012")};
	du_result_t *both = du_decode_files(paths, 2, NULL);
	du_result_t *second = ok("percona-5.7.43_goparse_sysbench_rowsquery.000012");
	assert_int_equal(both->rc, BINLOG_OK);
	assert_int_equal(both->n, 7 + second->n);
	for (size_t i = 0; i < second->n; i++)
		assert_int_equal(du_seq(both->rec[7 + i]), du_seq(second->rec[i]));
	du_free(both);
	du_free(second);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(aurora_padding),
		cmocka_unit_test(mariadb_10_5_full_meta),
		cmocka_unit_test(mariadb_11_8_hires_error),
		cmocka_unit_test(mariadb_11_8),
		cmocka_unit_test(mysql_5_5_sakila),
		cmocka_unit_test(mysql_5_7_checksum_none),
		cmocka_unit_test(mysql_5_7_checksum_crc32),
		cmocka_unit_test(mysql_5_7_gtid),
		cmocka_unit_test(mysql_8_0_hidden_gcol),
		cmocka_unit_test(mysql_8_0_json_partial),
		cmocka_unit_test(mysql_8_0_bit),
		cmocka_unit_test(mysql_8_0_invisible),
		cmocka_unit_test(mysql_8_0_compressed),
		cmocka_unit_test(mysql_8_0_enum_set),
		cmocka_unit_test(mysql_8_0_gtid_compressed),
		cmocka_unit_test(mysql_8_0_transaction_compression),
		cmocka_unit_test(mysql_8_0_minimal_row_image),
		cmocka_unit_test(mysql_8_0_negative_time),
		cmocka_unit_test(mysql_8_4_full_meta),
		cmocka_unit_test(mysql_8_4_noblob_rowsquery),
		cmocka_unit_test(mysql_8_4_minimal_meta),
		cmocka_unit_test(mysql_9_0_json_opaque),
		cmocka_unit_test(mysql_9_0_vector),
		cmocka_unit_test(mysql_9_6_gtid_tagged),
		cmocka_unit_test(mysql_9_6_previous_gtids_tagged),
		cmocka_unit_test(percona_5_6_decimal_matrix),
		cmocka_unit_test(percona_5_7_gtid_decimal),
		cmocka_unit_test(percona_5_7_sysbench),
		cmocka_unit_test(percona_8_4_prev_gtids),
		cmocka_unit_test(deterministic),
		cmocka_unit_test(two_files_one_stream),
	};

	fdir = tu_fixture_dir();
	if (!fdir) {
		printf("SKIP: no binlog fixtures (set SLUICE_FIXTURES or provide "
		       "../shared/fixtures/binlog)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
