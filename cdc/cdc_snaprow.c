/*
 * cdc_snaprow.c: a table's definition as a FULL-metadata TABLE_MAP would
 * give it, from information_schema; its rows, read with SELECT, as binlog
 * values (cdc_snaprow.h).
 *
 * The definition comes from two sources. schema_catalog.c, which the
 * binlog path also asks, gives what the two must agree on: the columns in
 * the binlog's order (with what MariaDB logs and information_schema
 * hides: row_start/row_end of system versioning, DB_ROW_HASH_n), names,
 * signedness, collations, MariaDB's own types, and the key the binlog
 * calls primary (a promoted UNIQUE NOT NULL key included). Then this file
 * reads what a TABLE_MAP adds and the catalog does not keep: COLUMN_TYPE
 * (ENUM/SET labels, COMPRESSED, VECTOR dimensions), byte lengths,
 * precision and scale, fractional seconds, nullability, the key's prefix
 * lengths, TABLE_ROWS. A definition changed between the two reads is an
 * error the caller retries (BINLOG_E_IO).
 *
 * Each column type, how TABLE_MAP describes it, and how its value is
 * selected and read (RD_*):
 *
 *   TINYINT..BIGINT   TINY..LONGLONG; digits (ZEROFILL's leading zeros
 *                     too) to INT or UINT by the signedness
 *   DECIMAL(p,s)      NEWDECIMAL, meta p<<8|s; the text, kept as text
 *                     (CDC_V_DECIMAL_TEXT: see cdc_record.h)
 *   FLOAT, DOUBLE     meta 4 / 8; CAST(c AS DOUBLE) is exact for both
 *                     (a FLOAT's own text is rounded to 6 digits; c+0e0
 *                     keeps FLOAT(M,D)'s D decimals; MySQL has CAST AS
 *                     DOUBLE from 8.0.17), with a '-' in front when c is
 *                     a negative zero, which the text of a zero does not
 *                     show (ATAN2 does)
 *   BIT(n)            meta n/8<<8 | n%8; c+0, the bits as a number
 *   YEAR              YEAR; its digits, 0 for 0000
 *   DATE, TIME(n), DATETIME(n)   DATE, TIME2, DATETIME2 (meta n); text
 *   TIMESTAMP(n)      TIMESTAMP2; the text in UTC (cdc_snap_session sets
 *                     time_zone '+00:00'), read back to seconds since the
 *                     epoch; the zero timestamp stays 0
 *   CHAR, BINARY      STRING with the real type in the meta and the byte
 *                     length; the bytes (SELECT pads BINARY(n) with 0x00,
 *                     which the writer would restore anyway)
 *   VARCHAR, VARBINARY  VARCHAR, meta the byte length (MariaDB's
 *                     COMPRESSED ones VARCHAR_COMPRESSED); the bytes
 *   TEXT, BLOB        BLOB, meta the length bytes (1..4; COMPRESSED ones
 *                     BLOB_COMPRESSED); the bytes, decompressed by the
 *                     server. MariaDB's JSON is a LONGTEXT like any other
 *                     (the catalog marks it; the writer embeds it)
 *   ENUM, SET         STRING on the wire, resolved to ENUM/SET, labels
 *                     and their collation; CONCAT(CAST(c AS UNSIGNED),
 *                     ',', CAST(c AS BINARY)): the index (bitmask), which
 *                     key literals use (ENUM and SET sort by it, and
 *                     compare with a number by it; except a SET of 64
 *                     members with the last one set, which MariaDB
 *                     compares as a negative number and sorts as a
 *                     positive one), then the label text
 *                     (CDC_V_LABEL_TEXT: see cdc_record.h)
 *   GEOMETRY and kinds  GEOMETRY, meta 4; the bytes, SRID + WKB as the
 *                     binlog holds them
 *   UUID, INET4, INET6  (MariaDB) BINARY(16), BINARY(4), BINARY(16) on
 *                     the wire; UNHEX(HEX(c)), the bytes the binlog logs
 *                     (the text order for UUID; network order for INET)
 *   VECTOR(n)         MariaDB 11.7+: a binary VARCHAR of 4n bytes (the
 *                     form schema.c expects on the wire); MySQL 9: VECTOR
 *                     with its dimension. The float32 bytes. Neither
 *                     server is here to check against
 *   JSON (MySQL)      JSON, meta 4. The binlog holds binary JSON, SELECT
 *                     its text, which is embedded compacted
 *                     (CDC_V_JSON_TEXT). Not testable here, and not byte
 *                     for byte the binlog path's rendering where MySQL's
 *                     text and binlog_json.c spell a double differently
 *   DB_ROW_HASH_n     (MariaDB) no SELECT reads it: NULL is selected and
 *                     the column left out (CDC_V_ABSENT)
 *
 * TIME, DATETIME and TIMESTAMP columns created with MariaDB's
 * mysql56_temporal_format=OFF (before 10.1) are logged with the old type
 * codes and no precision; the catalog cannot tell them apart, so their
 * TABLE_MAP description here is the new one. Their values are the same.
 */
#include <mysql.h>

#include "cdc_snaprow.h"

#include <errno.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "binlog_types.h"
#include "binlog_decimal.h"
#include "binlog_jsonw.h"
#include "cdc_record.h"
#include "schema_catalog.h"

/* How a column is selected and its text read. */
enum snap_read {
	RD_INT = 1, /* digits: INT or UINT by the signedness */
	RD_DECIMAL, /* CDC_V_DECIMAL_TEXT */
	RD_FLOAT,   /* "[-]" CAST(c AS DOUBLE) */
	RD_DOUBLE,
	RD_BIT,  /* c+0 */
	RD_YEAR, /* digits */
	RD_DATE,
	RD_TIME,
	RD_DATETIME,
	RD_TIMESTAMP, /* text in UTC */
	RD_STRING,    /* bytes */
	RD_FIXED,     /* UUID/INET4/INET6: UNHEX(HEX(c)), bytes */
	RD_LABELS,    /* ENUM/SET "index,label": CDC_V_LABEL_TEXT */
	RD_GEOMETRY,  /* bytes: SRID + WKB */
	RD_JSON,      /* MySQL JSON text: CDC_V_JSON_TEXT */
	RD_VECTOR,    /* MySQL VECTOR bytes */
	RD_ABSENT,    /* nothing can select it: CDC_V_ABSENT */
};

