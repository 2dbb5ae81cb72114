/*
 * cdc_schema_history.c: the catalog's answers, kept (cdc_schema_history.h).
 */
#include "cdc_schema_history.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "binlog_buf.h"
#include "cdc_fs.h"

#define HISTORY_MAX ((size_t)256 << 20) /* refuse to read a larger file */

typedef struct entry {
	uint64_t at;
	char *db, *table; /* forget: NULL is "any" */
	int forget;
	int present;
	schema_catalog_table_t t;
	char *line;   /* as stored, without the newline */
	uint64_t ord; /* order of arrival, for ties of `at` */
} entry_t;

struct cdc_schema_history {
	char *path;
	int fd; /* O_APPEND */
	entry_t *e;
	size_t n, cap;
	size_t appended;
	uint64_t ord;
};

/* ------------------------------------------------------------------ */
/* Entries                                                             */

static void entry_clear(entry_t *e)
{
	free(e->db);
	free(e->table);
	free(e->line);
	schema_catalog_table_clear(&e->t);
	memset(e, 0, sizeof(*e));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A deep copy of a definition. 0 when out of memory (dst cleared). */
static int table_copy(schema_catalog_table_t *dst, const schema_catalog_table_t *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->ncols) {
		dst->cols = calloc(src->ncols, sizeof(*dst->cols));
		if (!dst->cols)
			return 0;
	}
	for (uint32_t i = 0; i < src->ncols; i++) {
		dst->cols[i] = src->cols[i];
		dst->cols[i].name = strdup(src->cols[i].name);
		dst->cols[i].data_type = strdup(src->cols[i].data_type);
		dst->ncols = i + 1;
		if (!dst->cols[i].name || !dst->cols[i].data_type)
			goto fail;
	}
	if (src->npk) {
		/* room for one more, as the catalog leaves it (row_end) */
		dst->pk = calloc(src->npk + 1, sizeof(*dst->pk));
		if (!dst->pk)
			goto fail;
		memcpy(dst->pk, src->pk, src->npk * sizeof(*dst->pk));
		dst->npk = src->npk;
	}
	return 1;
fail:
	schema_catalog_table_clear(dst);
	return 0;
}

static json_t *table_json(uint64_t at, const char *db, const char *table, int present,
			  const schema_catalog_table_t *t)
{
	json_t *o = json_object(), *cols = json_array(), *pk = json_array();

	if (!o || !cols || !pk)
		goto fail;
	for (uint32_t i = 0; i < t->ncols; i++) {
		const schema_catalog_column_t *c = &t->cols[i];
		json_t *jc = json_pack("{s:s, s:s, s:b, s:I, s:i, s:b}", "name", c->name, "type",
				       c->data_type, "unsigned", c->is_unsigned, "collation",
				       (json_int_t)c->collation_id, "ext", c->ext, "pk", c->in_pk);
		if (!jc || json_array_append_new(cols, jc))
			goto fail;
	}
	for (uint32_t i = 0; i < t->npk; i++)
		if (json_array_append_new(pk, json_integer(t->pk[i])))
			goto fail;
	if (json_object_set_new(o, "at", json_integer((json_int_t)at)) ||
	    json_object_set_new(o, "db", json_string(db)) ||
	    json_object_set_new(o, "table", json_string(table)) ||
	    json_object_set_new(o, "present", json_boolean(present)) ||
	    json_object_set_new(o, "columns", cols) || json_object_set_new(o, "pk", pk))
		goto fail_set;
	return o;
fail:
	json_decref(cols);
	json_decref(pk);
fail_set:
	json_decref(o);
	return NULL;
}

static json_t *forget_json(uint64_t at, const char *db, const char *table)
{
	return json_pack("{s:I, s:{s:o, s:o}}", "at", (json_int_t)at, "forget", "db",
			 db ? json_string(db) : json_null(), "table",
			 table ? json_string(table) : json_null());
}

static const char *opt_string(json_t *o, const char *key, int *ok)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		return json_string_value(v);
	if (!json_is_null(v))
		*ok = 0;
	return NULL;
}

