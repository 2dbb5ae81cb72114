/*
 * merge_io.c: change records, stored rows, data files and the per-key
 * map of the merger (merge_io.h).
 *
 * Parsing is done in place: a record is checked once with the record
 * writer's strict JSON check (cdc_json_valid: no recursion, bounded
 * depth), then walked member by member at the top level, values skipped
 * by counting brackets outside strings, which is exact on valid JSON.
 * Nothing is copied but a keyless table's key and an escaped key being
 * unescaped.
 */
#include "merge_io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "binlog_jsonw.h"
#include "cdc_record.h"

const char *const merge_op_names[4] = {"+I", "+U", "-U", "-D"};

uint64_t merge_hash(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* ------------------------------------------------------------------ */
/* JSON, in place                                                      */

static int is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of the string whose opening quote is at s[i]: the index after
 * its closing quote. */
static size_t skip_string(const uint8_t *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return n;
}

/* The end of the value starting at s[i]. */
static size_t skip_value(const uint8_t *s, size_t n, size_t i)
{
	size_t depth = 0;

	if (i >= n)
		return n;
	if (s[i] == '"')
		return skip_string(s, n, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && !is_ws(s[i]))
			i++;
		return i;
	}
	for (; i < n; i++) {
		if (s[i] == '"') {
			i = skip_string(s, n, i) - 1;
		} else if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if (s[i] == '}' || s[i] == ']') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return n;
}

int merge_members_begin(merge_members_t *it, const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_ws(s[i]))
		i++;
	if (i >= n || s[i] != '{')
		return 0;
	it->s = s;
	it->n = n;
	it->i = i + 1;
	return 1;
}

void merge_members_body(merge_members_t *it, merge_span_t body)
{
	/* merge_members_next skips the separators before a member and ends
	 * at the end of the span: no braces needed. */
	it->s = body.p;
	it->n = body.n;
	it->i = 0;
}

int merge_members_next(merge_members_t *it, merge_span_t *name, merge_span_t *val)
{
	const uint8_t *s = it->s;
	size_t n = it->n, i = it->i, e;

	while (i < n && (is_ws(s[i]) || s[i] == ','))
		i++;
	if (i >= n || s[i] != '"')
		return 0;
	e = skip_string(s, n, i);
	name->p = s + i + 1;
	name->n = e > i + 1 ? e - i - 2 : 0;
	i = e;
	while (i < n && (is_ws(s[i]) || s[i] == ':'))
		i++;
	e = skip_value(s, n, i);
	val->p = s + i;
	val->n = e - i;
	it->i = e;
	return 1;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex4(const uint8_t *s, size_t n, size_t i, uint32_t *v)
{
	*v = 0;
	if (i + 4 > n)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		int h = hexval(s[i + k]);
		if (h < 0)
			return -1;
		*v = *v << 4 | (uint32_t)h;
	}
	return 0;
}

/* A code point as UTF-8, raw (binlog_jw_codepoint would escape control
 * characters again: this undoes escapes). Lone surrogates become U+FFFD. */
