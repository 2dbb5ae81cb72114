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
#include "binlog_jsonw.h"

#define FLUSH_AT ((size_t)1 << 20)

typedef struct sink_file {
	sink_t base;
	int fd;
	int fsync_on_flush;
	int headers;
	int seekable;     /* a regular file: offset and rewind work */
	uint64_t written; /* bytes written to fd (its offset when seekable) */
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
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "write: %s", strerror(errno));
		}
		off += (size_t)n;
		f->written += (uint64_t)n;
	}
	f->buf.len = 0;
	return BINLOG_OK;
}

/* The record is at the end of the buffer: end its line, write out a full
 * buffer. */
static binlog_errcode_t end_record(sink_file_t *f, binlog_err_t *err)
{
	if (f->headers)
		binlog_buf_putc(&f->buf, '}');
	binlog_buf_putc(&f->buf, '\n');
	if (f->buf.failed)
		return binlog_err_set(err, BINLOG_E_NOMEM, "file sink: no memory for a record");
	if (f->buf.len >= FLUSH_AT)
		return drain(f, err);
	return BINLOG_OK;
}

static void header(binlog_buf_t *b, const char *name, const char *v, size_t n)
{
	binlog_buf_puts(b, name);
	binlog_jw_utf8(b, (const uint8_t *)(v ? v : ""), v ? n : 0);
}

/* {"headers":{...},"value": */
static void file_head(sink_t *s, const sink_record_t *r)
{
	binlog_buf_t *b = &((sink_file_t *)s)->buf;
	char seq[24];
	size_t n = binlog_u64_to_dec(r->seq, seq);

	binlog_buf_puts(b, "{\"headers\":{\"sequence\":\"");
	binlog_buf_put(b, seq, n);
	binlog_buf_putc(b, '"');
	if (r->gtid && *r->gtid)
		header(b, ",\"gtid\":", r->gtid, strlen(r->gtid));
	header(b, ",\"db\":", r->db, r->db_len);
	header(b, ",\"table\":", r->table, r->table_len);
	header(b, ",\"op\":", r->op, r->op ? strlen(r->op) : 0);
	if (r->source && *r->source)
		header(b, ",\"source\":", r->source, strlen(r->source));
	header(b, ",\"type\":", r->type ? r->type : "data", strlen(r->type ? r->type : "data"));
	binlog_buf_puts(b, "},\"value\":");
}

static binlog_errcode_t file_write(sink_t *s, const sink_record_t *r, binlog_err_t *err)
{
	sink_file_t *f = (sink_file_t *)s;

	if (f->headers)
		file_head(s, r);
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

static binlog_errcode_t file_push(sink_t *s, binlog_err_t *err)
{
	return drain((sink_file_t *)s, err);
}

static uint64_t file_offset(sink_t *s)
{
	sink_file_t *f = (sink_file_t *)s;

	return f->written + f->buf.len;
}

static binlog_errcode_t file_rewind(sink_t *s, uint64_t off, binlog_err_t *err)
{
	sink_file_t *f = (sink_file_t *)s;

	if (!f->seekable)
		return binlog_err_set(err, BINLOG_E_USAGE, "file sink: not a regular file");
	if (off >= f->written) {
		if (off - f->written > f->buf.len)
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "file sink: offset %llu is past the end (%llu)",
					      (unsigned long long)off,
					      (unsigned long long)(f->written + f->buf.len));
		f->buf.len = (size_t)(off - f->written);
		return BINLOG_OK;
	}
	f->buf.len = 0;
	if (ftruncate(f->fd, (off_t)off) != 0 || lseek(f->fd, (off_t)off, SEEK_SET) < 0)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "file sink: truncating to %llu: %s",
				      (unsigned long long)off, strerror(errno));
	f->written = off;
	return BINLOG_OK;
}

static binlog_errcode_t file_flush(sink_t *s, binlog_err_t *err)
{
	sink_file_t *f = (sink_file_t *)s;
	binlog_errcode_t rc = drain(f, err);

	if (rc == BINLOG_OK && f->fsync_on_flush && fsync(f->fd) != 0 && errno != EINVAL)
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "fsync: %s", strerror(errno));
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
	.push = file_push,
	.offset = file_offset,
	.rewind = file_rewind,
};

/* The same, where each record carries its headers. */
static const sink_ops_t file_headers_ops = {
	.name = "file",
	.write = file_write,
	.flush = file_flush,
	.close = file_close,
	.inplace = file_inplace,
	.write_inplace = file_write_inplace,
	.inplace_head = file_head,
	.push = file_push,
	.offset = file_offset,
	.rewind = file_rewind,
};

sink_t *sink_file_new(int fd, int fsync_on_flush)
{
	sink_file_opts_t o = {.fsync_on_flush = fsync_on_flush};

	return sink_file_new_ex(fd, &o);
}

sink_t *sink_file_new_ex(int fd, const sink_file_opts_t *o)
{
	sink_file_t *f = calloc(1, sizeof(*f));
	struct stat fst;

	if (!f)
		return NULL;
	f->base.ops = o->headers ? &file_headers_ops : &file_ops;
	f->fd = fd;
	f->fsync_on_flush = o->fsync_on_flush;
	f->headers = o->headers;
	if (fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode)) {
		off_t at = lseek(fd, 0, SEEK_CUR);
		f->seekable = at >= 0 && !(fcntl(fd, F_GETFL) & O_APPEND);
		f->written = at > 0 ? (uint64_t)at : 0;
	}
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