/* How a key value is written as an SQL literal. */
enum snap_lit {
	LIT_NUMBER = 1, /* as it came: digits, sign, point */
	LIT_FLOAT,      /* with "e0" unless it has an exponent: a double */
	LIT_TEXT,       /* _charset X'hex' */
	LIT_BYTES,      /* X'hex' */
	LIT_QUOTED,     /* 'text' (temporal: ASCII digits and separators) */
	LIT_INDEX,      /* ENUM/SET: the number before the ',' */
};

struct cdc_snap_col {
	uint8_t read; /* enum snap_read */
	uint8_t lit;  /* enum snap_lit */
	char *name;
	char *charset;        /* CHARACTER_SET_NAME, for literals; or NULL */
	binlog_str_t *labels; /* ENUM/SET */
	char *label_bytes;
};

/* ------------------------------------------------------------------ */
/* Queries                                                             */

static binlog_errcode_t query_error(MYSQL *m, const char *what, binlog_err_t *err)
{
	unsigned no = mysql_errno(m);
	int transient = (no >= CR_MIN_ERROR && no <= CR_MAX_ERROR) || no == ER_LOCK_WAIT_TIMEOUT ||
			no == ER_LOCK_DEADLOCK || no == ER_QUERY_INTERRUPTED ||
			no == ER_SERVER_SHUTDOWN || no == ER_CON_COUNT_ERROR;

	return binlog_err_set(err, transient ? BINLOG_E_IO : BINLOG_E_USAGE, "%s: %s (error %u)",
			      what, mysql_error(m), no);
}

/* Run q and store its result (the caller frees it). */
static binlog_errcode_t run(MYSQL *m, const binlog_buf_t *q, const char *what, MYSQL_RES **res,
			    binlog_err_t *err)
{
	*res = NULL;
	if (q->failed)
		return binlog_err_set(err, BINLOG_E_NOMEM, "%s: query too large", what);
	if (mysql_real_query(m, (const char *)q->data, (unsigned long)q->len) != 0)
		return query_error(m, what, err);
	*res = mysql_store_result(m);
	if (!*res)
		return mysql_errno(m) ? query_error(m, what, err)
				      : binlog_err_set(err, BINLOG_E_USAGE, "%s: no result", what);
	return BINLOG_OK;
}

/* s as the body of a quoted string literal. */
/* `name`, with backticks doubled. */
void cdc_snap_put_ident(binlog_buf_t *b, const char *name)
{
	binlog_buf_putc(b, '`');
	for (const char *p = name; *p; p++) {
		if (*p == '`')
			binlog_buf_putc(b, '`');
		binlog_buf_putc(b, (uint8_t)*p);
	}
	binlog_buf_putc(b, '`');
}

binlog_errcode_t cdc_snap_session(MYSQL *m, binlog_err_t *err)
{
	static const char *const stmts[] = {
		"SET SESSION character_set_results = binary",
		"SET SESSION time_zone = '+00:00'",
		"SET SESSION sql_mode = ''",
		"SET SESSION sql_select_limit = 18446744073709551615",
	};

	/* Through the client library, so that its escaping follows. */
	if (mysql_set_character_set(m, "utf8mb4") != 0)
		return query_error(m, "SET NAMES utf8mb4", err);
	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		if (mysql_query(m, stmts[i]) != 0)
			return query_error(m, stmts[i], err);
	}
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* The definition                                                      */

/* One row of information_schema.COLUMNS. */
typedef struct coldef {
	char *name, *data_type, *column_type, *charset;
	int nullable, invisible;
	uint64_t octets, prec, scale, dt_prec;
} coldef_t;

static char *dup_s(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *d = malloc(n + 1);

	if (d) {
		if (n)
			memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

static uint64_t num_or_zero(const char *s)
{
	return s ? strtoull(s, NULL, 10) : 0;
}

static void coldefs_free(coldef_t *d, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		free(d[i].name);
		free(d[i].data_type);
		free(d[i].column_type);
		free(d[i].charset);
	}
	free(d);
}

static int contains_ci(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s; s++)
		if (strncasecmp(s, w, n) == 0)
			return 1;
	return 0;
}

/* TABLES: the exact name as the catalog picks it (information_schema
 * compares names case-insensitively on some systems), and TABLE_ROWS. */
static binlog_errcode_t read_table(MYSQL *m, const char *db, const char *table, char *exact,
				   size_t cap, uint64_t *rows, binlog_err_t *err)
{
	binlog_buf_t q;
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_errcode_t rc;
	int found = 0;

	binlog_buf_init(&q, 0);
	schema_catalog_query(&q, m, "TABLE_NAME, TABLE_ROWS", "TABLES", "TABLE_SCHEMA", db, table,
			     "");
	rc = run(m, &q, "information_schema.TABLES", &res, err);
	binlog_buf_free(&q);
	if (rc != BINLOG_OK)
		return rc;
	while ((row = mysql_fetch_row(res))) {
		if (!row[0])
			continue;
		if (!found || strcmp(row[0], table) == 0) {
			snprintf(exact, cap, "%s", row[0]);
			*rows = num_or_zero(row[1]);
		}
		found++;
	}
	mysql_free_result(res);
	if (!found)
		return binlog_err_set(err, BINLOG_E_IO, "dropped while its definition was read");
	return BINLOG_OK;
}

