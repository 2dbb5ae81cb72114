/*
 * binlog_value.c: one column value as it is packed in a row image.
 *
 * Sizes by type (metadata from TABLE_MAP, see binlog_table.c):
 *   TINY 1, SHORT 2, INT24 3, LONG 4, LONGLONG 8, FLOAT 4, DOUBLE 8 (LE)
 *   NEWDECIMAL    binlog_decimal_size(precision, scale), big-endian groups
 *   YEAR 1, DATE 3, TIME 3, DATETIME 8, TIMESTAMP 4
 *   TIME2 3+, DATETIME2 5+, TIMESTAMP2 4+ (plus (fsp + 1) / 2 bytes)
 *   VARCHAR       1-byte length when the max length < 256, else 2
 *   STRING (CHAR) 1-byte length when the byte length < 256, else 2
 *   ENUM          1 or 2 bytes LE; SET 1..8 bytes LE
 *   BIT           whole bytes + 1 when there are leftover bits, BE
 *   BLOB/TEXT/JSON/GEOMETRY/VECTOR  1..4-byte LE length, then bytes
 *   MariaDB BLOB_COMPRESSED / VARCHAR_COMPRESSED: like BLOB / VARCHAR,
 *                 the bytes being a compressed-column record
 *
 * Every length is checked against the bytes left in the row image. The
 * old TIME and DATETIME are also checked field by field: MariaDB's
 * pre-10.0 "hires" temporals write those same type codes with a different
 * size and no metadata to tell, and a range check is what turns that into
 * an error instead of a silently wrong row.
 */
#include "binlog_int.h"

#include "binlog_decimal.h"

#include <string.h>

/* binlog_value_read runs once per column of every row: the error paths
 * (COLD) and the longer cases (OUT_OF_LINE) are functions of their own so
 * that its frame stays small. */
#define COLD        __attribute__((cold, noinline))
#define OUT_OF_LINE __attribute__((noinline))

static COLD binlog_errcode_t short_read(binlog_err_t *err, size_t want, const binlog_cur_t *cur)
{
	return binlog_err_set(err, BINLOG_E_BAD_VALUE, "value needs %zu bytes, %zu left", want,
			      binlog_cur_left(cur));
}

static inline int64_t sign_extend(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;
	return (int64_t)(v << shift) >> shift;
}

/* Fraction bytes of the *2 temporal types, as microseconds. */
static int read_frac(binlog_cur_t *cur, unsigned fsp, uint32_t *usec)
{
	uint64_t f;

	switch (fsp) {
	case 0:
		*usec = 0;
		return 1;
	case 1:
	case 2:
		if (!binlog_cur_be(cur, 1, &f))
			return 0;
		*usec = (uint32_t)f * 10000;
		return 1;
	case 3:
	case 4:
		if (!binlog_cur_be(cur, 2, &f))
			return 0;
		*usec = (uint32_t)f * 100;
		return 1;
	default:
		if (!binlog_cur_be(cur, 3, &f))
			return 0;
		*usec = (uint32_t)f;
		return 1;
	}
}

static COLD binlog_errcode_t bad_temporal(binlog_err_t *err, const char *what, uint64_t raw)
{
	return binlog_err_set(err, BINLOG_E_BAD_VALUE,
			      "%s value 0x%llx is out of range (a MariaDB column created with "
			      "mysql56_temporal_format=OFF has no precision in the binlog and "
			      "cannot be decoded)",
			      what, (unsigned long long)raw);
}

