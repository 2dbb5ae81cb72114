/*
 * cdc_table_verify.c: `sluice table verify`: a merged table compared with
 * the live source tables by row count and checksum (cdc_table_verify.h
 * defines the checksum).
 *
 * The merged table is read first (its merged view streams through, one
 * bucket or partition at a time), then the source, in one REPEATABLE READ
 * transaction with a consistent snapshot so that every source table is
 * read as of one moment. Neither side is held in memory: each row only
 * adds to the count and sum of its (table, partition). The comparison is
 * meaningful when the pipeline has caught up and the source is quiet (or
 * stopped); a table changing meanwhile shows as DIFF.
 *
 * Output: one line per source table, and per partition for a Hive table
 * partitioned by a column, then a summary; with --json one object per
 * line. Errors go to standard error, naming the table directory or the
 * source and the table.
 */
#include "cdc_table_verify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mysql.h>

#include "cdc_conn.h"
#include "cdc_filter.h"
#include "cdc_record.h"
#include "cdc_registry.h"
#include "cdc_snaprow.h"
#include "merge_io.h"
#include "merge_table.h"
#include "schema.h"
#include "schema_catalog.h"

#define PROG "sluice table verify"

/* ------------------------------------------------------------------ */
/* Row hashes                                                          */

typedef struct vmember {
	size_t name_off, name_len, text_off, text_len;
	const uint8_t *name, *text; /* set once the arena stops moving */
} vmember_t;

struct cdc_verify_hasher {
	binlog_buf_t arena; /* unescaped names and texts */
	binlog_buf_t canon; /* the canonical bytes */
	vmember_t *m;
	size_t cap;
};

cdc_verify_hasher_t *cdc_verify_hasher_new(void)
{
	cdc_verify_hasher_t *h = calloc(1, sizeof(*h));

	if (h) {
		binlog_buf_init(&h->arena, 0);
		binlog_buf_init(&h->canon, 0);
	}
	return h;
}

void cdc_verify_hasher_free(cdc_verify_hasher_t *h)
{
	if (!h)
		return;
	binlog_buf_free(&h->arena);
	binlog_buf_free(&h->canon);
	free(h->m);
	free(h);
}

