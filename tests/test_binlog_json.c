/*
 * test_binlog_json.c: MySQL binary JSON to text, and JSON diffs.
 *
 * Documents are built by hand with the small encoder below (small and
 * large storage formats, inlined and out-of-line values), so each test
 * states the exact bytes it feeds; a few real column values copied from
 * the shared binlog fixtures check the encoder's reading of the format
 * against what servers actually wrote.
 */
#include "testutil.h"

#include <math.h>

#include "binlog_json.h"
#include "binlog_jsonw.h"

/* ------------------------------------------------------------------ */
/* A binary JSON encoder for tests                                     */

#define TV_MAX 4096

/* One value: its type byte and the bytes after it. */
typedef struct tv {
	uint8_t type;
	size_t n;
	uint8_t b[TV_MAX];
} tv_t;

enum {
	T_SOBJ = 0x00,
	T_LOBJ = 0x01,
	T_SARR = 0x02,
	T_LARR = 0x03,
	T_LIT = 0x04,
	T_I16 = 0x05,
	T_U16 = 0x06,
	T_I32 = 0x07,
	T_U32 = 0x08,
	T_I64 = 0x09,
	T_U64 = 0x0a,
	T_DBL = 0x0b,
	T_STR = 0x0c,
	T_OPQ = 0x0f,
};

static void put_le(uint8_t *p, uint64_t v, unsigned width)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static tv_t tv_num(uint8_t type, uint64_t v, unsigned width)
{
	tv_t t;

	t.type = type;
	t.n = width;
	put_le(t.b, v, width);
	return t;
}

static tv_t tv_lit(uint8_t lit)
{
	return tv_num(T_LIT, lit, 1);
}

static tv_t tv_dbl(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return tv_num(T_DBL, u, 8);
}

static size_t put_varlen(uint8_t *p, size_t len)
{
	size_t k = 0;

	do {
		uint8_t ch = len & 0x7f;
		len >>= 7;
		p[k++] = (uint8_t)(ch | (len ? 0x80 : 0));
	} while (len);
	return k;
}

static tv_t tv_strn(const char *s, size_t n)
{
	tv_t t;

	t.type = T_STR;
	t.n = put_varlen(t.b, n);
	memcpy(t.b + t.n, s, n);
	t.n += n;
	return t;
}

static tv_t tv_str(const char *s)
{
	return tv_strn(s, strlen(s));
}

static tv_t tv_opaque(uint8_t ft, const void *p, size_t n)
{
	tv_t t;

	t.type = T_OPQ;
	t.b[0] = ft;
	t.n = 1 + put_varlen(t.b + 1, n);
	memcpy(t.b + t.n, p, n);
	t.n += n;
	return t;
}

static int inlined(uint8_t type, int large)
{
	return type == T_LIT || type == T_I16 || type == T_U16 ||
	       (large && (type == T_I32 || type == T_U32));
}

/* An object (keys != NULL) or array of `count` values, laid out as MySQL
 * does: header, key entries, value entries, keys, then values. */
static tv_t tv_cont(int large, size_t count, const char *const *keys, const tv_t *const *vals)
{
	tv_t t;
	unsigned osz = large ? 4 : 2;
	int obj = keys != NULL;
	size_t hdr = 2 * osz + count * ((obj ? osz + 2 : 0) + 1 + osz);
	size_t pos = hdr, ke = 2 * osz, ve = 2 * osz + (obj ? count * (osz + 2) : 0);

	t.type = (uint8_t)((obj ? T_SOBJ : T_SARR) + (large ? 1 : 0));
	for (size_t i = 0; obj && i < count; i++) {
		size_t kl = strlen(keys[i]);
		put_le(t.b + ke + i * (osz + 2), pos, osz);
		put_le(t.b + ke + i * (osz + 2) + osz, kl, 2);
		memcpy(t.b + pos, keys[i], kl);
		pos += kl;
	}
	for (size_t i = 0; i < count; i++) {
		uint8_t *e = t.b + ve + i * (1 + osz);
		e[0] = vals[i]->type;
		memset(e + 1, 0, osz);
		if (inlined(vals[i]->type, large)) {
			memcpy(e + 1, vals[i]->b, vals[i]->n);
			continue;
		}
		put_le(e + 1, pos, osz);
		assert_true(pos + vals[i]->n <= TV_MAX);
		memcpy(t.b + pos, vals[i]->b, vals[i]->n);
		pos += vals[i]->n;
	}
	put_le(t.b, count, osz);
	put_le(t.b + osz, pos, osz);
	t.n = pos;
	return t;
}

