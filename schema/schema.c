/*
 * schema.c: building a schema_table_t from a TABLE_MAP, with what the
 * catalog and the column filter add (the rules are in schema.h).
 *
 * Column keys are written once here with their JSON escaping, so the hot
 * path copies a prepared key per value. Without names (from the binlog or
 * the catalog) the keys are positional, 1-based as mariadb-binlog prints
 * them ("@1"), and the record says so. Whatever makes a column leave the
 * record writer's common path (left out, masked, a MariaDB type rendered
 * as text, signedness known only from the catalog) is folded into one
 * byte, schema_column_t.special, which the writer tests once per value.
 *
 * Memory: a schema table is one allocation for the struct, one for the
 * columns and one buffer for every string; the binlog table owns it
 * (user/user_free).
 */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_jsonw.h"
#include "cdc_config.h"
#include "cdc_filter.h"
#include "schema_catalog.h"

struct schema_priv {
	schema_table_t t;
	binlog_buf_t text; /* every string of the table, back to back */
	uint32_t *pk;      /* the key's columns, owned (the catalog's may go) */
};

static void schema_free(void *p)
{
	struct schema_priv *sp = p;

	if (!sp)
		return;
	binlog_buf_free(&sp->text);
	free(sp->t.cols);
	free(sp->pk);
	free(sp);
}

/* A column's name: the binlog's, else the catalog's, else "@N". */
static void put_name(binlog_buf_t *b, const binlog_table_t *bt, const schema_catalog_table_t *ct,
		     uint32_t i)
{
	const binlog_column_t *c = &bt->cols[i];

	if (c->name.len) {
		binlog_jw_utf8(b, (const uint8_t *)c->name.p, c->name.len);
	} else if (ct) {
		const char *n = ct->cols[i].name;
		binlog_jw_utf8(b, (const uint8_t *)n, strlen(n));
	} else {
		char num[16];
		int n = snprintf(num, sizeof(num), "\"@%u\"", i + 1);
		binlog_buf_put(b, num, (size_t)n);
	}
}

static int is_integer(uint8_t type)
{
	return type == BINLOG_TYPE_TINY || type == BINLOG_TYPE_SHORT || type == BINLOG_TYPE_INT24 ||
	       type == BINLOG_TYPE_LONG || type == BINLOG_TYPE_LONGLONG;
}

static int is_blob(uint8_t type)
{
	return type == BINLOG_TYPE_BLOB || type == BINLOG_TYPE_TINY_BLOB ||
	       type == BINLOG_TYPE_MEDIUM_BLOB || type == BINLOG_TYPE_LONG_BLOB ||
	       type == BINLOG_TYPE_BLOB_COMPRESSED;
}

static int is_varchar(uint8_t type)
{
	return type == BINLOG_TYPE_VARCHAR || type == BINLOG_TYPE_VAR_STRING ||
	       type == BINLOG_TYPE_VARCHAR_COMPRESSED;
}

static int is_character(uint8_t type)
{
	return type == BINLOG_TYPE_STRING || is_varchar(type) || is_blob(type);
}

/* 1 when the binlog calls the column binary, or does not say. */
static int maybe_binary(const binlog_column_t *c)
{
	return c->collation == 0 || c->collation == 63;
}

/* A column the binlog logs as plain bytes or text that could be one of
 * MariaDB's own types: UUID and INET6 are BINARY(16) on the wire, INET4
 * BINARY(4), JSON a LONGTEXT, VECTOR a VARBINARY. */
static int maybe_ext(const binlog_column_t *c)
{
	if (c->type == BINLOG_TYPE_STRING)
		return maybe_binary(c) && (c->length == 16 || c->length == 4);
	if (is_blob(c->type))
		return c->meta == 4 || c->type == BINLOG_TYPE_BLOB_COMPRESSED;
	if (is_varchar(c->type))
		return maybe_binary(c);
	return 0;
}

/* Mode auto: is there anything the catalog could add? */
static int catalog_wanted(const binlog_table_t *bt)
{
	if (!(bt->has & BINLOG_HAS_NAMES))
		return 1;
	for (uint32_t i = 0; i < bt->ncols; i++) {
		const binlog_column_t *c = &bt->cols[i];
		if (!(bt->has & BINLOG_HAS_SIGNEDNESS) && is_integer(c->type))
			return 1;
		if (!(bt->has & BINLOG_HAS_CHARSETS) && is_character(c->type))
			return 1;
		if (maybe_ext(c))
			return 1;
	}
	return 0;
}