/* Parse one stored line into e. 0 when it is not an entry. */
static int entry_parse(entry_t *e, const char *line, size_t len)
{
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL), *v, *f;
	int ok = 1;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(o) || !json_is_integer(v = json_object_get(o, "at")) ||
	    json_integer_value(v) < 0)
		goto bad;
	e->at = (uint64_t)json_integer_value(v);
	if ((f = json_object_get(o, "forget"))) {
		if (!json_is_object(f))
			goto bad;
		e->forget = 1;
		e->db = dup_or_null(opt_string(f, "db", &ok));
		e->table = dup_or_null(opt_string(f, "table", &ok));
		if (!ok)
			goto bad;
	} else {
		json_t *cols = json_object_get(o, "columns"), *pk = json_object_get(o, "pk");
		size_t i;
		json_t *c;

		if (!json_is_string(json_object_get(o, "db")) ||
		    !json_is_string(json_object_get(o, "table")) ||
		    !json_is_boolean(json_object_get(o, "present")) || !json_is_array(cols) ||
		    !json_is_array(pk) || json_array_size(pk) > json_array_size(cols))
			goto bad;
		e->db = strdup(json_string_value(json_object_get(o, "db")));
		e->table = strdup(json_string_value(json_object_get(o, "table")));
		e->present = json_is_true(json_object_get(o, "present"));
		if (!e->db || !e->table)
			goto bad;
		if (json_array_size(cols) &&
		    !(e->t.cols = calloc(json_array_size(cols), sizeof(*e->t.cols))))
			goto bad;
		json_array_foreach(cols, i, c)
		{
			schema_catalog_column_t *sc = &e->t.cols[i];
			json_int_t coll = -1, ext = -1;
			const char *name = NULL, *type = NULL;
			int uns = 0, inpk = 0;

			if (json_unpack(c, "{s:s, s:s, s:b, s:I, s:I, s:b}", "name", &name, "type",
					&type, "unsigned", &uns, "collation", &coll, "ext", &ext,
					"pk", &inpk) ||
			    coll < 0 || coll > 0xffff || ext < 0 || ext > SCHEMA_EXT_VECTOR)
				goto bad;
			sc->name = strdup(name);
			sc->data_type = strdup(type);
			e->t.ncols = (uint32_t)i + 1;
			if (!sc->name || !sc->data_type)
				goto bad;
			sc->is_unsigned = uns;
			sc->collation_id = (uint32_t)coll;
			sc->ext = (int)ext;
			sc->in_pk = inpk;
		}
		if (!(e->t.pk = calloc(json_array_size(pk) + 1, sizeof(*e->t.pk))))
			goto bad;
		json_array_foreach(pk, i, c)
		{
			if (!json_is_integer(c) || json_integer_value(c) < 0 ||
			    (size_t)json_integer_value(c) >= e->t.ncols)
				goto bad;
			e->t.pk[i] = (uint32_t)json_integer_value(c);
			e->t.npk = (uint32_t)i + 1;
		}
	}
	if (!(e->line = strndup(line, len)))
		goto bad;
	json_decref(o);
	return 1;
bad:
	json_decref(o);
	entry_clear(e);
	return 0;
}

static int push(cdc_schema_history_t *h, entry_t *e)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		entry_t *p = realloc(h->e, cap * sizeof(*p));
		if (!p)
			return 0;
		h->e = p;
		h->cap = cap;
	}
	e->ord = h->ord++;
	h->e[h->n++] = *e;
	return 1;
}

/* Does entry e speak of db.table? */
static int matches(const entry_t *e, const char *db, const char *table)
{
	if (!e->forget)
		return strcmp(e->db, db) == 0 && strcmp(e->table, table) == 0;
	/* as the catalog forgets: names compared case-insensitively */
	return (!e->db || strcasecmp(e->db, db) == 0) &&
	       (!e->table || strcasecmp(e->table, table) == 0);
}

/* ------------------------------------------------------------------ */
/* The store                                                           */

static int h_find(void *ctx, const char *db, const char *table, uint64_t at,
		  schema_catalog_table_t *out, int *present)
{
	cdc_schema_history_t *h = ctx;
	const entry_t *best = NULL;

	/* The newest at or before `at`; of equals, the one stored last. */
	for (size_t i = 0; i < h->n; i++) {
		const entry_t *e = &h->e[i];
		if (e->at <= at && (!best || e->at >= best->at) && matches(e, db, table))
			best = e;
	}
	if (!best || best->forget)
		return 0;
	if (!table_copy(out, &best->t))
		return -1;
	*present = best->present;
	return 1;
}

