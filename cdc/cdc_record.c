/*
 * cdc_record.c: formatting row images as changelog-json.
 *
 * How each column type is written is the public contract in
 * docs/CHANGELOG_JSON.md; keep the two in step.
 *
 * This is the hot path (docs/BENCHMARKS.md). A column whose schema says
 * anything unusual (left out, masked, a MariaDB UUID/INET4/INET6/JSON/
 * VECTOR, signedness known only from the catalog) has a non-zero
 * schema_column_t.special and goes through put_special, out of line. The
 * record writer exists twice (write_image): the one for tables with such a
 * column tests it per column; the one for all other tables is the writer
 * as it was, so they pay one test per record, not per column.
 */
#include "cdc_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_decimal.h"
#include "binlog_json.h"
#include "binlog_jsonw.h"
#include "schema_catalog.h"

#define OUT_OF_LINE __attribute__((noinline))

binlog_errcode_t cdc_writer_init(cdc_writer_t *w, size_t max_record)
{
	memset(w, 0, sizeof(*w));
	binlog_buf_init(&w->rec, max_record);
	binlog_buf_init(&w->tmp, max_record);
	binlog_buf_init(&w->file, 0);
	binlog_buf_init(&w->tail, 0);
	w->out = &w->rec;
	w->conv = binlog_csconv_new();
	return w->conv ? BINLOG_OK : BINLOG_E_NOMEM;
}

void cdc_writer_free(cdc_writer_t *w)
{
	binlog_buf_free(&w->rec);
	binlog_buf_free(&w->tmp);
	binlog_buf_free(&w->file);
	binlog_buf_free(&w->tail);
	binlog_csconv_free(w->conv);
	free(w->jb);
	free(w->diffs);
	free(w->jnull);
	memset(w, 0, sizeof(*w));
}

void cdc_writer_set_file(cdc_writer_t *w, const char *name)
{
	binlog_buf_reset(&w->file);
	binlog_buf_lit(&w->file, ",\"file\":");
	binlog_jw_utf8(&w->file, (const uint8_t *)name, strlen(name));
	w->tail_ok = 0;
}

void cdc_writer_begin_txn(cdc_writer_t *w, const binlog_gtid_t *g, int64_t ts_ms)
{
	w->txn_len = 0;
	w->ts_ms = ts_ms;
	w->tail_ok = 0;
	if (g && g->kind != BINLOG_GTID_NONE) {
		char t[BINLOG_GTID_TEXT_MAX];
		size_t n = binlog_gtid_format(g, t, sizeof(t));
		if (n >= sizeof(t))
			n = sizeof(t) - 1;
		memcpy(w->txn, ",\"gtid\":\"", 9);
		memcpy(w->txn + 9, t, n);
		w->txn[9 + n] = '"';
		w->txn_len = 10 + n;
	}
}

/* Text in the column's charset; unknown charset: UTF-8 as is, anything
 * else as "base64:..." so no byte is lost. */
static void put_text(cdc_writer_t *w, const binlog_charset_t *cs, const uint8_t *s, size_t n)
{
	binlog_buf_t *b = w->out;

	if (cs) {
		binlog_buf_putc(b, '"');
		/* UTF-8 (utf8mb4, utf8mb3), by far the most common, without the
		 * charset dispatch: binlog_charset_to_json does the same. */
		if (cs->kind == BINLOG_CS_UTF8)
			w->invalid_text += binlog_jw_utf8_body(b, s, n);
		else
			w->invalid_text += binlog_charset_to_json(b, w->conv, cs, s, n);
		binlog_buf_putc(b, '"');
	} else if (binlog_utf8_valid(s, n)) {
		binlog_jw_utf8(b, s, n);
	} else {
		binlog_buf_lit(b, "\"base64:");
		binlog_jw_base64_body(b, s, n);
		binlog_buf_putc(b, '"');
	}
}

/* A VECTOR: 32-bit little-endian floats, as a JSON array. */
static void put_floats(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	binlog_buf_putc(b, '[');
	for (size_t k = 0; k + 4 <= n; k += 4) {
		uint32_t u = binlog_le32(s + k);
		float f;
		memcpy(&f, &u, 4);
		if (k)
			binlog_buf_putc(b, ',');
		binlog_jw_double(b, f, 1);
	}
	binlog_buf_putc(b, ']');
}

static void put_label(cdc_writer_t *w, const schema_column_t *sc, const binlog_str_t *l)
{
	const binlog_charset_t *cs = sc->labels_cs ? sc->labels_cs : sc->cs;
	put_text(w, cs, (const uint8_t *)l->p, l->len);
}

/* What put_value and put_special report beside the value (*flags). */
enum { JSON_DIFF = 1, JSON_NULL = 2 };

/* Is what was written to b from `at` on the JSON literal null? */
static inline int wrote_null(const binlog_buf_t *b, size_t at)
{
	return b->len - at == 4 && !memcmp(b->data + at, "null", 4);
}