static void put_utf8(binlog_buf_t *b, uint32_t cp)
{
	uint8_t u[4];

	if ((cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		binlog_buf_putc(b, (uint8_t)cp);
		return;
	}
	if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		binlog_buf_put(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		binlog_buf_put(b, u, 3);
	} else {
		u[0] = (uint8_t)(0xf0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		binlog_buf_put(b, u, 4);
	}
}

int merge_json_unescape(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t run = i;
		while (run < n && s[run] != '\\')
			run++;
		binlog_buf_put(b, s + i, run - i);
		i = run;
		if (i >= n)
			break;
		if (i + 1 >= n)
			return -1;
		switch (s[i + 1]) {
		case '"':
		case '\\':
		case '/':
			binlog_buf_putc(b, s[i + 1]);
			break;
		case 'b':
			binlog_buf_putc(b, '\b');
			break;
		case 'f':
			binlog_buf_putc(b, '\f');
			break;
		case 'n':
			binlog_buf_putc(b, '\n');
			break;
		case 'r':
			binlog_buf_putc(b, '\r');
			break;
		case 't':
			binlog_buf_putc(b, '\t');
			break;
		case 'u': {
			uint32_t cp, lo;
			if (hex4(s, n, i + 2, &cp) < 0)
				return -1;
			i += 6;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < n && s[i] == '\\' &&
			    s[i + 1] == 'u' && hex4(s, n, i + 2, &lo) == 0 && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			put_utf8(b, cp);
			continue;
		}
		default:
			return -1;
		}
		i += 2;
	}
	return b->failed ? -1 : 0;
}

/* A span that is a JSON string: its body. */
static int string_body(merge_span_t v, merge_span_t *body)
{
	if (v.n < 2 || v.p[0] != '"' || v.p[v.n - 1] != '"')
		return 0;
	body->p = v.p + 1;
	body->n = v.n - 2;
	return 1;
}

static int parse_u64(const uint8_t *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 20)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return 0;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 1;
}

static int parse_i64(const uint8_t *s, size_t n, int64_t *v)
{
	uint64_t u;

	if (n > 0 && s[0] == '-') {
		if (!parse_u64(s + 1, n - 1, &u) || u > (uint64_t)INT64_MAX)
			return 0;
		*v = -(int64_t)u;
		return 1;
	}
	if (!parse_u64(s, n, &u) || u > (uint64_t)INT64_MAX)
		return 0;
	*v = (int64_t)u;
	return 1;
}

static int parse_op(merge_span_t v, int *op)
{
	merge_span_t b;

	if (!string_body(v, &b) || b.n != 2)
		return 0;
	for (int i = 0; i < 4; i++)
		if (memcmp(b.p, merge_op_names[i], 2) == 0) {
			*op = i;
			return 1;
		}
	return 0;
}

/* The members of an object span without its braces (whitespace trimmed). */
static merge_span_t object_body(merge_span_t v)
{
	merge_span_t b = {v.p, 0};
	size_t s = 0, e = v.n;

	while (s < e && is_ws(v.p[s]))
		s++;
	while (e > s && is_ws(v.p[e - 1]))
		e--;
	if (e - s < 2 || v.p[s] != '{' || v.p[e - 1] != '}')
		return b;
	s++, e--;
	while (s < e && is_ws(v.p[s]))
		s++;
	while (e > s && is_ws(v.p[e - 1]))
		e--;
	b.p = v.p + s;
	b.n = e - s;
	return b;
}

/* The number of members of a valid JSON array (-1: not an array). */
static long array_len(const uint8_t *s, size_t n)
{
	size_t i = 0;
	long count = 0;

	while (i < n && is_ws(s[i]))
		i++;
	if (i >= n || s[i] != '[')
		return -1;
	i++;
	for (;;) {
		while (i < n && (is_ws(s[i]) || s[i] == ','))
			i++;
		if (i >= n || s[i] == ']')
			return count;
		i = skip_value(s, n, i);
		count++;
	}
}

/* The members of a record's value that the merger reads; the last of a
 * name counts. */
typedef struct change_members {
	merge_span_t data, op, ts_ms, db, table, seq, heartbeat;
} change_members_t;

static void change_member(void *ctx, const uint8_t *name, size_t name_len, const uint8_t *val,
			  size_t val_len)
{
	change_members_t *c = ctx;
	merge_span_t nm = {name, name_len}, v = {val, val_len};

	if (merge_name_is(nm, "data"))
		c->data = v;
	else if (merge_name_is(nm, "op"))
		c->op = v;
	else if (merge_name_is(nm, "ts_ms"))
		c->ts_ms = v;
	else if (merge_name_is(nm, "db"))
		c->db = v;
	else if (merge_name_is(nm, "table"))
		c->table = v;
	else if (merge_name_is(nm, "seq"))
		c->seq = v;
	else if (merge_name_is(nm, "heartbeat"))
		c->heartbeat = v;
}

