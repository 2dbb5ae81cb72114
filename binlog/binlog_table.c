/*
 * binlog_table.c: TABLE_MAP_EVENT to binlog_table_t.
 *
 * Wire format (after the 19-byte header, before the checksum):
 *
 *   post-header  table_id     6 bytes LE (4 when the post-header is 6 long)
 *                flags        2 bytes
 *   body         db_len 1, db, NUL
 *                table_len 1, table, NUL
 *                column_count          packed integer
 *                column_type[count]    1 byte each
 *                metadata_len          packed integer
 *                metadata              per column, by type (see meta_len())
 *                null_bitmap           (count + 7) / 8 bytes, LSB first
 *                optional metadata     TLV until the end (MySQL 8.0.1+,
 *                                      MariaDB 10.5+): type 1 byte, length
 *                                      packed, value
 *
 * Optional metadata fields (binlog_row_metadata MINIMAL logs 1, 2/3, 7,
 * 13; FULL adds the rest):
 *   1  SIGNEDNESS           bitmap over numeric columns, MSB first
 *   2  DEFAULT_CHARSET      default collation, then (index, collation)
 *                           pairs over character columns
 *   3  COLUMN_CHARSET       a collation per character column
 *   4  COLUMN_NAME          length-prefixed name per column
 *   5  SET_STR_VALUE        per SET column: count, then strings
 *   6  ENUM_STR_VALUE       per ENUM column: count, then strings
 *   7  GEOMETRY_TYPE        per geometry column
 *   8  SIMPLE_PRIMARY_KEY   column indexes
 *   9  PRIMARY_KEY_WITH_PREFIX  (index, prefix length) pairs
 *   10 ENUM_AND_SET_DEFAULT_CHARSET, 11 ENUM_AND_SET_COLUMN_CHARSET
 *   12 COLUMN_VISIBILITY    bitmap over all columns, MSB first
 *   13 VECTOR_DIMENSIONALITY  per VECTOR column
 * Unknown field types are skipped: later servers may add fields.
 *
 * Which columns are "character columns" differs by flavour, as the bytes
 * of real servers show: MySQL counts CHAR/VARCHAR/BLOB/TEXT/VECTOR but not
 * GEOMETRY or JSON; MariaDB counts GEOMETRY and its compressed columns too.
 * A charset list whose length disagrees with that count is an error, so a
 * misreading can never shift charsets onto the wrong columns silently.
 */
#include "binlog_int.h"

#include <stdlib.h>
#include <string.h>

#include "binlog_decimal.h"
#include "binlog_types.h"

struct table_priv {
	binlog_table_t t;
	uint8_t *raw;
	size_t raw_len;
	binlog_str_t *labels;
};

int binlog_column_is_numeric(uint8_t type)
{
	switch (type) {
	case BINLOG_TYPE_TINY:
	case BINLOG_TYPE_SHORT:
	case BINLOG_TYPE_INT24:
	case BINLOG_TYPE_LONG:
	case BINLOG_TYPE_LONGLONG:
	case BINLOG_TYPE_NEWDECIMAL:
	case BINLOG_TYPE_FLOAT:
	case BINLOG_TYPE_DOUBLE:
	case BINLOG_TYPE_YEAR:
		return 1;
	default:
		return 0;
	}
}

int binlog_column_has_charset(uint8_t type, int flavor)
{
	switch (type) {
	case BINLOG_TYPE_STRING:
	case BINLOG_TYPE_VAR_STRING:
	case BINLOG_TYPE_VARCHAR:
	case BINLOG_TYPE_BLOB:
	case BINLOG_TYPE_TINY_BLOB:
	case BINLOG_TYPE_MEDIUM_BLOB:
	case BINLOG_TYPE_LONG_BLOB:
	case BINLOG_TYPE_VECTOR:
		return 1;
	case BINLOG_TYPE_GEOMETRY:
	case BINLOG_TYPE_BLOB_COMPRESSED:
	case BINLOG_TYPE_VARCHAR_COMPRESSED:
		return flavor == BINLOG_FLAVOR_MARIADB;
	default:
		return 0;
	}
}

