/*
 * test_merge.c: the merger's core (sinks/merge_io.h, sinks/merge_table.h).
 *
 * What it proves:
 *   - a Kafka record parses into the change it is (header sequence over
 *     the value's, heartbeats, the key of a keyless table built from the
 *     row) and every malformed record is refused;
 *   - a stored line reads back as the row written, whatever bytes its key
 *     holds, and a tombstone keeps its meta members only;
 *   - the per-key map keeps the highest sequence in any order of offers,
 *     and the same winner of equal sequences in any order;
 *   - data files (zstd and plain) read back line for line, and damaged
 *     ones are refused naming the file;
 *   - a merge-on-read table converges to the highest sequence per key
 *     across shuffled batches, duplicates and deletes, through
 *     compaction, cleaning, checkpoints and reopening, with its offsets;
 *   - the pending instant of a dead writer is invisible and rolled back;
 *     that of a live one is left alone;
 *   - a Hive table keeps each key once, in the partition of its latest
 *     change, drops late and duplicate changes, and writes _SUCCESS from
 *     the watermark of every Kafka partition; a completed commit whose
 *     directories were not exchanged is finished on open.
 *
 * Needs nothing but a writable $TMPDIR (or /tmp).
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cdc_fs.h"
#include "cdc_record.h"
#include "cdc_log.h"
#include "merge_io.h"
#include "merge_table.h"

#define TOPIC "ods.orders"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */

static char tmp[512]; /* this test's directory */

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/sluice-merge-XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int exists(const char *fmt, ...)
{
	char p[1024];
	va_list ap;
	struct stat sb;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	return stat(p, &sb) == 0;
}

static merge_span_t span(const char *s)
{
	merge_span_t x = {(const uint8_t *)s, s ? strlen(s) : 0};
	return x;
}

static int span_is(merge_span_t s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

#define assert_span(s, lit)                                                                        \
	do {                                                                                       \
		if (!span_is((s), (lit)))                                                          \
			fail_msg("%s is '%.*s', not '%s'", #s, (int)(s).n, (const char *)(s).p,    \
				 (lit));                                                           \
	} while (0)

/* A row of shop.orders with the key ["shop","orders",id]. */
typedef struct ev {
	int id;
	uint64_t seq;
	int op;
	int64_t ts;
	char key[64];
	char body[192];
} ev_t;

static void ev_row(const ev_t *e, merge_row_t *r)
{
	memset(r, 0, sizeof(*r));
	r->key = span(e->key);
	r->seq = e->seq;
	r->op = e->op;
	r->ts_ms = e->ts;
	r->db = span("shop");
	r->table = span("orders");
	r->body = span(e->body);
}

static void ev_set(ev_t *e, int id, uint64_t seq, int op, int64_t ts, const char *body)
{
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->seq = seq;
	e->op = op;
	e->ts = ts;
	snprintf(e->key, sizeof(e->key), "[\"shop\",\"orders\",%d]", id);
	snprintf(e->body, sizeof(e->body), "%s", body);
}

/* The stored line of e (without its '\n') into b. */
static void ev_line(const ev_t *e, binlog_buf_t *b)
{
	merge_row_t r;

	ev_row(e, &r);
	binlog_buf_reset(b);
	merge_line_put(b, &r);
	assert_false(b->failed);
	assert_true(b->len > 0 && b->data[b->len - 1] == '\n');
	b->len--;
}

static int ev_offer(merge_map_t *m, const ev_t *e, uint32_t aux)
{
	binlog_buf_t b;
	merge_row_t r;
	int rc;

	binlog_buf_init(&b, 0);
	ev_line(e, &b);
	ev_row(e, &r);
	rc = merge_map_offer(m, &r, b.data, b.len, aux);
	binlog_buf_free(&b);
	return rc;
}

/* Deterministic randomness. */
static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static int key_id(const uint8_t *k, size_t n)
{
	char s[128];
	int id = -1;

	if (n >= sizeof(s))
		return -1;
	memcpy(s, k, n);
	s[n] = 0;
	if (sscanf(s, "[\"shop\",\"orders\",%d]", &id) != 1)
		return -1;
	return id;
}

/* ------------------------------------------------------------------ */
/* 1. merge_change_parse                                              */

static binlog_errcode_t change(const char *key, const char *val, const char *seq, const char *type,
			       binlog_buf_t *scratch, int *kind, merge_row_t *r, binlog_err_t *err)
{
	return merge_change_parse((const uint8_t *)key, key ? strlen(key) : 0, (const uint8_t *)val,
				  val ? strlen(val) : 0, seq, seq ? strlen(seq) : 0, type,
				  type ? strlen(type) : 0, scratch, kind, r, err);
}

static void expect_change_error(const char *key, const char *val, const char *seq,
				const char *needle)
{
	binlog_buf_t s;
	merge_row_t r;
	binlog_err_t err;
	int kind;

	binlog_buf_init(&s, 0);
	memset(&err, 0, sizeof(err));
	if (change(key, val, seq, NULL, &s, &kind, &r, &err) != BINLOG_E_BAD_VALUE)
		fail_msg("accepted: key %s value %s seq %s", key, val, seq ? seq : "(none)");
	if (!strstr(err.msg, needle))
		fail_msg("'%s' not in '%s'", needle, err.msg);
	binlog_buf_free(&s);
}

static void change_parse(void **state)
{
	binlog_buf_t s;
	merge_row_t r;
	binlog_err_t err;
	int kind;
	const char *key = "[\"shop\",\"orders\",7]";
	const char *val = "{\"before\":null,\"data\":{\"id\":7,\"qty\":2,\"note\":\"a}b\"},"
			  "\"op\":\"+U\",\"db\":\"shop\",\"table\":\"orders\","
			  "\"ts_ms\":1718454896000,\"seq\":5,\"pk\":[\"id\"]}";

	(void)state;
	binlog_buf_init(&s, 0);

	/* The header is the ordering field; the value's "seq" is not used. */
	assert_int_equal(change(key, val, "123", NULL, &s, &kind, &r, &err), BINLOG_OK);
	assert_int_equal(kind, MERGE_CHANGE);
	assert_span(r.key, key);
	assert_true(r.seq == 123);
	assert_int_equal(r.op, MERGE_OP_AFTER);
	assert_true(r.ts_ms == 1718454896000);
	assert_span(r.db, "shop");
	assert_span(r.table, "orders");
	assert_span(r.body, "\"id\":7,\"qty\":2,\"note\":\"a}b\"");

	/* No header: the value's "seq". */
	assert_int_equal(change(key, val, NULL, NULL, &s, &kind, &r, &err), BINLOG_OK);
	assert_int_equal(kind, MERGE_CHANGE);
	assert_true(r.seq == 5);

	/* The largest sequence there is. */
	assert_int_equal(change(key, val, "18446744073709551615", NULL, &s, &kind, &r, &err),
			 BINLOG_OK);
	assert_true(r.seq == UINT64_MAX);

	/* A delete keeps no body. */
	assert_int_equal(change(key,
				"{\"data\":{\"id\":7},\"op\":\"-D\",\"db\":\"shop\","
				"\"table\":\"orders\",\"ts_ms\":3}",
				"9", NULL, &s, &kind, &r, &err),
			 BINLOG_OK);
	assert_int_equal(r.op, MERGE_OP_DELETE);
	assert_int_equal(r.body.n, 0);
	assert_true(r.seq == 9);

	/* Heartbeats: by the type header (no key, no sequence needed) ... */
	assert_int_equal(change(NULL, "{\"heartbeat\":true,\"db\":\"shop\",\"ts_ms\":99}", NULL,
				"heartbeat", &s, &kind, &r, &err),
			 BINLOG_OK);
	assert_int_equal(kind, MERGE_HEARTBEAT);
	assert_true(r.ts_ms == 99);
	assert_span(r.db, "shop");
	/* ... and by "heartbeat":true alone. */
	assert_int_equal(
		change(NULL, "{\"ts_ms\":100,\"heartbeat\":true}", NULL, NULL, &s, &kind, &r, &err),
		BINLOG_OK);
	assert_int_equal(kind, MERGE_HEARTBEAT);
	assert_true(r.ts_ms == 100);
	/* "heartbeat":false is not one. */
	expect_change_error(NULL, "{\"ts_ms\":100,\"heartbeat\":false}", NULL, "sequence");

	/* A keyless table: the row is appended to the key. */
	assert_int_equal(change("[\"db\",\"t\"]",
				"{\"data\":{\"a\":1,\"b\":\"x]\"},\"op\":\"+I\",\"db\":\"db\","
				"\"table\":\"t\",\"ts_ms\":1}",
				"4", NULL, &s, &kind, &r, &err),
			 BINLOG_OK);
	assert_span(r.key, "[\"db\",\"t\",{\"a\":1,\"b\":\"x]\"}]");
	assert_span(r.body, "\"a\":1,\"b\":\"x]\"");
	assert_int_equal(r.op, MERGE_OP_INSERT);
	/* and its delete gets the same key, so it finds the insert */
	assert_int_equal(change("[\"db\",\"t\"]",
				"{\"data\":{\"a\":1,\"b\":\"x]\"},\"op\":\"-D\",\"db\":\"db\","
				"\"table\":\"t\",\"ts_ms\":2}",
				"5", NULL, &s, &kind, &r, &err),
			 BINLOG_OK);
	assert_span(r.key, "[\"db\",\"t\",{\"a\":1,\"b\":\"x]\"}]");
	assert_int_equal(r.body.n, 0);

	/* Errors. */
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+X\",\"ts_ms\":1}", "1", "op");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"U\",\"ts_ms\":1}", "1", "op");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\",\"ts_ms\":1}", NULL,
			    "sequence");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\",\"seq\":\"7\"}", NULL,
			    "sequence");
	expect_change_error("{\"k\":1}", "{\"data\":{\"id\":7},\"op\":\"+U\"}", "1", "key");
	expect_change_error("\"shop\"", "{\"data\":{\"id\":7},\"op\":\"+U\"}", "1", "key");
	expect_change_error("[\"shop\"]", "{\"data\":{\"id\":7},\"op\":\"+U\"}", "1", "key");
	expect_change_error("[]", "{\"data\":{\"id\":7},\"op\":\"+U\"}", "1", "key");
	expect_change_error("[\"shop\",", "{\"data\":{\"id\":7},\"op\":\"+U\"}", "1", "key");
	expect_change_error(NULL, "{\"data\":{\"id\":7},\"op\":\"+U\"}", "1", "key");
	expect_change_error(key, "not json", "1", "JSON");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\"", "1", "JSON");
	expect_change_error(key, "[1,2]", "1", "JSON");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\"}", "12a", "sequence header");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\"}", "-1", "sequence header");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\"}", " 1", "sequence header");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\"}", "", "sequence header");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\"}", "18446744073709551616",
			    "sequence header");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\"}", "99999999999999999999",
			    "sequence header");
	expect_change_error(key, "{\"data\":{\"id\":7},\"op\":\"+U\"}", "184467440737095516150",
			    "sequence header");
	expect_change_error(key, "{\"op\":\"+U\",\"ts_ms\":1}", "1", "data");
	expect_change_error(key, "{\"data\":[1],\"op\":\"+U\"}", "1", "data");
	binlog_buf_free(&s);
}

/* ------------------------------------------------------------------ */
/* 2. Stored lines                                                     */

/* cdc_json_members: the members of a top-level object, in one checking
 * pass; nested members are not members. */
struct members_seen {
	char names[8][16], vals[8][32];
	int n;
};

static void members_cb(void *ctx, const uint8_t *name, size_t name_len, const uint8_t *val,
		       size_t val_len)
{
	struct members_seen *m = ctx;

	assert_true(m->n < 8 && name_len < 16 && val_len < 32);
	memcpy(m->names[m->n], name, name_len);
	m->names[m->n][name_len] = 0;
	memcpy(m->vals[m->n], val, val_len);
	m->vals[m->n][val_len] = 0;
	m->n++;
}

static void json_members(void **state)
{
	static const char doc[] = " {\"a\" : 1 ,\"b\\\"q\":{\"in\":[1,{}]},\"c\":[] ,\"d\":{},"
				  "\"e\":\"x\\\"}\",\"f\":-2.5e3,\"g\":null} ";
	static const char *const names[] = {"a", "b\\\"q", "c", "d", "e", "f", "g"};
	static const char *const vals[] = {"1",          "{\"in\":[1,{}]}", "[]",  "{}",
					   "\"x\\\"}\"", "-2.5e3",          "null"};
	static const char *const not_objects[] = {"[1,2]",      "\"s\"",     "7", "{\"a\":1,}",
						  "{\"a\":01}", "{\"a\" 1}", "",  "{\"a\":1}x"};
	struct members_seen m;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(cdc_json_members((const uint8_t *)doc, strlen(doc), members_cb, &m), 1);
	assert_int_equal(m.n, 7);
	for (int i = 0; i < 7; i++) {
		assert_string_equal(m.names[i], names[i]);
		assert_string_equal(m.vals[i], vals[i]);
	}
	memset(&m, 0, sizeof(m));
	assert_int_equal(cdc_json_members((const uint8_t *)"{}", 2, members_cb, &m), 1);
	assert_int_equal(m.n, 0);
	for (size_t i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++) {
		memset(&m, 0, sizeof(m));
		if (cdc_json_members((const uint8_t *)not_objects[i], strlen(not_objects[i]),
				     members_cb, &m))
			fail_msg("accepted: %s", not_objects[i]);
	}
}