/* Inlined into both record writers (write_image): no call per value. */
static inline __attribute__((always_inline)) binlog_errcode_t
put_value(cdc_writer_t *w, const binlog_table_t *bt, const schema_column_t *sc, uint32_t ci,
	  const binlog_value_t *v, int *flags, binlog_err_t *err)
{
	const binlog_column_t *c = &bt->cols[ci];
	binlog_buf_t *b = w->out;
	binlog_errcode_t rc;

	switch (v->kind) {
	case BINLOG_V_NULL:
		binlog_buf_lit(b, "null");
		break;
	case BINLOG_V_INT:
		binlog_jw_i64(b, v->i);
		break;
	case BINLOG_V_UINT:
	case BINLOG_V_YEAR:
	case BINLOG_V_BIT:
		binlog_jw_u64(b, v->u);
		break;
	case BINLOG_V_FLOAT:
		binlog_jw_double(b, v->d, 1);
		break;
	case BINLOG_V_DOUBLE:
		binlog_jw_double(b, v->d, 0);
		break;
	case BINLOG_V_DECIMAL:
		binlog_buf_putc(b, '"');
		if (binlog_decimal_format(b, v->s, v->prec, v->scale))
			return binlog_err_set(
				err, BINLOG_E_BAD_VALUE,
				"DECIMAL(%u,%u) bytes hold a digit group above 999999999", v->prec,
				v->scale);
		binlog_buf_putc(b, '"');
		break;
	case BINLOG_V_STRING:
		if (sc->binary) {
			if (sc->pad_binary && v->n < c->length) {
				binlog_buf_reset(&w->tmp);
				binlog_buf_put(&w->tmp, v->s, v->n);
				for (size_t k = v->n; k < c->length; k++)
					binlog_buf_putc(&w->tmp, 0);
				binlog_jw_base64(b, w->tmp.data, w->tmp.len);
			} else {
				binlog_jw_base64(b, v->s, v->n);
			}
		} else {
			put_text(w, sc->cs, v->s, v->n);
		}
		break;
	case BINLOG_V_DATE:
		binlog_buf_putc(b, '"');
		binlog_time_put_date(b, &v->t);
		binlog_buf_putc(b, '"');
		break;
	case BINLOG_V_DATETIME:
		binlog_buf_putc(b, '"');
		binlog_time_put_datetime(b, &v->t, v->fsp);
		binlog_buf_putc(b, '"');
		break;
	case BINLOG_V_TIMESTAMP: {
		binlog_time_t t;
		binlog_buf_putc(b, '"');
		if (v->ts_sec == 0 && v->t.usec == 0) {
			/* 0 is the zero TIMESTAMP, not 1970-01-01 00:00:00 UTC
			 * (which the type cannot store). */
			memset(&t, 0, sizeof(t));
			binlog_time_put_datetime(b, &t, v->fsp);
		} else {
			binlog_time_from_epoch(v->ts_sec, v->t.usec, &t);
			binlog_time_put_datetime(b, &t, v->fsp);
			binlog_buf_putc(b, 'Z');
		}
		binlog_buf_putc(b, '"');
		break;
	}
	case BINLOG_V_TIME:
		binlog_buf_putc(b, '"');
		binlog_time_put_time(b, &v->t, v->fsp);
		binlog_buf_putc(b, '"');
		break;
	case BINLOG_V_ENUM:
		if (c->nlabels && v->u >= 1 && v->u <= c->nlabels)
			put_label(w, sc, &c->labels[v->u - 1]);
		else if (c->nlabels && v->u == 0)
			binlog_buf_lit(b, "\"\""); /* the invalid-value marker */
		else
			binlog_jw_u64(b, v->u);
		break;
	case BINLOG_V_SET:
		if (c->nlabels && (c->nlabels >= 64 || !(v->u >> c->nlabels))) {
			int first = 1;
			const binlog_charset_t *cs = sc->labels_cs ? sc->labels_cs : sc->cs;
			binlog_buf_putc(b, '"');
			for (uint32_t k = 0; k < c->nlabels && k < 64; k++) {
				if (!((v->u >> k) & 1))
					continue;
				if (!first)
					binlog_buf_putc(b, ',');
				first = 0;
				if (cs)
					w->invalid_text += binlog_charset_to_json(
						b, w->conv, cs, (const uint8_t *)c->labels[k].p,
						c->labels[k].len);
				else
					binlog_jw_utf8_body(b, (const uint8_t *)c->labels[k].p,
							    c->labels[k].len);
			}
			binlog_buf_putc(b, '"');
		} else {
			binlog_jw_u64(b, v->u);
		}
		break;
	case BINLOG_V_JSON: {
		size_t at = b->len;
		rc = binlog_json_render(b, v->s, v->n, err);
		if (rc != BINLOG_OK)
			return rc;
		if (wrote_null(b, at))
			*flags |= JSON_NULL;
		break;
	}
	case BINLOG_V_JSON_DIFF: {
		const cdc_json_before_t *jb =
			w->jb && c->json_index < w->jb_cap ? &w->jb[c->json_index] : NULL;
		size_t at = b->len;
		if (jb && jb->s) {
			rc = binlog_json_apply_diffs(b, jb->s, jb->n, v->s, v->n, err);
			if (rc == BINLOG_OK && wrote_null(b, at))
				*flags |= JSON_NULL;
		} else {
			rc = binlog_json_render_diffs(b, v->s, v->n, err);
			*flags |= JSON_DIFF;
		}
		if (rc != BINLOG_OK)
			return rc;
		break;
	}
	case BINLOG_V_GEOMETRY:
		if (v->n < 4)
			return binlog_err_set(err, BINLOG_E_BAD_VALUE,
					      "GEOMETRY of %zu bytes has no SRID", v->n);
		binlog_buf_lit(b, "{\"srid\":");
		binlog_jw_u64(b, binlog_le32(v->s));
		binlog_buf_lit(b, ",\"wkb\":");
		binlog_jw_base64(b, v->s + 4, v->n - 4);
		binlog_buf_putc(b, '}');
		break;
	case BINLOG_V_VECTOR:
		put_floats(b, v->s, v->n);
		break;
	default:
		return binlog_err_set(err, BINLOG_E_UNSUPPORTED, "value kind %u", v->kind);
	}
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Columns off the common path                                         */

static const char hex_digits[16] = "0123456789abcdef";

/* The value's bytes, padded with 0x00 to `len` as the column holds them
 * (a server may log BINARY(n) without its trailing zeros). NULL when the
 * value is longer than the type: not what the catalog said it is. */
static const uint8_t *fixed_bytes(const binlog_value_t *v, size_t len, uint8_t *tmp)
{
	if (v->n > len)
		return NULL;
	if (v->n == len)
		return v->s;
	memset(tmp, 0, len);
	if (v->n)
		memcpy(tmp, v->s, v->n);
	return tmp;
}

/* MariaDB UUID: the binlog holds the 16 bytes in the order of the text,
 * "11111111-2222-3333-4444-555555555555", lower case as SELECT prints. */
static void put_uuid(binlog_buf_t *b, const uint8_t *p)
{
	uint8_t *o = binlog_buf_space(b, 38);

	if (!o)
		return;
	*o++ = '"';
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = (uint8_t)hex_digits[p[i] >> 4];
		*o++ = (uint8_t)hex_digits[p[i] & 15];
	}
	*o = '"';
	binlog_buf_commit(b, 38);
}

