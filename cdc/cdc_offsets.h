/*
 * cdc_offsets.h: the checkpoint of a pipeline: where in the binlog the
 * next transaction starts, and what the sequence needs to go on numbering
 * from there.
 *
 * Stored as JSON (docs/OPERATIONS.md shows a file), written atomically
 * (cdc_fs.h). A checkpoint is only ever taken at a transaction boundary,
 * after the sink confirmed every record before it; so a restart from it
 * loses nothing, and what it repeats (records written after it) carries
 * the same sequences as the first time.
 */
#ifndef SLUICE_CDC_OFFSETS_H
#define SLUICE_CDC_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_err.h"

#define CDC_OFFSETS_VERSION 1

typedef struct cdc_offsets {
	char *source;       /* the source's name */
	char *flavor;       /* "mysql" or "mariadb" */
	uint32_t server_id; /* of the server the position was read from */
	char *server_uuid;  /* MySQL; "" for MariaDB */
	char *file;         /* the next transaction starts at file:pos */
	uint64_t pos;
	char *gtid;        /* cdc_seq_format_state at that point: the MySQL
			    * executed set or the MariaDB GTID state */
	uint64_t seq_last; /* last sequence handed out */
	int has_sink_offset;
	uint64_t sink_offset; /* the sink's offset (file length) */
	/* A start inside a file or at a time: transactions before it are
	 * read but not emitted (emit_file "" and emit_ts_ms 0: none). */
	char *emit_file;
	uint64_t emit_pos;
	int64_t emit_ts_ms;
	char *snapshot; /* cdc_snapshot_state: JSON text, or NULL */
	int64_t updated_ms;
	uint64_t transactions, records; /* totals since the pipeline started */
} cdc_offsets_t;

void cdc_offsets_free(cdc_offsets_t *o);

/* Load `path`. 0 and *found = 1; 0 and *found = 0 when there is no file;
 * or an error naming the file and what is wrong in it. */
binlog_errcode_t cdc_offsets_load(const char *path, cdc_offsets_t *o, int *found,
				  binlog_err_t *err);

/* The same from text; `path` names it in messages. */
binlog_errcode_t cdc_offsets_parse(const char *path, const char *text, size_t len, cdc_offsets_t *o,
				   binlog_err_t *err);

/* The checkpoint as the file holds it (JSON, no trailing newline);
 * malloc'd, NULL when out of memory. */
char *cdc_offsets_format(const cdc_offsets_t *o);

/* Store atomically. 0 or an error naming the file and the step. */
binlog_errcode_t cdc_offsets_save(const char *path, const cdc_offsets_t *o, binlog_err_t *err);

#endif