/* Bytes of TABLE_MAP metadata a column type carries, or -1 for a type that
 * no server writes into a TABLE_MAP. */
static int meta_len(uint8_t type)
{
	switch (type) {
	case BINLOG_TYPE_FLOAT:
	case BINLOG_TYPE_DOUBLE:
	case BINLOG_TYPE_BLOB:
	case BINLOG_TYPE_TINY_BLOB:
	case BINLOG_TYPE_MEDIUM_BLOB:
	case BINLOG_TYPE_LONG_BLOB:
	case BINLOG_TYPE_GEOMETRY:
	case BINLOG_TYPE_JSON:
	case BINLOG_TYPE_VECTOR:
	case BINLOG_TYPE_TIMESTAMP2:
	case BINLOG_TYPE_DATETIME2:
	case BINLOG_TYPE_TIME2:
	case BINLOG_TYPE_BLOB_COMPRESSED:
		return 1;
	case BINLOG_TYPE_VARCHAR:
	case BINLOG_TYPE_VAR_STRING:
	case BINLOG_TYPE_VARCHAR_COMPRESSED:
	case BINLOG_TYPE_BIT:
	case BINLOG_TYPE_NEWDECIMAL:
	case BINLOG_TYPE_STRING:
	case BINLOG_TYPE_ENUM:
	case BINLOG_TYPE_SET:
		return 2;
	case BINLOG_TYPE_TINY:
	case BINLOG_TYPE_SHORT:
	case BINLOG_TYPE_INT24:
	case BINLOG_TYPE_LONG:
	case BINLOG_TYPE_LONGLONG:
	case BINLOG_TYPE_NULL:
	case BINLOG_TYPE_TIMESTAMP:
	case BINLOG_TYPE_DATE:
	case BINLOG_TYPE_TIME:
	case BINLOG_TYPE_DATETIME:
	case BINLOG_TYPE_YEAR:
	case BINLOG_TYPE_NEWDATE:
		return 0;
	default:
		return -1;
	}
}

