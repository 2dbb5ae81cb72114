/*
 * test_cdc_route.c: topics from table names (cdc_route.h) and the Kafka
 * keys of records (cdc_keyer, cdc_record.h): shards merged into one topic,
 * capture groups, the default rule, characters Kafka does not allow, rules
 * that do not compile; keys of composite, string and JSON-valued primary
 * keys, and of MINIMAL after images that lack a key column.
 */
#include "testutil.h"

#include "cdc_record.h"
#include "cdc_route.h"

static cdc_router_t *must_router(const cdc_route_conf_t *rules, size_t n, const char *def)
{
	cdc_router_t *r = NULL;
	binlog_err_t err = {0};

	if (cdc_router_new(rules, n, def, "src", &r, &err) != BINLOG_OK)
		fail_msg("router: %s", err.msg);
	return r;
}

static const char *topic(cdc_router_t *r, const char *db, const char *table)
{
	binlog_err_t err = {0};
	cdc_route_entry_t *e = cdc_router_get(r, db, strlen(db), table, strlen(table), &err);

	if (!e)
		fail_msg("%s.%s: %s", db, table, err.msg);
	return e->topic;
}

static void shards_merge(void **state)
{
	cdc_route_conf_t rules[] = {
		{.database = "shop_[0-9]+", .table = "order_[0-9]+", .topic = "ods.orders"},
		{.database = "shop_([0-9]+)",
		 .table = "(.*)_log",
		 .topic = "logs.${db.1}.${table.1}"},
		{.database = "crm", .topic = "crm.${table}"},
	};
	cdc_router_t *r;

	(void)state;
	r = must_router(rules, 3, "${source}.${db}.${table}");
	assert_string_equal(topic(r, "shop_1", "order_7"), "ods.orders");
	assert_string_equal(topic(r, "shop_22", "order_0"), "ods.orders");
	/* the whole name must match: a prefix is not enough */
	assert_string_equal(topic(r, "shop_1x", "order_7"), "src.shop_1x.order_7");
	assert_string_equal(topic(r, "shop_1", "order_7_old"), "src.shop_1.order_7_old");
	/* first matching rule wins; groups of both regexes */
	assert_string_equal(topic(r, "shop_3", "audit_log"), "logs.3.audit");
	assert_string_equal(topic(r, "crm", "customers"), "crm.customers");
	assert_string_equal(topic(r, "other", "t"), "src.other.t");
	cdc_router_free(r);
}

static void entries_are_remembered(void **state)
{
	cdc_route_conf_t rules[] = {{.table = "a", .topic = "ta"}};
	binlog_err_t err = {0};
	cdc_router_t *r;
	cdc_route_entry_t *e1, *e2;
	size_t n = 0;
	char name[32];

	(void)state;
	r = must_router(rules, 1, "d.${table}");
	e1 = cdc_router_get(r, "db", 2, "a", 1, &err);
	e2 = cdc_router_get(r, "db", 2, "a", 1, &err);
	assert_ptr_equal(e1, e2);
	assert_int_equal(e1->rule, 0);
	assert_string_equal(e1->db, "db");
	/* names are compared whole: "db"/"ab" is not "dba"/"b" */
	e2 = cdc_router_get(r, "dba", 3, "b", 1, &err);
	assert_ptr_not_equal(e1, e2);
	assert_int_equal(e2->rule, -1);
	assert_ptr_not_equal(cdc_router_get(r, "db", 2, "ab", 2, &err), e2);
	/* many tables: the table grows, every entry stays reachable */
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		assert_non_null(cdc_router_get(r, "db", 2, name, strlen(name), &err));
	}
	for (cdc_route_entry_t *e = cdc_router_entries(r); e; e = e->next_all)
		n++;
	assert_int_equal(n, 503);
	e2 = cdc_router_get(r, "db", 2, "t250", 4, &err);
	assert_string_equal(e2->topic, "d.t250");
	cdc_router_free(r);
}

static void topic_characters(void **state)
{
	cdc_route_conf_t rules[] = {{.table = "x", .topic = "a.${table}"}};
	cdc_router_t *r;
	binlog_err_t err = {0};
	char longname[300];

	(void)state;
	r = must_router(rules, 1, "cdc.${db}.${table}");
	/* names may hold what topics may not */
	assert_string_equal(topic(r, "my db", "t$ä"), "cdc.my_db.t___");
	assert_string_equal(topic(r, "d", "x"), "a.x");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_null(cdc_router_get(r, "d", 1, longname, strlen(longname), &err));
	assert_int_equal(err.code, BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "is not a valid topic name (1 to 249 characters"));
	cdc_router_free(r);
}