static void line_round_trip(void **state)
{
	binlog_buf_t b, s;
	merge_row_t r, back;
	binlog_err_t err;
	/* A key with quotes, backslashes, a control escape and non-ASCII. */
	const char *key = "[\"sh\\\"op\",\"or\\\\ders\",\"caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80"
			  "\",\"\\u0001\\n\",7]";
	const char *body = "\"id\":7,\"doc\":{\"a\":[1,\"}\"],\"b\":\"x,\\\"y\"},\"n\":null";
	const char *simple =
		"{\"_sluice_key\":\"[\\\"shop\\\",\\\"orders\\\",7]\",\"_sluice_seq\":"
		"123,\"_sluice_op\":\"+U\",\"_sluice_ts_ms\":1718454896000,"
		"\"_sluice_db\":\"shop\",\"_sluice_table\":\"orders\",\"id\":7,\"qty\":2}"
		"\n";
	ev_t e;

	(void)state;
	binlog_buf_init(&b, 0);
	binlog_buf_init(&s, 0);

	/* The documented layout, byte for byte. */
	ev_set(&e, 7, 123, MERGE_OP_AFTER, 1718454896000, "\"id\":7,\"qty\":2");
	ev_row(&e, &r);
	merge_line_put(&b, &r);
	assert_int_equal(b.len, strlen(simple));
	assert_memory_equal(b.data, simple, b.len);

	/* Every kind of key byte comes back. */
	memset(&r, 0, sizeof(r));
	r.key = span(key);
	r.seq = UINT64_MAX;
	r.op = MERGE_OP_INSERT;
	r.ts_ms = -5;
	r.db = span("sh\\\"op");
	r.table = span("t\xc3\xa9");
	r.body = span(body);
	binlog_buf_reset(&b);
	merge_line_put(&b, &r);
	assert_false(b.failed);
	assert_int_equal(b.data[b.len - 1], '\n');
	assert_null(memchr(b.data, '\n', b.len - 1)); /* one line */
	assert_int_equal(merge_line_parse(b.data, b.len - 1, &s, &back, &err), BINLOG_OK);
	assert_span(back.key, key);
	assert_true(back.seq == UINT64_MAX);
	assert_int_equal(back.op, MERGE_OP_INSERT);
	assert_true(back.ts_ms == -5);
	assert_span(back.db, "sh\\\"op");
	assert_span(back.table, "t\xc3\xa9");
	assert_span(back.body, body);
	/* what another reader (jansson) sees */
	{
		json_error_t je;
		/* 2^64-1 is beyond jansson's integers: read numbers as reals */
		json_t *j = json_loadb((const char *)b.data, b.len, JSON_DECODE_INT_AS_REAL, &je);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "_sluice_key")), key);
		assert_string_equal(json_string_value(json_object_get(j, "_sluice_db")), "sh\"op");
		json_decref(j);
	}

	/* Tombstones: meta only, whatever body the row had. */
	for (int op = MERGE_OP_BEFORE; op <= MERGE_OP_DELETE; op++) {
		r.op = op;
		binlog_buf_reset(&b);
		merge_line_put(&b, &r);
		assert_null(strstr(tu_str(&b), "\"id\""));
		assert_int_equal(merge_line_parse(b.data, b.len - 1, &s, &back, &err), BINLOG_OK);
		assert_int_equal(back.op, op);
		assert_int_equal(back.body.n, 0);
		assert_span(back.key, key);
		assert_true(back.seq == UINT64_MAX);
	}

	/*
	 * Source columns named like the meta members are data: they follow
	 * _sluice_table and never override the row's own key, seq or op.
	 */
	{
		static const char clash[] = "\"_sluice_key\":\"other\",\"_sluice_seq\":1,"
					    "\"_sluice_op\":\"-D\",\"_sluice_table\":\"x\"";
		r.op = MERGE_OP_AFTER;
		r.seq = 42;
		r.body = span(clash);
		binlog_buf_reset(&b);
		merge_line_put(&b, &r);
		assert_int_equal(merge_line_parse(b.data, b.len - 1, &s, &back, &err), BINLOG_OK);
		assert_span(back.key, key);
		assert_true(back.seq == 42);
		assert_int_equal(back.op, MERGE_OP_AFTER);
		assert_span(back.table, "t\xc3\xa9");
		assert_span(back.body, clash);
	}

	/* Not stored rows. */
	{
		static const char *const bad[] = {
			"{\"_sluice_seq\":1,\"_sluice_op\":\"+U\",\"id\":1}",
			"{\"_sluice_key\":\"[1,2]\",\"_sluice_op\":\"+U\",\"id\":1}",
			"{\"_sluice_key\":\"[1,2]\",\"_sluice_seq\":1,\"id\":1}",
			"{\"_sluice_key\":\"[1,2]\",\"_sluice_seq\":-1,\"_sluice_op\":\"+U\"}",
			"{\"_sluice_key\":\"[1,2]\",\"_sluice_seq\":1,\"_sluice_op\":\"+Z\"}",
			"{\"_sluice_key\":7,\"_sluice_seq\":1,\"_sluice_op\":\"+U\"}",
			"{\"_sluice_key\":\"[1,2]\",\"_sluice_seq\":1,\"_sluice_op\":\"+U\"",
			"[\"_sluice_key\"]",
			"",
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memset(&err, 0, sizeof(err));
			if (merge_line_parse((const uint8_t *)bad[i], strlen(bad[i]), &s, &back,
					     &err) != BINLOG_E_BAD_VALUE)
				fail_msg("accepted: %s", bad[i]);
			assert_true(err.msg[0] != 0);
		}
	}
	binlog_buf_free(&b);
	binlog_buf_free(&s);
}

/* A JSON string body unescapes to its text: \uXXXX escapes included,
 * those of control characters, quote and backslash too (another writer's
 * _sluice_key, a text table's values). */
static void json_unescape_u_escapes(void **state)
{
	static const struct {
		const char *in, *out;
		size_t outlen;
	} cases[] = {
		{"a\\u00e9b",
		 "a\xc3\xa9"
		 "b",
		 4},
		{"\\ud83d\\ude00", "\xf0\x9f\x98\x80", 4},
		{"\\n\\t\\\"\\\\\\/", "\n\t\"\\/", 5},
		{"x\\u0001y", "x\001y", 3},
		{"\\u001f", "\037", 1},
		{"\\u0000", "\0", 1},
		{"\\u0022", "\"", 1},
		{"\\u005c", "\\", 1},
		{"\\u000a", "\n", 1},
	};
	binlog_buf_t b;

	(void)state;
	binlog_buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		binlog_buf_reset(&b);
		assert_int_equal(
			merge_json_unescape(&b, (const uint8_t *)cases[i].in, strlen(cases[i].in)),
			0);
		if (b.len != cases[i].outlen || memcmp(b.data, cases[i].out, b.len) != 0)
			fail_msg("'%s' unescapes to '%.*s' (%zu bytes), not %zu bytes", cases[i].in,
				 (int)b.len, (const char *)b.data, b.len, cases[i].outlen);
	}
	binlog_buf_reset(&b);
	assert_int_equal(merge_json_unescape(&b, (const uint8_t *)"\\x", 2), -1);
	binlog_buf_reset(&b);
	assert_int_equal(merge_json_unescape(&b, (const uint8_t *)"\\u12", 4), -1);
	binlog_buf_reset(&b);
	assert_int_equal(merge_json_unescape(&b, (const uint8_t *)"a\\", 2), -1);
	binlog_buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* 3. The per-key map                                                  */

/* Every order of offering evs[0..n) leaves the line of evs[win]. */
static void all_orders(const ev_t *evs, size_t n, size_t win)
{
	size_t perm[8], c[8] = {0}, k = 1, orders = 0;
	binlog_buf_t want;
	merge_map_t *m = merge_map_new();

	assert_true(n <= 8);
	assert_non_null(m);
	binlog_buf_init(&want, 0);
	ev_line(&evs[win], &want);
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	/* Heap's algorithm: every permutation once. */
	for (;;) {
		merge_entry_t *e;
		merge_map_reset(m);
		for (size_t i = 0; i < n; i++)
			assert_true(ev_offer(m, &evs[perm[i]], (uint32_t)perm[i]) >= 0);
		assert_int_equal(merge_map_count(m), 1);
		e = merge_map_get(m, (const uint8_t *)evs[0].key, strlen(evs[0].key));
		assert_non_null(e);
		assert_true(e->seq == evs[win].seq);
		assert_int_equal(e->op, evs[win].op);
		if (e->line_len != want.len ||
		    memcmp(merge_map_line(m, e), want.data, want.len) != 0)
			fail_msg("order %zu: kept '%.*s', not '%.*s'", orders, (int)e->line_len,
				 (const char *)merge_map_line(m, e), (int)want.len,
				 (const char *)want.data);
		orders++;
		while (k < n && c[k] >= k) {
			c[k] = 0;
			k++;
		}
		if (k >= n)
			break;
		if (k % 2 == 0) {
			size_t t = perm[0];
			perm[0] = perm[k];
			perm[k] = t;
		} else {
			size_t t = perm[c[k]];
			perm[c[k]] = perm[k];
			perm[k] = t;
		}
		c[k]++;
		k = 1;
	}
	binlog_buf_free(&want);
	merge_map_free(m);
}

static void map_highest_wins(void **state)
{
	ev_t evs[6];

	(void)state;
	/* Sequences 1..6, ops of every kind, bodies of every length: 720
	 * orders, the highest sequence always. */
	ev_set(&evs[0], 1, 5, MERGE_OP_AFTER, 10, "\"id\":1,\"v\":\"five\"");
	ev_set(&evs[1], 1, 1, MERGE_OP_INSERT, 90, "\"id\":1,\"v\":\"one, the longest body\"");
	ev_set(&evs[2], 1, 3, MERGE_OP_DELETE, 30, "");
	ev_set(&evs[3], 1, 6, MERGE_OP_AFTER, 20, "\"id\":1,\"v\":6");
	ev_set(&evs[4], 1, 4, MERGE_OP_BEFORE, 40, "");
	ev_set(&evs[5], 1, 2, MERGE_OP_AFTER, 50, "\"id\":1,\"v\":\"two\"");
	all_orders(evs, 6, 3);
	/* the highest being a delete */
	evs[3].op = MERGE_OP_DELETE;
	evs[3].body[0] = 0;
	all_orders(evs, 6, 3);
	/* 2^64-1 against 2^63 */
	ev_set(&evs[0], 1, UINT64_MAX, MERGE_OP_AFTER, 1, "\"id\":1");
	ev_set(&evs[1], 1, 1ull << 63, MERGE_OP_AFTER, 1, "\"id\":1,\"v\":2");
	all_orders(evs, 2, 0);
}

static void map_equal_sequences(void **state)
{
	ev_t evs[5];

	(void)state;
	/* Same sequence (duplicate deliveries gone wrong): the higher op,
	 * then the higher data bytes, in every order. */
	ev_set(&evs[0], 1, 7, MERGE_OP_AFTER, 1, "\"id\":1,\"v\":1");
	ev_set(&evs[1], 1, 7, MERGE_OP_AFTER, 1, "\"id\":1,\"v\":2");
	ev_set(&evs[2], 1, 7, MERGE_OP_INSERT, 1, "\"id\":1,\"v\":9");
	ev_set(&evs[3], 1, 7, MERGE_OP_AFTER, 1, "\"id\":1,\"v\":10");
	ev_set(&evs[4], 1, 7, MERGE_OP_AFTER, 1, "\"id\":1,\"v\":1"); /* a true duplicate */
	all_orders(evs, 5, 1);
	/* a delete of the same sequence wins over the images */
	ev_set(&evs[2], 1, 7, MERGE_OP_DELETE, 1, "");
	all_orders(evs, 5, 2);
}

/* merge_io.h defines the winner of equal sequences as merge_row_newer's:
 * (op, data bytes). The map must pick that one. */
static void map_tie_is_row_newer(void **state)
{
	static const char *const bodies[][2] = {
		{"\"id\":1", "\"id\":1,\"v\":0"}, /* one body a prefix of the other */
		{"\"v\":1", "\"v\":10"},
		{"\"v\":1", "\"v\":2"},
	};
	ev_t evs[2];

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		merge_row_t a, b;
		ev_set(&evs[0], 1, 8, MERGE_OP_AFTER, 1, bodies[i][0]);
		ev_set(&evs[1], 1, 8, MERGE_OP_AFTER, 1, bodies[i][1]);
		ev_row(&evs[0], &a);
		ev_row(&evs[1], &b);
		assert_true(merge_row_newer(&b, &a));
		assert_false(merge_row_newer(&a, &b));
		all_orders(evs, 2, 1);
	}
}

