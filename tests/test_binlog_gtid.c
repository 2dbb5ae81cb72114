/*
 * test_binlog_gtid.c: GTID sets: merging intervals, counting, text, the
 * PREVIOUS_GTIDS encodings (untagged and tagged) and their bounds.
 */
#include "testutil.h"

#include "binlog_gtid.h"

#define A "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define B "4f22fb58-82db-22f2-af44-d91bb0530673"

static const char *fmt(binlog_gtid_set_t *s, binlog_buf_t *b)
{
	binlog_buf_reset(b);
	binlog_gtid_set_format(s, b);
	return tu_str(b);
}

static void text_round_trip(void **state)
{
	binlog_gtid_set_t *s = binlog_gtid_set_new();
	binlog_buf_t b;
	binlog_err_t err;

	(void)state;
	binlog_buf_init(&b, 0);
	assert_int_equal(
		binlog_gtid_set_parse(s, B ":5-9:1-3, " A ":7:tag:1-2:4,\n" A ":1-6", &err),
		BINLOG_OK);
	/* merged (A 1-6 and 7), sorted, untagged before tags */
	assert_string_equal(fmt(s, &b), A ":1-7," A ":tag:1-2:4," B ":1-3:5-9");
	assert_int_equal(binlog_gtid_set_count(s), 7 + 3 + 8);
	binlog_buf_free(&b);
	binlog_gtid_set_free(s);
}

