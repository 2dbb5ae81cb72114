/*
 * cdc_snapshot.c: chunked, lock-free table snapshots (see cdc_snapshot.h
 * and docs/SNAPSHOT.md).
 *
 * One mutex guards everything shared between the stream thread and the
 * readers: the tasks (one per table to read), the chunks in flight, the
 * stream's read position. Readers hold it only to take work and hand
 * results over; queries and formatting run outside it.
 */
#include "cdc_snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <mysql.h>

#include "binlog_jsonw.h"
#include "cdc_config.h"
#include "cdc_log.h"
#include "cdc_record.h"
#include "cdc_sequence.h"
#include "cdc_snaprow.h"
#include "schema_catalog.h"

#define MAX_READERS   64
#define MAX_KEY_COLS  CDC_KEY_MAX_COLS
#define SNAP_RETRIES  1000 /* consistent reads behind the stream, per chunk */
#define MAX_REREADS   50   /* of one chunk before giving up */
#define BACKOFF_MS    100
#define BACKOFF_MAXMS 10000

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* Key bounds: one SQL literal per key column (cdc_snap_literal)        */

typedef struct bound {
	uint32_t n;
	char **v;
} bound_t;

static void bound_free(bound_t *b)
{
	if (!b)
		return;
	for (uint32_t i = 0; i < b->n; i++)
		free(b->v[i]);
	free(b->v);
	free(b);
}

static bound_t *bound_dup(const bound_t *b)
{
	bound_t *d;

	if (!b)
		return NULL;
	if (!(d = calloc(1, sizeof(*d))) || !(d->v = calloc(b->n ? b->n : 1, sizeof(char *)))) {
		free(d);
		return NULL;
	}
	d->n = b->n;
	for (uint32_t i = 0; i < b->n; i++)
		if (!(d->v[i] = strdup(b->v[i]))) {
			bound_free(d);
			return NULL;
		}
	return d;
}

/*
 * Is s a literal cdc_snap_literal could have written? A bound read back
 * from a checkpoint goes into SQL: only these forms are let through.
 */
static int literal_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 70000)
		return 0;
	if (s[0] == '_' || s[0] == 'X') { /* _charset X'hex' or X'hex' */
		const char *q = s;
		if (s[0] == '_') {
			q++;
			while ((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_')
				q++;
			if (*q++ != ' ')
				return 0;
		}
		if (q[0] != 'X' || q[1] != '\'')
			return 0;
		for (q += 2; *q && *q != '\''; q++)
			if (!((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'F') ||
			      (*q >= 'a' && *q <= 'f')))
				return 0;
		return q[0] == '\'' && q[1] == 0;
	}
	if (s[0] == '\'') { /* a temporal value */
		const char *q = s + 1;
		while ((*q >= '0' && *q <= '9') || *q == '-' || *q == ':' || *q == ' ' || *q == '.')
			q++;
		return q[0] == '\'' && q[1] == 0;
	}
	for (const char *q = s; *q; q++) /* a number */
		if (!((*q >= '0' && *q <= '9') || *q == '-' || *q == '+' || *q == '.' ||
		      *q == 'e' || *q == 'E'))
			return 0;
	return 1;
}

static json_t *bound_json(const bound_t *b)
{
	json_t *a;

	if (!b)
		return json_null();
	a = json_array();
	for (uint32_t i = 0; a && i < b->n; i++)
		json_array_append_new(a, json_string(b->v[i]));
	return a;
}

/* A bound from a checkpoint; *ok 0 when it is malformed. */
static bound_t *bound_from_json(json_t *a, int *ok)
{
	bound_t *b;
	size_t i;
	json_t *v;

	*ok = 1;
	if (!a || json_is_null(a))
		return NULL;
	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > MAX_KEY_COLS) {
		*ok = 0;
		return NULL;
	}
	if (!(b = calloc(1, sizeof(*b))) || !(b->v = calloc(json_array_size(a), sizeof(char *)))) {
		free(b);
		*ok = 0;
		return NULL;
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || !literal_ok(json_string_value(v)) ||
		    !(b->v[i] = strdup(json_string_value(v)))) {
			b->n = (uint32_t)i;
			bound_free(b);
			*ok = 0;
			return NULL;
		}
		b->n = (uint32_t)i + 1;
	}
	return b;
}

/* ------------------------------------------------------------------ */
/* Keys the stream changed during a chunk's window                     */

typedef struct keyset {
	uint64_t *hash;
	uint32_t *at; /* 1 + offset of [u32 len][bytes] in keys; 0: empty */
	uint32_t cap, n;
	binlog_buf_t keys;
} keyset_t;

static uint64_t key_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

static void keyset_free(keyset_t *k)
{
	free(k->hash);
	free(k->at);
	binlog_buf_free(&k->keys);
	memset(k, 0, sizeof(*k));
}

static int keyset_find(const keyset_t *k, const uint8_t *p, uint32_t n, uint64_t h, uint32_t *slot)
{
	uint32_t i;

	if (!k->cap)
		return 0;
	for (i = (uint32_t)h & (k->cap - 1);; i = (i + 1) & (k->cap - 1)) {
		if (!k->at[i]) {
			if (slot)
				*slot = i;
			return 0;
		}
		if (k->hash[i] == h) {
			const uint8_t *e = k->keys.data + k->at[i] - 1;
			uint32_t len;
			memcpy(&len, e, 4);
			if (len == n && memcmp(e + 4, p, n) == 0)
				return 1;
		}
	}
}

