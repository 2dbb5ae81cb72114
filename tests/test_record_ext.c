/*
 * test_record_ext.c: the record writer's columns off the common path
 * (schema_column_t.special), from bytes: MariaDB VECTOR (11.7+, which no
 * server here has), UUID, INET4, INET6 (every shape of address MariaDB
 * prints), JSON embedded when it is JSON and kept a string when it is not
 * (the strict validator, case by case), masked and left-out columns,
 * signedness known only from the catalog, and values whose form is not
 * the one their type has (kept as the binlog says).
 *
 * The schema is the binlog's (schema_table_get), with the column flags set
 * by hand as schema_table_get_ex sets them from the catalog and the column
 * rules; tests/test_live_catalog.c checks that part against a server.
 */
#include "testutil.h"

#include "binlog.h"
#include "binlog_builder.h"
#include "cdc_filter.h"
#include "cdc_stream.h"
#include "decode_util.h"
#include "schema.h"
#include "schema_catalog.h"

typedef void (*patch_fn)(schema_table_t *st);

/* Decode a binlog held in memory, patching each table's schema as it is
 * built; the records, as du_decode does. */
static du_result_t *decode(const bb_t *w, patch_fn patch)
{
	du_result_t *r = calloc(1, sizeof(*r));
	du_sink_t sk = {{&du_ops}, r};
	binlog_decoder_t *dec = binlog_decoder_new(NULL);
	cdc_stream_t st;
	binlog_event_t ev;
	size_t off = 4;
	int k;

	assert_int_equal(cdc_stream_init(&st, &sk.base), BINLOG_OK);
	cdc_stream_set_file(&st, "mem.000001");
	binlog_decoder_set_source(dec, "mem");
	while (off < w->b.len) {
		uint32_t size = binlog_le32(w->b.data + off + 9);
		if (binlog_decoder_feed(dec, w->b.data + off, size, off, &r->err) != BINLOG_OK)
			fail_msg("%s", r->err.msg);
		while ((k = binlog_decoder_next(dec, &ev, &r->err)) > 0) {
			if (ev.type == BINLOG_TABLE_MAP_EVENT) {
				schema_table_t *s = schema_table_get(ev.u.table_map);
				assert_non_null(s);
				patch(s);
			}
			if (cdc_stream_event(&st, &ev, &r->err) != BINLOG_OK)
				fail_msg("%s", r->err.msg);
		}
		if (k < 0)
			fail_msg("%s", r->err.msg);
		off += size;
	}
	cdc_stream_free(&st);
	binlog_decoder_free(dec);
	return r;
}

static void set(schema_table_t *st, uint32_t i, uint8_t special, uint8_t ext)
{
	st->cols[i].special |= special;
	st->cols[i].ext = ext;
	st->special |= special;
}

/* ------------------------------------------------------------------ */
/* Every kind in one table                                             */

enum {
	C_ID,
	C_VEC,   /* VARBINARY(12): VECTOR(3) */
	C_UUID,  /* BINARY(16) */
	C_INET4, /* BINARY(4) */
	C_INET6, /* BINARY(16) */
	C_JSON,  /* LONGTEXT */
	C_U32,   /* INT, unsigned by the catalog */
	C_MASK,  /* VARCHAR, masked */
	C_EXCL,  /* VARCHAR, left out */
	C_U8,    /* TINYINT, unsigned by the catalog */
	C_U16,   /* SMALLINT */
	C_U24,   /* MEDIUMINT */
	C_U64,   /* BIGINT */
	C_PLAIN, /* BINARY(16), no ext: base64 as ever */
	NCOLS
};