binlog_errcode_t merge_change_parse(const uint8_t *key, size_t klen, const uint8_t *val,
				    size_t vlen, const char *seq_hdr, size_t seq_len,
				    const char *type_hdr, size_t type_len, binlog_buf_t *scratch,
				    int *kind, merge_row_t *r, binlog_err_t *err)
{
	change_members_t c;
	int have_op = 0, have_seq = 0, heartbeat = 0;
	long nkey;

	memset(r, 0, sizeof(*r));
	memset(&c, 0, sizeof(c));
	*kind = MERGE_CHANGE;
	if (type_hdr && type_len == 9 && memcmp(type_hdr, "heartbeat", 9) == 0)
		heartbeat = 1;
	/* One pass: the value checked and its members found. */
	if (!val || !cdc_json_members(val, vlen, change_member, &c))
		return binlog_err_set(err, BINLOG_E_BAD_VALUE,
				      "the value is not a JSON object (%zu bytes)", vlen);
	if (c.data.p && (c.data.n == 0 || c.data.p[0] != '{'))
		return binlog_err_set(err, BINLOG_E_BAD_VALUE, "\"data\" is not an object");
	if (c.op.p) {
		if (!parse_op(c.op, &r->op))
			return binlog_err_set(err, BINLOG_E_BAD_VALUE,
					      "\"op\" is %.*s, not one of \"+I\", "
					      "\"+U\", \"-U\", \"-D\"",
					      (int)(c.op.n > 16 ? 16 : c.op.n),
					      (const char *)c.op.p);
		have_op = 1;
	}
	if (c.ts_ms.p && !parse_i64(c.ts_ms.p, c.ts_ms.n, &r->ts_ms))
		return binlog_err_set(err, BINLOG_E_BAD_VALUE, "\"ts_ms\" is not an integer");
	if (c.db.p)
		string_body(c.db, &r->db);
	if (c.table.p)
		string_body(c.table, &r->table);
	if (c.seq.p && !seq_hdr)
		have_seq = parse_u64(c.seq.p, c.seq.n, &r->seq);
	if (c.heartbeat.n == 4 && memcmp(c.heartbeat.p, "true", 4) == 0)
		heartbeat = 1;
	if (heartbeat) {
		*kind = MERGE_HEARTBEAT;
		return BINLOG_OK;
	}
	if (seq_hdr) {
		if (!parse_u64((const uint8_t *)seq_hdr, seq_len, &r->seq))
			return binlog_err_set(err, BINLOG_E_BAD_VALUE,
					      "the sequence header '%.*s' is not a decimal "
					      "unsigned 64-bit number",
					      (int)(seq_len > 24 ? 24 : seq_len), seq_hdr);
		have_seq = 1;
	}
	if (!have_seq)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE,
				      "no sequence (neither a sequence header nor \"seq\")");
	if (!have_op || !c.data.p)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE, "a change without %s",
				      have_op ? "\"data\"" : "\"op\"");
	if (!key || klen == 0 || !cdc_json_valid(key, klen) || (nkey = array_len(key, klen)) < 2)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE,
				      "the key is not a JSON array [\"db\",\"table\",...]");
	r->body = object_body(c.data);
	if (nkey == 2) {
		/* No primary key: the row itself is the key. */
		size_t e = klen;
		while (e > 0 && key[e - 1] != ']')
			e--;
		binlog_buf_reset(scratch);
		binlog_buf_put(scratch, key, e - 1);
		binlog_buf_putc(scratch, ',');
		binlog_buf_put(scratch, c.data.p, c.data.n);
		binlog_buf_putc(scratch, ']');
		if (scratch->failed)
			return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory for a key");
		r->key.p = scratch->data;
		r->key.n = scratch->len;
	} else {
		r->key.p = key;
		r->key.n = klen;
	}
	if (merge_op_deletes(r->op))
		r->body.n = 0;
	return BINLOG_OK;
}

