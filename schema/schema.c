/*
 * schema.c: building a schema_table_t from a TABLE_MAP.
 *
 * Column keys are written once here with their JSON escaping, so the hot
 * path copies a prepared key per value. Without COLUMN_NAME metadata the
 * keys are positional, 1-based as mariadb-binlog prints them ("@1"), and
 * the record says so.
 */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_jsonw.h"

struct schema_priv {
	schema_table_t t;
	binlog_buf_t text; /* every string of the table, back to back */
};

static void schema_free(void *p)
{
	struct schema_priv *sp = p;

	if (!sp)
		return;
	binlog_buf_free(&sp->text);
	free(sp->t.cols);
	free(sp);
}

static void put_name(binlog_buf_t *b, const binlog_table_t *bt, uint32_t i)
{
	const binlog_column_t *c = &bt->cols[i];

	if (c->name.len) {
		binlog_jw_utf8(b, (const uint8_t *)c->name.p, c->name.len);
	} else {
		char num[16];
		int n = snprintf(num, sizeof(num), "\"@%u\"", i + 1);
		binlog_buf_put(b, num, (size_t)n);
	}
}

schema_table_t *schema_table_get(binlog_table_t *bt)
{
	struct schema_priv *sp;
	schema_table_t *t;
	size_t *key_off, ident_off, qual_off;

	if (bt->user)
		return bt->user;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	t = &sp->t;
	t->bt = bt;
	t->ncols = bt->ncols;
	t->cols = calloc(bt->ncols, sizeof(*t->cols));
	key_off = calloc(bt->ncols, sizeof(*key_off));
	if (!t->cols || !key_off)
		goto fail;
	binlog_buf_init(&sp->text, 0);
	t->positional = !(bt->has & BINLOG_HAS_NAMES);
	t->captured = -1;

	for (uint32_t i = 0; i < bt->ncols; i++) {
		const binlog_column_t *c = &bt->cols[i];
		schema_column_t *sc = &t->cols[i];

		key_off[i] = sp->text.len;
		put_name(&sp->text, bt, i);
		binlog_buf_putc(&sp->text, ':');
		sc->key_len = (uint32_t)(sp->text.len - key_off[i]);
		if (c->collation) {
			sc->cs = binlog_charset_of_collation(c->collation);
			sc->binary = sc->cs && sc->cs->kind == BINLOG_CS_BINARY;
		} else if (c->type == BINLOG_TYPE_VECTOR) {
			sc->binary = 1;
		}
		if (c->labels_collation)
			sc->labels_cs = binlog_charset_of_collation(c->labels_collation);
		/* MySQL strips the 0x00 padding of BINARY(n) when it logs a
		 * value; SELECT returns it padded. */
		sc->pad_binary = sc->binary && c->type == BINLOG_TYPE_STRING;
	}

	ident_off = sp->text.len;
	binlog_buf_lit(&sp->text, ",\"db\":");
	binlog_jw_utf8(&sp->text, (const uint8_t *)bt->db.p, bt->db.len);
	binlog_buf_lit(&sp->text, ",\"table\":");
	binlog_jw_utf8(&sp->text, (const uint8_t *)bt->name.p, bt->name.len);
	if (bt->npk) {
		binlog_buf_lit(&sp->text, ",\"pk\":[");
		for (uint32_t k = 0; k < bt->npk; k++) {
			if (k)
				binlog_buf_putc(&sp->text, ',');
			put_name(&sp->text, bt, bt->pk[k]);
		}
		binlog_buf_putc(&sp->text, ']');
	}
	if (t->positional)
		binlog_buf_lit(&sp->text, ",\"positional_names\":true");
	t->ident_len = (uint32_t)(sp->text.len - ident_off);
	qual_off = sp->text.len;
	binlog_buf_put(&sp->text, bt->db.p, bt->db.len);
	binlog_buf_putc(&sp->text, '.');
	binlog_buf_put(&sp->text, bt->name.p, bt->name.len);
	binlog_buf_putc(&sp->text, 0);
	if (sp->text.failed)
		goto fail;

	/* The buffer no longer moves: resolve offsets into pointers. */
	for (uint32_t i = 0; i < bt->ncols; i++)
		t->cols[i].key = (const char *)sp->text.data + key_off[i];
	t->ident = (const char *)sp->text.data + ident_off;
	t->qualified = (const char *)sp->text.data + qual_off;
	free(key_off);
	bt->user = sp;
	bt->user_free = schema_free;
	return t;
fail:
	free(key_off);
	schema_free(sp);
	return NULL;
}
