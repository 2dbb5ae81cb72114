/*
 * cdc_route.c: rules from table names to topics (cdc_route.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "cdc_route.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_buf.h"

#define HASH_MIN 64

typedef struct rule {
	pcre2_code *db, *table; /* NULL: any */
	const char *topic;
} rule_t;

struct cdc_router {
	rule_t *rules;
	size_t nrules;
	const char *default_topic;
	const char *source;
	pcre2_match_data *md_db, *md_table;
	cdc_route_entry_t **hash;
	size_t nhash, nentries;
	cdc_route_entry_t *all;
	binlog_buf_t tmp;
};

/* ------------------------------------------------------------------ */
/* Checks                                                              */

static pcre2_code *compile(const char *re, char *msg, size_t cap)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *c =
		pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
			      PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &code, &off, NULL);

	if (!c) {
		PCRE2_UCHAR m[160];
		if (pcre2_get_error_message(code, m, sizeof(m)) < 0)
			snprintf((char *)m, sizeof(m), "error %d", code);
		snprintf(msg, cap, "'%s' does not compile at offset %zu: %s", re, (size_t)off,
			 (const char *)m);
		return NULL;
	}
	/* A JIT failure only makes matching slower. */
	(void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
	return c;
}

int cdc_route_check_regex(const char *re, unsigned *groups, char *msg, size_t cap)
{
	pcre2_code *c = compile(re, msg, cap);
	uint32_t n = 0;

	if (!c)
		return -1;
	pcre2_pattern_info(c, PCRE2_INFO_CAPTURECOUNT, &n);
	if (groups)
		*groups = n;
	pcre2_code_free(c);
	return 0;
}

/*
 * Walk a template: call `var` for each ${name} (with group -1, or N for
 * ${db.N}/${table.N}) and `lit` for the text between. Returns 0, or -1
 * with msg set when the template is malformed.
 */
enum var { V_DB, V_TABLE, V_SOURCE };

typedef struct walker {
	void (*lit)(void *ctx, const char *s, size_t n);
	int (*var)(void *ctx, int which, int group, char *msg, size_t cap);
	void *ctx;
} walker_t;

static int walk(const char *tpl, const walker_t *w, char *msg, size_t cap)
{
	const char *p = tpl;

	while (*p) {
		const char *d = strchr(p, '$');
		const char *close, *name;
		size_t len;
		int which, group = -1;

		if (!d) {
			w->lit(w->ctx, p, strlen(p));
			break;
		}
		w->lit(w->ctx, p, (size_t)(d - p));
		if (d[1] == '$') {
			w->lit(w->ctx, "$", 1);
			p = d + 2;
			continue;
		}
		if (d[1] != '{' || !(close = strchr(d + 2, '}'))) {
			snprintf(msg, cap,
				 "'%s': a '$' at offset %zu that starts no ${name} (write $$ for "
				 "a dollar sign)",
				 tpl, (size_t)(d - tpl));
			return -1;
		}
		name = d + 2;
		len = (size_t)(close - name);
		if (len == 2 && memcmp(name, "db", 2) == 0) {
			which = V_DB;
		} else if (len == 5 && memcmp(name, "table", 5) == 0) {
			which = V_TABLE;
		} else if (len == 6 && memcmp(name, "source", 6) == 0) {
			which = V_SOURCE;
		} else if ((len == 4 && memcmp(name, "db.", 3) == 0 && name[3] >= '0' &&
			    name[3] <= '9') ||
			   (len == 7 && memcmp(name, "table.", 6) == 0 && name[6] >= '0' &&
			    name[6] <= '9')) {
			which = name[0] == 'd' ? V_DB : V_TABLE;
			group = name[len - 1] - '0';
		} else {
			snprintf(msg, cap,
				 "'%s': unknown ${%.*s} at offset %zu (known: ${db}, ${table}, "
				 "${source}, ${db.N}, ${table.N})",
				 tpl, (int)len, name, (size_t)(d - tpl));
			return -1;
		}
		if (w->var && w->var(w->ctx, which, group, msg, cap) < 0)
			return -1;
		p = close + 1;
	}
	return 0;
}

struct check_ctx {
	unsigned groups[2];
	const char *tpl;
	int bad_char;
};

static void check_lit(void *ctx, const char *s, size_t n)
{
	struct check_ctx *c = ctx;

	for (size_t i = 0; i < n && !c->bad_char; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			c->bad_char = ch;
	}
}