/* Decode one column's metadata bytes and check them. */
static binlog_errcode_t column_meta(binlog_column_t *c, uint32_t i, const uint8_t *m,
				    binlog_err_t *err)
{
	const char *tn = binlog_column_type_name(c->wire_type);

	switch (c->wire_type) {
	case BINLOG_TYPE_FLOAT:
	case BINLOG_TYPE_DOUBLE:
		c->meta = m[0];
		break;
	case BINLOG_TYPE_BLOB:
	case BINLOG_TYPE_TINY_BLOB:
	case BINLOG_TYPE_MEDIUM_BLOB:
	case BINLOG_TYPE_LONG_BLOB:
	case BINLOG_TYPE_GEOMETRY:
	case BINLOG_TYPE_JSON:
	case BINLOG_TYPE_VECTOR:
	case BINLOG_TYPE_BLOB_COMPRESSED:
		c->meta = m[0];
		if (c->meta < 1 || c->meta > 4)
			goto bad;
		break;
	case BINLOG_TYPE_TIMESTAMP2:
	case BINLOG_TYPE_DATETIME2:
	case BINLOG_TYPE_TIME2:
		c->meta = m[0];
		if (c->meta > 6)
			goto bad;
		break;
	case BINLOG_TYPE_VARCHAR:
	case BINLOG_TYPE_VAR_STRING:
	case BINLOG_TYPE_VARCHAR_COMPRESSED:
		c->meta = binlog_le16(m);
		break;
	case BINLOG_TYPE_BIT:
		/* bits in the last partial byte, then whole bytes */
		c->meta = (uint16_t)(m[0] | (m[1] << 8));
		if (m[0] > 7 || m[1] > 8 || (m[1] == 8 && m[0]) || (!m[0] && !m[1]))
			goto bad;
		break;
	case BINLOG_TYPE_NEWDECIMAL:
		c->meta = (uint16_t)(m[0] << 8 | m[1]);
		if (m[0] < 1 || m[0] > 65 || m[1] > 38 || m[1] > m[0])
			goto bad;
		c->length = (uint16_t)binlog_decimal_size(m[0], m[1]);
		break;
	case BINLOG_TYPE_STRING:
	case BINLOG_TYPE_ENUM:
	case BINLOG_TYPE_SET: {
		/* real type, then length; CHAR longer than 255 bytes borrows
		 * two bits of the real type for the length's high bits. */
		uint8_t real = m[0];
		uint16_t len = m[1];
		c->meta = (uint16_t)(m[0] << 8 | m[1]);
		if ((real & 0x30) != 0x30) {
			len = (uint16_t)(len | (((real & 0x30) ^ 0x30) << 4));
			real |= 0x30;
		}
		c->length = len;
		if (real == BINLOG_TYPE_ENUM) {
			c->type = BINLOG_TYPE_ENUM;
			if (len != 1 && len != 2)
				goto bad;
		} else if (real == BINLOG_TYPE_SET) {
			c->type = BINLOG_TYPE_SET;
			if (len < 1 || len > 8)
				goto bad;
		} else if (real == BINLOG_TYPE_STRING || real == BINLOG_TYPE_VAR_STRING) {
			c->type = BINLOG_TYPE_STRING;
		} else {
			goto bad;
		}
		break;
	}
	default:
		break;
	}
	return BINLOG_OK;
bad:
	return binlog_err_set(err, BINLOG_E_BAD_EVENT,
			      "TABLE_MAP column %u (%s): invalid metadata %02x%02x", i,
			      tn ? tn : "?", m[0], meta_len(c->wire_type) > 1 ? m[1] : 0);
}

/*
 * The optional metadata fields each cover one class of columns, in column
 * order. Listing the members of every class once keeps a 4096-column
 * table linear to parse.
 */
enum col_class {
	CLS_NUMERIC,
	CLS_CHARACTER,
	CLS_ENUM_SET,
	CLS_GEOMETRY,
	CLS_VECTOR,
	CLS_SET,
	CLS_ENUM,
	CLS__COUNT
};

typedef struct col_lists {
	uint32_t n[CLS__COUNT];
	uint32_t *idx[CLS__COUNT];
	uint32_t *mem;
} col_lists_t;

static int col_lists_build(col_lists_t *l, const binlog_table_t *t, int flavor)
{
	memset(l, 0, sizeof(*l));
	l->mem = malloc((size_t)t->ncols * CLS__COUNT * sizeof(uint32_t));
	if (!l->mem)
		return -1;
	for (int k = 0; k < CLS__COUNT; k++)
		l->idx[k] = l->mem + (size_t)k * t->ncols;
	for (uint32_t i = 0; i < t->ncols; i++) {
		uint8_t ty = t->cols[i].type;
		if (binlog_column_is_numeric(ty))
			l->idx[CLS_NUMERIC][l->n[CLS_NUMERIC]++] = i;
		if (binlog_column_has_charset(ty, flavor))
			l->idx[CLS_CHARACTER][l->n[CLS_CHARACTER]++] = i;
		if (ty == BINLOG_TYPE_ENUM || ty == BINLOG_TYPE_SET)
			l->idx[CLS_ENUM_SET][l->n[CLS_ENUM_SET]++] = i;
		if (ty == BINLOG_TYPE_GEOMETRY)
			l->idx[CLS_GEOMETRY][l->n[CLS_GEOMETRY]++] = i;
		if (ty == BINLOG_TYPE_VECTOR)
			l->idx[CLS_VECTOR][l->n[CLS_VECTOR]++] = i;
		if (ty == BINLOG_TYPE_SET)
			l->idx[CLS_SET][l->n[CLS_SET]++] = i;
		if (ty == BINLOG_TYPE_ENUM)
			l->idx[CLS_ENUM][l->n[CLS_ENUM]++] = i;
	}
	return 0;
}