static void patch_all(schema_table_t *st)
{
	set(st, C_VEC, SCHEMA_SP_EXT, SCHEMA_EXT_VECTOR);
	set(st, C_UUID, SCHEMA_SP_EXT, SCHEMA_EXT_UUID);
	set(st, C_INET4, SCHEMA_SP_EXT, SCHEMA_EXT_INET4);
	set(st, C_INET6, SCHEMA_SP_EXT, SCHEMA_EXT_INET6);
	set(st, C_JSON, SCHEMA_SP_EXT, SCHEMA_EXT_JSON);
	set(st, C_U32, SCHEMA_SP_UNSIGNED, 0);
	set(st, C_MASK, SCHEMA_SP_MASK, 0);
	set(st, C_EXCL, SCHEMA_SP_EXCLUDE, 0);
	set(st, C_U8, SCHEMA_SP_UNSIGNED, 0);
	set(st, C_U16, SCHEMA_SP_UNSIGNED, 0);
	set(st, C_U24, SCHEMA_SP_UNSIGNED, 0);
	set(st, C_U64, SCHEMA_SP_UNSIGNED, 0);
}

static void str1(binlog_buf_t *b, const void *p, size_t n)
{
	binlog_buf_putc(b, (uint8_t)n);
	binlog_buf_put(b, p, n);
}

static void blob4(binlog_buf_t *b, const char *s)
{
	bb_le(b, strlen(s), 4);
	binlog_buf_puts(b, s);
}

static void table_all(bb_t *w)
{
	static const uint8_t types[NCOLS] = {
		BINLOG_TYPE_LONG,     BINLOG_TYPE_VARCHAR, BINLOG_TYPE_STRING, BINLOG_TYPE_STRING,
		BINLOG_TYPE_STRING,   BINLOG_TYPE_BLOB,    BINLOG_TYPE_LONG,   BINLOG_TYPE_VARCHAR,
		BINLOG_TYPE_VARCHAR,  BINLOG_TYPE_TINY,    BINLOG_TYPE_SHORT,  BINLOG_TYPE_INT24,
		BINLOG_TYPE_LONGLONG, BINLOG_TYPE_STRING};
	static const uint8_t meta[] = {
		12,   0,  /* VARBINARY(12) */
		0xfe, 16, /* BINARY(16) */
		0xfe, 4,  /* BINARY(4) */
		0xfe, 16, /* BINARY(16) */
		4,        /* LONGTEXT */
		40,   0,  /* VARCHAR(40) */
		40,   0,  /* VARCHAR(40) */
		0xfe, 16, /* BINARY(16) */
	};

	/* COLUMN_CHARSET, as MINIMAL metadata has it: binary for the
	 * binary strings, utf8mb4_bin for the JSON, utf8mb4 for the text. */
	static const uint8_t opt[] = {3, 8, 63, 63, 63, 63, 46, 45, 45, 63};

	bb_table_map(w, 5, "d", "x", NCOLS, types, meta, sizeof(meta), opt, sizeof(opt));
}

static void starts(const char *rec, const char *prefix)
{
	if (strncmp(rec, prefix, strlen(prefix)) != 0)
		fail_msg("%s\ndoes not start with\n%s", rec, prefix);
}