/* The document: type byte, then the value. */
static size_t tv_doc(const tv_t *v, uint8_t *out)
{
	out[0] = v->type;
	memcpy(out + 1, v->b, v->n);
	return v->n + 1;
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */

static void check_bytes(const uint8_t *p, size_t n, const char *want)
{
	binlog_buf_t b;
	binlog_err_t err;
	binlog_errcode_t rc;

	binlog_buf_init(&b, 0);
	memset(&err, 0, sizeof(err));
	rc = binlog_json_render(&b, p, n, &err);
	if (rc != BINLOG_OK)
		fail_msg("render failed: %s (%s)", err.msg, binlog_errname(rc));
	assert_string_equal(tu_str(&b), want);
	binlog_buf_free(&b);
}

static void check_tv(const tv_t *v, const char *want)
{
	uint8_t d[TV_MAX + 1];

	check_bytes(d, tv_doc(v, d), want);
}

/* Render expecting failure: returns the code, leaves the message in *err
 * and checks that nothing was appended. */
static binlog_errcode_t render_fail(const uint8_t *p, size_t n, binlog_err_t *err)
{
	binlog_buf_t b;
	binlog_errcode_t rc;

	binlog_buf_init(&b, 0);
	binlog_buf_lit(&b, "prefix");
	memset(err, 0, sizeof(*err));
	rc = binlog_json_render(&b, p, n, err);
	assert_int_not_equal(rc, BINLOG_OK);
	assert_int_equal(err->code, rc);
	assert_int_equal(b.len, 6);
	binlog_buf_free(&b);
	return rc;
}

static void assert_msg_has(const binlog_err_t *err, const char *part)
{
	if (!strstr(err->msg, part))
		fail_msg("message '%s' lacks '%s'", err->msg, part);
}

/* Any outcome but a crash; a failure leaves the buffer as it was. */
static void render_any(const uint8_t *p, size_t n)
{
	binlog_buf_t b;
	binlog_err_t err;

	binlog_buf_init(&b, 1 << 20);
	if (binlog_json_render(&b, p, n, &err) != BINLOG_OK)
		assert_int_equal(b.len, 0);
	binlog_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */

static void test_literals_and_empty(void **state)
{
	tv_t t = tv_lit(0), f = tv_lit(2), n = tv_lit(1);
	binlog_err_t err;

	(void)state;
	check_tv(&t, "null");
	check_tv(&n, "true");
	check_tv(&f, "false");
	/* An empty value is MySQL's JSON null (parse_binary). */
	check_bytes((const uint8_t *)"", 0, "null");
	check_bytes(NULL, 0, "null");
	assert_int_equal(render_fail(NULL, 3, &err), BINLOG_E_USAGE);
}

static void test_integers(void **state)
{
	tv_t v;

	(void)state;
	v = tv_num(T_I16, (uint16_t)-32768, 2);
	check_tv(&v, "-32768");
	v = tv_num(T_I16, 32767, 2);
	check_tv(&v, "32767");
	v = tv_num(T_U16, 65535, 2);
	check_tv(&v, "65535");
	v = tv_num(T_I32, (uint32_t)INT32_MIN, 4);
	check_tv(&v, "-2147483648");
	v = tv_num(T_U32, UINT32_MAX, 4);
	check_tv(&v, "4294967295");
	v = tv_num(T_I64, (uint64_t)INT64_MIN, 8);
	check_tv(&v, "-9223372036854775808");
	v = tv_num(T_I64, (uint64_t)INT64_MAX, 8);
	check_tv(&v, "9223372036854775807");
	v = tv_num(T_I64, (uint64_t)-1, 8);
	check_tv(&v, "-1");
	v = tv_num(T_U64, UINT64_MAX, 8);
	check_tv(&v, "18446744073709551615");
	v = tv_num(T_U64, 0, 8);
	check_tv(&v, "0");
}

static void test_doubles(void **state)
{
	tv_t v;

	(void)state;
	v = tv_dbl(1.5);
	check_tv(&v, "1.5");
	v = tv_dbl(-0.0);
	check_tv(&v, "-0.0");
	v = tv_dbl(1e300);
	check_tv(&v, "1e+300");
	v = tv_dbl(2.0);
	check_tv(&v, "2.0");
	/* No JSON spelling for NaN: written as null, not as garbage. */
	v = tv_dbl(NAN);
	check_tv(&v, "null");
}

static void test_strings(void **state)
{
	char big[300];
	char want[310];
	tv_t v;

	(void)state;
	v = tv_str("");
	check_tv(&v, "\"\"");
	v = tv_str("a\"b\\c\n\t\x01/\x1f");
	check_tv(&v, "\"a\\\"b\\\\c\\n\\t\\u0001/\\u001f\"");
	v = tv_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check_tv(&v, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Ill-formed UTF-8 becomes U+FFFD rather than broken JSON. */
	v = tv_strn("a\xff", 2);
	check_tv(&v, "\"a\xef\xbf\xbd\"");
	/* An embedded NUL is escaped. */
	v = tv_strn("a\0b", 3);
	check_tv(&v, "\"a\\u0000b\"");
	/* 300 bytes: a two-byte length. */
	memset(big, 'x', sizeof(big));
	v = tv_strn(big, sizeof(big));
	assert_int_equal(v.b[0], 0x80 | (300 & 0x7f));
	assert_int_equal(v.b[1], 300 >> 7);
	want[0] = '"';
	memset(want + 1, 'x', 300);
	want[301] = '"';
	want[302] = '\0';
	check_tv(&v, want);
}

/* ------------------------------------------------------------------ */
/* Containers                                                          */

static void test_nested_small(void **state)
{
	tv_t one = tv_num(T_I16, 1, 2), t = tv_lit(1), n = tv_lit(0);
	const tv_t *avals[] = {&t, &n};
	tv_t arr = tv_cont(0, 2, NULL, avals);
	const char *keys[] = {"a", "b"};
	const tv_t *ovals[] = {&one, &arr};
	tv_t obj = tv_cont(0, 2, keys, ovals);
	/* Keys keep their stored order, even one MySQL would not write. */
	const char *rkeys[] = {"b", "a"};
	tv_t robj = tv_cont(0, 2, rkeys, ovals);
	tv_t s = tv_str("x\"y"), d = tv_dbl(0.25);
	const char *qkeys[] = {"k\"ey", "\xc3\xa9"};
	const tv_t *qvals[] = {&s, &d};
	tv_t qobj = tv_cont(0, 2, qkeys, qvals);

	(void)state;
	check_tv(&obj, "{\"a\":1,\"b\":[true,null]}");
	check_tv(&robj, "{\"b\":1,\"a\":[true,null]}");
	check_tv(&qobj, "{\"k\\\"ey\":\"x\\\"y\",\"\xc3\xa9\":0.25}");
}

static void test_empty_containers(void **state)
{
	tv_t eo = tv_cont(0, 0, (const char *const[]){NULL}, NULL);
	tv_t ea = tv_cont(0, 0, NULL, NULL);
	tv_t leo = tv_cont(1, 0, (const char *const[]){NULL}, NULL);
	tv_t lea = tv_cont(1, 0, NULL, NULL);
	const tv_t *vals[] = {&eo, &ea, &leo, &lea};
	tv_t all = tv_cont(0, 4, NULL, vals);

	(void)state;
	check_tv(&eo, "{}");
	check_tv(&ea, "[]");
	check_tv(&leo, "{}");
	check_tv(&lea, "[]");
	check_tv(&all, "[{},[],{},[]]");
	/* The exact bytes of an empty small object: count 0, size 4. */
	check_bytes((const uint8_t[]){0x00, 0x00, 0x00, 0x04, 0x00}, 5, "{}");
}

static void test_large_format(void **state)
{
	tv_t i32 = tv_num(T_I32, (uint32_t)-5, 4);
	tv_t u32 = tv_num(T_U32, 4000000000u, 4);
	tv_t i16 = tv_num(T_I16, (uint16_t)-7, 2);
	tv_t u16 = tv_num(T_U16, 65000, 2);
	tv_t lit = tv_lit(2);
	tv_t str = tv_str("s");
	tv_t i64 = tv_num(T_I64, (uint64_t)-1234567890123LL, 8);
	const tv_t *avals[] = {&i64, &i32, &lit, &u16};
	tv_t larr = tv_cont(1, 4, NULL, avals);
	tv_t sarr = tv_cont(0, 4, NULL, avals); /* int32 out of line here */
	const char *keys[] = {"i", "u", "h", "l", "s", "a", "b"};
	const tv_t *ovals[] = {&i32, &u32, &i16, &lit, &str, &larr, &sarr};
	tv_t lobj = tv_cont(1, 7, keys, ovals);
	uint8_t d[TV_MAX + 1];

	(void)state;
	/* The large format inlines int32 in the 4-byte entry. */
	assert_int_equal(lobj.type, T_LOBJ);
	assert_int_equal(sarr.b[2 * 2 + 3], T_I32); /* entry 1: type */
	check_tv(&lobj, "{\"i\":-5,\"u\":4000000000,\"h\":-7,\"l\":false,\"s\":\"s\","
			"\"a\":[-1234567890123,-5,false,65000],"
			"\"b\":[-1234567890123,-5,false,65000]}");
	/* Header check: entries of the large object are 6 + 5 bytes each. */
	tv_doc(&lobj, d);
	assert_int_equal(d[1], 7);
	assert_int_equal(d[9], 8 + 7 * 6 + 7 * 5);
}

/* ------------------------------------------------------------------ */
/* Real values from the fixtures                                       */

/* mysql-9.0.1_rmc_json_opaque.binlog, the JSON column of the eight
 * WRITE_ROWS_V2 events (event index 10..24 as its sidecar counts them),
 * without the 4-byte length prefix. */
static const uint8_t fx_varchar[] = {0x00, 0x01, 0x00, 0x0f, 0x00, 0x0b, 0x00, 0x01,
				     0x00, 0x0f, 0x0c, 0x00, 0x61, 0x0f, 0x01, 0x55};
static const uint8_t fx_date[] = {0x00, 0x01, 0x00, 0x16, 0x00, 0x0b, 0x00, 0x01,
				  0x00, 0x0f, 0x0c, 0x00, 0x62, 0x0a, 0x08, 0x00,
				  0x00, 0x00, 0x00, 0x00, 0xe4, 0x8b, 0x19};
static const uint8_t fx_datetime[] = {0x00, 0x01, 0x00, 0x16, 0x00, 0x0b, 0x00, 0x01,
				      0x00, 0x0f, 0x0c, 0x00, 0x63, 0x0c, 0x08, 0x00,
				      0x00, 0x00, 0xad, 0xb7, 0xe4, 0x8b, 0x19};
static const uint8_t fx_time[] = {0x00, 0x01, 0x00, 0x16, 0x00, 0x0b, 0x00, 0x01,
				  0x00, 0x0f, 0x0c, 0x00, 0x63, 0x0b, 0x08, 0xf1,
				  0xfb, 0x09, 0xee, 0x77, 0x05, 0x00, 0x00};
static const uint8_t fx_dec1[] = {0x00, 0x01, 0x00, 0x14, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x0f, 0x0c,
				  0x00, 0x64, 0xf6, 0x06, 0x06, 0x03, 0x80, 0x7b, 0x01, 0xc8};
static const uint8_t fx_dec2[] = {0x00, 0x01, 0x00, 0x15, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x0f, 0x0c,
				  0x00, 0x65, 0xf6, 0x07, 0x0b, 0x02, 0x80, 0x00, 0x00, 0x09, 0x00};
static const uint8_t fx_array[] = {0x00, 0x01, 0x00, 0x1c, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x02,
				   0x0c, 0x00, 0x65, 0x04, 0x00, 0x10, 0x00, 0x05, 0x00, 0x00,
				   0x05, 0x01, 0x00, 0x04, 0x01, 0x00, 0x04, 0x02, 0x00};
static const uint8_t fx_null[] = {0x00, 0x01, 0x00, 0x0c, 0x00, 0x0b, 0x00,
				  0x01, 0x00, 0x04, 0x00, 0x00, 0x65};

/* mysql-8.0.22_rmc_json_partial_update.000001: json_col of id=1 in the
 * first WRITE_ROWS_V2 event (index 10), and its PARTIAL_UPDATE_ROWS
 * (index 35) after-image value: REPLACE $.age with int16 26. */
static const uint8_t fx_joe[] = {0x00, 0x03, 0x00, 0x33, 0x00, 0x19, 0x00, 0x03, 0x00, 0x1c, 0x00,
				 0x04, 0x00, 0x20, 0x00, 0x04, 0x00, 0x05, 0x18, 0x00, 0x0c, 0x24,
				 0x00, 0x0c, 0x2f, 0x00, 0x61, 0x67, 0x65, 0x64, 0x61, 0x74, 0x61,
				 0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x78, 0x78, 0x78, 0x78, 0x78, 0x78,
				 0x78, 0x78, 0x78, 0x78, 0x03, 0x4a, 0x6f, 0x65};
static const uint8_t fx_joe_diff[] = {0x00, 0x05, 0x24, 0x2e, 0x61, 0x67,
				      0x65, 0x03, 0x05, 0x1a, 0x00};

static void test_fixture_values(void **state)
{
	(void)state;
	check_bytes(fx_varchar, sizeof(fx_varchar), "{\"a\":\"base64:type15:VQ==\"}");
	check_bytes(fx_date, sizeof(fx_date), "{\"b\":\"2012-03-18\"}");
	check_bytes(fx_datetime, sizeof(fx_datetime), "{\"c\":\"2012-03-18 11:30:45.000000\"}");
	check_bytes(fx_time, sizeof(fx_time), "{\"c\":\"87:31:46.654321\"}");
	check_bytes(fx_dec1, sizeof(fx_dec1), "{\"d\":123.456}");
	check_bytes(fx_dec2, sizeof(fx_dec2), "{\"e\":9.00}");
	check_bytes(fx_array, sizeof(fx_array), "{\"e\":[0,1,true,false]}");
	check_bytes(fx_null, sizeof(fx_null), "{\"e\":null}");
	check_bytes(fx_joe, sizeof(fx_joe),
		    "{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}");
}

/* ------------------------------------------------------------------ */
/* Opaque values                                                       */

static void test_opaque(void **state)
{
	/* DECIMAL(5,2) -1.50: 3 integer digits (2 bytes), 2 fraction
	 * digits (1 byte), inverted for a negative number. */
	static const uint8_t dneg[] = {5, 2, 0x7f, 0xfe, 0xcd};
	static const uint8_t dzero[] = {1, 0, 0x80};
	static const uint8_t blob[] = {0x00, 0xff};
	/* Packed TIME 01:00:00, negated: -(1 << 12 << 24). */
	uint8_t tneg[8];
	tv_t v;
	binlog_err_t err;
	uint8_t d[TV_MAX + 1];
	size_t n;

	(void)state;
	v = tv_opaque(246, dneg, sizeof(dneg));
	check_tv(&v, "-1.50");
	v = tv_opaque(246, dzero, sizeof(dzero));
	check_tv(&v, "0");
	put_le(tneg, (uint64_t) - ((int64_t)1 << 36), 8);
	v = tv_opaque(11, tneg, 8);
	check_tv(&v, "\"-01:00:00.000000\"");
	v = tv_opaque(19, tneg, 8); /* TIME2 prints the same */
	check_tv(&v, "\"-01:00:00.000000\"");
	v = tv_opaque(7, fx_datetime + 15, 8); /* TIMESTAMP: like DATETIME */
	check_tv(&v, "\"2012-03-18 11:30:45.000000\"");
	v = tv_opaque(252, blob, sizeof(blob));
	check_tv(&v, "\"base64:type252:AP8=\"");
	v = tv_opaque(15, "", 0);
	check_tv(&v, "\"base64:type15:\"");

	/* A date of 7 bytes, a DECIMAL whose size disagrees with its
	 * precision, an impossible precision, a digit group > 999999999. */
	v = tv_opaque(10, fx_date + 15, 7);
	n = tv_doc(&v, d);
	assert_int_equal(render_fail(d, n, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "expected 8");
	v = tv_opaque(246, dneg, 4);
	n = tv_doc(&v, d);
	assert_int_equal(render_fail(d, n, &err), BINLOG_E_BAD_VALUE);
	v = tv_opaque(246, (const uint8_t[]){70, 2, 0}, 3);
	n = tv_doc(&v, d);
	assert_int_equal(render_fail(d, n, &err), BINLOG_E_BAD_VALUE);
	v = tv_opaque(246, (const uint8_t[]){9, 0, 0xff, 0xff, 0xff, 0xff}, 6);
	n = tv_doc(&v, d);
	assert_int_equal(render_fail(d, n, &err), BINLOG_E_BAD_VALUE);
	/* Opaque without its field type. */
	assert_int_equal(render_fail((const uint8_t[]){T_OPQ}, 1, &err), BINLOG_E_BAD_VALUE);
}

/* ------------------------------------------------------------------ */
/* Malformed input                                                     */

static void test_truncated_everywhere(void **state)
{
	tv_t one = tv_num(T_I16, 1, 2), t = tv_lit(1), s = tv_str("hello");
	tv_t i64 = tv_num(T_I64, 5, 8), dbl = tv_dbl(3.25);
	const tv_t *avals[] = {&t, &s, &i64, &dbl};
	tv_t arr = tv_cont(0, 4, NULL, avals), larr = tv_cont(1, 4, NULL, avals);
	const char *keys[] = {"a", "bb", "ccc"};
	const tv_t *ovals[] = {&one, &arr, &larr};
	tv_t obj = tv_cont(0, 3, keys, ovals), lobj = tv_cont(1, 3, keys, ovals);
	const struct {
		const uint8_t *p;
		size_t n;
	} fx[] = {
		{fx_varchar, sizeof(fx_varchar)}, {fx_date, sizeof(fx_date)},
		{fx_time, sizeof(fx_time)},       {fx_dec1, sizeof(fx_dec1)},
		{fx_array, sizeof(fx_array)},     {fx_joe, sizeof(fx_joe)},
	};
	const tv_t *docs[] = {&obj, &lobj, &s, &i64};
	uint8_t d[TV_MAX + 1], m[TV_MAX + 1];
	static const uint8_t subst[] = {0x00, 0x01, 0x02, 0x03, 0x0c, 0x0f, 0x7f, 0x80, 0xff};
	binlog_err_t err;

	(void)state;
	for (size_t k = 0; k < sizeof(docs) / sizeof(docs[0]); k++) {
		size_t n = tv_doc(docs[k], d);
		/* Every proper prefix (except the empty one, which is
		 * null) cuts a length, an entry or a value short. */
		for (size_t cut = 1; cut < n; cut++)
			assert_int_equal(render_fail(d, cut, &err), BINLOG_E_BAD_VALUE);
		/* Every byte replaced by a few interesting values. */
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < sizeof(subst); j++) {
				memcpy(m, d, n);
				m[i] = subst[j];
				render_any(m, n);
			}
	}
	for (size_t k = 0; k < sizeof(fx) / sizeof(fx[0]); k++)
		for (size_t cut = 0; cut <= fx[k].n; cut++)
			render_any(fx[k].p, cut);
}

static void test_offsets_out_of_bounds(void **state)
{
	tv_t one = tv_num(T_I16, 1, 2), s = tv_str("xy");
	const char *keys[] = {"a", "b"};
	const tv_t *vals[] = {&one, &s};
	tv_t obj = tv_cont(0, 2, keys, vals);
	uint8_t d[TV_MAX + 1], m[TV_MAX + 1];
	size_t n = tv_doc(&obj, d);
	binlog_err_t err;

	(void)state;
	check_bytes(d, n, "{\"a\":1,\"b\":\"xy\"}");
	/* Layout after the type byte: count(2) size(2), key entries at 4 and
	 * 8, value entries at 12 and 15, keys at 18 and 19, the string at 20.
	 * The object is 23 bytes. */
	assert_int_equal(d[3], 23);

	memcpy(m, d, n);
	put_le(m + 1 + 8, 4000, 2); /* key 1 offset */
	assert_int_equal(render_fail(m, n, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "JSON object key 1 offset 4000 beyond the 23-byte object");

	memcpy(m, d, n);
	put_le(m + 1 + 4, 2, 2); /* key 0 inside the header */
	assert_int_equal(render_fail(m, n, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "inside the");

	memcpy(m, d, n);
	put_le(m + 1 + 10, 100, 2); /* key 1 length runs past the end */
	assert_int_equal(render_fail(m, n, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "runs past the end");

	memcpy(m, d, n);
	put_le(m + 1 + 16, 23, 2); /* value 1 offset == size */
	assert_int_equal(render_fail(m, n, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "JSON object value 1 offset 23 beyond the 23-byte object");

	memcpy(m, d, n);
	put_le(m + 1 + 16, 22, 2); /* value 1 at the last byte: string cut */
	assert_int_equal(render_fail(m, n, &err), BINLOG_E_BAD_VALUE);

	memcpy(m, d, n);
	put_le(m + 1 + 2, 24, 2); /* size beyond the document */
	assert_int_equal(render_fail(m, n, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "only 23 bytes left");

	memcpy(m, d, n);
	put_le(m + 1, 60000, 2); /* count whose header cannot fit */
	assert_int_equal(render_fail(m, n, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "header bytes");

	/* Unknown type bytes, at the top and in an entry; a bad literal. */
	assert_int_equal(render_fail((const uint8_t[]){0x0d, 0}, 2, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "unknown JSON value type 0x0d");
	memcpy(m, d, n);
	m[1 + 12] = 0x0e;
	assert_int_equal(render_fail(m, n, &err), BINLOG_E_BAD_VALUE);
	memcpy(m, d, n);
	m[1 + 12] = T_LIT;
	m[1 + 13] = 3;
	assert_int_equal(render_fail(m, n, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "literal 0x03");
	assert_msg_has(&err, " at $.a");
}

static void test_error_location(void **state)
{
	tv_t one = tv_num(T_I16, 1, 2), bad = tv_lit(3);
	const tv_t *avals[] = {&one, &bad};
	tv_t arr = tv_cont(0, 2, NULL, avals);
	const char *ikeys[] = {"k y"};
	const tv_t *ivals[] = {&arr};
	tv_t inner = tv_cont(0, 1, ikeys, ivals);
	const char *keys[] = {"a"};
	const tv_t *vals[] = {&inner};
	tv_t obj = tv_cont(0, 1, keys, vals);
	uint8_t d[TV_MAX + 1];
	binlog_err_t err;

	(void)state;
	assert_int_equal(render_fail(d, tv_doc(&obj, d), &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "at $.a.\"k y\"[1]");
	/* No location at the top level. */
	assert_int_equal(render_fail((const uint8_t[]){T_LIT, 9}, 2, &err), BINLOG_E_BAD_VALUE);
	assert_null(strstr(err.msg, " at $"));
}

static void test_depth(void **state)
{
	tv_t *v = malloc(sizeof(*v));
	const tv_t *vals[1];
	uint8_t d[TV_MAX + 1];
	char want[2 * 101 + 1];
	size_t n;
	binlog_err_t err;

	(void)state;
	assert_non_null(v);
	*v = tv_cont(0, 0, NULL, NULL);
	for (int depth = 2; depth <= 101; depth++) {
		tv_t next;
		vals[0] = v;
		next = tv_cont(depth % 2, 1, NULL, vals);
		*v = next;
		if (depth == 100) {
			n = tv_doc(v, d);
			memset(want, '[', 100);
			memset(want + 100, ']', 100);
			want[200] = '\0';
			check_bytes(d, n, want);
		}
	}
	n = tv_doc(v, d);
	assert_int_equal(render_fail(d, n, &err), BINLOG_E_LIMIT);
	assert_msg_has(&err, "deeper than 100");
	free(v);
}

static void test_varlen(void **state)
{
	binlog_err_t err;

	(void)state;
	/* Six length bytes: MySQL reads at most five. */
	assert_int_equal(
		render_fail((const uint8_t[]){T_STR, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 7, &err),
		BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "more than 5 bytes");
	/* Five bytes holding 35 bits: above 2^32-1. */
	assert_int_equal(
		render_fail((const uint8_t[]){T_STR, 0xff, 0xff, 0xff, 0xff, 0x1f}, 6, &err),
		BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "above 2^32-1");
	/* Five bytes, 2^32-1: valid form, but the bytes are not there. */
	assert_int_equal(
		render_fail((const uint8_t[]){T_STR, 0xff, 0xff, 0xff, 0xff, 0x0f}, 6, &err),
		BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "only 0 left");
	/* A non-minimal but valid length (2 as 0x82 0x00) reads fine. */
	check_bytes((const uint8_t[]){T_STR, 0x82, 0x00, 'h', 'i'}, 5, "\"hi\"");
	/* Cut length. */
	assert_int_equal(render_fail((const uint8_t[]){T_STR, 0x80}, 2, &err), BINLOG_E_BAD_VALUE);
}

/* Entries that share bytes make a 300-byte document describe 2^30
 * elements; the output budget stops it fast. */
static size_t build_shared(uint8_t *d, int levels)
{
	/* Innermost: small array [1]. Each level: count 2, size, two entries
	 * pointing at offset 10 where the level below starts. */
	size_t n = 0;
	uint8_t body[4096];
	size_t bn = 7;

	body[0] = 1;
	body[1] = 0;
	body[2] = 7;
	body[3] = 0;
	body[4] = T_I16;
	body[5] = 1;
	body[6] = 0;
	for (int i = 0; i < levels; i++) {
		uint8_t next[4096];
		size_t nn = 10 + bn;
		next[0] = 2;
		next[1] = 0;
		put_le(next + 2, nn, 2);
		next[4] = T_SARR;
		put_le(next + 5, 10, 2);
		next[7] = T_SARR;
		put_le(next + 8, 10, 2);
		memcpy(next + 10, body, bn);
		memcpy(body, next, nn);
		bn = nn;
	}
	d[n++] = T_SARR;
	memcpy(d + n, body, bn);
	return n + bn;
}

static void test_shared_bytes_bounded(void **state)
{
	uint8_t d[4096];
	size_t n = build_shared(d, 30);
	binlog_err_t err;
	binlog_buf_t b;

	(void)state;
	assert_int_equal(render_fail(d, n, &err), BINLOG_E_LIMIT);
	/* Three levels are fine: 8 copies of [1]. */
	n = build_shared(d, 3);
	check_bytes(d, n, "[[[[1],[1]],[[1],[1]]],[[[1],[1]],[[1],[1]]]]");

	/* The buffer's own limit: nothing appended, LIMIT. */
	binlog_buf_init(&b, 8);
	assert_int_equal(binlog_json_render(&b, d, n, &err), BINLOG_E_LIMIT);
	assert_int_equal(b.len, 0);
	binlog_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Diffs                                                               */

enum { OP_REPLACE = 0, OP_INSERT = 1, OP_REMOVE = 2 };

static size_t put_packed(uint8_t *p, size_t k, size_t v)
{
	if (v < 251) {
		p[k++] = (uint8_t)v;
	} else {
		p[k++] = 0xfc;
		put_le(p + k, v, 2);
		k += 2;
	}
	return k;
}

/* Append one diff: op, path, and unless REMOVE the value document. */
static size_t diff_put(uint8_t *p, size_t k, uint8_t op, const char *path, const tv_t *val)
{
	size_t pl = strlen(path);

	p[k++] = op;
	k = put_packed(p, k, pl);
	memcpy(p + k, path, pl);
	k += pl;
	if (op != OP_REMOVE) {
		uint8_t d[TV_MAX + 1];
		size_t dn = tv_doc(val, d);
		k = put_packed(p, k, dn);
		memcpy(p + k, d, dn);
		k += dn;
	}
	return k;
}

static void check_apply(const uint8_t *before, size_t bn, const uint8_t *diff, size_t dn,
			const char *want)
{
	binlog_buf_t b;
	binlog_err_t err;
	binlog_errcode_t rc;

	binlog_buf_init(&b, 0);
	rc = binlog_json_apply_diffs(&b, before, bn, diff, dn, &err);
	if (rc != BINLOG_OK)
		fail_msg("apply failed: %s (%s)", err.msg, binlog_errname(rc));
	assert_string_equal(tu_str(&b), want);
	binlog_buf_free(&b);
}

static binlog_errcode_t apply_fail(const uint8_t *before, size_t bn, const uint8_t *diff, size_t dn,
				   binlog_err_t *err)
{
	binlog_buf_t b;
	binlog_errcode_t rc;

	binlog_buf_init(&b, 0);
	binlog_buf_lit(&b, "x");
	memset(err, 0, sizeof(*err));
	rc = binlog_json_apply_diffs(&b, before, bn, diff, dn, err);
	assert_int_not_equal(rc, BINLOG_OK);
	assert_int_equal(b.len, 1);
	binlog_buf_free(&b);
	return rc;
}

static void check_render_diffs(const uint8_t *diff, size_t dn, const char *want)
{
	binlog_buf_t b;
	binlog_err_t err;
	binlog_errcode_t rc;

	binlog_buf_init(&b, 0);
	rc = binlog_json_render_diffs(&b, diff, dn, &err);
	if (rc != BINLOG_OK)
		fail_msg("render_diffs failed: %s (%s)", err.msg, binlog_errname(rc));
	assert_string_equal(tu_str(&b), want);
	binlog_buf_free(&b);
}

static void test_diff_fixture(void **state)
{
	(void)state;
	check_apply(fx_joe, sizeof(fx_joe), fx_joe_diff, sizeof(fx_joe_diff),
		    "{\"age\":26,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}");
	check_render_diffs(fx_joe_diff, sizeof(fx_joe_diff),
			   "[{\"op\":\"replace\",\"path\":\"$.age\",\"value\":26}]");
	/* No diffs: the before image as it is. */
	check_apply(fx_joe, sizeof(fx_joe), NULL, 0,
		    "{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"}");
	check_render_diffs(NULL, 0, "[]");
}

/* {"age":24,"arr":[1,2,3],"data":"x","name":"Joe"} in MySQL key order
 * (length, then bytes), small or large format. */
static size_t build_person(uint8_t *d, int large)
{
	tv_t age = tv_num(T_I16, 24, 2), data = tv_str("x"), name = tv_str("Joe");
	tv_t e1 = tv_num(T_I16, 1, 2), e2 = tv_num(T_I16, 2, 2), e3 = tv_num(T_I16, 3, 2);
	const tv_t *avals[] = {&e1, &e2, &e3};
	tv_t arr = tv_cont(large, 3, NULL, avals);
	const char *keys[] = {"age", "arr", "data", "name"};
	const tv_t *vals[] = {&age, &arr, &data, &name};
	tv_t obj = tv_cont(large, 4, keys, vals);

	return tv_doc(&obj, d);
}

static void test_diff_ops(void **state)
{
	uint8_t before[TV_MAX + 1], diff[4096];
	size_t bn, dn;
	tv_t v26 = tv_num(T_I16, 26, 2), nine = tv_num(T_I16, 9, 2), s = tv_str("v");
	tv_t seven = tv_num(T_I32, 7, 4);
	tv_t e = tv_cont(0, 0, NULL, NULL);
	const tv_t *ovals[] = {&e};
	tv_t obj = tv_cont(0, 1, (const char *const[]){"z"}, ovals);

	(void)state;
	for (int large = 0; large <= 1; large++) {
		bn = build_person(before, large);
		check_bytes(before, bn,
			    "{\"age\":24,\"arr\":[1,2,3],\"data\":\"x\",\"name\":\"Joe\"}");

		dn = diff_put(diff, 0, OP_REPLACE, "$.age", &v26);
		check_apply(before, bn, diff, dn,
			    "{\"age\":26,\"arr\":[1,2,3],\"data\":\"x\",\"name\":\"Joe\"}");

		/* A new member goes where MySQL's key order puts it. */
		dn = diff_put(diff, 0, OP_INSERT, "$.new", &s);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[1,2,3],\"new\":\"v\",\"data\":\"x\","
			    "\"name\":\"Joe\"}");
		dn = diff_put(diff, 0, OP_INSERT, "$.a", &s);
		check_apply(before, bn, diff, dn,
			    "{\"a\":\"v\",\"age\":24,\"arr\":[1,2,3],\"data\":\"x\","
			    "\"name\":\"Joe\"}");
		dn = diff_put(diff, 0, OP_INSERT, "$.zzzzz", &obj);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[1,2,3],\"data\":\"x\",\"name\":\"Joe\","
			    "\"zzzzz\":{\"z\":[]}}");

		dn = diff_put(diff, 0, OP_INSERT, "$.arr[1]", &nine);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[1,9,2,3],\"data\":\"x\",\"name\":\"Joe\"}");
		dn = diff_put(diff, 0, OP_INSERT, "$.arr[0]", &nine);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[9,1,2,3],\"data\":\"x\",\"name\":\"Joe\"}");
		/* Past the end appends, [last-N] before the start prepends. */
		dn = diff_put(diff, 0, OP_INSERT, "$.arr[10]", &nine);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[1,2,3,9],\"data\":\"x\",\"name\":\"Joe\"}");
		dn = diff_put(diff, 0, OP_INSERT, "$.arr[last-5]", &nine);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[9,1,2,3],\"data\":\"x\",\"name\":\"Joe\"}");

		dn = diff_put(diff, 0, OP_REMOVE, "$.data", NULL);
		check_apply(before, bn, diff, dn, "{\"age\":24,\"arr\":[1,2,3],\"name\":\"Joe\"}");
		dn = diff_put(diff, 0, OP_REMOVE, "$.arr[0]", NULL);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[2,3],\"data\":\"x\",\"name\":\"Joe\"}");
		dn = diff_put(diff, 0, OP_REMOVE, "$.arr[last]", NULL);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[1,2],\"data\":\"x\",\"name\":\"Joe\"}");

		dn = diff_put(diff, 0, OP_REPLACE, "$.arr[last-1]", &seven);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[1,7,3],\"data\":\"x\",\"name\":\"Joe\"}");
		/* Blanks are allowed between the parts of a path. */
		dn = diff_put(diff, 0, OP_REPLACE, " $ .arr [ last - 2 ] ", &seven);
		check_apply(before, bn, diff, dn,
			    "{\"age\":24,\"arr\":[7,2,3],\"data\":\"x\",\"name\":\"Joe\"}");

		/* Several diffs apply in order, each on the result so far. */
		dn = diff_put(diff, 0, OP_REPLACE, "$.age", &v26);
		dn = diff_put(diff, dn, OP_INSERT, "$.arr[3]", &nine);
		dn = diff_put(diff, dn, OP_REMOVE, "$.arr[0]", NULL);
		dn = diff_put(diff, dn, OP_REMOVE, "$.name", NULL);
		dn = diff_put(diff, dn, OP_INSERT, "$.name", &obj);
		dn = diff_put(diff, dn, OP_INSERT, "$.name.z[0]", &s);
		dn = diff_put(diff, dn, OP_REPLACE, "$.data", &e);
		check_apply(before, bn, diff, dn,
			    "{\"age\":26,\"arr\":[2,3,9],\"data\":[],\"name\":{\"z\":[\"v\"]}}");
		check_render_diffs(diff, dn,
				   "[{\"op\":\"replace\",\"path\":\"$.age\",\"value\":26},"
				   "{\"op\":\"insert\",\"path\":\"$.arr[3]\",\"value\":9},"
				   "{\"op\":\"remove\",\"path\":\"$.arr[0]\"},"
				   "{\"op\":\"remove\",\"path\":\"$.name\"},"
				   "{\"op\":\"insert\",\"path\":\"$.name\",\"value\":{\"z\":[]}},"
				   "{\"op\":\"insert\",\"path\":\"$.name.z[0]\",\"value\":\"v\"},"
				   "{\"op\":\"replace\",\"path\":\"$.data\",\"value\":[]}]");
	}
}

static void test_diff_paths(void **state)
{
	tv_t one = tv_num(T_I16, 1, 2), two = tv_num(T_I16, 2, 2), x = tv_str("x");
	const char *keys[] = {"a b", "a\"b", "\xc3\xa9", "a\\b"};
	const tv_t *vals[] = {&one, &one, &one, &one};
	tv_t obj = tv_cont(0, 4, keys, vals);
	const tv_t *avals[] = {&one, &two, &obj};
	tv_t arr = tv_cont(0, 3, NULL, avals);
	uint8_t before[TV_MAX + 1], diff[4096];
	size_t bn = tv_doc(&obj, before), dn;
	char longkey[300], path[310];

	(void)state;
	dn = diff_put(diff, 0, OP_REPLACE, "$.\"a b\"", &two);
	check_apply(before, bn, diff, dn, "{\"a b\":2,\"a\\\"b\":1,\"\xc3\xa9\":1,\"a\\\\b\":1}");
	dn = diff_put(diff, 0, OP_REPLACE, "$.\"a\\\"b\"", &two);
	check_apply(before, bn, diff, dn, "{\"a b\":1,\"a\\\"b\":2,\"\xc3\xa9\":1,\"a\\\\b\":1}");
	dn = diff_put(diff, 0, OP_REPLACE, "$.\"\\u00e9\"", &two);
	check_apply(before, bn, diff, dn, "{\"a b\":1,\"a\\\"b\":1,\"\xc3\xa9\":2,\"a\\\\b\":1}");
	dn = diff_put(diff, 0, OP_REPLACE, "$.\xc3\xa9", &two); /* bare, non-ASCII */
	check_apply(before, bn, diff, dn, "{\"a b\":1,\"a\\\"b\":1,\"\xc3\xa9\":2,\"a\\\\b\":1}");
	/* A surrogate pair in a quoted name: U+1F600. */
	dn = diff_put(diff, 0, OP_INSERT, "$.\"\\ud83d\\ude00\"", &two);
	check_apply(before, bn, diff, dn,
		    "{\"a b\":1,\"a\\\"b\":1,\"\xc3\xa9\":1,\"a\\\\b\":1,"
		    "\"\xf0\x9f\x98\x80\":2}");
	dn = diff_put(diff, 0, OP_REPLACE, "$.\"a\\\\b\"", &two);
	check_apply(before, bn, diff, dn, "{\"a b\":1,\"a\\\"b\":1,\"\xc3\xa9\":1,\"a\\\\b\":2}");
	check_render_diffs(diff, dn,
			   "[{\"op\":\"replace\",\"path\":\"$.\\\"a\\\\\\\\b\\\"\",\"value\":2}]");

	/* Root array, and a path through array and object. */
	bn = tv_doc(&arr, before);
	dn = diff_put(diff, 0, OP_REPLACE, "$[1]", &x);
	check_apply(before, bn, diff, dn,
		    "[1,\"x\",{\"a b\":1,\"a\\\"b\":1,\"\xc3\xa9\":1,\"a\\\\b\":1}]");
	dn = diff_put(diff, 0, OP_REMOVE, "$[2].\"a b\"", NULL);
	check_apply(before, bn, diff, dn, "[1,2,{\"a\\\"b\":1,\"\xc3\xa9\":1,\"a\\\\b\":1}]");

	/* A 270-byte path: its length is a 3-byte packed integer. */
	memset(longkey, 'k', 270);
	longkey[270] = '\0';
	snprintf(path, sizeof(path), "$.%s", longkey);
	dn = diff_put(diff, 0, OP_REMOVE, path, NULL);
	assert_int_equal(diff[1], 0xfc);
	{
		char want[400];
		snprintf(want, sizeof(want), "[{\"op\":\"remove\",\"path\":\"%s\"}]", path);
		check_render_diffs(diff, dn, want);
	}
}

static void test_diff_null_value(void **state)
{
	uint8_t before[TV_MAX + 1];
	size_t bn = build_person(before, 0);
	/* REPLACE $.age with a zero-length value: JSON null, as MySQL reads
	 * an empty binary document. */
	static const uint8_t diff[] = {OP_REPLACE, 5, '$', '.', 'a', 'g', 'e', 0};

	(void)state;
	check_apply(before, bn, diff, sizeof(diff),
		    "{\"age\":null,\"arr\":[1,2,3],\"data\":\"x\",\"name\":\"Joe\"}");
	check_render_diffs(diff, sizeof(diff),
			   "[{\"op\":\"replace\",\"path\":\"$.age\",\"value\":null}]");
}

static void test_diff_errors(void **state)
{
	uint8_t before[TV_MAX + 1], diff[4096];
	size_t bn = build_person(before, 0), dn;
	tv_t one = tv_num(T_I16, 1, 2);
	binlog_err_t err;
	static const char *const bad_paths[] = {
		"",
		"a",
		"$.",
		"$.a.",
		"$[",
		"$[1",
		"$[x]",
		"$[-1]",
		"$.*",
		"$[*]",
		"$**.a",
		"$[1 to 2]",
		"$.\"a",
		"$.1a",
		"$.a-b",
		"$.\"\\x\"",
		"$.\"\\ud800\"",
		"$[4294967296]",
		"$.\"\x01\"",
		"$[last-]",
	};
	binlog_buf_t b;

	(void)state;
	/* Paths not in the document, or not fitting its shape. */
	dn = diff_put(diff, 0, OP_REPLACE, "$.nope", &one);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "JSON diff 0 (replace $.nope)");
	assert_msg_has(&err, "not in the before image");
	dn = diff_put(diff, 0, OP_REPLACE, "$.age.x", &one);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	dn = diff_put(diff, 0, OP_REPLACE, "$.age[0]", &one); /* no auto-wrap */
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	dn = diff_put(diff, 0, OP_REPLACE, "$.arr[3]", &one);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	dn = diff_put(diff, 0, OP_REPLACE, "$[0]", &one);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	dn = diff_put(diff, 0, OP_INSERT, "$.age", &one);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "already");
	dn = diff_put(diff, 0, OP_INSERT, "$.x.y", &one);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	dn = diff_put(diff, 0, OP_INSERT, "$.arr.y", &one);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	dn = diff_put(diff, 0, OP_REMOVE, "$.arr[3]", NULL);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	dn = diff_put(diff, 0, OP_REMOVE, "$.arr[last-3]", NULL);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	dn = diff_put(diff, 0, OP_REMOVE, "$.nope", NULL);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	/* The whole document cannot be a diff's target. */
	dn = diff_put(diff, 0, OP_REPLACE, "$", &one);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	/* Applying to a null before image. */
	dn = diff_put(diff, 0, OP_REPLACE, "$.age", &one);
	assert_int_equal(apply_fail(NULL, 0, diff, dn, &err), BINLOG_E_BAD_VALUE);
	/* A later diff fails after earlier ones succeeded: no output. */
	dn = diff_put(diff, 0, OP_REPLACE, "$.age", &one);
	dn = diff_put(diff, dn, OP_REMOVE, "$.gone", NULL);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "JSON diff 1 (remove $.gone)");

	/* Malformed paths: rejected by both functions. */
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		dn = diff_put(diff, 0, OP_REMOVE, bad_paths[i], NULL);
		assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
		binlog_buf_init(&b, 0);
		if (binlog_json_render_diffs(&b, diff, dn, &err) != BINLOG_E_BAD_VALUE)
			fail_msg("path '%s' accepted", bad_paths[i]);
		assert_int_equal(b.len, 0);
		binlog_buf_free(&b);
	}

	/* Unknown operation, cut lengths, a corrupt value. */
	diff[0] = 3;
	assert_int_equal(apply_fail(before, bn, diff, 1, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "unknown operation 3");
	dn = diff_put(diff, 0, OP_REPLACE, "$.age", &one);
	for (size_t cut = 1; cut < dn; cut++) {
		assert_int_equal(apply_fail(before, bn, diff, cut, &err), BINLOG_E_BAD_VALUE);
		binlog_buf_init(&b, 0);
		assert_int_equal(binlog_json_render_diffs(&b, diff, cut, &err), BINLOG_E_BAD_VALUE);
		assert_int_equal(b.len, 0);
		binlog_buf_free(&b);
	}
	diff[dn - 3] = 0x0d; /* the value's type byte */
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
	assert_msg_has(&err, "JSON diff 0 value");
	/* 0xfb (NULL) is no length. */
	static const uint8_t nullen[] = {OP_REMOVE, 0xfb};
	assert_int_equal(apply_fail(before, bn, nullen, sizeof(nullen), &err), BINLOG_E_BAD_VALUE);
	/* A corrupt value even when a later diff removes it again. */
	dn = diff_put(diff, 0, OP_INSERT, "$.q", &one);
	diff[dn - 3] = 0x0e;
	dn = diff_put(diff, dn, OP_REMOVE, "$.q", NULL);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_BAD_VALUE);
}

/* A before image with shared entries: only the path is expanded, and the
 * output budget still stops the rest. */
static void test_diff_shared_bytes(void **state)
{
	uint8_t before[4096], diff[256];
	size_t bn = build_shared(before, 30), dn;
	tv_t one = tv_num(T_I16, 1, 2);
	binlog_err_t err;

	(void)state;
	dn = diff_put(diff, 0, OP_REPLACE, "$[0][0][0]", &one);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_LIMIT);
	bn = build_shared(before, 2);
	check_apply(before, bn, diff, dn, "[[[1],[1]],[[1],[1]]]");
	dn = diff_put(diff, 0, OP_REPLACE, "$[0][1]", &one);
	check_apply(before, bn, diff, dn, "[[[1],1],[[1],[1]]]");
}