/* 1 when k holds p[0..n) (now); 0 when out of memory or past `max`. */
static int keyset_add(keyset_t *k, const uint8_t *p, uint32_t n, uint64_t max)
{
	uint64_t h = key_hash(p, n);
	uint32_t slot = 0;

	if (keyset_find(k, p, n, h, &slot))
		return 1;
	if (k->n >= max)
		return 0;
	if (!k->cap)
		binlog_buf_init(&k->keys, 0);
	if ((uint64_t)(k->n + 1) * 2 > k->cap) {
		uint32_t ncap = k->cap ? k->cap * 2 : 64;
		uint64_t *nh = calloc(ncap, sizeof(*nh));
		uint32_t *na = calloc(ncap, sizeof(*na));
		if (!nh || !na) {
			free(nh);
			free(na);
			return 0;
		}
		for (uint32_t i = 0; i < k->cap; i++) {
			uint32_t j;
			if (!k->at[i])
				continue;
			for (j = (uint32_t)k->hash[i] & (ncap - 1); na[j]; j = (j + 1) & (ncap - 1))
				;
			nh[j] = k->hash[i];
			na[j] = k->at[i];
		}
		free(k->hash);
		free(k->at);
		k->hash = nh;
		k->at = na;
		k->cap = ncap;
		keyset_find(k, p, n, h, &slot);
	}
	if (k->keys.len + 4 + (uint64_t)n >= UINT32_MAX)
		return 0;
	k->hash[slot] = h;
	k->at[slot] = (uint32_t)k->keys.len + 1;
	binlog_buf_put(&k->keys, &n, 4);
	binlog_buf_put(&k->keys, p, n);
	if (k->keys.failed)
		return 0;
	k->n++;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Tasks and chunks                                                    */

enum { C_QUEUED = 0, C_READING, C_READY }; /* queued to be read (again) */

typedef struct rec_ix {
	uint32_t off, len; /* the value in chunk.data */
	uint32_t seq_at;   /* where its sequence digits are, from off */
	uint32_t koff, klen;
} rec_ix_t;

struct task;

typedef struct chunk {
	struct chunk *next;
	struct task *t;
	uint64_t id;
	bound_t *lo, *hi; /* (lo, hi]; NULL: open */
	int state;
	unsigned rereads;
	/* where the stream stood when it was registered, and the server's
	 * binlog position after the read: the window */
	uint64_t reg_file, reg_pos;
	uint64_t hw_file, hw_pos;
	keyset_t changed;
	int overflow;
	binlog_buf_t data;
	rec_ix_t *recs;
	uint32_t nrecs, cap;
} chunk_t;

typedef struct task {
	struct task *next;
	char *db, *table, *qualified, *where, *request;
	int kind;
	/* chunks are numbered as they are split off; those below done_id are
	 * emitted, and `resume` is the upper bound of the last of them */
	bound_t *resume;
	bound_t *lo; /* the next chunk starts after it (NULL: at the start) */
	int split_done, splitting, loaded;
	uint64_t next_id, done_id;
	uint64_t emitted_mask; /* bit i: chunk done_id + i is emitted */
	bound_t *hi_of[64];    /* their upper bounds */
	cdc_snap_table_t *meta;
	const schema_table_t *st;
	uint64_t rows, dropped, estimate;
	int64_t started_ms;
	int gone; /* the table no longer exists */
} task_t;

typedef struct reader {
	cdc_snapshot_t *s;
	pthread_t th;
	int started;
	MYSQL *m;
	cdc_server_t srv;
	schema_catalog_t *catalog;
	cdc_writer_t w;
	cdc_keyer_t keyer;
	binlog_value_t *vals;
	uint32_t nvals;
	binlog_buf_t sql;
	int gone; /* the last error: the table does not exist */
} reader_t;

struct cdc_snapshot {
	cdc_snapshot_opts_t o;
	cdc_conn_opts_t conn;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* work or room for it */
	int stop;
	task_t *tasks;   /* queued and in progress, in order */
	chunk_t *chunks; /* registered, being read or read: by registration */
	chunk_t *reread; /* to be read again */
	unsigned held;   /* chunks split off and not emitted */
	unsigned max_held;
	atomic_uint nopen;        /* chunks the stream notes keys for */
	uint64_t hw_file, hw_pos; /* the furthest event the stream began */
	binlog_err_t error;       /* a reader's, reported by the stream */
	int failed;
	/* the initial snapshots done, by "db.table" (for the state) */
	char **done;
	size_t ndone, capdone;
	char *finished; /* request ids finished since the last state */
	binlog_buf_t fin;
	/* progress */
	unsigned tables_total, tables_done;
	uint64_t rows, dropped, rereads, estimate_done;
	uint64_t rows_finished; /* rows of the tables done */
	int estimated;
	int64_t rate_ms;
	uint64_t rate_rows;
	double rate;
	cdc_keyer_t keyer; /* the stream's, for cdc_snapshot_record */
	reader_t readers[MAX_READERS];
};

static int pos_le(uint64_t f1, uint64_t p1, uint64_t f2, uint64_t p2)
{
	return f1 < f2 || (f1 == f2 && p1 <= p2);
}

static void chunk_free(chunk_t *c)
{
	if (!c)
		return;
	bound_free(c->lo);
	bound_free(c->hi);
	keyset_free(&c->changed);
	binlog_buf_free(&c->data);
	free(c->recs);
	free(c);
}

static void task_free(task_t *t)
{
	if (!t)
		return;
	free(t->db);
	free(t->table);
	free(t->qualified);
	free(t->where);
	free(t->request);
	bound_free(t->resume);
	bound_free(t->lo);
	for (int i = 0; i < 64; i++)
		bound_free(t->hi_of[i]);
	cdc_snap_table_free(t->meta);
	free(t);
}

static task_t *task_new(const char *db, const char *table, int kind, const char *where,
			const char *request)
{
	task_t *t = calloc(1, sizeof(*t));
	size_t n;

	if (!t)
		return NULL;
	n = strlen(db) + strlen(table) + 2;
	t->db = strdup(db);
	t->table = strdup(table);
	t->qualified = malloc(n);
	t->where = where && *where ? strdup(where) : NULL;
	t->request = request ? strdup(request) : NULL;
	t->kind = kind;
	t->started_ms = cdc_wall_ms();
	if (!t->db || !t->table || !t->qualified || (where && *where && !t->where) ||
	    (request && !t->request)) {
		task_free(t);
		return NULL;
	}
	snprintf(t->qualified, n, "%s.%s", db, table);
	return t;
}

static void fail_locked(cdc_snapshot_t *s, const binlog_err_t *e)
{
	if (!s->failed) {
		s->error = *e;
		s->failed = 1;
	}
}

/* Wait ms, or until the snapshot is stopped (a reader backing off must
 * not hold up a SIGTERM). */
static void nap(cdc_snapshot_t *s, int64_t ms)
{
	int64_t until = cdc_wall_ms() + ms;
	struct timespec ts = {.tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000L};

	pthread_mutex_lock(&s->mu);
	while (!s->stop && cdc_wall_ms() < until)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ */
/* Readers                                                             */

static void reader_close(reader_t *rd)
{
	if (rd->catalog)
		schema_catalog_free(rd->catalog);
	rd->catalog = NULL;
	if (rd->m)
		mysql_close(rd->m);
	rd->m = NULL;
}

static binlog_errcode_t reader_connect(reader_t *rd, binlog_err_t *err)
{
	if (rd->m)
		return BINLOG_OK;
	if (!(rd->m = cdc_conn_open(&rd->s->conn, err)))
		return err->code;
	if (cdc_server_probe(rd->m, &rd->srv, err) != BINLOG_OK ||
	    cdc_snap_session(rd->m, err) != BINLOG_OK) {
		reader_close(rd);
		return err->code;
	}
	if (!(rd->catalog = schema_catalog_new(rd->m))) {
		reader_close(rd);
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	}
	return BINLOG_OK;
}

/*
 * key > lo (cmp ">") or key <= hi (cmp "<="), for a key of several
 * columns spelt out so that any server's range optimizer uses the key:
 * (a > x OR (a = x AND (b > y ...))).
 */
static void put_key_cmp(binlog_buf_t *b, const cdc_snap_table_t *m, const bound_t *v, int upper)
{
	uint32_t n = v->n;

	for (uint32_t k = 0; k < n; k++) {
		const char *op = k + 1 < n ? (upper ? "<" : ">") : (upper ? "<=" : ">");
		binlog_buf_putc(b, '(');
		binlog_buf_puts(b, m->pk_names[k]);
		binlog_buf_putc(b, ' ');
		binlog_buf_puts(b, op);
		binlog_buf_putc(b, ' ');
		binlog_buf_puts(b, v->v[k]);
		if (k + 1 < n) {
			binlog_buf_lit(b, " OR (");
			binlog_buf_puts(b, m->pk_names[k]);
			binlog_buf_lit(b, " = ");
			binlog_buf_puts(b, v->v[k]);
			binlog_buf_lit(b, " AND ");
		}
	}
	for (uint32_t k = 0; k < n; k++)
		binlog_buf_puts(b, k + 1 < n ? "))" : ")");
}

static void put_from_where(binlog_buf_t *b, const task_t *t, const bound_t *lo, const bound_t *hi)
{
	int and = 0;

	binlog_buf_lit(b, " FROM ");
	cdc_snap_put_ident(b, t->db);
	binlog_buf_putc(b, '.');
	cdc_snap_put_ident(b, t->table);
	if (lo) {
		binlog_buf_lit(b, " WHERE ");
		put_key_cmp(b, t->meta, lo, 0);
		and = 1;
	}
	if (hi) {
		binlog_buf_puts(b, and? " AND " : " WHERE ");
		put_key_cmp(b, t->meta, hi, 1);
		and = 1;
	}
	if (t->where) {
		binlog_buf_puts(b, and? " AND (" : " WHERE (");
		binlog_buf_puts(b, t->where);
		binlog_buf_putc(b, ')');
	}
}

static void put_order(binlog_buf_t *b, const cdc_snap_table_t *m)
{
	binlog_buf_lit(b, " ORDER BY ");
	for (uint32_t k = 0; k < m->npk; k++) {
		if (k)
			binlog_buf_putc(b, ',');
		binlog_buf_puts(b, m->pk_names[k]);
	}
}

/* The server's error, classified: lost connections are retried. */
static binlog_errcode_t sql_error(reader_t *rd, const char *what, const task_t *t,
				  binlog_err_t *err)
{
	unsigned e = mysql_errno(rd->m);
	binlog_errcode_t code = (e == 2006 || e == 2013 || e == 2055 || e == 1053 || e == 1927 ||
				 e == 1205 || e == 1213)
					? BINLOG_E_IO
					: BINLOG_E_SERVER;

	rd->gone = e == 1146; /* ER_NO_SUCH_TABLE: dropped meanwhile */
	return binlog_err_set(err, code, "snapshot of %s: %s: %s (error %u)", t->qualified, what,
			      mysql_error(rd->m), e);
}

static binlog_errcode_t load_meta(reader_t *rd, task_t *t, binlog_err_t *err)
{
	cdc_snapshot_t *s = rd->s;
	schema_opts_t so = {
		.catalog = s->o.catalog_mode == CDC_CATALOG_NEVER ? NULL : rd->catalog,
		.catalog_mode = s->o.catalog_mode,
		.filter = s->o.filter,
	};
	const schema_table_t *st;

	if (t->loaded)
		return BINLOG_OK;
	if (cdc_snap_table_load(rd->m, t->db, t->table, &t->meta, err) != BINLOG_OK) {
		rd->gone = err->code == BINLOG_E_USAGE; /* no such table (any more) */
		return err->code;
	}
	if (!(st = schema_table_get_ex(&t->meta->bt, &so, err)))
		return err->code;
	t->st = st;
	t->estimate = t->meta->rows_estimate;
	t->loaded = 1;
	return BINLOG_OK;
}

/*
 * Split the next chunk off task t: its upper bound is the key chunk_rows
 * rows after t->lo (the last chunk has none). Called with t->splitting
 * set, outside the lock.
 */
static binlog_errcode_t split(reader_t *rd, task_t *t, chunk_t **out, binlog_err_t *err)
{
	cdc_snapshot_t *s = rd->s;
	binlog_buf_t *q = &rd->sql;
	bound_t *hi = NULL;
	chunk_t *c;

	if (load_meta(rd, t, err) != BINLOG_OK)
		return err->code;
	if (t->meta->npk) {
		MYSQL_RES *res;
		MYSQL_ROW row;
		char num[24];

		binlog_buf_reset(q);
		/* The whole row, for the key columns in the form the
		 * literals are made from (cdc_snap_literal). */
		binlog_buf_lit(q, "SELECT ");
		binlog_buf_puts(q, t->meta->select_list);
		put_from_where(q, t, t->lo, NULL);
		put_order(q, t->meta);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)(s->o.chunk_rows - 1));
		binlog_buf_lit(q, " LIMIT 1 OFFSET ");
		binlog_buf_puts(q, num);
		if (q->failed)
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		if (mysql_real_query(rd->m, (const char *)q->data, q->len) != 0 ||
		    !(res = mysql_store_result(rd->m)))
			return sql_error(rd, "splitting", t, err);
		if ((row = mysql_fetch_row(res)) != NULL) {
			unsigned long *lens = mysql_fetch_lengths(res);
			binlog_buf_t lit;
			hi = calloc(1, sizeof(*hi));
			if (hi)
				hi->v = calloc(t->meta->npk, sizeof(char *));
			binlog_buf_init(&lit, 0);
			for (uint32_t k = 0; hi && hi->v && k < t->meta->npk; k++) {
				binlog_buf_reset(&lit);
				uint32_t col = t->meta->pk[k];
				cdc_snap_literal(t->meta, col, row[col], lens[col], &lit);
				binlog_buf_putc(&lit, 0);
				if (lit.failed || !(hi->v[k] = strdup((const char *)lit.data)))
					break;
				hi->n = k + 1;
			}
			binlog_buf_free(&lit);
			if (!hi || hi->n != t->meta->npk) {
				bound_free(hi);
				mysql_free_result(res);
				return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			}
		}
		mysql_free_result(res);
	}
	if (!(c = calloc(1, sizeof(*c))))
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	c->t = t;
	c->lo = bound_dup(t->lo);
	c->hi = hi;
	if (t->lo && !c->lo) {
		chunk_free(c);
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	}
	binlog_buf_init(&c->data, s->o.chunk_bytes);
	pthread_mutex_lock(&s->mu);
	c->id = t->next_id++;
	if (hi) {
		bound_t *d = bound_dup(hi);
		bound_free(t->lo);
		t->lo = d;
		if (!d) {
			t->split_done = 1; /* cannot go on: reported below */
			pthread_mutex_unlock(&s->mu);
			chunk_free(c);
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
	} else {
		t->split_done = 1;
	}
	pthread_mutex_unlock(&s->mu);
	*out = c;
	return BINLOG_OK;
}

/* The server's binlog position now (file number, offset). */
static binlog_errcode_t binlog_pos(reader_t *rd, const char *sql, const task_t *t, char *file,
				   size_t cap, uint64_t *pos, binlog_err_t *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int status = strncmp(sql, "SHOW STATUS", 11) == 0;
	binlog_errcode_t rc = BINLOG_OK;

	if (mysql_query(rd->m, sql) != 0 || !(res = mysql_store_result(rd->m)))
		return sql_error(rd, sql, t, err);
	file[0] = 0;
	*pos = 0;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (!status) {
			snprintf(file, cap, "%s", row[0] ? row[0] : "");
			*pos = row[1] ? strtoull(row[1], NULL, 10) : 0;
			break;
		}
		if (row[0] && row[1] && strcasecmp(row[0], "Binlog_snapshot_file") == 0)
			snprintf(file, cap, "%s", row[1]);
		else if (row[0] && row[1] && strcasecmp(row[0], "Binlog_snapshot_position") == 0)
			*pos = strtoull(row[1], NULL, 10);
	}
	mysql_free_result(res);
	if (!file[0])
		rc = binlog_err_set(err, BINLOG_E_SERVER,
				    "snapshot of %s: %s returned no binlog position (is the "
				    "binlog enabled?)",
				    t->qualified, sql);
	return rc;
}