static binlog_errcode_t read_columns(MYSQL *m, const char *db, const char *table, const char *exact,
				     coldef_t **out, uint32_t *nout, binlog_err_t *err)
{
	binlog_buf_t q;
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_errcode_t rc;
	coldef_t *d;
	uint32_t n = 0;

	*out = NULL;
	*nout = 0;
	binlog_buf_init(&q, 0);
	schema_catalog_query(
		&q, m,
		"TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, "
		"CHARACTER_OCTET_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, "
		"CHARACTER_SET_NAME, EXTRA",
		"COLUMNS", "TABLE_SCHEMA", db, table, " ORDER BY ORDINAL_POSITION");
	rc = run(m, &q, "information_schema.COLUMNS", &res, err);
	binlog_buf_free(&q);
	if (rc != BINLOG_OK)
		return rc;
	d = calloc(mysql_num_rows(res) + 1, sizeof(*d));
	if (!d) {
		mysql_free_result(res);
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	}
	while ((row = mysql_fetch_row(res))) {
		coldef_t *c;

		if (!row[0] || strcmp(row[0], exact) != 0 || !row[1] || !row[2] || !row[3])
			continue;
		c = &d[n++];
		c->name = dup_s(row[1]);
		c->data_type = dup_s(row[2]);
		c->column_type = dup_s(row[3]);
		c->charset = row[9] ? dup_s(row[9]) : NULL;
		c->nullable = row[4] && strcmp(row[4], "YES") == 0;
		c->octets = num_or_zero(row[5]);
		c->prec = num_or_zero(row[6]);
		c->scale = num_or_zero(row[7]);
		c->dt_prec = num_or_zero(row[8]);
		c->invisible = row[10] && contains_ci(row[10], "INVISIBLE");
		if (!c->name || !c->data_type || !c->column_type || (row[9] && !c->charset)) {
			mysql_free_result(res);
			coldefs_free(d, n);
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
	}
	mysql_free_result(res);
	*out = d;
	*nout = n;
	return BINLOG_OK;
}

/* The prefix lengths of the PRIMARY key's parts (STATISTICS.SUB_PART), for
 * PRIMARY_KEY_WITH_PREFIX; a promoted UNIQUE key never has one. */
static binlog_errcode_t read_prefixes(MYSQL *m, const char *db, const char *exact,
				      cdc_snap_table_t *t, binlog_err_t *err)
{
	binlog_buf_t q;
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_errcode_t rc;

	binlog_buf_init(&q, 0);
	schema_catalog_query(&q, m, "TABLE_NAME, COLUMN_NAME, SUB_PART", "STATISTICS",
			     "TABLE_SCHEMA", db, exact,
			     " AND INDEX_NAME = 'PRIMARY' AND SUB_PART IS NOT NULL");
	rc = run(m, &q, "information_schema.STATISTICS", &res, err);
	binlog_buf_free(&q);
	if (rc != BINLOG_OK)
		return rc;
	while ((row = mysql_fetch_row(res))) {
		if (!row[0] || strcmp(row[0], exact) != 0 || !row[1] || !row[2])
			continue;
		for (uint32_t k = 0; k < t->npk; k++) {
			binlog_column_t *c = &t->bt.cols[t->pk[k]];
			if (strcmp(t->cols[t->pk[k]].name, row[1]) == 0) {
				uint64_t p = num_or_zero(row[2]);
				c->pk_prefix = (uint16_t)(p > 65535 ? 65535 : p);
			}
		}
	}
	mysql_free_result(res);
	return BINLOG_OK;
}

/*
 * The labels of "enum('a','it''s','b\\c')" or "set(...)", as
 * information_schema spells them: quotes doubled, backslash escapes as
 * the server's append_unescaped writes them. Appends each label to `text`
 * and its length to lens. Returns the count, or -1 when malformed.
 */
static long parse_labels(const char *ct, binlog_buf_t *text, uint32_t **lens)
{
	const char *p = strchr(ct, '(');
	long n = 0, cap = 0;

	*lens = NULL;
	if (!p)
		return -1;
	p++;
	for (;;) {
		size_t at = text->len;
		uint32_t *nl;

		if (*p != '\'')
			return -1;
		for (p++;; p++) {
			if (!*p)
				return -1;
			if (*p == '\'' && p[1] == '\'') {
				binlog_buf_putc(text, '\'');
				p++;
			} else if (*p == '\'') {
				break;
			} else if (*p == '\\' && p[1]) {
				static const char from[] = "0nrZtb", to[] = "\0\n\r\032\t\b";
				const char *e = strchr(from, p[1]);
				binlog_buf_putc(text, (uint8_t)(e ? to[e - from] : p[1]));
				p++;
			} else {
				binlog_buf_putc(text, (uint8_t)*p);
			}
		}
		p++;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nl = realloc(*lens, (size_t)cap * sizeof(*nl));
			if (!nl)
				return -1;
			*lens = nl;
		}
		(*lens)[n++] = (uint32_t)(text->len - at);
		if (*p == ',') {
			p++;
			continue;
		}
		return *p == ')' && !text->failed ? n : -1;
	}
}

static int is_utf8_name(const char *cs)
{
	return !cs || strncasecmp(cs, "utf8", 4) == 0;
}

/*
 * The labels of column i, in the column's charset as the binlog logs
 * them: information_schema gives them in utf8mb3, the server converts
 * them back (labels the catalog cannot spell, with characters beyond the
 * BMP, come out as '?': the values are read as text and do not need them,
 * see cdc_record.h CDC_V_LABEL_TEXT).
 */
static binlog_errcode_t load_labels(MYSQL *m, cdc_snap_table_t *t, uint32_t i, const coldef_t *d,
				    binlog_err_t *err)
{
	struct cdc_snap_col *sc = &t->cols[i];
	binlog_column_t *c = &t->bt.cols[i];
	binlog_buf_t text, conv, q;
	uint32_t *lens = NULL;
	long n;
	binlog_errcode_t rc = BINLOG_OK;
	size_t off;

	binlog_buf_init(&text, 0);
	binlog_buf_init(&conv, 0);
	binlog_buf_init(&q, 0);
	n = parse_labels(d->column_type, &text, &lens);
	if (n <= 0) {
		rc = binlog_err_set(err, BINLOG_E_UNSUPPORTED,
				    "column %s: cannot read the labels of %s", d->name,
				    d->column_type);
		goto out;
	}
	if (!is_utf8_name(d->charset)) {
		/* One query per 256 labels: SELECT CONVERT(_utf8mb4 X'..' USING
		 * cs), ... */
		off = 0;
		for (long k = 0; k < n && rc == BINLOG_OK; k += 256) {
			MYSQL_RES *res;
			MYSQL_ROW row;
			unsigned long *rl;
			long e = k + 256 < n ? k + 256 : n;

			binlog_buf_reset(&q);
			binlog_buf_lit(&q, "SELECT ");
			for (long j = k; j < e; j++) {
				if (j > k)
					binlog_buf_putc(&q, ',');
				binlog_buf_lit(&q, "CONVERT(_utf8mb4 X'");
				binlog_jw_hex(&q, text.data + off, lens[j]);
				binlog_buf_lit(&q, "' USING ");
				binlog_buf_puts(&q, d->charset);
				binlog_buf_putc(&q, ')');
				off += lens[j];
			}
			rc = run(m, &q, "ENUM/SET labels", &res, err);
			if (rc != BINLOG_OK)
				break;
			row = mysql_fetch_row(res);
			rl = row ? mysql_fetch_lengths(res) : NULL;
			if (!row || !rl || mysql_num_fields(res) != (unsigned)(e - k)) {
				mysql_free_result(res);
				rc = binlog_err_set(err, BINLOG_E_USAGE, "ENUM/SET labels: no row");
				break;
			}
			for (long j = k; j < e; j++) {
				binlog_buf_put(&conv, row[j - k] ? row[j - k] : "", rl[j - k]);
				lens[j] = (uint32_t)rl[j - k];
			}
			mysql_free_result(res);
		}
		if (rc != BINLOG_OK)
			goto out;
	} else {
		binlog_buf_put(&conv, text.data, text.len);
	}
	sc->labels = calloc((size_t)n, sizeof(*sc->labels));
	sc->label_bytes = malloc(conv.len ? conv.len : 1);
	if (!sc->labels || !sc->label_bytes || conv.failed) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		goto out;
	}
	if (conv.len)
		memcpy(sc->label_bytes, conv.data, conv.len);
	off = 0;
	for (long k = 0; k < n; k++) {
		sc->labels[k].p = sc->label_bytes + off;
		sc->labels[k].len = lens[k];
		off += lens[k];
	}
	c->labels = sc->labels;
	c->nlabels = (uint32_t)n;