void merge_line_put(binlog_buf_t *b, const merge_row_t *r)
{
	binlog_buf_lit(b, "{\"_sluice_key\":");
	binlog_jw_utf8(b, r->key.p, r->key.n);
	binlog_buf_lit(b, ",\"_sluice_seq\":");
	binlog_jw_u64(b, r->seq);
	binlog_buf_lit(b, ",\"_sluice_op\":\"");
	binlog_buf_put(b, merge_op_names[r->op & 3], 2);
	binlog_buf_lit(b, "\",\"_sluice_ts_ms\":");
	binlog_jw_i64(b, r->ts_ms);
	binlog_buf_lit(b, ",\"_sluice_db\":\"");
	binlog_buf_put(b, r->db.p, r->db.n);
	binlog_buf_lit(b, "\",\"_sluice_table\":\"");
	binlog_buf_put(b, r->table.p, r->table.n);
	binlog_buf_putc(b, '"');
	if (r->body.n && !merge_op_deletes(r->op)) {
		binlog_buf_putc(b, ',');
		binlog_buf_put(b, r->body.p, r->body.n);
	}
	binlog_buf_lit(b, "}\n");
}

/*
 * A stored line's members, in the one checking pass. The meta members lead
 * the line and _sluice_table, written last, closes them: a source column
 * that is itself named _sluice_key (or any _sluice_ name) follows as data
 * and never overrides the meta. Each meta member counts once.
 */
typedef struct line_members {
	merge_row_t *r;
	merge_span_t key;    /* the _sluice_key string's body, escapes kept */
	unsigned seen;       /* 1 key, 2 seq, 4 op, 8 the meta closed */
	const uint8_t *data; /* the first data member's opening quote */
} line_members_t;

static void line_member(void *ctx, const uint8_t *name, size_t name_len, const uint8_t *val,
			size_t val_len)
{
	line_members_t *lm = ctx;
	merge_span_t nm = {name, name_len}, v = {val, val_len};

	if (lm->data)
		return;
	if ((lm->seen & 8) || name_len < 8 || memcmp(name, "_sluice_", 8) != 0) {
		lm->data = name - 1;
		return;
	}
	if (merge_name_is(nm, "_sluice_key") && !(lm->seen & 1) && string_body(v, &lm->key)) {
		lm->seen |= 1;
	} else if (merge_name_is(nm, "_sluice_seq") && !(lm->seen & 2) &&
		   parse_u64(v.p, v.n, &lm->r->seq)) {
		lm->seen |= 2;
	} else if (merge_name_is(nm, "_sluice_op") && !(lm->seen & 4) && parse_op(v, &lm->r->op)) {
		lm->seen |= 4;
	} else if (merge_name_is(nm, "_sluice_ts_ms")) {
		parse_i64(v.p, v.n, &lm->r->ts_ms);
	} else if (merge_name_is(nm, "_sluice_db")) {
		string_body(v, &lm->r->db);
	} else if (merge_name_is(nm, "_sluice_table")) {
		string_body(v, &lm->r->table);
		lm->seen |= 8;
	}
}

binlog_errcode_t merge_line_parse(const uint8_t *s, size_t n, binlog_buf_t *scratch, merge_row_t *r,
				  binlog_err_t *err)
{
	line_members_t lm;

	memset(r, 0, sizeof(*r));
	memset(&lm, 0, sizeof(lm));
	lm.r = r;
	if (!cdc_json_members(s, n, line_member, &lm))
		return binlog_err_set(err, BINLOG_E_BAD_VALUE, "not a JSON object");
	if ((lm.seen & 7) != 7)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE,
				      "a row without _sluice_key, _sluice_seq and _sluice_op");
	binlog_buf_reset(scratch);
	if (merge_json_unescape(scratch, lm.key.p, lm.key.n) < 0)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE,
				      "_sluice_key is not a well-formed string");
	r->key.p = scratch->data;
	r->key.n = scratch->len;
	if (lm.data) {
		/* From the first data member to the object's closing brace. */
		size_t at = (size_t)(lm.data - s), e = n;
		while (e > at && s[e - 1] != '}')
			e--;
		r->body.p = lm.data;
		r->body.n = e > at ? e - 1 - at : 0;
	}
	return BINLOG_OK;
}

