/*
 * cdc_snaprow.h: table rows read with SELECT (the text protocol), as the
 * values a binlog row image of the same row holds.
 *
 * A snapshot reads a table with "SELECT <select_list> FROM ..." and must
 * write each row as the record the binlog path writes for it: the "data"
 * object byte for byte. The binlog describes a table with a TABLE_MAP and
 * each row with packed values; the record writer formats those
 * (cdc_record.c). So a snapshot table is described by a binlog_table_t
 * built from the server's catalog as a TABLE_MAP with
 * binlog_row_metadata=FULL would describe it (resolved types, metadata,
 * signedness, collations, names, key, ENUM/SET labels), and each row of
 * the SELECT becomes one binlog_value_t per column, in the binlog's own
 * representation where the text protocol can give it exactly, and in one
 * of the writer's private text kinds (cdc_record.h, CDC_V_*) where it
 * cannot. cdc_writer_values (cdc_record.h) then writes the record.
 *
 * The SELECT expressions are chosen so that the text holds every bit the
 * binlog holds: FLOAT and DOUBLE through CAST(... AS DOUBLE) (a FLOAT's own
 * text is rounded to 6 digits) with the sign of a zero, BIT as a number,
 * TIMESTAMP in UTC, strings as their bytes in the column's charset
 * (character_set_results=binary), MariaDB's UUID/INET4/INET6 as the bytes
 * the binlog logs. cdc_snap_session sets what the reading connection needs
 * for that; rows read through a connection without it are wrong.
 *
 * What cannot be made identical, and why:
 *   - MariaDB's DB_ROW_HASH_n (the hidden hash column of a long UNIQUE
 *     key): no SELECT can read it, and its value is a hash of the key
 *     under the column's collation the server computes internally. The
 *     binlog logs it; a snapshot record leaves it out of "data" (absent,
 *     as a column a MINIMAL image does not hold).
 *   - MySQL's JSON (binary in the binlog, text over SELECT) and MySQL's
 *     VECTOR are handled but cannot be checked against a MySQL server
 *     here; see cdc_snaprow.c.
 * And in bt, not in records: an ENUM/SET label with a character beyond
 * the BMP reads as '?' (information_schema is utf8mb3). Values are read
 * as the label's text, which the row has exactly, so no record uses bt's
 * labels.
 *
 * Memory: cdc_snap_table_load allocates the table; the caller frees it
 * with cdc_snap_table_free. Values point into the row they were read from.
 * Threading: a table may be shared by threads once loaded (nothing in it
 * changes) except bt.user, which schema_table_get_ex sets on first use.
 */
#ifndef SLUICE_CDC_SNAPROW_H
#define SLUICE_CDC_SNAPROW_H

#include <stdint.h>

#include "binlog.h"

typedef struct st_mysql MYSQL; /* <mysql.h> */
struct cdc_snap_col;

typedef struct cdc_snap_table {
	char *db, *table;
	binlog_table_t bt; /* as a FULL-metadata TABLE_MAP would say (names,
			    * pk, signedness, charsets, labels) */
	char *select_list; /* "`a`,`b`+0,...": the SELECT expressions, in
			    * column order, whose results cdc_snap_row_values
			    * reads */
	uint32_t npk;      /* primary key (or the UNIQUE NOT NULL key MariaDB
			    * promotes, as schema_catalog.c finds it): column
			    * indexes in key order; also in bt.npk/bt.pk */
	uint32_t *pk;
	char **pk_names;        /* quoted identifiers `col` of the key columns,
				 * in key order, for WHERE/ORDER BY */
	uint64_t rows_estimate; /* information_schema.TABLES.TABLE_ROWS */

	/* Private. */
	struct cdc_snap_col *cols; /* how each column is read */
	int flavor;                /* BINLOG_FLAVOR_* */
} cdc_snap_table_t;

/*
 * Session settings a reading connection needs: the client charset utf8mb4
 * (names in statements), character_set_results=binary (strings come in
 * the column's own charset, as in the binlog), time_zone '+00:00'
 * (TIMESTAMP text in UTC, literals compared in UTC), an empty sql_mode
 * (PAD_CHAR_TO_FULL_LENGTH, ANSI_QUOTES, ORACLE and the like change the
 * output or the parsing of what is sent) and no sql_select_limit.
 * Returns 0, or an error naming the statement that failed (BINLOG_E_IO
 * when the connection is the problem). Any thread that owns m.
 */
binlog_errcode_t cdc_snap_session(MYSQL *m, binlog_err_t *err);

/*
 * Describe db.table from the catalog (information_schema) through m, a
 * connection set up by cdc_snap_session. On success *out is a new table
 * the caller frees with cdc_snap_table_free. Errors: BINLOG_E_USAGE when
 * the table does not exist or is not visible to the user (the message
 * names it), BINLOG_E_IO when a query failed and retrying may help,
 * BINLOG_E_UNSUPPORTED for a column type it cannot read.
 */
binlog_errcode_t cdc_snap_table_load(MYSQL *m, const char *db, const char *table,
				     cdc_snap_table_t **out, binlog_err_t *err);

/* Free t and everything it owns, calling bt.user_free(bt.user) when set
 * (schema_table_get_ex attaches a schema_table_t there). NULL is a no-op. */
void cdc_snap_table_free(cdc_snap_table_t *t);

/*
 * One row of "SELECT <select_list> FROM ..." (mysql_fetch_row and
 * mysql_fetch_lengths) as values: vals[i] for column i of t->bt (the
 * caller gives t->bt.ncols of them). Strings point into row, which must
 * outlive the values. Returns 0, or BINLOG_E_BAD_VALUE with a message
 * naming the table, the column and what is wrong with its text.
 */
binlog_errcode_t cdc_snap_row_values(const cdc_snap_table_t *t, char **row,
				     const unsigned long *lens, binlog_value_t *vals,
				     binlog_err_t *err);

/*
 * Append to b an SQL literal that compares equal, under the column's
 * collation, to key column `col`'s value v[0..n) as the row returned it
 * (what cdc_snap_row_values read; not NULL): digits for numbers (for an
 * ENUM its index, for a SET its bitmask: they sort by those), _charset
 * X'hex' for text (so that the column's collation applies), X'hex' for
 * bytes (MariaDB's UUID, INET4 and INET6 included), a quoted string for
 * temporal values (TIMESTAMP in UTC: the session of cdc_snap_session).
 * Compared with < or >, the literals order rows as ORDER BY the column
 * does.
 */
void cdc_snap_literal(const cdc_snap_table_t *t, uint32_t col, const char *v, size_t n,
		      binlog_buf_t *b);

/* Append `name` as an SQL identifier (backquoted, backquotes doubled). */
void cdc_snap_put_ident(binlog_buf_t *b, const char *name);

#endif
