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
#include "cdc_route.h"
#include "cdc_sequence.h"
#include "schema.h"
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
	uint64_t muted_events;      /* rows events before the start point */
} cdc_stream_stats_t;

/* Decides whether a table is captured; asked once per table definition.
 * `qualified` is "db.table". */
typedef int (*cdc_table_filter_fn)(void *ctx, const char *qualified);

typedef struct cdc_stream {
	sink_t *sink;               /* not owned */
	cdc_table_filter_fn filter; /* NULL: capture every table */
	void *filter_ctx;
	const schema_opts_t *schema; /* catalog and column rules; NULL: the
				      * binlog only */
	/* Told about every DDL statement (a QUERY that is not a transaction
	 * boundary or a data change), after the stream took it in; an error
	 * it returns is the event's. */
	binlog_errcode_t (*on_ddl)(void *ctx, const binlog_event_t *ev, binlog_err_t *err);
	void *ddl_ctx;
	cdc_seq_t seq;
	cdc_writer_t w;
	char file[256]; /* current binlog file name */
	uint64_t file_no;
	int follow_rotate; /* ROTATE switches the file (live streams) */
	int txn_open;
	int txn_has_gtid;
	char gtid_text[BINLOG_GTID_TEXT_MAX]; /* of the open transaction */
	const char *source;                   /* the source's name, for record headers */
	/* Transactions that start before this point are read (their GTIDs
	 * count towards the sequence) but not emitted: a start at a position
	 * inside a file, or at a time. The first transaction at or after it
	 * ends the gate. */
	struct {
		int active;
		uint64_t file_no, pos; /* 0, 0: no position */
		int64_t ts_ms;         /* 0: no time */
	} emit_from;
	int muted; /* the open transaction is before emit_from */
	/* Sinks with topics: the router gives each record its topic, and
	 * entries note when their table last changed (now_ms, which the
	 * caller keeps current). With keys, records carry their key. */
	cdc_router_t *router; /* not owned; NULL: no topics */
	int keys;
	cdc_keyer_t keyer;
	/* Told about every record before it goes to the sink (the value, and
	 * the key when `keys`); an error it returns is the record's. */
	binlog_errcode_t (*on_record)(void *ctx, const schema_table_t *st, const sink_record_t *r,
				      binlog_err_t *err);
	void *record_ctx;
	int64_t now_ms;
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
