/*
 * test_cdc_filter.c: the table and column filters (cdc_filter.h): PCRE2
 * patterns matched against whole names, include and exclude lists, the
 * column actions, and the error a pattern that does not compile gives.
 */
#include "testutil.h"

#include "cdc_filter.h"

/* A source whose four lists hold these patterns (NULL-terminated). */
typedef struct lists {
	const char *const *tables, *const *tables_exclude, *const *columns_exclude,
								   *const *columns_mask;
} lists_t;

static void fill(cdc_list_t *l, const char *const *v)
{
	l->n = 0;
	l->v = NULL;
	if (!v)
		return;
	while (v[l->n])
		l->n++;
	l->v = (char **)v; /* the filter only reads them */
}

static binlog_errcode_t make(const lists_t *ls, cdc_filter_t **f, binlog_err_t *err)
{
	cdc_source_conf_t src;

	memset(&src, 0, sizeof(src));
	fill(&src.tables, ls->tables);
	fill(&src.tables_exclude, ls->tables_exclude);
	fill(&src.columns_exclude, ls->columns_exclude);
	fill(&src.columns_mask, ls->columns_mask);
	return cdc_filter_new(&src, f, err);
}

static cdc_filter_t *must_make(const lists_t *ls)
{
	cdc_filter_t *f = NULL;
	binlog_err_t err;

	assert_int_equal(make(ls, &f, &err), BINLOG_OK);
	assert_non_null(f);
	return f;
}

static void test_empty(void **state)
{
	static const lists_t ls = {0};
	cdc_filter_t *f = must_make(&ls);

	(void)state;
	assert_int_equal(cdc_filter_table(f, "shop", "orders"), 1);
	assert_int_equal(cdc_filter_column(f, "shop", "orders", "id"), CDC_COLUMN_KEEP);
	assert_int_equal(cdc_filter_column(f, "shop", "orders", NULL), CDC_COLUMN_KEEP);
	/* No filter at all: everything. */
	assert_int_equal(cdc_filter_table(NULL, "a", "b"), 1);
	assert_int_equal(cdc_filter_column(NULL, "a", "b", "c"), CDC_COLUMN_KEEP);
	cdc_filter_free(f);
	cdc_filter_free(NULL);
}

static void test_include_exclude(void **state)
{
	static const char *const inc[] = {"shop\\..*", "crm\\.customers", NULL};
	static const char *const exc[] = {"shop\\.tmp_.*", NULL};
	static const lists_t ls = {.tables = inc, .tables_exclude = exc};
	cdc_filter_t *f = must_make(&ls);

	(void)state;
	assert_int_equal(cdc_filter_table(f, "shop", "orders"), 1);
	assert_int_equal(cdc_filter_table(f, "crm", "customers"), 1);
	assert_int_equal(cdc_filter_table(f, "crm", "leads"), 0);
	/* Exclusion wins over inclusion. */
	assert_int_equal(cdc_filter_table(f, "shop", "tmp_1"), 0);
	assert_int_equal(cdc_filter_table(f, "shop", "tmp"), 1);
	cdc_filter_free(f);
}

static void test_exclude_only(void **state)
{
	static const char *const exc[] = {".*\\.audit_log", NULL};
	static const lists_t ls = {.tables_exclude = exc};
	cdc_filter_t *f = must_make(&ls);

	(void)state;
	assert_int_equal(cdc_filter_table(f, "shop", "orders"), 1);
	assert_int_equal(cdc_filter_table(f, "shop", "audit_log"), 0);
	assert_int_equal(cdc_filter_table(f, "crm", "audit_log"), 0);
	assert_int_equal(cdc_filter_table(f, "crm", "audit_log2"), 1);
	cdc_filter_free(f);
}

/* The whole name, both ends, and alternatives each to the end. */
static void test_anchoring(void **state)
{
	static const char *const inc[] = {"shop\\.order", "a\\.x|a\\.xy", NULL};
	static const lists_t ls = {.tables = inc};
	cdc_filter_t *f = must_make(&ls);

	(void)state;
	assert_int_equal(cdc_filter_table(f, "shop", "order"), 1);
	assert_int_equal(cdc_filter_table(f, "shop", "orders"), 0);
	assert_int_equal(cdc_filter_table(f, "myshop", "order"), 0);
	assert_int_equal(cdc_filter_table(f, "a", "x"), 1);
	assert_int_equal(cdc_filter_table(f, "a", "xy"), 1);
	assert_int_equal(cdc_filter_table(f, "a", "xyz"), 0);
	assert_int_equal(cdc_filter_table(f, "b", "a.x"), 0);
	cdc_filter_free(f);
}

/* An unescaped dot is any character; escaped, a dot. Names are UTF-8:
 * one dot, one character. \Q...\E quotes. */
static void test_escapes_and_utf8(void **state)
{
	static const char *const inc[] = {"a.c\\.t", "caf.\\.x", "d\\.\\Qa+b\\E", NULL};
	static const char *const exc[] = {"a\\.c\\.t", NULL};
	static const lists_t ls = {.tables = inc, .tables_exclude = exc};
	cdc_filter_t *f = must_make(&ls);

	(void)state;
	assert_int_equal(cdc_filter_table(f, "abc", "t"), 1); /* "." matched "b" */
	assert_int_equal(cdc_filter_table(f, "a", "c.t"), 0); /* also the exclusion's */
	assert_int_equal(cdc_filter_table(f, "abbc", "t"), 0);
	assert_int_equal(cdc_filter_table(f, "café", "x"), 1); /* é is one "." */
	assert_int_equal(cdc_filter_table(f, "cafée", "x"), 0);
	assert_int_equal(cdc_filter_table(f, "d", "a+b"), 1);
	assert_int_equal(cdc_filter_table(f, "d", "aab"), 0);
	/* Not UTF-8 (a corrupt name): no error, but nothing matches the
	 * invalid byte. */
	assert_int_equal(cdc_filter_table(f, "caf\xff", "x"), 0);
	assert_int_equal(cdc_filter_table(f, "\xc3", "x"), 0);
	cdc_filter_free(f);
}