static void map_in_place_and_growth(void **state)
{
	merge_map_t *m = merge_map_new();
	binlog_buf_t want;
	ev_t e, other;
	merge_entry_t *x;
	size_t bytes, it, seen;
	enum { N = 100000 };
	static uint8_t seen_ids[N];
	char longbody[180];

	(void)state;
	binlog_buf_init(&want, 0);
	memset(longbody, 'x', sizeof(longbody) - 1);
	longbody[sizeof(longbody) - 1] = 0;
	memcpy(longbody, "\"s\":\"", 5);
	longbody[sizeof(longbody) - 2] = '"';

	/* A long line, its neighbour, then the key updated with a shorter one:
	 * in place, the neighbour intact. */
	ev_set(&e, 1, 1, MERGE_OP_INSERT, 1, longbody);
	assert_int_equal(ev_offer(m, &e, 1), 1);
	ev_set(&other, 2, 1, MERGE_OP_INSERT, 1, "\"id\":2,\"v\":\"neighbour\"");
	assert_int_equal(ev_offer(m, &other, 2), 1);
	bytes = merge_map_bytes(m);
	ev_set(&e, 1, 2, MERGE_OP_AFTER, 2, "\"v\":1");
	assert_int_equal(ev_offer(m, &e, 3), 1);
	x = merge_map_get(m, (const uint8_t *)e.key, strlen(e.key));
	assert_non_null(x);
	ev_line(&e, &want);
	assert_int_equal(x->line_len, want.len);
	assert_memory_equal(merge_map_line(m, x), want.data, want.len);
	assert_int_equal(x->aux, 3);
	assert_true(x->seq == 2);
	assert_int_equal(merge_map_bytes(m), bytes);
	/* a tombstone, shorter still */
	ev_set(&e, 1, 3, MERGE_OP_DELETE, 3, "");
	assert_int_equal(ev_offer(m, &e, 4), 1);
	ev_line(&e, &want);
	x = merge_map_get(m, (const uint8_t *)e.key, strlen(e.key));
	assert_int_equal(x->line_len, want.len);
	assert_memory_equal(merge_map_line(m, x), want.data, want.len);
	assert_int_equal(x->op, MERGE_OP_DELETE);
	/* a loser changes nothing */
	ev_set(&e, 1, 2, MERGE_OP_AFTER, 9, longbody);
	assert_int_equal(ev_offer(m, &e, 5), 0);
	x = merge_map_get(m, (const uint8_t *)e.key, strlen(e.key));
	assert_int_equal(x->line_len, want.len);
	assert_memory_equal(merge_map_line(m, x), want.data, want.len);
	assert_int_equal(x->aux, 4);
	/* then longer again */
	ev_set(&e, 1, 4, MERGE_OP_AFTER, 4, longbody);
	assert_int_equal(ev_offer(m, &e, 6), 1);
	ev_line(&e, &want);
	x = merge_map_get(m, (const uint8_t *)e.key, strlen(e.key));
	assert_int_equal(x->line_len, want.len);
	assert_memory_equal(merge_map_line(m, x), want.data, want.len);
	ev_line(&other, &want);
	x = merge_map_get(m, (const uint8_t *)other.key, strlen(other.key));
	assert_non_null(x);
	assert_int_equal(x->line_len, want.len);
	assert_memory_equal(merge_map_line(m, x), want.data, want.len);
	assert_int_equal(x->aux, 2);
	assert_int_equal(merge_map_count(m), 2);

	/* Growth: many keys, each found with its own line. */
	merge_map_reset(m);
	assert_int_equal(merge_map_count(m), 0);
	assert_null(merge_map_get(m, (const uint8_t *)e.key, strlen(e.key)));
	for (int i = 0; i < N; i++) {
		char body[64];
		snprintf(body, sizeof(body), "\"id\":%d,\"v\":%d", i, i * 3);
		ev_set(&e, i, (uint64_t)i + 10, MERGE_OP_INSERT, i, body);
		assert_int_equal(ev_offer(m, &e, (uint32_t)i), 1);
	}
	assert_int_equal(merge_map_count(m), N);
	for (int i = 0; i < N; i++) {
		char body[64];
		snprintf(body, sizeof(body), "\"id\":%d,\"v\":%d", i, i * 3);
		ev_set(&e, i, (uint64_t)i + 10, MERGE_OP_INSERT, i, body);
		x = merge_map_get(m, (const uint8_t *)e.key, strlen(e.key));
		assert_non_null(x);
		assert_int_equal(x->aux, i);
		assert_true(x->seq == (uint64_t)i + 10);
		assert_int_equal(x->key_len, strlen(e.key));
		assert_memory_equal(merge_map_key(m, x), e.key, x->key_len);
		ev_line(&e, &want);
		assert_int_equal(x->line_len, want.len);
		assert_memory_equal(merge_map_line(m, x), want.data, want.len);
		/* older: loses; newer: wins */
		e.seq = (uint64_t)i + 9;
		assert_int_equal(ev_offer(m, &e, 0), 0);
		if (i % 2) {
			e.seq = (uint64_t)i + 11;
			assert_int_equal(ev_offer(m, &e, (uint32_t)i + 1), 1);
		}
	}
	assert_int_equal(merge_map_count(m), N);
	memset(seen_ids, 0, sizeof(seen_ids));
	it = 0;
	seen = 0;
	while ((x = merge_map_next(m, &it))) {
		int id = key_id(merge_map_key(m, x), x->key_len);
		assert_true(id >= 0 && id < N);
		assert_int_equal(seen_ids[id], 0);
		seen_ids[id] = 1;
		assert_true(x->seq == (uint64_t)id + 10 + (id % 2));
		seen++;
	}
	assert_int_equal(seen, N);

	/* Sorted by key bytes; a key that is a prefix of another first. */
	merge_map_reset(m);
	{
		static const char *const keys[] = {"[\"b\"]",    "[\"a\",2]", "[\"a\"]",
						   "[\"a\",10]", "[\"a\",1]", "[\"\xc3\xa9\"]",
						   "[\"B\"]"};
		/* '0' < ']' and ',' < ']' */
		static const char *const order[] = {"[\"B\"]",       "[\"a\",10]", "[\"a\",1]",
						    "[\"a\",2]",     "[\"a\"]",    "[\"b\"]",
						    "[\"\xc3\xa9\"]"};
		merge_entry_t **v;
		size_t n;
		for (size_t i = 0; i < 7; i++) {
			merge_row_t r;
			memset(&r, 0, sizeof(r));
			r.key = span(keys[i]);
			r.seq = i;
			assert_int_equal(merge_map_offer(m, &r, (const uint8_t *)"{}", 2, 0), 1);
		}
		v = merge_map_sorted(m, &n);
		assert_non_null(v);
		assert_int_equal(n, 7);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(v[i]->key_len, strlen(order[i]));
			assert_memory_equal(merge_map_key(m, v[i]), order[i], v[i]->key_len);
		}
		free(v);
		/* prefix ordering: "[\"a\"" is a prefix of nothing here; try one */
		merge_map_reset(m);
		{
			merge_row_t r;
			memset(&r, 0, sizeof(r));
			r.key = span("abc");
			assert_int_equal(merge_map_offer(m, &r, (const uint8_t *)"x", 1, 0), 1);
			r.key = span("ab");
			assert_int_equal(merge_map_offer(m, &r, (const uint8_t *)"x", 1, 0), 1);
			v = merge_map_sorted(m, &n);
			assert_int_equal(n, 2);
			assert_int_equal(v[0]->key_len, 2);
			free(v);
		}
		merge_map_reset(m);
		assert_null(merge_map_sorted(m, &n));
		assert_int_equal(n, 0);
	}
	binlog_buf_free(&want);
	merge_map_free(m);
}

/* ------------------------------------------------------------------ */
/* 4. Files                                                            */

/* Line i of the big file: lengths from 0 to ~3000 bytes. */
static size_t big_line(size_t i, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "%zu:", i), len = (i * 7919) % 97;

	if (i % 1000 == 999)
		len = 3000;
	if (i % 5000 == 17)
		return 0; /* empty lines too */
	for (size_t k = 0; k < len && n + 1 < cap; k++)
		buf[n++] = (char)('a' + (i + k * 31) % 26);
	return n;
}

typedef struct lines_ctx {
	size_t n;
	int fail_at; /* the callback's error, at this line (1-based); 0 never */
	char buf[4096];
} lines_ctx_t;

static binlog_errcode_t check_line(void *arg, const uint8_t *line, size_t n, binlog_err_t *err)
{
	lines_ctx_t *c = arg;
	size_t want = big_line(c->n, c->buf, sizeof(c->buf));

	if (c->fail_at && (int)c->n + 1 == c->fail_at)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE, "the callback says no");
	if (n != want || memcmp(line, c->buf, n) != 0)
		fail_msg("line %zu: '%.*s' is not '%.*s'", c->n + 1, (int)(n > 80 ? 80 : n),
			 (const char *)line, (int)(want > 80 ? 80 : want), c->buf);
	c->n++;
	return BINLOG_OK;
}

static binlog_errcode_t count_line(void *arg, const uint8_t *line, size_t n, binlog_err_t *err)
{
	(void)line;
	(void)n;
	(void)err;
	((lines_ctx_t *)arg)->n++;
	return BINLOG_OK;
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void files_round_trip(void **state)
{
	static const char *const names[] = {"big.jsonl.zst", "big.jsonl"};
	enum { N = 100000 };
	char path[700], buf[4096];
	binlog_err_t err;
	lines_ctx_t *c = calloc(1, sizeof(*c));

	(void)state;
	assert_non_null(c);
	for (int z = 0; z < 2; z++) {
		merge_out_t *o;
		uint64_t bytes = 0;
		struct stat sb;
		int missing = 7;
		uint8_t magic[4];
		int fd;

		snprintf(path, sizeof(path), "%s/%s", tmp, names[z]);
		assert_int_equal(merge_out_open(path, 3, &o, &err), BINLOG_OK);
		for (size_t i = 0; i < N; i++) {
			size_t n = big_line(i, buf, sizeof(buf));
			assert_int_equal(merge_out_write(o, buf, n, &err), BINLOG_OK);
			assert_int_equal(merge_out_write(o, "\n", 1, &err), BINLOG_OK);
		}
		assert_int_equal(merge_out_close(o, &bytes, &err), BINLOG_OK);
		assert_int_equal(stat(path, &sb), 0);
		assert_true(bytes == (uint64_t)sb.st_size);
		fd = open(path, O_RDONLY);
		assert_int_equal(read(fd, magic, 4), 4);
		close(fd);
		/* zstd's frame magic, 0xFD2FB528 little-endian, for .zst only */
		assert_int_equal(memcmp(magic, "\x28\xb5\x2f\xfd", 4) == 0, z == 0);
		/* an existing name is not overwritten */
		assert_int_equal(merge_out_open(path, 3, &o, &err), BINLOG_E_LOCAL_IO);
		assert_non_null(strstr(err.msg, path));

		memset(c, 0, sizeof(*c));
		assert_int_equal(merge_in_lines(path, check_line, c, &missing, &err), BINLOG_OK);
		assert_int_equal(c->n, N);
		assert_int_equal(missing, 0);

		/* the callback's error stops the reading, with file and line */
		memset(c, 0, sizeof(*c));
		c->fail_at = 4321;
		assert_int_equal(merge_in_lines(path, check_line, c, NULL, &err),
				 BINLOG_E_BAD_VALUE);
		assert_int_equal(c->n, 4320);
		assert_non_null(strstr(err.msg, path));
		assert_non_null(strstr(err.msg, "line 4321"));
		assert_non_null(strstr(err.msg, "the callback says no"));
	}

	/* An empty file, both ways. */
	for (int z = 0; z < 2; z++) {
		merge_out_t *o;
		snprintf(path, sizeof(path), "%s/empty%s", tmp, z ? ".jsonl" : ".jsonl.zst");
		assert_int_equal(merge_out_open(path, 3, &o, &err), BINLOG_OK);
		assert_int_equal(merge_out_close(o, NULL, &err), BINLOG_OK);
		memset(c, 0, sizeof(*c));
		assert_int_equal(merge_in_lines(path, count_line, c, NULL, &err), BINLOG_OK);
		assert_int_equal(c->n, 0);
	}

	/* merge_out_abort leaves nothing. */
	{
		merge_out_t *o;
		snprintf(path, sizeof(path), "%s/aborted.jsonl.zst", tmp);
		assert_int_equal(merge_out_open(path, 3, &o, &err), BINLOG_OK);
		assert_int_equal(merge_out_write(o, "x\n", 2, &err), BINLOG_OK);
		merge_out_abort(o);
		assert_false(exists("%s", path));
		merge_out_abort(NULL);
	}
	free(c);
}

static void files_damaged(void **state)
{
	char path[700], cut[700];
	binlog_err_t err;
	lines_ctx_t c;
	merge_out_t *o;
	struct stat sb;
	int missing = 0;
	binlog_errcode_t rc;

	(void)state;
	/* A .zst file cut short, at several places. */
	snprintf(path, sizeof(path), "%s/whole.jsonl.zst", tmp);
	assert_int_equal(merge_out_open(path, 3, &o, &err), BINLOG_OK);
	for (size_t i = 0; i < 20000; i++) {
		char buf[4096];
		size_t n = big_line(i, buf, sizeof(buf));
		assert_int_equal(merge_out_write(o, buf, n, &err), BINLOG_OK);
		assert_int_equal(merge_out_write(o, "\n", 1, &err), BINLOG_OK);
	}
	assert_int_equal(merge_out_close(o, NULL, &err), BINLOG_OK);
	assert_int_equal(stat(path, &sb), 0);
	{
		binlog_buf_t b;
		off_t cuts[] = {sb.st_size / 2, sb.st_size - 1, sb.st_size - 3, 5, 1};
		binlog_buf_init(&b, 0);
		assert_int_equal(cdc_read_file(path, 1u << 30, &b, NULL, &err), BINLOG_OK);
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			snprintf(cut, sizeof(cut), "%s/cut%zu.jsonl.zst", tmp, i);
			write_file(cut, b.data, (size_t)cuts[i]);
			memset(&c, 0, sizeof(c));
			memset(&err, 0, sizeof(err));
			rc = merge_in_lines(cut, count_line, &c, &missing, &err);
			if (rc == BINLOG_OK)
				fail_msg("%s, cut at %lld of %lld bytes, read as whole (%zu lines)",
					 cut, (long long)cuts[i], (long long)sb.st_size, c.n);
			assert_non_null(strstr(err.msg, cut));
			assert_int_equal(missing, 0);
		}
		/* an empty .zst file is not a frame */
		snprintf(cut, sizeof(cut), "%s/zero.jsonl.zst", tmp);
		write_file(cut, "", 0);
		assert_int_not_equal(merge_in_lines(cut, count_line, &c, NULL, &err), BINLOG_OK);
		assert_non_null(strstr(err.msg, cut));
		/* garbage is not a frame either */
		snprintf(cut, sizeof(cut), "%s/garbage.jsonl.zst", tmp);
		write_file(cut, "{\"a\":1}\n", 8);
		assert_int_not_equal(merge_in_lines(cut, count_line, &c, NULL, &err), BINLOG_OK);
		assert_non_null(strstr(err.msg, cut));
		binlog_buf_free(&b);
	}

	/* A last line without '\n': plain and compressed. */
	snprintf(path, sizeof(path), "%s/nonl.jsonl", tmp);
	write_file(path, "one\ntwo\nthree", 13);
	memset(&c, 0, sizeof(c));
	assert_int_equal(merge_in_lines(path, count_line, &c, NULL, &err), BINLOG_E_TRUNCATED);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "line 3"));
	snprintf(path, sizeof(path), "%s/nonl.jsonl.zst", tmp);
	assert_int_equal(merge_out_open(path, 3, &o, &err), BINLOG_OK);
	assert_int_equal(merge_out_write(o, "one\ntwo\nthree", 13, &err), BINLOG_OK);
	assert_int_equal(merge_out_close(o, NULL, &err), BINLOG_OK);
	memset(&c, 0, sizeof(c));
	assert_int_equal(merge_in_lines(path, count_line, &c, NULL, &err), BINLOG_E_TRUNCATED);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "line 3"));

	/* A missing file. */
	snprintf(path, sizeof(path), "%s/nope.jsonl.zst", tmp);
	missing = 0;
	assert_int_not_equal(merge_in_lines(path, count_line, &c, &missing, &err), BINLOG_OK);
	assert_int_equal(missing, 1);
	assert_non_null(strstr(err.msg, path));
	/* a directory is not a missing file */
	missing = 0;
	assert_int_not_equal(merge_in_lines(tmp, count_line, &c, &missing, &err), BINLOG_OK);
	assert_int_equal(missing, 0);
}