static const char *field_name(uint8_t f)
{
	static const char *const names[] = {"?",
					    "SIGNEDNESS",
					    "DEFAULT_CHARSET",
					    "COLUMN_CHARSET",
					    "COLUMN_NAME",
					    "SET_STR_VALUE",
					    "ENUM_STR_VALUE",
					    "GEOMETRY_TYPE",
					    "SIMPLE_PRIMARY_KEY",
					    "PRIMARY_KEY_WITH_PREFIX",
					    "ENUM_AND_SET_DEFAULT_CHARSET",
					    "ENUM_AND_SET_COLUMN_CHARSET",
					    "COLUMN_VISIBILITY",
					    "VECTOR_DIMENSIONALITY"};
	return f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

/* DEFAULT_CHARSET / COLUMN_CHARSET (and their ENUM/SET variants). */
static binlog_errcode_t opt_charsets(binlog_table_t *t, const col_lists_t *l, uint8_t f,
				     binlog_cur_t *v, binlog_err_t *err)
{
	int labels = !(f == 2 || f == 3);
	int cls = labels ? CLS_ENUM_SET : CLS_CHARACTER;
	uint32_t n = l->n[cls];
	const uint32_t *cols = l->idx[cls];
	uint64_t coll, idx;

	if (f == 2 || f == 10) {
		if (!binlog_cur_packed(v, &coll))
			goto bad;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t c = cols[k];
			if (labels)
				t->cols[c].labels_collation = (uint32_t)coll;
			else
				t->cols[c].collation = (uint32_t)coll;
		}
		while (binlog_cur_left(v)) {
			uint32_t c;
			if (!binlog_cur_packed(v, &idx) || !binlog_cur_packed(v, &coll) || idx >= n)
				goto bad;
			c = cols[idx];
			if (labels)
				t->cols[c].labels_collation = (uint32_t)coll;
			else
				t->cols[c].collation = (uint32_t)coll;
		}
	} else {
		uint32_t k = 0;
		while (binlog_cur_left(v)) {
			uint32_t c;
			if (!binlog_cur_packed(v, &coll) || k >= n)
				goto bad;
			c = cols[k++];
			if (labels)
				t->cols[c].labels_collation = (uint32_t)coll;
			else
				t->cols[c].collation = (uint32_t)coll;
		}
		if (k != n)
			return binlog_err_set(err, BINLOG_E_BAD_EVENT,
					      "TABLE_MAP %s: %u entries for %u columns",
					      field_name(f), k, n);
	}
	if (!labels)
		t->has |= BINLOG_HAS_CHARSETS;
	return BINLOG_OK;
bad:
	return binlog_err_set(
		err, BINLOG_E_BAD_EVENT,
		"TABLE_MAP %s: malformed or more entries than the %u columns it covers",
		field_name(f), n);
}

/* SET_STR_VALUE / ENUM_STR_VALUE: count the strings first so one array
 * holds all of them. */
