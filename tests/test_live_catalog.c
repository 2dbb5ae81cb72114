/*
 * test_live_catalog.c: the server's catalog filling what a MINIMAL (and a
 * NO_LOG) binlog leaves out, against a throwaway MariaDB
 * (tests/lib/mariadb.sh, started with --binlog-row-metadata=MINIMAL).
 * Exits 77 (skip) when no MariaDB server is installed.
 *
 * The binlog is decoded in-process, as live capture would: a decoder and
 * a stream, the schema of every TABLE_MAP built with a catalog connected
 * to the server and with column rules (schema_table_get_ex), every QUERY
 * event handed to schema_catalog_ddl. Phases:
 *
 *  1. Tables with UUID, INET4, INET6, JSON, unsigned, latin1 and
 *     invisible and virtual columns, a composite key, a promoted UNIQUE
 *     key, quoted names, a long UNIQUE key (a hidden hash column), system
 *     versioning (hidden row_start/row_end); DML; decoded at once: names,
 *     keys, UUID/INET text exactly as SELECT prints it, JSON embedded
 *     (compacted; not-JSON kept a string), a column masked, one left out.
 *  2. One DDL statement at a time, each followed by DML and decoded before
 *     the next DDL (no race): ADD COLUMN, DROP COLUMN, RENAME COLUMN,
 *     RENAME TABLE, a new table, then a table dropped after its rows were
 *     written but before they were read (its rows: positional, "missing").
 *     That the catalog forgets what the DDL changed is what makes these
 *     right: a cached old definition would disagree or mislabel.
 *  3. binlog_row_metadata NO_LOG (signedness and charsets from the
 *     catalog), then FULL (names from the binlog, UUID text still from the
 *     catalog).
 *  4. Everything decoded again with a fresh catalog, after all the DDL:
 *     the race. Rows written before an ALTER meet the new definition; the
 *     disagreement is detected (positional names, counted, reported, and
 *     with column rules on the table every value masked), except where
 *     column count and types happen to agree: a RENAME COLUMN mislabels
 *     the rows before it (the residual risk docs/CHANGELOG_JSON.md names).
 */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mysql.h>

#include "cdc_config.h"
#include "cdc_filter.h"
#include "decode_util.h"
#include "schema.h"
#include "schema_catalog.h"

/* ------------------------------------------------------------------ */
/* The server                                                          */

typedef struct server {
	char lib[512]; /* tests/lib/mariadb.sh */
	char dir[512];
	char sock[600];
	long pid;
	MYSQL *m;
} server_t;

static server_t S;