static void expect_error(const lists_t *ls, const char *const *needles)
{
	cdc_filter_t *f = (cdc_filter_t *)1;
	binlog_err_t err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(make(ls, &f, &err), BINLOG_E_USAGE);
	assert_null(f);
	assert_int_equal(err.code, BINLOG_E_USAGE);
	for (const char *const *q = needles; *q; q++) {
		if (!strstr(err.msg, *q))
			fail_msg("\"%s\" not in \"%s\"", *q, err.msg);
	}
}

static void test_bad_pattern(void **state)
{
	static const char *const ok[] = {"shop\\..*", NULL};
	static const char *const bad[] = {"fine", "shop\\.(x", NULL};
	static const char *const bad2[] = {"a[b", NULL};
	static const char *const bad3[] = {"x**", NULL};
	static const lists_t l1 = {.tables = ok, .tables_exclude = bad};
	static const lists_t l2 = {.columns_mask = bad2};
	static const lists_t l3 = {.columns_exclude = bad3};
	static const char *const n1[] = {"source.tables.exclude", "\"shop\\.(x\"",
					 "missing closing parenthesis", "at offset 8", NULL};
	static const char *const n2[] = {"source.columns.mask", "\"a[b\"", "missing terminating ]",
					 "at offset 3", NULL};
	static const char *const n3[] = {"source.columns.exclude", "\"x**\"", "at offset 2", NULL};

	(void)state;
	expect_error(&l1, n1);
	expect_error(&l2, n2);
	expect_error(&l3, n3);
}

static void test_columns(void **state)
{
	static const char *const exc[] = {"shop\\.customers\\.(ssn|card_no)", NULL};
	static const char *const mask[] = {".*\\.email", "shop\\.customers\\.ssn", NULL};
	static const lists_t ls = {.columns_exclude = exc, .columns_mask = mask};
	cdc_filter_t *f = must_make(&ls);

	(void)state;
	assert_int_equal(cdc_filter_column(f, "shop", "customers", "id"), CDC_COLUMN_KEEP);
	assert_int_equal(cdc_filter_column(f, "shop", "customers", "card_no"), CDC_COLUMN_EXCLUDE);
	/* Both lists: left out, which reveals less than "****". */
	assert_int_equal(cdc_filter_column(f, "shop", "customers", "ssn"), CDC_COLUMN_EXCLUDE);
	assert_int_equal(cdc_filter_column(f, "shop", "customers", "email"), CDC_COLUMN_MASK);
	assert_int_equal(cdc_filter_column(f, "crm", "leads", "email"), CDC_COLUMN_MASK);
	assert_int_equal(cdc_filter_column(f, "crm", "leads", "email2"), CDC_COLUMN_KEEP);
	assert_int_equal(cdc_filter_column(f, "shop", "customers", "ssn2"), CDC_COLUMN_KEEP);
	/* Table filters are separate: no table list means every table. */
	assert_int_equal(cdc_filter_table(f, "shop", "customers"), 1);
	cdc_filter_free(f);
}

/* column NULL: what some column of the table might get (for tables whose
 * column names are unknown). */
static void test_columns_unknown_names(void **state)
{
	static const char *const exc[] = {"shop\\.customers\\.ssn", NULL};
	static const char *const mask[] = {"crm\\..*\\.email", NULL};
	static const lists_t ls = {.columns_exclude = exc, .columns_mask = mask};
	cdc_filter_t *f = must_make(&ls);

	(void)state;
	assert_int_equal(cdc_filter_column(f, "shop", "customers", NULL), CDC_COLUMN_EXCLUDE);
	assert_int_equal(cdc_filter_column(f, "crm", "leads", NULL), CDC_COLUMN_MASK);
	assert_int_equal(cdc_filter_column(f, "shop", "orders", NULL), CDC_COLUMN_KEEP);
	assert_int_equal(cdc_filter_column(f, "shop", "customers2", NULL), CDC_COLUMN_KEEP);
	assert_int_equal(cdc_filter_column(f, "shopx", "customers", NULL), CDC_COLUMN_KEEP);
	cdc_filter_free(f);
}

/* Names longer than the stack buffer go to the heap. */
static void test_long_names(void **state)
{
	static const char *const inc[] = {"d\\.x+", NULL};
	static const char *const mask[] = {"d\\.x+\\.y+", NULL};
	static const lists_t ls = {.tables = inc, .columns_mask = mask};
	cdc_filter_t *f = must_make(&ls);
	char t[1001], c[1001];

	(void)state;
	memset(t, 'x', 1000);
	t[1000] = 0;
	memset(c, 'y', 1000);
	c[1000] = 0;
	assert_int_equal(cdc_filter_table(f, "d", t), 1);
	assert_int_equal(cdc_filter_column(f, "d", t, c), CDC_COLUMN_MASK);
	assert_int_equal(cdc_filter_column(f, "d", t, NULL), CDC_COLUMN_MASK);
	cdc_filter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_include_exclude),
		cmocka_unit_test(test_exclude_only),
		cmocka_unit_test(test_anchoring),
		cmocka_unit_test(test_escapes_and_utf8),
		cmocka_unit_test(test_bad_pattern),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_columns_unknown_names),
		cmocka_unit_test(test_long_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