static OUT_OF_LINE binlog_errcode_t read_time2(const binlog_column_t *c, binlog_cur_t *cur,
					       binlog_value_t *v, binlog_err_t *err)
{
	/* 3 bytes of hours/minutes/seconds offset by 0x800000, then the
	 * fraction. Negative values store the fraction reversed so the bytes
	 * sort; this undoes it the way the server does. */
	unsigned fsp = c->meta;
	uint64_t ip, fb;
	int64_t intpart, frac = 0, packed;

	if (!binlog_cur_be(cur, 3, &ip))
		return short_read(err, 3 + (fsp + 1) / 2, cur);
	intpart = (int64_t)ip - 0x800000;
	switch (fsp) {
	case 0:
		packed = intpart * ((int64_t)1 << 24);
		break;
	case 1:
	case 2:
		if (!binlog_cur_be(cur, 1, &fb))
			return short_read(err, 1, cur);
		frac = (int64_t)fb;
		if (intpart < 0 && frac) {
			intpart++;
			frac -= 0x100;
		}
		packed = intpart * ((int64_t)1 << 24) + frac * 10000;
		break;
	case 3:
	case 4:
		if (!binlog_cur_be(cur, 2, &fb))
			return short_read(err, 2, cur);
		frac = (int64_t)fb;
		if (intpart < 0 && frac) {
			intpart++;
			frac -= 0x10000;
		}
		packed = intpart * ((int64_t)1 << 24) + frac * 100;
		break;
	default:
		if (!binlog_cur_be(cur, 3, &fb))
			return short_read(err, 3, cur);
		/* 6 bytes together, offset by 0x800000000000 */
		packed = (int64_t)((ip << 24) | fb) - 0x800000000000LL;
		break;
	}
	v->kind = BINLOG_V_TIME;
	v->fsp = (uint8_t)fsp;
	binlog_time_from_packed_time(packed, &v->t);
	if (v->t.minute > 59 || v->t.second > 59 || v->t.usec > 999999)
		return bad_temporal(err, "TIME2", ip);
	return BINLOG_OK;
}

static COLD binlog_errcode_t too_long(binlog_err_t *err, uint64_t len, const binlog_cur_t *cur)
{
	return binlog_err_set(err, BINLOG_E_BAD_VALUE, "length %llu exceeds the %zu bytes left",
			      (unsigned long long)len, binlog_cur_left(cur));
}

static inline binlog_errcode_t read_length_prefixed(binlog_cur_t *cur, unsigned lenbytes,
						    binlog_value_t *v, binlog_err_t *err)
{
	uint64_t len;

	if (!binlog_cur_le(cur, lenbytes, &len))
		return short_read(err, lenbytes, cur);
	if (!binlog_cur_bytes(cur, (size_t)len, &v->s))
		return too_long(err, len, cur);
	v->n = (size_t)len;
	return BINLOG_OK;
}

/*
 * Little-endian integer of n bytes. n is a constant at every call site, so
 * this is one or two loads where binlog_le would loop byte by byte. The
 * caller checked the length.
 */
static inline __attribute__((always_inline)) uint64_t le_fixed(const uint8_t *p, unsigned n)
{
	switch (n) {
	case 1:
		return p[0];
	case 2:
		return binlog_le16(p);
	case 3:
		return binlog_le16(p) | (uint64_t)p[2] << 16;
	case 4:
		return binlog_le32(p);
	case 8:
		return binlog_le64(p);
	default:
		return binlog_le(p, n);
	}
}

static inline __attribute__((always_inline)) binlog_errcode_t
read_integer(const binlog_column_t *c, binlog_cur_t *cur, unsigned n, binlog_value_t *v,
	     binlog_err_t *err)
{
	uint64_t x;

	if (binlog_cur_left(cur) < n)
		return short_read(err, n, cur);
	x = le_fixed(cur->p, n);
	cur->p += n;
	if (c->flags & BINLOG_COL_UNSIGNED) {
		v->kind = BINLOG_V_UINT;
		v->u = x;
	} else {
		v->kind = BINLOG_V_INT;
		v->i = sign_extend(x, n);
	}
	return BINLOG_OK;
}

static OUT_OF_LINE binlog_errcode_t read_date(binlog_cur_t *cur, binlog_value_t *v,
					      binlog_err_t *err)
{
	uint64_t x;

	if (!binlog_cur_le(cur, 3, &x))
		return short_read(err, 3, cur);
	memset(&v->t, 0, sizeof(v->t));
	v->t.day = (uint8_t)(x & 31);
	v->t.month = (uint8_t)((x >> 5) & 15);
	v->t.year = (uint16_t)(x >> 9);
	v->kind = BINLOG_V_DATE;
	if (v->t.month > 12)
		return bad_temporal(err, "DATE", x);
	return BINLOG_OK;
}

