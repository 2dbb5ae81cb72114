/*
 * schema_catalog.h: table metadata from the server's catalog, for what the
 * binlog does not say.
 *
 * With binlog_row_metadata=MINIMAL (MySQL's default) or NO_LOG (MariaDB's)
 * a TABLE_MAP has no column names and no primary key; MySQL 5.x and
 * MariaDB NO_LOG have no signedness or charsets either; and no binlog tells
 * a MariaDB UUID, INET4 or INET6 from a BINARY column. The catalog
 * (information_schema) does. Entries are cached by "db.table" and dropped
 * when a DDL statement in the stream may have changed the table.
 *
 * The catalog describes the table as it is now, the binlog as it was when
 * the row was written: a capture running behind a DDL could read names of
 * the new definition for rows of the old. A definition whose column count
 * or column types disagree with the TABLE_MAP is not used (the record keeps
 * positional names) and is reported; docs/CHANGELOG_JSON.md says more.
 *
 * One catalog per stream thread; not thread-safe.
 */
#ifndef SLUICE_SCHEMA_CATALOG_H
#define SLUICE_SCHEMA_CATALOG_H

#include <stdint.h>

#include "binlog.h"

typedef struct st_mysql MYSQL; /* <mysql.h>, for the .c files that use it */

enum schema_ext_type {
	SCHEMA_EXT_NONE = 0,
	SCHEMA_EXT_UUID,   /* MariaDB UUID: 16 bytes, written as text */
	SCHEMA_EXT_INET4,  /* MariaDB INET4: 4 bytes, dotted quad */
	SCHEMA_EXT_INET6,  /* MariaDB INET6: 16 bytes, RFC 5952 text */
	SCHEMA_EXT_JSON,   /* MariaDB JSON (LONGTEXT): embedded as JSON */
	SCHEMA_EXT_VECTOR, /* MariaDB VECTOR(n): array of floats */
};

typedef struct schema_catalog_column {
	char *name;
	char *data_type; /* information_schema DATA_TYPE, lower case */
	int is_unsigned;
	uint32_t collation_id; /* 0 when not text */
	int ext;               /* enum schema_ext_type */
	int in_pk;
} schema_catalog_column_t;

typedef struct schema_catalog_table {
	uint32_t ncols;
	schema_catalog_column_t *cols;
	uint32_t npk;
	uint32_t *pk; /* column indexes in key order */
} schema_catalog_table_t;

typedef struct schema_catalog schema_catalog_t;

/* A catalog reading through `m` (owned by the caller, which keeps it
 * open while the catalog lives). NULL when out of memory. */
schema_catalog_t *schema_catalog_new(MYSQL *m);
void schema_catalog_free(schema_catalog_t *c);

/* Into q: "SELECT <cols> FROM information_schema.<from> WHERE <dbcol>='db'
 * AND TABLE_NAME='table'<tail>", the names escaped for m's charset. */
void schema_catalog_query(binlog_buf_t *q, MYSQL *m, const char *cols, const char *from,
			  const char *dbcol, const char *db, const char *table, const char *tail);

/*
 * A store of what the catalog said, kept with the checkpoint so that a
 * restarted or replayed stream renders every record as the first run did,
 * whatever the catalog says by then (cdc_schema_history.h). Positions `at`
 * are the stream's transaction ordinals (cdc_sequence.h): a definition
 * read at `at` holds until a DDL recorded at a later position.
 *
 * find: the newest entry for db.table at or before `at`: 1 and *out
 * filled (the caller frees it with schema_catalog_table_clear; *present 0:
 * the catalog did not have the table), 0 when the newest is a DDL or there
 * is none, -1 when out of memory.
 * add: a definition read from the server at `at` (present 0: no table);
 * durable before it returns BINLOG_OK, since records will be rendered
 * from it.
 * forget: a DDL at `at` that may change db.table (table NULL: the whole
 * database; db NULL: that table in any database; both NULL: anything).
 */
typedef struct schema_catalog_store {
	int (*find)(void *ctx, const char *db, const char *table, uint64_t at,
		    schema_catalog_table_t *out, int *present);
	binlog_errcode_t (*add)(void *ctx, uint64_t at, const char *db, const char *table,
				int present, const schema_catalog_table_t *t, binlog_err_t *err);
	binlog_errcode_t (*forget)(void *ctx, uint64_t at, const char *db, const char *table,
				   binlog_err_t *err);
	void *ctx;
} schema_catalog_store_t;

/* Use `st` (copied; NULL: none) from now on. */
void schema_catalog_set_store(schema_catalog_t *c, const schema_catalog_store_t *st);

/* The position of the stream: the store's `at` for what comes next. */
void schema_catalog_set_at(schema_catalog_t *c, uint64_t at);

/* Free what a definition holds (and zero it). */
void schema_catalog_table_clear(schema_catalog_table_t *t);

/* Replace the connection (after a reconnect). */
void schema_catalog_set_conn(schema_catalog_t *c, MYSQL *m);

/*
 * The definition of db.table, from the cache or the server. NULL when
 * the table does not exist any more (*err says so) or the query failed
 * (*err has the server's message; BINLOG_E_IO is retriable). The result
 * stays valid until the next invalidation.
 */
const schema_catalog_table_t *schema_catalog_get(schema_catalog_t *c, const char *db,
						 const char *table, binlog_err_t *err);

/* Forget db.table (table NULL: the whole database; both NULL: all). */
void schema_catalog_invalidate(schema_catalog_t *c, const char *db, const char *table);

/*
 * Forget what a DDL statement (a QUERY event's text, with its default
 * database) may have changed: ALTER/CREATE/DROP/RENAME/TRUNCATE TABLE,
 * DROP/ALTER DATABASE, and anything it cannot parse (which forgets all).
 * With a store, the DDL is recorded there too; an error is the store's.
 */
binlog_errcode_t schema_catalog_ddl(schema_catalog_t *c, const char *default_db, const char *sql,
				    size_t len, binlog_err_t *err);

#endif