/* ------------------------------------------------------------------ */
/* Tables: shared helpers                                              */

/* What merge_table_read delivered: key -> {seq, line, part}; dup counts
 * keys delivered more than once. */
typedef struct seen {
	json_t *rows;
	int dup;
	int bad;
} seen_t;

static binlog_errcode_t collect(void *arg, const merge_row_t *row, const char *partition,
				const uint8_t *line, size_t n, binlog_err_t *err)
{
	seen_t *s = arg;
	char k[256];
	json_t *x;

	(void)err;
	if (row->key.n >= sizeof(k) || merge_op_deletes(row->op)) {
		s->bad++;
		return BINLOG_OK;
	}
	memcpy(k, row->key.p, row->key.n);
	k[row->key.n] = 0;
	if (json_object_get(s->rows, k))
		s->dup++;
	x = json_pack("{s:I,s:s%,s:s?}", "seq", (json_int_t)row->seq, "line", (const char *)line, n,
		      "part", partition);
	json_object_set_new(s->rows, k, x);
	return BINLOG_OK;
}

static json_t *read_table(merge_table_t *t)
{
	seen_t s = {json_object(), 0, 0};
	binlog_err_t err;

	if (merge_table_read(t, collect, &s, &err) != BINLOG_OK)
		fail_msg("merge_table_read: %s", err.msg);
	assert_int_equal(s.dup, 0);
	assert_int_equal(s.bad, 0);
	return s.rows;
}

static void files_cb(void *arg, const char *path)
{
	json_array_append_new(arg, json_string(path));
}

static json_t *table_files(merge_table_t *t)
{
	json_t *a = json_array();
	binlog_err_t err;

	if (merge_table_files(t, files_cb, a, &err) != BINLOG_OK)
		fail_msg("merge_table_files: %s", err.msg);
	return a;
}

static int in_array(json_t *a, const char *s)
{
	size_t i;
	json_t *x;

	json_array_foreach(a, i, x) if (strcmp(json_string_value(x), s) == 0) return 1;
	return 0;
}

/* Every file listed exists, and no other file is in the bucket dirs. */
static void files_match_disk(const char *dir, json_t *files, uint32_t buckets)
{
	size_t i, ondisk = 0;
	json_t *x;

	json_array_foreach(files, i, x)
	{
		const char *p = json_string_value(x);
		if (!exists("%s/%s", dir, p))
			fail_msg("%s is listed but not on disk", p);
		assert_true(p[0] == 'b' && strchr(p, '/') == p + 5);
	}
	for (uint32_t b = 0; b < buckets; b++) {
		char d[1024], rel[300];
		DIR *dd;
		struct dirent *de;
		snprintf(d, sizeof(d), "%s/b%04" PRIu32, dir, b);
		if (!(dd = opendir(d)))
			continue;
		while ((de = readdir(dd))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(rel, sizeof(rel), "b%04" PRIu32 "/%s", b, de->d_name);
			if (!in_array(files, rel))
				fail_msg("%s is on disk but not visible: a replaced file left",
					 rel);
			ondisk++;
		}
		closedir(dd);
	}
	assert_int_equal(ondisk, json_array_size(files));
}

/* Timeline files: completed, pending (requested/inflight), checkpoints. */
static void timeline_count(const char *dir, int *completed, int *pending, int *checkpoints)
{
	char d[700];
	DIR *dd;
	struct dirent *de;

	*completed = *pending = *checkpoints = 0;
	snprintf(d, sizeof(d), "%s/.sluice/timeline", dir);
	dd = opendir(d);
	assert_non_null(dd);
	while ((de = readdir(dd))) {
		const char *dot = strchr(de->d_name, '.');
		if (de->d_name[0] == '.' || !dot)
			continue;
		if (strchr(dot + 1, '.'))
			++*pending;
		else
			++*completed;
		if (strcmp(dot, ".checkpoint") == 0)
			++*checkpoints;
	}
	closedir(dd);
}

static merge_table_t *open_table(const char *dir, const merge_table_opts_t *o, int write,
				 const merge_table_tuning_t *tu)
{
	merge_table_t *t = NULL;
	binlog_err_t err;

	if (merge_table_open(dir, o, write, tu, &t, &err) != BINLOG_OK)
		fail_msg("merge_table_open %s: %s", dir, err.msg);
	return t;
}

static void commit(merge_table_t *t, merge_map_t *m, const merge_offset_t *offs, size_t n,
		   merge_commit_stats_t *st)
{
	binlog_err_t err;

	if (st)
		memset(st, 0, sizeof(*st));
	if (merge_table_commit(t, m, offs, n, st, &err) != BINLOG_OK)
		fail_msg("merge_table_commit: %s", err.msg);
}

/* ------------------------------------------------------------------ */
/* 5. Merge-on-read                                                    */

#define MOR_KEYS 300

/* The final state of evs[0..n): per key, the highest sequence; its line
 * when live. Independent of the code under test but for merge_line_put. */
static json_t *expected_state(const ev_t *evs, size_t n)
{
	const ev_t *best[MOR_KEYS + 16] = {0};
	json_t *o = json_object();
	binlog_buf_t b;

	binlog_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		const ev_t *e = &evs[i];
		assert_true(e->id >= 0 && e->id < MOR_KEYS + 16);
		if (!best[e->id] || e->seq > best[e->id]->seq)
			best[e->id] = e;
	}
	for (int id = 0; id < MOR_KEYS + 16; id++) {
		if (!best[id] || merge_op_deletes(best[id]->op))
			continue;
		ev_line(best[id], &b);
		json_object_set_new(o, best[id]->key,
				    json_pack("{s:I,s:s%}", "seq", (json_int_t)best[id]->seq,
					      "line", (const char *)b.data, b.len));
	}
	binlog_buf_free(&b);
	return o;
}

static void assert_state(json_t *got, json_t *want)
{
	const char *k;
	json_t *w;

	json_object_foreach(want, k, w)
	{
		json_t *g = json_object_get(got, k);
		if (!g)
			fail_msg("key %s is missing", k);
		if (json_integer_value(json_object_get(g, "seq")) !=
		    json_integer_value(json_object_get(w, "seq")))
			fail_msg("key %s: sequence %" JSON_INTEGER_FORMAT
				 ", not %" JSON_INTEGER_FORMAT,
				 k, json_integer_value(json_object_get(g, "seq")),
				 json_integer_value(json_object_get(w, "seq")));
		if (strcmp(json_string_value(json_object_get(g, "line")),
			   json_string_value(json_object_get(w, "line"))) != 0)
			fail_msg("key %s: line %s, not %s", k,
				 json_string_value(json_object_get(g, "line")),
				 json_string_value(json_object_get(w, "line")));
	}
	json_object_foreach(got, k, w)
	{
		if (!json_object_get(want, k))
			fail_msg("key %s should not be there (deleted or never written)", k);
	}
}

/* Random changes of keys 0..MOR_KEYS-1 with sequences from *seq on,
 * some delivered twice; shuffled. */
static size_t make_events(ev_t *evs, size_t cap, uint64_t *seq, int older)
{
	size_t n = 0;

	for (int id = 0; id < MOR_KEYS; id++) {
		int k = 1 + (int)rnd(4);
		for (int j = 0; j < k && n < cap; j++) {
			char body[160];
			int op = (int)rnd(10);
			op = op < 5   ? MERGE_OP_AFTER
			     : op < 7 ? MERGE_OP_INSERT
			     : op < 9 ? MERGE_OP_DELETE
				      : MERGE_OP_BEFORE;
			snprintf(body, sizeof(body),
				 "\"id\":%d,\"v\":%u,\"s\":\"q\\\"%u\\\\\",\"n\":null", id,
				 rnd(1000000), rnd(100));
			/* `older`: some changes below every sequence given so far */
			uint64_t s = older && rnd(3) == 0 ? 1 + rnd(50) : (*seq)++;
			ev_set(&evs[n++], id, s, op, 1718450000000 + (int64_t)s, body);
		}
	}
	for (size_t i = 0, m = n; i < m && n < cap; i++)
		if (rnd(5) == 0)
			evs[n++] = evs[i]; /* a duplicate delivery */
	for (size_t i = n; i > 1; i--) {
		size_t j = rnd((uint32_t)i);
		ev_t t = evs[i - 1];
		evs[i - 1] = evs[j];
		evs[j] = t;
	}
	return n;
}

/* Commit evs[0..n) in nb batches with offsets of two Kafka partitions. */
static void commit_batches(merge_table_t *t, const ev_t *evs, size_t n, int nb, int64_t *off0,
			   int64_t *off1, int64_t *wm0)
{
	merge_map_t *m = merge_map_new();

	for (int b = 0; b < nb; b++) {
		merge_offset_t o[2] = {{TOPIC, 0, 0, 0}, {TOPIC, 1, 0, INT64_MIN}};
		merge_commit_stats_t st;
		size_t from = n * (size_t)b / (size_t)nb, to = n * (size_t)(b + 1) / (size_t)nb;
		merge_map_reset(m);
		for (size_t i = from; i < to; i++)
			assert_true(ev_offer(m, &evs[i], 0) >= 0);
		/* partition 0 goes back in one batch: the highest counts */
		o[0].offset = b == nb - 1 ? *off0 - 5 : *off0 + 10;
		o[0].watermark_ms = b == nb - 1 ? *wm0 - 1000 : *wm0 + 1000;
		o[1].offset = *off1 + 1;
		if (o[0].offset > *off0)
			*off0 = o[0].offset;
		if (o[0].watermark_ms > *wm0)
			*wm0 = o[0].watermark_ms;
		*off1 = o[1].offset;
		commit(t, m, o, 2, &st);
		assert_true(st.rows == merge_map_count(m));
		assert_true(st.files >= 1 && st.files <= 4);
	}
	merge_map_free(m);
}

static void check_offsets(merge_table_t *t, int64_t off0, int64_t off1, int64_t wm0)
{
	merge_offset_t o;
	binlog_err_t err;

	assert_int_equal(merge_table_offset(t, TOPIC, 0, &o, &err), BINLOG_OK);
	assert_int_equal(o.offset, off0);
	assert_int_equal(o.watermark_ms, wm0);
	assert_int_equal(merge_table_offset(t, TOPIC, 1, &o, &err), BINLOG_OK);
	assert_int_equal(o.offset, off1);
	assert_true(o.watermark_ms == INT64_MIN);
	assert_int_equal(merge_table_offset(t, TOPIC, 2, &o, &err), BINLOG_OK);
	assert_int_equal(o.offset, -1);
	assert_true(o.watermark_ms == INT64_MIN);
	assert_int_equal(merge_table_offset(t, "other", 0, &o, &err), BINLOG_OK);
	assert_int_equal(o.offset, -1);
}