static binlog_errcode_t add_rec(chunk_t *c, size_t off, size_t seq_at, const binlog_buf_t *key)
{
	rec_ix_t *r;

	if (c->nrecs == c->cap) {
		uint32_t ncap = c->cap ? c->cap * 2 : 256;
		rec_ix_t *p = realloc(c->recs, ncap * sizeof(*p));
		if (!p)
			return BINLOG_E_NOMEM;
		c->recs = p;
		c->cap = ncap;
	}
	r = &c->recs[c->nrecs];
	r->off = (uint32_t)off;
	r->len = (uint32_t)(c->data.len - off);
	r->seq_at = (uint32_t)(seq_at - off);
	r->koff = (uint32_t)c->data.len;
	binlog_buf_put(&c->data, key->data, key->len);
	r->klen = (uint32_t)key->len;
	if (c->data.failed)
		return BINLOG_E_LIMIT;
	c->nrecs++;
	return BINLOG_OK;
}

static binlog_errcode_t chunk_full(const cdc_snapshot_t *s, const chunk_t *c, binlog_err_t *err)
{
	return binlog_err_set(err, BINLOG_E_LIMIT,
			      "snapshot of %s: a chunk of %llu rows is over "
			      "scan.snapshot.chunk.max-bytes (%llu bytes): lower "
			      "scan.snapshot.chunk.size%s",
			      c->t->qualified, (unsigned long long)s->o.chunk_rows,
			      (unsigned long long)c->data.max,
			      c->t->meta && c->t->meta->npk == 0
				      ? " (the table has no key: it is read as one chunk; add a "
					"primary key)"
				      : "");
}

