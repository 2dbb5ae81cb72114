/*
 * sink_file.c: records as JSON lines on a file descriptor.
 *
 * Records are gathered in a 1 MiB buffer and written with one write(2)
 * per buffer, so a decode to a pipe costs a system call per few thousand
 * records rather than per record. A pipe is also enlarged to hold a whole
 * buffer (below).
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binlog_buf.h"

#define FLUSH_AT ((size_t)1 << 20)

typedef struct sink_file {
	sink_t base;
	int fd;
	int fsync_on_flush;
	binlog_buf_t buf;
} sink_file_t;

static binlog_errcode_t drain(sink_file_t *f, binlog_err_t *err)
{
	size_t off = 0;

	while (off < f->buf.len) {
		ssize_t n = write(f->fd, f->buf.data + off, f->buf.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* Keep what was not written: a retry can go on. */
			memmove(f->buf.data, f->buf.data + off, f->buf.len - off);
			f->buf.len -= off;
			return binlog_err_set(err, BINLOG_E_IO, "write: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	f->buf.len = 0;
	return BINLOG_OK;
}

/* The record is at the end of the buffer: end its line, write out a full
 * buffer. */
static binlog_errcode_t end_record(sink_file_t *f, binlog_err_t *err)
{
	binlog_buf_putc(&f->buf, '\n');
	if (f->buf.failed)
		return binlog_err_set(err, BINLOG_E_NOMEM, "file sink: no memory for a record");
	if (f->buf.len >= FLUSH_AT)
		return drain(f, err);
	return BINLOG_OK;
}

static binlog_errcode_t file_write(sink_t *s, const sink_record_t *r, binlog_err_t *err)
{
	sink_file_t *f = (sink_file_t *)s;

	binlog_buf_put(&f->buf, r->value, r->value_len);
	return end_record(f, err);
}

static binlog_buf_t *file_inplace(sink_t *s)
{
	return &((sink_file_t *)s)->buf;
}

/* The writer built the record in the buffer already. */
static binlog_errcode_t file_write_inplace(sink_t *s, const sink_record_t *r, binlog_err_t *err)
{
	(void)r;
	return end_record((sink_file_t *)s, err);
}

static binlog_errcode_t file_flush(sink_t *s, binlog_err_t *err)
{
	sink_file_t *f = (sink_file_t *)s;
	binlog_errcode_t rc = drain(f, err);

	if (rc == BINLOG_OK && f->fsync_on_flush && fsync(f->fd) != 0 && errno != EINVAL)
		rc = binlog_err_set(err, BINLOG_E_IO, "fsync: %s", strerror(errno));
	return rc;
}

static void file_close(sink_t *s)
{
	sink_file_t *f = (sink_file_t *)s;

	binlog_buf_free(&f->buf);
	free(f);
}

static const sink_ops_t file_ops = {
	.name = "file",
	.write = file_write,
	.flush = file_flush,
	.close = file_close,
	.inplace = file_inplace,
	.write_inplace = file_write_inplace,
};

sink_t *sink_file_new(int fd, int fsync_on_flush)
{
	sink_file_t *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->base.ops = &file_ops;
	f->fd = fd;
	f->fsync_on_flush = fsync_on_flush;
#ifdef F_SETPIPE_SZ
	{
		/* A Linux pipe holds 64 KiB: a 1 MiB write crosses it in 16
		 * rounds of fill, wake the reader, sleep, each a pair of
		 * context switches (across cores, inter-processor interrupts),
		 * which made `sluice decode | consumer` several times slower
		 * than the decode. Room for a whole buffer cuts that to one
		 * round. Only ever enlarged; refused (a user's pipe quota) it
		 * stays as it was. */
		struct stat st;
		int cur;

		if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
		    (cur = fcntl(fd, F_GETPIPE_SZ)) >= 0 && (size_t)cur < FLUSH_AT)
			(void)fcntl(fd, F_SETPIPE_SZ, (int)FLUSH_AT);
	}
#endif
	/* A record may be large (a long BLOB); the buffer holds at least one. */
	binlog_buf_init(&f->buf, 0);
	return &f->base;
}
