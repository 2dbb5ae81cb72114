/*
 * test_cdc_schema_history.c: the catalog's answers kept beside the
 * checkpoint. A definition holds from where it was read until a later DDL
 * for its table; it survives a restart; a torn last line is dropped and a
 * damaged one refused; compaction keeps exactly what a stream from the
 * checkpoint on can need; the catalog reads through the store before it
 * asks a server (here: none at all).
 */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdc_schema_history.h"
#include "schema_catalog.h"

static char dir[256], path[300];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/sluice-history-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/p.schema.jsonl", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

/* A two-column definition: id (the key) and a column named `second`. */
static void def(schema_catalog_table_t *t, schema_catalog_column_t *cols, uint32_t *pk,
		const char *second, int ext)
{
	memset(cols, 0, 2 * sizeof(*cols));
	cols[0].name = (char *)"id";
	cols[0].data_type = (char *)"int";
	cols[0].is_unsigned = 1;
	cols[0].in_pk = 1;
	cols[1].name = (char *)second;
	cols[1].data_type = (char *)(ext ? "uuid" : "binary");
	cols[1].collation_id = 63;
	cols[1].ext = ext;
	pk[0] = 0;
	t->ncols = 2;
	t->cols = cols;
	t->npk = 1;
	t->pk = pk;
}

/* find(): -1/0/1 as the store says; with 1, the second column's name. */
static int find(schema_catalog_store_t *st, const char *db, const char *table, uint64_t at,
		char *second, size_t n)
{
	schema_catalog_table_t t;
	int present = -1;
	int r = st->find(st->ctx, db, table, at, &t, &present);

	if (r == 1) {
		assert_int_equal(present, t.ncols > 0);
		snprintf(second, n, "%s", t.ncols > 1 ? t.cols[1].name : "");
		schema_catalog_table_clear(&t);
	}
	return r;
}