/* Can a column the catalog calls `dt` be logged as c? Types the catalog
 * names that are not listed (a newer server's) are given the benefit of
 * the doubt. */
static int type_fits(const binlog_column_t *c, const char *dt)
{
	static const struct {
		const char *dt;
		uint8_t type;
		uint8_t blob_meta; /* BLOB: its length bytes, 0 any */
	} map[] = {
		{"tinyint", BINLOG_TYPE_TINY, 0},
		{"smallint", BINLOG_TYPE_SHORT, 0},
		{"mediumint", BINLOG_TYPE_INT24, 0},
		{"int", BINLOG_TYPE_LONG, 0},
		{"integer", BINLOG_TYPE_LONG, 0},
		{"bigint", BINLOG_TYPE_LONGLONG, 0},
		{"decimal", BINLOG_TYPE_NEWDECIMAL, 0},
		{"decimal", BINLOG_TYPE_DECIMAL, 0},
		{"numeric", BINLOG_TYPE_NEWDECIMAL, 0},
		{"float", BINLOG_TYPE_FLOAT, 0},
		{"double", BINLOG_TYPE_DOUBLE, 0},
		{"real", BINLOG_TYPE_DOUBLE, 0},
		{"bit", BINLOG_TYPE_BIT, 0},
		{"date", BINLOG_TYPE_DATE, 0},
		{"date", BINLOG_TYPE_NEWDATE, 0},
		{"datetime", BINLOG_TYPE_DATETIME, 0},
		{"datetime", BINLOG_TYPE_DATETIME2, 0},
		{"timestamp", BINLOG_TYPE_TIMESTAMP, 0},
		{"timestamp", BINLOG_TYPE_TIMESTAMP2, 0},
		{"time", BINLOG_TYPE_TIME, 0},
		{"time", BINLOG_TYPE_TIME2, 0},
		{"year", BINLOG_TYPE_YEAR, 0},
		{"char", BINLOG_TYPE_STRING, 0},
		{"binary", BINLOG_TYPE_STRING, 0},
		{"uuid", BINLOG_TYPE_STRING, 0},
		{"inet4", BINLOG_TYPE_STRING, 0},
		{"inet6", BINLOG_TYPE_STRING, 0},
		{"varchar", BINLOG_TYPE_VARCHAR, 0},
		{"varchar", BINLOG_TYPE_VAR_STRING, 0},
		{"varchar", BINLOG_TYPE_VARCHAR_COMPRESSED, 0},
		{"varbinary", BINLOG_TYPE_VARCHAR, 0},
		{"varbinary", BINLOG_TYPE_VAR_STRING, 0},
		{"varbinary", BINLOG_TYPE_VARCHAR_COMPRESSED, 0},
		{"tinytext", BINLOG_TYPE_BLOB, 1},
		{"tinyblob", BINLOG_TYPE_BLOB, 1},
		{"text", BINLOG_TYPE_BLOB, 2},
		{"blob", BINLOG_TYPE_BLOB, 2},
		{"mediumtext", BINLOG_TYPE_BLOB, 3},
		{"mediumblob", BINLOG_TYPE_BLOB, 3},
		{"longtext", BINLOG_TYPE_BLOB, 4},
		{"longblob", BINLOG_TYPE_BLOB, 4},
		{"tinytext", BINLOG_TYPE_BLOB_COMPRESSED, 0},
		{"text", BINLOG_TYPE_BLOB_COMPRESSED, 0},
		{"mediumtext", BINLOG_TYPE_BLOB_COMPRESSED, 0},
		{"longtext", BINLOG_TYPE_BLOB_COMPRESSED, 0},
		{"tinyblob", BINLOG_TYPE_BLOB_COMPRESSED, 0},
		{"blob", BINLOG_TYPE_BLOB_COMPRESSED, 0},
		{"mediumblob", BINLOG_TYPE_BLOB_COMPRESSED, 0},
		{"longblob", BINLOG_TYPE_BLOB_COMPRESSED, 0},
		{"enum", BINLOG_TYPE_ENUM, 0},
		{"set", BINLOG_TYPE_SET, 0},
		{"json", BINLOG_TYPE_JSON, 0},
		{"json", BINLOG_TYPE_BLOB, 4},
		{"geometry", BINLOG_TYPE_GEOMETRY, 0},
		{"point", BINLOG_TYPE_GEOMETRY, 0},
		{"linestring", BINLOG_TYPE_GEOMETRY, 0},
		{"polygon", BINLOG_TYPE_GEOMETRY, 0},
		{"multipoint", BINLOG_TYPE_GEOMETRY, 0},
		{"multilinestring", BINLOG_TYPE_GEOMETRY, 0},
		{"multipolygon", BINLOG_TYPE_GEOMETRY, 0},
		{"geometrycollection", BINLOG_TYPE_GEOMETRY, 0},
		{"geomcollection", BINLOG_TYPE_GEOMETRY, 0},
		{"vector", BINLOG_TYPE_VECTOR, 0},
		{"vector", BINLOG_TYPE_VARCHAR, 0},
		{"vector", BINLOG_TYPE_VAR_STRING, 0},
		{"vector", BINLOG_TYPE_STRING, 0},
		{"vector", BINLOG_TYPE_BLOB, 0},
	};
	uint8_t type = c->type;
	int known = 0;

	/* The blob types by their own codes are blobs of that size. */
	if (type == BINLOG_TYPE_TINY_BLOB || type == BINLOG_TYPE_MEDIUM_BLOB ||
	    type == BINLOG_TYPE_LONG_BLOB)
		type = BINLOG_TYPE_BLOB;
	for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
		if (strcmp(map[k].dt, dt) != 0)
			continue;
		known = 1;
		if (map[k].type == type && (!map[k].blob_meta || c->type != BINLOG_TYPE_BLOB ||
					    map[k].blob_meta == c->meta))
			return 1;
	}
	return !known;
}