int merge_row_newer(const merge_row_t *a, const merge_row_t *b)
{
	size_t n;
	int c;

	if (a->seq != b->seq)
		return a->seq > b->seq;
	if (a->op != b->op)
		return a->op > b->op;
	n = a->body.n < b->body.n ? a->body.n : b->body.n;
	c = n ? memcmp(a->body.p, b->body.p, n) : 0;
	if (c != 0)
		return c > 0;
	return a->body.n > b->body.n;
}

/* ------------------------------------------------------------------ */
/* The per-key map                                                     */

struct merge_map {
	merge_entry_t *slots;
	size_t cap, count;
	binlog_buf_t arena;
	binlog_buf_t tie; /* scratch for breaking ties */
	size_t keep;      /* arena bytes kept across resets */
};

merge_map_t *merge_map_new(void)
{
	merge_map_t *m = calloc(1, sizeof(*m));

	if (m) {
		binlog_buf_init(&m->arena, 0);
		binlog_buf_init(&m->tie, 0);
		m->keep = 64u << 20;
	}
	return m;
}

void merge_map_keep(merge_map_t *m, size_t bytes)
{
	m->keep = bytes;
}

void merge_map_free(merge_map_t *m)
{
	if (!m)
		return;
	free(m->slots);
	binlog_buf_free(&m->arena);
	binlog_buf_free(&m->tie);
	free(m);
}

void merge_map_reset(merge_map_t *m)
{
	if (m->slots)
		memset(m->slots, 0, m->cap * sizeof(*m->slots));
	m->count = 0;
	binlog_buf_reset(&m->arena);
	/* An arena grown past what the owner keeps is given back; below, it
	 * is reused: faulting in fresh pages for every batch cost a tenth of
	 * the merger's time (perf, make bench). */
	if (m->arena.cap > m->keep) {
		binlog_buf_free(&m->arena);
		binlog_buf_init(&m->arena, 0);
	}
}

size_t merge_map_count(const merge_map_t *m)
{
	return m->count;
}

size_t merge_map_bytes(const merge_map_t *m)
{
	/* What the entries use, not what is reserved: an arena kept across
	 * resets must not make an empty batch look full. */
	return m->arena.len + m->cap * sizeof(*m->slots);
}

const uint8_t *merge_map_key(const merge_map_t *m, const merge_entry_t *e)
{
	return m->arena.data + e->key_off;
}

const uint8_t *merge_map_line(const merge_map_t *m, const merge_entry_t *e)
{
	return m->arena.data + e->line_off;
}

static merge_entry_t *find_slot(merge_map_t *m, uint64_t h, const uint8_t *key, size_t n)
{
	size_t i = (size_t)h & (m->cap - 1);

	for (;;) {
		merge_entry_t *e = &m->slots[i];
		if (!e->used)
			return e;
		if (e->hash == h && e->key_len == n &&
		    memcmp(m->arena.data + e->key_off, key, n) == 0)
			return e;
		i = (i + 1) & (m->cap - 1);
	}
}

static int grow(merge_map_t *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	merge_entry_t *old = m->slots, *ns = calloc(cap, sizeof(*ns));
	size_t oldcap = m->cap;

	if (!ns)
		return -1;
	m->slots = ns;
	m->cap = cap;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		size_t j = (size_t)old[i].hash & (cap - 1);
		while (ns[j].used)
			j = (j + 1) & (cap - 1);
		ns[j] = old[i];
	}
	free(old);
	return 0;
}

merge_entry_t *merge_map_get(merge_map_t *m, const uint8_t *key, size_t n)
{
	merge_entry_t *e;

	if (!m->cap)
		return NULL;
	e = find_slot(m, merge_hash(key, n), key, n);
	return e->used ? e : NULL;
}