static void write_text(const char *text, int append)
{
	int fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void holds_until_ddl(void **state)
{
	binlog_err_t err;
	schema_catalog_store_t st;
	schema_catalog_table_t t;
	schema_catalog_column_t cols[2];
	uint32_t pk[1];
	char name[64];
	cdc_schema_history_t *h = cdc_schema_history_open(path, 0, &err);

	(void)state;
	assert_non_null(h);
	cdc_schema_history_store(h, &st);
	def(&t, cols, pk, "u", SCHEMA_EXT_UUID);
	assert_int_equal(st.add(st.ctx, 5, "shop", "t", 1, &t, &err), BINLOG_OK);
	assert_int_equal(find(&st, "shop", "t", 4, name, sizeof(name)), 0);
	assert_int_equal(find(&st, "shop", "t", 5, name, sizeof(name)), 1);
	assert_string_equal(name, "u");
	assert_int_equal(find(&st, "shop", "T", 5, name, sizeof(name)), 0); /* exact names */
	assert_int_equal(find(&st, "shop", "other", 5, name, sizeof(name)), 0);
	assert_int_equal(st.forget(st.ctx, 7, "SHOP", "T", &err), BINLOG_OK);
	assert_int_equal(find(&st, "shop", "t", 6, name, sizeof(name)), 1);
	assert_int_equal(find(&st, "shop", "t", 7, name, sizeof(name)), 0);
	def(&t, cols, pk, "renamed", 0);
	assert_int_equal(st.add(st.ctx, 9, "shop", "t", 1, &t, &err), BINLOG_OK);
	/* a table the catalog did not have is an answer too */
	memset(&t, 0, sizeof(t));
	assert_int_equal(st.add(st.ctx, 9, "shop", "gone", 0, &t, &err), BINLOG_OK);
	/* the same DDL read again in a replay is stored once */
	assert_int_equal(st.forget(st.ctx, 7, "SHOP", "T", &err), BINLOG_OK);
	assert_int_equal(cdc_schema_history_size(h), 4);
	cdc_schema_history_close(h);

	/* After a restart: the same answers at the same positions. */
	h = cdc_schema_history_open(path, 0, &err);
	assert_non_null(h);
	cdc_schema_history_store(h, &st);
	assert_int_equal(cdc_schema_history_size(h), 4);
	assert_int_equal(find(&st, "shop", "t", 6, name, sizeof(name)), 1);
	assert_string_equal(name, "u");
	assert_int_equal(find(&st, "shop", "t", 8, name, sizeof(name)), 0);
	assert_int_equal(find(&st, "shop", "t", 100, name, sizeof(name)), 1);
	assert_string_equal(name, "renamed");
	assert_int_equal(find(&st, "shop", "gone", 9, name, sizeof(name)), 1);
	/* a database-wide DDL, and one that could not be parsed */
	assert_int_equal(st.forget(st.ctx, 20, "shop", NULL, &err), BINLOG_OK);
	assert_int_equal(find(&st, "shop", "t", 20, name, sizeof(name)), 0);
	def(&t, cols, pk, "again", 0);
	assert_int_equal(st.add(st.ctx, 21, "shop", "t", 1, &t, &err), BINLOG_OK);
	assert_int_equal(st.forget(st.ctx, 22, NULL, NULL, &err), BINLOG_OK);
	assert_int_equal(find(&st, "shop", "t", 22, name, sizeof(name)), 0);
	assert_int_equal(find(&st, "shop", "t", 21, name, sizeof(name)), 1);
	assert_string_equal(name, "again");
	cdc_schema_history_close(h);
}

static void torn_and_damaged(void **state)
{
	binlog_err_t err;
	schema_catalog_store_t st;
	char name[64];
	cdc_schema_history_t *h;

	(void)state;
	write_text("{\"at\":3,\"db\":\"d\",\"table\":\"t\",\"present\":true,\"columns\":["
		   "{\"name\":\"id\",\"type\":\"int\",\"unsigned\":false,\"collation\":0,"
		   "\"ext\":0,\"pk\":true},{\"name\":\"x\",\"type\":\"uuid\",\"unsigned\":false,"
		   "\"collation\":63,\"ext\":1,\"pk\":false}],\"pk\":[0]}\n"
		   "{\"at\":4,\"db\":\"d\",\"tab",
		   0);
	h = cdc_schema_history_open(path, 0, &err);
	assert_non_null(h);
	cdc_schema_history_store(h, &st);
	assert_int_equal(cdc_schema_history_size(h), 1);
	assert_int_equal(find(&st, "d", "t", 4, name, sizeof(name)), 1);
	assert_string_equal(name, "x");
	cdc_schema_history_close(h);
	/* the torn line is gone from the file too: appends start clean */
	h = cdc_schema_history_open(path, 0, &err);
	assert_non_null(h);
	assert_int_equal(cdc_schema_history_size(h), 1);
	cdc_schema_history_close(h);

	write_text("{\"at\":3,\"forget\":{\"db\":\"d\",\"table\":null}}\nnot json\n"
		   "{\"at\":4,\"forget\":{\"db\":null,\"table\":null}}\n",
		   0);
	assert_null(cdc_schema_history_open(path, 0, &err));
	assert_int_equal(err.code, BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_non_null(strstr(err.msg, path));
	/* a column index out of range is damage too */
	write_text("{\"at\":3,\"db\":\"d\",\"table\":\"t\",\"present\":true,\"columns\":[],"
		   "\"pk\":[0]}\n{\"at\":4,\"forget\":{\"db\":null,\"table\":null}}\n",
		   0);
	assert_null(cdc_schema_history_open(path, 0, &err));
	assert_non_null(strstr(err.msg, "line 1"));
}

static void compaction(void **state)
{
	binlog_err_t err;
	schema_catalog_store_t st;
	schema_catalog_table_t t;
	schema_catalog_column_t cols[2];
	uint32_t pk[1];
	char name[64];
	cdc_schema_history_t *h;

	(void)state;
	unlink(path);
	h = cdc_schema_history_open(path, 0, &err);
	assert_non_null(h);
	cdc_schema_history_store(h, &st);
	def(&t, cols, pk, "a1", 0);
	assert_int_equal(st.add(st.ctx, 3, "shop", "a", 1, &t, &err), BINLOG_OK);
	def(&t, cols, pk, "b1", 0);
	assert_int_equal(st.add(st.ctx, 4, "shop", "b", 1, &t, &err), BINLOG_OK);
	def(&t, cols, pk, "c1", 0);
	assert_int_equal(st.add(st.ctx, 4, "other", "c", 1, &t, &err), BINLOG_OK);
	assert_int_equal(st.forget(st.ctx, 5, "shop", "a", &err), BINLOG_OK);
	def(&t, cols, pk, "a2", 0);
	assert_int_equal(st.add(st.ctx, 6, "shop", "a", 1, &t, &err), BINLOG_OK);
	assert_int_equal(st.forget(st.ctx, 7, "shop", NULL, &err), BINLOG_OK); /* b gone */
	assert_int_equal(st.forget(st.ctx, 12, "shop", "a", &err), BINLOG_OK); /* after */
	def(&t, cols, pk, "a3", 0);
	assert_int_equal(st.add(st.ctx, 13, "shop", "a", 1, &t, &err), BINLOG_OK);
	/* out of order, as a replay appends: position 2 is older than all */
	def(&t, cols, pk, "c0", 0);
	assert_int_equal(st.add(st.ctx, 2, "other", "c", 1, &t, &err), BINLOG_OK);
	assert_int_equal(cdc_schema_history_appended(h), 9);
	cdc_schema_history_close(h);

	/* From 10 on: other.c's newest (c1 at 4) and what comes at or after
	 * 10 (the DDL at 12, a3 at 13); shop.a's a2 is shadowed by the
	 * database-wide DDL at 7, shop.b too. */
	h = cdc_schema_history_open(path, 10, &err);
	assert_non_null(h);
	cdc_schema_history_store(h, &st);
	assert_int_equal(cdc_schema_history_size(h), 3);
	assert_int_equal(cdc_schema_history_appended(h), 0);
	for (uint64_t at = 10; at < 15; at++) {
		assert_int_equal(find(&st, "other", "c", at, name, sizeof(name)), 1);
		assert_string_equal(name, "c1");
		assert_int_equal(find(&st, "shop", "b", at, name, sizeof(name)), 0);
	}
	assert_int_equal(find(&st, "shop", "a", 11, name, sizeof(name)), 0);
	assert_int_equal(find(&st, "shop", "a", 12, name, sizeof(name)), 0);
	assert_int_equal(find(&st, "shop", "a", 13, name, sizeof(name)), 1);
	assert_string_equal(name, "a3");
	cdc_schema_history_close(h);
	/* the file was rewritten: a second open reads the 3 */
	h = cdc_schema_history_open(path, 0, &err);
	assert_non_null(h);
	assert_int_equal(cdc_schema_history_size(h), 3);
	cdc_schema_history_close(h);
}

/* The catalog answers from the store, with no server to ask; a DDL goes
 * into the store, and after it the catalog has to ask (and cannot). */
static void catalog_reads_the_store(void **state)
{
	binlog_err_t err;
	schema_catalog_store_t st;
	schema_catalog_table_t t;
	schema_catalog_column_t cols[2];
	uint32_t pk[1];
	const schema_catalog_table_t *got;
	schema_catalog_t *c = schema_catalog_new(NULL);
	cdc_schema_history_t *h;

	(void)state;
	unlink(path);
	h = cdc_schema_history_open(path, 0, &err);
	assert_non_null(h);
	assert_non_null(c);
	cdc_schema_history_store(h, &st);
	def(&t, cols, pk, "u", SCHEMA_EXT_UUID);
	assert_int_equal(st.add(st.ctx, 5, "shop", "t", 1, &t, &err), BINLOG_OK);
	schema_catalog_set_store(c, &st);

	schema_catalog_set_at(c, 4);
	assert_null(schema_catalog_get(c, "shop", "t", &err));
	assert_int_equal(err.code, BINLOG_E_IO); /* no connection */
	schema_catalog_set_at(c, 6);
	got = schema_catalog_get(c, "shop", "t", &err);
	assert_non_null(got);
	assert_int_equal(got->ncols, 2);
	assert_string_equal(got->cols[1].name, "u");
	assert_int_equal(got->cols[1].ext, SCHEMA_EXT_UUID);
	assert_int_equal(got->npk, 1);

	schema_catalog_set_at(c, 8);
	const char *ddl = "ALTER TABLE t ADD COLUMN z INT";
	assert_int_equal(schema_catalog_ddl(c, "shop", ddl, strlen(ddl), &err), BINLOG_OK);
	assert_int_equal(cdc_schema_history_size(h), 2);
	assert_null(schema_catalog_get(c, "shop", "t", &err));
	assert_int_equal(err.code, BINLOG_E_IO);
	schema_catalog_free(c);
	cdc_schema_history_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(holds_until_ddl, setup, teardown),
		cmocka_unit_test_setup_teardown(torn_and_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(catalog_reads_the_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