/* system() runs the script with sh -c: exit status, or -1. */
static int run_sh(const char *script)
{
	int rc = system(script);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int find_lib(void)
{
	const char *src = getenv("SLUICE_SRCDIR");
	struct stat sb;

	snprintf(S.lib, sizeof(S.lib), "%s/tests/lib/mariadb.sh", src && *src ? src : ".");
	return stat(S.lib, &sb) == 0;
}

/*
 * Start the server in a fresh directory. A watchdog started with it stops
 * it and removes the directory once this process is gone, however it
 * ends (a failed assertion, a sanitizer abort).
 */
static int server_start(void)
{
	char script[3000], envp[700];
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	snprintf(S.dir, sizeof(S.dir), "%s/sluice-live-catalog.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(S.dir))
		return -1;
	snprintf(script, sizeof(script),
		 ". \"%s\" && mdb_start \"%s/srv\" --binlog-row-metadata=MINIMAL "
		 "--character-set-server=utf8mb4 >\"%s/start.log\" 2>&1 && "
		 "echo \"$MDB_PID $MDB_SOCK\" >\"%s/env\" || exit 1\n"
		 "( while kill -0 %ld 2>/dev/null; do sleep 1; done; mdb_stop; rm -rf \"%s\" ) "
		 "</dev/null >/dev/null 2>&1 &",
		 S.lib, S.dir, S.dir, S.dir, (long)getpid(), S.dir);
	if (run_sh(script) != 0) {
		snprintf(script, sizeof(script), "cat \"%s/start.log\" >&2; rm -rf \"%s\"", S.dir,
			 S.dir);
		run_sh(script);
		return -1;
	}
	snprintf(envp, sizeof(envp), "%s/env", S.dir);
	f = fopen(envp, "r");
	if (!f || fscanf(f, "%ld %599s", &S.pid, S.sock) != 2) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void server_stop(void)
{
	char script[2600];

	if (!S.pid)
		return;
	snprintf(script, sizeof(script),
		 ". \"%s\" && MDB_PID=%ld MDB_SOCK=\"%s\" MDB_DIR=\"%s/srv\" && mdb_stop; "
		 "rm -rf \"%s\"",
		 S.lib, S.pid, S.sock, S.dir, S.dir);
	run_sh(script);
	S.pid = 0;
}

static MYSQL *connect_db(void)
{
	MYSQL *m = mysql_init(NULL);

	if (!m)
		return NULL;
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(m, NULL, "root", NULL, NULL, 0, S.sock, 0)) {
		fprintf(stderr, "connect: %s\n", mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

static void sql(const char *q)
{
	if (mysql_query(S.m, q) != 0)
		fail_msg("%s: %s", q, mysql_error(S.m));
	/* Statements here return no rows, but drain any. */
	do {
		MYSQL_RES *r = mysql_store_result(S.m);
		if (r)
			mysql_free_result(r);
	} while (mysql_next_result(S.m) == 0);
}

static void sqls(const char *const *qs)
{
	for (; *qs; qs++)
		sql(*qs);
}

/* ------------------------------------------------------------------ */
/* Decoding with the catalog                                           */

typedef struct live {
	binlog_decoder_t *dec;
	cdc_stream_t st;
	du_result_t *res;
	du_sink_t sink;
	schema_catalog_t *cat;
	cdc_filter_t *filter;
	schema_stats_t stats;
	schema_opts_t opts;
	int nwarn;
	char lastwarn[BINLOG_ERR_MSG_MAX];
	char firstmismatch[BINLOG_ERR_MSG_MAX];
	int ndone; /* binlog files decoded so far */
} live_t;

static void on_warn(void *ctx, const schema_table_t *st, const char *msg)
{
	live_t *L = ctx;

	L->nwarn++;
	snprintf(L->lastwarn, sizeof(L->lastwarn), "%s: %s", st->qualified, msg);
	if (!L->firstmismatch[0] && strstr(msg, "differs"))
		snprintf(L->firstmismatch, sizeof(L->firstmismatch), "%s", L->lastwarn);
}

static void live_init(live_t *L, int mode)
{
	static const char *const exc[] = {"cat1\\.t\\.ssn", NULL};
	static const char *const mask[] = {"cat1\\.t\\.email", "cat1\\.ren\\.v", "cat1\\.pkm\\.id",
					   NULL};
	cdc_source_conf_t src;
	binlog_err_t err;

	memset(L, 0, sizeof(*L));
	memset(&src, 0, sizeof(src));
	src.columns_exclude.v = (char **)exc;
	src.columns_exclude.n = 1;
	src.columns_mask.v = (char **)mask;
	src.columns_mask.n = 3;
	assert_int_equal(cdc_filter_new(&src, &L->filter, &err), BINLOG_OK);
	L->cat = schema_catalog_new(S.m);
	assert_non_null(L->cat);
	L->dec = binlog_decoder_new(NULL);
	assert_non_null(L->dec);
	L->res = calloc(1, sizeof(*L->res));
	L->sink.base.ops = &du_ops;
	L->sink.r = L->res;
	assert_int_equal(cdc_stream_init(&L->st, &L->sink.base), BINLOG_OK);
	L->opts.catalog = L->cat;
	L->opts.catalog_mode = mode;
	L->opts.filter = L->filter;
	L->opts.stats = &L->stats;
	L->opts.warn = on_warn;
	L->opts.warn_ctx = L;
}

static void live_free(live_t *L)
{
	/* LIVE_CATALOG_DUMP=1: every record, to see what the test saw. */
	if (getenv("LIVE_CATALOG_DUMP"))
		for (size_t i = 0; i < L->res->n; i++)
			fprintf(stderr, "%s\n", L->res->rec[i]);
	cdc_stream_free(&L->st);
	binlog_decoder_free(L->dec);
	schema_catalog_free(L->cat);
	cdc_filter_free(L->filter);
	du_free(L->res);
}

static void decode_file(live_t *L, const char *path)
{
	cdc_file_t *f;
	binlog_err_t err;
	binlog_event_t ev;
	const uint8_t *p;
	uint32_t n;
	uint64_t off;
	int k;

	f = cdc_file_open(path, &err);
	if (!f)
		fail_msg("%s", err.msg);
	binlog_decoder_reset(L->dec);
	binlog_decoder_set_source(L->dec, cdc_file_path(f));
	cdc_stream_set_file(&L->st, cdc_file_name(f));
	while ((k = cdc_file_next(f, L->dec, &p, &n, &off, &err)) > 0) {
		if (binlog_decoder_feed(L->dec, p, n, off, &err) != BINLOG_OK)
			fail_msg("%s", err.msg);
		while ((k = binlog_decoder_next(L->dec, &ev, &err)) > 0) {
			if (ev.type == BINLOG_TABLE_MAP_EVENT) {
				/* As live capture does: the schema from the
				 * TABLE_MAP, the catalog and the rules. */
				if (!schema_table_get_ex(ev.u.table_map, &L->opts, &err))
					fail_msg("schema: %s", err.msg);
			} else if (ev.type == BINLOG_QUERY_EVENT) {
				char db[256];
				snprintf(db, sizeof(db), "%.*s", (int)ev.u.query.db.len,
					 ev.u.query.db.p ? ev.u.query.db.p : "");
				assert_int_equal(schema_catalog_ddl(L->cat, db, ev.u.query.sql.p,
								    ev.u.query.sql.len, &err),
						 BINLOG_OK);
			}
			if (cdc_stream_event(&L->st, &ev, &err) != BINLOG_OK)
				fail_msg("%s", err.msg);
		}
		if (k < 0)
			fail_msg("%s", err.msg);
	}
	if (k < 0)
		fail_msg("%s", err.msg);
	cdc_file_close(f);
}

/* Close the current binlog and decode every closed file not decoded yet. */
static void flush_and_decode(live_t *L)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	char names[64][64];
	int n = 0;

	sql("FLUSH BINARY LOGS");
	if (mysql_query(S.m, "SHOW BINARY LOGS") != 0 || !(r = mysql_store_result(S.m)))
		fail_msg("SHOW BINARY LOGS: %s", mysql_error(S.m));
	while ((row = mysql_fetch_row(r)) && n < 64)
		snprintf(names[n++], sizeof(names[0]), "%s", row[0]);
	mysql_free_result(r);
	for (int i = L->ndone; i < n - 1; i++) {
		char path[800];
		snprintf(path, sizeof(path), "%s/srv/data/%s", S.dir, names[i]);
		decode_file(L, path);
	}
	L->ndone = n - 1;
}

/* ------------------------------------------------------------------ */
/* Checking records                                                    */

/* The one record from `from` on containing every needle. */
static const char *rec(const live_t *L, size_t from, const char *a, const char *b, const char *c)
{
	const char *nd[4] = {a, b, c, NULL};
	long i = du_find(L->res, from, nd);

	if (i < 0) {
		for (size_t k = from; k < L->res->n; k++)
			fprintf(stderr, "  %s\n", L->res->rec[k]);
		fail_msg("no record with %s %s %s", a, b ? b : "", c ? c : "");
	}
	return L->res->rec[i];
}

static void has(const char *r, const char *needle)
{
	if (!strstr(r, needle))
		fail_msg("%s\nlacks %s", r, needle);
}

static void lacks(const char *r, const char *needle)
{
	if (strstr(r, needle))
		fail_msg("%s\nhas %s", r, needle);
}

static void starts(const char *r, const char *prefix)
{
	if (strncmp(r, prefix, strlen(prefix)) != 0)
		fail_msg("%s\ndoes not start with\n%s", r, prefix);
}

/* ------------------------------------------------------------------ */
/* The data                                                            */

/* Addresses whose text MariaDB prints in each of its ways. */
static const char *const inet6s[] = {
	"::",
	"::1",
	"1::",
	"1:0:2:3:4:5:6:7", /* one zero group: MariaDB compresses it */
	"1:0:0:2:0:0:0:3", /* the longest run */
	"1:0:0:2:0:0:3:4", /* the first of equal runs */
	"1:0:0:2:3:0:0:4",
	"1:2:3:4:5:6:7:0",
	"0:1:2:3:4:5:6:7",
	"::ffff:8.8.8.8", /* IPv4-mapped */
	"::ffff:0:0",
	"::ffff:1:2",
	"::1.2.3.4", /* IPv4-compatible */
	"::0.0.1.2",
	"::1.0.0.0",
	"0:0:0:0:0:1:1.2.3.4",
	"::fffe:1.2.3.4",
	"64:ff9b::1.2.3.4",
	"2001:DB8::FF00:42:8329",
	"2001:db8:0:0:1:0:0:1",
	"fe80::1:0:0:0",
	"1:2:3:4:5:6:7:8",
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	"abcd:ef01:2345:6789:abcd:ef01:2345:6789",
	"0:0:1::",
	"::ffff:255.255.255.255",
};

static const char *const inet4s[] = {"0.0.0.0", "255.255.255.255", "10.0.0.1", "192.168.1.10",
				     "1.2.3.4"};

static const char *const uuids[] = {
	"6ccd780c-baba-1026-9564-5b8c656024db", "550E8400-E29B-41D4-A716-446655440000",
	"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
	"01890a5d-ac96-774b-bcce-b302099a8057", "11111111-2222-3333-4444-555555555555"};

#define NV (sizeof(inet6s) / sizeof(inet6s[0]))

static const char *const phase1[] = {
	"CREATE DATABASE cat1 CHARACTER SET utf8mb4",
	"USE cat1",
	"CREATE TABLE t (id INT UNSIGNED NOT NULL, region CHAR(2) CHARACTER SET latin1 NOT NULL,"
	" u UUID, i4 INET4, i6 INET6, doc JSON, note VARCHAR(40) CHARACTER SET latin1,"
	" email VARCHAR(64), ssn VARCHAR(11), big BIGINT UNSIGNED, inv INT INVISIBLE,"
	" gen BIGINT AS (id * 2) VIRTUAL, PRIMARY KEY (region, id))",
	"CREATE TABLE np (a INT NOT NULL, b VARCHAR(8) NOT NULL, c INT,"
	" UNIQUE KEY uc (c), UNIQUE KEY uab (b, a))",
	"CREATE TABLE `we``ird \"t'` (`c``1` INT PRIMARY KEY, `ü` VARCHAR(4))",
	"CREATE TABLE lu (id INT PRIMARY KEY, body TEXT, UNIQUE KEY (body))",
	"CREATE TABLE sv (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING",
	"CREATE TABLE gone (id INT PRIMARY KEY, v INT)",
	"CREATE TABLE ren (id INT PRIMARY KEY, v INT)",
	"CREATE TABLE pkm (id INT PRIMARY KEY, v INT)",
	"INSERT INTO pkm VALUES (1, 5)",
	"INSERT INTO t (id, region, u, i4, i6, doc, note, email, ssn, big, inv) VALUES"
	" (1, 'eu', '11111111-2222-3333-4444-555555555555', '192.168.1.10',"
	" '2001:db8::ff00:42:8329', '{\"a\": [1, 2.5, \"x\"], \"b\": {\"c\": null}}',"
	" _utf8mb4'café', 'ann@example.com', '123-45-6789', 18446744073709551615, 5)",
	"INSERT INTO t (id, region) VALUES (2, 'eu')",
	"INSERT INTO t (id, region, doc) VALUES (3, 'eu', '[1,\n  2 , \"\\\\u00e9\"]')",
	"SET SESSION check_constraint_checks = 0",
	"INSERT INTO t (id, region, doc) VALUES (4, 'eu', 'not json {')",
	"SET SESSION check_constraint_checks = 1",
	"UPDATE t SET note = _utf8mb4'naïve', email = 'bob@example.com' WHERE id = 1",
	"DELETE FROM t WHERE id = 2",
	"DELETE FROM t WHERE id = 4", /* ALTER TABLE would check it again */
	"INSERT INTO np VALUES (1, 'x', NULL)",
	"INSERT INTO `we``ird \"t'` VALUES (1, 'ä')",
	"INSERT INTO lu VALUES (1, 'a long text')",
	"INSERT INTO sv VALUES (1, 2)",
	"INSERT INTO gone VALUES (1, 1)",
	"INSERT INTO ren VALUES (1, 1)",
	NULL,
};

static void insert_addresses(void)
{
	char q[512];

	for (size_t i = 0; i < NV; i++) {
		snprintf(q, sizeof(q),
			 "INSERT INTO t (id, region, i6, i4, u) VALUES (%zu, 'xx', '%s', '%s', "
			 "'%s')",
			 10 + i, inet6s[i], inet4s[i % 5], uuids[i % 6]);
		sql(q);
	}
}

/* Every address row's UUID/INET4/INET6 as SELECT prints them. */
static void check_addresses(const live_t *L, size_t from)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	int n = 0;

	if (mysql_query(S.m, "SELECT id, CAST(u AS CHAR), CAST(i4 AS CHAR), CAST(i6 AS CHAR) "
			     "FROM cat1.t WHERE region = 'xx' ORDER BY id") != 0 ||
	    !(r = mysql_store_result(S.m)))
		fail_msg("SELECT: %s", mysql_error(S.m));
	while ((row = mysql_fetch_row(r))) {
		char id[48], u[64], i4[64], i6[128];
		const char *x;

		snprintf(id, sizeof(id), "{\"data\":{\"id\":%s,", row[0]);
		snprintf(u, sizeof(u), "\"u\":\"%s\"", row[1]);
		snprintf(i4, sizeof(i4), "\"i4\":\"%s\"", row[2]);
		snprintf(i6, sizeof(i6), "\"i6\":\"%s\"", row[3]);
		x = rec(L, from, id, "\"op\":\"+I\"", NULL);
		has(x, u);
		has(x, i4);
		has(x, i6);
		n++;
	}
	mysql_free_result(r);
	assert_int_equal(n, NV);
}

/* ------------------------------------------------------------------ */
/* The test                                                            */

static void test_catalog(void **state)
{
	live_t L, R;
	size_t from;
	const char *x;

	(void)state;
	live_init(&L, CDC_CATALOG_AUTO);

	/* 1. Definitions and values, no DDL in between. */
	sqls(phase1);
	insert_addresses();
	from = L.res->n;
	flush_and_decode(&L);
	x = rec(&L, from, "{\"data\":{\"id\":1,", "\"op\":\"+I\"", NULL);
	starts(x,
	       "{\"data\":{\"id\":1,\"region\":\"eu\","
	       "\"u\":\"11111111-2222-3333-4444-555555555555\",\"i4\":\"192.168.1.10\","
	       "\"i6\":\"2001:db8::ff00:42:8329\",\"doc\":{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null}},"
	       "\"note\":\"café\",\"email\":\"****\",\"big\":18446744073709551615,\"inv\":5,"
	       "\"gen\":2},\"op\":\"+I\",\"db\":\"cat1\",\"table\":\"t\",\"pk\":[\"region\",\"id\"]"
	       ",");
	lacks(x, "positional_names");
	lacks(x, "ssn");
	x = rec(&L, from, "{\"data\":{\"id\":2,", "\"op\":\"+I\"", NULL);
	starts(x,
	       "{\"data\":{\"id\":2,\"region\":\"eu\",\"u\":null,\"i4\":null,\"i6\":null,"
	       "\"doc\":null,\"note\":null,\"email\":null,\"big\":null,\"inv\":null,\"gen\":4},");
	x = rec(&L, from, "{\"data\":{\"id\":3,", NULL, NULL);
	has(x, "\"doc\":[1,2,\"\\u00e9\"],");
	x = rec(&L, from, "{\"data\":{\"id\":4,", NULL, NULL);
	has(x, "\"doc\":\"not json {\",");
	x = rec(&L, from, "{\"data\":{\"id\":1,", "\"op\":\"+U\"", NULL);
	has(x, "\"note\":\"naïve\",\"email\":\"****\",");
	x = rec(&L, from, "{\"data\":{\"id\":1,", "\"op\":\"-U\"", NULL);
	has(x, "\"note\":\"café\",\"email\":\"****\",");
	rec(&L, from, "{\"data\":{\"id\":2,", "\"op\":\"-D\"", NULL);
	check_addresses(&L, from);
	x = rec(&L, from, "\"table\":\"np\"", NULL, NULL);
	starts(x, "{\"data\":{\"a\":1,\"b\":\"x\",\"c\":null},\"op\":\"+I\",\"db\":\"cat1\","
		  "\"table\":\"np\",\"pk\":[\"b\",\"a\"],");
	x = rec(&L, from, "\"table\":\"we`ird \\\"t'\"", NULL, NULL);
	starts(x, "{\"data\":{\"c`1\":1,\"ü\":\"ä\"},\"op\":\"+I\",\"db\":\"cat1\","
		  "\"table\":\"we`ird \\\"t'\",\"pk\":[\"c`1\"],");
	x = rec(&L, from, "\"table\":\"lu\"", NULL, NULL);
	starts(x, "{\"data\":{\"id\":1,\"body\":\"a long text\",\"DB_ROW_HASH_1\":");
	has(x, "\"pk\":[\"id\"],");
	x = rec(&L, from, "\"table\":\"sv\"", NULL, NULL);
	starts(x, "{\"data\":{\"id\":1,\"x\":2,\"row_start\":\"");
	has(x, "\"pk\":[\"id\",\"row_end\"],");
	x = rec(&L, from, "\"table\":\"ren\"", NULL, NULL);
	starts(x, "{\"data\":{\"id\":1,\"v\":\"****\"},\"op\":\"+I\",\"db\":\"cat1\","
		  "\"table\":\"ren\",\"pk\":[\"id\"],");
	/* A key column masked: no "pk" a consumer would key by. */
	x = rec(&L, from, "\"table\":\"pkm\"", NULL, NULL);
	starts(x, "{\"data\":{\"id\":\"****\",\"v\":5},\"op\":\"+I\",\"db\":\"cat1\","
		  "\"table\":\"pkm\",\"gtid\":");
	assert_int_equal(L.stats.catalog_mismatch, 0);
	assert_int_equal(L.stats.catalog_missing, 0);
	assert_int_equal(L.stats.masked_all, 0);
	assert_true(L.stats.catalog_used >= 8);
	assert_int_equal(L.nwarn, 0);

	/* 2. One DDL at a time, decoded before the next: what changed is
	 * forgotten, and read again. */
	from = L.res->n;
	sql("ALTER TABLE t ADD COLUMN extra INT AFTER note");
	sql("INSERT INTO t (id, region, extra) VALUES (100, 'zz', 7)");
	flush_and_decode(&L);
	x = rec(&L, from, "{\"data\":{\"id\":100,", NULL, NULL);
	has(x, "\"note\":null,\"extra\":7,\"email\":null,\"big\":null,");

	from = L.res->n;
	sql("ALTER TABLE t DROP COLUMN big");
	sql("INSERT INTO t (id, region) VALUES (101, 'zz')");
	flush_and_decode(&L);
	x = rec(&L, from, "{\"data\":{\"id\":101,", NULL, NULL);
	has(x, "\"email\":null,\"inv\":null,\"gen\":202}");
	lacks(x, "big");

	from = L.res->n;
	sql("ALTER TABLE t RENAME COLUMN note TO remark");
	sql("INSERT INTO t (id, region, remark) VALUES (102, 'zz', 'r')");
	flush_and_decode(&L);
	x = rec(&L, from, "{\"data\":{\"id\":102,", NULL, NULL);
	has(x, "\"remark\":\"r\",\"extra\":null,");

	from = L.res->n;
	sql("RENAME TABLE ren TO ren2, np TO np2");
	sql("INSERT INTO ren2 VALUES (2, 2)");
	sql("INSERT INTO np2 VALUES (2, 'y', 3)");
	flush_and_decode(&L);
	/* The mask rule named cat1.ren.v: ren2's v is not masked. */
	x = rec(&L, from, "\"table\":\"ren2\"", NULL, NULL);
	starts(x, "{\"data\":{\"id\":2,\"v\":2},\"op\":\"+I\",\"db\":\"cat1\",\"table\":\"ren2\","
		  "\"pk\":[\"id\"],");
	x = rec(&L, from, "\"table\":\"np2\"", NULL, NULL);
	starts(x, "{\"data\":{\"a\":2,\"b\":\"y\",\"c\":3},");
	has(x, "\"pk\":[\"b\",\"a\"]");

	from = L.res->n;
	sql("CREATE TABLE fresh (id BIGINT PRIMARY KEY, u UUID, n INET6)");
	sql("INSERT INTO fresh VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
	    "'::ffff:1.2.3.4')");
	flush_and_decode(&L);
	x = rec(&L, from, "\"table\":\"fresh\"", NULL, NULL);
	starts(x, "{\"data\":{\"id\":1,\"u\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\","
		  "\"n\":\"::ffff:1.2.3.4\"},\"op\":\"+I\",\"db\":\"cat1\",\"table\":\"fresh\","
		  "\"pk\":[\"id\"],");
	assert_int_equal(L.stats.catalog_mismatch, 0);
	assert_int_equal(L.stats.catalog_missing, 0);

	/* Tables dropped between their rows' writing and their reading. One
	 * the catalog knew before (no DDL since: the cached definition is
	 * the rows'): named. One it never saw: nothing to say, and the record
	 * says so. */
	from = L.res->n;
	sql("INSERT INTO gone VALUES (2, 2)");
	sql("DROP TABLE gone");
	sql("CREATE TABLE brief (id INT PRIMARY KEY, v INT)");
	sql("INSERT INTO brief VALUES (1, 2)");
	sql("DROP TABLE brief");
	flush_and_decode(&L);
	x = rec(&L, from, "\"table\":\"gone\"", NULL, NULL);
	starts(x, "{\"data\":{\"id\":2,\"v\":2},\"op\":\"+I\",\"db\":\"cat1\",\"table\":\"gone\","
		  "\"pk\":[\"id\"],");
	x = rec(&L, from, "\"table\":\"brief\"", NULL, NULL);
	starts(x, "{\"data\":{\"@1\":1,\"@2\":2},\"op\":\"+I\",\"db\":\"cat1\",\"table\":\"brief\","
		  "\"positional_names\":true,");
	assert_int_equal(L.stats.catalog_missing, 1);
	assert_int_equal(L.nwarn, 1);
	has(L.lastwarn, "cat1.brief: not in the catalog (catalog: no table cat1.brief");

	/* 3. No metadata at all: signedness and charsets from the catalog.
	 * Then full metadata: the binlog's names, the catalog's types. */
	from = L.res->n;
	sql("SET GLOBAL binlog_row_metadata = NO_LOG");
	sql("INSERT INTO t (id, region, remark, extra, u) VALUES (4294967295, 'nl', _utf8mb4'café',"
	    " -5, '6ccd780c-baba-1026-9564-5b8c656024db')");
	sql("SET GLOBAL binlog_row_metadata = FULL");
	sql("INSERT INTO t (id, region, u, doc) VALUES (300, 'fu', "
	    "'6ccd780c-baba-1026-9564-5b8c656024db', '{\"k\" : true}')");
	sql("SET GLOBAL binlog_row_metadata = MINIMAL");
	flush_and_decode(&L);
	x = rec(&L, from, "{\"data\":{\"id\":4294967295,", NULL, NULL);
	has(x, "\"region\":\"nl\",\"u\":\"6ccd780c-baba-1026-9564-5b8c656024db\",");
	has(x, "\"remark\":\"café\",\"extra\":-5,\"email\":null,");
	lacks(x, "positional_names");
	x = rec(&L, from, "{\"data\":{\"id\":300,", NULL, NULL);
	starts(x, "{\"data\":{\"id\":300,\"region\":\"fu\","
		  "\"u\":\"6ccd780c-baba-1026-9564-5b8c656024db\",\"i4\":null,\"i6\":null,"
		  "\"doc\":{\"k\":true},\"remark\":null,\"extra\":null,\"email\":null,");
	has(x, "\"pk\":[\"region\",\"id\"],");
	lacks(x, "positional_names");
	assert_int_equal(L.stats.catalog_mismatch, 0);

	/* 4. The race: everything read again after all the DDL. */
	live_init(&R, CDC_CATALOG_AUTO);
	R.ndone = 0;
	{
		MYSQL_RES *r;
		MYSQL_ROW row;
		int n = 0, total;
		char path[800];

		sql("FLUSH BINARY LOGS");
		assert_int_equal(mysql_query(S.m, "SHOW BINARY LOGS"), 0);
		r = mysql_store_result(S.m);
		total = (int)mysql_num_rows(r);
		while ((row = mysql_fetch_row(r)) && n++ < total - 1) {
			snprintf(path, sizeof(path), "%s/srv/data/%s", S.dir, row[0]);
			decode_file(&R, path);
		}
		mysql_free_result(r);
	}
	/* Rows of t before ADD COLUMN: its definition now has the same count
	 * but another type at position 8: told apart, positional, and every
	 * value masked, as column rules apply to cat1.t. */
	x = rec(&R, 0, "\"table\":\"t\"", "\"op\":\"+I\"", NULL);
	starts(x, "{\"data\":{\"@1\":\"****\",\"@2\":\"****\",\"@3\":\"****\",");
	has(x, "\"table\":\"t\",\"positional_names\":true,");
	lacks(x, "\"pk\"");
	/* After ADD, before DROP: a column more than now. */
	x = rec(&R, 0, "\"@1\":\"****\"", "\"@8\":\"****\"", "\"@13\":");
	/* After DROP, before RENAME COLUMN: count and types agree, so the
	 * rows take today's name: the residual risk, documented. */
	x = rec(&R, 0, "{\"data\":{\"id\":101,", NULL, NULL);
	has(x, "\"remark\":null,");
	lacks(x, "\"note\"");
	/* Renamed and dropped tables are gone from the catalog. */
	x = rec(&R, 0, "\"table\":\"ren\"", NULL, NULL);
	starts(x, "{\"data\":{\"@1\":\"****\",\"@2\":\"****\"},");
	x = rec(&R, 0, "\"table\":\"np\"", NULL, NULL);
	starts(x, "{\"data\":{\"@1\":1,\"@2\":\"x\",\"@3\":null},");
	has(x, "\"positional_names\":true");
	x = rec(&R, 0, "\"table\":\"gone\"", "\"@1\":1", NULL);
	has(x, "\"positional_names\":true");
	/* Rows after the last DDL are right again. */
	x = rec(&R, 0, "{\"data\":{\"id\":300,", NULL, NULL);
	has(x, "\"u\":\"6ccd780c-baba-1026-9564-5b8c656024db\"");
	has(R.firstmismatch, "cat1.t: the catalog's definition differs from the binlog's "
			     "(column 8 is int in the catalog, VARCHAR in the binlog): not used");
	assert_true(R.stats.catalog_mismatch >= 2);
	assert_true(R.stats.catalog_missing >= 3); /* ren, np, gone */
	assert_true(R.stats.masked_all >= 2);
	assert_true(R.nwarn >= 5);
	live_free(&R);

	/* Mode never: the binlog only, and with column rules on a table
	 * whose names the binlog lacks, every value masked. */
	live_init(&R, CDC_CATALOG_NEVER);
	{
		char path[800];
		snprintf(path, sizeof(path), "%s/srv/data/mysql-bin.000001", S.dir);
		decode_file(&R, path);
	}
	x = rec(&R, 0, "\"table\":\"t\"", NULL, NULL);
	starts(x, "{\"data\":{\"@1\":\"****\",");
	x = rec(&R, 0, "\"table\":\"np\"", NULL, NULL);
	starts(x, "{\"data\":{\"@1\":1,\"@2\":\"x\",\"@3\":null},");
	assert_int_equal(R.stats.catalog_used, 0);
	live_free(&R);

	live_free(&L);
}

static int setup(void **state)
{
	(void)state;
	if (server_start() != 0) {
		fprintf(stderr, "could not start MariaDB\n");
		return -1;
	}
	S.m = connect_db();
	return S.m ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (S.m)
		mysql_close(S.m);
	S.m = NULL;
	server_stop();
	mysql_library_end();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catalog),
	};

	char script[700];
	int found = find_lib();

	snprintf(script, sizeof(script), ". \"%s\" && mdb_available", S.lib);
	if (!found || run_sh(script) != 0) {
		printf("SKIP: MariaDB server not installed (needs mariadbd, mariadb, "
		       "mariadb-install-db)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