/* A row rebuilt from an entry, for comparing with an offer: only seq, op
 * and the line (standing for the body: both are the same row's) count. */
static int entry_wins(merge_map_t *m, const merge_entry_t *e, const merge_row_t *r,
		      const uint8_t *line, size_t len)
{
	merge_row_t held;
	binlog_err_t err;
	size_t n;
	int c;

	if (e->seq != r->seq)
		return e->seq > r->seq;
	if (e->op != r->op)
		return e->op > r->op;
	/* A tie (a duplicate delivery, as a rule): merge_row_newer decides,
	 * on the held row's body read back from its line. */
	if (merge_line_parse(m->arena.data + e->line_off, e->line_len, &m->tie, &held, &err) ==
	    BINLOG_OK)
		return !merge_row_newer(r, &held);
	n = e->line_len < len ? e->line_len : len;
	c = memcmp(m->arena.data + e->line_off, line, n);
	if (c != 0)
		return c > 0;
	return e->line_len >= len;
}

int merge_map_offer(merge_map_t *m, const merge_row_t *r, const uint8_t *line, size_t len,
		    uint32_t aux)
{
	uint64_t h = merge_hash(r->key.p, r->key.n);
	merge_entry_t *e;

	if (r->key.n > UINT32_MAX || len > UINT32_MAX)
		return -1;
	if ((m->count + 1) * 4 > m->cap * 3 && grow(m) < 0)
		return -1;
	e = find_slot(m, h, r->key.p, r->key.n);
	if (e->used) {
		if (entry_wins(m, e, r, line, len))
			return 0;
	} else {
		e->key_off = (uint32_t)0;
		if (m->arena.len > UINT32_MAX - r->key.n)
			return -1; /* key offsets are 32-bit: 4 GiB of keys per map */
		e->key_off = (uint32_t)m->arena.len;
		binlog_buf_put(&m->arena, r->key.p, r->key.n);
		e->key_len = (uint32_t)r->key.n;
		e->hash = h;
		e->used = 1;
		m->count++;
	}
	if (e->line_len >= len && e->line_len) {
		/* In place: a key updated over and over (the Hive index, a hot
		 * key in a batch) does not grow the arena. */
		memmove(m->arena.data + e->line_off, line, len);
	} else {
		e->line_off = m->arena.len;
		binlog_buf_put(&m->arena, line, len);
	}
	e->line_len = (uint32_t)len;
	e->seq = r->seq;
	e->op = (uint8_t)r->op;
	e->aux = aux;
	if (m->arena.failed)
		return -1;
	return 1;
}

merge_entry_t *merge_map_next(merge_map_t *m, size_t *i)
{
	while (*i < m->cap) {
		merge_entry_t *e = &m->slots[(*i)++];
		if (e->used)
			return e;
	}
	return NULL;
}

/* qsort has no argument: the map being sorted, per thread. */
static __thread const merge_map_t *tls_sort_map;