out:
	free(lens);
	binlog_buf_free(&text);
	binlog_buf_free(&conv);
	binlog_buf_free(&q);
	return rc;
}

static const struct {
	const char *name;
	uint8_t type;
} int_types[] = {
	{"tinyint", BINLOG_TYPE_TINY},    {"smallint", BINLOG_TYPE_SHORT},
	{"mediumint", BINLOG_TYPE_INT24}, {"int", BINLOG_TYPE_LONG},
	{"integer", BINLOG_TYPE_LONG},    {"bigint", BINLOG_TYPE_LONGLONG},
};

static const struct {
	const char *name;
	uint8_t meta; /* the length's bytes */
	uint8_t binary;
} blob_types[] = {
	{"tinytext", 1, 0}, {"text", 2, 0}, {"mediumtext", 3, 0}, {"longtext", 4, 0},
	{"tinyblob", 1, 1}, {"blob", 2, 1}, {"mediumblob", 3, 1}, {"longblob", 4, 1},
};

/* GEOMETRY_TYPE metadata values (the server's Field::geometry_type). */
static const char *const geom_types[] = {
	"geometry",   "point",           "linestring",   "polygon",
	"multipoint", "multilinestring", "multipolygon", "geometrycollection"};

#define COLLATION_BINARY 63

/* CHAR/BINARY metadata: the real type, with the two high bits of a byte
 * length above 255 folded into it (Field_string::do_save_field_metadata). */
static uint16_t string_meta(uint8_t real, uint32_t len)
{
	return (uint16_t)((uint16_t)(real ^ ((len & 0x300) >> 4)) << 8 | (len & 0xff));
}

/*
 * Column i: its type as TABLE_MAP resolves it, metadata, and how it is
 * selected, from the catalog's column cc and information_schema's d.
 */
