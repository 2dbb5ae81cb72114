/*
 * cdc_record.c: formatting row images as changelog-json.
 *
 * How each column type is written is the public contract in
 * docs/CHANGELOG_JSON.md; keep the two in step.
 */
#include "cdc_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_decimal.h"
#include "binlog_json.h"
#include "binlog_jsonw.h"

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

static void put_label(cdc_writer_t *w, const schema_column_t *sc, const binlog_str_t *l)
{
	const binlog_charset_t *cs = sc->labels_cs ? sc->labels_cs : sc->cs;
	put_text(w, cs, (const uint8_t *)l->p, l->len);
}

static binlog_errcode_t put_value(cdc_writer_t *w, const binlog_table_t *bt,
				  const schema_column_t *sc, uint32_t ci, const binlog_value_t *v,
				  int *diff, binlog_err_t *err)
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
	case BINLOG_V_JSON:
		rc = binlog_json_render(b, v->s, v->n, err);
		if (rc != BINLOG_OK)
			return rc;
		break;
	case BINLOG_V_JSON_DIFF: {
		const cdc_json_before_t *jb =
			w->jb && c->json_index < w->jb_cap ? &w->jb[c->json_index] : NULL;
		if (jb && jb->s)
			rc = binlog_json_apply_diffs(b, jb->s, jb->n, v->s, v->n, err);
		else {
			rc = binlog_json_render_diffs(b, v->s, v->n, err);
			*diff = 1;
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
		binlog_buf_putc(b, '[');
		for (size_t k = 0; k + 4 <= v->n; k += 4) {
			uint32_t u = binlog_le32(v->s + k);
			float f;
			memcpy(&f, &u, 4);
			if (k)
				binlog_buf_putc(b, ',');
			binlog_jw_double(b, f, 1);
		}
		binlog_buf_putc(b, ']');
		break;
	default:
		return binlog_err_set(err, BINLOG_E_UNSUPPORTED, "value kind %u", v->kind);
	}
	return BINLOG_OK;
}

/* ,"seq":N with N counted up from the previous one when it follows it. */
static void put_seq(cdc_writer_t *w, binlog_buf_t *b, uint64_t seq)
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
static void put_tail(cdc_writer_t *w, binlog_buf_t *b, uint64_t pos)
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

binlog_errcode_t cdc_writer_image(cdc_writer_t *w, binlog_buf_t *out, const schema_table_t *st,
				  binlog_image_t *img, const char *op, uint64_t seq, uint64_t pos,
				  binlog_err_t *err)
{
	binlog_buf_t *b;
	size_t start;
	const binlog_table_t *bt = img->table;
	int stash =
		img->rows->kind == BINLOG_ROWS_PARTIAL_UPDATE && img->which == BINLOG_IMAGE_BEFORE;
	uint32_t col, ndiff = 0;
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
		int diff = 0;
		binlog_errcode_t rc;
		uint8_t *o;

		if (sc->key_len <= 16 && (o = binlog_buf_space(b, sc->key_len + 1))) {
			o[0] = sep;
			binlog_jw_copy16(o + 1, (const uint8_t *)sc->key, sc->key_len);
			binlog_buf_commit(b, sc->key_len + 1);
		} else {
			binlog_buf_putc(b, sep);
			binlog_buf_put(b, sc->key, sc->key_len);
		}
		sep = ',';
		rc = put_value(w, bt, sc, col, &v, &diff, err);
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
		if (diff && ndiff < w->diffs_cap)
			w->diffs[ndiff++] = col;
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
	if (ndiff) {
		binlog_buf_lit(b, ",\"json_diff\":[");
		for (uint32_t k = 0; k < ndiff; k++) {
			if (k)
				binlog_buf_putc(b, ',');
			/* the key without its ':' */
			binlog_buf_put(b, st->cols[w->diffs[k]].key,
				       st->cols[w->diffs[k]].key_len - 1);
		}
		binlog_buf_putc(b, ']');
	}
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