/*
 * Read chunk c: register it, open a consistent read that covers what the
 * stream has read, read the rows, note the high watermark.
 */
static binlog_errcode_t read_chunk(reader_t *rd, chunk_t *c, binlog_err_t *err)
{
	cdc_snapshot_t *s = rd->s;
	task_t *t = c->t;
	const cdc_snap_table_t *m = t->meta;
	int maria = rd->srv.flavor == BINLOG_FLAVOR_MARIADB;
	const char *status_sql = cdc_sql_binlog_status(&rd->srv);
	char file[256];
	uint64_t pos = 0, fno;
	binlog_buf_t *q = &rd->sql;
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_gtid_t none = {0};
	binlog_errcode_t rc;
	int tries = 0;

	if (m->bt.ncols > rd->nvals) { /* values of one row, per reader */
		binlog_value_t *v = realloc(rd->vals, m->bt.ncols * sizeof(*v));
		if (!v)
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		rd->vals = v;
		rd->nvals = m->bt.ncols;
	}

	/* 1. registered: the stream notes this table's keys from here on */
	pthread_mutex_lock(&s->mu);
	c->reg_file = s->hw_file;
	c->reg_pos = s->hw_pos;
	keyset_free(&c->changed);
	c->overflow = 0;
	c->state = C_READING;
	c->next = NULL;
	{
		chunk_t **pp = &s->chunks;
		while (*pp)
			pp = &(*pp)->next;
		*pp = c;
	}
	atomic_fetch_add(&s->nopen, 1);
	pthread_mutex_unlock(&s->mu);

	/* 2. a read that sees everything the stream has read */
	for (;;) {
		if (!maria &&
		    binlog_pos(rd, status_sql, t, file, sizeof(file), &pos, err) != BINLOG_OK)
			return err->code;
		if (cdc_exec(rd->m, "START TRANSACTION WITH CONSISTENT SNAPSHOT", err) != BINLOG_OK)
			return err->code;
		if (!maria)
			break;
		if (binlog_pos(rd, "SHOW STATUS LIKE 'binlog_snapshot_%'", t, file, sizeof(file),
			       &pos, err) != BINLOG_OK)
			return err->code;
		fno = cdc_binlog_file_number(file);
		if (pos_le(c->reg_file, c->reg_pos, fno, pos))
			break;
		/* The stream has read a transaction the server has not made
		 * visible yet (binlog first, then the engine): a moment. */
		if (cdc_exec(rd->m, "ROLLBACK", err) != BINLOG_OK)
			return err->code;
		if (++tries > SNAP_RETRIES || s->stop)
			return binlog_err_set(err, BINLOG_E_IO,
					      "snapshot of %s: the server's consistent read stays "
					      "behind what the binlog stream read (%s:%llu)",
					      t->qualified, file, (unsigned long long)pos);
		sleep_ms(tries < 10 ? 1 : 10);
	}

	/* 3. the rows, formatted as the binlog's would be */
	cdc_writer_set_file(&rd->w, file);
	cdc_writer_begin_txn(&rd->w, &none, cdc_wall_ms());
	binlog_buf_reset(q);
	binlog_buf_lit(q, "SELECT ");
	binlog_buf_puts(q, m->select_list);
	put_from_where(q, t, c->lo, c->hi);
	if (q->failed)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	binlog_buf_reset(&c->data);
	c->nrecs = 0;
	if (mysql_real_query(rd->m, (const char *)q->data, q->len) != 0 ||
	    !(res = mysql_use_result(rd->m)))
		return sql_error(rd, "reading", t, err);
	rc = BINLOG_OK;
	while ((row = mysql_fetch_row(res)) != NULL) {
		unsigned long *lens = mysql_fetch_lengths(res);
		size_t off = c->data.len, seq_at = 0;
		if ((rc = cdc_snap_row_values(m, row, lens, rd->vals, err)) != BINLOG_OK)
			break;
		if ((rc = cdc_writer_values(&rd->w, &c->data, t->st, rd->vals, 0, pos, &seq_at,
					    err)) != BINLOG_OK) {
			if (c->data.max && c->data.len + 1024 >= c->data.max)
				rc = chunk_full(s, c, err);
			break;
		}
		if ((rc = cdc_keyer_build(&rd->keyer, t->st, c->data.data + off, c->data.len - off,
					  err)) != BINLOG_OK)
			break;
		if ((rc = add_rec(c, off, seq_at, &rd->keyer.key)) != BINLOG_OK) {
			rc = rc == BINLOG_E_NOMEM ? binlog_err_set(err, rc, NULL)
						  : chunk_full(s, c, err);
			break;
		}
	}
	if (rc == BINLOG_OK && mysql_errno(rd->m))
		rc = sql_error(rd, "reading", t, err);
	mysql_free_result(res);
	if (rc != BINLOG_OK)
		return rc;
	if (cdc_exec(rd->m, "COMMIT", err) != BINLOG_OK)
		return err->code;

	/* 4. the high watermark: every transaction the read saw is before it */
	if (binlog_pos(rd, status_sql, t, file, sizeof(file), &pos, err) != BINLOG_OK)
		return err->code;
	pthread_mutex_lock(&s->mu);
	c->hw_file = cdc_binlog_file_number(file);
	c->hw_pos = pos;
	c->state = C_READY;
	pthread_mutex_unlock(&s->mu);
	return BINLOG_OK;
}