static binlog_errcode_t describe(MYSQL *m, cdc_snap_table_t *t, uint32_t i,
				 const schema_catalog_column_t *cc, const coldef_t *d,
				 binlog_err_t *err)
{
	binlog_column_t *c = &t->bt.cols[i];
	struct cdc_snap_col *sc = &t->cols[i];
	const char *dt = cc->data_type;
	int mariadb = t->flavor == BINLOG_FLAVOR_MARIADB;
	int compressed = d && contains_ci(d->column_type, "compressed");
	uint32_t octets = d ? (uint32_t)(d->octets > 65535 ? 65535 : d->octets) : 0;

	if (d && d->nullable)
		c->flags |= BINLOG_COL_NULLABLE;
	/* MySQL 8.0.23+ logs COLUMN_VISIBILITY; MariaDB logs none. */
	if (d && d->invisible && !mariadb)
		c->flags |= BINLOG_COL_INVISIBLE;
	if (cc->is_unsigned)
		c->flags |= BINLOG_COL_UNSIGNED;
	sc->lit = LIT_NUMBER;

	for (size_t k = 0; k < sizeof(int_types) / sizeof(int_types[0]); k++)
		if (strcmp(dt, int_types[k].name) == 0) {
			c->type = int_types[k].type;
			sc->read = RD_INT;
			goto done;
		}
	for (size_t k = 0; k < sizeof(blob_types) / sizeof(blob_types[0]); k++)
		if (strcmp(dt, blob_types[k].name) == 0) {
			c->type = compressed ? BINLOG_TYPE_BLOB_COMPRESSED : BINLOG_TYPE_BLOB;
			c->meta = blob_types[k].meta;
			c->collation = blob_types[k].binary ? COLLATION_BINARY : cc->collation_id;
			sc->read = RD_STRING;
			sc->lit = blob_types[k].binary ? LIT_BYTES : LIT_TEXT;
			goto done;
		}
	for (size_t k = 0; k < sizeof(geom_types) / sizeof(geom_types[0]); k++)
		if (strcmp(dt, geom_types[k]) == 0 ||
		    (k == 7 && strcmp(dt, "geomcollection") == 0)) {
			c->type = BINLOG_TYPE_GEOMETRY;
			c->meta = 4;
			c->geom_type = (uint8_t)k;
			/* MariaDB counts GEOMETRY among the character columns:
			 * binary. */
			if (mariadb)
				c->collation = COLLATION_BINARY;
			sc->read = RD_GEOMETRY;
			sc->lit = LIT_BYTES;
			goto done;
		}
	if (strcmp(dt, "decimal") == 0 || strcmp(dt, "numeric") == 0) {
		if (!d || !binlog_decimal_size((unsigned)d->prec, (unsigned)d->scale))
			goto unsupported;
		c->type = BINLOG_TYPE_NEWDECIMAL;
		c->meta = (uint16_t)(d->prec << 8 | d->scale);
		c->length = (uint16_t)binlog_decimal_size((unsigned)d->prec, (unsigned)d->scale);
		sc->read = RD_DECIMAL;
	} else if (strcmp(dt, "float") == 0) {
		c->type = BINLOG_TYPE_FLOAT;
		c->meta = 4;
		sc->read = RD_FLOAT;
		sc->lit = LIT_FLOAT;
	} else if (strcmp(dt, "double") == 0 || strcmp(dt, "real") == 0 ||
		   strcmp(dt, "double precision") == 0) {
		c->type = BINLOG_TYPE_DOUBLE;
		c->meta = 8;
		sc->read = RD_DOUBLE;
		sc->lit = LIT_FLOAT;
	} else if (strcmp(dt, "bit") == 0) {
		uint32_t bits = d ? (uint32_t)d->prec : 0;
		if (bits < 1 || bits > 64)
			goto unsupported;
		c->type = BINLOG_TYPE_BIT;
		c->meta = (uint16_t)((bits / 8) << 8 | (bits % 8));
		sc->read = RD_BIT;
	} else if (strcmp(dt, "year") == 0) {
		/* The server's YEAR is an unsigned number: SIGNEDNESS says so. */
		c->type = BINLOG_TYPE_YEAR;
		c->flags |= BINLOG_COL_UNSIGNED;
		sc->read = RD_YEAR;
	} else if (strcmp(dt, "date") == 0) {
		c->type = BINLOG_TYPE_DATE;
		sc->read = RD_DATE;
		sc->lit = LIT_QUOTED;
	} else if (strcmp(dt, "time") == 0 || strcmp(dt, "datetime") == 0 ||
		   strcmp(dt, "timestamp") == 0) {
		/* A hidden row_start/row_end has no COLUMNS row: TIMESTAMP(6). */
		unsigned fsp = d ? (unsigned)d->dt_prec : 6;
		if (fsp > 6)
			goto unsupported;
		c->meta = (uint16_t)fsp;
		if (dt[1] == 'i' && dt[4] == 0) {
			c->type = BINLOG_TYPE_TIME2;
			sc->read = RD_TIME;
		} else if (dt[1] == 'a') {
			c->type = BINLOG_TYPE_DATETIME2;
			sc->read = RD_DATETIME;
		} else {
			c->type = BINLOG_TYPE_TIMESTAMP2;
			sc->read = RD_TIMESTAMP;
		}
		sc->lit = LIT_QUOTED;
	} else if (strcmp(dt, "char") == 0 || strcmp(dt, "binary") == 0) {
		c->type = BINLOG_TYPE_STRING;
		c->length = (uint16_t)octets;
		c->meta = string_meta(BINLOG_TYPE_STRING, octets);
		c->collation = dt[0] == 'b' ? COLLATION_BINARY : cc->collation_id;
		sc->read = RD_STRING;
		sc->lit = c->collation == COLLATION_BINARY ? LIT_BYTES : LIT_TEXT;
	} else if (strcmp(dt, "varchar") == 0 || strcmp(dt, "varbinary") == 0) {
		/* A COMPRESSED one counts the compression header's byte. */
		c->type = compressed ? BINLOG_TYPE_VARCHAR_COMPRESSED : BINLOG_TYPE_VARCHAR;
		c->meta = (uint16_t)(octets + (compressed ? 1 : 0));
		c->collation = dt[3] == 'b' ? COLLATION_BINARY : cc->collation_id;
		sc->read = RD_STRING;
		sc->lit = c->collation == COLLATION_BINARY ? LIT_BYTES : LIT_TEXT;
	} else if (strcmp(dt, "uuid") == 0 || strcmp(dt, "inet6") == 0 ||
		   strcmp(dt, "inet4") == 0) {
		uint32_t len = dt[4] == '4' ? 4 : 16;
		c->type = BINLOG_TYPE_STRING;
		c->length = (uint16_t)len;
		c->meta = string_meta(BINLOG_TYPE_STRING, len);
		c->collation = COLLATION_BINARY;
		sc->read = RD_FIXED;
		sc->lit = LIT_BYTES;
	} else if (strcmp(dt, "enum") == 0 || strcmp(dt, "set") == 0) {
		binlog_errcode_t rc;
		uint32_t len;
		if (!d)
			goto unsupported;
		if ((rc = load_labels(m, t, i, d, err)) != BINLOG_OK)
			return rc;
		if (dt[0] == 'e') {
			c->type = BINLOG_TYPE_ENUM;
			len = c->nlabels < 256 ? 1 : 2;
		} else {
			c->type = BINLOG_TYPE_SET;
			len = (c->nlabels + 7) / 8;
			if (len > 4)
				len = 8;
		}
		c->wire_type = BINLOG_TYPE_STRING;
		c->length = (uint16_t)len;
		c->meta = (uint16_t)(c->type << 8 | len);
		c->labels_collation = cc->collation_id;
		sc->read = RD_LABELS;
		sc->lit = LIT_INDEX;
		return BINLOG_OK;
	} else if (strcmp(dt, "json") == 0 && !mariadb) {
		c->type = BINLOG_TYPE_JSON;
		c->meta = 4;
		c->json_index = (uint16_t)t->bt.njson++;
		sc->read = RD_JSON;
		sc->lit = LIT_TEXT;
	} else if (strcmp(dt, "vector") == 0) {
		const char *p = d ? strchr(d->column_type, '(') : NULL;
		uint32_t dim = p ? (uint32_t)strtoul(p + 1, NULL, 10) : 0;
		if (mariadb) {
			/* MariaDB 11.7+: a VARBINARY of the floats. */
			c->type = BINLOG_TYPE_VARCHAR;
			c->meta = (uint16_t)(octets ? octets : 4 * dim);
			c->collation = COLLATION_BINARY;
			sc->read = RD_STRING;
		} else {
			c->type = BINLOG_TYPE_VECTOR;
			c->meta = 4;
			c->vector_dim = dim;
			c->collation = COLLATION_BINARY;
			sc->read = RD_VECTOR;
		}
		sc->lit = LIT_BYTES;
	} else {
		goto unsupported;
	}
done:
	c->wire_type = c->type;
	return BINLOG_OK;
unsupported:
	return binlog_err_set(err, BINLOG_E_UNSUPPORTED, "column %s: type %s is not supported",
			      cc->name, d ? d->column_type : dt);
}