/* "a.b.c.d" without quotes. */
static void put_quad(binlog_buf_t *b, const uint8_t *p)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			binlog_buf_putc(b, '.');
		binlog_jw_u64(b, p[i]);
	}
}

static void put_hex16(binlog_buf_t *b, unsigned w)
{
	int started = 0;

	for (int sh = 12; sh >= 0; sh -= 4) {
		unsigned d = (w >> sh) & 15;
		if (d || started || sh == 0) {
			binlog_buf_putc(b, (uint8_t)hex_digits[d]);
			started = 1;
		}
	}
}

/*
 * MariaDB INET6 as its SELECT prints it (checked against MariaDB 10.11 by
 * tests/test_live_catalog.c): lower-case hex groups without leading
 * zeros; the longest run of zero groups, the first of equal ones, becomes
 * "::" even when it is a single group (RFC 5952 would not shorten that
 * one; MariaDB does); an address whose first 80 bits are zero and next 16
 * are ffff (IPv4-mapped) or whose first 96 bits are zero followed by a
 * non-zero group (IPv4-compatible) ends in dotted-quad form:
 * "::ffff:8.8.8.8", "::1.2.3.4".
 */
static void put_inet6(binlog_buf_t *b, const uint8_t *p)
{
	unsigned w[8];
	int best = -1, best_len = 0, run = -1;

	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)p[2 * i] << 8 | p[2 * i + 1];
	for (int i = 0; i <= 8; i++) {
		if (i < 8 && w[i] == 0) {
			if (run < 0)
				run = i;
		} else if (run >= 0) {
			if (i - run > best_len) {
				best = run;
				best_len = i - run;
			}
			run = -1;
		}
	}
	binlog_buf_putc(b, '"');
	if (best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff))) {
		binlog_buf_lit(b, "::");
		if (best_len == 5)
			binlog_buf_lit(b, "ffff:");
		put_quad(b, p + 12);
	} else {
		for (int i = 0; i < 8; i++) {
			if (i == best) {
				binlog_buf_lit(b, "::");
				i += best_len - 1;
				continue;
			}
			if (i && i != best + best_len)
				binlog_buf_putc(b, ':');
			put_hex16(b, w[i]);
		}
	}
	binlog_buf_putc(b, '"');
}

#define JSON_DEPTH_MAX 512