static binlog_errcode_t opt_labels(struct table_priv *tp, const col_lists_t *l, uint8_t f,
				   binlog_cur_t v, binlog_err_t *err)
{
	binlog_table_t *t = &tp->t;
	int cls = f == 5 ? CLS_SET : CLS_ENUM;
	uint32_t ncol = 0;
	uint64_t total = 0;
	binlog_cur_t scan = v;
	binlog_str_t *arr, *all;
	size_t old = 0;

	while (binlog_cur_left(&scan)) {
		uint64_t cnt, len;
		if (!binlog_cur_packed(&scan, &cnt) || cnt > binlog_cur_left(&scan))
			goto bad;
		for (uint64_t k = 0; k < cnt; k++)
			if (!binlog_cur_packed(&scan, &len) || !binlog_cur_skip(&scan, (size_t)len))
				goto bad;
		total += cnt;
		ncol++;
	}
	if (ncol != l->n[cls])
		return binlog_err_set(err, BINLOG_E_BAD_EVENT,
				      "TABLE_MAP %s: %u entries for %u columns", field_name(f),
				      ncol, l->n[cls]);
	/* The label arrays of ENUM and SET share one allocation; the second
	 * field appends to the first's. */
	for (uint32_t i = 0; i < t->ncols; i++)
		old += t->cols[i].nlabels;
	all = realloc(tp->labels, (old + total + 1) * sizeof(*all));
	if (!all)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	if (all != tp->labels) {
		/* Re-point columns that already had labels into the moved array. */
		size_t off = 0;
		for (uint32_t i = 0; i < t->ncols; i++)
			if (t->cols[i].nlabels) {
				t->cols[i].labels = all + off;
				off += t->cols[i].nlabels;
			}
		tp->labels = all;
	}
	arr = all + old;
	for (uint32_t k = 0; k < ncol; k++) {
		uint64_t cnt = 0, len = 0;
		uint32_t c = l->idx[cls][k];
		binlog_cur_packed(&v, &cnt);
		t->cols[c].labels = arr;
		t->cols[c].nlabels = (uint32_t)cnt;
		for (uint64_t j = 0; j < cnt; j++) {
			const uint8_t *p = NULL;
			binlog_cur_packed(&v, &len);
			binlog_cur_bytes(&v, (size_t)len, &p);
			arr->p = (const char *)p;
			arr->len = (uint32_t)len;
			arr++;
		}
	}
	t->has |= BINLOG_HAS_LABELS;
	return BINLOG_OK;
bad:
	return binlog_err_set(err, BINLOG_E_BAD_EVENT, "TABLE_MAP %s: malformed", field_name(f));
}

static binlog_errcode_t opt_field(struct table_priv *tp, const col_lists_t *l, uint8_t f,
				  binlog_cur_t v, binlog_err_t *err)
{
	binlog_table_t *t = &tp->t;
	uint64_t x, y;

	switch (f) {
	case 1: { /* SIGNEDNESS */
		uint32_t n = l->n[CLS_NUMERIC];
		if (binlog_cur_left(&v) < (n + 7) / 8)
			goto bad;
		for (uint32_t k = 0; k < n; k++)
			if (v.p[k / 8] & (0x80 >> (k % 8)))
				t->cols[l->idx[CLS_NUMERIC][k]].flags |= BINLOG_COL_UNSIGNED;
		t->has |= BINLOG_HAS_SIGNEDNESS;
		return BINLOG_OK;
	}
	case 2:
	case 3:
	case 10:
	case 11:
		return opt_charsets(t, l, f, &v, err);
	case 4: { /* COLUMN_NAME */
		uint32_t i = 0;
		while (binlog_cur_left(&v)) {
			const uint8_t *p;
			if (i >= t->ncols || !binlog_cur_packed(&v, &x) ||
			    !binlog_cur_bytes(&v, (size_t)x, &p))
				goto bad;
			t->cols[i].name.p = (const char *)p;
			t->cols[i].name.len = (uint32_t)x;
			i++;
		}
		if (i != t->ncols)
			goto bad;
		t->has |= BINLOG_HAS_NAMES;
		return BINLOG_OK;
	}
	case 5:
	case 6:
		return opt_labels(tp, l, f, v, err);
	case 7: { /* GEOMETRY_TYPE */
		uint32_t k = 0, n = l->n[CLS_GEOMETRY];
		while (binlog_cur_left(&v)) {
			if (k >= n || !binlog_cur_packed(&v, &x))
				goto bad;
			t->cols[l->idx[CLS_GEOMETRY][k++]].geom_type = (uint8_t)(x > 255 ? 255 : x);
		}
		return BINLOG_OK;
	}
	case 8:
	case 9: { /* SIMPLE_PRIMARY_KEY, PRIMARY_KEY_WITH_PREFIX */
		uint32_t *pk;
		size_t cap = binlog_cur_left(&v);
		if (t->pk)
			goto bad;
		pk = malloc((cap ? cap : 1) * sizeof(*pk));
		if (!pk)
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		t->pk = pk;
		while (binlog_cur_left(&v)) {
			if (!binlog_cur_packed(&v, &x) || x >= t->ncols)
				goto bad;
			y = 0;
			if (f == 9 && !binlog_cur_packed(&v, &y))
				goto bad;
			t->pk[t->npk++] = (uint32_t)x;
			t->cols[x].flags |= BINLOG_COL_PK;
			t->cols[x].pk_prefix = (uint16_t)(y > 65535 ? 65535 : y);
		}
		t->has |= BINLOG_HAS_PK;
		return BINLOG_OK;
	}
	case 12: /* COLUMN_VISIBILITY */
		if (binlog_cur_left(&v) < (t->ncols + 7) / 8)
			goto bad;
		for (uint32_t i = 0; i < t->ncols; i++)
			if (!(v.p[i / 8] & (0x80 >> (i % 8))))
				t->cols[i].flags |= BINLOG_COL_INVISIBLE;
		t->has |= BINLOG_HAS_VISIBILITY;
		return BINLOG_OK;
	case 13: { /* VECTOR_DIMENSIONALITY */
		uint32_t k = 0, n = l->n[CLS_VECTOR];
		while (binlog_cur_left(&v)) {
			if (k >= n || !binlog_cur_packed(&v, &x))
				goto bad;
			t->cols[l->idx[CLS_VECTOR][k++]].vector_dim =
				(uint32_t)(x > UINT32_MAX ? UINT32_MAX : x);
		}
		return BINLOG_OK;
	}
	default:
		return BINLOG_OK; /* a field from a later server */
	}
bad:
	return binlog_err_set(err, BINLOG_E_BAD_EVENT, "TABLE_MAP optional metadata %s: malformed",
			      field_name(f));
}