/*
 * Does the catalog's definition describe the table the TABLE_MAP does?
 * 1, or 0 with the first difference in why.
 */
static int catalog_fits(const binlog_table_t *bt, const schema_catalog_table_t *ct, char *why,
			size_t cap)
{
	if (ct->ncols != bt->ncols) {
		snprintf(why, cap, "the catalog has %u columns, the binlog %u", ct->ncols,
			 bt->ncols);
		return 0;
	}
	for (uint32_t i = 0; i < bt->ncols; i++) {
		const binlog_column_t *c = &bt->cols[i];
		const schema_catalog_column_t *cc = &ct->cols[i];
		const char *tn = binlog_column_type_name(c->type);

		if (!type_fits(c, cc->data_type)) {
			snprintf(why, cap, "column %u is %s in the catalog, %s in the binlog",
				 i + 1, cc->data_type, tn ? tn : "?");
			return 0;
		}
		if ((bt->has & BINLOG_HAS_SIGNEDNESS) && is_integer(c->type) &&
		    !(c->flags & BINLOG_COL_UNSIGNED) != !cc->is_unsigned) {
			snprintf(why, cap, "column %u is %s in the catalog, %s in the binlog",
				 i + 1, cc->is_unsigned ? "unsigned" : "signed",
				 cc->is_unsigned ? "signed" : "unsigned");
			return 0;
		}
		if (c->name.len &&
		    (strlen(cc->name) != c->name.len || memcmp(cc->name, c->name.p, c->name.len))) {
			snprintf(why, cap,
				 "column %u is named %s in the catalog, %.*s in the binlog", i + 1,
				 cc->name, (int)c->name.len, c->name.p);
			return 0;
		}
	}
	return 1;
}

/* The MariaDB type the catalog names, when the binlog's form of the column
 * is the one that type has; else SCHEMA_EXT_NONE (render as the binlog
 * says). */
static int ext_applies(const binlog_column_t *c, const schema_column_t *sc, int ext)
{
	int fits;

	switch (ext) {
	case SCHEMA_EXT_UUID:
	case SCHEMA_EXT_INET6:
		fits = c->type == BINLOG_TYPE_STRING && maybe_binary(c) && c->length == 16;
		break;
	case SCHEMA_EXT_INET4:
		fits = c->type == BINLOG_TYPE_STRING && maybe_binary(c) && c->length == 4;
		break;
	case SCHEMA_EXT_JSON:
		/* MariaDB's: text in UTF-8 (MySQL's JSON has a type of its own,
		 * already rendered as JSON). */
		fits = is_blob(c->type) && !sc->binary &&
		       (!sc->cs || sc->cs->kind == BINLOG_CS_UTF8);
		break;
	case SCHEMA_EXT_VECTOR:
		fits = (c->type == BINLOG_TYPE_STRING || is_varchar(c->type) || is_blob(c->type)) &&
		       maybe_binary(c);
		break;
	default:
		fits = 0;
	}
	return fits ? ext : SCHEMA_EXT_NONE;
}