static int json_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int json_hex4(const uint8_t *s, size_t n, size_t i, unsigned *out)
{
	unsigned v = 0;

	if (n - i < 4)
		return 0;
	for (size_t k = i; k < i + 4; k++) {
		uint8_t c = s[k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (unsigned)((c | 0x20) - 'a' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

/* A string at s[i] == '"': its end (past the closing quote), or 0. The
 * bytes are valid UTF-8 already; this checks the escapes, that no control
 * character is raw, and that \u escapes pair their surrogates. */
static size_t json_string(const uint8_t *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		uint8_t c;
		unsigned u, u2;

		i += binlog_json_plain_run(s + i, n - i);
		if (i >= n)
			return 0;
		c = s[i];
		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (++i >= n)
			return 0;
		switch (s[i]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			break;
		case 'u':
			if (!json_hex4(s, n, i + 1, &u))
				return 0;
			i += 4;
			if (u >= 0xdc00 && u <= 0xdfff)
				return 0;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (n - i < 7 || s[i + 1] != '\\' || s[i + 2] != 'u' ||
				    !json_hex4(s, n, i + 3, &u2) || u2 < 0xdc00 || u2 > 0xdfff)
					return 0;
				i += 6;
			}
			break;
		default:
			return 0;
		}
	}
	return 0;
}

static size_t json_digits(const uint8_t *s, size_t n, size_t i)
{
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* A number at s[i]: its end, or 0. */
static size_t json_number(const uint8_t *s, size_t n, size_t i)
{
	size_t j;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return 0;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		i = json_digits(s, n, i);
	else
		return 0;
	if (i < n && s[i] == '.') {
		j = json_digits(s, n, i + 1);
		if (j == i + 1)
			return 0;
		i = j;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		j = json_digits(s, n, i);
		if (j == i)
			return 0;
		i = j;
	}
	return i;
}

/* Appends to the copy, when there is one. */
static void out_put(binlog_buf_t *b, const uint8_t *p, size_t n)
{
	if (b)
		binlog_buf_put(b, p, n);
}

static void out_putc(binlog_buf_t *b, uint8_t c)
{
	if (b)
		binlog_buf_putc(b, c);
}

/*
 * Copy the JSON text s[0..n) to b without its insignificant whitespace,
 * checking it against RFC 8259 as it goes (strictly: one value, no
 * trailing commas, no comments, no NaN, valid UTF-8, paired surrogates,
 * at most JSON_DEPTH_MAX levels). Returns 1, or 0 when it is not JSON; b
 * then holds part of a copy, which the caller drops. Dropping whitespace
 * also keeps a record on one line whatever the document's layout. With b
 * NULL, only checks.
 *
 * With fn, each member of a top-level object is handed to fn as it is
 * passed (name without quotes, value as written), in the same pass: a
 * reader of records checks and takes them apart in one walk.
 */
static int json_walk(binlog_buf_t *b, const uint8_t *s, size_t n, cdc_json_member_fn fn, void *ctx)
{
	uint8_t stack[JSON_DEPTH_MAX];
	size_t depth = 0, i = 0, j, name_at = 0, name_len = 0, val_at = 0;
	enum { ST_VALUE, ST_AFTER, ST_ARRAY_FIRST, ST_OBJECT_FIRST, ST_KEY } st = ST_VALUE;

	/* fn sees members of an object at the top only */
#define MEMBER_DONE(end)                                                                           \
	do {                                                                                       \
		if (fn && depth == 1 && stack[0] == '{')                                           \
			fn(ctx, s + name_at, name_len, s + val_at, (end)-val_at);                  \
	} while (0)

	if (!binlog_utf8_valid(s, n))
		return 0;
	for (;;) {
		while (i < n && json_ws(s[i]))
			i++;
		if (st == ST_AFTER) {
			if (!depth)
				return i == n;
			if (i >= n)
				return 0;
			if (s[i] == ',') {
				out_putc(b, ',');
				i++;
				st = stack[depth - 1] == '{' ? ST_KEY : ST_VALUE;
			} else if (s[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
				out_putc(b, s[i]);
				i++;
				depth--;
				MEMBER_DONE(i);
			} else {
				return 0;
			}
			continue;
		}
		if (i >= n)
			return 0;
		if (st == ST_ARRAY_FIRST || st == ST_OBJECT_FIRST) {
			if (s[i] == (st == ST_OBJECT_FIRST ? '}' : ']')) {
				out_putc(b, s[i]);
				i++;
				depth--;
				MEMBER_DONE(i);
				st = ST_AFTER;
				continue;
			}
			st = st == ST_OBJECT_FIRST ? ST_KEY : ST_VALUE;
		}
		if (st == ST_KEY) {
			if (s[i] != '"' || !(j = json_string(s, n, i)))
				return 0;
			out_put(b, s + i, j - i);
			if (depth == 1) {
				name_at = i + 1;
				name_len = j - i - 2;
			}
			i = j;
			while (i < n && json_ws(s[i]))
				i++;
			if (i >= n || s[i] != ':')
				return 0;
			out_putc(b, ':');
			i++;
			st = ST_VALUE;
			continue;
		}
		/* ST_VALUE */
		val_at = depth == 1 ? i : val_at;
		switch (s[i]) {
		case '{':
		case '[':
			if (depth == JSON_DEPTH_MAX)
				return 0;
			stack[depth++] = s[i];
			out_putc(b, s[i]);
			st = s[i] == '{' ? ST_OBJECT_FIRST : ST_ARRAY_FIRST;
			i++;
			continue;
		case '"':
			j = json_string(s, n, i);
			break;
		case 't':
			j = n - i >= 4 && memcmp(s + i, "true", 4) == 0 ? i + 4 : 0;
			break;
		case 'f':
			j = n - i >= 5 && memcmp(s + i, "false", 5) == 0 ? i + 5 : 0;
			break;
		case 'n':
			j = n - i >= 4 && memcmp(s + i, "null", 4) == 0 ? i + 4 : 0;
			break;
		default:
			j = json_number(s, n, i);
			break;
		}
		if (!j)
			return 0;
		out_put(b, s + i, j - i);
		i = j;
		MEMBER_DONE(i);
		st = ST_AFTER;
	}
#undef MEMBER_DONE
}

static int json_minify(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	return json_walk(b, s, n, NULL, NULL);
}

int cdc_json_valid(const uint8_t *s, size_t n)
{
	return json_walk(NULL, s, n, NULL, NULL);
}

int cdc_json_members(const uint8_t *s, size_t n, cdc_json_member_fn fn, void *ctx)
{
	size_t i = 0;

	while (i < n && json_ws(s[i]))
		i++;
	if (i >= n || s[i] != '{')
		return 0;
	return json_walk(NULL, s, n, fn, ctx);
}

/* Widen a value read as signed to the unsigned type the catalog says the
 * column has (the binlog has no signedness metadata). */
static uint64_t as_unsigned(uint8_t type, int64_t i)
{
	switch (type) {
	case BINLOG_TYPE_TINY:
		return (uint8_t)i;
	case BINLOG_TYPE_SHORT:
		return (uint16_t)i;
	case BINLOG_TYPE_INT24:
		return (uint32_t)i & 0xffffff;
	case BINLOG_TYPE_LONG:
		return (uint32_t)i;
	default:
		return (uint64_t)i;
	}
}

/*
 * The value of a column with schema_column_t.special set (not left out:
 * the caller skips those), its key written: 1 when the value is written
 * (1 + JSON_NULL when it is the JSON document null), 0 when it is to be
 * written as any other column's (put_value): a NULL, or a value whose form
 * is not the one its MariaDB type has.
 */
static OUT_OF_LINE int put_special(cdc_writer_t *w, const binlog_table_t *bt,
				   const schema_column_t *sc, uint32_t ci, const binlog_value_t *v)
{
	binlog_buf_t *b = w->out;
	uint8_t tmp[16];
	const uint8_t *p;
	size_t start;

	if (v->kind == BINLOG_V_NULL)
		return 0;
	if (sc->special & SCHEMA_SP_MASK) {
		binlog_buf_lit(b, "\"****\"");
		return 1;
	}
	if ((sc->special & SCHEMA_SP_EXT) && v->kind == BINLOG_V_STRING) {
		switch (sc->ext) {
		case SCHEMA_EXT_UUID:
			if (!(p = fixed_bytes(v, 16, tmp)))
				return 0;
			put_uuid(b, p);
			return 1;
		case SCHEMA_EXT_INET4:
			if (!(p = fixed_bytes(v, 4, tmp)))
				return 0;
			binlog_buf_putc(b, '"');
			put_quad(b, p);
			binlog_buf_putc(b, '"');
			return 1;
		case SCHEMA_EXT_INET6:
			if (!(p = fixed_bytes(v, 16, tmp)))
				return 0;
			put_inet6(b, p);
			return 1;
		case SCHEMA_EXT_JSON:
			/* Embedded when it is JSON, else the text as a string
			 * (MariaDB's CHECK can be switched off). */
			start = b->len;
			if (json_minify(b, v->s, v->n))
				return wrote_null(b, start) ? 1 + JSON_NULL : 1;
			b->len = start;
			return 0;
		case SCHEMA_EXT_VECTOR:
			if (v->n % 4)
				return 0;
			put_floats(b, v->s, v->n);
			return 1;
		default:
			return 0;
		}
	}
	if ((sc->special & SCHEMA_SP_UNSIGNED) && v->kind == BINLOG_V_INT) {
		binlog_jw_u64(b, as_unsigned(bt->cols[ci].type, v->i));
		return 1;
	}
	return 0;
}

/* ,"seq":N with N counted up from the previous one when it follows it. */
static inline __attribute__((always_inline)) void put_seq(cdc_writer_t *w, binlog_buf_t *b,
							  uint64_t seq)
{
	char *t = w->seq_txt;
	int i;

	if (w->seq_len && seq == w->seq_prev + 1) {
		for (i = w->seq_len - 1; i >= 0 && t[i] == '9'; i--)
			t[i] = '0';
		if (i >= 0)
			t[i]++;
		else /* 99..9 + 1: one more digit */
			w->seq_len = (uint8_t)binlog_u64_to_dec(seq, t);
	} else {
		w->seq_len = (uint8_t)binlog_u64_to_dec(seq, t);
	}
	w->seq_prev = seq;
	binlog_buf_lit(b, ",\"seq\":");
	binlog_jw_put(b, t, w->seq_len);
}

/* ,"ts_ms":N,"file":"...","pos":N, rebuilt only when one of them moves. */
static inline __attribute__((always_inline)) void put_tail(cdc_writer_t *w, binlog_buf_t *b,
							   uint64_t pos)
{
	if (!w->tail_ok || w->tail_pos != pos) {
		if (!w->tail_ok) {
			binlog_buf_reset(&w->tail);
			binlog_buf_lit(&w->tail, ",\"ts_ms\":");
			binlog_jw_i64(&w->tail, w->ts_ms);
			binlog_buf_put(&w->tail, w->file.data, w->file.len);
			binlog_buf_lit(&w->tail, ",\"pos\":");
			w->tail_pos_at = w->tail.len;
		}
		w->tail.len = w->tail_pos_at;
		binlog_jw_u64(&w->tail, pos);
		w->tail_pos = pos;
		w->tail_ok = !w->tail.failed;
	}
	binlog_jw_put(b, w->tail.data, w->tail.len);
}

/*
 * Remember that column col (the nnull-th so far) holds the JSON document
 * null, which the record names in "json_null" so that its null is not read
 * as SQL NULL. 0 when out of memory (the record then fails as too large).
 */
static OUT_OF_LINE int note_json_null(cdc_writer_t *w, const binlog_table_t *bt, uint32_t nnull,
				      uint32_t col)
{
	if (w->jnull_cap < bt->ncols) {
		uint32_t *p = realloc(w->jnull, bt->ncols * sizeof(*p));
		if (!p) {
			w->out->failed = 1;
			return 0;
		}
		w->jnull = p;
		w->jnull_cap = bt->ncols;
	}
	w->jnull[nnull] = col;
	return 1;
}

/* ,"field":["name",...] for the columns cols[0..n). */
static void put_names(binlog_buf_t *b, const schema_table_t *st, const char *field,
		      const uint32_t *cols, uint32_t n)
{
	binlog_buf_put(b, field, strlen(field));
	for (uint32_t k = 0; k < n; k++) {
		if (k)
			binlog_buf_putc(b, ',');
		/* the key without its ':' */
		binlog_buf_put(b, st->cols[cols[k]].key, st->cols[cols[k]].key_len - 1);
	}
	binlog_buf_putc(b, ']');
}

/*
 * One row image as a record (cdc_writer_image). Inlined twice with
 * `special` a constant: 0 in cdc_writer_image, for tables whose columns
 * are all common, so that the hot loop is as it would be without column
 * rules or catalog types: no per-column test, nothing of its state in
 * memory; 1 in write_image_special, for tables with a column left out,
 * masked or rendered from the catalog.
 */
static inline __attribute__((always_inline)) binlog_errcode_t
write_image(cdc_writer_t *w, binlog_buf_t *out, const schema_table_t *st, binlog_image_t *img,
	    const char *op, uint64_t seq, uint64_t pos, binlog_err_t *err, const int special)
{
	binlog_buf_t *b;
	size_t start;
	const binlog_table_t *bt = img->table;
	int stash =
		img->rows->kind == BINLOG_ROWS_PARTIAL_UPDATE && img->which == BINLOG_IMAGE_BEFORE;
	uint32_t col, ndiff = 0, nnull = 0;
	binlog_value_t v;
	uint8_t sep = '{';
	int r;

	if (stash) {
		if (w->jb_cap < bt->njson) {
			cdc_json_before_t *p = realloc(w->jb, bt->njson * sizeof(*p));
			if (!p)
				return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			w->jb = p;
			w->jb_cap = bt->njson;
		}
		for (uint32_t k = 0; k < w->jb_cap; k++)
			w->jb[k].s = NULL;
	}
	if (img->partial && w->diffs_cap < bt->njson) {
		uint32_t *p = realloc(w->diffs, bt->njson * sizeof(*p));
		if (!p)
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		w->diffs = p;
		w->diffs_cap = bt->njson;
	}
	if (!out) {
		out = &w->rec;
		binlog_buf_reset(out);
	}
	w->out = b = out;
	start = b->len;
	/* The object's '{' goes out with the first key, as the separator the
	 * later ones get a ',' for: one small write per column. */
	binlog_buf_lit(b, "{\"data\":");
	while ((r = binlog_image_next(img, &col, &v, err)) > 0) {
		const schema_column_t *sc = &st->cols[col];
		int flags = 0, sp;
		binlog_errcode_t rc;
		uint8_t *o;

		/* Left out: its value was read (the image is walked in
		 * order), nothing is written. */
		if (special && (sc->special & SCHEMA_SP_EXCLUDE))
			continue;
		if (sc->key_len <= 16 && (o = binlog_buf_space(b, sc->key_len + 1))) {
			o[0] = sep;
			binlog_jw_copy16(o + 1, (const uint8_t *)sc->key, sc->key_len);
			binlog_buf_commit(b, sc->key_len + 1);
		} else {
			binlog_buf_putc(b, sep);
			binlog_buf_put(b, sc->key, sc->key_len);
		}
		sep = ',';
		if (special && sc->special && (sp = put_special(w, bt, sc, col, &v))) {
			flags = sp - 1;
			rc = BINLOG_OK;
		} else {
			rc = put_value(w, bt, sc, col, &v, &flags, err);
		}
		if (rc != BINLOG_OK) {
			char m[BINLOG_ERR_MSG_MAX];
			snprintf(m, sizeof(m), "%s", err ? err->msg : "");
			b->len = start;
			b->failed = 0;
			return binlog__err_where(err, img->rows->where, rc,
						 "table %s, column %u (%.*s), %s image at %llu: %s",
						 st->qualified, col + 1, (int)sc->key_len - 1,
						 sc->key, img->which ? "after" : "before",
						 (unsigned long long)img->pos, m);
		}
		if (stash && v.kind == BINLOG_V_JSON && bt->cols[col].json_index < w->jb_cap) {
			w->jb[bt->cols[col].json_index].s = v.s;
			w->jb[bt->cols[col].json_index].n = v.n;
		}
		if (__builtin_expect(flags != 0, 0)) {
			if ((flags & JSON_DIFF) && ndiff < w->diffs_cap)
				w->diffs[ndiff++] = col;
			if ((flags & JSON_NULL) && note_json_null(w, bt, nnull, col))
				nnull++;
		}
	}
	if (r < 0) {
		b->len = start;
		b->failed = 0;
		return err ? err->code : BINLOG_E_BAD_VALUE;
	}
	if (sep == '{')
		binlog_buf_putc(b, '{'); /* no column in the image */
	binlog_buf_lit(b, "},\"op\":\"");
	binlog_buf_put(b, op, 2);
	binlog_buf_putc(b, '"');
	binlog_jw_put(b, st->ident, st->ident_len);
	binlog_jw_put(b, w->txn, w->txn_len);
	put_seq(w, b, seq);
	put_tail(w, b, pos);
	if (ndiff)
		put_names(b, st, ",\"json_diff\":[", w->diffs, ndiff);
	if (nnull)
		put_names(b, st, ",\"json_null\":[", w->jnull, nnull);
	binlog_buf_putc(b, '}');
	if (b->failed) {
		b->len = start;
		b->failed = 0;
		return binlog__err_where(
			err, img->rows->where, BINLOG_E_LIMIT,
			"table %s: record larger than the %zu-byte limit, or out of memory",
			st->qualified, b->max);
	}
	return BINLOG_OK;
}

static OUT_OF_LINE binlog_errcode_t write_image_special(cdc_writer_t *w, binlog_buf_t *out,
							const schema_table_t *st,
							binlog_image_t *img, const char *op,
							uint64_t seq, uint64_t pos,
							binlog_err_t *err)
{
	return write_image(w, out, st, img, op, seq, pos, err, 1);
}

binlog_errcode_t cdc_writer_image(cdc_writer_t *w, binlog_buf_t *out, const schema_table_t *st,
				  binlog_image_t *img, const char *op, uint64_t seq, uint64_t pos,
				  binlog_err_t *err)
{
	if (__builtin_expect(st->special != 0, 0))
		return write_image_special(w, out, st, img, op, seq, pos, err);
	return write_image(w, out, st, img, op, seq, pos, err, 0);
}

/* ------------------------------------------------------------------ */
/* Snapshot rows                                                       */

/* put_value, called: the snapshot writer is not worth a third inlined
 * copy of it. */
static OUT_OF_LINE binlog_errcode_t put_value_call(cdc_writer_t *w, const binlog_table_t *bt,
						   const schema_column_t *sc, uint32_t ci,
						   const binlog_value_t *v, int *flags,
						   binlog_err_t *err)
{
	return put_value(w, bt, sc, ci, v, flags, err);
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/*
 * A DECIMAL as the server prints it ("-001.50", ZEROFILL's leading zeros
 * included) written as binlog_decimal_format writes the binary one: '-'
 * unless the value is zero, the integer digits from the first non-zero one
 * ("0" when none), the decimals as they are. 0, or -1 when s is not such
 * text (nothing is written then).
 */
static int put_decimal_text(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	size_t i = 0, ib, ie, fb = 0, fe = 0;
	int neg = 0, nonzero = 0;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (ib = i; i < n && is_digit(s[i]); i++)
		nonzero |= s[i] != '0';
	ie = i;
	if (i < n && s[i] == '.') {
		for (fb = ++i; i < n && is_digit(s[i]); i++)
			nonzero |= s[i] != '0';
		fe = i;
		if (fe == fb)
			return -1;
	}
	if (i != n || ie == ib)
		return -1;
	while (ib + 1 < ie && s[ib] == '0')
		ib++;
	binlog_buf_putc(b, '"');
	if (neg && nonzero)
		binlog_buf_putc(b, '-');
	binlog_buf_put(b, s + ib, ie - ib);
	if (fe > fb) {
		binlog_buf_putc(b, '.');
		binlog_buf_put(b, s + fb, fe - fb);
	}
	binlog_buf_putc(b, '"');
	return 0;
}

/* A value of one of the snapshot kinds (cdc_record.h, CDC_V_*). */
static binlog_errcode_t put_text_value(cdc_writer_t *w, const schema_column_t *sc,
				       const binlog_value_t *v, int *flags, binlog_err_t *err)
{
	binlog_buf_t *b = w->out;
	size_t start = b->len;

	switch (v->kind) {
	case CDC_V_DECIMAL_TEXT:
		if (put_decimal_text(b, v->s, v->n))
			return binlog_err_set(err, BINLOG_E_BAD_VALUE, "DECIMAL text '%.*s'",
					      (int)(v->n < 80 ? v->n : 80), (const char *)v->s);
		return BINLOG_OK;
	case CDC_V_LABEL_TEXT:
		/* As put_label writes each label: the SET's ',' is the same
		 * character in every charset the server has. */
		put_text(w, sc->labels_cs ? sc->labels_cs : sc->cs, v->s, v->n);
		return BINLOG_OK;
	case CDC_V_JSON_TEXT:
		if (json_minify(b, v->s, v->n)) {
			if (wrote_null(b, start))
				*flags |= JSON_NULL;
			return BINLOG_OK;
		}
		b->len = start;
		put_text(w, NULL, v->s, v->n);
		return BINLOG_OK;
	default:
		return binlog_err_set(err, BINLOG_E_UNSUPPORTED, "value kind %u", v->kind);
	}
}

binlog_errcode_t cdc_writer_values(cdc_writer_t *w, binlog_buf_t *out, const schema_table_t *st,
				   const binlog_value_t *vals, uint64_t seq, uint64_t pos,
				   size_t *seq_at, binlog_err_t *err)
{
	const binlog_table_t *bt = st->bt;
	binlog_buf_t *b;
	size_t start;
	uint32_t nnull = 0;
	uint8_t sep = '{';

	if (!out) {
		out = &w->rec;
		binlog_buf_reset(out);
	}
	w->out = b = out;
	start = b->len;
	binlog_buf_lit(b, "{\"data\":");
	for (uint32_t i = 0; i < st->ncols; i++) {
		const schema_column_t *sc = &st->cols[i];
		const binlog_value_t *v = &vals[i];
		binlog_errcode_t rc;
		int flags = 0, sp;

		if ((sc->special & SCHEMA_SP_EXCLUDE) || v->kind == CDC_V_ABSENT)
			continue;
		binlog_buf_putc(b, sep);
		binlog_buf_put(b, sc->key, sc->key_len);
		sep = ',';
		if (sc->special && (sp = put_special(w, bt, sc, i, v))) {
			flags = sp - 1;
			rc = BINLOG_OK;
		} else if (v->kind >= CDC_V_DECIMAL_TEXT) {
			rc = put_text_value(w, sc, v, &flags, err);
		} else {
			rc = put_value_call(w, bt, sc, i, v, &flags, err);
		}
		if (rc != BINLOG_OK) {
			char m[BINLOG_ERR_MSG_MAX];
			snprintf(m, sizeof(m), "%s", err ? err->msg : "");
			b->len = start;
			b->failed = 0;
			return binlog_err_set(
				err, rc, "table %s, column %u (%.*s), snapshot row: %s",
				st->qualified, i + 1, (int)sc->key_len - 1, sc->key, m);
		}
		if ((flags & JSON_NULL) && note_json_null(w, bt, nnull, i))
			nnull++;
	}
	if (sep == '{')
		binlog_buf_putc(b, '{');
	/* No "gtid": a snapshot reads no transaction. */
	binlog_buf_lit(b, "},\"op\":\"+I\"");
	binlog_jw_put(b, st->ident, st->ident_len);
	if (seq_at)
		*seq_at = b->len + sizeof(",\"seq\":") - 1;
	put_seq(w, b, seq);
	put_tail(w, b, pos);
	if (nnull)
		put_names(b, st, ",\"json_null\":[", w->jnull, nnull);
	binlog_buf_lit(b, ",\"snapshot\":true}");
	if (b->failed) {
		b->len = start;
		b->failed = 0;
		return binlog_err_set(err, BINLOG_E_LIMIT,
				      "table %s: record larger than the %zu-byte limit, or out of "
				      "memory",
				      st->qualified, b->max);
	}
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Record keys                                                         */

/* The end of the JSON value at s[i] (the writer's own output: valid). */
static size_t value_end(const uint8_t *s, size_t n, size_t i)
{
	int depth = 0;

	do {
		if (i >= n)
			return n;
		switch (s[i]) {
		case '"':
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
			break;
		case '{':
		case '[':
			depth++;
			i++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return i;
			depth--;
			i++;
			break;
		case ',':
			if (depth == 0)
				return i;
			i++;
			break;
		default:
			i++;
		}
	} while (depth > 0 || (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']'));
	return i;
}

void cdc_keyer_init(cdc_keyer_t *k)
{
	memset(k, 0, sizeof(*k));
	binlog_buf_init(&k->key, 0);
}

void cdc_keyer_free(cdc_keyer_t *k)
{
	binlog_buf_free(&k->key);
	memset(k, 0, sizeof(*k));
}

binlog_errcode_t cdc_keyer_build(cdc_keyer_t *k, const schema_table_t *st, const uint8_t *rec,
				 size_t n, binlog_err_t *err)
{
	static const char data[] = "{\"data\":{";
	uint32_t at[CDC_KEY_MAX_COLS], len[CDC_KEY_MAX_COLS];
	uint32_t npk = st->npk < CDC_KEY_MAX_COLS ? st->npk : CDC_KEY_MAX_COLS;
	uint32_t found = 0;
	size_t i = sizeof(data) - 1;
	binlog_buf_t *b = &k->key;

	for (uint32_t c = 0; c < npk; c++)
		len[c] = UINT32_MAX;
	if (n < i || memcmp(rec, data, i) != 0)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE, "table %s: not a record",
				      st->qualified);
	/* Walk the members of "data", picking the key's columns. */
	while (found < npk && i < n && rec[i] != '}') {
		size_t v, e;
		uint32_t c;
		for (c = 0; c < npk; c++) {
			const schema_column_t *sc = &st->cols[st->pk[c]];
			if (len[c] == UINT32_MAX && n - i >= sc->key_len &&
			    memcmp(rec + i, sc->key, sc->key_len) == 0)
				break;
		}
		if (c < npk) {
			v = i + st->cols[st->pk[c]].key_len;
		} else {
			/* past the name and its ':' */
			for (v = i + 1; v < n && rec[v] != '"'; v++)
				if (rec[v] == '\\')
					v++;
			v += 2;
		}
		e = value_end(rec, n, v);
		if (c < npk) {
			at[c] = (uint32_t)v;
			len[c] = (uint32_t)(e - v);
			found++;
		}
		i = e < n && rec[e] == ',' ? e + 1 : e;
	}
	/*
	 * A MINIMAL after image holds only the columns the statement set: a
	 * key column it lacks kept its value, the one the before image (the
	 * record just keyed, of the same table) had.
	 */
	if (found < npk) {
		if (k->table != st || k->nvals != npk)
			for (uint32_t c = 0; c < npk; c++)
				if (len[c] == UINT32_MAX)
					return binlog_err_set(err, BINLOG_E_BAD_VALUE,
							      "table %s: the image lacks key "
							      "column %u and no earlier image "
							      "gives it",
							      st->qualified, st->pk[c] + 1);
	}
	/* Keep the previous key's values until the new key is built. */
	{
		size_t old_len = b->len;
		size_t start = old_len;
		uint32_t vat[CDC_KEY_MAX_COLS], vlen[CDC_KEY_MAX_COLS];

		/* Room for the whole new key first: a value taken from the old
		 * one is copied from this buffer, which must not move. Names
		 * escape to at most 6 bytes a byte. */
		if (!binlog_buf_space(b, 8 + 6 * ((size_t)st->bt->db.len + st->bt->name.len) + n +
						 old_len + npk)) {
			b->failed = 0;
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
		binlog_buf_lit(b, "[");
		binlog_jw_utf8(b, (const uint8_t *)st->bt->db.p, st->bt->db.len);
		binlog_buf_putc(b, ',');
		binlog_jw_utf8(b, (const uint8_t *)st->bt->name.p, st->bt->name.len);
		for (uint32_t c = 0; c < npk; c++) {
			binlog_buf_putc(b, ',');
			vat[c] = (uint32_t)(b->len - start);
			if (len[c] != UINT32_MAX) {
				binlog_buf_put(b, rec + at[c], len[c]);
				vlen[c] = len[c];
			} else {
				binlog_buf_put(b, b->data + k->val_at[c], k->val_len[c]);
				vlen[c] = k->val_len[c];
			}
		}
		binlog_buf_putc(b, ']');
		if (b->failed) {
			b->len = old_len;
			b->failed = 0;
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
		/* Move the new key to the front. */
		memmove(b->data, b->data + start, b->len - start);
		b->len -= start;
		for (uint32_t c = 0; c < npk; c++) {
			k->val_at[c] = vat[c];
			k->val_len[c] = vlen[c];
		}
	}
	k->table = st;
	k->nvals = npk;
	return BINLOG_OK;
}