/* Take c out of the registered chunks (with the lock held). */
static void unregister_locked(cdc_snapshot_t *s, chunk_t *c)
{
	for (chunk_t **pp = &s->chunks; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			atomic_fetch_sub(&s->nopen, 1);
			break;
		}
	c->next = NULL;
}

/* c is to be read again (with the lock held). */
static void requeue_locked(cdc_snapshot_t *s, chunk_t *c)
{
	chunk_t **pp = &s->reread;

	c->state = C_QUEUED;
	c->rereads++;
	s->rereads++;
	keyset_free(&c->changed);
	binlog_buf_reset(&c->data);
	c->nrecs = 0;
	while (*pp)
		pp = &(*pp)->next;
	c->next = NULL;
	*pp = c;
	pthread_cond_broadcast(&s->cv);
}

static task_t *next_task_locked(cdc_snapshot_t *s)
{
	for (task_t *t = s->tasks; t; t = t->next)
		if (!t->split_done && !t->splitting && !t->gone)
			return t;
	return NULL;
}

/* The catalog's row estimates of every task, once. */
static void estimate(reader_t *rd)
{
	cdc_snapshot_t *s = rd->s;
	MYSQL_RES *res;
	MYSQL_ROW row;

	if (mysql_query(rd->m, "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM "
			       "information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'") != 0 ||
	    !(res = mysql_store_result(rd->m)))
		return;
	pthread_mutex_lock(&s->mu);
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (!row[0] || !row[1] || !row[2])
			continue;
		for (task_t *t = s->tasks; t; t = t->next)
			if (!t->estimate && strcmp(t->db, row[0]) == 0 &&
			    strcmp(t->table, row[1]) == 0)
				t->estimate = strtoull(row[2], NULL, 10);
	}
	s->estimated = 1;
	pthread_mutex_unlock(&s->mu);
	mysql_free_result(res);
}