static OUT_OF_LINE binlog_errcode_t read_time(binlog_cur_t *cur, binlog_value_t *v,
					      binlog_err_t *err)
{
	uint64_t x;
	int64_t hms;

	if (!binlog_cur_le(cur, 3, &x))
		return short_read(err, 3, cur);
	hms = sign_extend(x, 3);
	memset(&v->t, 0, sizeof(v->t));
	if (hms < 0) {
		v->t.neg = 1;
		hms = -hms;
	}
	v->t.hour = (uint32_t)(hms / 10000);
	v->t.minute = (uint8_t)(hms / 100 % 100);
	v->t.second = (uint8_t)(hms % 100);
	v->kind = BINLOG_V_TIME;
	v->fsp = 0;
	if (v->t.minute > 59 || v->t.second > 59 || v->t.hour > 838)
		return bad_temporal(err, "TIME", x);
	return BINLOG_OK;
}

static OUT_OF_LINE binlog_errcode_t read_datetime(binlog_cur_t *cur, binlog_value_t *v,
						  binlog_err_t *err)
{
	uint64_t x, d, t;

	if (!binlog_cur_le64(cur, &x))
		return short_read(err, 8, cur);
	d = x / 1000000;
	t = x % 1000000;
	memset(&v->t, 0, sizeof(v->t));
	v->t.year = (uint16_t)(d / 10000 % 10000);
	v->t.month = (uint8_t)(d / 100 % 100);
	v->t.day = (uint8_t)(d % 100);
	v->t.hour = (uint32_t)(t / 10000);
	v->t.minute = (uint8_t)(t / 100 % 100);
	v->t.second = (uint8_t)(t % 100);
	v->kind = BINLOG_V_DATETIME;
	v->fsp = 0;
	if (d > 99991231 || v->t.month > 12 || v->t.day > 31 || v->t.hour > 23 ||
	    v->t.minute > 59 || v->t.second > 59)
		return bad_temporal(err, "DATETIME", x);
	return BINLOG_OK;
}

static OUT_OF_LINE binlog_errcode_t read_timestamp(binlog_cur_t *cur, binlog_value_t *v,
						   binlog_err_t *err)
{
	uint64_t x;

	if (!binlog_cur_le(cur, 4, &x))
		return short_read(err, 4, cur);
	v->kind = BINLOG_V_TIMESTAMP;
	v->ts_sec = (int64_t)x;
	v->fsp = 0;
	memset(&v->t, 0, sizeof(v->t));
	return BINLOG_OK;
}

static OUT_OF_LINE binlog_errcode_t read_timestamp2(const binlog_column_t *c, binlog_cur_t *cur,
						    binlog_value_t *v, binlog_err_t *err)
{
	uint64_t x;

	if (!binlog_cur_be(cur, 4, &x))
		return short_read(err, 4 + (c->meta + 1) / 2, cur);
	memset(&v->t, 0, sizeof(v->t));
	if (!read_frac(cur, c->meta, &v->t.usec))
		return short_read(err, (c->meta + 1) / 2, cur);
	v->kind = BINLOG_V_TIMESTAMP;
	v->ts_sec = (int64_t)x;
	v->fsp = (uint8_t)c->meta;
	if (v->t.usec > 999999)
		return bad_temporal(err, "TIMESTAMP2", x);
	return BINLOG_OK;
}