/* A NUL-terminated copy of a binlog string into buf (names are at most
 * 64 characters; longer is cut, for messages and filters only). */
static const char *cstr(char *buf, size_t cap, const binlog_str_t *s)
{
	size_t n = s->len < cap - 1 ? s->len : cap - 1;

	if (n)
		memcpy(buf, s->p, n);
	buf[n] = 0;
	return buf;
}

/* Tell o->warn, with a message that leaves naming the table to it. */
static void warn(const schema_opts_t *o, const schema_table_t *t, const char *fmt, const char *a)
{
	char msg[BINLOG_ERR_MSG_MAX];

	if (!o || !o->warn)
		return;
	snprintf(msg, sizeof(msg), fmt, a);
	o->warn(o->warn_ctx, t, msg);
}

/*
 * Build the schema table. ct is the catalog's definition when it is to be
 * used (it agreed with the TABLE_MAP), else NULL; filter may be NULL.
 */
static schema_table_t *build(binlog_table_t *bt, const schema_catalog_table_t *ct,
			     const cdc_filter_t *filter, int status)
{
	struct schema_priv *sp;
	schema_table_t *t;
	size_t *key_off, ident_off, qual_off;
	char db[256], tbl[256], col[256];
	const uint32_t *pk = bt->pk;
	uint32_t npk = bt->npk;
	int positional;

	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	t = &sp->t;
	t->bt = bt;
	t->ncols = bt->ncols;
	t->cols = calloc(bt->ncols ? bt->ncols : 1, sizeof(*t->cols));
	key_off = calloc(bt->ncols ? bt->ncols : 1, sizeof(*key_off));
	if (!t->cols || !key_off)
		goto fail;
	binlog_buf_init(&sp->text, 0);
	positional = !(bt->has & BINLOG_HAS_NAMES) && !ct;
	t->positional = positional;
	t->captured = -1;
	t->catalog = (int8_t)status;
	cstr(db, sizeof(db), &bt->db);
	cstr(tbl, sizeof(tbl), &bt->name);
	/* Names from the catalog come with its key; the binlog's with its. */
	if (!(bt->has & BINLOG_HAS_NAMES) && ct) {
		pk = ct->pk;
		npk = ct->npk;
	}
	if (positional && filter && cdc_filter_column(filter, db, tbl, NULL) != CDC_COLUMN_KEEP)
		t->masked_all = 1;

	for (uint32_t i = 0; i < bt->ncols; i++) {
		const binlog_column_t *c = &bt->cols[i];
		const schema_catalog_column_t *cc = ct ? &ct->cols[i] : NULL;
		schema_column_t *sc = &t->cols[i];
		uint32_t coll = c->collation;
		int action = CDC_COLUMN_KEEP;

		key_off[i] = sp->text.len;
		put_name(&sp->text, bt, ct, i);
		binlog_buf_putc(&sp->text, ':');
		sc->key_len = (uint32_t)(sp->text.len - key_off[i]);
		/* The binlog's charset, else the catalog's. */
		if (!coll && cc && is_character(c->type))
			coll = cc->collation_id;
		if (coll) {
			sc->cs = binlog_charset_of_collation(coll);
			sc->binary = sc->cs && sc->cs->kind == BINLOG_CS_BINARY;
		} else if (c->type == BINLOG_TYPE_VECTOR) {
			sc->binary = 1;
		}
		if (c->labels_collation)
			sc->labels_cs = binlog_charset_of_collation(c->labels_collation);
		/* MySQL strips the 0x00 padding of BINARY(n) when it logs a
		 * value; SELECT returns it padded. */
		sc->pad_binary = sc->binary && c->type == BINLOG_TYPE_STRING;

		if (cc) {
			sc->ext = (uint8_t)ext_applies(c, sc, cc->ext);
			if (sc->ext)
				sc->special |= SCHEMA_SP_EXT;
			if (!(bt->has & BINLOG_HAS_SIGNEDNESS) && is_integer(c->type) &&
			    cc->is_unsigned)
				sc->special |= SCHEMA_SP_UNSIGNED;
		}
		if (t->masked_all) {
			action = CDC_COLUMN_MASK;
		} else if (filter && !positional) {
			const char *name = "";
			if (c->name.len)
				name = cstr(col, sizeof(col), &c->name);
			else if (cc)
				name = cc->name;
			action = cdc_filter_column(filter, db, tbl, name);
		}
		if (action == CDC_COLUMN_EXCLUDE)
			sc->special |= SCHEMA_SP_EXCLUDE;
		else if (action == CDC_COLUMN_MASK)
			sc->special |= SCHEMA_SP_MASK;
		t->special |= sc->special;
	}

	/* A key with a value left out or masked cannot key the record: no
	 * "pk" rather than one a consumer would trust. */
	for (uint32_t k = 0; k < npk; k++)
		if (pk[k] < bt->ncols &&
		    (t->cols[pk[k]].special & (SCHEMA_SP_EXCLUDE | SCHEMA_SP_MASK)))
			t->pk_hidden = 1;

	ident_off = sp->text.len;
	binlog_buf_lit(&sp->text, ",\"db\":");
	binlog_jw_utf8(&sp->text, (const uint8_t *)bt->db.p, bt->db.len);
	binlog_buf_lit(&sp->text, ",\"table\":");
	binlog_jw_utf8(&sp->text, (const uint8_t *)bt->name.p, bt->name.len);
	if (npk && !t->pk_hidden) {
		if (!(sp->pk = malloc(npk * sizeof(*sp->pk))))
			goto fail;
		memcpy(sp->pk, pk, npk * sizeof(*sp->pk));
		t->npk = npk;
		t->pk = sp->pk;
		binlog_buf_lit(&sp->text, ",\"pk\":[");
		for (uint32_t k = 0; k < npk; k++) {
			if (k)
				binlog_buf_putc(&sp->text, ',');
			put_name(&sp->text, bt, ct, pk[k]);
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

schema_table_t *schema_table_get(binlog_table_t *bt)
{
	if (bt->user)
		return bt->user;
	return build(bt, NULL, NULL, SCHEMA_CAT_UNUSED);
}

schema_table_t *schema_table_get_ex(binlog_table_t *bt, const schema_opts_t *o, binlog_err_t *err)
{
	const schema_catalog_table_t *ct = NULL;
	int status = SCHEMA_CAT_UNUSED;
	char why[BINLOG_ERR_MSG_MAX] = "";
	schema_table_t *t;

	if (bt->user)
		return bt->user;
	if (o && o->catalog && o->catalog_mode != CDC_CATALOG_NEVER &&
	    (o->catalog_mode == CDC_CATALOG_ALWAYS || catalog_wanted(bt))) {
		char db[256], tbl[256];
		binlog_err_t e;

		e.code = BINLOG_OK;
		e.msg[0] = 0;
		ct = schema_catalog_get(o->catalog, cstr(db, sizeof(db), &bt->db),
					cstr(tbl, sizeof(tbl), &bt->name), &e);
		if (!ct && e.code != BINLOG_E_UNSUPPORTED) {
			if (err)
				*err = e;
			return NULL;
		}
		if (!ct) {
			status = SCHEMA_CAT_MISSING;
			snprintf(why, sizeof(why), "%s", e.msg);
		} else if (!catalog_fits(bt, ct, why, sizeof(why))) {
			status = SCHEMA_CAT_MISMATCH;
			ct = NULL;
		} else {
			status = SCHEMA_CAT_USED;
		}
	}
	t = build(bt, ct, o ? o->filter : NULL, status);
	if (!t) {
		binlog_err_set(err, BINLOG_E_NOMEM, "no memory for a table schema");
		return NULL;
	}
	if (o && o->stats) {
		o->stats->catalog_used += status == SCHEMA_CAT_USED;
		o->stats->catalog_mismatch += status == SCHEMA_CAT_MISMATCH;
		o->stats->catalog_missing += status == SCHEMA_CAT_MISSING;
		o->stats->masked_all += t->masked_all;
	}
	if (status == SCHEMA_CAT_MISMATCH)
		warn(o, t,
		     "the catalog's definition differs from the binlog's (%s): not used; records "
		     "keep the binlog's names or positional ones",
		     why);
	else if (status == SCHEMA_CAT_MISSING)
		warn(o, t,
		     "not in the catalog (%s): records keep the binlog's names or positional ones",
		     why);
	if (t->masked_all)
		warn(o, t,
		     "column names unknown and source.columns.exclude/mask may apply to the "
		     "table: every value masked%s",
		     "");
	return t;
}
