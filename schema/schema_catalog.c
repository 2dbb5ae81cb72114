/*
 * schema_catalog.c: table definitions from information_schema, cached, and
 * forgotten when a DDL statement may have changed them (schema_catalog.h);
 * and schema_ddl_targets (schema.h), the small DDL reader that says which
 * tables a statement may change.
 *
 * Per table, at most four queries, each by escaped literal
 * (mysql_real_escape_string, which follows the connection's charset and
 * NO_BACKSLASH_ESCAPES), each naming TABLE_SCHEMA and TABLE_NAME so that
 * the server opens only that table:
 *
 *   TABLES              does it exist; TABLE_TYPE (MariaDB's "SYSTEM
 *                       VERSIONED") and ENGINE
 *   COLUMNS             in ORDINAL_POSITION order: name, DATA_TYPE,
 *                       COLUMN_TYPE (" unsigned"), COLLATION_NAME (to an id
 *                       through a per-connection map of COLLATIONS),
 *                       GENERATION_EXPRESSION
 *   STATISTICS          the primary key; without one, the UNIQUE key the
 *                       server promotes to primary key (the first, in the
 *                       server's key order, whose columns are all NOT NULL
 *                       and whole, not a MariaDB long-unique hash): what a
 *                       binlog with full metadata names as "pk", so both
 *                       ways give the same records
 *   CHECK_CONSTRAINTS   MariaDB only, only for tables with a text column:
 *                       MariaDB's JSON is LONGTEXT with a CHECK
 *                       (json_valid(`col`)), which is how it is told apart
 *
 * What the binlog holds and information_schema does not show is added at
 * the end, as MariaDB logs it: the implicit row_start and row_end of a
 * table WITH SYSTEM VERSIONING (and row_end in its keys), and a
 * DB_ROW_HASH_n BIGINT per long UNIQUE key (a UNIQUE key on a BLOB or a
 * too-long VARCHAR, which MariaDB enforces through a hidden hash column).
 * Invisible and generated (VIRTUAL too) columns are listed by
 * information_schema and logged, in the same order.
 *
 * information_schema lists only what the connected user has some
 * privilege on: without one, a table reads as missing.
 *
 * The cache holds at most CAT_MAX_TABLES tables, the least recently used
 * going first; tables that do not exist are cached too (a CREATE TABLE
 * in the stream forgets them). An entry, and so a result of
 * schema_catalog_get, lives until the next schema_catalog_get (which may
 * evict it), invalidation or set_conn. A table that does not exist gives
 * NULL with BINLOG_E_UNSUPPORTED; a query that failed, NULL with
 * BINLOG_E_IO when retrying can help (the connection), BINLOG_E_USAGE
 * when it cannot.
 *
 * Memory: the catalog owns its entries and every string in them; the
 * caller owns the connection.
 */
#include <mysql.h>

#include "schema_catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "binlog_buf.h"
#include "schema.h"

#define CAT_MAX_TABLES 4096
#define CAT_BUCKETS    8192 /* power of two, twice the tables */

/* The binary collation: what a binlog names for binary columns. */
#define COLLATION_BINARY 63

typedef struct cat_entry {
	char *db, *table; /* exact bytes asked for */
	uint32_t hash;
	int present;   /* 0: the server has no such table (cached too) */
	uint64_t used; /* tick of the last lookup, for eviction */
	schema_catalog_table_t t;
	struct cat_entry *next; /* hash chain */
} cat_entry_t;

typedef struct coll {
	char *name;
	uint32_t id;
} coll_t;

struct schema_catalog {
	MYSQL *m;
	cat_entry_t **buckets; /* CAT_BUCKETS chains */
	size_t n;
	uint64_t tick;
	/* Per connection: collation name -> id (sorted), and the flavour. */
	coll_t *coll;
	size_t ncoll;
	int coll_loaded;
	int flavor;                   /* -1 not known yet, else 1 MariaDB, 0 other */
	schema_catalog_store_t store; /* find == NULL: none */
	uint64_t at;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive for ASCII letters only: names differ in case only on
 * servers with lower_case_table_names, and invalidating too much is
 * harmless. */
static int name_eq_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
			return 0;
	return *a == *b;
}

static int word_eq(const char *p, size_t n, const char *kw)
{
	size_t k = strlen(kw);

	if (n != k)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)p[i]) != ascii_lower((unsigned char)kw[i]))
			return 0;
	return 1;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		if (n)
			memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static uint32_t name_hash(const char *db, const char *table)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const char *p = db; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ 0xff) * 16777619u; /* 0xff never appears in UTF-8 */
	for (const char *p = table; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

void schema_catalog_table_clear(schema_catalog_table_t *t)
{
	for (uint32_t i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].data_type);
	}
	free(t->cols);
	free(t->pk);
	memset(t, 0, sizeof(*t));
}

static void entry_free(cat_entry_t *e)
{
	schema_catalog_table_clear(&e->t);
	free(e->db);
	free(e->table);
	free(e);
}

/* ------------------------------------------------------------------ */
/* The catalog object                                                  */