binlog_errcode_t binlog__table_parse(const uint8_t *body, size_t n, unsigned id_len, int flavor,
				     binlog_table_t **out, binlog_err_t *err)
{
	struct table_priv *tp;
	binlog_table_t *t;
	binlog_cur_t c;
	uint64_t id, ncols, mlen;
	uint8_t dl, tl;
	const uint8_t *db, *tb, *types, *meta, *nulls;
	binlog_cur_t mc;
	col_lists_t lists = {0};
	binlog_errcode_t rc;

	*out = NULL;
	tp = calloc(1, sizeof(*tp));
	if (!tp)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	t = &tp->t;
	/* Keep our own copy: names and labels point into it, and the event
	 * buffer is gone after the next feed. */
	tp->raw = malloc(n ? n : 1);
	if (!tp->raw) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		goto fail;
	}
	memcpy(tp->raw, body, n);
	tp->raw_len = n;
	c = binlog_cur_make(tp->raw, n);

	if (!binlog_cur_le(&c, id_len, &id) || !binlog_cur_le16(&c, &t->map_flags) ||
	    !binlog_cur_u8(&c, &dl) || !binlog_cur_bytes(&c, dl, &db) || !binlog_cur_skip(&c, 1) ||
	    !binlog_cur_u8(&c, &tl) || !binlog_cur_bytes(&c, tl, &tb) || !binlog_cur_skip(&c, 1)) {
		rc = binlog_err_set(err, BINLOG_E_TRUNCATED,
				    "TABLE_MAP: %zu bytes end inside the table name", n);
		goto fail;
	}
	t->table_id = id;
	t->db.p = (const char *)db;
	t->db.len = dl;
	t->name.p = (const char *)tb;
	t->name.len = tl;
	if (!binlog_cur_packed(&c, &ncols) || ncols == 0 || ncols > binlog_cur_left(&c)) {
		rc = binlog_err_set(err, BINLOG_E_BAD_EVENT,
				    "TABLE_MAP %.*s.%.*s: bad column count", (int)dl, db, (int)tl,
				    tb);
		goto fail;
	}
	t->ncols = (uint32_t)ncols;
	binlog_cur_bytes(&c, (size_t)ncols, &types);
	if (!binlog_cur_packed(&c, &mlen) || !binlog_cur_bytes(&c, (size_t)mlen, &meta) ||
	    !binlog_cur_bytes(&c, (size_t)(ncols + 7) / 8, &nulls)) {
		rc = binlog_err_set(err, BINLOG_E_TRUNCATED,
				    "TABLE_MAP %.*s.%.*s: metadata or null bitmap truncated",
				    (int)dl, db, (int)tl, tb);
		goto fail;
	}
	t->cols = calloc((size_t)ncols, sizeof(*t->cols));
	if (!t->cols) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		goto fail;
	}
	mc = binlog_cur_make(meta, (size_t)mlen);
	for (uint32_t i = 0; i < t->ncols; i++) {
		binlog_column_t *col = &t->cols[i];
		int ml = meta_len(types[i]);
		const uint8_t *m;
		col->type = col->wire_type = types[i];
		if (ml < 0) {
			rc = binlog_err_set(err, BINLOG_E_UNSUPPORTED,
					    "TABLE_MAP %.*s.%.*s column %u: unknown type code %u",
					    (int)dl, db, (int)tl, tb, i, types[i]);
			goto fail;
		}
		if (!binlog_cur_bytes(&mc, (size_t)ml, &m)) {
			rc = binlog_err_set(err, BINLOG_E_BAD_EVENT,
					    "TABLE_MAP %.*s.%.*s: metadata ends at column %u",
					    (int)dl, db, (int)tl, tb, i);
			goto fail;
		}
		if (ml && (rc = column_meta(col, i, m, err)) != BINLOG_OK)
			goto fail;
		if (nulls[i / 8] & (1 << (i % 8)))
			col->flags |= BINLOG_COL_NULLABLE;
		if (col->type == BINLOG_TYPE_JSON)
			col->json_index = (uint16_t)t->njson++;
	}
	if (binlog_cur_left(&mc)) {
		rc = binlog_err_set(
			err, BINLOG_E_BAD_EVENT,
			"TABLE_MAP %.*s.%.*s: %zu metadata bytes left after the last column",
			(int)dl, db, (int)tl, tb, binlog_cur_left(&mc));
		goto fail;
	}
	if (binlog_cur_left(&c) && col_lists_build(&lists, t, flavor)) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		goto fail;
	}
	while (binlog_cur_left(&c)) {
		uint8_t f;
		uint64_t flen;
		binlog_cur_t v;
		if (!binlog_cur_u8(&c, &f) || !binlog_cur_packed(&c, &flen) ||
		    !binlog_cur_take(&c, (size_t)flen, &v)) {
			rc = binlog_err_set(err, BINLOG_E_TRUNCATED,
					    "TABLE_MAP %.*s.%.*s: optional metadata truncated",
					    (int)dl, db, (int)tl, tb);
			goto fail;
		}
		if ((rc = opt_field(tp, &lists, f, v, err)) != BINLOG_OK) {
			binlog_err_prefix(err, "TABLE_MAP %.*s.%.*s", (int)dl, db, (int)tl, tb);
			goto fail;
		}
	}
	free(lists.mem);
	*out = t;
	return BINLOG_OK;
fail:
	free(lists.mem);
	binlog__table_free(t);
	return rc;
}

void binlog__table_free(binlog_table_t *t)
{
	struct table_priv *tp = (struct table_priv *)t;

	if (!t)
		return;
	if (t->user_free && t->user)
		t->user_free(t->user);
	free(t->cols);
	free(t->pk);
	free(tp->labels);
	free(tp->raw);
	free(tp);
}

const uint8_t *binlog__table_raw(const binlog_table_t *t, size_t *n)
{
	const struct table_priv *tp = (const struct table_priv *)t;
	*n = tp->raw_len;
	return tp->raw;
}