static void bad_rules(void **state)
{
	cdc_route_conf_t bad_re[] = {
		{.table = "a", .topic = "ok"},
		{.database = "shop", .table = "order_[0-9", .topic = "x"},
	};
	cdc_route_conf_t bad_group[] = {{.database = "(a)", .topic = "x.${db.2}"}};
	cdc_router_t *r = NULL;
	binlog_err_t err = {0};
	char msg[256];
	unsigned groups = 9;

	(void)state;
	assert_int_equal(cdc_router_new(bad_re, 2, "d", "s", &r, &err), BINLOG_E_USAGE);
	assert_null(r);
	assert_string_equal(err.msg, "route[2].table: 'order_[0-9' does not compile at offset 10: "
				     "missing terminating ] for character class");
	assert_int_equal(cdc_router_new(bad_group, 1, "d", "s", &r, &err), BINLOG_E_USAGE);
	assert_string_equal(err.msg, "route[1].topic: 'x.${db.2}': ${db.2}, but the database "
				     "regex has 1 capture group");
	assert_int_equal(cdc_router_new(NULL, 0, "a/b", "s", &r, &err), BINLOG_E_USAGE);
	assert_string_equal(err.msg, "sink.topic: 'a/b': '/' cannot be in a topic name (letters, "
				     "digits, '.', '_' and '-')");
	assert_int_equal(cdc_route_check_regex("(a)(b)", &groups, msg, sizeof(msg)), 0);
	assert_int_equal(groups, 2);
	assert_int_equal(cdc_route_check_template("", 0, 0, msg, sizeof(msg)), -1);
	assert_int_equal(cdc_route_check_template("x.${db.0}.${table}", 0, 0, msg, sizeof(msg)), 0);
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

/* A table db.tbl with columns named as given and a key on `pk`. */
typedef struct fake {
	binlog_table_t bt;
	schema_table_t st;
	schema_column_t cols[4];
	char keys[4][32];
	uint32_t pk[4];
} fake_t;

static void fake(fake_t *f, const char *const *names, int ncols, const uint32_t *pk, int npk)
{
	memset(f, 0, sizeof(*f));
	f->bt.db.p = "shop";
	f->bt.db.len = 4;
	f->bt.name.p = "orders";
	f->bt.name.len = 6;
	f->st.bt = &f->bt;
	f->st.qualified = "shop.orders";
	f->st.ncols = (uint32_t)ncols;
	f->st.cols = f->cols;
	for (int i = 0; i < ncols; i++) {
		snprintf(f->keys[i], sizeof(f->keys[i]), "\"%s\":", names[i]);
		f->cols[i].key = f->keys[i];
		f->cols[i].key_len = (uint32_t)strlen(f->keys[i]);
	}
	memcpy(f->pk, pk, (size_t)npk * sizeof(*pk));
	f->st.pk = f->pk;
	f->st.npk = (uint32_t)npk;
}

static const char *key_of(cdc_keyer_t *k, const schema_table_t *st, const char *rec)
{
	static char out[512];
	binlog_err_t err = {0};

	if (cdc_keyer_build(k, st, (const uint8_t *)rec, strlen(rec), &err) != BINLOG_OK)
		fail_msg("key: %s", err.msg);
	snprintf(out, sizeof(out), "%.*s", (int)k->key.len, (const char *)k->key.data);
	return out;
}

static void keys(void **state)
{
	static const char *const names[] = {"id", "doc", "region", "note"};
	const uint32_t pk_id[] = {0}, pk_two[] = {2, 0};
	fake_t f;
	cdc_keyer_t k;
	binlog_err_t err = {0};

	(void)state;
	cdc_keyer_init(&k);
	fake(&f, names, 4, pk_id, 1);
	assert_string_equal(key_of(&k, &f.st,
				   "{\"data\":{\"id\":7,\"doc\":{\"a\":[1,{\"id\":9}],\"b\":\"}\"},"
				   "\"region\":\"eu\",\"note\":null},\"op\":\"+I\",\"seq\":1}"),
			    "[\"shop\",\"orders\",7]");
	/* composite key, in key order, not column order; strings as written */
	fake(&f, names, 4, pk_two, 2);
	assert_string_equal(key_of(&k, &f.st,
				   "{\"data\":{\"id\":-3,\"doc\":\"x,\\\"id\\\":1\",\"region\":"
				   "\"e\\\"u\",\"note\":\"n\"},\"op\":\"+I\"}"),
			    "[\"shop\",\"orders\",\"e\\\"u\",-3]");
	/* MINIMAL: the before image keys the update, the after image lacks
	 * `region` and keeps its value */
	assert_string_equal(
		key_of(&k, &f.st, "{\"data\":{\"id\":1,\"region\":\"us\"},\"op\":\"-U\"}"),
		"[\"shop\",\"orders\",\"us\",1]");
	assert_string_equal(key_of(&k, &f.st, "{\"data\":{\"id\":2,\"note\":\"x\"},\"op\":\"+U\"}"),
			    "[\"shop\",\"orders\",\"us\",2]");
	/* no key: the table alone */
	fake(&f, names, 4, pk_id, 0);
	assert_string_equal(key_of(&k, &f.st, "{\"data\":{\"id\":1},\"op\":\"+I\"}"),
			    "[\"shop\",\"orders\"]");
	/* a key column nowhere to be found is an error naming the table */
	cdc_keyer_free(&k);
	cdc_keyer_init(&k);
	fake(&f, names, 4, pk_id, 1);
	assert_int_equal(
		cdc_keyer_build(&k, &f.st, (const uint8_t *)"{\"data\":{\"note\":1}}", 19, &err),
		BINLOG_E_BAD_VALUE);
	assert_non_null(strstr(err.msg, "table shop.orders: the image lacks key column 1"));
	cdc_keyer_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shards_merge),
		cmocka_unit_test(entries_are_remembered),
		cmocka_unit_test(topic_characters),
		cmocka_unit_test(bad_rules),
		cmocka_unit_test(keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
