/*
 * sink.h: where records go.
 *
 * A sink takes records one at a time and says, through its flush, when
 * everything written before is durable (a file fsynced, Kafka acknowledged).
 * A checkpoint may only advance past records a flush has confirmed.
 *
 * Errors are binlog_err_t codes; binlog_err_retriable() tells a caller
 * whether to retry (a broker that is down) or stop (a disk that refuses).
 *
 * A sink belongs to one thread.
 */
#ifndef SLUICE_SINK_H
#define SLUICE_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_buf.h"
#include "binlog_err.h"

typedef struct sink_record {
	const uint8_t *value; /* changelog-json, no trailing newline */
	size_t value_len;
	const uint8_t *key; /* may be NULL */
	size_t key_len;
	uint64_t seq;
	const char *op; /* "+I", "-U", "+U", "-D" */
	int64_t ts_ms;
	/* What the record's headers carry besides seq and op (may be NULL or
	 * empty): the physical table, the transaction's GTID, the source's
	 * name, and the record type ("data"). */
	const char *db, *table;
	size_t db_len, table_len;
	const char *gtid;
	const char *source;
	const char *type;
	/* Sinks with topics: the record's topic (NUL-terminated). */
	const char *topic;
} sink_record_t;

typedef struct sink sink_t;

typedef struct sink_ops {
	const char *name;
	/* Accept one record; the bytes may be reused after the call. */
	binlog_errcode_t (*write)(sink_t *s, const sink_record_t *r, binlog_err_t *err);
	/* Make everything written so far durable (or delivered). */
	binlog_errcode_t (*flush)(sink_t *s, binlog_err_t *err);
	/* Release; does not flush. */
	void (*close)(sink_t *s);
	/*
	 * Optional, for sinks that store a record as its bytes: the buffer
	 * the next record may be formatted straight into, saving a copy of
	 * every record. The caller appends the record to it, then calls
	 * write_inplace with r->value pointing at what it appended. NULL
	 * (either hook): use write.
	 */
	binlog_buf_t *(*inplace)(sink_t *s);
	binlog_errcode_t (*write_inplace)(sink_t *s, const sink_record_t *r, binlog_err_t *err);
	/* Optional, with inplace: append what precedes the value of record r
	 * (everything but r->value is set). The caller drops it with the
	 * value when formatting fails. */
	void (*inplace_head)(sink_t *s, const sink_record_t *r);
	/* Optional: hand buffered records on (a write(2), a produce) without
	 * waiting for them to be durable, so that a reader sees them soon.
	 * Called when the source has nothing more to give at once. */
	binlog_errcode_t (*push)(sink_t *s, binlog_err_t *err);
	/*
	 * Optional, for sinks that can go back: offset() is how much has been
	 * accepted so far (a file's length), which a checkpoint stores;
	 * rewind() drops everything after such an offset, so that records
	 * read again after a restart replace the ones written before it
	 * instead of repeating them.
	 */
	uint64_t (*offset)(sink_t *s);
	binlog_errcode_t (*rewind)(sink_t *s, uint64_t offset, binlog_err_t *err);
	/*
	 * Optional, for sinks that confirm records later (Kafka): how many
	 * records have been written (written) and how many of the first ones
	 * are confirmed durable, every one before them included (durable).
	 * Neither blocks. A checkpoint taken after the n-th record may be
	 * stored once durable() >= n, without a blocking flush, so one slow
	 * topic holds back the checkpoint and not the other topics. An error
	 * that will not heal (a record refused) is returned by the next
	 * write, or by durable_error.
	 */
	uint64_t (*written)(sink_t *s);
	uint64_t (*durable)(sink_t *s);
	binlog_errcode_t (*durable_error)(sink_t *s, binlog_err_t *err);
	/* Optional: one heartbeat record r to every partition of r->topic. */
	binlog_errcode_t (*heartbeat)(sink_t *s, const sink_record_t *r, binlog_err_t *err);
	/*
	 * Optional, for transactional sinks: make everything written so far
	 * durable together with `state` (the checkpoint, as JSON), atomically,
	 * and hand back the state committed last (recover; *state NULL when
	 * none; free() it).
	 */
	binlog_errcode_t (*commit)(sink_t *s, const char *state, binlog_err_t *err);
	binlog_errcode_t (*recover)(sink_t *s, char **state, binlog_err_t *err);
} sink_ops_t;

struct sink {
	const sink_ops_t *ops;
};

static inline binlog_errcode_t sink_write(sink_t *s, const sink_record_t *r, binlog_err_t *err)
{
	return s->ops->write(s, r, err);
}

static inline binlog_errcode_t sink_flush(sink_t *s, binlog_err_t *err)
{
	return s->ops->flush(s, err);
}

/* The buffer to build the next record in, or NULL (see sink_ops_t). */
static inline binlog_buf_t *sink_inplace(sink_t *s)
{
	return s->ops->inplace && s->ops->write_inplace ? s->ops->inplace(s) : NULL;
}

static inline binlog_errcode_t sink_push(sink_t *s, binlog_err_t *err)
{
	return s->ops->push ? s->ops->push(s, err) : BINLOG_OK;
}

static inline void sink_close(sink_t *s)
{
	if (s)
		s->ops->close(s);
}

/*
 * JSON lines to a file descriptor: one record value per line. With
 * `fsync_on_flush`, a flush also fsyncs (regular files). The fd stays the
 * caller's. Returns NULL when out of memory.
 */
sink_t *sink_file_new(int fd, int fsync_on_flush);

typedef struct sink_file_opts {
	int fsync_on_flush;
	/* Each line an object with the record's headers and its value:
	 *   {"headers":{"sequence":"16777216","gtid":"0-1-5","db":"shop",
	 *    "table":"orders","op":"+I","source":"shop","type":"data"},
	 *    "value":{...changelog-json...}}
	 * Header values are strings, as Kafka record headers carry them. */
	int headers;
} sink_file_opts_t;

/*
 * The same, with options. For a regular file the sink can rewind: its
 * offset is the file's length (records still buffered included), and a
 * rewind truncates the file, or drops buffered records, back to it. The
 * fd must not be in O_APPEND mode for that.
 */
sink_t *sink_file_new_ex(int fd, const sink_file_opts_t *o);

#endif