static binlog_errcode_t append(cdc_schema_history_t *h, json_t *o, binlog_err_t *err)
{
	entry_t e;
	char *line;
	size_t len;
	binlog_buf_t b;
	binlog_errcode_t rc = BINLOG_OK;

	if (!o)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!line)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	len = strlen(line);
	if (!entry_parse(&e, line, len)) {
		free(line);
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	}
	binlog_buf_init(&b, 0);
	binlog_buf_put(&b, line, len);
	binlog_buf_putc(&b, '\n');
	free(line);
	if (b.failed) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	} else {
		/* One write of a whole line, then fdatasync: durable before
		 * anything is rendered from it. */
		ssize_t w = write(h->fd, b.data, b.len);
		if (w != (ssize_t)b.len || fdatasync(h->fd) != 0)
			rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: appending: %s", h->path,
					    w < 0 || w == (ssize_t)b.len ? strerror(errno)
									 : "short write");
	}
	binlog_buf_free(&b);
	if (rc == BINLOG_OK && !push(h, &e))
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	if (rc != BINLOG_OK)
		entry_clear(&e);
	else
		h->appended++;
	return rc;
}

static binlog_errcode_t h_add(void *ctx, uint64_t at, const char *db, const char *table,
			      int present, const schema_catalog_table_t *t, binlog_err_t *err)
{
	return append(ctx, table_json(at, db, table, present, t), err);
}

/* Both absent, or both the same name. */
static int same_name(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static binlog_errcode_t h_forget(void *ctx, uint64_t at, const char *db, const char *table,
				 binlog_err_t *err)
{
	cdc_schema_history_t *h = ctx;

	/* The same DDL read again (a replay): stored once. */
	for (size_t i = h->n; i-- > 0;) {
		const entry_t *e = &h->e[i];
		if (e->at < at)
			break;
		if (e->forget && e->at == at && same_name(e->db, db) && same_name(e->table, table))
			return BINLOG_OK;
	}
	return append(h, forget_json(at, db, table), err);
}

void cdc_schema_history_store(cdc_schema_history_t *h, schema_catalog_store_t *st)
{
	st->find = h_find;
	st->add = h_add;
	st->forget = h_forget;
	st->ctx = h;
}

/* ------------------------------------------------------------------ */
/* Compaction                                                          */

typedef struct names {
	char **v;
	size_t n, cap;
} names_t;

static int names_has(const names_t *s, const char *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcasecmp(s->v[i], a) == 0)
			return 1;
	return 0;
}

static int names_add(names_t *s, const char *a, const char *b)
{
	char *x;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **p = realloc(s->v, cap * sizeof(*p));
		if (!p)
			return 0;
		s->v = p;
		s->cap = cap;
	}
	if (b) {
		size_t la = strlen(a), lb = strlen(b);
		if (!(x = malloc(la + lb + 2)))
			return 0;
		memcpy(x, a, la);
		x[la] = '\x01'; /* not in a name */
		memcpy(x + la + 1, b, lb + 1);
	} else if (!(x = strdup(a))) {
		return 0;
	}
	s->v[s->n++] = x;
	return 1;
}

static int names_has2(const names_t *s, const char *a, const char *b)
{
	size_t la = strlen(a);

	for (size_t i = 0; i < s->n; i++)
		if (strncasecmp(s->v[i], a, la) == 0 && s->v[i][la] == '\x01' &&
		    strcasecmp(s->v[i] + la + 1, b) == 0)
			return 1;
	return 0;
}