static int check_var(void *ctx, int which, int group, char *msg, size_t cap)
{
	struct check_ctx *c = ctx;

	if (group > 0 && which != V_SOURCE && (unsigned)group > c->groups[which]) {
		snprintf(msg, cap, "'%s': ${%s.%d}, but the %s regex has %u capture group%s",
			 c->tpl, which == V_DB ? "db" : "table", group,
			 which == V_DB ? "database" : "table", c->groups[which],
			 c->groups[which] == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

int cdc_route_check_template(const char *tpl, unsigned db_groups, unsigned table_groups, char *msg,
			     size_t cap)
{
	struct check_ctx c = {{db_groups, table_groups}, tpl, 0};
	walker_t w = {check_lit, check_var, &c};

	if (!*tpl) {
		snprintf(msg, cap, "an empty topic");
		return -1;
	}
	if (walk(tpl, &w, msg, cap) < 0)
		return -1;
	if (c.bad_char) {
		snprintf(msg, cap,
			 "'%s': '%c' cannot be in a topic name (letters, digits, '.', '_' and "
			 "'-')",
			 tpl, c.bad_char);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The router                                                          */

binlog_errcode_t cdc_router_new(const cdc_route_conf_t *rules, size_t n, const char *default_topic,
				const char *source, cdc_router_t **out, binlog_err_t *err)
{
	cdc_router_t *r = calloc(1, sizeof(*r));
	char msg[BINLOG_ERR_MSG_MAX];

	*out = NULL;
	if (!r || !(r->rules = calloc(n ? n : 1, sizeof(*r->rules))))
		goto nomem;
	r->nrules = n;
	r->default_topic = default_topic;
	r->source = source ? source : "";
	binlog_buf_init(&r->tmp, 0);
	for (size_t i = 0; i < n; i++) {
		unsigned g[2] = {0, 0};
		const char *re[2] = {rules[i].database, rules[i].table};
		pcre2_code **dst[2] = {&r->rules[i].db, &r->rules[i].table};
		for (int k = 0; k < 2; k++) {
			uint32_t c = 0;
			if (!re[k])
				continue;
			if (!(*dst[k] = compile(re[k], msg, sizeof(msg)))) {
				binlog_err_set(err, BINLOG_E_USAGE, "route[%zu].%s: %s", i + 1,
					       k ? "table" : "database", msg);
				goto fail;
			}
			pcre2_pattern_info(*dst[k], PCRE2_INFO_CAPTURECOUNT, &c);
			g[k] = c;
		}
		if (!rules[i].topic) {
			binlog_err_set(err, BINLOG_E_USAGE, "route[%zu]: no topic", i + 1);
			goto fail;
		}
		if (cdc_route_check_template(rules[i].topic, g[0], g[1], msg, sizeof(msg)) < 0) {
			binlog_err_set(err, BINLOG_E_USAGE, "route[%zu].topic: %s", i + 1, msg);
			goto fail;
		}
		r->rules[i].topic = rules[i].topic;
	}
	if (cdc_route_check_template(default_topic, 0, 0, msg, sizeof(msg)) < 0) {
		binlog_err_set(err, BINLOG_E_USAGE, "sink.topic: %s", msg);
		goto fail;
	}
	r->md_db = pcre2_match_data_create(10, NULL);
	r->md_table = pcre2_match_data_create(10, NULL);
	r->nhash = HASH_MIN;
	r->hash = calloc(r->nhash, sizeof(*r->hash));
	if (!r->md_db || !r->md_table || !r->hash)
		goto nomem;
	*out = r;
	return BINLOG_OK;
nomem:
	binlog_err_set(err, BINLOG_E_NOMEM, NULL);
fail:
	cdc_router_free(r);
	return err ? err->code : BINLOG_E_NOMEM;
}

void cdc_router_free(cdc_router_t *r)
{
	cdc_route_entry_t *e, *next;

	if (!r)
		return;
	for (size_t i = 0; r->rules && i < r->nrules; i++) {
		pcre2_code_free(r->rules[i].db);
		pcre2_code_free(r->rules[i].table);
	}
	free(r->rules);
	pcre2_match_data_free(r->md_db);
	pcre2_match_data_free(r->md_table);
	for (e = r->all; e; e = next) {
		next = e->next_all;
		free(e);
	}
	free(r->hash);
	binlog_buf_free(&r->tmp);
	free(r);
}

cdc_route_entry_t *cdc_router_entries(const cdc_router_t *r)
{
	return r->all;
}

static uint64_t hash_name(const char *db, size_t dl, const char *t, size_t tl)
{
	/* FNV-1a over db, a separator no name holds, and table */
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < dl; i++)
		h = (h ^ (uint8_t)db[i]) * 1099511628211ull;
	h = (h ^ 0) * 1099511628211ull;
	for (size_t i = 0; i < tl; i++)
		h = (h ^ (uint8_t)t[i]) * 1099511628211ull;
	return h;
}

struct expand_ctx {
	binlog_buf_t *b;
	const cdc_router_t *r;
	const char *db, *table;
	size_t db_len, table_len;
	pcre2_match_data *md[2]; /* NULL: the rule has no regex there */
};

static void expand_lit(void *ctx, const char *s, size_t n)
{
	struct expand_ctx *x = ctx;
	binlog_buf_put(x->b, s, n);
}

static int expand_var(void *ctx, int which, int group, char *msg, size_t cap)
{
	struct expand_ctx *x = ctx;
	(void)msg;
	(void)cap;

	if (which == V_SOURCE) {
		binlog_buf_put(x->b, x->r->source, strlen(x->r->source));
	} else if (group < 0 || !x->md[which]) {
		/* ${db}, or ${db.0} of a rule that matches any database */
		if (which == V_DB)
			binlog_buf_put(x->b, x->db, x->db_len);
		else
			binlog_buf_put(x->b, x->table, x->table_len);
	} else {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x->md[which]);
		const char *subj = which == V_DB ? x->db : x->table;
		/* An unset group (an optional one that did not take part)
		 * expands to nothing. */
		if ((uint32_t)group < pcre2_get_ovector_count(x->md[which]) &&
		    ov[2 * group] != PCRE2_UNSET)
			binlog_buf_put(x->b, subj + ov[2 * group],
				       ov[2 * group + 1] - ov[2 * group]);
	}
	return 0;
}

static int topic_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int matches(pcre2_code *re, pcre2_match_data *md, const char *s, size_t n)
{
	return !re || pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL) >= 0;
}

static void grow(cdc_router_t *r)
{
	size_t n = r->nhash * 2;
	cdc_route_entry_t **h = calloc(n, sizeof(*h));

	if (!h)
		return; /* longer chains, still correct */
	for (cdc_route_entry_t *e = r->all; e; e = e->next_all) {
		uint64_t k = hash_name(e->db, strlen(e->db), e->table, strlen(e->table)) & (n - 1);
		e->next_hash = h[k];
		h[k] = e;
	}
	free(r->hash);
	r->hash = h;
	r->nhash = n;
}

cdc_route_entry_t *cdc_router_get(cdc_router_t *r, const char *db, size_t db_len, const char *table,
				  size_t table_len, binlog_err_t *err)
{
	uint64_t h = hash_name(db, db_len, table, table_len);
	cdc_route_entry_t *e;
	struct expand_ctx x = {&r->tmp, r, db, table, db_len, table_len, {NULL, NULL}};
	walker_t w = {expand_lit, expand_var, &x};
	const char *tpl = r->default_topic;
	int rule = -1;
	char msg[8];
	size_t tlen;
	char *p;

	for (e = r->hash[h & (r->nhash - 1)]; e; e = e->next_hash)
		if (strncmp(e->db, db, db_len) == 0 && e->db[db_len] == 0 &&
		    strncmp(e->table, table, table_len) == 0 && e->table[table_len] == 0)
			return e;

	for (size_t i = 0; i < r->nrules; i++) {
		if (matches(r->rules[i].db, r->md_db, db, db_len) &&
		    matches(r->rules[i].table, r->md_table, table, table_len)) {
			rule = (int)i;
			tpl = r->rules[i].topic;
			x.md[V_DB] = r->rules[i].db ? r->md_db : NULL;
			x.md[V_TABLE] = r->rules[i].table ? r->md_table : NULL;
			break;
		}
	}
	binlog_buf_reset(&r->tmp);
	(void)walk(tpl, &w, msg, sizeof(msg)); /* checked when the router was made */
	if (r->tmp.failed) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		return NULL;
	}
	tlen = r->tmp.len;
	for (size_t i = 0; i < tlen; i++)
		if (!topic_char_ok(r->tmp.data[i]))
			r->tmp.data[i] = '_';
	if (tlen == 0 || tlen > CDC_TOPIC_MAX || (tlen == 1 && r->tmp.data[0] == '.') ||
	    (tlen == 2 && r->tmp.data[0] == '.' && r->tmp.data[1] == '.')) {
		binlog_err_set(err, BINLOG_E_USAGE,
			       "%s %.*s.%.*s: the topic it makes, '%.*s', is not a valid topic "
			       "name (1 to %d characters, not '.' or '..')",
			       rule < 0 ? "sink.topic: table" : "route: table", (int)db_len, db,
			       (int)table_len, table, (int)(tlen > 300 ? 300 : tlen),
			       (const char *)r->tmp.data, CDC_TOPIC_MAX);
		return NULL;
	}
	e = calloc(1, sizeof(*e) + db_len + table_len + tlen + 3);
	if (!e) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		return NULL;
	}
	p = (char *)(e + 1);
	memcpy(p, db, db_len);
	p[db_len] = 0;
	e->db = p;
	p += db_len + 1;
	memcpy(p, table, table_len);
	p[table_len] = 0;
	e->table = p;
	p += table_len + 1;
	memcpy(p, r->tmp.data, tlen);
	p[tlen] = 0;
	e->topic = p;
	e->rule = rule;
	e->next_all = r->all;
	r->all = e;
	e->next_hash = r->hash[h & (r->nhash - 1)];
	r->hash[h & (r->nhash - 1)] = e;
	if (++r->nentries > r->nhash)
		grow(r);
	return e;
}