static OUT_OF_LINE binlog_errcode_t read_datetime2(const binlog_column_t *c, binlog_cur_t *cur,
						   binlog_value_t *v, binlog_err_t *err)
{
	uint64_t x, ymd, ym, hms;
	int64_t ip;

	if (!binlog_cur_be(cur, 5, &x))
		return short_read(err, 5 + (c->meta + 1) / 2, cur);
	memset(&v->t, 0, sizeof(v->t));
	if (!read_frac(cur, c->meta, &v->t.usec))
		return short_read(err, (c->meta + 1) / 2, cur);
	ip = (int64_t)x - 0x8000000000LL;
	if (ip < 0)
		return bad_temporal(err, "DATETIME2", x);
	ymd = (uint64_t)ip >> 17;
	ym = ymd >> 5;
	hms = (uint64_t)ip % (1 << 17);
	v->t.year = (uint16_t)(ym / 13);
	v->t.month = (uint8_t)(ym % 13);
	v->t.day = (uint8_t)(ymd % (1 << 5));
	v->t.hour = (uint32_t)(hms >> 12);
	v->t.minute = (uint8_t)((hms >> 6) % (1 << 6));
	v->t.second = (uint8_t)(hms % (1 << 6));
	v->kind = BINLOG_V_DATETIME;
	v->fsp = (uint8_t)c->meta;
	if (ym / 13 > 9999 || v->t.hour > 23 || v->t.minute > 59 || v->t.second > 59 ||
	    v->t.usec > 999999)
		return bad_temporal(err, "DATETIME2", x);
	return BINLOG_OK;
}

static OUT_OF_LINE binlog_errcode_t read_compressed(const binlog_column_t *c, binlog_cur_t *cur,
						    binlog_buf_t *scratch, size_t max_inflated,
						    binlog_value_t *v, binlog_err_t *err)
{
	binlog_value_t raw;
	unsigned lb = c->type == BINLOG_TYPE_BLOB_COMPRESSED ? c->meta : (c->meta < 256 ? 1u : 2u);
	binlog_errcode_t rc;

	raw.s = NULL;
	raw.n = 0;
	if ((rc = read_length_prefixed(cur, lb, &raw, err)) != BINLOG_OK)
		return rc;
	if (!scratch)
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "compressed column read without a buffer");
	binlog_buf_reset(scratch);
	if ((rc = binlog__maria_column_inflate(raw.s, raw.n, max_inflated, scratch, err)) !=
	    BINLOG_OK)
		return rc;
	v->kind = BINLOG_V_STRING;
	v->s = scratch->data ? scratch->data : raw.s;
	v->n = scratch->len;
	return BINLOG_OK;
}

static COLD binlog_errcode_t unsupported(const binlog_column_t *c, binlog_err_t *err)
{
	const char *tn = binlog_column_type_name(c->type);

	return binlog_err_set(err, BINLOG_E_UNSUPPORTED, "column type %s (%u) in a row image",
			      tn ? tn : "?", c->type);
}

/*
 * One call per column of every row, so this is a dispatcher: the cases
 * that fit in a few instructions are here, the temporal and compressed
 * ones are functions of their own (tail calls), which keeps this frame
 * and its register saves small.
 */
