/*
 * binlog_rows.c: walking the row images of WRITE/UPDATE/DELETE_ROWS events.
 *
 * Rows event body (after the post-header, which binlog_event.c reads):
 *
 *   column_count            packed integer (the table's column count)
 *   columns_present         (count + 7) / 8 bytes: before image (UPDATE,
 *                           DELETE) then after image (WRITE, UPDATE)
 *   rows, until the end:    for each row change, its images in that order
 *
 * One image:
 *   [PARTIAL_UPDATE after image only: value_options packed integer; when
 *    bit 0 (PARTIAL_JSON_UPDATES) is set, one bit per JSON column of the
 *    table, LSB first: that column holds a JSON diff, not a document]
 *   null_bitmap             one bit per *present* column, LSB first
 *   values                  present, non-NULL columns in table order
 *
 * A column absent from the image (binlog_row_image MINIMAL or NOBLOB) is
 * skipped here and never reported: absent is not NULL.
 */
#include "binlog_int.h"

#include <stdarg.h>
#include <stdio.h>

binlog_errcode_t binlog__err_where(binlog_err_t *err, const binlog_where_t *w,
				   binlog_errcode_t code, const char *fmt, ...)
{
	char msg[BINLOG_ERR_MSG_MAX];
	const char *tn = binlog_event_type_name(w->type);
	va_list ap;

	if (!err)
		return code;
	msg[0] = 0;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	} else {
		snprintf(msg, sizeof(msg), "%s", binlog_strerror(code));
	}
	if (w->inner)
		binlog_err_set(err, code,
			       "%s: at %llu, TRANSACTION_PAYLOAD event %u at +%u, %s (type %u): %s",
			       w->source, (unsigned long long)w->offset, w->inner, w->inner_offset,
			       tn ? tn : "unknown event", w->type, msg);
	else
		binlog_err_set(err, code, "%s: at %llu, %s (type %u): %s", w->source,
			       (unsigned long long)w->offset, tn ? tn : "unknown event", w->type,
			       msg);
	return code;
}

binlog_errcode_t binlog_rows_image(binlog_rows_t *rows, int which, binlog_image_t *img,
				   binlog_err_t *err)
{
	const uint8_t *nulls;
	uint32_t np;

	img->rows = rows;
	img->table = rows->table;
	img->which = (uint8_t)which;
	img->present = rows->present[which];
	img->partial = NULL;
	img->col = 0;
	img->k = 0;
	if (!img->present)
		return binlog__err_where(err, rows->where, BINLOG_E_USAGE,
					 "this rows event has no %s image",
					 which ? "after" : "before");
	img->cur = rows->data;
	img->pos = rows->data_pos + (uint64_t)(rows->data.p - rows->data_start);
	if (rows->kind == BINLOG_ROWS_PARTIAL_UPDATE && which == BINLOG_IMAGE_AFTER) {
		uint64_t opts;
		if (!binlog_cur_packed(&img->cur, &opts))
			goto short_;
		if (opts & 1) {
			if (!binlog_cur_bytes(&img->cur, (rows->table->njson + 7) / 8,
					      &img->partial))
				goto short_;
		}
	}
	np = rows->npresent[which];
	if (!binlog_cur_bytes(&img->cur, (np + 7) / 8, &nulls))
		goto short_;
	img->nulls = nulls;
	return BINLOG_OK;
short_:
	return binlog__err_where(
		err, rows->where, BINLOG_E_TRUNCATED,
		"table %.*s.%.*s: %s image header needs more than the %zu bytes left",
		(int)rows->table->db.len, rows->table->db.p, (int)rows->table->name.len,
		rows->table->name.p, which ? "after" : "before", binlog_cur_left(&rows->data));
}

/* The error of a value that did not read, with its table, column and
 * image. Out of line (and cold) so that binlog_image_next, which runs
 * once per column, carries no buffer or spill for it. */
int binlog__image_error(const binlog_image_t *img, uint32_t i, binlog_errcode_t rc,
			binlog_err_t *err)
{
	const binlog_column_t *c = &img->table->cols[i];
	char detail[BINLOG_ERR_MSG_MAX];
	const char *tn = binlog_column_type_name(c->wire_type);

	snprintf(detail, sizeof(detail), "%s", err ? err->msg : "");
	binlog__err_where(err, img->rows->where, rc,
			  "table %.*s.%.*s, column %u%s%.*s%s (%s), %s image at %llu: %s",
			  (int)img->table->db.len, img->table->db.p, (int)img->table->name.len,
			  img->table->name.p, i + 1, c->name.len ? " `" : "", (int)c->name.len,
			  c->name.len ? c->name.p : "", c->name.len ? "`" : "", tn ? tn : "?",
			  img->which ? "after" : "before", (unsigned long long)img->pos, detail);
	return -1;
}

binlog_errcode_t binlog_image_skip(binlog_image_t *img, binlog_err_t *err)
{
	uint32_t col;
	binlog_value_t v;
	int r;

	while ((r = binlog_image_next(img, &col, &v, err)) > 0)
		;
	return r < 0 ? (err ? err->code : BINLOG_E_BAD_VALUE) : BINLOG_OK;
}
