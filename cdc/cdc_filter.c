/*
 * cdc_filter.c: the table and column filters of a source, as PCRE2
 * regular expressions (cdc_filter.h).
 *
 * Every pattern is compiled once, anchored at the start (PCRE2_ANCHORED),
 * and matched anchored at the end too (PCRE2_ENDANCHORED at match time:
 * PCRE2 refuses partial matching of a pattern compiled end-anchored, and
 * cdc_filter_column needs it). Anchoring by options rather than by
 * wrapping the text in "^(?:...)$" keeps the offsets of compile errors
 * pointing into the pattern as the user wrote it, and leading settings
 * such as "(*UCP)" working. Names are matched as UTF-8; a name that is not
 * valid UTF-8 (only a corrupt binlog has one) is no error, but no pattern
 * item matches its invalid bytes (PCRE2_MATCH_INVALID_UTF).
 *
 * Matching runs once per table definition and once per column of it, not
 * per row, so each call allocates its own match data: the filter itself is
 * never written after cdc_filter_new, and several stream threads can share
 * one without a lock. (A match data block per filter would have to be
 * locked or kept per thread, to save an allocation that costs nothing at
 * this rate.)
 *
 * Memory: the filter owns its compiled patterns and their texts; the
 * caller owns the filter and frees it with cdc_filter_free.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "cdc_filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

/* The four lists of a source, in the order of enum list_kind. */
enum list_kind {
	LIST_TABLES = 0,
	LIST_TABLES_EXCLUDE,
	LIST_COLUMNS_EXCLUDE,
	LIST_COLUMNS_MASK,
	LIST__COUNT
};

/* The settings' names, for error messages (docs/CONFIGURATION.md). */
static const char *const list_setting[LIST__COUNT] = {
	"source.tables",
	"source.tables.exclude",
	"source.columns.exclude",
	"source.columns.mask",
};

typedef struct pattern_list {
	pcre2_code **re;
	size_t n;
} pattern_list_t;

struct cdc_filter {
	pattern_list_t lists[LIST__COUNT];
};

static void list_free(pattern_list_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		pcre2_code_free(l->re[i]);
	free(l->re);
	l->re = NULL;
	l->n = 0;
}

void cdc_filter_free(cdc_filter_t *f)
{
	if (!f)
		return;
	for (int k = 0; k < LIST__COUNT; k++)
		list_free(&f->lists[k]);
	free(f);
}

static binlog_errcode_t list_compile(pattern_list_t *l, const cdc_list_t *src, const char *setting,
				     binlog_err_t *err)
{
	const uint32_t opts = PCRE2_ANCHORED | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;

	if (!src || !src->n)
		return BINLOG_OK;
	l->re = calloc(src->n, sizeof(*l->re));
	if (!l->re)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	for (size_t i = 0; i < src->n; i++) {
		const char *p = src->v[i] ? src->v[i] : "";
		int code;
		PCRE2_SIZE off;
		PCRE2_UCHAR msg[256];

		l->re[i] = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, opts, &code, &off,
					 NULL);
		if (!l->re[i]) {
			if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
				snprintf((char *)msg, sizeof(msg), "error %d", code);
			return binlog_err_set(
				err, BINLOG_E_USAGE,
				"%s: pattern \"%s\" does not compile: %s at offset %zu", setting, p,
				(const char *)msg, (size_t)off);
		}
		l->n = i + 1;
	}
	return BINLOG_OK;
}

binlog_errcode_t cdc_filter_new(const cdc_source_conf_t *src, cdc_filter_t **out, binlog_err_t *err)
{
	const cdc_list_t *lists[LIST__COUNT] = {&src->tables, &src->tables_exclude,
						&src->columns_exclude, &src->columns_mask};
	cdc_filter_t *f = calloc(1, sizeof(*f));
	binlog_errcode_t rc;

	*out = NULL;
	if (!f)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	for (int k = 0; k < LIST__COUNT; k++) {
		rc = list_compile(&f->lists[k], lists[k], list_setting[k], err);
		if (rc != BINLOG_OK) {
			cdc_filter_free(f);
			return rc;
		}
	}
	*out = f;
	return BINLOG_OK;
}

