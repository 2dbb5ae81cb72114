/*
 * schema.h: what sluice knows about a captured table, derived once per
 * TABLE_MAP and reused for every row.
 *
 * The TABLE_MAP says what the binlog says (binlog_table_t). A schema table
 * adds what the record writer needs, computed once instead of per row: the
 * JSON key of every column ("name": or, without names, the positional
 * "@N":), the charset of every text column, the JSON fragments naming the
 * database, table and primary key. Later, the server's catalog fills what
 * the TABLE_MAP lacks (names under binlog_row_metadata=MINIMAL, signedness
 * on old servers, MariaDB's UUID/INET types).
 *
 * A schema table is attached to its binlog table (binlog_table_t.user) and
 * freed with it.
 */
#ifndef SLUICE_SCHEMA_H
#define SLUICE_SCHEMA_H

#include <stdint.h>

#include "binlog.h"
#include "binlog_charset.h"

typedef struct schema_column {
	const char *key; /* "\"name\":" with JSON escaping */
	uint32_t key_len;
	const binlog_charset_t *cs; /* NULL: unknown (assume UTF-8, keep
				     * bytes that are not as base64) */
	const binlog_charset_t *labels_cs;
	uint8_t binary;     /* binary charset: bytes, not text */
	uint8_t pad_binary; /* BINARY(n): restore the stripped 0x00s */
} schema_column_t;

typedef struct schema_table {
	const binlog_table_t *bt;
	uint32_t ncols;
	schema_column_t *cols;
	/* ,"db":"...","table":"..."[,"pk":[...]] */
	const char *ident;
	uint32_t ident_len;
	/* db.table, for messages and routing */
	const char *qualified;
	int positional;  /* no column names in the binlog */
	int8_t captured; /* stream filter verdict: -1 not asked yet,
			  * 0 excluded, 1 captured */
} schema_table_t;

/*
 * The schema table of a binlog table, built and attached on first use.
 * Returns NULL when out of memory. The binlog table owns the result.
 * Not thread-safe (the decoder's thread).
 */
schema_table_t *schema_table_get(binlog_table_t *bt);

#endif