static void mor_table(void **state)
{
	char dir[700];
	merge_table_opts_t opts = {MERGE_TABLE_MOR, 4, NULL, 0, 0, 1};
	merge_table_tuning_t tu;
	merge_table_t *t;
	enum { CAP = MOR_KEYS * 6 };
	ev_t *evs = calloc(2 * CAP, sizeof(*evs));
	size_t n, old;
	uint64_t seq = 100, compacted = 0;
	int64_t off0 = 100, off1 = 1000, wm0 = 1718450000000;
	json_t *want, *got, *files1, *files2, *files3;
	binlog_err_t err;
	int done, pending, cps;
	size_t i;
	json_t *x;

	(void)state;
	assert_non_null(evs);
	snprintf(dir, sizeof(dir), "%s/mor", tmp);
	merge_table_tuning_default(&tu);
	tu.checkpoint_instants = 3;
	tu.clean_retain_ms = 0;
	tu.compact_files = 2;

	/* Reading a table that is not there is an error; creating needs opts. */
	assert_int_not_equal(merge_table_open(dir, NULL, 0, &tu, &t, &err), BINLOG_OK);
	assert_null(t);
	assert_non_null(strstr(err.msg, "no sluice table here"));
	t = open_table(dir, &opts, 1, &tu);
	assert_int_equal(merge_table_options(t)->buckets, 4);
	got = read_table(t);
	assert_int_equal(json_object_size(got), 0);
	json_decref(got);

	n = make_events(evs, CAP, &seq, 0);
	commit_batches(t, evs, n, 6, &off0, &off1, &wm0);
	want = expected_state(evs, n);
	assert_true(json_object_size(want) > MOR_KEYS / 4); /* the test tests something */
	assert_true(json_object_size(want) < MOR_KEYS);     /* and deletes */
	got = read_table(t);
	assert_state(got, want);
	json_decref(got);
	check_offsets(t, off0, off1, wm0);
	files1 = table_files(t);
	assert_int_equal(json_array_size(files1), 24); /* 6 commits x 4 buckets */
	files_match_disk(dir, files1, 4);

	/* A heartbeat: offsets only, no file. */
	{
		merge_offset_t o = {TOPIC, 1, off1 + 3, INT64_MIN};
		merge_commit_stats_t st;
		merge_map_t *m = merge_map_new();
		commit(t, m, &o, 1, &st);
		assert_int_equal(st.files, 0);
		assert_int_equal(st.rows, 0);
		off1 += 3;
		check_offsets(t, off0, off1, wm0);
		merge_map_free(m);
		json_t *f = table_files(t);
		assert_true(json_equal(f, files1));
		json_decref(f);
	}

	/* Compact everything, clean, checkpoint: the same view. */
	assert_int_equal(merge_table_maintain(t, 1, &compacted, &err), BINLOG_OK);
	assert_int_equal(compacted, 4);
	got = read_table(t);
	assert_state(got, want);
	json_decref(got);
	check_offsets(t, off0, off1, wm0);
	files2 = table_files(t);
	assert_int_equal(json_array_size(files2), 4);
	json_array_foreach(files2, i, x) assert_non_null(strstr(json_string_value(x), ".base."));
	json_array_foreach(files1, i, x) if (exists("%s/%s", dir, json_string_value(x)))
		fail_msg("%s was replaced but is still on disk", json_string_value(x));
	files_match_disk(dir, files2, 4);
	timeline_count(dir, &done, &pending, &cps);
	assert_int_equal(pending, 0);
	assert_int_equal(cps, 1);
	assert_int_equal(done, 1); /* the checkpoint folded the rest */

	/* More batches, older changes among them; then the usual maintenance
	 * (not `all`): compaction of buckets with >= 2 files, and a checkpoint
	 * because the timeline holds more than 3 instants. */
	old = n;
	n += make_events(evs + n, CAP, &seq, 1);
	/* the last 50 of before are delivered again (a replay) */
	commit_batches(t, evs + old - 50, n - old + 50, 4, &off0, &off1, &wm0);
	json_decref(want);
	want = expected_state(evs, n);
	got = read_table(t);
	assert_state(got, want);
	json_decref(got);
	check_offsets(t, off0, off1, wm0);
	compacted = 0;
	assert_int_equal(merge_table_maintain(t, 0, &compacted, &err), BINLOG_OK);
	assert_int_equal(compacted, 4);
	got = read_table(t);
	assert_state(got, want);
	json_decref(got);
	check_offsets(t, off0, off1, wm0);
	files3 = table_files(t);
	assert_int_equal(json_array_size(files3), 4);
	json_array_foreach(files2, i, x) assert_false(exists("%s/%s", dir, json_string_value(x)));
	files_match_disk(dir, files3, 4);
	timeline_count(dir, &done, &pending, &cps);
	assert_int_equal(pending, 0);
	assert_int_equal(cps, 1);
	assert_int_equal(done, 1);
	merge_table_close(t);

	/* A new process: read-only, then a writer; the same everything. */
	for (int w = 0; w < 2; w++) {
		json_t *f;
		t = open_table(dir, w ? &opts : NULL, w, &tu);
		got = read_table(t);
		assert_state(got, want);
		json_decref(got);
		check_offsets(t, off0, off1, wm0);
		f = table_files(t);
		assert_true(json_equal(f, files3));
		json_decref(f);
		merge_table_close(t);
	}
	/* The layout cannot change. */
	opts.buckets = 8;
	assert_int_equal(merge_table_open(dir, &opts, 1, &tu, &t, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "buckets"));
	/* nor can a read-only table be written */
	t = open_table(dir, NULL, 0, &tu);
	{
		merge_map_t *m = merge_map_new();
		assert_int_equal(merge_table_commit(t, m, NULL, 0, NULL, &err), BINLOG_E_USAGE);
		assert_int_equal(merge_table_maintain(t, 1, NULL, &err), BINLOG_E_USAGE);
		merge_map_free(m);
	}
	merge_table_close(t);
	json_decref(want);
	json_decref(files1);
	json_decref(files2);
	json_decref(files3);
	free(evs);
}

/* merge_table.h: "a file removed under it by cleaning makes it start
 * over". Cleaning (retention 0) runs while the reader is in bucket 0. */
typedef struct race {
	seen_t seen;
	merge_table_t *writer;
	int cleaned;
} race_t;

static binlog_errcode_t collect_and_clean(void *arg, const merge_row_t *row, const char *partition,
					  const uint8_t *line, size_t n, binlog_err_t *err)
{
	race_t *r = arg;

	if (!r->cleaned) {
		binlog_err_t e2;
		uint64_t c = 0;
		r->cleaned = 1;
		if (merge_table_maintain(r->writer, 1, &c, &e2) != BINLOG_OK)
			fail_msg("maintain: %s", e2.msg);
		assert_int_equal(c, 4);
	}
	return collect(&r->seen, row, partition, line, n, err);
}

/*
 * A read that cleaning runs under. With a retention longer than the read
 * (the default), the files it listed stay: it completes with the state.
 * With a retention of 0 they go: the read fails naming a file, and reading
 * again gives the state (a read never starts over by itself: rows it
 * passed on cannot be taken back).
 */
static void read_while_cleaned(const char *dir, uint64_t retain_ms)
{
	merge_table_opts_t opts = {MERGE_TABLE_MOR, 4, NULL, 0, 0, 1};
	merge_table_tuning_t tu;
	merge_table_t *w, *r;
	enum { CAP = MOR_KEYS * 6 };
	ev_t *evs = calloc(CAP, sizeof(*evs));
	uint64_t seq = 1;
	int64_t off0 = 0, off1 = 0, wm0 = 0;
	size_t n;
	json_t *want;
	race_t race;
	binlog_err_t err;
	binlog_errcode_t rc;

	assert_non_null(evs);
	merge_table_tuning_default(&tu);
	tu.clean_retain_ms = retain_ms;
	w = open_table(dir, &opts, 1, &tu);
	n = make_events(evs, CAP, &seq, 0);
	commit_batches(w, evs, n, 2, &off0, &off1, &wm0);
	want = expected_state(evs, n);
	r = open_table(dir, NULL, 0, &tu);
	memset(&race, 0, sizeof(race));
	race.seen.rows = json_object();
	race.writer = w;
	rc = merge_table_read(r, collect_and_clean, &race, &err);
	assert_int_equal(race.cleaned, 1);
	if (retain_ms) {
		if (rc != BINLOG_OK)
			fail_msg("a read within the retention failed: %s", err.msg);
	} else {
		assert_int_equal(rc, BINLOG_E_LOCAL_IO);
		assert_non_null(strstr(err.msg, "gone"));
		json_decref(race.seen.rows);
		race.seen.rows = json_object();
		rc = merge_table_read(r, collect_and_clean, &race, &err);
		if (rc != BINLOG_OK)
			fail_msg("reading again failed: %s", err.msg);
	}
	assert_state(race.seen.rows, want);
	json_decref(race.seen.rows);
	json_decref(want);
	merge_table_close(r);
	merge_table_close(w);
	free(evs);
}

static size_t log_files_found;

static int count_log_file(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_F && !strstr(p, "/.sluice/") && strstr(p, ".log"))
		log_files_found++;
	return 0;
}

/* Log files under dir, outside .sluice. */
static size_t log_files(const char *dir)
{
	log_files_found = 0;
	assert_int_equal(nftw(dir, count_log_file, 16, FTW_PHYS), 0);
	return log_files_found;
}

/*
 * A commit's files are written by several threads. They hold what one
 * thread would write; when one file cannot be written, the commit fails
 * naming it, and none of its files stays (the others are stopped or rolled
 * back), so the same batch commits once the cause is gone.
 */
static void mor_commit_threads(void **state)
{
	char dir[700], blocker[800];
	merge_table_opts_t opts = {MERGE_TABLE_MOR, 16, NULL, 0, 0, 1};
	merge_table_tuning_t tu;
	merge_table_t *t;
	enum { CAP = MOR_KEYS * 6 };
	ev_t *evs = calloc(CAP, sizeof(*evs));
	merge_map_t *m = merge_map_new();
	merge_offset_t o = {TOPIC, 0, 42, 1718450000000};
	merge_commit_stats_t st = {0};
	uint64_t seq = 100;
	size_t n;
	json_t *want, *got, *files;
	binlog_err_t err;
	int done, pending, cps;

	(void)state;
	assert_non_null(evs);
	assert_non_null(m);
	merge_table_tuning_default(&tu);
	assert_true(tu.write_threads >= 1 && tu.write_threads <= MERGE_WRITE_THREADS_MAX);
	tu.write_threads = 4;
	n = make_events(evs, CAP, &seq, 0);
	for (size_t i = 0; i < n; i++)
		assert_true(ev_offer(m, &evs[i], 0) >= 0);
	want = expected_state(evs, n);

	/* Bucket 7's directory is taken by a file: its file cannot be made. */
	snprintf(dir, sizeof(dir), "%s/threads", tmp);
	t = open_table(dir, &opts, 1, &tu);
	snprintf(blocker, sizeof(blocker), "%s/b0007", dir);
	write_file(blocker, "x", 1);
	assert_int_not_equal(merge_table_commit(t, m, &o, 1, &st, &err), BINLOG_OK);
	assert_non_null(strstr(err.msg, "b0007"));
	assert_int_equal(log_files(dir), 0);
	timeline_count(dir, &done, &pending, &cps);
	assert_int_equal(done, 0);
	assert_int_equal(pending, 0);
	got = read_table(t);
	assert_int_equal(json_object_size(got), 0);
	json_decref(got);

	/* The cause gone, the same batch commits: one file a bucket. */
	assert_int_equal(unlink(blocker), 0);
	memset(&st, 0, sizeof(st));
	commit(t, m, &o, 1, &st);
	assert_int_equal(st.rows, merge_map_count(m));
	assert_int_equal(st.files, 16);
	files = table_files(t);
	assert_int_equal(json_array_size(files), 16);
	files_match_disk(dir, files, 16);
	assert_int_equal(log_files(dir), 16);
	got = read_table(t);
	assert_state(got, want);
	json_decref(got);
	json_decref(files);
	merge_table_close(t);

	/* One thread writes the same rows. */
	snprintf(dir, sizeof(dir), "%s/one-thread", tmp);
	tu.write_threads = 1;
	t = open_table(dir, &opts, 1, &tu);
	commit(t, m, &o, 1, &st);
	got = read_table(t);
	assert_state(got, want);
	json_decref(got);
	merge_table_close(t);

	json_decref(want);
	merge_map_free(m);
	free(evs);
}

static void mor_read_while_cleaned(void **state)
{
	char dir[700];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/mor-race-kept", tmp);
	read_while_cleaned(dir, 10 * 60 * 1000);
	snprintf(dir, sizeof(dir), "%s/mor-race-gone", tmp);
	read_while_cleaned(dir, 0);
}

/* ------------------------------------------------------------------ */
/* 6. Crash recovery                                                   */

/* Write a pending deltacommit of writer w, and its data file with one row
 * of key id; returns the data file's relative path in rel. */
static void pending_instant(const char *dir, const char *id, const char *w, int key, char *rel,
			    size_t cap, int with_inflight)
{
	char p[900];
	json_t *j;
	binlog_err_t err;
	merge_out_t *o;
	binlog_buf_t b;
	ev_t e;
	char *text;

	snprintf(rel, cap, "b0001/%s.log.jsonl.zst", id);
	j = json_pack("{s:s,s:s,s:s,s:I,s:[{s:s,s:i,s:I,s:I}]}", "instant", id, "action",
		      "deltacommit", "writer", w, "time_ms", (json_int_t)cdc_wall_ms(), "offsets",
		      "topic", TOPIC, "partition", 0, "offset", (json_int_t)999999, "watermark_ms",
		      (json_int_t)4102444800000);
	text = json_dumps(j, JSON_COMPACT);
	snprintf(p, sizeof(p), "%s/.sluice/timeline/%s.deltacommit.requested", dir, id);
	assert_int_equal(cdc_write_atomic(p, text, strlen(text), CDC_WRITE_EXCLUSIVE, 1, &err),
			 BINLOG_OK);
	free(text);
	if (with_inflight) {
		json_object_set_new(j, "files", json_pack("[{s:s,s:i}]", "path", rel, "rows", 1));
		text = json_dumps(j, JSON_COMPACT);
		snprintf(p, sizeof(p), "%s/.sluice/timeline/%s.deltacommit.inflight", dir, id);
		assert_int_equal(
			cdc_write_atomic(p, text, strlen(text), CDC_WRITE_EXCLUSIVE, 1, &err),
			BINLOG_OK);
		free(text);
	}
	json_decref(j);
	snprintf(p, sizeof(p), "%s/b0001", dir);
	assert_int_equal(cdc_mkdirs(p, 0755, &err), BINLOG_OK);
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	binlog_buf_init(&b, 0);
	ev_set(&e, key, 1ull << 62, MERGE_OP_INSERT, 1, "\"id\":1,\"ghost\":true");
	{
		merge_row_t r;
		ev_row(&e, &r);
		merge_line_put(&b, &r);
	}
	assert_int_equal(merge_out_open(p, 3, &o, &err), BINLOG_OK);
	assert_int_equal(merge_out_write(o, b.data, b.len, &err), BINLOG_OK);
	assert_int_equal(merge_out_close(o, NULL, &err), BINLOG_OK);
	binlog_buf_free(&b);
}