binlog_errcode_t binlog__value_read(const binlog_column_t *c, binlog_cur_t *cur, int partial_json,
				    binlog_buf_t *scratch, size_t max_inflated, binlog_value_t *v,
				    binlog_err_t *err)
{
	uint64_t x;
	unsigned n;
	binlog_errcode_t rc;

	switch (c->type) {
	case BINLOG_TYPE_TINY:
		return read_integer(c, cur, 1, v, err);
	case BINLOG_TYPE_SHORT:
		return read_integer(c, cur, 2, v, err);
	case BINLOG_TYPE_INT24:
		return read_integer(c, cur, 3, v, err);
	case BINLOG_TYPE_LONG:
		return read_integer(c, cur, 4, v, err);
	case BINLOG_TYPE_LONGLONG:
		return read_integer(c, cur, 8, v, err);
	case BINLOG_TYPE_FLOAT: {
		uint32_t u32;
		float f;
		if (!binlog_cur_le32(cur, &u32))
			return short_read(err, 4, cur);
		memcpy(&f, &u32, 4);
		v->kind = BINLOG_V_FLOAT;
		v->d = f;
		return BINLOG_OK;
	}
	case BINLOG_TYPE_DOUBLE:
		if (!binlog_cur_le64(cur, &x))
			return short_read(err, 8, cur);
		memcpy(&v->d, &x, 8);
		v->kind = BINLOG_V_DOUBLE;
		return BINLOG_OK;
	case BINLOG_TYPE_NEWDECIMAL: {
		size_t sz;
		v->prec = (uint8_t)(c->meta >> 8);
		v->scale = (uint8_t)(c->meta & 0xff);
		sz = c->length; /* binlog_decimal_size, computed with the table */
		if (!binlog_cur_bytes(cur, sz, &v->s))
			return short_read(err, sz, cur);
		v->n = sz;
		v->kind = BINLOG_V_DECIMAL;
		return BINLOG_OK;
	}
	case BINLOG_TYPE_YEAR:
		if (!binlog_cur_le(cur, 1, &x))
			return short_read(err, 1, cur);
		v->kind = BINLOG_V_YEAR;
		v->u = x ? 1900 + x : 0;
		return BINLOG_OK;
	case BINLOG_TYPE_DATE:
	case BINLOG_TYPE_NEWDATE:
		return read_date(cur, v, err);
	case BINLOG_TYPE_TIME:
		return read_time(cur, v, err);
	case BINLOG_TYPE_DATETIME:
		return read_datetime(cur, v, err);
	case BINLOG_TYPE_TIMESTAMP:
		return read_timestamp(cur, v, err);
	case BINLOG_TYPE_TIMESTAMP2:
		return read_timestamp2(c, cur, v, err);
	case BINLOG_TYPE_DATETIME2:
		return read_datetime2(c, cur, v, err);
	case BINLOG_TYPE_TIME2:
		return read_time2(c, cur, v, err);
	case BINLOG_TYPE_VARCHAR:
	case BINLOG_TYPE_VAR_STRING:
		v->kind = BINLOG_V_STRING;
		return read_length_prefixed(cur, c->meta < 256 ? 1 : 2, v, err);
	case BINLOG_TYPE_STRING:
		v->kind = BINLOG_V_STRING;
		return read_length_prefixed(cur, c->length < 256 ? 1 : 2, v, err);
	case BINLOG_TYPE_ENUM:
		if (!binlog_cur_le(cur, c->length, &x))
			return short_read(err, c->length, cur);
		v->kind = BINLOG_V_ENUM;
		v->u = x;
		return BINLOG_OK;
	case BINLOG_TYPE_SET:
		if (!binlog_cur_le(cur, c->length, &x))
			return short_read(err, c->length, cur);
		v->kind = BINLOG_V_SET;
		v->u = x;
		return BINLOG_OK;
	case BINLOG_TYPE_BIT:
		n = (c->meta >> 8) + ((c->meta & 0xff) ? 1 : 0);
		if (!binlog_cur_be(cur, n, &x))
			return short_read(err, n, cur);
		v->kind = BINLOG_V_BIT;
		v->u = x;
		return BINLOG_OK;
	case BINLOG_TYPE_BLOB:
	case BINLOG_TYPE_TINY_BLOB:
	case BINLOG_TYPE_MEDIUM_BLOB:
	case BINLOG_TYPE_LONG_BLOB:
		v->kind = BINLOG_V_STRING;
		return read_length_prefixed(cur, c->meta, v, err);
	case BINLOG_TYPE_JSON:
		v->kind = partial_json ? BINLOG_V_JSON_DIFF : BINLOG_V_JSON;
		return read_length_prefixed(cur, c->meta, v, err);
	case BINLOG_TYPE_GEOMETRY:
		v->kind = BINLOG_V_GEOMETRY;
		return read_length_prefixed(cur, c->meta, v, err);
	case BINLOG_TYPE_VECTOR:
		v->kind = BINLOG_V_VECTOR;
		if ((rc = read_length_prefixed(cur, c->meta, v, err)) != BINLOG_OK)
			return rc;
		if (v->n % 4)
			return binlog_err_set(err, BINLOG_E_BAD_VALUE,
					      "VECTOR of %zu bytes is not a whole number of floats",
					      v->n);
		return BINLOG_OK;
	case BINLOG_TYPE_BLOB_COMPRESSED:
	case BINLOG_TYPE_VARCHAR_COMPRESSED:
		return read_compressed(c, cur, scratch, max_inflated, v, err);
	case BINLOG_TYPE_NULL:
		v->kind = BINLOG_V_NULL;
		return BINLOG_OK;
	default:
		return unsupported(c, err);
	}
}