schema_catalog_t *schema_catalog_new(MYSQL *m)
{
	schema_catalog_t *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->buckets = calloc(CAT_BUCKETS, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	c->m = m;
	c->flavor = -1;
	return c;
}

static void coll_clear(schema_catalog_t *c)
{
	for (size_t i = 0; i < c->ncoll; i++)
		free(c->coll[i].name);
	free(c->coll);
	c->coll = NULL;
	c->ncoll = 0;
	c->coll_loaded = 0;
}

void schema_catalog_free(schema_catalog_t *c)
{
	if (!c)
		return;
	schema_catalog_invalidate(c, NULL, NULL);
	coll_clear(c);
	free(c->buckets);
	free(c);
}

void schema_catalog_set_store(schema_catalog_t *c, const schema_catalog_store_t *st)
{
	if (st)
		c->store = *st;
	else
		memset(&c->store, 0, sizeof(c->store));
	schema_catalog_invalidate(c, NULL, NULL);
}

void schema_catalog_set_at(schema_catalog_t *c, uint64_t at)
{
	c->at = at;
}

void schema_catalog_set_conn(schema_catalog_t *c, MYSQL *m)
{
	/* Another connection may be another server (a failover): nothing
	 * learnt from the old one is kept. */
	c->m = m;
	c->flavor = -1;
	coll_clear(c);
	schema_catalog_invalidate(c, NULL, NULL);
}

void schema_catalog_invalidate(schema_catalog_t *c, const char *db, const char *table)
{
	for (size_t b = 0; b < CAT_BUCKETS; b++) {
		cat_entry_t **pp = &c->buckets[b];
		while (*pp) {
			cat_entry_t *e = *pp;
			if ((!db || name_eq_ci(e->db, db)) &&
			    (!table || name_eq_ci(e->table, table))) {
				*pp = e->next;
				entry_free(e);
				c->n--;
			} else {
				pp = &e->next;
			}
		}
	}
}

/* Drop the least recently used entry (a scan: this runs once per table
 * definition loaded into a full cache, not per row). */
static void evict_one(schema_catalog_t *c)
{
	cat_entry_t **victim = NULL;

	for (size_t b = 0; b < CAT_BUCKETS; b++)
		for (cat_entry_t **pp = &c->buckets[b]; *pp; pp = &(*pp)->next)
			if (!victim || (*pp)->used < (*victim)->used)
				victim = pp;
	if (victim) {
		cat_entry_t *e = *victim;
		*victim = e->next;
		entry_free(e);
		c->n--;
	}
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */

/* A failed query: retriable when the connection is the problem. */
static binlog_errcode_t query_error(MYSQL *m, const char *what, binlog_err_t *err)
{
	unsigned no = mysql_errno(m);
	int transient = (no >= CR_MIN_ERROR && no <= CR_MAX_ERROR) || no == ER_LOCK_WAIT_TIMEOUT ||
			no == ER_LOCK_DEADLOCK || no == ER_QUERY_INTERRUPTED ||
			no == ER_SERVER_SHUTDOWN || no == ER_CON_COUNT_ERROR;

	return binlog_err_set(err, transient ? BINLOG_E_IO : BINLOG_E_USAGE,
			      "catalog: reading %s: %s (error %u)", what, mysql_error(m), no);
}

static int is_missing_column_error(MYSQL *m)
{
	unsigned no = mysql_errno(m);
	return no == ER_BAD_FIELD_ERROR || no == ER_UNKNOWN_TABLE || no == ER_NO_SUCH_TABLE;
}

/* Run q; *res is the stored result (the caller frees it). */
static binlog_errcode_t run(schema_catalog_t *c, const binlog_buf_t *q, const char *what,
			    MYSQL_RES **res, binlog_err_t *err)
{
	*res = NULL;
	if (!c->m)
		return binlog_err_set(err, BINLOG_E_IO, "catalog: reading %s: no connection", what);
	if (q->failed)
		return binlog_err_set(err, BINLOG_E_NOMEM, "catalog: query too large");
	if (mysql_real_query(c->m, (const char *)q->data, (unsigned long)q->len) != 0)
		return query_error(c->m, what, err);
	*res = mysql_store_result(c->m);
	if (!*res)
		return mysql_errno(c->m) ? query_error(c->m, what, err)
					 : binlog_err_set(err, BINLOG_E_USAGE,
							  "catalog: reading %s: no result", what);
	return BINLOG_OK;
}

/* Append s as the body of a quoted literal. */
static void put_escaped(binlog_buf_t *q, MYSQL *m, const char *s)
{
	size_t n = strlen(s);
	uint8_t *o = binlog_buf_space(q, 2 * n + 1);

	if (!o)
		return;
	binlog_buf_commit(q, mysql_real_escape_string(m, (char *)o, s, (unsigned long)n));
}

/* "SELECT <cols> FROM information_schema.<from> WHERE <dbcol>='db' AND
 * TABLE_NAME='table'<tail>" */
void schema_catalog_query(binlog_buf_t *q, MYSQL *m, const char *cols, const char *from,
			  const char *dbcol, const char *db, const char *table, const char *tail)
{
	binlog_buf_reset(q);
	binlog_buf_lit(q, "SELECT ");
	binlog_buf_puts(q, cols);
	binlog_buf_lit(q, " FROM information_schema.");
	binlog_buf_puts(q, from);
	binlog_buf_lit(q, " WHERE ");
	binlog_buf_puts(q, dbcol);
	binlog_buf_lit(q, "='");
	put_escaped(q, m, db);
	binlog_buf_lit(q, "' AND TABLE_NAME='");
	put_escaped(q, m, table);
	binlog_buf_putc(q, '\'');
	binlog_buf_puts(q, tail);
}

static int coll_cmp(const void *a, const void *b)
{
	return strcmp(((const coll_t *)a)->name, ((const coll_t *)b)->name);
}

static binlog_errcode_t coll_add(schema_catalog_t *c, MYSQL_RES *res, size_t *cap)
{
	MYSQL_ROW row;

	while ((row = mysql_fetch_row(res))) {
		if (!row[0] || !row[1])
			continue;
		if (c->ncoll == *cap) {
			size_t ncap = *cap ? *cap * 2 : 512;
			coll_t *p = realloc(c->coll, ncap * sizeof(*p));
			if (!p)
				return BINLOG_E_NOMEM;
			c->coll = p;
			*cap = ncap;
		}
		c->coll[c->ncoll].name = dup_n(row[0], strlen(row[0]));
		if (!c->coll[c->ncoll].name)
			return BINLOG_E_NOMEM;
		c->coll[c->ncoll].id = (uint32_t)strtoul(row[1], NULL, 10);
		c->ncoll++;
	}
	return BINLOG_OK;
}

/*
 * The collation map, once per connection. MariaDB 10.10+ lists the
 * charset-specific names of its shared UCA-14 collations (what COLUMNS
 * shows, "utf8mb4_uca1400_ai_ci") only in COLLATION_CHARACTER_SET_
 * APPLICABILITY; elsewhere COLLATIONS has them all.
 */
static binlog_errcode_t coll_load(schema_catalog_t *c, binlog_err_t *err)
{
	binlog_buf_t q;
	MYSQL_RES *res;
	binlog_errcode_t rc;
	size_t cap = 0;

	if (c->coll_loaded)
		return BINLOG_OK;
	binlog_buf_init(&q, 0);
	binlog_buf_lit(&q, "SELECT COLLATION_NAME, ID FROM information_schema.COLLATIONS "
			   "WHERE ID IS NOT NULL");
	rc = run(c, &q, "information_schema.COLLATIONS", &res, err);
	if (rc == BINLOG_OK) {
		rc = coll_add(c, res, &cap);
		mysql_free_result(res);
		if (rc != BINLOG_OK)
			binlog_err_set(err, rc, NULL);
	}
	if (rc == BINLOG_OK) {
		binlog_buf_reset(&q);
		binlog_buf_lit(&q, "SELECT FULL_COLLATION_NAME, ID FROM "
				   "information_schema.COLLATION_CHARACTER_SET_APPLICABILITY "
				   "WHERE ID IS NOT NULL");
		if (!c->m || mysql_real_query(c->m, (const char *)q.data, (unsigned long)q.len)) {
			/* Not MariaDB 10.10+: COLLATIONS had every name. */
			if (c->m && !is_missing_column_error(c->m))
				rc = query_error(c->m, "collations", err);
		} else if ((res = mysql_store_result(c->m))) {
			rc = coll_add(c, res, &cap);
			mysql_free_result(res);
			if (rc != BINLOG_OK)
				binlog_err_set(err, rc, NULL);
		}
	}
	binlog_buf_free(&q);
	if (rc != BINLOG_OK) {
		coll_clear(c);
		return rc;
	}
	qsort(c->coll, c->ncoll, sizeof(*c->coll), coll_cmp);
	c->coll_loaded = 1;
	return BINLOG_OK;
}

static uint32_t coll_id(const schema_catalog_t *c, const char *name)
{
	coll_t key = {(char *)name, 0};
	const coll_t *f = bsearch(&key, c->coll, c->ncoll, sizeof(*c->coll), coll_cmp);
	return f ? f->id : 0;
}

static int is_mariadb(schema_catalog_t *c)
{
	if (c->flavor < 0) {
		const char *v = c->m ? mysql_get_server_info(c->m) : NULL;
		c->flavor = v && strstr(v, "MariaDB") ? 1 : 0;
	}
	return c->flavor == 1;
}

/* DATA_TYPEs whose values are bytes: the binary collation. */
static int binary_type(const char *t)
{
	static const char *const names[] = {"binary",     "varbinary", "tinyblob", "blob",
					    "mediumblob", "longblob",  "uuid",     "inet4",
					    "inet6",      "vector"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(t, names[i]) == 0)
			return 1;
	return 0;
}

static int text_type(const char *t)
{
	return strcmp(t, "tinytext") == 0 || strcmp(t, "text") == 0 ||
	       strcmp(t, "mediumtext") == 0 || strcmp(t, "longtext") == 0;
}

static int ext_of(const char *t)
{
	if (strcmp(t, "uuid") == 0)
		return SCHEMA_EXT_UUID;
	if (strcmp(t, "inet4") == 0)
		return SCHEMA_EXT_INET4;
	if (strcmp(t, "inet6") == 0)
		return SCHEMA_EXT_INET6;
	if (strcmp(t, "json") == 0)
		return SCHEMA_EXT_JSON;
	if (strcmp(t, "vector") == 0)
		return SCHEMA_EXT_VECTOR;
	return SCHEMA_EXT_NONE;
}

/* Lower-case copy (information_schema's DATA_TYPE is lower case on
 * MariaDB, upper case on some MySQL versions). */
static char *dup_lower(const char *s)
{
	char *d = dup_n(s, strlen(s));
	for (char *p = d; p && *p; p++)
		*p = (char)ascii_lower((unsigned char)*p);
	return d;
}

static int contains_ci(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (; *s; s++)
		if (word_eq(s, strnlen(s, n), w))
			return 1;
	return 0;
}

/* Append a column; NULL when out of memory. */
static schema_catalog_column_t *add_col(schema_catalog_table_t *t, uint32_t *cap, const char *name,
					const char *data_type)
{
	schema_catalog_column_t *cc;

	if (t->ncols == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 16;
		schema_catalog_column_t *p = realloc(t->cols, ncap * sizeof(*p));
		if (!p)
			return NULL;
		t->cols = p;
		*cap = ncap;
	}
	cc = &t->cols[t->ncols];
	memset(cc, 0, sizeof(*cc));
	cc->name = dup_n(name, strlen(name));
	cc->data_type = dup_lower(data_type);
	if (!cc->name || !cc->data_type) {
		free(cc->name);
		free(cc->data_type);
		return NULL;
	}
	t->ncols++;
	return cc;
}

static int col_index(const schema_catalog_table_t *t, const char *name, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* One index of STATISTICS, as read. */
typedef struct idx {
	char name[512];
	int unique, usable, hash, broken;
	uint32_t n, parts;
	uint32_t col[64]; /* by SEQ_IN_INDEX - 1 (MySQL allows 16 parts,
			   * MariaDB 32) */
} idx_t;

/*
 * The key the binlog calls primary: PRIMARY, else the first UNIQUE key in
 * the server's key order whose parts are whole NOT NULL columns (the
 * server sorts such keys before the others, keeping their definition
 * order, and STATISTICS lists keys in that order).
 */
static binlog_errcode_t read_keys(schema_catalog_t *c, const char *db, const char *table,
				  const char *exact, int memory_engine, schema_catalog_table_t *t,
				  uint32_t nvisible, uint32_t *nhash, binlog_err_t *err)
{
	binlog_buf_t q;
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_errcode_t rc;
	idx_t *cur = NULL, *best = NULL;
	idx_t *all = NULL;
	size_t nall = 0, capall = 0;

	*nhash = 0;
	binlog_buf_init(&q, 0);
	schema_catalog_query(
		&q, c->m,
		"TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, NULLABLE, "
		"SUB_PART, INDEX_TYPE",
		"STATISTICS", "TABLE_SCHEMA", db, table, "");
	rc = run(c, &q, "information_schema.STATISTICS", &res, err);
	binlog_buf_free(&q);
	if (rc != BINLOG_OK)
		return rc;
	while ((row = mysql_fetch_row(res))) {
		unsigned long seq;
		int ci;

		if (!row[0] || strcmp(row[0], exact) != 0 || !row[1] || !row[3] || !row[4])
			continue;
		if (!cur || strcmp(cur->name, row[1]) != 0) {
			/* The rows of one index come together. */
			if (nall == capall) {
				size_t ncap = capall ? capall * 2 : 8;
				idx_t *p = realloc(all, ncap * sizeof(*p));
				if (!p) {
					mysql_free_result(res);
					free(all);
					return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
				}
				all = p;
				capall = ncap;
			}
			cur = &all[nall++];
			memset(cur, 0, sizeof(*cur));
			snprintf(cur->name, sizeof(cur->name), "%s", row[1]);
			cur->unique = row[2] && strcmp(row[2], "0") == 0;
			cur->usable = cur->unique;
			/* A UNIQUE HASH key outside MEMORY is MariaDB's long
			 * unique: a hidden hash column, never promoted. */
			cur->hash = row[7] && strcmp(row[7], "HASH") == 0 && !memory_engine;
			if (cur->hash)
				cur->usable = 0;
		}
		seq = strtoul(row[3], NULL, 10);
		ci = col_index(t, row[4], nvisible);
		if (seq < 1 || seq > 64 || ci < 0) {
			cur->broken = 1; /* a column it cannot see */
			continue;
		}
		if ((row[5] && row[5][0]) || row[6])
			cur->usable = 0; /* nullable, or a prefix */
		cur->col[seq - 1] = (uint32_t)ci;
		cur->parts++;
		if (seq > cur->n)
			cur->n = (uint32_t)seq;
	}
	mysql_free_result(res);
	for (size_t k = 0; k < nall; k++) {
		if (all[k].parts != all[k].n)
			all[k].broken = 1;
		if (all[k].unique && all[k].hash)
			(*nhash)++;
		if (!best && strcmp(all[k].name, "PRIMARY") == 0)
			best = &all[k];
	}
	for (size_t k = 0; k < nall && !best; k++)
		if (all[k].usable && !all[k].broken)
			best = &all[k];
	/* A key with a part it cannot name gives no key at all, rather
	 * than a wrong one. */
	if (best && best->n && !best->broken) {
		t->pk = calloc(best->n + 1, sizeof(*t->pk)); /* + row_end */
		if (!t->pk) {
			free(all);
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
		for (uint32_t k = 0; k < best->n; k++) {
			t->pk[k] = best->col[k];
			t->cols[best->col[k]].in_pk = 1;
		}
		t->npk = best->n;
	}
	free(all);
	return BINLOG_OK;
}

/* MariaDB JSON: a text column with CHECK (json_valid(`name`)). */
static binlog_errcode_t read_json_checks(schema_catalog_t *c, const char *db, const char *table,
					 const char *exact, schema_catalog_table_t *t,
					 binlog_err_t *err)
{
	binlog_buf_t q, want;
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_errcode_t rc;

	binlog_buf_init(&q, 0);
	schema_catalog_query(&q, c->m, "TABLE_NAME, CHECK_CLAUSE", "CHECK_CONSTRAINTS",
			     "CONSTRAINT_SCHEMA", db, table, "");
	if (q.failed) {
		binlog_buf_free(&q);
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	}
	if (mysql_real_query(c->m, (const char *)q.data, (unsigned long)q.len) != 0) {
		binlog_buf_free(&q);
		/* A server without the table or its TABLE_NAME column (before
		 * MariaDB 10.3.10) has no JSON type to find either. */
		if (is_missing_column_error(c->m))
			return BINLOG_OK;
		return query_error(c->m, "information_schema.CHECK_CONSTRAINTS", err);
	}
	binlog_buf_free(&q);
	res = mysql_store_result(c->m);
	if (!res)
		return mysql_errno(c->m)
			       ? query_error(c->m, "information_schema.CHECK_CONSTRAINTS", err)
			       : BINLOG_OK;
	binlog_buf_init(&want, 0);
	rc = BINLOG_OK;
	while ((row = mysql_fetch_row(res))) {
		if (!row[0] || strcmp(row[0], exact) != 0 || !row[1])
			continue;
		for (uint32_t i = 0; i < t->ncols; i++) {
			schema_catalog_column_t *cc = &t->cols[i];
			if (!text_type(cc->data_type))
				continue;
			binlog_buf_reset(&want);
			binlog_buf_lit(&want, "json_valid(`");
			for (const char *p = cc->name; *p; p++) {
				if (*p == '`')
					binlog_buf_putc(&want, '`');
				binlog_buf_putc(&want, (uint8_t)*p);
			}
			binlog_buf_lit(&want, "`)");
			if (want.failed) {
				rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
				break;
			}
			/* The function name in any case, the name exactly. */
			if (strlen(row[1]) == want.len && word_eq(row[1], 11, "json_valid(") &&
			    memcmp(row[1] + 11, want.data + 11, want.len - 11) == 0)
				cc->ext = SCHEMA_EXT_JSON;
		}
	}
	binlog_buf_free(&want);
	mysql_free_result(res);
	return rc;
}

/* Fill e->t (and e->present) from the server. */
static binlog_errcode_t load(schema_catalog_t *c, cat_entry_t *e, binlog_err_t *err)
{
	const char *db = e->db, *table = e->table;
	binlog_buf_t q;
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_errcode_t rc;
	char exact[512] = "", type[64] = "", engine[64] = "";
	int found = 0, has_text = 0, explicit_period = 0, mariadb;
	uint32_t cap = 0, nvisible, nhash = 0;
	schema_catalog_table_t *t = &e->t;

	mariadb = is_mariadb(c);
	binlog_buf_init(&q, 0);

	/* TABLES: whether it exists, and which of the names that compare
	 * equal to it (case-insensitively, as information_schema does) is
	 * it: the exact one if there, else the only one. */
	schema_catalog_query(&q, c->m, "TABLE_NAME, TABLE_TYPE, ENGINE", "TABLES", "TABLE_SCHEMA",
			     db, table, "");
	if ((rc = run(c, &q, "information_schema.TABLES", &res, err)) != BINLOG_OK)
		goto out;
	while ((row = mysql_fetch_row(res))) {
		if (!row[0])
			continue;
		if (!found || strcmp(row[0], table) == 0) {
			snprintf(exact, sizeof(exact), "%s", row[0]);
			snprintf(type, sizeof(type), "%s", row[1] ? row[1] : "");
			snprintf(engine, sizeof(engine), "%s", row[2] ? row[2] : "");
		}
		found++;
	}
	mysql_free_result(res);
	if (!found || strcmp(type, "VIEW") == 0) {
		e->present = 0;
		goto out;
	}

	schema_catalog_query(&q, c->m,
			     "TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, COLLATION_NAME, "
			     "GENERATION_EXPRESSION",
			     "COLUMNS", "TABLE_SCHEMA", db, table, " ORDER BY ORDINAL_POSITION");
	if ((rc = run(c, &q, "information_schema.COLUMNS", &res, err)) != BINLOG_OK)
		goto out;
	while ((row = mysql_fetch_row(res))) {
		schema_catalog_column_t *cc;

		if (!row[0] || strcmp(row[0], exact) != 0 || !row[1] || !row[2])
			continue;
		cc = add_col(t, &cap, row[1], row[2]);
		if (!cc) {
			mysql_free_result(res);
			rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			goto out;
		}
		cc->is_unsigned = row[3] && contains_ci(row[3], "unsigned");
		cc->ext = ext_of(cc->data_type);
		if (row[4]) {
			if ((rc = coll_load(c, err)) != BINLOG_OK) {
				mysql_free_result(res);
				goto out;
			}
			cc->collation_id = coll_id(c, row[4]);
		} else if (binary_type(cc->data_type)) {
			cc->collation_id = COLLATION_BINARY;
		}
		has_text |= text_type(cc->data_type);
		if (row[5] && strcmp(row[5], "ROW START") == 0)
			explicit_period = 1;
	}
	mysql_free_result(res);
	if (!t->ncols) {
		/* Listed, but no column visible: no privilege on them. */
		e->present = 0;
		goto out;
	}
	nvisible = t->ncols;

	rc = read_keys(c, db, table, exact,
		       word_eq(engine, strlen(engine), "MEMORY") ||
			       word_eq(engine, strlen(engine), "HEAP"),
		       t, nvisible, &nhash, err);
	if (rc != BINLOG_OK)
		goto out;
	if (mariadb && has_text &&
	    (rc = read_json_checks(c, db, table, exact, t, err)) != BINLOG_OK)
		goto out;

	/* What MariaDB logs and information_schema hides, in the binlog's
	 * order: implicit system-versioning columns, then long-unique
	 * hashes. */
	if (mariadb && strcmp(type, "SYSTEM VERSIONED") == 0 && !explicit_period) {
		if (!add_col(t, &cap, "row_start", "timestamp") ||
		    !add_col(t, &cap, "row_end", "timestamp")) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			goto out;
		}
		/* The server adds row_end to every unique key, the primary
		 * one included (pk has room for it). */
		if (t->npk) {
			t->pk[t->npk++] = t->ncols - 1;
			t->cols[t->ncols - 1].in_pk = 1;
		}
	}
	for (uint32_t k = 1; mariadb && k <= nhash; k++) {
		char name[32];
		snprintf(name, sizeof(name), "DB_ROW_HASH_%u", k);
		if (!add_col(t, &cap, name, "bigint")) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			goto out;
		}
		t->cols[t->ncols - 1].is_unsigned = 1;
	}
	e->present = 1;
out:
	binlog_buf_free(&q);
	if (rc != BINLOG_OK || !e->present)
		schema_catalog_table_clear(t);
	return rc;
}

/*
 * Fill a new entry: from the store when it has the table's definition as
 * of the stream's position, else from the server (and then into the
 * store, before anything is rendered from it).
 */
static binlog_errcode_t fill(schema_catalog_t *c, cat_entry_t *e, binlog_err_t *err)
{
	binlog_errcode_t rc;

	if (c->store.find) {
		int r = c->store.find(c->store.ctx, e->db, e->table, c->at, &e->t, &e->present);
		if (r < 0)
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		if (r > 0)
			return BINLOG_OK;
	}
	if (!c->m)
		return binlog_err_set(err, BINLOG_E_IO, "catalog: reading %s.%s: no connection",
				      e->db, e->table);
	if ((rc = load(c, e, err)) != BINLOG_OK)
		return rc;
	if (c->store.add)
		return c->store.add(c->store.ctx, c->at, e->db, e->table, e->present, &e->t, err);
	return BINLOG_OK;
}

const schema_catalog_table_t *schema_catalog_get(schema_catalog_t *c, const char *db,
						 const char *table, binlog_err_t *err)
{
	uint32_t h = name_hash(db, table);
	cat_entry_t *e;
	binlog_errcode_t rc;

	for (e = c->buckets[h & (CAT_BUCKETS - 1)]; e; e = e->next)
		if (e->hash == h && strcmp(e->db, db) == 0 && strcmp(e->table, table) == 0)
			break;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->db = dup_n(db, strlen(db))) ||
		    !(e->table = dup_n(table, strlen(table)))) {
			if (e)
				entry_free(e);
			binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			return NULL;
		}
		e->hash = h;
		if ((rc = fill(c, e, err)) != BINLOG_OK) {
			entry_free(e); /* failures are not cached */
			return NULL;
		}
		if (c->n >= CAT_MAX_TABLES)
			evict_one(c);
		e->next = c->buckets[h & (CAT_BUCKETS - 1)];
		c->buckets[h & (CAT_BUCKETS - 1)] = e;
		c->n++;
	}
	e->used = ++c->tick;
	if (!e->present) {
		binlog_err_set(err, BINLOG_E_UNSUPPORTED,
			       "catalog: no table %s.%s (dropped or renamed since, or not "
			       "visible to the catalog's user)",
			       db, table);
		return NULL;
	}
	return &e->t;
}