static int member_cmp(const void *a, const void *b)
{
	const vmember_t *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = n ? memcmp(x->name, y->name, n) : 0;

	if (c)
		return c;
	return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

static void put_le64(binlog_buf_t *b, uint64_t v)
{
	uint8_t x[8];

	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	binlog_buf_put(b, x, 8);
}

/* MurmurHash3's finalizer: every input bit reaches every output bit. */
static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

binlog_errcode_t cdc_verify_row_hash(cdc_verify_hasher_t *h, const uint8_t *body, size_t n,
				     uint64_t *out, binlog_err_t *err)
{
	merge_members_t it;
	merge_span_t name, val;
	size_t k = 0;

	merge_members_body(&it, (merge_span_t){body, n});
	binlog_buf_reset(&h->arena);
	binlog_buf_reset(&h->canon);
	while (n && merge_members_next(&it, &name, &val)) {
		vmember_t *m;
		if (k == h->cap) {
			size_t cap = h->cap ? h->cap * 2 : 64;
			vmember_t *nm = realloc(h->m, cap * sizeof(*nm));
			if (!nm)
				return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
			h->m = nm;
			h->cap = cap;
		}
		m = &h->m[k++];
		m->name_off = h->arena.len;
		if (merge_json_unescape(&h->arena, name.p, name.n) < 0)
			return binlog_err_set(
				err, BINLOG_E_BAD_VALUE,
				"member name \"%.*s\" is not a well-formed JSON string",
				(int)(name.n > 64 ? 64 : name.n), (const char *)name.p);
		m->name_len = h->arena.len - m->name_off;
		m->text_off = h->arena.len;
		if (val.n == 4 && memcmp(val.p, "null", 4) == 0) {
			/* absent and null are one: see the header */
			h->arena.len = m->name_off;
			k--;
			continue;
		}
		if (val.n >= 2 && val.p[0] == '"') {
			if (merge_json_unescape(&h->arena, val.p + 1, val.n - 2) < 0)
				return binlog_err_set(err, BINLOG_E_BAD_VALUE,
						      "the value of \"%.*s\" is not a well-formed "
						      "JSON string",
						      (int)(name.n > 64 ? 64 : name.n),
						      (const char *)name.p);
		} else {
			binlog_buf_put(&h->arena, val.p, val.n);
		}
		m->text_len = h->arena.len - m->text_off;
	}
	if (h->arena.failed)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	for (size_t i = 0; i < k; i++) {
		h->m[i].name = h->arena.data + h->m[i].name_off;
		h->m[i].text = h->arena.data + h->m[i].text_off;
	}
	if (k > 1)
		qsort(h->m, k, sizeof(*h->m), member_cmp);
	for (size_t i = 0; i < k; i++) {
		const vmember_t *m = &h->m[i];
		put_le64(&h->canon, m->name_len);
		binlog_buf_put(&h->canon, m->name, m->name_len);
		put_le64(&h->canon, m->text_len);
		binlog_buf_put(&h->canon, m->text, m->text_len);
	}
	if (h->canon.failed)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	*out = fmix64(merge_hash(h->canon.data, h->canon.len));
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Counts per table and partition                                      */

enum { SIDE_TABLE = 0, SIDE_SOURCE = 1 };

typedef struct vtable {
	char *db, *table;
	int missing; /* the source has no such table */
} vtable_t;

typedef struct vpart {
	uint32_t table; /* index in tables */
	char *part;     /* "" when not partitioned */
	uint64_t rows[2], sum[2];
} vpart_t;

/* A hash map of byte strings to indexes, for both lists. */
typedef struct vmap {
	struct vslot {
		uint64_t h;
		char *key; /* NULL: empty */
		size_t klen;
		uint32_t val;
	} * s;
	size_t cap, n;
} vmap_t;

static void vmap_free(vmap_t *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->s[i].key);
	free(m->s);
	memset(m, 0, sizeof(*m));
}

static struct vslot *vmap_slot(vmap_t *m, const void *key, size_t klen, uint64_t h)
{
	size_t i = h & (m->cap - 1);

	while (m->s[i].key &&
	       !(m->s[i].h == h && m->s[i].klen == klen && memcmp(m->s[i].key, key, klen) == 0))
		i = (i + 1) & (m->cap - 1);
	return &m->s[i];
}

/* The value of key, or -1; with `add` >= 0, an absent key gets it. -2 when
 * out of memory. */
static int64_t vmap_get(vmap_t *m, const void *key, size_t klen, int64_t add)
{
	uint64_t h = merge_hash(key, klen);
	struct vslot *s;

	if (m->cap == 0 || (add >= 0 && (m->n + 1) * 2 > m->cap)) {
		vmap_t g = {calloc(m->cap ? m->cap * 2 : 64, sizeof(struct vslot)),
			    m->cap ? m->cap * 2 : 64, m->n};
		if (!g.s)
			return -2;
		for (size_t i = 0; i < m->cap; i++)
			if (m->s[i].key)
				*vmap_slot(&g, m->s[i].key, m->s[i].klen, m->s[i].h) = m->s[i];
		free(m->s);
		*m = g;
	}
	s = vmap_slot(m, key, klen, h);
	if (s->key)
		return s->val;
	if (add < 0)
		return -1;
	if (!(s->key = malloc(klen ? klen : 1)))
		return -2;
	memcpy(s->key, key, klen);
	s->klen = klen;
	s->h = h;
	s->val = (uint32_t)add;
	m->n++;
	return add;
}

typedef struct verify {
	/* options */
	const char *dir, *source, *home;
	int json;
	vtable_t *extra; /* --tables */
	size_t nextra;

	merge_table_t *mt;
	int by_column; /* Hive partitioned by a column: compare per partition */
	cdc_verify_hasher_t *hasher;
	binlog_buf_t key, db, tb;

	vtable_t *tables;
	size_t ntables, tables_cap;
	vmap_t tmap;
	vpart_t *parts;
	size_t nparts, parts_cap;
	vmap_t pmap;
} verify_t;

/* The index of db.table, added when new; -1 when out of memory. */
static int64_t table_id(verify_t *v, const uint8_t *db, size_t dn, const uint8_t *tb, size_t tn)
{
	int64_t id;

	binlog_buf_reset(&v->key);
	binlog_buf_put(&v->key, db, dn);
	binlog_buf_putc(&v->key, 0);
	binlog_buf_put(&v->key, tb, tn);
	if (v->key.failed)
		return -1;
	id = vmap_get(&v->tmap, v->key.data, v->key.len, (int64_t)v->ntables);
	if (id < 0)
		return -1;
	if ((size_t)id == v->ntables) {
		vtable_t *t;
		if (v->ntables == v->tables_cap) {
			size_t cap = v->tables_cap ? v->tables_cap * 2 : 16;
			vtable_t *nt = realloc(v->tables, cap * sizeof(*nt));
			if (!nt)
				return -1;
			v->tables = nt;
			v->tables_cap = cap;
		}
		t = &v->tables[v->ntables];
		memset(t, 0, sizeof(*t));
		t->db = strndup((const char *)db, dn);
		t->table = strndup((const char *)tb, tn);
		if (!t->db || !t->table) {
			free(t->db);
			free(t->table);
			return -1;
		}
		v->ntables++;
	}
	return id;
}

/* Add a row hash to (table, part) on one side. */
static binlog_errcode_t count_row(verify_t *v, uint32_t table, const char *part, int side,
				  uint64_t hash, binlog_err_t *err)
{
	size_t pl = strlen(part);
	int64_t id;
	vpart_t *p;

	binlog_buf_reset(&v->key);
	binlog_buf_put(&v->key, &table, sizeof(table));
	binlog_buf_put(&v->key, part, pl);
	if (v->key.failed ||
	    (id = vmap_get(&v->pmap, v->key.data, v->key.len, (int64_t)v->nparts)) < 0)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	if ((size_t)id == v->nparts) {
		if (v->nparts == v->parts_cap) {
			size_t cap = v->parts_cap ? v->parts_cap * 2 : 64;
			vpart_t *np = realloc(v->parts, cap * sizeof(*np));
			if (!np)
				return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
			v->parts = np;
			v->parts_cap = cap;
		}
		p = &v->parts[v->nparts];
		memset(p, 0, sizeof(*p));
		p->table = table;
		if (!(p->part = strdup(part)))
			return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		v->nparts++;
	}
	p = &v->parts[id];
	p->rows[side]++;
	p->sum[side] += hash;
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* The merged table                                                    */

static binlog_errcode_t table_row(void *arg, const merge_row_t *r, const char *partition,
				  const uint8_t *line, size_t n, binlog_err_t *err)
{
	verify_t *v = arg;
	uint64_t hash;
	int64_t id;
	binlog_errcode_t rc;

	(void)line;
	(void)n;
	binlog_buf_reset(&v->db);
	binlog_buf_reset(&v->tb);
	if (merge_json_unescape(&v->db, r->db.p, r->db.n) < 0 ||
	    merge_json_unescape(&v->tb, r->table.p, r->table.n) < 0)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE,
				      "a row (key %.*s) whose _sluice_db or _sluice_table is not a "
				      "well-formed JSON string",
				      (int)(r->key.n > 200 ? 200 : r->key.n),
				      (const char *)r->key.p);
	if (v->db.failed || v->tb.failed ||
	    (id = table_id(v, v->db.data, v->db.len, v->tb.data, v->tb.len)) < 0)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	if ((rc = cdc_verify_row_hash(v->hasher, r->body.p, r->body.n, &hash, err)) != BINLOG_OK) {
		binlog_err_prefix(err, "row with key %.*s", (int)(r->key.n > 200 ? 200 : r->key.n),
				  (const char *)r->key.p);
		return rc;
	}
	return count_row(v, (uint32_t)id, v->by_column && partition ? partition : "", SIDE_TABLE,
			 hash, err);
}

/* ------------------------------------------------------------------ */
/* The source                                                          */

typedef struct source {
	cdc_registry_entry_t e;
	int loaded;
	char addr[300];
	MYSQL *m;
	schema_catalog_t *catalog;
	cdc_filter_t *filter;
	cdc_writer_t w;
	int w_init;
	binlog_buf_t rec, sql;
} source_t;

static void source_close(source_t *s)
{
	if (s->catalog)
		schema_catalog_free(s->catalog);
	if (s->m)
		mysql_close(s->m);
	if (s->filter)
		cdc_filter_free(s->filter);
	if (s->w_init)
		cdc_writer_free(&s->w);
	binlog_buf_free(&s->rec);
	binlog_buf_free(&s->sql);
	if (s->loaded)
		cdc_registry_entry_free(&s->e);
}

static binlog_errcode_t source_open(verify_t *v, source_t *s, binlog_err_t *err)
{
	char home[4096];
	binlog_gtid_t none;

	binlog_buf_init(&s->rec, 0);
	binlog_buf_init(&s->sql, 0);
	if (cdc_registry_home(v->home, home, sizeof(home), err) != BINLOG_OK)
		return err->code;
	s->loaded = 1;
	if (cdc_registry_load(home, v->source, &s->e, err) != BINLOG_OK)
		return err->code;
	cdc_conn_addr(&s->e.src.conn, s->addr, sizeof(s->addr));
	if (cdc_conn_resolve_password(&s->e.src.conn, err) != BINLOG_OK ||
	    cdc_filter_new(&s->e.src, &s->filter, err) != BINLOG_OK)
		goto fail;
	if (!(s->m = cdc_conn_open(&s->e.src.conn, err)))
		goto fail;
	/* Every table as of one moment: a single consistent snapshot. */
	if (cdc_snap_session(s->m, err) != BINLOG_OK ||
	    cdc_exec(s->m, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err) !=
		    BINLOG_OK ||
	    cdc_exec(s->m, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", err) !=
		    BINLOG_OK)
		goto fail;
	if (!(s->catalog = schema_catalog_new(s->m))) {
		binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto fail;
	}
	if (cdc_writer_init(&s->w, 0) != BINLOG_OK) {
		binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto fail;
	}
	s->w_init = 1;
	cdc_writer_set_file(&s->w, "verify");
	memset(&none, 0, sizeof(none));
	cdc_writer_begin_txn(&s->w, &none, 0);
	return BINLOG_OK;
fail:
	binlog_err_prefix(err, "source %s (%s)", v->source, s->addr[0] ? s->addr : "?");
	return err->code;
}

/* The members of a record's "data" object, without the braces. */
static int record_data(const uint8_t *rec, size_t n, merge_span_t *body)
{
	merge_members_t it;
	merge_span_t name, val;

	if (!merge_members_begin(&it, rec, n))
		return 0;
	while (merge_members_next(&it, &name, &val))
		if (merge_name_is(name, "data")) {
			if (val.n < 2 || val.p[0] != '{')
				return 0;
			body->p = val.p + 1;
			body->n = val.n - 2;
			return 1;
		}
	return 0;
}

/* Read every row of table id and count it on the source side. */
static binlog_errcode_t source_table(verify_t *v, source_t *s, uint32_t id, binlog_err_t *err)
{
	vtable_t *vt = &v->tables[id];
	schema_opts_t so = {
		.catalog = s->e.src.catalog == CDC_CATALOG_NEVER ? NULL : s->catalog,
		.catalog_mode = s->e.src.catalog,
		.filter = s->filter,
	};
	cdc_snap_table_t *t = NULL;
	const schema_table_t *st;
	binlog_value_t *vals = NULL;
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	binlog_errcode_t rc;

	rc = cdc_snap_table_load(s->m, vt->db, vt->table, &t, err);
	if (rc == BINLOG_E_USAGE) {
		vt->missing = 1; /* a DIFF, whatever the table holds */
		return BINLOG_OK;
	}
	if (rc != BINLOG_OK)
		goto fail;
	if (!(st = schema_table_get_ex(&t->bt, &so, err))) {
		rc = err->code;
		goto fail;
	}
	if (!(vals = calloc(t->bt.ncols ? t->bt.ncols : 1, sizeof(*vals)))) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto fail;
	}
	binlog_buf_reset(&s->sql);
	binlog_buf_lit(&s->sql, "SELECT ");
	binlog_buf_puts(&s->sql, t->select_list);
	binlog_buf_lit(&s->sql, " FROM ");
	cdc_snap_put_ident(&s->sql, t->db);
	binlog_buf_putc(&s->sql, '.');
	cdc_snap_put_ident(&s->sql, t->table);
	if (s->sql.failed) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto fail;
	}
	if (mysql_real_query(s->m, (const char *)s->sql.data, (unsigned long)s->sql.len) != 0 ||
	    !(res = mysql_use_result(s->m))) {
		rc = binlog_err_set(err, BINLOG_E_SERVER, "reading: %s (error %u)",
				    mysql_error(s->m), mysql_errno(s->m));
		goto fail;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		unsigned long *lens = mysql_fetch_lengths(res);
		merge_span_t body;
		uint64_t hash;
		char part[256] = "";
		binlog_buf_reset(&s->rec);
		if ((rc = cdc_snap_row_values(t, row, lens, vals, err)) != BINLOG_OK ||
		    (rc = cdc_writer_values(&s->w, &s->rec, st, vals, 0, 0, NULL, err)) !=
			    BINLOG_OK)
			goto fail;
		if (!record_data(s->rec.data, s->rec.len, &body)) {
			rc = binlog_err_set(err, BINLOG_E_BAD_VALUE,
					    "a record without a \"data\" object: %.200s",
					    (const char *)s->rec.data);
			goto fail;
		}
		if ((rc = cdc_verify_row_hash(v->hasher, body.p, body.n, &hash, err)) != BINLOG_OK)
			goto fail;
		if (v->by_column) {
			merge_row_t r;
			memset(&r, 0, sizeof(r));
			r.body = body;
			merge_table_partition_of(v->mt, &r, part, sizeof(part));
		}
		if ((rc = count_row(v, id, part, SIDE_SOURCE, hash, err)) != BINLOG_OK)
			goto fail;
	}
	if (mysql_errno(s->m)) {
		rc = binlog_err_set(err, BINLOG_E_SERVER, "reading: %s (error %u)",
				    mysql_error(s->m), mysql_errno(s->m));
		goto fail;
	}
	rc = BINLOG_OK;
	goto out;
fail:
	binlog_err_prefix(err, "source %s (%s): %s.%s", v->source, s->addr, vt->db, vt->table);
out:
	if (res)
		mysql_free_result(res); /* reads what is left of the rows */
	free(vals);
	cdc_snap_table_free(t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Report                                                              */

static int table_order(const verify_t *v, uint32_t a, uint32_t b)
{
	int c = strcmp(v->tables[a].db, v->tables[b].db);

	return c ? c : strcmp(v->tables[a].table, v->tables[b].table);
}

static int table_cmp(const void *a, const void *b, void *arg)
{
	return table_order(arg, *(const uint32_t *)a, *(const uint32_t *)b);
}

static int part_cmp(const void *a, const void *b, void *arg)
{
	const vpart_t *x = a, *y = b;
	int c = x->table == y->table ? 0 : table_order(arg, x->table, y->table);

	return c ? c : strcmp(x->part, y->part);
}

typedef struct tally {
	size_t tables, partitions, ok, diff;
} tally_t;

static void report_line(const verify_t *v, const vtable_t *t, const char *part,
			const uint64_t rows[2], const uint64_t sum[2], tally_t *ta)
{
	int ok = rows[0] == rows[1] && sum[0] == sum[1] && !t->missing;

	if (ok)
		ta->ok++;
	else
		ta->diff++;
	if (v->json) {
		char a[17], b[17];
		json_t *j;
		char *s;
		snprintf(a, sizeof(a), "%016llx", (unsigned long long)sum[0]);
		snprintf(b, sizeof(b), "%016llx", (unsigned long long)sum[1]);
		/* Names as they are (nocheck): a name that is not UTF-8 must
		 * not make its line disappear. */
		j = json_object();
		json_object_set_new(j, "db", json_string_nocheck(t->db));
		json_object_set_new(j, "table", json_string_nocheck(t->table));
		if (part)
			json_object_set_new(j, "partition", json_string_nocheck(part));
		json_object_set_new(j, "table_rows", json_integer((json_int_t)rows[0]));
		json_object_set_new(j, "source_rows", json_integer((json_int_t)rows[1]));
		json_object_set_new(j, "table_checksum", json_string(a));
		json_object_set_new(j, "source_checksum", json_string(b));
		json_object_set_new(j, "status", json_string(ok ? "OK" : "DIFF"));
		if (t->missing)
			json_object_set_new(j, "note", json_string("no such table at the source"));
		s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (s)
			puts(s);
		free(s);
		json_decref(j);
		return;
	}
	printf("%s.%s%s%s  rows %llu/%llu  checksum %016llx/%016llx  %s%s\n", t->db, t->table,
	       part ? " " : "", part ? part : "", (unsigned long long)rows[0],
	       (unsigned long long)rows[1], (unsigned long long)sum[0], (unsigned long long)sum[1],
	       ok ? "OK" : "DIFF", t->missing ? "  (no such table at the source)" : "");
}

static int report(verify_t *v)
{
	const merge_table_opts_t *o = merge_table_options(v->mt);
	const char *how = o->kind != MERGE_TABLE_HIVE ? "per table"
			  : v->by_column              ? "per table and partition"
						      : "per table (the table is partitioned by "
							"commit time, which the source has no "
							"record of)";
	tally_t ta = {0};
	uint32_t *order = malloc((v->ntables ? v->ntables : 1) * sizeof(*order));
	size_t i = 0;

	if (!order) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	/* Tables in name order, and their parts in the same order after them. */
	for (uint32_t k = 0; k < v->ntables; k++)
		order[k] = k;
	qsort_r(order, v->ntables, sizeof(*order), table_cmp, v);
	qsort_r(v->parts, v->nparts, sizeof(*v->parts), part_cmp, v);
	if (!v->json)
		printf("verify %s against source %s: rows and checksums as table/source, "
		       "compared %s\n",
		       v->dir, v->source, how);
	for (size_t k = 0; k < v->ntables; k++) {
		const vtable_t *t = &v->tables[order[k]];
		uint64_t rows[2] = {0, 0}, sum[2] = {0, 0};
		size_t j;
		for (j = i; j < v->nparts && v->parts[j].table == order[k]; j++)
			for (int sd = 0; sd < 2; sd++) {
				rows[sd] += v->parts[j].rows[sd];
				sum[sd] += v->parts[j].sum[sd];
			}
		ta.tables++;
		report_line(v, t, NULL, rows, sum, &ta);
		if (v->by_column)
			for (size_t p = i; p < j; p++) {
				ta.partitions++;
				report_line(v, t, v->parts[p].part, v->parts[p].rows,
					    v->parts[p].sum, &ta);
			}
		i = j;
	}
	free(order);
	if (v->json) {
		json_t *j = json_pack("{s:b,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:s}", "summary", 1,
				      "directory", v->dir, "source", v->source, "compared", how,
				      "tables", (json_int_t)ta.tables, "partitions",
				      (json_int_t)ta.partitions, "ok", (json_int_t)ta.ok, "diff",
				      (json_int_t)ta.diff, "status", ta.diff ? "DIFF" : "OK");
		char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (s)
			puts(s);
		free(s);
		json_decref(j);
	} else {
		printf("%zu table%s", ta.tables, ta.tables == 1 ? "" : "s");
		if (v->by_column)
			printf(", %zu partition%s", ta.partitions, ta.partitions == 1 ? "" : "s");
		printf(" checked: %zu OK, %zu DIFF: %s\n", ta.ok, ta.diff, ta.diff ? "DIFF" : "OK");
	}
	fflush(stdout);
	return ta.diff ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */

static void usage(FILE *out)
{
	fputs("usage: sluice table verify DIR --source NAME [--home DIR]\n"
	      "                           [--tables DB.TABLE[,DB.TABLE...]] [--json]\n"
	      "\n"
	      "Compare the merged table in DIR with the live tables of the registered\n"
	      "source NAME: per source table (and per partition of a Hive table\n"
	      "partitioned by a column), the number of rows and an order-independent\n"
	      "checksum of their values. Run it when the pipeline has caught up and\n"
	      "the source is quiet: a table changing meanwhile shows as DIFF.\n"
	      "\n"
	      "  --source NAME   the registered source (sluice source add)\n"
	      "  --home DIR      the registry (default $SLUICE_HOME, else\n"
	      "                  $HOME/.local/share/sluice)\n"
	      "  --tables LIST   also check these tables (comma-separated or repeated),\n"
	      "                  which may have no rows left in DIR\n"
	      "  --json          one JSON object per line\n"
	      "\n"
	      "Exit status: 0 everything matches, 1 a difference or an error, 2 bad usage.\n",
	      out);
}

/* Add the DB.TABLE items of s to --tables. 0, 2 for a bad item, 1 when out
 * of memory. */
static int add_tables(verify_t *v, const char *s)
{
	const char *p = s;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *dot = memchr(p, '.', n);
		vtable_t *nt;
		if (n == 0) {
			p += e ? 1 : 0;
			continue;
		}
		if (!dot || dot == p || dot + 1 == p + n) {
			fprintf(stderr, PROG ": --tables: '%.*s' is not DB.TABLE\n", (int)n, p);
			return 2;
		}
		if (!(nt = realloc(v->extra, (v->nextra + 1) * sizeof(*nt))))
			return 1;
		v->extra = nt;
		nt = &v->extra[v->nextra];
		memset(nt, 0, sizeof(*nt));
		nt->db = strndup(p, (size_t)(dot - p));
		nt->table = strndup(dot + 1, (size_t)(p + n - dot - 1));
		v->nextra++;
		if (!nt->db || !nt->table)
			return 1;
		p += n + (e ? 1 : 0);
	}
	return 0;
}

enum { O_SOURCE = 256, O_HOME, O_TABLES, O_JSON, O_HELP };

static const struct option opts[] = {
	{"source", required_argument, NULL, O_SOURCE}, {"home", required_argument, NULL, O_HOME},
	{"tables", required_argument, NULL, O_TABLES}, {"json", no_argument, NULL, O_JSON},
	{"help", no_argument, NULL, O_HELP},           {NULL, 0, NULL, 0},
};

/* 0, -1 after --help, else the exit status. */
static int parse_args(verify_t *v, int argc, char **argv)
{
	int ch, rc;

	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_SOURCE:
			v->source = optarg;
			break;
		case O_HOME:
			v->home = optarg;
			break;
		case O_TABLES:
			if ((rc = add_tables(v, optarg)) != 0) {
				if (rc == 1)
					fprintf(stderr, PROG ": out of memory\n");
				return rc;
			}
			break;
		case O_JSON:
			v->json = 1;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, PROG ": give exactly one table directory DIR\n");
		usage(stderr);
		return 2;
	}
	v->dir = argv[optind];
	if (!v->source) {
		fprintf(stderr, PROG ": --source NAME is required (a registered source: "
				     "sluice source list)\n");
		return 2;
	}
	if (!cdc_registry_name_valid(v->source)) {
		fprintf(stderr,
			PROG ": invalid source name '%s': use 1 to %d letters, digits, '_' or "
			     "'-'\n",
			v->source, CDC_REGISTRY_NAME_MAX);
		return 2;
	}
	return 0;
}