/* Entries sharing one big array, and one diff per entry: each diff
 * expands its own copy of the shared array, and the tree-memory bound
 * stops it. */
static void test_diff_tree_memory_bounded(void **state)
{
	enum { C = 500, K = 500 };
	uint8_t *before = malloc(8192), *diff = malloc(16384);
	size_t bhdr = 4 + 3 * C, ahdr = 4 + 3 * K, bn = 0, dn = 0;
	tv_t one = tv_num(T_I16, 1, 2);
	binlog_err_t err;
	binlog_buf_t b;
	char path[32];

	(void)state;
	assert_non_null(before);
	assert_non_null(diff);
	before[bn++] = T_SARR;
	put_le(before + bn, K, 2);
	put_le(before + bn + 2, ahdr + bhdr, 2);
	for (size_t i = 0; i < K; i++) {
		before[bn + 4 + 3 * i] = T_SARR;
		put_le(before + bn + 5 + 3 * i, ahdr, 2);
	}
	bn += ahdr;
	put_le(before + bn, C, 2);
	put_le(before + bn + 2, bhdr, 2);
	for (size_t i = 0; i < C; i++) {
		before[bn + 4 + 3 * i] = T_I16;
		put_le(before + bn + 5 + 3 * i, i, 2);
	}
	bn += bhdr;
	for (int i = 0; i < K; i++) {
		snprintf(path, sizeof(path), "$[%d][0]", i);
		dn = diff_put(diff, dn, OP_REPLACE, path, &one);
	}
	assert_true(dn < 16384);
	assert_int_equal(apply_fail(before, bn, diff, dn, &err), BINLOG_E_LIMIT);
	assert_msg_has(&err, "bytes of memory");

	/* A NULL error report is allowed. */
	binlog_buf_init(&b, 0);
	assert_int_equal(binlog_json_apply_diffs(&b, before, bn, diff, dn, NULL), BINLOG_E_LIMIT);
	assert_int_equal(binlog_json_render(&b, before, 3, NULL), BINLOG_E_BAD_VALUE);
	assert_int_equal(b.len, 0);
	binlog_buf_free(&b);
	free(before);
	free(diff);
}