/* The SELECT expression of column i. */
static void put_select(binlog_buf_t *b, const cdc_snap_table_t *t, uint32_t i)
{
	const char *name = t->cols[i].name;

	switch (t->cols[i].read) {
	case RD_FLOAT:
	case RD_DOUBLE:
		binlog_buf_lit(b, "CONCAT(IF(");
		cdc_snap_put_ident(b, name);
		binlog_buf_lit(b, " = 0 AND ATAN2(");
		cdc_snap_put_ident(b, name);
		binlog_buf_lit(b, ", -1) < 0, '-', ''), CAST(");
		cdc_snap_put_ident(b, name);
		binlog_buf_lit(b, " AS DOUBLE))");
		break;
	case RD_BIT:
		cdc_snap_put_ident(b, name);
		binlog_buf_lit(b, "+0");
		break;
	case RD_FIXED:
		binlog_buf_lit(b, "UNHEX(HEX(");
		cdc_snap_put_ident(b, name);
		binlog_buf_lit(b, "))");
		break;
	case RD_LABELS:
		/* The index (bitmask) for key literals, then the label(s) as
		 * bytes in the column's charset (CAST: else CONCAT would
		 * convert the digits to a UCS-2 column's charset). Not c+0,
		 * which is signed for a SET of 64 members. */
		binlog_buf_lit(b, "CONCAT(CAST(");
		cdc_snap_put_ident(b, name);
		binlog_buf_lit(b, " AS UNSIGNED), ',', CAST(");
		cdc_snap_put_ident(b, name);
		binlog_buf_lit(b, " AS BINARY))");
		break;
	case RD_ABSENT:
		binlog_buf_lit(b, "NULL");
		break;
	default:
		cdc_snap_put_ident(b, name);
	}
}

void cdc_snap_table_free(cdc_snap_table_t *t)
{
	if (!t)
		return;
	if (t->bt.user_free && t->bt.user)
		t->bt.user_free(t->bt.user);
	for (uint32_t i = 0; t->cols && i < t->bt.ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].charset);
		free(t->cols[i].labels);
		free(t->cols[i].label_bytes);
	}
	for (uint32_t k = 0; t->pk_names && k < t->npk; k++)
		free(t->pk_names[k]);
	free(t->pk_names);
	free(t->pk);
	free(t->cols);
	free(t->bt.cols);
	free(t->select_list);
	free(t->db);
	free(t->table);
	free(t);
}

static binlog_errcode_t changed(binlog_err_t *err)
{
	return binlog_err_set(err, BINLOG_E_IO,
			      "changed while its definition was read: read it again");
}

binlog_errcode_t cdc_snap_table_load(MYSQL *m, const char *db, const char *table,
				     cdc_snap_table_t **out, binlog_err_t *err)
{
	schema_catalog_t *cat;
	const schema_catalog_table_t *ct;
	coldef_t *defs = NULL;
	uint32_t ndefs = 0;
	cdc_snap_table_t *t = NULL;
	char exact[512] = "";
	const char *ver;
	binlog_buf_t b;
	binlog_err_t e;
	binlog_errcode_t rc;

	*out = NULL;
	binlog_buf_init(&b, 0);
	cat = schema_catalog_new(m);
	if (!cat)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	e.code = BINLOG_OK;
	e.msg[0] = 0;
	ct = schema_catalog_get(cat, db, table, &e);
	if (!ct) {
		if (e.code == BINLOG_E_UNSUPPORTED)
			rc = binlog_err_set(err, BINLOG_E_USAGE,
					    "no such table (or it is a view, or the user has no "
					    "privilege on it)");
		else if ((rc = e.code) != BINLOG_OK && err)
			*err = e;
		goto out;
	}
	t = calloc(1, sizeof(*t));
	if (!t || !(t->db = dup_s(db)) || !(t->table = dup_s(table)) ||
	    !(t->bt.cols = calloc(ct->ncols + 1, sizeof(*t->bt.cols))) ||
	    !(t->cols = calloc(ct->ncols + 1, sizeof(*t->cols))) ||
	    !(t->pk = calloc(ct->npk + 1, sizeof(*t->pk))) ||
	    !(t->pk_names = calloc(ct->npk + 1, sizeof(*t->pk_names)))) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		goto out;
	}
	ver = mysql_get_server_info(m);
	t->flavor = ver && strstr(ver, "MariaDB") ? BINLOG_FLAVOR_MARIADB : BINLOG_FLAVOR_MYSQL;
	t->bt.db.p = t->db;
	t->bt.db.len = (uint32_t)strlen(t->db);
	t->bt.name.p = t->table;
	t->bt.name.len = (uint32_t)strlen(t->table);
	t->bt.ncols = ct->ncols;

	if ((rc = read_table(m, db, table, exact, sizeof(exact), &t->rows_estimate, err)) !=
		    BINLOG_OK ||
	    (rc = read_columns(m, db, table, exact, &defs, &ndefs, err)) != BINLOG_OK)
		goto out;
	/* The catalog's columns: information_schema's, then the hidden ones. */
	if (ndefs > ct->ncols) {
		rc = changed(err);
		goto out;
	}
	for (uint32_t i = 0; i < ct->ncols; i++) {
		const schema_catalog_column_t *cc = &ct->cols[i];
		const coldef_t *d = i < ndefs ? &defs[i] : NULL;
		struct cdc_snap_col *sc = &t->cols[i];

		if (d && strcmp(d->name, cc->name) != 0) {
			rc = changed(err);
			goto out;
		}
		if (!(sc->name = dup_s(cc->name)) ||
		    (d && d->charset && !(sc->charset = dup_s(d->charset)))) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			goto out;
		}
		t->bt.cols[i].name.p = sc->name;
		t->bt.cols[i].name.len = (uint32_t)strlen(sc->name);
		if ((rc = describe(m, t, i, cc, d, err)) != BINLOG_OK)
			goto out;
		if (!d && strncmp(cc->name, "DB_ROW_HASH_", 12) == 0) {
			/* A long UNIQUE key's hash: nothing selects it. */
			sc->read = RD_ABSENT;
			t->bt.cols[i].flags |= BINLOG_COL_NULLABLE;
		}
	}
	t->npk = t->bt.npk = ct->npk;
	t->bt.pk = t->pk;
	for (uint32_t k = 0; k < ct->npk; k++) {
		t->pk[k] = ct->pk[k];
		t->bt.cols[ct->pk[k]].flags |= BINLOG_COL_PK;
		binlog_buf_reset(&b);
		cdc_snap_put_ident(&b, t->cols[ct->pk[k]].name);
		binlog_buf_putc(&b, 0);
		if (b.failed || !(t->pk_names[k] = dup_s((const char *)b.data))) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			goto out;
		}
	}
	if (t->npk && (rc = read_prefixes(m, db, exact, t, err)) != BINLOG_OK)
		goto out;

	/* What the optional metadata of a TABLE_MAP with FULL metadata holds:
	 * each field is there when the table has a column it covers. */
	t->bt.has = BINLOG_HAS_NAMES | (t->npk ? BINLOG_HAS_PK : 0) |
		    (t->flavor == BINLOG_FLAVOR_MYSQL ? BINLOG_HAS_VISIBILITY : 0);
	for (uint32_t i = 0; i < t->bt.ncols; i++) {
		const binlog_column_t *c = &t->bt.cols[i];
		if (binlog_column_is_numeric(c->type))
			t->bt.has |= BINLOG_HAS_SIGNEDNESS;
		if (binlog_column_has_charset(c->type, t->flavor))
			t->bt.has |= BINLOG_HAS_CHARSETS;
		if (c->type == BINLOG_TYPE_ENUM || c->type == BINLOG_TYPE_SET)
			t->bt.has |= BINLOG_HAS_LABELS;
	}

	binlog_buf_reset(&b);
	for (uint32_t i = 0; i < t->bt.ncols; i++) {
		if (i)
			binlog_buf_putc(&b, ',');
		put_select(&b, t, i);
	}
	binlog_buf_putc(&b, 0);
	if (b.failed || !(t->select_list = dup_s((const char *)b.data))) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		goto out;
	}
	*out = t;
	t = NULL;
	rc = BINLOG_OK;