int cdc_table_verify_main(int argc, char **argv)
{
	verify_t v;
	source_t s;
	binlog_err_t err = {0};
	int status = 1;

	memset(&v, 0, sizeof(v));
	memset(&s, 0, sizeof(s));
	binlog_buf_init(&v.key, 0);
	binlog_buf_init(&v.db, 0);
	binlog_buf_init(&v.tb, 0);
	if ((status = parse_args(&v, argc, argv)) != 0) {
		status = status < 0 ? 0 : status;
		goto out;
	}
	status = 1;
	if (!(v.hasher = cdc_verify_hasher_new())) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}

	/* 1. the merged table */
	if (merge_table_open(v.dir, NULL, 0, NULL, &v.mt, &err) != BINLOG_OK) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		goto out;
	}
	{
		const merge_table_opts_t *o = merge_table_options(v.mt);
		v.by_column = o->kind == MERGE_TABLE_HIVE && o->partition_by;
	}
	if (merge_table_read(v.mt, table_row, &v, &err) != BINLOG_OK) {
		fprintf(stderr, PROG ": %s: reading the table: %s\n", v.dir, err.msg);
		goto out;
	}
	for (size_t i = 0; i < v.nextra; i++)
		if (table_id(&v, (const uint8_t *)v.extra[i].db, strlen(v.extra[i].db),
			     (const uint8_t *)v.extra[i].table, strlen(v.extra[i].table)) < 0) {
			fprintf(stderr, PROG ": out of memory\n");
			goto out;
		}

	/* 2. the source */
	if (source_open(&v, &s, &err) != BINLOG_OK) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		goto out;
	}
	for (size_t i = 0; i < v.ntables; i++)
		if (source_table(&v, &s, (uint32_t)i, &err) != BINLOG_OK) {
			fprintf(stderr, PROG ": %s\n", err.msg);
			goto out;
		}
	cdc_exec(s.m, "COMMIT", &err); /* a read-only transaction: nothing to keep */

	/* 3. the comparison */
	status = report(&v);
out:
	source_close(&s);
	if (v.mt)
		merge_table_close(v.mt);
	cdc_verify_hasher_free(v.hasher);
	for (size_t i = 0; i < v.ntables; i++) {
		free(v.tables[i].db);
		free(v.tables[i].table);
	}
	free(v.tables);
	for (size_t i = 0; i < v.nparts; i++)
		free(v.parts[i].part);
	free(v.parts);
	for (size_t i = 0; i < v.nextra; i++) {
		free(v.extra[i].db);
		free(v.extra[i].table);
	}
	free(v.extra);
	vmap_free(&v.tmap);
	vmap_free(&v.pmap);
	binlog_buf_free(&v.key);
	binlog_buf_free(&v.db);
	binlog_buf_free(&v.tb);
	/* libmariadb keeps global state from the first mysql_init(); a
	 * command is the whole process, so release it here. */
	mysql_library_end();
	return status;
}