/* ------------------------------------------------------------------ */
/* Scanners of JSON text: the word-at-a-time paths against byte-by-byte
 * references, at every length and offset around the 8 and 16-byte steps. */

static size_t ref_plain_run(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
		i++;
	return i;
}

/* RFC 3629 by its table: the ranges of each lead byte's second byte. */
static int ref_utf8_valid(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t len;
		uint8_t lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4;
		else
			return 0;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += len;
	}
	return 1;
}

static void test_text_scanners(void **state)
{
	static const uint8_t specials[] = {'"',  '\\', 0x00, 0x1f, 0x7f, 0x80, 0xc3,
					   0xe2, 0xed, 0xf0, 0xf4, 0xff, 0xa9};
	uint8_t buf[80];
	uint32_t x = 12345;

	(void)state;
	/* One odd byte at each place of plain text, at each length. */
	for (size_t n = 0; n <= 48; n++) {
		for (size_t at = 0; at <= n; at++) {
			for (size_t k = 0; k < sizeof(specials); k++) {
				memset(buf, 'a', sizeof(buf));
				if (at < n)
					buf[at] = specials[k];
				assert_int_equal(binlog_json_plain_run(buf, n),
						 ref_plain_run(buf, n));
				assert_int_equal(binlog_utf8_valid(buf, n), ref_utf8_valid(buf, n));
			}
		}
	}
	/* Random text, mostly ASCII, at odd offsets. */
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(round % 70), off = (size_t)(round % 7);
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			uint8_t c = (uint8_t)(x >> 16);
			buf[off + i] = (x >> 8) % 8 ? (uint8_t)(0x20 + c % 0x5f)
						    : specials[c % sizeof(specials)];
		}
		assert_int_equal(binlog_json_plain_run(buf + off, n), ref_plain_run(buf + off, n));
		assert_int_equal(binlog_utf8_valid(buf + off, n), ref_utf8_valid(buf + off, n));
	}
	/* Well-formed sequences after long ASCII runs, and cut ones. */
	{
		static const char *const ok[] = {"0123456789abcdef0123\xc3\xa9",
						 "0123456789abcdef\xe2\x82\xac"
						 "0123456789",
						 "01234567\xf0\x9f\x98\x80"};
		static const char *const bad[] = {
			"0123456789abcdef0123\xc3", "0123456789abcdef\xed\xa0\x80",
			"01234567\xc0\xaf", "0123456789abcdefgh\xf5\x80\x80\x80"};
		for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
			assert_true(binlog_utf8_valid((const uint8_t *)ok[i], strlen(ok[i])));
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_false(binlog_utf8_valid((const uint8_t *)bad[i], strlen(bad[i])));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals_and_empty),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_nested_small),
		cmocka_unit_test(test_empty_containers),
		cmocka_unit_test(test_large_format),
		cmocka_unit_test(test_fixture_values),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_offsets_out_of_bounds),
		cmocka_unit_test(test_error_location),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_varlen),
		cmocka_unit_test(test_shared_bytes_bounded),
		cmocka_unit_test(test_diff_fixture),
		cmocka_unit_test(test_diff_ops),
		cmocka_unit_test(test_diff_paths),
		cmocka_unit_test(test_diff_null_value),
		cmocka_unit_test(test_diff_errors),
		cmocka_unit_test(test_diff_shared_bytes),
		cmocka_unit_test(test_diff_tree_memory_bounded),
		cmocka_unit_test(test_text_scanners),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
