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

#endif