/* ------------------------------------------------------------------ */
/* DDL                                                                 */

enum tok_kind { TK_END = 0, TK_WORD, TK_QUOTED, TK_STRING, TK_PUNCT, TK_BAD };

typedef struct tok {
	int kind;
	const char *p; /* WORD: the word; QUOTED: inside the quotes */
	size_t n;
	char q; /* QUOTED: the quote character */
} tok_t;

typedef struct lex {
	const char *p, *end;
	int in_exec; /* inside an executable comment: its end is blank */
} lex_t;

static int is_word_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '$' || ch >= 0x80;
}

static int is_blank(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* Skip blanks and comments. 0, or -1 on an unterminated comment. */
static int lex_skip(lex_t *l)
{
	for (;;) {
		const char *p = l->p, *end = l->end;
		size_t left = (size_t)(end - p);

		if (p < end && is_blank((unsigned char)*p)) {
			l->p++;
		} else if (left >= 2 && p[0] == '*' && p[1] == '/' && l->in_exec) {
			l->p += 2;
			l->in_exec = 0;
		} else if (left >= 3 && p[0] == '/' && p[1] == '*' &&
			   (p[2] == '!' || (left >= 4 && p[2] == 'M' && p[3] == '!'))) {
			/* slash-star-bang [version]: the body is code */
			l->p += p[2] == '!' ? 3 : 4;
			while (l->p < end && *l->p >= '0' && *l->p <= '9')
				l->p++;
			l->in_exec = 1;
		} else if (left >= 2 && p[0] == '/' && p[1] == '*') {
			const char *q = p + 2;
			while (q + 1 < end && !(q[0] == '*' && q[1] == '/'))
				q++;
			if (q + 1 >= end)
				return -1;
			l->p = q + 2;
		} else if ((left >= 2 && p[0] == '-' && p[1] == '-' &&
			    (left == 2 || is_blank((unsigned char)p[2]))) ||
			   (left >= 1 && p[0] == '#')) {
			while (l->p < end && *l->p != '\n')
				l->p++;
		} else {
			return 0;
		}
	}
}

static void lex_next(lex_t *l, tok_t *t)
{
	const char *p, *end = l->end;
	char q;

	memset(t, 0, sizeof(*t));
	if (lex_skip(l) < 0) {
		t->kind = TK_BAD;
		return;
	}
	p = l->p;
	if (p >= end) {
		t->kind = TK_END;
		return;
	}
	q = *p;
	if (q == '`' || q == '"' || q == '\'') {
		/* Doubled quotes stand for one; in strings, backslash escapes
		 * too (quoted names have none). */
		const char *s = p + 1;
		for (;;) {
			if (s >= end) {
				t->kind = TK_BAD;
				return;
			}
			if (*s == '\\' && q == '\'' && s + 1 < end) {
				s += 2;
				continue;
			}
			if (*s == q) {
				if (s + 1 < end && s[1] == q) {
					s += 2;
					continue;
				}
				break;
			}
			s++;
		}
		t->kind = q == '\'' ? TK_STRING : TK_QUOTED;
		t->p = p + 1;
		t->n = (size_t)(s - p - 1);
		t->q = q;
		l->p = s + 1;
		return;
	}
	if (is_word_byte((unsigned char)q)) {
		const char *s = p;
		while (s < end && is_word_byte((unsigned char)*s))
			s++;
		t->kind = TK_WORD;
		t->p = p;
		t->n = (size_t)(s - p);
		l->p = s;
		return;
	}
	t->kind = TK_PUNCT;
	t->p = p;
	t->n = 1;
	l->p = p + 1;
}

static int tok_kw(const tok_t *t, const char *kw)
{
	return t->kind == TK_WORD && word_eq(t->p, t->n, kw);
}

static int tok_punct(const tok_t *t, char c)
{
	return t->kind == TK_PUNCT && t->p[0] == c;
}

/* Peek at the next token without consuming it. */
static void lex_peek(const lex_t *l, tok_t *t)
{
	lex_t copy = *l;
	lex_next(&copy, t);
}

/* Consume the next token when it is keyword kw. */
static int lex_accept(lex_t *l, const char *kw)
{
	tok_t t;
	lex_t copy = *l;

	lex_next(&copy, &t);
	if (!tok_kw(&t, kw))
		return 0;
	*l = copy;
	return 1;
}

#define DDL_NAME_MAX 512

typedef struct ddl_ctx {
	const char *default_db;
	schema_ddl_fn fn;
	void *fn_ctx;
} ddl_ctx_t;

/* The name a WORD or QUOTED token holds, unquoted, into out. */
static int tok_name(const tok_t *t, char *out)
{
	size_t o = 0;

	if (t->kind != TK_WORD && t->kind != TK_QUOTED)
		return 0;
	for (size_t i = 0; i < t->n; i++) {
		if (o + 1 >= DDL_NAME_MAX)
			return 0;
		out[o++] = t->p[i];
		if (t->kind == TK_QUOTED && t->p[i] == t->q)
			i++; /* the second of a doubled quote */
	}
	out[o] = 0;
	return o > 0;
}

/* [db.]name: read it and report it. 1, or 0 when there is no name. */
static int ddl_table(lex_t *l, const ddl_ctx_t *x)
{
	char a[DDL_NAME_MAX], b[DDL_NAME_MAX];
	tok_t t;
	lex_t save;

	lex_next(l, &t);
	if (!tok_name(&t, a))
		return 0;
	lex_peek(l, &t);
	if (tok_punct(&t, '.')) {
		lex_next(l, &t);
		lex_next(l, &t);
		if (!tok_name(&t, b))
			return 0;
		x->fn(x->fn_ctx, SCHEMA_DDL_TABLE, a, b);
	} else {
		x->fn(x->fn_ctx, SCHEMA_DDL_TABLE,
		      x->default_db && *x->default_db ? x->default_db : NULL, a);
	}
	/* MariaDB's lock wait clause after a name: WAIT n | NOWAIT */
	save = *l;
	if (lex_accept(l, "WAIT")) {
		lex_next(l, &t);
		if (t.kind != TK_WORD)
			*l = save;
	} else {
		lex_accept(l, "NOWAIT");
	}
	return 1;
}

static int ddl_database(lex_t *l, const ddl_ctx_t *x)
{
	char a[DDL_NAME_MAX];
	tok_t t;

	lex_next(l, &t);
	if (!tok_name(&t, a))
		return 0;
	x->fn(x->fn_ctx, SCHEMA_DDL_DATABASE, a, NULL);
	return 1;
}

static void ddl_if(lex_t *l, int not )
{
	lex_t save = *l;

	if (!lex_accept(l, "IF"))
		return;
	if ((not &&!lex_accept(l, "NOT")) || !lex_accept(l, "EXISTS"))
		*l = save;
}

/* Objects that hold no rows a binlog logs as row events: their DDL
 * changes no table. */
static int no_table_object(const tok_t *t)
{
	static const char *const kws[] = {"VIEW",     "TRIGGER",   "PROCEDURE",  "FUNCTION",
					  "EVENT",    "USER",      "ROLE",       "SERVER",
					  "PACKAGE",  "LOGFILE",   "TABLESPACE", "RESOURCE",
					  "INSTANCE", "REFERENCE", "UNDO"};
	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (tok_kw(t, kws[i]))
			return 1;
	return 0;
}

/* A comma-separated list of table names (DROP TABLE a, b). */
static int ddl_table_list(lex_t *l, const ddl_ctx_t *x)
{
	tok_t t;

	do {
		if (!ddl_table(l, x))
			return 0;
		lex_peek(l, &t);
		if (!tok_punct(&t, ','))
			return 1;
		lex_next(l, &t);
	} while (1);
}

/* After the table of ALTER TABLE: RENAME [TO|AS] name, and EXCHANGE
 * PARTITION ... WITH TABLE name, at the top level of the statement. */
static int ddl_alter_rest(lex_t *l, const ddl_ctx_t *x)
{
	tok_t t;
	int depth = 0;

	for (;;) {
		lex_next(l, &t);
		switch (t.kind) {
		case TK_END:
			return 1;
		case TK_BAD:
			return 0;
		case TK_PUNCT:
			if (t.p[0] == '(')
				depth++;
			else if (t.p[0] == ')' && depth > 0)
				depth--;
			continue;
		default:
			break;
		}
		if (depth)
			continue;
		if (tok_kw(&t, "RENAME")) {
			tok_t n;
			lex_peek(l, &n);
			if (tok_kw(&n, "COLUMN") || tok_kw(&n, "INDEX") || tok_kw(&n, "KEY") ||
			    tok_kw(&n, "CONSTRAINT"))
				continue;
			if (!lex_accept(l, "TO"))
				lex_accept(l, "AS");
			if (!ddl_table(l, x))
				return 0;
		} else if (tok_kw(&t, "EXCHANGE")) {
			/* EXCHANGE PARTITION p WITH TABLE name */
			for (;;) {
				lex_next(l, &t);
				if (t.kind == TK_END || t.kind == TK_BAD)
					return 0;
				if (tok_kw(&t, "TABLE"))
					break;
			}
			if (!ddl_table(l, x))
				return 0;
		}
	}
}

/* Modifiers between CREATE/ALTER and the object: OR REPLACE, TEMPORARY,
 * UNIQUE, ONLINE, IGNORE, DEFINER = ..., ALGORITHM = ..., SQL SECURITY ...
 * Reads up to the object keyword (returned in *t), at most a few tokens. */
static int ddl_object(lex_t *l, tok_t *t)
{
	for (int k = 0; k < 16; k++) {
		lex_next(l, t);
		if (t->kind == TK_END || t->kind == TK_BAD)
			return 0;
		if (tok_kw(t, "TABLE") || tok_kw(t, "TABLES") || tok_kw(t, "INDEX") ||
		    tok_kw(t, "KEY") || tok_kw(t, "SEQUENCE") || tok_kw(t, "DATABASE") ||
		    tok_kw(t, "SCHEMA") || no_table_object(t))
			return 1;
	}
	return 0;
}

/* CREATE/DROP INDEX name ... ON table */
static int ddl_index(lex_t *l, const ddl_ctx_t *x, int create)
{
	tok_t t;

	ddl_if(l, create);
	for (int k = 0; k < 64; k++) {
		lex_next(l, &t);
		if (t.kind == TK_END || t.kind == TK_BAD)
			return 0;
		if (tok_kw(&t, "ON"))
			return ddl_table(l, x);
	}
	return 0;
}

static int ddl_create(lex_t *l, const ddl_ctx_t *x)
{
	tok_t t;

	if (!ddl_object(l, &t))
		return 0;
	if (no_table_object(&t))
		return 1;
	if (tok_kw(&t, "INDEX") || tok_kw(&t, "KEY"))
		return ddl_index(l, x, 1);
	ddl_if(l, 1);
	if (tok_kw(&t, "DATABASE") || tok_kw(&t, "SCHEMA"))
		return ddl_database(l, x);
	if (tok_kw(&t, "TABLE") || tok_kw(&t, "SEQUENCE"))
		return ddl_table(l, x);
	return 0;
}

/* Words that may follow ALTER DATABASE where a name would be: the
 * statement then applies to the default database. */
static int db_option_word(const tok_t *t)
{
	static const char *const kws[] = {"DEFAULT", "CHARACTER", "CHARSET", "COLLATE",
					  "COMMENT", "UPGRADE",   "READ",    "ENCRYPTION"};
	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (tok_kw(t, kws[i]))
			return 1;
	return 0;
}

static int ddl_alter(lex_t *l, const ddl_ctx_t *x)
{
	tok_t t;

	if (!ddl_object(l, &t))
		return 0;
	if (no_table_object(&t))
		return 1;
	if (tok_kw(&t, "DATABASE") || tok_kw(&t, "SCHEMA")) {
		tok_t n;
		lex_peek(l, &n);
		if ((n.kind == TK_WORD && !db_option_word(&n)) || n.kind == TK_QUOTED)
			return ddl_database(l, x);
		if (!x->default_db || !*x->default_db)
			return 0;
		x->fn(x->fn_ctx, SCHEMA_DDL_DATABASE, x->default_db, NULL);
		return 1;
	}
	if (tok_kw(&t, "TABLE") || tok_kw(&t, "SEQUENCE")) {
		ddl_if(l, 0);
		if (!ddl_table(l, x))
			return 0;
		return ddl_alter_rest(l, x);
	}
	return 0;
}

static int ddl_drop(lex_t *l, const ddl_ctx_t *x)
{
	tok_t t;

	if (!ddl_object(l, &t))
		return 0;
	if (no_table_object(&t))
		return 1;
	if (tok_kw(&t, "INDEX") || tok_kw(&t, "KEY"))
		return ddl_index(l, x, 0);
	ddl_if(l, 0);
	if (tok_kw(&t, "DATABASE") || tok_kw(&t, "SCHEMA"))
		return ddl_database(l, x);
	if (tok_kw(&t, "TABLE") || tok_kw(&t, "TABLES") || tok_kw(&t, "SEQUENCE"))
		return ddl_table_list(l, x);
	return 0;
}

/* RENAME TABLE a TO b [, c TO d ...] */
static int ddl_rename(lex_t *l, const ddl_ctx_t *x)
{
	tok_t t;

	lex_next(l, &t);
	if (tok_kw(&t, "USER"))
		return 1;
	if (!tok_kw(&t, "TABLE") && !tok_kw(&t, "TABLES"))
		return 0;
	ddl_if(l, 0);
	for (;;) {
		if (!ddl_table(l, x) || !lex_accept(l, "TO") || !ddl_table(l, x))
			return 0;
		lex_next(l, &t);
		if (t.kind == TK_END || tok_punct(&t, ';'))
			return 1;
		if (!tok_punct(&t, ','))
			return 0;
	}
}

/* Statements that change no table definition. */
static int ddl_harmless(const tok_t *t)
{
	static const char *const kws[] = {
		"GRANT",   "REVOKE",   "SET",   "FLUSH",  "ANALYZE",  "OPTIMIZE",  "REPAIR",
		"CHECK",   "CHECKSUM", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE",
		"XA",      "START",    "LOCK",  "UNLOCK", "INSTALL",  "UNINSTALL", "DO",
		"CALL",    "USE",      "SHOW",  "SELECT", "INSERT",   "UPDATE",    "DELETE",
		"REPLACE", "LOAD",     "PURGE", "RESET",  "KILL",     "BACKUP"};
	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (tok_kw(t, kws[i]))
			return 1;
	return 0;
}

int schema_ddl_targets(const char *default_db, const char *sql, size_t len, schema_ddl_fn fn,
		       void *ctx)
{
	ddl_ctx_t x = {default_db, fn, ctx};
	lex_t l = {sql, sql + len, 0};
	tok_t t;

	lex_next(&l, &t);
	if (tok_kw(&t, "CREATE"))
		return ddl_create(&l, &x);
	if (tok_kw(&t, "ALTER"))
		return ddl_alter(&l, &x);
	if (tok_kw(&t, "DROP"))
		return ddl_drop(&l, &x);
	if (tok_kw(&t, "RENAME"))
		return ddl_rename(&l, &x);
	if (tok_kw(&t, "TRUNCATE")) {
		lex_accept(&l, "TABLE");
		return ddl_table(&l, &x);
	}
	return ddl_harmless(&t);
}

typedef struct forget_ctx {
	schema_catalog_t *c;
	binlog_err_t *err;
	binlog_errcode_t rc;
} forget_ctx_t;

static void forget(forget_ctx_t *f, const char *db, const char *table)
{
	schema_catalog_t *c = f->c;

	schema_catalog_invalidate(c, db, table);
	if (c->store.forget && f->rc == BINLOG_OK)
		f->rc = c->store.forget(c->store.ctx, c->at, db, table, f->err);
}

static void ddl_forget(void *ctx, int kind, const char *db, const char *table)
{
	forget_ctx_t *f = ctx;

	if (kind == SCHEMA_DDL_DATABASE)
		forget(f, db, NULL);
	else
		forget(f, db, table); /* db NULL: that table in every db */
}

binlog_errcode_t schema_catalog_ddl(schema_catalog_t *c, const char *default_db, const char *sql,
				    size_t len, binlog_err_t *err)
{
	forget_ctx_t f = {c, err, BINLOG_OK};

	/* Names are reported as the statement reads; a statement that names
	 * a table then fails to parse further has already forgotten some,
	 * and now forgets all. */
	if (!schema_ddl_targets(default_db, sql, len, ddl_forget, &f))
		forget(&f, NULL, NULL);
	return f.rc;
}