static int pending_exists(const char *dir, const char *id)
{
	return exists("%s/.sluice/timeline/%s.deltacommit.requested", dir, id) +
	       exists("%s/.sluice/timeline/%s.deltacommit.inflight", dir, id);
}

static void mor_crash_recovery(void **state)
{
	char dir[700], rel[256], rel2[256], rel3[256], p[900];
	merge_table_opts_t opts = {MERGE_TABLE_MOR, 4, NULL, 0, 0, 1};
	merge_table_tuning_t tu;
	merge_table_t *t;
	merge_map_t *m = merge_map_new();
	json_t *got, *files;
	merge_offset_t off = {TOPIC, 0, 10, 1000};
	ev_t e;
	const char *dead = "20240101000000000_deadbeef";
	const char *alive = "20240101000000001_cafebabe";
	const char *unlocked = "20240101000000002_0b501e7e";
	int lfd, d, pend, cps;
	binlog_err_t err;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/crash", tmp);
	merge_table_tuning_default(&tu);
	t = open_table(dir, &opts, 1, &tu);
	ev_set(&e, 1, 5, MERGE_OP_INSERT, 1, "\"id\":1");
	assert_int_equal(ev_offer(m, &e, 0), 1);
	commit(t, m, &off, 1, NULL);
	merge_table_close(t);

	/* A dead writer's instant (no lock file at all), a live writer's
	 * (its lock held), and one whose lock file is there but not held. */
	pending_instant(dir, dead, "deadbeef", 2, rel, sizeof(rel), 1);
	pending_instant(dir, alive, "cafebabe", 3, rel2, sizeof(rel2), 1);
	pending_instant(dir, unlocked, "0b501e7e", 4, rel3, sizeof(rel3), 1);
	snprintf(p, sizeof(p), "%s/.sluice/writers/cafebabe.lock", dir);
	lfd = open(p, O_RDWR | O_CREAT, 0644);
	assert_true(lfd >= 0);
	assert_int_equal(flock(lfd, LOCK_EX | LOCK_NB), 0);
	snprintf(p, sizeof(p), "%s/.sluice/writers/0b501e7e.lock", dir);
	close(open(p, O_RDWR | O_CREAT, 0644));

	/* A reader sees none of them, nor their offsets. */
	t = open_table(dir, NULL, 0, &tu);
	got = read_table(t);
	assert_int_equal(json_object_size(got), 1);
	assert_non_null(json_object_get(got, "[\"shop\",\"orders\",1]"));
	json_decref(got);
	files = table_files(t);
	assert_int_equal(json_array_size(files), 1);
	assert_false(in_array(files, rel));
	json_decref(files);
	{
		merge_offset_t o;
		assert_int_equal(merge_table_offset(t, TOPIC, 0, &o, &err), BINLOG_OK);
		assert_int_equal(o.offset, 10);
		assert_int_equal(o.watermark_ms, 1000);
	}
	merge_table_close(t);
	/* and a read-only open changes nothing */
	assert_int_equal(pending_exists(dir, dead), 2);
	assert_true(exists("%s/%s", dir, rel));

	/* A writer rolls back the dead ones, leaves the live one. */
	t = open_table(dir, NULL, 1, &tu);
	assert_int_equal(pending_exists(dir, dead), 0);
	assert_false(exists("%s/%s", dir, rel));
	assert_int_equal(pending_exists(dir, unlocked), 0);
	assert_false(exists("%s/%s", dir, rel3));
	assert_false(exists("%s/.sluice/writers/0b501e7e.lock", dir));
	assert_int_equal(pending_exists(dir, alive), 2);
	assert_true(exists("%s/%s", dir, rel2));
	assert_true(exists("%s/.sluice/writers/cafebabe.lock", dir));
	got = read_table(t);
	assert_int_equal(json_object_size(got), 1);
	json_decref(got);
	/* maintenance leaves it alone too */
	assert_int_equal(merge_table_maintain(t, 1, NULL, &err), BINLOG_OK);
	assert_int_equal(pending_exists(dir, alive), 2);
	assert_true(exists("%s/%s", dir, rel2));
	merge_table_close(t);

	/* Once that writer is gone, the next writer rolls it back. */
	close(lfd);
	t = open_table(dir, NULL, 1, &tu);
	assert_int_equal(pending_exists(dir, alive), 0);
	assert_false(exists("%s/%s", dir, rel2));
	got = read_table(t);
	assert_int_equal(json_object_size(got), 1);
	json_decref(got);
	merge_table_close(t);
	timeline_count(dir, &d, &pend, &cps);
	assert_int_equal(pend, 0);

	/* A writer that died after .requested only: its markers go. */
	pending_instant(dir, "20240101000000003_dead0002", "dead0002", 5, rel, sizeof(rel), 0);
	t = open_table(dir, NULL, 1, &tu);
	assert_int_equal(pending_exists(dir, "20240101000000003_dead0002"), 0);
	merge_table_close(t);
	merge_map_free(m);
}

/* ------------------------------------------------------------------ */
/* 7. Hive                                                             */

#define HOUR_MS 3600000LL
/* 2024-06-15 13:00:00 UTC */
#define H13 1718456400000LL

static void hive_ev(ev_t *e, int id, uint64_t seq, int op, int hour, int minute)
{
	char body[192];

	snprintf(body, sizeof(body),
		 "\"id\":%d,\"ts\":\"2024-06-15 %02d:%02d:00\",\"v\":%d,"
		 "\"note\":\"a\\nb\\\\c\\td\",\"nul\":null",
		 id, hour, minute, (int)seq);
	ev_set(e, id, seq, op, H13 + (hour - 13) * HOUR_MS + minute * 60000LL, body);
}

/* Gather a file's lines into a buffer, '\n' after each. */
static binlog_errcode_t gather(void *arg, const uint8_t *line, size_t n, binlog_err_t *err)
{
	(void)err;
	binlog_buf_put(arg, line, n);
	binlog_buf_putc(arg, '\n');
	return BINLOG_OK;
}

/* The keys (ids) in the data files of one partition, read directly:
 * "1,3,7". */