static void add_merges(void **state)
{
	binlog_gtid_set_t *s = binlog_gtid_set_new();
	binlog_buf_t b;
	binlog_gtid_t g;

	(void)state;
	binlog_buf_init(&b, 0);
	memset(&g, 0, sizeof(g));
	g.kind = BINLOG_GTID_MYSQL;
	binlog_uuid_parse(A, g.uuid);
	for (int n = 10; n >= 1; n -= 3) {
		g.gno = (uint64_t)n;
		assert_int_equal(binlog_gtid_set_add(s, &g), 1);
	}
	assert_string_equal(fmt(s, &b), A ":1:4:7:10");
	for (uint64_t n = 1; n <= 10; n++) {
		g.gno = n;
		binlog_gtid_set_add(s, &g);
	}
	assert_string_equal(fmt(s, &b), A ":1-10");
	g.gno = 5;
	assert_int_equal(binlog_gtid_set_add(s, &g), 0); /* already there */
	assert_true(binlog_gtid_set_contains(s, &g));
	g.gno = 11;
	assert_false(binlog_gtid_set_contains(s, &g));
	assert_int_equal(binlog_gtid_set_count(s), 10);
	assert_true(binlog_gtid_set_has_source(s, g.uuid, NULL));
	assert_false(binlog_gtid_set_has_source(s, g.uuid, "x"));
	binlog_buf_free(&b);
	binlog_gtid_set_free(s);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void decode_untagged(void **state)
{
	uint8_t buf[8 + 16 + 8 + 32];
	binlog_gtid_set_t *s = binlog_gtid_set_new();
	binlog_buf_t b;
	binlog_err_t err;

	(void)state;
	binlog_buf_init(&b, 0);
	put64(buf, 1);
	binlog_uuid_parse(A, buf + 8);
	put64(buf + 24, 2);
	put64(buf + 32, 1);
	put64(buf + 40, 53);
	put64(buf + 48, 60);
	put64(buf + 56, 61);
	assert_int_equal(binlog_gtid_set_decode(s, buf, sizeof(buf), &err), BINLOG_OK);
	assert_string_equal(fmt(s, &b), A ":1-52:60");
	/* a count the bytes cannot hold is refused before looping */
	put64(buf, 1ULL << 40);
	assert_int_equal(binlog_gtid_set_decode(s, buf, sizeof(buf), &err), BINLOG_E_BAD_EVENT);
	put64(buf, 1);
	put64(buf + 24, 1ULL << 50);
	assert_int_equal(binlog_gtid_set_decode(s, buf, sizeof(buf), &err), BINLOG_E_BAD_EVENT);
	/* an empty interval */
	put64(buf + 24, 2);
	put64(buf + 40, 1);
	assert_int_equal(binlog_gtid_set_decode(s, buf, sizeof(buf), &err), BINLOG_E_BAD_EVENT);
	/* cut short: the count no longer fits, or not even the count */
	assert_int_equal(binlog_gtid_set_decode(s, buf, 20, &err), BINLOG_E_BAD_EVENT);
	assert_int_equal(binlog_gtid_set_decode(s, buf, 5, &err), BINLOG_E_TRUNCATED);
	binlog_buf_free(&b);
	binlog_gtid_set_free(s);
}

/* The serialization library's varlen: the fixture's tagged bytes. */
static void varlen(void **state)
{
	static const uint8_t b1[] = {0x0a};             /* 5 */
	static const uint8_t b2[] = {0x25, 0x02};       /* 0x89 */
	static const uint8_t b3[] = {0x43, 0x0f, 0x0b}; /* 90600 */
	static const uint8_t b9[] = {0xff, 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t short2[] = {0x25};
	binlog_cur_t c;
	uint64_t v;

	(void)state;
	c = binlog_cur_make(b1, sizeof(b1));
	assert_true(binlog_cur_varlen(&c, &v));
	assert_int_equal(v, 5);
	c = binlog_cur_make(b2, sizeof(b2));
	assert_true(binlog_cur_varlen(&c, &v));
	assert_int_equal(v, 0x89);
	c = binlog_cur_make(b3, sizeof(b3));
	assert_true(binlog_cur_varlen(&c, &v));
	assert_int_equal(v, 90600);
	c = binlog_cur_make(b9, sizeof(b9));
	assert_true(binlog_cur_varlen(&c, &v));
	assert_int_equal(v, 0x0807060504030201ULL);
	c = binlog_cur_make(short2, sizeof(short2));
	assert_false(binlog_cur_varlen(&c, &v));
}

static void gtid_text(void **state)
{
	binlog_gtid_t g;
	char t[BINLOG_GTID_TEXT_MAX];

	(void)state;
	memset(&g, 0, sizeof(g));
	g.kind = BINLOG_GTID_MARIADB;
	g.domain = 0;
	g.server_id = 1;
	g.seq = 6;
	binlog_gtid_format(&g, t, sizeof(t));
	assert_string_equal(t, "0-1-6");
	g.kind = BINLOG_GTID_MYSQL;
	binlog_uuid_parse(A, g.uuid);
	g.gno = 23;
	binlog_gtid_format(&g, t, sizeof(t));
	assert_string_equal(t, A ":23");
	memcpy(g.tag, "mytag", 6);
	g.tag_len = 5;
	binlog_gtid_format(&g, t, sizeof(t));
	assert_string_equal(t, A ":mytag:23");
	assert_int_equal(binlog_uuid_parse("3e11fa47-71ca-11e1-9e33-c80aa942956", g.uuid), -1);
}

static void remove_and_union(void **state)
{
	binlog_gtid_set_t *s = binlog_gtid_set_new(), *o = binlog_gtid_set_new();
	binlog_buf_t b;
	binlog_gtid_t g;
	binlog_err_t err;

	(void)state;
	binlog_buf_init(&b, 0);
	memset(&g, 0, sizeof(g));
	g.kind = BINLOG_GTID_MYSQL;
	binlog_uuid_parse(A, g.uuid);
	assert_int_equal(binlog_gtid_set_parse(s, A ":1-10:20", &err), BINLOG_OK);
	g.gno = 5; /* splits 1-10 */
	assert_int_equal(binlog_gtid_set_remove(s, &g), 1);
	assert_int_equal(binlog_gtid_set_remove(s, &g), 0);
	assert_string_equal(fmt(s, &b), A ":1-4:6-10:20");
	g.gno = 1;
	assert_int_equal(binlog_gtid_set_remove(s, &g), 1);
	g.gno = 10;
	assert_int_equal(binlog_gtid_set_remove(s, &g), 1);
	g.gno = 20;
	assert_int_equal(binlog_gtid_set_remove(s, &g), 1);
	g.gno = 15;
	assert_int_equal(binlog_gtid_set_remove(s, &g), 0);
	assert_string_equal(fmt(s, &b), A ":2-4:6-9");
	assert_int_equal(binlog_gtid_set_count(s), 7);
	binlog_uuid_parse(B, g.uuid);
	assert_int_equal(binlog_gtid_set_remove(s, &g), 0); /* unknown source */

	assert_int_equal(binlog_gtid_set_parse(o, A ":1-3:9-12," B ":1-2", &err), BINLOG_OK);
	assert_int_equal(binlog_gtid_set_union(s, o), BINLOG_OK);
	assert_string_equal(fmt(s, &b), A ":1-4:6-12," B ":1-2");

	/* encode / decode round trip, untagged then tagged */
	for (int round = 0; round < 2; round++) {
		binlog_buf_t enc;
		binlog_buf_init(&enc, 0);
		if (round)
			assert_int_equal(
				binlog_gtid_set_parse(s, A ":1-4:6-12," A ":x_1:3," B ":1-2", &err),
				BINLOG_OK);
		binlog_gtid_set_encode(s, &enc);
		assert_int_equal(enc.data[7], round); /* format byte */
		assert_int_equal(binlog_gtid_set_decode(o, enc.data, enc.len, &err), BINLOG_OK);
		assert_string_equal(fmt(o, &b), round ? A ":1-4:6-12," A ":x_1:3," B ":1-2"
						      : A ":1-4:6-12," B ":1-2");
		binlog_buf_free(&enc);
	}
	binlog_buf_free(&b);
	binlog_gtid_set_free(s);
	binlog_gtid_set_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_round_trip), cmocka_unit_test(add_merges),
		cmocka_unit_test(decode_untagged), cmocka_unit_test(varlen),
		cmocka_unit_test(gtid_text),       cmocka_unit_test(remove_and_union),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