static void *reader_main(void *arg)
{
	reader_t *rd = arg;
	cdc_snapshot_t *s = rd->s;
	int64_t backoff = BACKOFF_MS;

	for (;;) {
		chunk_t *c = NULL;
		task_t *t = NULL;
		binlog_err_t err = {0};
		binlog_errcode_t rc;

		pthread_mutex_lock(&s->mu);
		for (;;) {
			if (s->stop || s->failed)
				break;
			if (s->reread && s->held <= s->max_held) {
				c = s->reread;
				s->reread = c->next;
				c->next = NULL;
				break;
			}
			if (s->held < s->max_held && (t = next_task_locked(s)) != NULL) {
				t->splitting = 1;
				s->held++;
				break;
			}
			pthread_cond_wait(&s->cv, &s->mu);
		}
		pthread_mutex_unlock(&s->mu);
		if (!c && !t)
			break;

		rd->gone = 0;
		rc = reader_connect(rd, &err);
		if (rc == BINLOG_OK && !s->estimated)
			estimate(rd);
		if (t) {
			if (rc == BINLOG_OK)
				rc = split(rd, t, &c, &err);
			pthread_mutex_lock(&s->mu);
			t->splitting = 0;
			if (rc != BINLOG_OK)
				s->held--;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
		}
		if (rc == BINLOG_OK)
			rc = read_chunk(rd, c, &err);
		if (rc == BINLOG_OK) {
			backoff = BACKOFF_MS;
			continue;
		}

		/* Something failed: a table that is gone is dropped from the
		 * snapshot, a lost connection retried (the chunk read again),
		 * anything else stops the snapshot and the pipeline. */
		if (rd->m && mysql_errno(rd->m))
			(void)mysql_query(rd->m, "ROLLBACK");
		pthread_mutex_lock(&s->mu);
		if (c && c->state != C_QUEUED)
			unregister_locked(s, c);
		if (rd->gone) {
			rd->gone = 0;
			task_t *gt = c ? c->t : t;
			cdc_log_warn("%s; the table is no longer snapshotted", err.msg);
			gt->gone = 1;
			gt->split_done = 1;
			if (c) {
				s->held--;
				chunk_free(c);
			}
			pthread_cond_broadcast(&s->cv);
		} else {
			if (c) {
				requeue_locked(s, c);
				c->rereads--;
				s->rereads--;
			}
			if (!binlog_err_retriable(err.code))
				fail_locked(s, &err);
		}
		pthread_mutex_unlock(&s->mu);
		if (binlog_err_retriable(err.code)) {
			cdc_log_warn("%s; retrying in %lld ms", err.msg, (long long)backoff);
			reader_close(rd);
			nap(s, backoff);
			backoff = backoff * 2 > BACKOFF_MAXMS ? BACKOFF_MAXMS : backoff * 2;
		}
	}
	reader_close(rd);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The stream's side                                                   */

static void wake_readers(cdc_snapshot_t *s)
{
	pthread_cond_broadcast(&s->cv);
}

static int has_done(const cdc_snapshot_t *s, const char *qualified)
{
	for (size_t i = 0; i < s->ndone; i++)
		if (strcmp(s->done[i], qualified) == 0)
			return 1;
	return 0;
}

static int add_done(cdc_snapshot_t *s, const char *qualified)
{
	if (has_done(s, qualified))
		return 1;
	if (s->ndone == s->capdone) {
		size_t ncap = s->capdone ? s->capdone * 2 : 16;
		char **p = realloc(s->done, ncap * sizeof(*p));
		if (!p)
			return 0;
		s->done = p;
		s->capdone = ncap;
	}
	if (!(s->done[s->ndone] = strdup(qualified)))
		return 0;
	s->ndone++;
	return 1;
}

static binlog_errcode_t load_state(cdc_snapshot_t *s, const char *state, binlog_err_t *err)
{
	json_error_t je;
	json_t *root, *tables, *done, *v;
	size_t i;

	root = json_loads(state, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root)) {
		json_decref(root);
		return binlog_err_set(err, BINLOG_E_USAGE, "snapshot state: %s", je.text);
	}
	tables = json_object_get(root, "tables");
	done = json_object_get(root, "done");
	if ((v = json_object_get(root, "progress")) != NULL) {
		json_t *x = json_object_get(v, "tables_done"),
		       *y = json_object_get(v, "rows_finished");
		if (json_is_integer(x) && json_integer_value(x) >= 0 &&
		    json_integer_value(x) < 1000000000)
			s->tables_done = (unsigned)json_integer_value(x);
		if (json_is_integer(y) && json_integer_value(y) >= 0)
			s->rows_finished = (uint64_t)json_integer_value(y);
	}
	s->tables_total = s->tables_done;
	s->rows = s->rows_finished;
	json_array_foreach(done, i, v)
	{
		if (json_is_string(v) && !add_done(s, json_string_value(v))) {
			json_decref(root);
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
	}
	json_array_foreach(tables, i, v)
	{
		const char *db = json_string_value(json_object_get(v, "db"));
		const char *table = json_string_value(json_object_get(v, "table"));
		const char *kind = json_string_value(json_object_get(v, "kind"));
		const char *where = json_string_value(json_object_get(v, "where"));
		const char *req = json_string_value(json_object_get(v, "request"));
		json_t *rows = json_object_get(v, "rows");
		int ok;
		task_t *t;

		if (!db || !table || !kind) {
			json_decref(root);
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "snapshot state: table %zu lacks db, table or kind",
					      i);
		}
		if (!(t = task_new(db, table,
				   strcmp(kind, "backfill") == 0 ? CDC_SNAP_BACKFILL
								 : CDC_SNAP_INITIAL,
				   where, req))) {
			json_decref(root);
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
		t->resume = bound_from_json(json_object_get(v, "after"), &ok);
		if (!ok) {
			binlog_err_set(err, BINLOG_E_USAGE,
				       "snapshot state: %s: a malformed key in \"after\"",
				       t->qualified);
			task_free(t);
			json_decref(root);
			return err->code;
		}
		t->lo = bound_dup(t->resume);
		if (json_is_integer(rows))
			t->rows = (uint64_t)json_integer_value(rows);
		if (json_is_integer(json_object_get(v, "started_ms")))
			t->started_ms = json_integer_value(json_object_get(v, "started_ms"));
		s->rows += t->rows;
		{
			task_t **pp = &s->tasks;
			while (*pp)
				pp = &(*pp)->next;
			*pp = t;
		}
		s->tables_total++;
	}
	json_decref(root);
	return BINLOG_OK;
}

cdc_snapshot_t *cdc_snapshot_new(const cdc_snapshot_opts_t *o, const char *state, binlog_err_t *err)
{
	cdc_snapshot_t *s = calloc(1, sizeof(*s));
	/* 0 readers: the state only, nothing read (tests) */
	unsigned n = o->readers > MAX_READERS ? MAX_READERS : o->readers;

	if (!s) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		return NULL;
	}
	s->o = *o;
	s->o.readers = n;
	s->max_held = n ? n * 2 : 2;
	s->hw_file = o->from_file_no;
	s->hw_pos = o->from_pos;
	if (s->max_held > 60)
		s->max_held = 60; /* emitted_mask has 64 bits */
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	cdc_keyer_init(&s->keyer);
	binlog_buf_init(&s->fin, 0);
	s->rate_ms = cdc_mono_ms();
	if (cdc_conn_opts_copy(&s->conn, o->conn) != BINLOG_OK) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		goto fail;
	}
	if (s->conn.read_timeout_s == 0)
		s->conn.read_timeout_s = 600;
	if (state && *state && load_state(s, state, err) != BINLOG_OK)
		goto fail;
	/* The client library initialises itself on first use; the readers
	 * may be the first, several at once. */
	if (n && mysql_library_init(0, NULL, NULL) != 0) {
		binlog_err_set(err, BINLOG_E_NOMEM, "the MariaDB client library did not start");
		goto fail;
	}
	for (unsigned i = 0; i < n; i++) {
		reader_t *rd = &s->readers[i];
		rd->s = s;
		binlog_buf_init(&rd->sql, 0);
		cdc_keyer_init(&rd->keyer);
		if (cdc_writer_init(&rd->w, o->max_record) != BINLOG_OK) {
			binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			goto fail;
		}
		if (pthread_create(&rd->th, NULL, reader_main, rd) != 0) {
			binlog_err_set(err, BINLOG_E_NOMEM, "cannot start a snapshot reader: %s",
				       strerror(errno));
			goto fail;
		}
		rd->started = 1;
	}
	return s;
fail:
	cdc_snapshot_free(s);
	return NULL;
}

void cdc_snapshot_free(cdc_snapshot_t *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (unsigned i = 0; i < MAX_READERS; i++) {
		reader_t *rd = &s->readers[i];
		if (rd->started) {
			/* a reader blocked in a query gets it cut short */
			pthread_join(rd->th, NULL);
		}
		if (rd->s) {
			cdc_writer_free(&rd->w);
			cdc_keyer_free(&rd->keyer);
			binlog_buf_free(&rd->sql);
			free(rd->vals);
		}
	}
	while (s->chunks) {
		chunk_t *c = s->chunks;
		s->chunks = c->next;
		chunk_free(c);
	}
	while (s->reread) {
		chunk_t *c = s->reread;
		s->reread = c->next;
		chunk_free(c);
	}
	while (s->tasks) {
		task_t *t = s->tasks;
		s->tasks = t->next;
		task_free(t);
	}
	for (size_t i = 0; i < s->ndone; i++)
		free(s->done[i]);
	free(s->done);
	binlog_buf_free(&s->fin);
	cdc_keyer_free(&s->keyer);
	cdc_conn_opts_free(&s->conn);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

binlog_errcode_t cdc_snapshot_add(cdc_snapshot_t *s, const char *db, const char *table, int kind,
				  const char *where, const char *request, binlog_err_t *err)
{
	task_t *t, **pp;
	char q[600];

	snprintf(q, sizeof(q), "%s.%s", db, table);
	pthread_mutex_lock(&s->mu);
	for (t = s->tasks; t; t = t->next)
		if (t->kind == kind && strcmp(t->qualified, q) == 0 &&
		    ((!t->where && !where) ||
		     (t->where && where && strcmp(t->where, where) == 0)) &&
		    !t->gone) {
			pthread_mutex_unlock(&s->mu);
			return BINLOG_OK;
		}
	if (!(t = task_new(db, table, kind, where, request))) {
		pthread_mutex_unlock(&s->mu);
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	}
	for (pp = &s->tasks; *pp; pp = &(*pp)->next)
		;
	*pp = t;
	s->tables_total++;
	s->estimated = 0;
	wake_readers(s);
	pthread_mutex_unlock(&s->mu);
	return BINLOG_OK;
}

int cdc_snapshot_has_request(cdc_snapshot_t *s, const char *request)
{
	int found = 0;

	pthread_mutex_lock(&s->mu);
	for (task_t *t = s->tasks; t && !found; t = t->next)
		found = t->request && strcmp(t->request, request) == 0;
	pthread_mutex_unlock(&s->mu);
	return found;
}

int cdc_snapshot_active(cdc_snapshot_t *s)
{
	int a;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->mu);
	a = s->tasks != NULL;
	pthread_mutex_unlock(&s->mu);
	return a;
}