static int cmp_entry(const void *a, const void *b)
{
	const merge_entry_t *x = *(merge_entry_t *const *)a, *y = *(merge_entry_t *const *)b;
	const uint8_t *d = tls_sort_map->arena.data;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(d + x->key_off, d + y->key_off, n);

	if (c)
		return c;
	return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

merge_entry_t **merge_map_sorted(merge_map_t *m, size_t *n)
{
	merge_entry_t **v;
	size_t i = 0, k = 0;
	merge_entry_t *e;

	*n = 0;
	if (!m->count)
		return NULL;
	if (!(v = malloc(m->count * sizeof(*v))))
		return NULL;
	while ((e = merge_map_next(m, &i)))
		v[k++] = e;
	tls_sort_map = m;
	qsort(v, k, sizeof(*v), cmp_entry);
	*n = k;
	return v;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

#define OUT_CHUNK (128u << 10)

struct merge_out {
	int fd;
	ZSTD_CCtx *cctx; /* NULL: uncompressed */
	uint8_t *in, *zout;
	size_t in_len;
	size_t zcap;
	uint64_t bytes;
	char *path;
};

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

binlog_errcode_t merge_out_open(const char *path, int level, merge_out_t **out, binlog_err_t *err)
{
	merge_out_t *o = calloc(1, sizeof(*o));

	*out = NULL;
	if (!o || !(o->path = strdup(path)) || !(o->in = malloc(OUT_CHUNK))) {
		if (o)
			free(o->path);
		free(o);
		return binlog_err_set(err, BINLOG_E_NOMEM, "%s: out of memory", path);
	}
	if (ends_with(path, ".zst")) {
		o->zcap = ZSTD_CStreamOutSize();
		o->cctx = ZSTD_createCCtx();
		o->zout = malloc(o->zcap);
		if (!o->cctx || !o->zout) {
			merge_out_abort(o);
			return binlog_err_set(err, BINLOG_E_NOMEM, "%s: out of memory", path);
		}
		ZSTD_CCtx_setParameter(o->cctx, ZSTD_c_compressionLevel, level);
	}
	o->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (o->fd < 0) {
		int e = errno;
		free(o->path);
		o->path = NULL;
		merge_out_abort(o);
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: cannot create: %s", path,
				      strerror(e));
	}
	*out = o;
	return BINLOG_OK;
}

static binlog_errcode_t write_all(merge_out_t *o, const uint8_t *p, size_t n, binlog_err_t *err)
{
	while (n) {
		ssize_t w = write(o->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: write: %s", o->path,
					      strerror(errno));
		}
		p += w;
		n -= (size_t)w;
		o->bytes += (uint64_t)w;
	}
	return BINLOG_OK;
}

static binlog_errcode_t out_drain(merge_out_t *o, int end, binlog_err_t *err)
{
	ZSTD_inBuffer in = {o->in, o->in_len, 0};
	binlog_errcode_t rc;

	if (!o->cctx) {
		rc = write_all(o, o->in, o->in_len, err);
		o->in_len = 0;
		return rc;
	}
	for (;;) {
		ZSTD_outBuffer zo = {o->zout, o->zcap, 0};
		size_t left =
			ZSTD_compressStream2(o->cctx, &zo, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: zstd: %s", o->path,
					      ZSTD_getErrorName(left));
		if (zo.pos && (rc = write_all(o, o->zout, zo.pos, err)) != BINLOG_OK)
			return rc;
		if (end ? left == 0 : in.pos == in.size)
			break;
	}
	o->in_len = 0;
	return BINLOG_OK;
}

binlog_errcode_t merge_out_write(merge_out_t *o, const void *p, size_t n, binlog_err_t *err)
{
	const uint8_t *s = p;
	binlog_errcode_t rc;

	while (n) {
		size_t k = OUT_CHUNK - o->in_len;
		if (k > n)
			k = n;
		memcpy(o->in + o->in_len, s, k);
		o->in_len += k;
		s += k;
		n -= k;
		if (o->in_len == OUT_CHUNK && (rc = out_drain(o, 0, err)) != BINLOG_OK)
			return rc;
	}
	return BINLOG_OK;
}

static void out_free(merge_out_t *o)
{
	ZSTD_freeCCtx(o->cctx);
	free(o->in);
	free(o->zout);
	free(o->path);
	free(o);
}

binlog_errcode_t merge_out_close(merge_out_t *o, uint64_t *bytes, binlog_err_t *err)
{
	binlog_errcode_t rc = out_drain(o, 1, err);

	if (rc == BINLOG_OK && fsync(o->fd) != 0)
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: fsync: %s", o->path,
				    strerror(errno));
	if (close(o->fd) != 0 && rc == BINLOG_OK)
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: close: %s", o->path,
				    strerror(errno));
	if (bytes)
		*bytes = o->bytes;
	out_free(o);
	return rc;
}

void merge_out_abort(merge_out_t *o)
{
	if (!o)
		return;
	if (o->fd > 0) {
		close(o->fd);
		if (o->path)
			unlink(o->path);
	}
	out_free(o);
}