static void part_keys(const char *dir, const char *part, int text, char *out, size_t cap)
{
	char d[900], f[1200];
	DIR *dd;
	struct dirent *de;
	int ids[512], n = 0;
	binlog_buf_t s;
	size_t at = 0;

	out[0] = 0;
	snprintf(d, sizeof(d), "%s/%s", dir, part);
	if (!(dd = opendir(d)))
		return;
	binlog_buf_init(&s, 0);
	while ((de = readdir(dd))) {
		binlog_buf_t all;
		binlog_err_t err;
		size_t i = 0;
		if (de->d_name[0] == '.' || de->d_name[0] == '_')
			continue;
		snprintf(f, sizeof(f), "%s/%s", d, de->d_name);
		binlog_buf_init(&all, 0);
		if (merge_in_lines(f, gather, &all, NULL, &err) != BINLOG_OK)
			fail_msg("%s: %s", f, err.msg);
		while (i < all.len) {
			uint8_t *nl = memchr(all.data + i, '\n', all.len - i);
			size_t len = (size_t)(nl - (all.data + i));
			int id;
			if (text) {
				uint8_t *sep = memchr(all.data + i, 1, len);
				assert_non_null(sep);
				id = key_id(all.data + i, (size_t)(sep - (all.data + i)));
			} else {
				merge_row_t r;
				assert_int_equal(merge_line_parse(all.data + i, len, &s, &r, &err),
						 BINLOG_OK);
				id = key_id(r.key.p, r.key.n);
			}
			assert_true(id >= 0 && n < 512);
			ids[n++] = id;
			i += len + 1;
		}
		binlog_buf_free(&all);
	}
	closedir(dd);
	binlog_buf_free(&s);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (ids[j] < ids[i]) {
				int x = ids[i];
				ids[i] = ids[j];
				ids[j] = x;
			}
	for (int i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s%d", i ? "," : "", ids[i]);
}

static int data_files(const char *dir, const char *part)
{
	char d[900];
	DIR *dd;
	struct dirent *de;
	int n = 0;

	snprintf(d, sizeof(d), "%s/%s", dir, part);
	if (!(dd = opendir(d)))
		return -1;
	while ((de = readdir(dd)))
		n += de->d_name[0] != '.' && de->d_name[0] != '_';
	closedir(dd);
	return n;
}

/* merge_table_read as "id@hr,..." sorted by id, checking each row. */
static void read_hive(merge_table_t *t, int text, char *out, size_t cap)
{
	json_t *got = read_table(t);
	int ids[512], n = 0;
	char hrs[512][3];
	const char *k;
	json_t *x;
	size_t at = 0;

	json_object_foreach(got, k, x)
	{
		const char *part = json_string_value(json_object_get(x, "part"));
		const char *line = json_string_value(json_object_get(x, "line"));
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		int id = key_id((const uint8_t *)k, strlen(k));
		assert_true(id >= 0 && n < 512);
		assert_non_null(part);
		if (!j)
			fail_msg("not JSON: %s", line);
		/* the row is in the partition of its "ts" */
		{
			const char *ts = json_string_value(json_object_get(j, "ts"));
			char want[64];
			assert_non_null(ts);
			snprintf(want, sizeof(want), "dt=%.10s/hr=%.2s", ts, ts + 11);
			assert_string_equal(part, want);
		}
		assert_string_equal(json_string_value(json_object_get(j, "note")), "a\nb\\c\td");
		assert_true(json_is_null(json_object_get(j, "nul")));
		assert_string_equal(json_string_value(json_object_get(j, "_sluice_key")), k);
		if (text) {
			char want[16];
			snprintf(want, sizeof(want), "%d", id);
			assert_true(json_is_string(json_object_get(j, "id")));
			assert_string_equal(json_string_value(json_object_get(j, "id")), want);
			assert_true(json_is_string(json_object_get(j, "v")));
		} else {
			assert_true(json_is_integer(json_object_get(j, "id")));
			assert_int_equal(json_integer_value(json_object_get(j, "id")), id);
		}
		/* the sequence is the row's */
		assert_int_equal(json_integer_value(json_object_get(x, "seq")),
				 text ? atoll(json_string_value(json_object_get(j, "v")))
				      : json_integer_value(json_object_get(j, "v")));
		json_decref(j);
		ids[n] = id;
		memcpy(hrs[n], part + strlen(part) - 2, 2);
		hrs[n][2] = 0;
		n++;
	}
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (ids[j] < ids[i]) {
				int xi = ids[i];
				char h[3];
				ids[i] = ids[j];
				ids[j] = xi;
				memcpy(h, hrs[i], 3);
				memcpy(hrs[i], hrs[j], 3);
				memcpy(hrs[j], h, 3);
			}
	out[0] = 0;
	for (int i = 0; i < n; i++)
		at += (size_t)snprintf(out + at, cap - at, "%s%d@%s", i ? "," : "", ids[i], hrs[i]);
	json_decref(got);
}

#define P13 "dt=2024-06-15/hr=13"
#define P14 "dt=2024-06-15/hr=14"

static void hive_check(const char *dir, merge_table_t *t, int text, const char *in13,
		       const char *in14, const char *all)
{
	char got[1024];

	part_keys(dir, P13, text, got, sizeof(got));
	assert_string_equal(got, in13);
	part_keys(dir, P14, text, got, sizeof(got));
	assert_string_equal(got, in14);
	read_hive(t, text, got, sizeof(got));
	assert_string_equal(got, all);
}

static void hive_commit_evs(merge_table_t *t, const ev_t *evs, size_t n, int64_t wm,
			    merge_commit_stats_t *st)
{
	merge_map_t *m = merge_map_new();
	static int64_t off;
	merge_offset_t o[2] = {{TOPIC, 0, 0, wm}, {TOPIC, 1, 0, wm}};

	for (size_t i = 0; i < n; i++)
		assert_true(ev_offer(m, &evs[i], 0) >= 0);
	o[0].offset = ++off;
	o[1].offset = ++off;
	commit(t, m, o, 2, st);
	merge_map_free(m);
}

/*
 * The Hive scenario, in either format. `compactions`: run the steps that
 * rewrite a partition with no new rows (merge_table_maintain, and closing
 * an hour of two files for _SUCCESS); without, key 8 goes to 14:00 so that
 * 13:00 closes with one file.
 */
static void hive_table(int text, int compactions)
{
	char dir[700], in13[64], in14[64], all[128];
	merge_table_opts_t opts = {MERGE_TABLE_HIVE,
				   1,
				   "ts",
				   MERGE_GRAN_HOUR,
				   text ? MERGE_FMT_TEXT : MERGE_FMT_JSONL,
				   1};
	merge_table_tuning_t tu;
	merge_table_t *t;
	merge_commit_stats_t st;
	ev_t evs[8];
	int64_t wm = H13 + 30 * 60000; /* 13:30: nothing is complete */
	binlog_err_t err;
	uint64_t compacted = 0;
	int h8 = compactions ? 13 : 14;

	snprintf(dir, sizeof(dir), "%s/hive-%s", tmp, text ? "text" : "jsonl");
	merge_table_tuning_default(&tu);
	tu.clean_retain_ms = 0;
	tu.checkpoint_instants = 3;
	t = open_table(dir, &opts, 1, &tu);
	merge_table_set_partitions(t, TOPIC, 2);

	/* (a) rows in two hours */
	for (int i = 0; i < 6; i++)
		hive_ev(&evs[i], i + 1, 10 + (uint64_t)i, MERGE_OP_INSERT, i < 3 ? 13 : 14, 5 + i);
	hive_commit_evs(t, evs, 6, wm, &st);
	assert_int_equal(st.rows, 6);
	assert_int_equal(st.stale, 0);
	assert_int_equal(st.partitions, 2);
	hive_check(dir, t, text, "1,2,3", "4,5,6", "1@13,2@13,3@13,4@14,5@14,6@14");

	/* (b) key 2 moves to 14:00 */
	hive_ev(&evs[0], 2, 20, MERGE_OP_AFTER, 14, 40);
	hive_commit_evs(t, evs, 1, wm, &st);
	hive_check(dir, t, text, "1,3", "2,4,5,6", "1@13,2@14,3@13,4@14,5@14,6@14");

	/* (c) key 5 is deleted */
	hive_ev(&evs[0], 5, 30, MERGE_OP_DELETE, 14, 0);
	evs[0].body[0] = 0;
	hive_commit_evs(t, evs, 1, wm, &st);
	hive_check(dir, t, text, "1,3", "2,4,6", "1@13,2@14,3@13,4@14,6@14");

	/* (d) older changes come late: for the deleted key, and for key 1 */
	hive_ev(&evs[0], 5, 25, MERGE_OP_AFTER, 13, 50);
	hive_ev(&evs[1], 1, 9, MERGE_OP_AFTER, 14, 50);
	hive_commit_evs(t, evs, 2, wm, &st);
	assert_int_equal(st.stale, 2);
	hive_check(dir, t, text, "1,3", "2,4,6", "1@13,2@14,3@13,4@14,6@14");

	/* (e) duplicates: of earlier batches, and twice in one batch (a new
	 * key 7, which gives 14:00 a second file) */
	hive_ev(&evs[0], 3, 12, MERGE_OP_INSERT, 13, 7);
	hive_ev(&evs[1], 2, 20, MERGE_OP_AFTER, 14, 40);
	hive_ev(&evs[2], 5, 30, MERGE_OP_DELETE, 14, 0);
	evs[2].body[0] = 0;
	hive_ev(&evs[3], 7, 40, MERGE_OP_INSERT, 14, 59);
	evs[4] = evs[3];
	hive_commit_evs(t, evs, 5, wm, &st);
	assert_int_equal(st.stale, 3);
	assert_int_equal(st.rows, 1);
	hive_check(dir, t, text, "1,3", "2,4,6,7", "1@13,2@14,3@13,4@14,6@14,7@14");
	assert_int_equal(data_files(dir, P14), 2);

	/* A new process sees the same, and still knows what is stale. */
	merge_table_close(t);
	t = open_table(dir, NULL, 1, &tu);
	merge_table_set_partitions(t, TOPIC, 2);
	hive_ev(&evs[0], 5, 29, MERGE_OP_INSERT, 13, 1);
	hive_ev(&evs[1], 2, 19, MERGE_OP_INSERT, 13, 1);
	hive_commit_evs(t, evs, 2, wm, &st);
	assert_int_equal(st.stale, 2);
	hive_check(dir, t, text, "1,3", "2,4,6,7", "1@13,2@14,3@13,4@14,6@14,7@14");
	if (compactions) {
		/* compacting everything (the key index included) changes nothing
		 * but the number of files */
		assert_int_equal(merge_table_maintain(t, 1, &compacted, &err), BINLOG_OK);
		assert_true(compacted >= 1);
		hive_check(dir, t, text, "1,3", "2,4,6,7", "1@13,2@14,3@13,4@14,6@14,7@14");
		assert_int_equal(data_files(dir, P14), 1);
		merge_table_close(t);
		t = open_table(dir, NULL, 1, &tu);
		merge_table_set_partitions(t, TOPIC, 2);
		hive_ev(&evs[0], 5, 29, MERGE_OP_INSERT, 13, 1);
		hive_commit_evs(t, evs, 1, wm, &st);
		assert_int_equal(st.stale, 1);
		hive_check(dir, t, text, "1,3", "2,4,6,7", "1@13,2@14,3@13,4@14,6@14,7@14");
	}

	/* Key 8: with compactions, a second file in 13:00, which must be
	 * closed with one. */
	hive_ev(&evs[0], 8, 50, MERGE_OP_INSERT, h8, 30);
	hive_commit_evs(t, evs, 1, wm, &st);
	assert_int_equal(data_files(dir, P13), compactions ? 2 : 1);
	snprintf(in13, sizeof(in13), "%s", compactions ? "1,3,8" : "1,3");
	snprintf(in14, sizeof(in14), "%s", compactions ? "2,4,6,7" : "2,4,6,7,8");
	snprintf(all, sizeof(all), "1@13,2@14,3@13,4@14,6@14,7@14,8@%d", h8);
	hive_check(dir, t, text, in13, in14, all);

	/* _SUCCESS: 13:00 ends at 14:00, plus the delay; the watermark is the
	 * lowest of the topic's two partitions. */
	{
		int64_t end = H13 + HOUR_MS + (int64_t)tu.success_delay_ms;
		merge_map_t *m = merge_map_new();
		merge_offset_t o = {TOPIC, 0, 100, end + 1};
		/* one partition past it: not enough */
		commit(t, m, &o, 1, &st);
		assert_int_equal(st.successes, 0);
		assert_false(exists("%s/" P13 "/_SUCCESS", dir));
		/* the other just short of it: not enough */
		o.partition = 1;
		o.watermark_ms = end - 1;
		commit(t, m, &o, 1, &st);
		assert_int_equal(st.successes, 0);
		assert_false(exists("%s/" P13 "/_SUCCESS", dir));
		/* both past it */
		o.watermark_ms = end + 1;
		commit(t, m, &o, 1, &st);
		assert_int_equal(st.successes, 1);
		assert_true(exists("%s/" P13 "/_SUCCESS", dir));
		assert_false(exists("%s/" P14 "/_SUCCESS", dir));
		/* closed with one file */
		assert_int_equal(data_files(dir, P13), 1);
		merge_map_free(m);
	}
	hive_check(dir, t, text, in13, in14, all);
	/* A late change to a closed hour is applied; the marker stays. */
	hive_ev(&evs[0], 9, 60, MERGE_OP_INSERT, 13, 31);
	hive_commit_evs(t, evs, 1, wm, &st);
	assert_true(exists("%s/" P13 "/_SUCCESS", dir));
	snprintf(in13, sizeof(in13), "%s", compactions ? "1,3,8,9" : "1,3,9");
	snprintf(all, sizeof(all), "1@13,2@14,3@13,4@14,6@14,7@14,8@%d,9@13", h8);
	hive_check(dir, t, text, in13, in14, all);
	merge_table_close(t);

	/* A reader of its own. */
	t = open_table(dir, NULL, 0, &tu);
	hive_check(dir, t, text, in13, in14, all);
	{
		json_t *f = table_files(t);
		size_t i;
		json_t *x;
		assert_true(json_array_size(f) >= 2);
		json_array_foreach(f, i, x)
		{
			const char *p = json_string_value(x);
			assert_true(strncmp(p, "dt=2024-06-15/hr=1", 18) == 0);
			assert_true(exists("%s/%s", dir, p));
			assert_null(strstr(p, "_SUCCESS"));
		}
		json_decref(f);
	}
	merge_table_close(t);
}

static void hive_jsonl(void **state)
{
	(void)state;
	hive_table(0, 1);
}

static void hive_text(void **state)
{
	(void)state;
	hive_table(1, 0);
}

/* The same with the partition rewrites, in text. */
static void hive_text_compactions(void **state)
{
	(void)state;
	hive_table(1, 1);
}

/* In text, an hour of two files closed for _SUCCESS (what the merger does
 * on its own, at a commit). */
static void hive_text_success_closes(void **state)
{
	char dir[700];
	merge_table_opts_t opts = {MERGE_TABLE_HIVE, 1, "ts", MERGE_GRAN_HOUR, MERGE_FMT_TEXT, 1};
	merge_table_tuning_t tu;
	merge_table_t *t;
	merge_commit_stats_t st;
	ev_t e;
	merge_map_t *m = merge_map_new();
	merge_offset_t o = {TOPIC, 0, 1, 0};

	(void)state;
	snprintf(dir, sizeof(dir), "%s/hive-text-success", tmp);
	merge_table_tuning_default(&tu);
	t = open_table(dir, &opts, 1, &tu);
	merge_table_set_partitions(t, TOPIC, 1);
	hive_ev(&e, 1, 10, MERGE_OP_INSERT, 13, 5);
	hive_commit_evs(t, &e, 1, INT64_MIN, &st);
	hive_ev(&e, 2, 11, MERGE_OP_INSERT, 13, 6);
	hive_commit_evs(t, &e, 1, INT64_MIN, &st);
	assert_int_equal(data_files(dir, P13), 2);
	o.watermark_ms = H13 + HOUR_MS + (int64_t)tu.success_delay_ms + 1;
	commit(t, m, &o, 1, &st);
	assert_int_equal(st.successes, 1);
	assert_true(exists("%s/" P13 "/_SUCCESS", dir));
	assert_int_equal(data_files(dir, P13), 1);
	merge_table_close(t);
	merge_map_free(m);
}

/* Where a row goes: the partition-by column as a date, a date and time,
 * epoch seconds or milliseconds; else the default partition; without a
 * column, the commit time. */
static void hive_partition_of(void **state)
{
	static const struct {
		const char *body;
		const char *hour, *day;
	} cases[] = {
		{"\"ts\":\"2024-06-15 13:05:00\"", "dt=2024-06-15/hr=13", "dt=2024-06-15"},
		{"\"ts\":\"2024-06-15T23:59:59.999\"", "dt=2024-06-15/hr=23", "dt=2024-06-15"},
		{"\"ts\":\"2024-06-15\"", "dt=2024-06-15/hr=00", "dt=2024-06-15"},
		{"\"a\":1,\"ts\":1718456700", "dt=2024-06-15/hr=13", "dt=2024-06-15"},
		{"\"ts\":1718456700123,\"b\":2", "dt=2024-06-15/hr=13", "dt=2024-06-15"},
		{"\"ts\":-1", "dt=1969-12-31/hr=23", "dt=1969-12-31"},
		{"\"ts\":null", "dt=__HIVE_DEFAULT_PARTITION__/hr=__HIVE_DEFAULT_PARTITION__",
		 "dt=__HIVE_DEFAULT_PARTITION__"},
		{"\"ts\":\"soon\"", "dt=__HIVE_DEFAULT_PARTITION__/hr=__HIVE_DEFAULT_PARTITION__",
		 "dt=__HIVE_DEFAULT_PARTITION__"},
		{"\"id\":1", "dt=__HIVE_DEFAULT_PARTITION__/hr=__HIVE_DEFAULT_PARTITION__",
		 "dt=__HIVE_DEFAULT_PARTITION__"},
		{"\"tsx\":\"2024-06-15 13:05:00\"",
		 "dt=__HIVE_DEFAULT_PARTITION__/hr=__HIVE_DEFAULT_PARTITION__",
		 "dt=__HIVE_DEFAULT_PARTITION__"},
	};
	char dir[700], buf[128];
	merge_table_tuning_t tu;

	(void)state;
	merge_table_tuning_default(&tu);
	for (int g = 0; g < 2; g++) {
		merge_table_opts_t opts = {MERGE_TABLE_HIVE, 1, "ts", g, MERGE_FMT_JSONL, 0};
		merge_table_t *t;
		ev_t e;
		merge_row_t r;
		snprintf(dir, sizeof(dir), "%s/part-%d", tmp, g);
		t = open_table(dir, &opts, 0, &tu);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			ev_set(&e, 1, 1, MERGE_OP_INSERT, H13 + 5 * HOUR_MS, cases[i].body);
			ev_row(&e, &r);
			merge_table_partition_of(t, &r, buf, sizeof(buf));
			if (strcmp(buf, g ? cases[i].day : cases[i].hour) != 0)
				fail_msg("{%s}: %s, not %s", cases[i].body, buf,
					 g ? cases[i].day : cases[i].hour);
		}
		merge_table_close(t);
		/* no partition-by column: the commit time */
		opts.partition_by = NULL;
		snprintf(dir, sizeof(dir), "%s/part-ts-%d", tmp, g);
		t = open_table(dir, &opts, 0, &tu);
		ev_set(&e, 1, 1, MERGE_OP_INSERT, H13 + 5 * HOUR_MS, "\"ts\":\"2020-01-01\"");
		ev_row(&e, &r);
		merge_table_partition_of(t, &r, buf, sizeof(buf));
		assert_string_equal(buf, g ? "dt=2024-06-15" : "dt=2024-06-15/hr=18");
		merge_table_close(t);
	}
}

/* Hours with no rows since the table was created get a directory with
 * _SUCCESS, so that a job waiting for each hour is not stuck. */