static void test_all_kinds(void **state)
{
	static const uint8_t vec[] = {0, 0, 0xc0, 0x3f, 0, 0, 0x10, 0xc0, 0, 0, 0x40, 0x40};
	static const uint8_t uuid[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				       0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	static const uint8_t ip4[] = {192, 168, 1, 10};
	static const uint8_t ip6[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 8, 8, 8, 8};
	static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t nulls_all_but_id[2] = {0xfe, 0x3f};
	static const uint8_t none[2] = {0, 0};
	static const uint8_t bm[2] = {0xff, 0x3f};
	bb_t w;
	binlog_buf_t rows;
	du_result_t *r;

	(void)state;
	bb_init_mariadb(&w);
	bb_maria_gtid(&w, 0, 1, 0);
	table_all(&w);
	binlog_buf_init(&rows, 0);
	/* Row 1: every value. */
	binlog_buf_put(&rows, none, 2);
	bb_le(&rows, 1, 4);
	str1(&rows, vec, sizeof(vec));
	str1(&rows, uuid, 16);
	str1(&rows, ip4, 4);
	str1(&rows, ip6, 16);
	blob4(&rows, " {\"a\" : [1, 2],\n \"b\":\"\\u00e9\"} ");
	bb_le(&rows, 0xffffffffu, 4);
	str1(&rows, "secret", 6);
	str1(&rows, "hidden", 6);
	binlog_buf_put(&rows, ff, 1);
	binlog_buf_put(&rows, ff, 2);
	binlog_buf_put(&rows, ff, 3);
	binlog_buf_put(&rows, ff, 8);
	str1(&rows, uuid, 16);
	/* Row 2: NULL everywhere but the id. */
	binlog_buf_put(&rows, nulls_all_but_id, 2);
	bb_le(&rows, 2, 4);
	/* Row 3: values in a form their type does not have, and BINARY
	 * values the server logged without their trailing zeros. */
	binlog_buf_put(&rows, none, 2);
	bb_le(&rows, 3, 4);
	str1(&rows, "\x01\x02\x03\x04\x05", 5); /* 5 bytes: no float32s */
	str1(&rows, "\x12\x34", 2);             /* padded to 16 */
	str1(&rows, "\x0a", 1);                 /* 10.0.0.0 */
	str1(&rows, "", 0);                     /* :: */
	blob4(&rows, "{\"a\":}");
	bb_le(&rows, 7, 4);
	str1(&rows, "", 0);
	str1(&rows, "x", 1);
	binlog_buf_putc(&rows, 0x7f);
	bb_le(&rows, 0x8000, 2);
	bb_le(&rows, 0x800000, 3);
	bb_le(&rows, 1, 8);
	str1(&rows, "\x01", 1);
	/* Row 4: longer than the type: as the binlog says (base64). */
	binlog_buf_put(&rows, none, 2);
	bb_le(&rows, 4, 4);
	str1(&rows, "", 0); /* an empty vector */
	str1(&rows, "0123456789abcdefg", 17);
	str1(&rows, "12345", 5);
	str1(&rows, "0123456789abcdefg", 17);
	blob4(&rows, "");
	bb_le(&rows, 0, 4);
	str1(&rows, "", 0);
	str1(&rows, "", 0);
	binlog_buf_putc(&rows, 0);
	bb_le(&rows, 0, 2);
	bb_le(&rows, 0, 3);
	bb_le(&rows, 0, 8);
	str1(&rows, "", 0);
	bb_rows(&w, BINLOG_WRITE_ROWS_EVENT, 5, NCOLS, bm, NULL, rows.data, rows.len);
	bb_xid(&w, 1);

	r = decode(&w, patch_all);
	assert_int_equal(r->n, 4);
	starts(r->rec[0], "{\"data\":{\"@1\":1,\"@2\":[1.5,-2.25,3.0],"
			  "\"@3\":\"00112233-4455-6677-8899-aabbccddeeff\",\"@4\":\"192.168.1.10\","
			  "\"@5\":\"::ffff:8.8.8.8\",\"@6\":{\"a\":[1,2],\"b\":\"\\u00e9\"},"
			  "\"@7\":4294967295,\"@8\":\"****\",\"@10\":255,\"@11\":65535,"
			  "\"@12\":16777215,\"@13\":18446744073709551615,"
			  "\"@14\":\"ABEiM0RVZneImaq7zN3u/w==\"},\"op\":\"+I\"");
	starts(r->rec[1], "{\"data\":{\"@1\":2,\"@2\":null,\"@3\":null,\"@4\":null,\"@5\":null,"
			  "\"@6\":null,\"@7\":null,\"@8\":null,\"@10\":null,\"@11\":null,"
			  "\"@12\":null,\"@13\":null,\"@14\":null},");
	starts(r->rec[2], "{\"data\":{\"@1\":3,\"@2\":\"AQIDBAU=\","
			  "\"@3\":\"12340000-0000-0000-0000-000000000000\",\"@4\":\"10.0.0.0\","
			  "\"@5\":\"::\",\"@6\":\"{\\\"a\\\":}\",\"@7\":7,\"@8\":\"****\","
			  "\"@10\":127,\"@11\":32768,\"@12\":8388608,\"@13\":1,"
			  "\"@14\":\"AQAAAAAAAAAAAAAAAAAAAA==\"},");
	starts(r->rec[3], "{\"data\":{\"@1\":4,\"@2\":[],\"@3\":\"MDEyMzQ1Njc4OWFiY2RlZmc=\","
			  "\"@4\":\"MTIzNDU=\",\"@5\":\"MDEyMzQ1Njc4OWFiY2RlZmc=\",\"@6\":\"\","
			  "\"@7\":0,\"@8\":\"****\",\"@10\":0,\"@11\":0,\"@12\":0,\"@13\":0,");
	du_free(r);
	binlog_buf_free(&rows);
	bb_free(&w);
}

/* A left-out first or last column, and every column left out. */
static void patch_first_last(schema_table_t *st)
{
	set(st, 0, SCHEMA_SP_EXCLUDE, 0);
	set(st, 2, SCHEMA_SP_EXCLUDE, 0);
}

static void patch_none_left(schema_table_t *st)
{
	for (uint32_t i = 0; i < st->ncols; i++)
		set(st, i, SCHEMA_SP_EXCLUDE, 0);
}

static void three_ints(bb_t *w)
{
	static const uint8_t types[] = {BINLOG_TYPE_LONG, BINLOG_TYPE_LONG, BINLOG_TYPE_LONG};
	static const uint8_t bm[] = {0x07};
	binlog_buf_t rows;

	bb_init_mariadb(w);
	bb_maria_gtid(w, 0, 1, 0);
	bb_table_map(w, 6, "d", "y", 3, types, NULL, 0, NULL, 0);
	binlog_buf_init(&rows, 0);
	binlog_buf_putc(&rows, 0);
	bb_le(&rows, 1, 4);
	bb_le(&rows, 2, 4);
	bb_le(&rows, 3, 4);
	bb_rows(w, BINLOG_WRITE_ROWS_EVENT, 6, 3, bm, NULL, rows.data, rows.len);
	bb_xid(w, 1);
	binlog_buf_free(&rows);
}

static void test_exclude_edges(void **state)
{
	bb_t w;
	du_result_t *r;

	(void)state;
	three_ints(&w);
	r = decode(&w, patch_first_last);
	assert_int_equal(r->n, 1);
	starts(r->rec[0], "{\"data\":{\"@2\":2},\"op\":\"+I\"");
	du_free(r);
	r = decode(&w, patch_none_left);
	assert_int_equal(r->n, 1);
	starts(r->rec[0], "{\"data\":{},\"op\":\"+I\"");
	du_free(r);
	bb_free(&w);
}

/* ------------------------------------------------------------------ */
/* JSON, case by case                                                  */

static void patch_json(schema_table_t *st)
{
	set(st, 1, SCHEMA_SP_EXT, SCHEMA_EXT_JSON);
}

/* The record of a MariaDB JSON value `doc`: its "@2" member's text. */
static char *json_of(const char *doc, size_t n)
{
	static const uint8_t types[] = {BINLOG_TYPE_LONG, BINLOG_TYPE_BLOB};
	static const uint8_t meta[] = {4};
	static const uint8_t bm[] = {0x03};
	bb_t w;
	binlog_buf_t rows;
	du_result_t *r;
	char *out, *p, *e;

	bb_init_mariadb(&w);
	bb_maria_gtid(&w, 0, 1, 0);
	bb_table_map(&w, 6, "d", "j", 2, types, meta, 1, NULL, 0);
	binlog_buf_init(&rows, 0);
	binlog_buf_putc(&rows, 0);
	bb_le(&rows, 1, 4);
	bb_le(&rows, n, 4);
	binlog_buf_put(&rows, doc, n);
	bb_rows(&w, BINLOG_WRITE_ROWS_EVENT, 6, 2, bm, NULL, rows.data, rows.len);
	bb_xid(&w, 1);
	r = decode(&w, patch_json);
	assert_int_equal(r->n, 1);
	p = strstr(r->rec[0], "\"@2\":");
	e = strstr(r->rec[0], "},\"op\":");
	assert_non_null(p);
	assert_non_null(e);
	p += 5;
	out = malloc((size_t)(e - p) + 1);
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = 0;
	du_free(r);
	binlog_buf_free(&rows);
	bb_free(&w);
	return out;
}

static void expect_json(const char *doc, const char *want)
{
	char *got = json_of(doc, strlen(doc));

	if (strcmp(got, want) != 0)
		fail_msg("%s\n  got  %s\n  want %s", doc, got, want);
	free(got);
}

static void test_json_valid(void **state)
{
	static const char *const cases[][2] = {
		{" {\"a\" : [ 1 , -0.5e+3 , \"x\\\"y\" , true,false,null ] , \"b\":{}} ",
		 "{\"a\":[1,-0.5e+3,\"x\\\"y\",true,false,null],\"b\":{}}"},
		{"[]", "[]"},
		{"{}", "{}"},
		{"[[],{},[{}]]", "[[],{},[{}]]"},
		{"\"str\"", "\"str\""},
		{"0", "0"},
		{"-0", "-0"},
		{"1E5", "1E5"},
		{"1e-7", "1e-7"},
		{"123.456e+78", "123.456e+78"},
		{"\t\r\n true \n", "true"},
		{"null", "null"},
		{"\"\\ud83d\\ude00\"", "\"\\ud83d\\ude00\""},
		{"\"é ü \xe2\x80\xa8\"", "\"é ü \xe2\x80\xa8\""},
		{"\"\\/\\b\\f\\n\\r\\t\\\\\"", "\"\\/\\b\\f\\n\\r\\t\\\\\""},
		{"{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}"},
		{"\"a b\"", "\"a b\""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_json(cases[i][0], cases[i][1]);
}

/* Not JSON: the text as a JSON string, as any LONGTEXT. */
static void test_json_invalid(void **state)
{
	static const char *const cases[][2] = {
		{"{\"a\":1,}", "\"{\\\"a\\\":1,}\""},
		{"[1,]", "\"[1,]\""},
		{"[,1]", "\"[,1]\""},
		{"01", "\"01\""},
		{"1.", "\"1.\""},
		{".5", "\".5\""},
		{"+1", "\"+1\""},
		{"1e", "\"1e\""},
		{"-", "\"-\""},
		{"NaN", "\"NaN\""},
		{"'x'", "\"'x'\""},
		{"{\"a\" 1}", "\"{\\\"a\\\" 1}\""},
		{"{a:1}", "\"{a:1}\""},
		{"{\"a\":1 \"b\":2}", "\"{\\\"a\\\":1 \\\"b\\\":2}\""},
		{"{1:2}", "\"{1:2}\""},
		{"\"\x01\"", "\"\\\"\\u0001\\\"\""},
		{"\"a\nb\"", "\"\\\"a\\nb\\\"\""},
		{"\"\\ud800\"", "\"\\\"\\\\ud800\\\"\""},
		{"\"\\udc00\"", "\"\\\"\\\\udc00\\\"\""},
		{"\"\\ud800\\u0041\"", "\"\\\"\\\\ud800\\\\u0041\\\"\""},
		{"\"\\x\"", "\"\\\"\\\\x\\\"\""},
		{"\"\\u12\"", "\"\\\"\\\\u12\\\"\""},
		{"[1] [2]", "\"[1] [2]\""},
		{"", "\"\""},
		{"   ", "\"   \""},
		{"tru", "\"tru\""},
		{"nul", "\"nul\""},
		{"truex", "\"truex\""},
		{"\"abc", "\"\\\"abc\""},
		{"{\"a\":1", "\"{\\\"a\\\":1\""},
		{"[1}", "\"[1}\""},
		{"{\"a\":1]", "\"{\\\"a\\\":1]\""},
		{"]", "\"]\""},
		{"/* c */ 1", "\"/* c */ 1\""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_json(cases[i][0], cases[i][1]);
	/* Not UTF-8: neither JSON nor text: base64, as any text column
	 * without a charset. */
	{
		char *got = json_of("\"\xff\"", 3);
		assert_string_equal(got, "\"base64:Iv8i\"");
		free(got);
	}
	/* A NUL byte is not JSON either. */
	{
		char *got = json_of("[1]\0", 4);
		assert_string_equal(got, "\"[1]\\u0000\"");
		free(got);
	}
}

/* Nesting: 512 levels are JSON, 513 are kept a string. */
static void test_json_depth(void **state)
{
	char doc[2 * 513 + 1];
	char *got;

	(void)state;
	for (int depth = 512; depth <= 513; depth++) {
		memset(doc, '[', (size_t)depth);
		memset(doc + depth, ']', (size_t)depth);
		doc[2 * depth] = 0;
		got = json_of(doc, strlen(doc));
		if (depth == 512)
			assert_string_equal(got, doc);
		else
			assert_true(got[0] == '"' && strncmp(got + 1, doc, 10) == 0);
		free(got);
	}
}

/* ------------------------------------------------------------------ */
/* INET6: the text MariaDB 10.11 prints (tests/test_live_catalog.c
 * compares the same shapes with a server's SELECT).                   */

static void patch_inet6(schema_table_t *st)
{
	set(st, 1, SCHEMA_SP_EXT, SCHEMA_EXT_INET6);
}

static void test_inet6(void **state)
{
	static const struct {
		uint16_t w[8];
		const char *text;
	} cases[] = {
		{{0, 0, 0, 0, 0, 0, 0, 0}, "::"},
		{{0, 0, 0, 0, 0, 0, 0, 1}, "::1"},
		{{1, 0, 0, 0, 0, 0, 0, 0}, "1::"},
		{{1, 0, 2, 3, 4, 5, 6, 7}, "1::2:3:4:5:6:7"},
		{{1, 0, 0, 2, 0, 0, 0, 3}, "1:0:0:2::3"},
		{{1, 0, 0, 2, 0, 0, 3, 4}, "1::2:0:0:3:4"},
		{{1, 2, 3, 4, 5, 6, 7, 0}, "1:2:3:4:5:6:7::"},
		{{0, 1, 2, 3, 4, 5, 6, 7}, "::1:2:3:4:5:6:7"},
		{{0, 0, 0, 0, 0, 0xffff, 0x0808, 0x0808}, "::ffff:8.8.8.8"},
		{{0, 0, 0, 0, 0, 0xffff, 0, 0}, "::ffff:0.0.0.0"},
		{{0, 0, 0, 0, 0, 0, 0x0102, 0x0304}, "::1.2.3.4"},
		{{0, 0, 0, 0, 0, 0, 0x0100, 0}, "::1.0.0.0"},
		{{0, 0, 0, 0, 0, 0, 0, 0x0102}, "::102"},
		{{0, 0, 0, 0, 0, 1, 0x0102, 0x0304}, "::1:102:304"},
		{{0, 0, 0, 0, 0, 0xfffe, 0x0102, 0x0304}, "::fffe:102:304"},
		{{0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329}, "2001:db8::ff00:42:8329"},
		{{0xfe80, 0, 0, 0, 1, 0, 0, 0}, "fe80::1:0:0:0"},
		{{1, 2, 3, 4, 5, 6, 7, 8}, "1:2:3:4:5:6:7:8"},
		{{0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789},
		 "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
		{{0, 0, 1, 0, 0, 0, 0, 0}, "0:0:1::"},
		{{0x10, 0x100, 0x1000, 0, 0, 0, 0, 0xf}, "10:100:1000::f"},
	};
	static const uint8_t types[] = {BINLOG_TYPE_LONG, BINLOG_TYPE_STRING};
	static const uint8_t meta[] = {0xfe, 16};
	static const uint8_t bm[] = {0x03};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bb_t w;
		binlog_buf_t rows;
		du_result_t *r;
		uint8_t bytes[16];
		char want[96];

		for (int k = 0; k < 8; k++) {
			bytes[2 * k] = (uint8_t)(cases[i].w[k] >> 8);
			bytes[2 * k + 1] = (uint8_t)cases[i].w[k];
		}
		bb_init_mariadb(&w);
		bb_maria_gtid(&w, 0, 1, 0);
		bb_table_map(&w, 6, "d", "n", 2, types, meta, sizeof(meta), NULL, 0);
		binlog_buf_init(&rows, 0);
		binlog_buf_putc(&rows, 0);
		bb_le(&rows, 1, 4);
		str1(&rows, bytes, 16);
		bb_rows(&w, BINLOG_WRITE_ROWS_EVENT, 6, 2, bm, NULL, rows.data, rows.len);
		bb_xid(&w, 1);
		r = decode(&w, patch_inet6);
		snprintf(want, sizeof(want), "\"@2\":\"%s\"}", cases[i].text);
		assert_int_equal(r->n, 1);
		if (!strstr(r->rec[0], want))
			fail_msg("%s: %s", cases[i].text, r->rec[0]);
		du_free(r);
		binlog_buf_free(&rows);
		bb_free(&w);
	}
}

/*
 * cdc_writer_values with the value kinds only snapshot rows have
 * (cdc_record.h, CDC_V_*): DECIMAL text (ZEROFILL's zeros, a negative
 * zero), MySQL's JSON as text (compacted, null, not JSON), ENUM/SET label
 * text in the labels' charset, a column no SELECT reads (absent). The
 * live comparison with the binlog is tests/test_live_snaprow.c; MySQL's
 * JSON has no server here.
 */
static void test_snapshot_values(void **state)
{
	static const binlog_str_t labels[] = {{"caf\xe9", 4}, {"x", 1}};
	static uint32_t pk[] = {0};
	binlog_column_t cols[6];
	binlog_table_t bt;
	binlog_value_t v[6];
	schema_table_t *st;
	cdc_writer_t w;
	binlog_buf_t out;
	binlog_gtid_t none;
	binlog_err_t err;
	size_t seq_at = 0;
	const char *names[] = {"id", "d", "j", "e", "h", "s"};

	(void)state;
	memset(cols, 0, sizeof(cols));
	memset(&bt, 0, sizeof(bt));
	memset(&none, 0, sizeof(none));
	for (int i = 0; i < 6; i++) {
		cols[i].name.p = names[i];
		cols[i].name.len = (uint32_t)strlen(names[i]);
	}
	cols[0].type = BINLOG_TYPE_LONG;
	cols[0].flags = BINLOG_COL_PK;
	cols[1].type = BINLOG_TYPE_NEWDECIMAL;
	cols[1].meta = 8 << 8 | 3;
	cols[2].type = BINLOG_TYPE_JSON;
	cols[2].meta = 4;
	cols[3].type = BINLOG_TYPE_ENUM;
	cols[3].labels = labels;
	cols[3].nlabels = 2;
	cols[3].labels_collation = 8; /* latin1_swedish_ci */
	cols[4].type = BINLOG_TYPE_LONGLONG;
	cols[5].type = BINLOG_TYPE_LONG;
	bt.db.p = "db";
	bt.db.len = 2;
	bt.name.p = "t";
	bt.name.len = 1;
	bt.ncols = 6;
	bt.cols = cols;
	bt.npk = 1;
	bt.pk = pk;
	bt.njson = 1;
	bt.has = BINLOG_HAS_NAMES | BINLOG_HAS_PK;
	st = schema_table_get(&bt);
	assert_non_null(st);
	assert_int_equal(cdc_writer_init(&w, 0), BINLOG_OK);
	cdc_writer_set_file(&w, "f");
	cdc_writer_begin_txn(&w, &none, 1000);
	binlog_buf_init(&out, 0);

	memset(v, 0, sizeof(v));
	v[0].kind = BINLOG_V_INT;
	v[0].i = 7;
	v[1].kind = CDC_V_DECIMAL_TEXT;
	v[1].s = (const uint8_t *)"-0001.500";
	v[1].n = 9;
	v[2].kind = CDC_V_JSON_TEXT;
	v[2].s = (const uint8_t *)"{ \"a\" : [1, 2.5e300] }";
	v[2].n = strlen((const char *)v[2].s);
	v[3].kind = CDC_V_LABEL_TEXT;
	v[3].s = (const uint8_t *)"caf\xe9";
	v[3].n = 4;
	v[4].kind = CDC_V_ABSENT;
	v[5].kind = BINLOG_V_NULL;
	binlog_buf_lit(&out, "before;");
	assert_int_equal(cdc_writer_values(&w, &out, st, v, 5, 9, &seq_at, &err), BINLOG_OK);
	assert_string_equal(
		tu_str(&out),
		"before;{\"data\":{\"id\":7,\"d\":\"-1.500\",\"j\":{\"a\":[1,2.5e300]},"
		"\"e\":\"café\",\"s\":null},\"op\":\"+I\",\"db\":\"db\",\"table\":\"t\","
		"\"pk\":[\"id\"],\"seq\":5,\"ts_ms\":1000,\"file\":\"f\",\"pos\":9,"
		"\"snapshot\":true}");
	assert_int_equal(seq_at, strstr(tu_str(&out), "\"seq\":5") + 6 - tu_str(&out));

	/* A negative zero is zero; the JSON document null is named; text
	 * that is not JSON stays a string. */
	v[1].s = (const uint8_t *)"-000.000";
	v[1].n = 8;
	v[2].s = (const uint8_t *)" null ";
	v[2].n = 6;
	binlog_buf_reset(&out);
	assert_int_equal(cdc_writer_values(&w, &out, st, v, 6, 9, NULL, &err), BINLOG_OK);
	if (!strstr(tu_str(&out), "\"d\":\"0.000\",\"j\":null,") ||
	    !strstr(tu_str(&out), ",\"pos\":9,\"json_null\":[\"j\"],\"snapshot\":true}"))
		fail_msg("%s", tu_str(&out));
	v[2].s = (const uint8_t *)"not {json";
	v[2].n = 9;
	binlog_buf_reset(&out);
	assert_int_equal(cdc_writer_values(&w, &out, st, v, 7, 9, NULL, &err), BINLOG_OK);
	if (!strstr(tu_str(&out), "\"j\":\"not {json\","))
		fail_msg("%s", tu_str(&out));

	/* Text that is no DECIMAL: an error naming the column; out as it
	 * was. */
	v[1].s = (const uint8_t *)"1.2.3";
	v[1].n = 5;
	binlog_buf_reset(&out);
	binlog_buf_lit(&out, "kept");
	assert_int_equal(cdc_writer_values(&w, &out, st, v, 8, 9, NULL, &err), BINLOG_E_BAD_VALUE);
	assert_string_equal(tu_str(&out), "kept");
	if (!strstr(err.msg, "db.t, column 2 (\"d\")"))
		fail_msg("%s", err.msg);

	binlog_buf_free(&out);
	cdc_writer_free(&w);
	bt.user_free(bt.user);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_kinds),       cmocka_unit_test(test_exclude_edges),
		cmocka_unit_test(test_json_valid),      cmocka_unit_test(test_json_invalid),
		cmocka_unit_test(test_json_depth),      cmocka_unit_test(test_inet6),
		cmocka_unit_test(test_snapshot_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