static void names_free(names_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static int by_at(const void *a, const void *b)
{
	const entry_t *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/*
 * Entries before `from` matter to a stream at or after it only as the
 * newest entry for a table: of those, the definitions are kept, the DDLs
 * dropped (no entry and a DDL both mean "ask the catalog"). Walking from
 * the newest back, an entry is needed when nothing newer covers its table.
 */
static int needed(entry_t *e, size_t n, uint64_t from, uint8_t *keep)
{
	names_t tables = {0}, dbs = {0}, anydb = {0};
	int all = 0, ok = 1;

	for (size_t i = n; ok && i-- > 0;) {
		const entry_t *x = &e[i];
		int covered;

		if (x->at >= from) {
			keep[i] = 1;
			continue;
		}
		if (x->db && x->table)
			covered = all || names_has(&dbs, x->db) || names_has(&anydb, x->table) ||
				  names_has2(&tables, x->db, x->table);
		else if (x->db)
			covered = all || names_has(&dbs, x->db);
		else if (x->table)
			covered = all || names_has(&anydb, x->table);
		else
			covered = all;
		keep[i] = !covered && !x->forget;
		if (covered)
			continue;
		if (x->db && x->table)
			ok = names_add(&tables, x->db, x->table);
		else if (x->db)
			ok = names_add(&dbs, x->db, NULL);
		else if (x->table)
			ok = names_add(&anydb, x->table, NULL);
		else
			all = 1;
	}
	names_free(&tables);
	names_free(&dbs);
	names_free(&anydb);
	return ok;
}

static binlog_errcode_t rewrite(cdc_schema_history_t *h, binlog_err_t *err)
{
	binlog_buf_t b;
	binlog_errcode_t rc;

	binlog_buf_init(&b, 0);
	for (size_t i = 0; i < h->n; i++) {
		binlog_buf_put(&b, h->e[i].line, strlen(h->e[i].line));
		binlog_buf_putc(&b, '\n');
	}
	if (b.failed)
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	else
		rc = cdc_write_atomic(h->path, b.data, b.len, CDC_WRITE_REPLACE, 0, err);
	binlog_buf_free(&b);
	return rc;
}

static binlog_errcode_t reopen(cdc_schema_history_t *h, binlog_err_t *err)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = open(h->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (h->fd < 0)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", h->path, strerror(errno));
	return BINLOG_OK;
}

binlog_errcode_t cdc_schema_history_compact(cdc_schema_history_t *h, uint64_t from,
					    binlog_err_t *err)
{
	uint8_t *keep;
	size_t k = 0;

	/* In position order (appends after a replay can be out of it). */
	if (h->n > 1)
		qsort(h->e, h->n, sizeof(*h->e), by_at);
	keep = calloc(h->n ? h->n : 1, 1);
	if (!keep || !needed(h->e, h->n, from, keep)) {
		free(keep);
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	}
	for (size_t i = 0; i < h->n; i++) {
		if (keep[i])
			h->e[k++] = h->e[i];
		else
			entry_clear(&h->e[i]);
	}
	free(keep);
	h->appended = 0;
	if (k == h->n && h->fd >= 0)
		return BINLOG_OK;
	h->n = k;
	if (rewrite(h, err) != BINLOG_OK)
		return err->code;
	return reopen(h, err);
}

/* ------------------------------------------------------------------ */
/* Open, close                                                         */

static binlog_errcode_t load(cdc_schema_history_t *h, int *dirty, binlog_err_t *err)
{
	binlog_buf_t b;
	int missing = 0;
	size_t start = 0, lineno = 0;
	binlog_errcode_t rc;

	binlog_buf_init(&b, 0);
	rc = cdc_read_file(h->path, HISTORY_MAX, &b, &missing, err);
	if (rc != BINLOG_OK) {
		binlog_buf_free(&b);
		if (missing) {
			*dirty = 1;
			return BINLOG_OK;
		}
		return rc;
	}
	while (start < b.len) {
		const char *p = (const char *)b.data + start;
		const char *nl = memchr(p, '\n', b.len - start);
		size_t len = nl ? (size_t)(nl - p) : b.len - start;
		entry_t e;

		lineno++;
		if (!entry_parse(&e, p, len)) {
			if (!nl) {
				/* torn by a crash while appending: never used */
				*dirty = 1;
				break;
			}
			binlog_buf_free(&b);
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "%s: line %zu is not a schema history entry; the "
					      "file is damaged (move it away to start a new "
					      "history: records may then be rendered from "
					      "the catalog as it is now)",
					      h->path, lineno);
		}
		if (!nl)
			*dirty = 1; /* no newline: rewrite it whole */
		if (!push(h, &e)) {
			entry_clear(&e);
			binlog_buf_free(&b);
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
		start += len + 1;
	}
	binlog_buf_free(&b);
	return BINLOG_OK;
}

cdc_schema_history_t *cdc_schema_history_open(const char *path, uint64_t from, binlog_err_t *err)
{
	cdc_schema_history_t *h = calloc(1, sizeof(*h));
	int dirty = 0;

	if (!h || !(h->path = strdup(path))) {
		free(h);
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		return NULL;
	}
	h->fd = -1;
	if (load(h, &dirty, err) != BINLOG_OK)
		goto fail;
	if (dirty && rewrite(h, err) != BINLOG_OK)
		goto fail;
	if (cdc_schema_history_compact(h, from, err) != BINLOG_OK)
		goto fail;
	if (h->fd < 0 && reopen(h, err) != BINLOG_OK)
		goto fail;
	return h;
fail:
	cdc_schema_history_close(h);
	return NULL;
}

void cdc_schema_history_close(cdc_schema_history_t *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	for (size_t i = 0; i < h->n; i++)
		entry_clear(&h->e[i]);
	free(h->e);
	free(h->path);
	free(h);
}

size_t cdc_schema_history_size(const cdc_schema_history_t *h)
{
	return h->n;
}

size_t cdc_schema_history_appended(const cdc_schema_history_t *h)
{
	return h->appended;
}