/*
 * 1 when one pattern of l matches subject[0..n) whole. With `partial`:
 * when the subject is the start of a match, or could be
 * (PCRE2_PARTIAL_HARD), to ask whether some column of a table could
 * match, from "db.table." alone. A match error (out of memory, a match limit) counts
 * as a match: callers ask "may this be filtered?", and for column rules
 * the cautious answer is yes.
 */
static int list_match(const pattern_list_t *l, const char *subject, size_t n, int partial)
{
	pcre2_match_data *md;
	int hit = 0;

	if (!l->n)
		return 0;
	/* One pair of offsets: the filter uses no capture groups. */
	md = pcre2_match_data_create(1, NULL);
	if (!md)
		return 1;
	for (size_t i = 0; i < l->n && !hit; i++) {
		int rc = pcre2_match(l->re[i], (PCRE2_SPTR)subject, n, 0,
				     partial ? PCRE2_PARTIAL_HARD : PCRE2_ENDANCHORED, md, NULL);
		if (rc >= 0 || (partial && rc == PCRE2_ERROR_PARTIAL))
			hit = 1;
		else if (rc != PCRE2_ERROR_NOMATCH && rc != PCRE2_ERROR_PARTIAL)
			hit = 1;
	}
	pcre2_match_data_free(md);
	return hit;
}

/*
 * "a.b" or "a.b.c" in buf, or on the heap when it does not fit (names are
 * at most 64 characters, but nothing here relies on it). Returns the text
 * (buf or a malloc'ed copy the caller frees), NULL when out of memory.
 */
static char *join(char *buf, size_t cap, const char *a, const char *b, const char *c, size_t *n)
{
	size_t na = strlen(a), nb = strlen(b), nc = c ? strlen(c) : 0;
	size_t len = na + 1 + nb + (c ? 1 + nc : 0);
	char *s = len < cap ? buf : malloc(len + 1);

	if (!s)
		return NULL;
	memcpy(s, a, na);
	s[na] = '.';
	memcpy(s + na + 1, b, nb);
	if (c) {
		s[na + 1 + nb] = '.';
		memcpy(s + na + 2 + nb, c, nc);
	}
	s[len] = 0;
	*n = len;
	return s;
}

int cdc_filter_table(const cdc_filter_t *f, const char *db, const char *table)
{
	char buf[512], *s;
	size_t n;
	int keep;

	if (!f)
		return 1;
	s = join(buf, sizeof(buf), db, table, NULL, &n);
	if (!s)
		return 0; /* out of memory: do not capture what we cannot check */
	keep = (!f->lists[LIST_TABLES].n || list_match(&f->lists[LIST_TABLES], s, n, 0)) &&
	       !list_match(&f->lists[LIST_TABLES_EXCLUDE], s, n, 0);
	if (s != buf)
		free(s);
	return keep;
}

/*
 * Exclusion wins over masking when both match: an excluded value is not
 * in the record at all, which reveals less than "****".
 *
 * `column` NULL asks for the strictest action that any column of db.table
 * may get: the schema uses it when the column names are unknown (the
 * binlog has none and the catalog could not supply them), to fail closed
 * rather than let a value that should be masked through under a
 * positional key.
 */
int cdc_filter_column(const cdc_filter_t *f, const char *db, const char *table, const char *column)
{
	char buf[512], *s;
	size_t n;
	int action = CDC_COLUMN_KEEP;
	int partial = column == NULL;

	if (!f || (!f->lists[LIST_COLUMNS_EXCLUDE].n && !f->lists[LIST_COLUMNS_MASK].n))
		return CDC_COLUMN_KEEP;
	/* Partial: "db.table." and whatever name could follow. */
	s = join(buf, sizeof(buf), db, table, partial ? "" : column, &n);
	if (!s)
		return CDC_COLUMN_EXCLUDE; /* out of memory: fail closed */
	if (list_match(&f->lists[LIST_COLUMNS_EXCLUDE], s, n, partial))
		action = CDC_COLUMN_EXCLUDE;
	else if (list_match(&f->lists[LIST_COLUMNS_MASK], s, n, partial))
		action = CDC_COLUMN_MASK;
	if (s != buf)
		free(s);
	return action;
}
