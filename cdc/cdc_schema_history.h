/*
 * cdc_schema_history.h: what the server's catalog said, kept beside the
 * checkpoint, so that a record rendered again after a restart is the same
 * bytes as the first time.
 *
 * The catalog describes tables as they are now. Without a history, a
 * capture restarted behind a DDL would ask again and render the rows it
 * replays with the newer definition (other column names, a UUID as base64
 * instead of text): the same sequence with other content. With it, every
 * definition the catalog gave is appended here (fsync'd) before a record
 * is rendered from it, with the stream position it was read at; every DDL
 * the stream passes is appended too. A table's definition at position P is
 * the newest entry for it at or before P: a definition is reused, a DDL
 * (or nothing) means "ask the catalog", and the answer is appended at P.
 * A replay of the same binlog therefore sees the same definitions at the
 * same positions, whatever the catalog says by then.
 *
 * The file: JSON lines, `<state-dir>/<pipeline>.schema.jsonl`,
 *   {"at":N,"db":"shop","table":"t","present":true,"columns":[{"name":"id",
 *    "type":"int","unsigned":true,"collation":0,"ext":0,"pk":true}],"pk":[0]}
 *   {"at":N,"forget":{"db":"shop","table":null}}
 * `at` is a transaction ordinal (cdc_sequence.h: the sequence >> 24). A torn
 * last line (a crash while appending) is dropped: nothing was rendered from
 * it. Compaction keeps what a stream at or after a position can need and
 * rewrites the file atomically.
 */
#ifndef SLUICE_CDC_SCHEMA_HISTORY_H
#define SLUICE_CDC_SCHEMA_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_err.h"
#include "schema_catalog.h"

typedef struct cdc_schema_history cdc_schema_history_t;

/*
 * Open (create when missing) the history at path, compacted for a stream
 * that goes on from position `from`. NULL with *err filled when the file
 * cannot be read or written, or is damaged before its last line.
 */
cdc_schema_history_t *cdc_schema_history_open(const char *path, uint64_t from, binlog_err_t *err);
void cdc_schema_history_close(cdc_schema_history_t *h);

/* The catalog store reading and writing h (schema_catalog_set_store). */
void cdc_schema_history_store(cdc_schema_history_t *h, schema_catalog_store_t *st);

/* Drop what no position >= from can need, rewriting the file when that
 * drops something. */
binlog_errcode_t cdc_schema_history_compact(cdc_schema_history_t *h, uint64_t from,
					    binlog_err_t *err);

/* Entries held, and appended since the last compaction. */
size_t cdc_schema_history_size(const cdc_schema_history_t *h);
size_t cdc_schema_history_appended(const cdc_schema_history_t *h);

#endif
