/*
 * schema.h: what sluice knows about a captured table, derived once per
 * TABLE_MAP and reused for every row.
 *
 * The TABLE_MAP says what the binlog says (binlog_table_t). A schema table
 * adds what the record writer needs, computed once instead of per row: the
 * JSON key of every column ("name": or, without names, the positional
 * "@N":), the charset of every text column, what to do with each column
 * (keep, leave out, mask), how to render the types the binlog cannot tell
 * apart (MariaDB UUID, INET4, INET6, JSON, VECTOR), and the JSON fragments
 * naming the database, table and primary key.
 *
 * Where that comes from (docs/CHANGELOG_JSON.md, "What the catalog
 * supplies"):
 *
 *   - The binlog, first: what a TABLE_MAP says is what the row was written
 *     with. Its names, primary key, signedness and charsets are never
 *     overridden.
 *   - The server's catalog (schema_catalog.h) fills the gaps: names and
 *     the primary key when the TABLE_MAP has no names; signedness and
 *     charsets when it has none; and the MariaDB types whose binlog form is
 *     a plain binary or text column. The catalog is asked, with mode auto,
 *     only for a table whose TABLE_MAP lacks one of those or has a column
 *     that could be one of those types (BINARY(16), BINARY(4), a LONGTEXT or
 *     LONGBLOB, a VARBINARY); with mode always, for every table; never with
 *     mode never. A table with full metadata and none of those columns costs
 *     no query.
 *   - The catalog describes the table as it is now, the binlog as it was
 *     when the row was written. When the two disagree (column count, a
 *     column's type, signedness where the binlog has it, names where the
 *     binlog has them) the catalog is not used for that table: the record
 *     keeps the binlog's names or positional ones, with "positional_names",
 *     and the disagreement is counted and reported (schema_stats_t,
 *     schema_warn_fn). What a count-and-type check cannot see (a RENAME
 *     COLUMN, say, against a binlog without names) is the residual risk
 *     docs/CHANGELOG_JSON.md describes.
 *   - The column filter (cdc_filter.h) decides, per "db.table.column",
 *     whether a column is kept, left out or masked. With no column names
 *     at all, a table that some column rule could apply to has every value
 *     masked: sluice fails closed rather than let a value meant to be
 *     masked through under a positional key.
 *
 * A schema table is attached to its binlog table (binlog_table_t.user) and
 * freed with it.
 */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "binlog.h"
#include "binlog_charset.h"

/* Declared in schema_catalog.h and cdc_filter.h (not included here, so
 * that the record writer does not pull in the client library's headers). */
typedef struct schema_catalog schema_catalog_t;
typedef struct cdc_filter cdc_filter_t;

/* schema_column_t.special: why a column leaves the writer's common path. */
enum schema_special {
	SCHEMA_SP_EXCLUDE = 1 << 0,  /* left out of the record */
	SCHEMA_SP_MASK = 1 << 1,     /* "****" unless NULL */
	SCHEMA_SP_EXT = 1 << 2,      /* rendered as schema_column_t.ext */
	SCHEMA_SP_UNSIGNED = 1 << 3, /* unsigned by the catalog, read signed */
};

typedef struct schema_column {
	const char *key; /* "\"name\":" with JSON escaping */
	uint32_t key_len;
	const binlog_charset_t *cs; /* NULL: unknown (assume UTF-8, keep
				     * bytes that are not as base64) */
	const binlog_charset_t *labels_cs;
	uint8_t binary;     /* binary charset: bytes, not text */
	uint8_t pad_binary; /* BINARY(n): restore the stripped 0x00s */
	uint8_t special;    /* SCHEMA_SP_*; 0 for the common path */
	uint8_t ext;        /* enum schema_ext_type (schema_catalog.h) */
} schema_column_t;

/* schema_table_t.catalog: what the catalog did for the table. */
enum schema_catalog_status {
	SCHEMA_CAT_UNUSED = 0, /* not asked (mode, no catalog, nothing missing) */
	SCHEMA_CAT_USED,       /* asked, agreed with the TABLE_MAP, used */
	SCHEMA_CAT_MISMATCH,   /* disagreed with the TABLE_MAP: not used */
	SCHEMA_CAT_MISSING,    /* the table is gone (dropped or renamed) */
};

