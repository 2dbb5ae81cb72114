/*
 * cdc_snapshot.h: reading tables whole while the binlog is followed, with
 * no lock (docs/SNAPSHOT.md).
 *
 * A table is read in chunks of its primary key, (lo, hi] in key order,
 * by a pool of reader threads, each on its own connection. The stream
 * thread keeps following the binlog meanwhile, and the two meet through
 * watermarks, in the manner of DBLog:
 *
 *   1. A reader registers the chunk: from then on, the stream notes the
 *      key of every record it emits for that table (it was told before
 *      the event it is in began, so no record is missed).
 *   2. It opens a consistent read whose binlog position covers every
 *      event the stream has read (MariaDB: Binlog_snapshot_position, and
 *      again if it does not yet), and reads the chunk: rows are formatted
 *      as the binlog's would be (cdc_snaprow.h) and kept.
 *   3. After the read, the server's binlog position is the chunk's high
 *      watermark H: every transaction the read saw is before it.
 *   4. When the stream reaches a transaction boundary at or after H, the
 *      chunk's rows whose key the stream noted are dropped (the stream
 *      has their changes, full images, in order) and the rest emitted,
 *      there, between two transactions.
 *
 * So every emitted row is the row as of the point of the stream where it
 * appears: a consumer applying records in order sees the table as the
 * source had it at that point, while the source is written to.
 *
 * Memory: at most readers * 2 chunks are held, each at most chunk-size
 * rows and chunk-max-bytes bytes; the keys noted per chunk are bounded
 * too (a chunk whose window saw more changes is read again). A stream
 * that falls behind holds readers back, never the other way.
 *
 * Resuming: the state (per table, the key before which every chunk is
 * emitted) travels in the checkpoint; after a crash the chunks after it
 * are read again.
 *
 * Threads: readers are internal; every function below is for the stream
 * thread only.
 */
#ifndef SLUICE_CDC_SNAPSHOT_H
#define SLUICE_CDC_SNAPSHOT_H

#include <stdint.h>

#include "binlog.h"
#include "cdc_conn.h"
#include "schema.h"
#include "sink.h"

typedef struct cdc_snapshot cdc_snapshot_t;

typedef struct cdc_snapshot_opts {
	const cdc_conn_opts_t *conn; /* copied */
	const cdc_filter_t *filter;  /* column rules; outlives the snapshot */
	int catalog_mode;            /* enum cdc_catalog_mode */
	unsigned readers;            /* parallel chunk readers (0: none, the
				      * state only, for tests) */
	uint64_t chunk_rows;         /* rows per chunk */
	uint64_t chunk_bytes;        /* bound on one chunk's records */
	uint64_t window_keys;        /* keys noted per chunk before it is read again */
	uint64_t max_record;         /* bound on one record (0: none) */
	const char *source;          /* the source's name, for headers */
	/* Where the stream starts: reads must see everything before it. */
	uint64_t from_file_no, from_pos;
} cdc_snapshot_opts_t;

/* Kinds of table snapshots. */
enum cdc_snap_kind {
	CDC_SNAP_INITIAL = 0, /* the table's first rows: sequence 0 */
	CDC_SNAP_BACKFILL,    /* a re-read of a captured table (SEQUENCE.md) */
};

/*
 * A snapshot. `state` is what a checkpoint stored (cdc_snapshot_state), or
 * NULL. Readers start at once when there is work. NULL with *err on a bad
 * state or out of memory.
 */
cdc_snapshot_t *cdc_snapshot_new(const cdc_snapshot_opts_t *o, const char *state,
				 binlog_err_t *err);

/* Stop the readers and free. */
void cdc_snapshot_free(cdc_snapshot_t *s);

/*
 * Add a table to read (a table already queued with the same kind and
 * filter is not added twice). `where`: an SQL condition restricting the
 * rows (backfill of a key range), or NULL. `request`: the id of the
 * request it came from, or NULL. 0 or BINLOG_E_NOMEM.
 */
binlog_errcode_t cdc_snapshot_add(cdc_snapshot_t *s, const char *db, const char *table, int kind,
				  const char *where, const char *request, binlog_err_t *err);

/* Is a table queued or being read, or a request id known? */
int cdc_snapshot_has_request(cdc_snapshot_t *s, const char *request);

/* Has the table had its initial snapshot, or is it having it now? */
int cdc_snapshot_is_done(cdc_snapshot_t *s, const char *qualified);

/* 1 while any table is queued or being read. */
int cdc_snapshot_active(cdc_snapshot_t *s);

/*
 * The stream is about to process the event that ends at (file_no, end):
 * chunks registered from now on do not count on the stream to note what
 * this event changes. Cheap (one uncontended lock).
 */
void cdc_snapshot_event(cdc_snapshot_t *s, uint64_t file_no, uint64_t end);

/*
 * The stream emitted record `r` (value and, when the sink has keys, key)
 * of table st: note its key for the chunks of the table being read. Cheap
 * when no chunk of the table is open. 0 or an error.
 */
binlog_errcode_t cdc_snapshot_record(cdc_snapshot_t *s, const schema_table_t *st,
				     const sink_record_t *r, binlog_err_t *err);

/* How a chunk's rows reach the sink: the caller routes them. `rec` has
 * value, key, seq, db, table, op set. */
typedef binlog_errcode_t (*cdc_snapshot_emit_fn)(void *ctx, sink_record_t *rec, binlog_err_t *err);

/*
 * The stream is at a transaction boundary at (file_no, pos): emit the
 * rows of every chunk read whose high watermark is at or before it.
 * Backfill rows carry `backfill_seq` (SEQUENCE.md says which). Returns 0
 * (with *emitted the rows emitted, *chunks the chunks done, which move the
 * state: a chunk can have no row) or an error: a reader's (a table that
 * cannot be read) or the sink's.
 */
binlog_errcode_t cdc_snapshot_emit(cdc_snapshot_t *s, uint64_t file_no, uint64_t pos,
				   uint64_t backfill_seq, cdc_snapshot_emit_fn fn, void *ctx,
				   uint64_t *emitted, unsigned *chunks, binlog_err_t *err);

/* 1 when a chunk is read and waits for the stream to reach its high
 * watermark: the stream should not sleep long. */
int cdc_snapshot_waiting(cdc_snapshot_t *s);

/*
 * The state to store with a checkpoint taken now: a JSON object, malloc'd
 * (NULL when out of memory). Request ids of tables finished since the
 * previous call are appended to *finished (malloc'd, '\n'-separated, NULL
 * when none): their request files may go once the checkpoint is stored.
 */
char *cdc_snapshot_state(cdc_snapshot_t *s, char **finished);

/* Progress, for logs and the status file. */
typedef struct cdc_snapshot_progress {
	unsigned tables_total, tables_done;
	uint64_t rows;          /* emitted so far, tables in progress and done */
	uint64_t rows_estimate; /* what the catalog estimates in all */
	uint64_t dropped;       /* rows left to the stream (changed in a window) */
	uint64_t rereads;       /* chunks read again */
	double rate;            /* rows per second, recent */
	int64_t eta_s;          /* -1: unknown */
	char current[300];      /* "db.table" being read, or "" */
} cdc_snapshot_progress_t;

void cdc_snapshot_get_progress(cdc_snapshot_t *s, cdc_snapshot_progress_t *p);

/* Append the progress as a JSON object (the status file's "snapshot"). */
void cdc_snapshot_progress_json(cdc_snapshot_t *s, binlog_buf_t *b);

#endif