out:
	if (rc != BINLOG_OK)
		binlog_err_prefix(err, "snapshot of %s.%s", db, table);
	cdc_snap_table_free(t);
	coldefs_free(defs, ndefs);
	schema_catalog_free(cat);
	binlog_buf_free(&b);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */

/* A cursor over a value's text. */
typedef struct txt {
	const char *p, *end;
} txt_t;

/* Up to max digits (at least one) as a number. */
static int get_num(txt_t *x, unsigned max, uint64_t *v)
{
	unsigned k = 0;

	*v = 0;
	while (x->p < x->end && *x->p >= '0' && *x->p <= '9' && k < max) {
		*v = *v * 10 + (uint64_t)(*x->p++ - '0');
		k++;
	}
	return k > 0;
}

static int get_ch(txt_t *x, char c)
{
	if (x->p < x->end && *x->p == c) {
		x->p++;
		return 1;
	}
	return 0;
}

/* ".ffffff" (at most 6 digits, none at all when absent) as microseconds. */
static int get_frac(txt_t *x, uint32_t *usec)
{
	uint64_t f = 0;
	unsigned k = 0;

	*usec = 0;
	if (!get_ch(x, '.'))
		return 1;
	while (x->p < x->end && *x->p >= '0' && *x->p <= '9') {
		if (++k > 6)
			return 0;
		f = f * 10 + (uint64_t)(*x->p++ - '0');
	}
	for (; k < 6; k++)
		f *= 10;
	*usec = (uint32_t)f;
	return 1;
}

/* "YYYY-MM-DD" */
static int get_date(txt_t *x, binlog_time_t *t)
{
	uint64_t y, mo, d;

	if (!get_num(x, 4, &y) || !get_ch(x, '-') || !get_num(x, 2, &mo) || !get_ch(x, '-') ||
	    !get_num(x, 2, &d) || mo > 12 || d > 31)
		return 0;
	t->year = (uint16_t)y;
	t->month = (uint8_t)mo;
	t->day = (uint8_t)d;
	return 1;
}

/* "hh:mm:ss[.f]" with up to `hdigits` hour digits. */
static int get_hms(txt_t *x, unsigned hdigits, binlog_time_t *t)
{
	uint64_t h, mi, s;

	if (!get_num(x, hdigits, &h) || !get_ch(x, ':') || !get_num(x, 2, &mi) || !get_ch(x, ':') ||
	    !get_num(x, 2, &s) || mi > 59 || s > 59 || !get_frac(x, &t->usec))
		return 0;
	t->hour = (uint32_t)h;
	t->minute = (uint8_t)mi;
	t->second = (uint8_t)s;
	return 1;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The value's text NUL-terminated in buf (numbers only: short). */
static const char *cstr(char *buf, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = 0;
	return buf;
}

/* Digits, ZEROFILL's leading zeros included, as a 64-bit integer. */
static int get_integer(const char *s, size_t n, int is_unsigned, binlog_value_t *v)
{
	char buf[48];
	const char *c = cstr(buf, sizeof(buf), s, n);
	char *end;

	if (!c || !n || (c[0] != '-' && (c[0] < '0' || c[0] > '9')))
		return 0;
	errno = 0;
	if (is_unsigned) {
		if (c[0] == '-')
			return 0;
		v->kind = BINLOG_V_UINT;
		v->u = strtoull(c, &end, 10);
	} else {
		v->kind = BINLOG_V_INT;
		v->i = strtoll(c, &end, 10);
	}
	return errno == 0 && *end == 0;
}

/* "[-]digits[.digits]" with exactly `scale` decimals and at most
 * prec - scale integer digits, leading zeros aside. */
static int decimal_ok(const char *s, size_t n, unsigned prec, unsigned scale)
{
	size_t i = 0, lead, digits = 0, frac = 0;

	if (i < n && s[i] == '-')
		i++;
	for (lead = i; i < n && s[i] == '0'; i++)
		;
	if (i == lead && (i >= n || s[i] < '1' || s[i] > '9'))
		return 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			frac++;
		if (!frac)
			return 0;
	}
	return i == n && frac == scale && digits <= prec - scale;
}

static binlog_errcode_t bad_text(const cdc_snap_table_t *t, uint32_t i, const char *what,
				 const char *s, size_t n, binlog_err_t *err)
{
	return binlog_err_set(err, BINLOG_E_BAD_VALUE,
			      "snapshot of %s.%s, column %u (%s): not %s: '%.*s'", t->db, t->table,
			      i + 1, t->cols[i].name, what, (int)(n < 80 ? n : 80), s);
}