typedef struct schema_table {
	const binlog_table_t *bt;
	uint32_t ncols;
	schema_column_t *cols;
	/* ,"db":"...","table":"..."[,"pk":[...]][,"positional_names":true] */
	const char *ident;
	uint32_t ident_len;
	/* db.table, for messages and routing */
	const char *qualified;
	int positional;     /* no column names, neither binlog's nor catalog's */
	int8_t captured;    /* stream filter verdict: -1 not asked yet,
			     * 0 excluded, 1 captured */
	int8_t catalog;     /* enum schema_catalog_status */
	uint8_t masked_all; /* names unknown and column rules may apply:
			     * every value masked */
	uint8_t pk_hidden;  /* a key column is left out or masked: no "pk" */
	uint32_t npk;       /* the primary key's columns, in key order; 0 when
			     * the table has none or it is hidden */
	const uint32_t *pk;
	void *route;     /* the router's entry, cached by the stream */
	uint8_t special; /* the columns' special bits, or'ed: 0 keeps the
			  * record writer on its common path */
} schema_table_t;

/* Counters a stream reports; schema_table_get_ex adds to them. */
typedef struct schema_stats {
	uint64_t catalog_used;     /* table definitions completed by the catalog */
	uint64_t catalog_mismatch; /* ... whose catalog entry disagreed */
	uint64_t catalog_missing;  /* ... whose table the catalog no longer has */
	uint64_t masked_all;       /* ... masked whole (names unknown) */
} schema_stats_t;

/* Told about a table whose catalog entry could not be used, or which is
 * masked whole; `msg` says why, without naming the table (st->qualified
 * does); valid during the call. */
typedef void (*schema_warn_fn)(void *ctx, const schema_table_t *st, const char *msg);

typedef struct schema_opts {
	schema_catalog_t *catalog;  /* NULL: the binlog only */
	int catalog_mode;           /* enum cdc_catalog_mode (cdc_config.h) */
	const cdc_filter_t *filter; /* column rules; NULL: keep every column */
	schema_stats_t *stats;      /* may be NULL */
	schema_warn_fn warn;        /* may be NULL */
	void *warn_ctx;
} schema_opts_t;

/*
 * The schema table of a binlog table, built and attached on first use,
 * from the binlog alone. Returns NULL when out of memory. The binlog table
 * owns the result. Not thread-safe (the decoder's thread).
 */
schema_table_t *schema_table_get(binlog_table_t *bt);

/*
 * The same with the catalog and the column filter (o may be NULL: as
 * schema_table_get). Returns NULL with *err filled when out of memory or
 * when the catalog query failed (BINLOG_E_IO: retriable, e.g. after a
 * reconnect; the table is then not built, and the next call asks again).
 * A table the catalog does not have, or has with another definition, is
 * not an error: see schema_table_t.catalog.
 */
schema_table_t *schema_table_get_ex(binlog_table_t *bt, const schema_opts_t *o, binlog_err_t *err);

/*
 * DDL: which tables a statement may change. Calls fn for every table
 * (kind SCHEMA_DDL_TABLE, db NULL when the name is unqualified and there
 * is no default database) and database (SCHEMA_DDL_DATABASE, table NULL)
 * the statement names, with unquoted, NUL-terminated names valid during
 * the call. Returns 1 when the statement was understood (a statement that
 * changes no table, such as GRANT or CREATE VIEW, calls fn for nothing),
 * 0 when it was not: the caller must then assume anything changed.
 *
 * Understood: CREATE/ALTER/DROP/RENAME/TRUNCATE TABLE (every name of a
 * RENAME TABLE a TO b, c TO d; the new name of ALTER TABLE ... RENAME TO;
 * the other table of EXCHANGE PARTITION), CREATE/DROP INDEX ... ON,
 * CREATE/ALTER/DROP SEQUENCE, CREATE/ALTER/DROP DATABASE (SCHEMA); names
 * quoted with backticks (or double quotes), qualified or not; comments
 * anywhere, executable comments (slash-star-bang) read as code. One
 * statement per call, as a QUERY event holds one.
 */
enum schema_ddl_kind {
	SCHEMA_DDL_TABLE = 1,
	SCHEMA_DDL_DATABASE = 2,
};
typedef void (*schema_ddl_fn)(void *ctx, int kind, const char *db, const char *table);
int schema_ddl_targets(const char *default_db, const char *sql, size_t len, schema_ddl_fn fn,
		       void *ctx);

#endif
