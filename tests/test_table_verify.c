/*
 * test_table_verify.c: the row hash of `sluice table verify`
 * (cdc_table_verify.h): what it must treat as the same row and what as
 * different, and its value pinned by an independent implementation of
 * the definition (a few lines of Python, below), so that it cannot drift
 * away from what the header documents. The command itself needs a live
 * server: tests/live_table_verify.sh.
 */
#include "testutil.h"

#include "cdc_table_verify.h"

static uint64_t hash_of(const char *body)
{
	cdc_verify_hasher_t *h = cdc_verify_hasher_new();
	binlog_err_t err = {0};
	uint64_t v = 0;

	assert_non_null(h);
	if (cdc_verify_row_hash(h, (const uint8_t *)body, strlen(body), &v, &err) != BINLOG_OK)
		fail_msg("%s: %s", body, err.msg);
	cdc_verify_hasher_free(h);
	return v;
}

/*
 * The values the header's definition gives, computed with:
 *   def rowhash(members):  # [(name, text or None)]
 *       c = b''
 *       for n, t in sorted((n.encode(), t.encode()) for n, t in members
 *                          if t is not None):
 *           c += struct.pack('<Q', len(n)) + n + struct.pack('<Q', len(t)) + t
 *       return fmix64(fnv1a64(c))
 */
static void pinned_values(void **state)
{
	(void)state;
	assert_int_equal(hash_of("\"id\":7,\"name\":\"\\u00e9\",\"n\":null,\"j\":{\"a\":1}"),
			 0x02b0436b65c09eb8ULL);
	assert_int_equal(hash_of(""), 0xefd01f60ba992926ULL);
}

/* What both sides may write differently for the same row. */
static void same_row(void **state)
{
	(void)state;
	/* member order */
	assert_int_equal(hash_of("\"a\":1,\"b\":\"x\""), hash_of("\"b\":\"x\",\"a\":1"));
	/* a Hive text table gives every value back as a string */
	assert_int_equal(hash_of("\"a\":1,\"b\":true,\"c\":{\"k\":[1,2]}"),
			 hash_of("\"a\":\"1\",\"b\":\"true\",\"c\":\"{\\\"k\\\":[1,2]}\""));
	/* escapes are read, not compared */
	assert_int_equal(hash_of("\"n\\u0061me\":\"caf\\u00e9 \\/ \\\"q\\\"\""),
			 hash_of("\"name\":\"café / \\\"q\\\"\""));
	/* null is absence: a text table's columns of other tables */
	assert_int_equal(hash_of("\"a\":1,\"other\":null"), hash_of("\"a\":1"));
	assert_int_equal(hash_of(" \"a\" : 1 , \"b\" : null "), hash_of("\"a\":1"));
}

static void different_rows(void **state)
{
	(void)state;
	/* null differs from every string, the empty one and "null" too */
	assert_true(hash_of("\"a\":null") != hash_of("\"a\":\"\""));
	assert_true(hash_of("\"a\":null") != hash_of("\"a\":\"null\""));
	/* lengths keep names and values apart */
	assert_true(hash_of("\"ab\":\"c\"") != hash_of("\"a\":\"bc\""));
	assert_true(hash_of("\"a\":\"1\",\"b\":\"2\"") != hash_of("\"a\":\"2\",\"b\":\"1\""));
	/* numbers are compared as their text */
	assert_true(hash_of("\"a\":1.0") != hash_of("\"a\":1"));
	assert_true(hash_of("\"a\":1") != hash_of("\"a\":2"));
	assert_true(hash_of("\"a\":1") != hash_of("\"b\":1"));
}

static void malformed(void **state)
{
	cdc_verify_hasher_t *h = cdc_verify_hasher_new();
	binlog_err_t err = {0};
	uint64_t v;
	const char *bad = "\"a\":\"\\x\"";

	(void)state;
	assert_int_equal(cdc_verify_row_hash(h, (const uint8_t *)bad, strlen(bad), &v, &err),
			 BINLOG_E_BAD_VALUE);
	assert_non_null(strstr(err.msg, "\"a\""));
	cdc_verify_hasher_free(h);
}

/* One hasher for many rows of different widths gives each its own hash. */
static void reuse(void **state)
{
	cdc_verify_hasher_t *h = cdc_verify_hasher_new();
	binlog_buf_t b;
	binlog_err_t err = {0};
	uint64_t wide, narrow;
	char x[32];

	(void)state;
	binlog_buf_init(&b, 0);
	for (int i = 0; i < 300; i++) {
		snprintf(x, sizeof(x), "%s\"c%d\":%d", i ? "," : "", i, i);
		binlog_buf_puts(&b, x);
	}
	assert_int_equal(cdc_verify_row_hash(h, b.data, b.len, &wide, &err), BINLOG_OK);
	assert_int_equal(cdc_verify_row_hash(h, (const uint8_t *)"\"c0\":0", 6, &narrow, &err),
			 BINLOG_OK);
	assert_int_equal(narrow, hash_of("\"c0\":0"));
	assert_int_equal(cdc_verify_row_hash(h, b.data, b.len, &narrow, &err), BINLOG_OK);
	assert_int_equal(narrow, wide);
	binlog_buf_free(&b);
	cdc_verify_hasher_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pinned_values),  cmocka_unit_test(same_row),
		cmocka_unit_test(different_rows), cmocka_unit_test(malformed),
		cmocka_unit_test(reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