binlog_errcode_t cdc_snap_row_values(const cdc_snap_table_t *t, char **row,
				     const unsigned long *lens, binlog_value_t *vals,
				     binlog_err_t *err)
{
	for (uint32_t i = 0; i < t->bt.ncols; i++) {
		const binlog_column_t *c = &t->bt.cols[i];
		binlog_value_t *v = &vals[i];
		const char *s = row[i];
		size_t n = lens[i];
		txt_t x = {s, s + n};
		char buf[64];
		const char *z;
		char *end;
		uint64_t u;

		memset(v, 0, sizeof(*v));
		if (t->cols[i].read == RD_ABSENT) {
			v->kind = CDC_V_ABSENT;
			continue;
		}
		if (!s) {
			v->kind = BINLOG_V_NULL;
			continue;
		}
		switch (t->cols[i].read) {
		case RD_INT:
			if (!get_integer(s, n, c->flags & BINLOG_COL_UNSIGNED, v))
				return bad_text(t, i, "an integer", s, n, err);
			break;
		case RD_DECIMAL:
			v->prec = (uint8_t)(c->meta >> 8);
			v->scale = (uint8_t)(c->meta & 0xff);
			if (!decimal_ok(s, n, v->prec, v->scale))
				return bad_text(t, i, "a DECIMAL of its precision and scale", s, n,
						err);
			v->kind = CDC_V_DECIMAL_TEXT;
			v->s = (const uint8_t *)s;
			v->n = n;
			break;
		case RD_FLOAT:
		case RD_DOUBLE:
			/* strtod in the C locale: sluice never sets another. */
			z = cstr(buf, sizeof(buf), s, n);
			if (!z || !n)
				return bad_text(t, i, "a number", s, n, err);
			/* ERANGE also flags a subnormal, which is exact here: only
			 * an infinity is wrong (no column holds one). */
			v->d = strtod(z, &end);
			if (*end || v->d > DBL_MAX || v->d < -DBL_MAX)
				return bad_text(t, i, "a finite number", s, n, err);
			if (t->cols[i].read == RD_FLOAT) {
				/* The double of the float: exact. */
				v->kind = BINLOG_V_FLOAT;
				v->d = (float)v->d;
			} else {
				v->kind = BINLOG_V_DOUBLE;
			}
			break;
		case RD_BIT:
		case RD_YEAR:
			if (!get_num(&x, 20, &u) || x.p != x.end ||
			    (n == 20 && strncmp(s, "18446744073709551615", 20) > 0))
				return bad_text(t, i, "an unsigned number", s, n, err);
			v->kind = t->cols[i].read == RD_BIT ? BINLOG_V_BIT : BINLOG_V_YEAR;
			v->u = u;
			break;
		case RD_DATE:
			v->kind = BINLOG_V_DATE;
			if (!get_date(&x, &v->t) || x.p != x.end)
				return bad_text(t, i, "a date", s, n, err);
			break;
		case RD_TIME:
			v->kind = BINLOG_V_TIME;
			v->fsp = (uint8_t)c->meta;
			v->t.neg = (uint8_t)get_ch(&x, '-');
			if (!get_hms(&x, 4, &v->t) || x.p != x.end)
				return bad_text(t, i, "a time", s, n, err);
			break;
		case RD_DATETIME:
		case RD_TIMESTAMP:
			v->fsp = (uint8_t)c->meta;
			if (!get_date(&x, &v->t) || !get_ch(&x, ' ') || !get_hms(&x, 2, &v->t) ||
			    x.p != x.end || v->t.hour > 23)
				return bad_text(t, i, "a date and time", s, n, err);
			if (t->cols[i].read == RD_DATETIME) {
				v->kind = BINLOG_V_DATETIME;
				break;
			}
			/* In UTC (cdc_snap_session): seconds since the epoch, the
			 * zero timestamp 0 as the binlog has it. */
			v->kind = BINLOG_V_TIMESTAMP;
			if (v->t.year || v->t.month || v->t.day)
				v->ts_sec =
					days_from_civil(v->t.year, v->t.month, v->t.day) * 86400 +
					v->t.hour * 3600 + v->t.minute * 60 + v->t.second;
			{
				uint32_t usec = v->t.usec;
				memset(&v->t, 0, sizeof(v->t));
				v->t.usec = usec;
			}
			break;
		case RD_STRING:
		case RD_FIXED:
			v->kind = BINLOG_V_STRING;
			v->s = (const uint8_t *)s;
			v->n = n;
			break;
		case RD_LABELS:
			if (!get_num(&x, 20, &u) || !get_ch(&x, ','))
				return bad_text(t, i, "an index and a label", s, n, err);
			v->kind = CDC_V_LABEL_TEXT;
			v->u = u;
			v->s = (const uint8_t *)x.p;
			v->n = (size_t)(x.end - x.p);
			break;
		case RD_GEOMETRY:
			v->kind = BINLOG_V_GEOMETRY;
			v->s = (const uint8_t *)s;
			v->n = n;
			break;
		case RD_JSON:
			v->kind = CDC_V_JSON_TEXT;
			v->s = (const uint8_t *)s;
			v->n = n;
			break;
		case RD_VECTOR:
			if (n % 4)
				return bad_text(t, i, "float32 bytes", s, n, err);
			v->kind = BINLOG_V_VECTOR;
			v->s = (const uint8_t *)s;
			v->n = n;
			break;
		default:
			return binlog_err_set(err, BINLOG_E_USAGE, "column %u: no reader", i + 1);
		}
	}
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Key literals                                                        */

void cdc_snap_literal(const cdc_snap_table_t *t, uint32_t col, const char *v, size_t n,
		      binlog_buf_t *b)
{
	const struct cdc_snap_col *sc = &t->cols[col];
	size_t k;

	switch (sc->lit) {
	case LIT_NUMBER:
	case LIT_FLOAT:
		/* The server's own digits; anything else goes as bytes. */
		for (k = 0; k < n; k++)
			if (!strchr("0123456789+-.eE", v[k]) || !v[k])
				break;
		if (k < n || !n)
			goto bytes;
		binlog_buf_put(b, v, n);
		if (sc->lit == LIT_FLOAT && !memchr(v, 'e', n) && !memchr(v, 'E', n))
			binlog_buf_lit(b, "e0"); /* a double, not a DECIMAL */
		return;
	case LIT_QUOTED:
		for (k = 0; k < n; k++)
			if (!strchr("0123456789-:. ", v[k]) || !v[k])
				break;
		if (k < n)
			goto bytes;
		binlog_buf_putc(b, '\'');
		binlog_buf_put(b, v, n);
		binlog_buf_putc(b, '\'');
		return;
	case LIT_INDEX:
		/* ENUM/SET compare with a number by index (bitmask), as they
		 * sort; with a string, by the label's text. */
		for (k = 0; k < n && v[k] >= '0' && v[k] <= '9'; k++)
			;
		if (!k || k == n || v[k] != ',')
			goto bytes;
		binlog_buf_put(b, v, k);
		return;
	case LIT_TEXT:
		if (sc->charset) {
			binlog_buf_putc(b, '_');
			binlog_buf_puts(b, sc->charset);
			binlog_buf_putc(b, ' ');
		}
		goto bytes;
	default:
		goto bytes;
	}
bytes:
	binlog_buf_lit(b, "X'");
	binlog_jw_hex(b, (const uint8_t *)v, n);
	binlog_buf_putc(b, '\'');
}
