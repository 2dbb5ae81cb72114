/*
 * cdc_stream.h: from decoded binlog events to records in a sink.
 *
 * The stream tracks transactions (GTID, commit time), gives every record
 * its sequence, formats it as changelog-json and hands it to the sink. It
 * does not care where events come from: `sluice decode` feeds it from
 * files, live capture from the replication protocol.
 *
 * One stream per source; not thread-safe.
 */
#ifndef SLUICE_CDC_STREAM_H
#define SLUICE_CDC_STREAM_H

#include <stdint.h>

#include "binlog.h"
#include "cdc_record.h"
#include "cdc_sequence.h"
#include "sink.h"

typedef struct cdc_stream_stats {
	uint64_t transactions;
	uint64_t records;
	uint64_t inserts, updates, deletes;
	uint64_t ddl;
	uint64_t statement_changes; /* data changes logged as SQL (binlog_format
				     * STATEMENT or MIXED): not captured */
	uint64_t skipped_events;    /* rows events of tables not captured */
	uint64_t uncounted_events;  /* of those, events whose rows could not
				     * be counted (see cdc_seq_lose_index) */
} cdc_stream_stats_t;

/* Decides whether a table is captured; asked once per table definition.
 * `qualified` is "db.table". */
typedef int (*cdc_table_filter_fn)(void *ctx, const char *qualified);

typedef struct cdc_stream {
	sink_t *sink;               /* not owned */
	cdc_table_filter_fn filter; /* NULL: capture every table */
	void *filter_ctx;
	cdc_seq_t seq;
	cdc_writer_t w;
	char file[256]; /* current binlog file name */
	uint64_t file_no;
	int follow_rotate; /* ROTATE switches the file (live streams) */
	int txn_open;
	int txn_has_gtid;
	cdc_stream_stats_t stats;
} cdc_stream_t;

/* 0 or BINLOG_E_NOMEM. */
binlog_errcode_t cdc_stream_init(cdc_stream_t *s, sink_t *sink);
void cdc_stream_free(cdc_stream_t *s);

/* The binlog file the following events come from. */
void cdc_stream_set_file(cdc_stream_t *s, const char *name);

/* Process one decoded event. 0 or an error (the sink's, or a decoding
 * error met while walking rows). */
binlog_errcode_t cdc_stream_event(cdc_stream_t *s, const binlog_event_t *ev, binlog_err_t *err);

/*
 * The connection dropped inside a transaction, which will be read again
 * from its start: forget it, so that it gets the same sequences then.
 * Records of it already written are repeated, identical. 0 or an error.
 */
binlog_errcode_t cdc_stream_abort_txn(cdc_stream_t *s, binlog_err_t *err);

#endif