static void hive_empty_hours(void **state)
{
	char dir[700], name[3][64];
	merge_table_opts_t opts = {MERGE_TABLE_HIVE, 1, "ts", MERGE_GRAN_HOUR, MERGE_FMT_JSONL, 1};
	merge_table_tuning_t tu;
	merge_table_t *t;
	merge_commit_stats_t st;
	merge_map_t *m = merge_map_new();
	int64_t hour;
	merge_offset_t o = {TOPIC, 0, 1, 0};

	(void)state;
	snprintf(dir, sizeof(dir), "%s/hive-empty", tmp);
	merge_table_tuning_default(&tu);
	t = open_table(dir, &opts, 1, &tu);
	merge_table_set_partitions(t, TOPIC, 2);
	hour = cdc_wall_ms() / HOUR_MS * HOUR_MS;
	for (int i = 0; i < 3; i++) {
		time_t sec = (time_t)((hour + i * HOUR_MS) / 1000);
		struct tm tm;
		gmtime_r(&sec, &tm);
		strftime(name[i], sizeof(name[i]), "dt=%Y-%m-%d/hr=%H", &tm);
	}
	/* the hour of now and the next are over; the one after is not; but
	 * only once every partition of the topic has said so */
	o.watermark_ms = hour + 2 * HOUR_MS + (int64_t)tu.success_delay_ms + 1;
	commit(t, m, &o, 1, &st);
	assert_int_equal(st.successes, 0);
	assert_false(exists("%s/%s/_SUCCESS", dir, name[0]));
	o.partition = 1;
	commit(t, m, &o, 1, &st);
	assert_true(st.successes >= 2);
	assert_true(exists("%s/%s/_SUCCESS", dir, name[0]));
	assert_true(exists("%s/%s/_SUCCESS", dir, name[1]));
	assert_false(exists("%s/%s/_SUCCESS", dir, name[2]));
	assert_int_equal(data_files(dir, name[0]), 0);
	merge_table_close(t);
	merge_map_free(m);
}

/* A string with control characters (the record writer escapes them as
 * \u00XX) reads back from a text table as it went in. */
static void hive_text_control_chars(void **state)
{
	char dir[700];
	merge_table_opts_t opts = {MERGE_TABLE_HIVE, 1, "ts", MERGE_GRAN_HOUR, MERGE_FMT_TEXT, 0};
	merge_table_tuning_t tu;
	merge_table_t *t;
	merge_map_t *m = merge_map_new();
	ev_t e;
	json_t *got, *row, *j;
	json_error_t je;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/hive-ctl", tmp);
	merge_table_tuning_default(&tu);
	t = open_table(dir, &opts, 1, &tu);
	ev_set(&e, 1, 5, MERGE_OP_INSERT, H13,
	       "\"id\":1,\"ts\":\"2024-06-15 13:00:00\",\"s\":\"x\\u0001y\\u001fz\\u0022q\"");
	assert_int_equal(ev_offer(m, &e, 0), 1);
	commit(t, m, NULL, 0, NULL);
	got = read_table(t);
	row = json_object_get(got, e.key);
	assert_non_null(row);
	j = json_loads(json_string_value(json_object_get(row, "line")), 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "s")), "x\001y\037z\"q");
	json_decref(j);
	json_decref(got);
	merge_table_close(t);
	merge_map_free(m);
}

/* The error a missing table gives: the code returned is the one in err
 * (the message says "no sluice table here"). */
static void open_no_table(void **state)
{
	char dir[700];
	merge_table_t *t = NULL;
	binlog_err_t err;
	binlog_errcode_t rc;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/none", tmp);
	memset(&err, 0, sizeof(err));
	rc = merge_table_open(dir, NULL, 0, NULL, &t, &err);
	assert_null(t);
	assert_non_null(strstr(err.msg, "no sluice table here"));
	assert_int_equal(rc, err.code);
	assert_int_equal(rc, BINLOG_E_USAGE);
}

/* ------------------------------------------------------------------ */
/* 8. Hive: a completed commit not yet exchanged                       */

/* Where path stands in the "partitions" of the newest completed commit. */
static int exchange_rank(const char *dir, const char *path)
{
	char d[800], best[256] = "", f[1200];
	DIR *dd;
	struct dirent *de;
	json_t *meta, *x;
	json_error_t je;
	size_t i;
	int rank = -1;

	snprintf(d, sizeof(d), "%s/.sluice/timeline", dir);
	assert_non_null(dd = opendir(d));
	while ((de = readdir(dd))) {
		size_t n = strlen(de->d_name);
		if (n > 7 && strcmp(de->d_name + n - 7, ".commit") == 0 &&
		    strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(dd);
	assert_true(best[0]);
	snprintf(f, sizeof(f), "%s/%s", d, best);
	assert_non_null(meta = json_load_file(f, 0, &je));
	json_array_foreach(json_object_get(meta, "partitions"), i, x)
	{
		if (strcmp(json_string_value(json_object_get(x, "path")), path) == 0)
			rank = (int)i;
	}
	json_decref(meta);
	assert_true(rank >= 0);
	return rank;
}

/*
 * A batch that moves keys along a chain of partitions (hour h0 -> h1 ->
 * h2), with an update staying in h1: each partition
 * is exchanged after the ones its keys come from, so no moving key is ever
 * in two partitions; the rows end where they belong. Key a moves first in
 * the chain, b second. Run both ways round and in both directions, so
 * that the batch's own order of partitions is wrong in some of them.
 */
static void hive_move_chain(int a, int b, int h0, int h1, int h2)
{
	char dir[700], got[256], want[32], p[3][32];
	merge_table_opts_t opts = {MERGE_TABLE_HIVE, 1, "ts", MERGE_GRAN_HOUR, MERGE_FMT_JSONL, 1};
	merge_table_tuning_t tu;
	merge_table_t *t;
	ev_t evs[5];
	merge_commit_stats_t st;
	int h[3] = {h0, h1, h2};

	for (int i = 0; i < 3; i++)
		snprintf(p[i], sizeof(p[i]), "dt=2024-06-15/hr=%02d", h[i]);
	snprintf(dir, sizeof(dir), "%s/hive-moves-%d%d-%d", tmp, a, b, h0);
	merge_table_tuning_default(&tu);
	t = open_table(dir, &opts, 1, &tu);
	hive_ev(&evs[0], a, 10, MERGE_OP_INSERT, h0, 1);
	hive_ev(&evs[1], b, 11, MERGE_OP_INSERT, h1, 2);
	hive_ev(&evs[2], 3, 12, MERGE_OP_INSERT, h2, 3);
	hive_ev(&evs[3], 4, 13, MERGE_OP_INSERT, h1, 4);
	hive_commit_evs(t, evs, 4, INT64_MIN, &st);

	hive_ev(&evs[0], a, 20, MERGE_OP_AFTER, h1, 1); /* h0 -> h1 */
	hive_ev(&evs[1], b, 21, MERGE_OP_AFTER, h2, 2); /* h1 -> h2 */
	hive_ev(&evs[2], 4, 22, MERGE_OP_AFTER, h1, 5); /* stays in h1 */
	hive_commit_evs(t, evs, 3, INT64_MIN, &st);
	assert_true(exchange_rank(dir, p[0]) < exchange_rank(dir, p[1]));
	assert_true(exchange_rank(dir, p[1]) < exchange_rank(dir, p[2]));
	merge_table_close(t);
	part_keys(dir, p[0], 0, got, sizeof(got));
	assert_string_equal(got, "");
	part_keys(dir, p[1], 0, got, sizeof(got));
	snprintf(want, sizeof(want), "%d,4", a);
	assert_string_equal(got, want);
	part_keys(dir, p[2], 0, got, sizeof(got));
	snprintf(want, sizeof(want), "%d,3", b);
	assert_string_equal(got, want);
}

static void hive_move_order(void **state)
{
	(void)state;
	hive_move_chain(1, 2, 13, 14, 15);
	hive_move_chain(2, 1, 13, 14, 15);
	hive_move_chain(1, 2, 15, 14, 13);
	hive_move_chain(2, 1, 15, 14, 13);
}

static void hive_crash_finish(void **state)
{
	char dir[700], p[1200], got[256];
	merge_table_opts_t opts = {MERGE_TABLE_HIVE, 1, "ts", MERGE_GRAN_HOUR, MERGE_FMT_JSONL, 1};
	merge_table_tuning_t tu;
	merge_table_t *t;
	ev_t evs[2];
	merge_commit_stats_t st;
	const char *id = "20240615150000000_0badf00d";
	const char *staged = "dt=2024-06-15/.hr=13.20240615150000000_0badf00d";
	const char *staged16 = "dt=2024-06-16/.hr=00.20240615150000000_0badf00d";
	json_t *meta;
	char *text;
	binlog_err_t err;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/hive-crash", tmp);
	merge_table_tuning_default(&tu);
	t = open_table(dir, &opts, 1, &tu);
	hive_ev(&evs[0], 1, 10, MERGE_OP_INSERT, 13, 5);
	hive_commit_evs(t, evs, 1, INT64_MIN, &st);
	merge_table_close(t);
	part_keys(dir, P13, 0, got, sizeof(got));
	assert_string_equal(got, "1");

	/* The staged directories of a commit that completed: hr=13 replacing
	 * the old one, and a partition that does not exist yet. */
	for (int k = 0; k < 2; k++) {
		merge_out_t *o;
		binlog_buf_t b;
		merge_row_t r;
		snprintf(p, sizeof(p), "%s/%s", dir, k ? staged16 : staged);
		assert_int_equal(cdc_mkdirs(p, 0755, &err), BINLOG_OK);
		snprintf(p, sizeof(p), "%s/%s/.sluice_commit", dir, k ? staged16 : staged);
		assert_int_equal(cdc_write_atomic(p, id, strlen(id), CDC_WRITE_EXCLUSIVE, 1, &err),
				 BINLOG_OK);
		snprintf(p, sizeof(p), "%s/%s/part-%s.jsonl.zst", dir, k ? staged16 : staged, id);
		binlog_buf_init(&b, 0);
		if (k) {
			char body[128];
			snprintf(body, sizeof(body),
				 "\"id\":3,\"ts\":\"2024-06-16 00:10:00\",\"v\":3");
			ev_set(&evs[1], 3, 3, MERGE_OP_INSERT, 1, body);
		} else {
			hive_ev(&evs[1], 2, 11, MERGE_OP_INSERT, 13, 6);
		}
		ev_row(&evs[1], &r);
		merge_line_put(&b, &r);
		assert_int_equal(merge_out_open(p, 3, &o, &err), BINLOG_OK);
		assert_int_equal(merge_out_write(o, b.data, b.len, &err), BINLOG_OK);
		assert_int_equal(merge_out_close(o, NULL, &err), BINLOG_OK);
		binlog_buf_free(&b);
	}
	meta = json_pack("{s:s,s:s,s:s,s:I,s:[],s:[],s:[{s:s,s:s},{s:s,s:s}]}", "instant", id,
			 "action", "commit", "writer", "0badf00d", "time_ms",
			 (json_int_t)cdc_wall_ms(), "offsets", "files", "partitions", "path", P13,
			 "staged", staged, "path", "dt=2024-06-16/hr=00", "staged", staged16);
	text = json_dumps(meta, JSON_COMPACT);
	snprintf(p, sizeof(p), "%s/.sluice/timeline/%s.commit", dir, id);
	assert_int_equal(cdc_write_atomic(p, text, strlen(text), CDC_WRITE_EXCLUSIVE, 1, &err),
			 BINLOG_OK);
	free(text);
	json_decref(meta);

	/* A reader does not change anything. */
	t = open_table(dir, NULL, 0, &tu);
	merge_table_close(t);
	assert_true(exists("%s/%s", dir, staged));

	/* A writer finishes the exchange. */
	t = open_table(dir, NULL, 1, &tu);
	assert_false(exists("%s/%s", dir, staged));
	assert_false(exists("%s/%s", dir, staged16));
	part_keys(dir, P13, 0, got, sizeof(got));
	assert_string_equal(got, "2");
	assert_true(exists("%s/" P13 "/part-%s.jsonl.zst", dir, id));
	part_keys(dir, "dt=2024-06-16/hr=00", 0, got, sizeof(got));
	assert_string_equal(got, "3");
	/* no old directory left beside it */
	{
		DIR *dd;
		struct dirent *de;
		snprintf(p, sizeof(p), "%s/dt=2024-06-15", dir);
		dd = opendir(p);
		assert_non_null(dd);
		while ((de = readdir(dd)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				assert_string_equal(de->d_name, "hr=13");
		closedir(dd);
	}
	merge_table_close(t);
	/* and again: finishing is idempotent */
	t = open_table(dir, NULL, 1, &tu);
	part_keys(dir, P13, 0, got, sizeof(got));
	assert_string_equal(got, "2");
	merge_table_close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(change_parse),
		cmocka_unit_test(line_round_trip),
		cmocka_unit_test(json_members),
		cmocka_unit_test(json_unescape_u_escapes),
		cmocka_unit_test(map_highest_wins),
		cmocka_unit_test(map_equal_sequences),
		cmocka_unit_test(map_tie_is_row_newer),
		cmocka_unit_test(map_in_place_and_growth),
		cmocka_unit_test_setup_teardown(files_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(files_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(mor_table, setup, teardown),
		cmocka_unit_test_setup_teardown(mor_commit_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(mor_read_while_cleaned, setup, teardown),
		cmocka_unit_test_setup_teardown(mor_crash_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(hive_partition_of, setup, teardown),
		cmocka_unit_test_setup_teardown(hive_jsonl, setup, teardown),
		cmocka_unit_test_setup_teardown(hive_move_order, setup, teardown),
		cmocka_unit_test_setup_teardown(hive_text, setup, teardown),
		cmocka_unit_test_setup_teardown(hive_text_control_chars, setup, teardown),
		cmocka_unit_test_setup_teardown(hive_empty_hours, setup, teardown),
		cmocka_unit_test_setup_teardown(open_no_table, setup, teardown),
		cmocka_unit_test_setup_teardown(hive_crash_finish, setup, teardown),
		cmocka_unit_test_setup_teardown(hive_text_success_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(hive_text_compactions, setup, teardown),
	};

	cdc_log_init("test_merge");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