/* Lines of the decompressed stream in buf: call fn for each whole one,
 * keep the tail. */
static binlog_errcode_t emit_lines(const char *path, binlog_buf_t *buf, uint64_t *lineno,
				   merge_line_fn fn, void *arg, binlog_err_t *err)
{
	size_t start = 0;
	binlog_errcode_t rc;

	for (;;) {
		uint8_t *nl = memchr(buf->data + start, '\n', buf->len - start);
		if (!nl)
			break;
		size_t len = (size_t)(nl - (buf->data + start));
		++*lineno;
		if ((rc = fn(arg, buf->data + start, len, err)) != BINLOG_OK) {
			binlog_err_prefix(err, "%s: line %" PRIu64, path, *lineno);
			return rc;
		}
		start += len + 1;
	}
	if (start) {
		memmove(buf->data, buf->data + start, buf->len - start);
		buf->len -= start;
	}
	if (buf->len > MERGE_LINE_MAX)
		return binlog_err_set(err, BINLOG_E_LIMIT,
				      "%s: line %" PRIu64 " is longer than %u bytes", path,
				      *lineno + 1, MERGE_LINE_MAX);
	return BINLOG_OK;
}

binlog_errcode_t merge_in_lines(const char *path, merge_line_fn fn, void *arg, int *missing,
				binlog_err_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), zst = ends_with(path, ".zst");
	ZSTD_DCtx *dctx = NULL;
	uint8_t *raw = NULL;
	size_t rawcap = ZSTD_DStreamInSize(), frame_left = 0, total = 0;
	binlog_buf_t buf;
	uint64_t lineno = 0;
	binlog_errcode_t rc = BINLOG_OK;

	if (missing)
		*missing = 0;
	binlog_buf_init(&buf, MERGE_LINE_MAX + (8u << 20));
	if (fd < 0) {
		if (errno == ENOENT && missing)
			*missing = 1;
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: cannot open: %s", path,
				      strerror(errno));
	}
	if (!(raw = malloc(rawcap)) || (zst && !(dctx = ZSTD_createDCtx()))) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, raw, rawcap);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: read: %s", path,
					    strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		total += (size_t)got;
		if (!zst) {
			binlog_buf_put(&buf, raw, (size_t)got);
		} else {
			ZSTD_inBuffer in = {raw, (size_t)got, 0};
			while (in.pos < in.size) {
				uint8_t *space;
				if (!(space = binlog_buf_space(&buf, 1u << 17)))
					break;
				ZSTD_outBuffer o = {space, 1u << 17, 0};
				frame_left = ZSTD_decompressStream(dctx, &o, &in);
				if (ZSTD_isError(frame_left)) {
					rc = binlog_err_set(err, BINLOG_E_BAD_VALUE,
							    "%s: not a zstd file, or corrupt: %s",
							    path, ZSTD_getErrorName(frame_left));
					goto out;
				}
				binlog_buf_commit(&buf, o.pos);
				if (buf.len > (1u << 20) &&
				    (rc = emit_lines(path, &buf, &lineno, fn, arg, err)) !=
					    BINLOG_OK)
					goto out;
			}
		}
		if (buf.failed) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, "%s: out of memory", path);
			goto out;
		}
		if ((rc = emit_lines(path, &buf, &lineno, fn, arg, err)) != BINLOG_OK)
			goto out;
	}
	if (zst && (frame_left != 0 || total == 0)) {
		rc = binlog_err_set(err, BINLOG_E_TRUNCATED,
				    "%s: the compressed data ends before its frame does", path);
		goto out;
	}
	if (buf.len)
		rc = binlog_err_set(err, BINLOG_E_TRUNCATED,
				    "%s: line %" PRIu64 " has no end of line (truncated file)",
				    path, lineno + 1);
out:
	close(fd);
	free(raw);
	ZSTD_freeDCtx(dctx);
	binlog_buf_free(&buf);
	return rc;
}