void cdc_snapshot_event(cdc_snapshot_t *s, uint64_t file_no, uint64_t end)
{
	pthread_mutex_lock(&s->mu);
	if (!pos_le(file_no, end, s->hw_file, s->hw_pos)) {
		s->hw_file = file_no;
		s->hw_pos = end;
	}
	pthread_mutex_unlock(&s->mu);
}

binlog_errcode_t cdc_snapshot_record(cdc_snapshot_t *s, const schema_table_t *st,
				     const sink_record_t *r, binlog_err_t *err)
{
	const uint8_t *key = r->key;
	size_t klen = r->key_len;

	if (atomic_load(&s->nopen) == 0)
		return BINLOG_OK;
	pthread_mutex_lock(&s->mu);
	for (chunk_t *c = s->chunks; c; c = c->next) {
		if (c->overflow || strcmp(c->t->qualified, st->qualified) != 0)
			continue;
		if (!key) {
			binlog_errcode_t rc =
				cdc_keyer_build(&s->keyer, st, r->value, r->value_len, err);
			if (rc != BINLOG_OK) {
				pthread_mutex_unlock(&s->mu);
				return rc;
			}
			key = s->keyer.key.data;
			klen = s->keyer.key.len;
		}
		if (!keyset_add(&c->changed, key, (uint32_t)klen, s->o.window_keys))
			c->overflow = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return BINLOG_OK;
}

/*
 * Chunk c of t is emitted: move the resume point past every chunk emitted
 * in order (with the lock held). Bit i of emitted_mask is chunk done_id + i;
 * fewer than 64 chunks are ever in flight (max_held).
 */
static void emitted_locked(task_t *t, chunk_t *c)
{
	uint64_t d = c->id - t->done_id;

	if (d >= 64) /* cannot happen: max_held < 64 */
		return;
	t->emitted_mask |= (uint64_t)1 << d;
	bound_free(t->hi_of[d]);
	t->hi_of[d] = c->hi;
	c->hi = NULL;
	while (t->emitted_mask & 1) {
		bound_free(t->resume);
		t->resume = t->hi_of[0];
		memmove(t->hi_of, t->hi_of + 1, 63 * sizeof(t->hi_of[0]));
		t->hi_of[63] = NULL;
		t->emitted_mask >>= 1;
		t->done_id++;
	}
}

/* Is task t finished? Then take it off (with the lock held). */
static void finish_locked(cdc_snapshot_t *s, task_t *t)
{
	if (t->splitting || (!t->gone && (!t->split_done || t->done_id != t->next_id)))
		return;
	for (chunk_t *c = s->chunks; c; c = c->next)
		if (c->t == t)
			return;
	for (chunk_t *c = s->reread; c; c = c->next)
		if (c->t == t)
			return;
	for (task_t **pp = &s->tasks; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	if (t->kind == CDC_SNAP_INITIAL && !t->gone && !t->where)
		(void)add_done(s, t->qualified);
	if (t->request) {
		binlog_buf_puts(&s->fin, t->request);
		binlog_buf_putc(&s->fin, '\n');
	}
	s->tables_done++;
	s->rows_finished += t->rows;
	cdc_log_info("snapshot of %s (%s%s%s) done: %llu rows in %.1f s%s", t->qualified,
		     t->kind == CDC_SNAP_BACKFILL ? "backfill" : "initial",
		     t->where ? ", where " : "", t->where ? t->where : "",
		     (unsigned long long)t->rows, (double)(cdc_wall_ms() - t->started_ms) / 1000.0,
		     t->gone ? " (the table was dropped)" : "");
	task_free(t);
}

binlog_errcode_t cdc_snapshot_emit(cdc_snapshot_t *s, uint64_t file_no, uint64_t pos,
				   uint64_t backfill_seq, cdc_snapshot_emit_fn fn, void *ctx,
				   uint64_t *emitted, unsigned *chunks, binlog_err_t *err)
{
	char seq[24];
	size_t seq_len =
		(size_t)snprintf(seq, sizeof(seq), "%llu", (unsigned long long)backfill_seq);
	binlog_buf_t v;
	binlog_errcode_t rc = BINLOG_OK;
	int64_t now = cdc_wall_ms();

	*emitted = 0;
	*chunks = 0;
	binlog_buf_init(&v, 0);
	for (;;) {
		chunk_t *c, **pp;
		task_t *t;
		uint64_t n = 0, dropped = 0;

		pthread_mutex_lock(&s->mu);
		if (s->failed) {
			*err = s->error;
			pthread_mutex_unlock(&s->mu);
			binlog_buf_free(&v);
			return err->code;
		}
		for (pp = &s->chunks; (c = *pp) != NULL; pp = &c->next)
			if (c->state == C_READY && pos_le(c->hw_file, c->hw_pos, file_no, pos))
				break;
		if (!c) {
			/* finished tables (an empty or dropped one has no chunk) */
			for (task_t *tt = s->tasks, *nx; tt; tt = nx) {
				nx = tt->next;
				if (tt->gone) {
					finish_locked(s, tt);
					(*chunks)++;
				}
			}
			pthread_mutex_unlock(&s->mu);
			break;
		}
		unregister_locked(s, c);
		t = c->t;
		if (c->overflow || (t->meta && t->meta->npk == 0 && c->changed.n)) {
			/* Too many changes in the window to note, or a table
			 * without a key changed during its read: again. */
			if (c->rereads >= MAX_REREADS) {
				binlog_err_set(err, BINLOG_E_LIMIT,
					       "snapshot of %s: chunk read %u times, each time "
					       "changed while it was read (%s)",
					       t->qualified, c->rereads + 1,
					       c->overflow
						       ? "raise scan.snapshot.window-keys"
						       : "the table has no primary key; add one");
				fail_locked(s, err);
				pthread_mutex_unlock(&s->mu);
				binlog_buf_free(&v);
				return err->code;
			}
			requeue_locked(s, c);
			pthread_mutex_unlock(&s->mu);
			continue;
		}
		pthread_mutex_unlock(&s->mu);

		for (uint32_t i = 0; i < c->nrecs && rc == BINLOG_OK; i++) {
			const rec_ix_t *x = &c->recs[i];
			const uint8_t *key = c->data.data + x->koff;
			sink_record_t r = {0};

			if (c->changed.n &&
			    keyset_find(&c->changed, key, x->klen, key_hash(key, x->klen), NULL)) {
				dropped++;
				continue;
			}
			r.value = c->data.data + x->off;
			r.value_len = x->len;
			if (t->kind == CDC_SNAP_BACKFILL) {
				/* the sequence of the point it is emitted at */
				binlog_buf_reset(&v);
				binlog_buf_put(&v, r.value, x->seq_at);
				binlog_buf_put(&v, seq, seq_len);
				binlog_buf_put(&v, r.value + x->seq_at + 1, x->len - x->seq_at - 1);
				if (v.failed) {
					rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
					break;
				}
				r.value = v.data;
				r.value_len = v.len;
				r.seq = backfill_seq;
			}
			r.key = key;
			r.key_len = x->klen;
			r.ts_ms = now;
			r.op = "+I";
			r.db = t->db;
			r.db_len = strlen(t->db);
			r.table = t->table;
			r.table_len = strlen(t->table);
			r.source = s->o.source;
			r.type = "data";
			rc = fn(ctx, &r, err);
			n++;
		}
		pthread_mutex_lock(&s->mu);
		t->rows += n;
		t->dropped += dropped;
		s->rows += n;
		s->dropped += dropped;
		s->held--;
		emitted_locked(t, c);
		finish_locked(s, t);
		wake_readers(s);
		pthread_mutex_unlock(&s->mu);
		chunk_free(c);
		*emitted += n;
		(*chunks)++;
		if (rc != BINLOG_OK)
			break;
	}
	binlog_buf_free(&v);
	return rc;
}

int cdc_snapshot_waiting(cdc_snapshot_t *s)
{
	int w = 0;

	if (!s || atomic_load(&s->nopen) == 0)
		return 0;
	pthread_mutex_lock(&s->mu);
	for (chunk_t *c = s->chunks; c && !w; c = c->next)
		w = c->state == C_READY;
	pthread_mutex_unlock(&s->mu);
	return w;
}

char *cdc_snapshot_state(cdc_snapshot_t *s, char **finished)
{
	json_t *root = json_object(), *tables = json_array(), *done = json_array();
	char *text;

	*finished = NULL;
	if (!root || !tables || !done) {
		json_decref(root);
		json_decref(tables);
		json_decref(done);
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	for (task_t *t = s->tasks; t; t = t->next) {
		json_t *o = json_object();
		json_object_set_new(o, "db", json_string(t->db));
		json_object_set_new(o, "table", json_string(t->table));
		json_object_set_new(
			o, "kind",
			json_string(t->kind == CDC_SNAP_BACKFILL ? "backfill" : "initial"));
		if (t->where)
			json_object_set_new(o, "where", json_string(t->where));
		if (t->request)
			json_object_set_new(o, "request", json_string(t->request));
		json_object_set_new(o, "after", bound_json(t->resume));
		json_object_set_new(o, "rows", json_integer((json_int_t)t->rows));
		json_object_set_new(o, "started_ms", json_integer(t->started_ms));
		json_array_append_new(tables, o);
	}
	for (size_t i = 0; i < s->ndone; i++)
		json_array_append_new(done, json_string(s->done[i]));
	if (s->fin.len) {
		binlog_buf_putc(&s->fin, 0);
		if (!s->fin.failed)
			*finished = strdup((const char *)s->fin.data);
		binlog_buf_reset(&s->fin);
	}
	/* progress so far, so that it adds up across restarts */
	json_object_set_new(root, "progress",
			    json_pack("{s:I, s:I}", "tables_done", (json_int_t)s->tables_done,
				      "rows_finished", (json_int_t)s->rows_finished));
	pthread_mutex_unlock(&s->mu);
	json_object_set_new(root, "tables", tables);
	json_object_set_new(root, "done", done);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

int cdc_snapshot_is_done(cdc_snapshot_t *s, const char *qualified)
{
	int d;

	pthread_mutex_lock(&s->mu);
	d = has_done(s, qualified);
	for (task_t *t = s->tasks; t && !d; t = t->next)
		d = t->kind == CDC_SNAP_INITIAL && strcmp(t->qualified, qualified) == 0;
	pthread_mutex_unlock(&s->mu);
	return d;
}

void cdc_snapshot_get_progress(cdc_snapshot_t *s, cdc_snapshot_progress_t *p)
{
	int64_t now = cdc_mono_ms();
	uint64_t est = 0, rows_active = 0;

	memset(p, 0, sizeof(*p));
	pthread_mutex_lock(&s->mu);
	if (now - s->rate_ms >= 1000) {
		double r = (double)(s->rows - s->rate_rows) * 1000.0 / (double)(now - s->rate_ms);
		s->rate = s->rate > 0 ? 0.5 * s->rate + 0.5 * r : r;
		s->rate_ms = now;
		s->rate_rows = s->rows;
	}
	p->tables_total = s->tables_total;
	p->tables_done = s->tables_done;
	p->rows = s->rows;
	p->dropped = s->dropped;
	p->rereads = s->rereads;
	p->rate = s->rate;
	for (task_t *t = s->tasks; t; t = t->next) {
		est += t->estimate > t->rows ? t->estimate : t->rows;
		rows_active += t->rows;
		if (!p->current[0] && (t->splitting || t->next_id > t->done_id))
			snprintf(p->current, sizeof(p->current), "%s", t->qualified);
	}
	pthread_mutex_unlock(&s->mu);
	p->rows_estimate = p->rows - rows_active + est;
	p->eta_s = p->rate > 1 ? (int64_t)((double)(est - rows_active) / p->rate) : -1;
}

void cdc_snapshot_progress_json(cdc_snapshot_t *s, binlog_buf_t *b)
{
	cdc_snapshot_progress_t p;
	char t[512];

	cdc_snapshot_get_progress(s, &p);
	snprintf(t, sizeof(t),
		 "{\"tables\":%u,\"tables_done\":%u,\"rows\":%llu,\"rows_estimate\":%llu,"
		 "\"rows_per_s\":%.0f,\"eta_s\":%lld,\"left_to_stream\":%llu,\"rereads\":%llu,"
		 "\"current\":",
		 p.tables_total, p.tables_done, (unsigned long long)p.rows,
		 (unsigned long long)p.rows_estimate, p.rate, (long long)p.eta_s,
		 (unsigned long long)p.dropped, (unsigned long long)p.rereads);
	binlog_buf_puts(b, t);
	binlog_jw_utf8(b, (const uint8_t *)p.current, strlen(p.current));
	binlog_buf_putc(b, '}');
}
