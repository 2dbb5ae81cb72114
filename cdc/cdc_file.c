/*
 * cdc_file.c: event-at-a-time reading of a binlog file through a sliding
 * window. A gzip file (it starts with 1f 8b) is read through zlib; any
 * other file with read(2) straight into the window. (gzread() would read a
 * plain file too, but through a buffer of its own: one more copy of every
 * byte, a few percent of a whole decode.)
 */
#include "cdc_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* Grown on demand for larger events; big enough that reads are few. */
#define WINDOW ((size_t)64 << 10)

struct cdc_file {
	gzFile gz; /* gzip input, or NULL */
	int fd;    /* plain input (or -1), and gz's until gzdopen owns it */
	char *path;
	const char *name;
	uint8_t *buf;
	size_t cap;
	size_t start;  /* first unconsumed byte in buf */
	size_t end;    /* bytes valid in buf */
	uint64_t base; /* file offset of buf[0] */
	int eof;
};

static int fill(cdc_file_t *f, size_t need, binlog_err_t *err)
{
	/* Make buf[start, start + need) available, reading as needed. */
	while (f->end - f->start < need && !f->eof) {
		size_t want;
		int n;
		if (f->start > 0 && (f->cap - f->end < need || f->start >= f->cap / 2)) {
			memmove(f->buf, f->buf + f->start, f->end - f->start);
			f->base += f->start;
			f->end -= f->start;
			f->start = 0;
		}
		if (f->cap - f->start < need) {
			uint8_t *nb = realloc(f->buf, f->start + need);
			if (!nb) {
				binlog_err_set(err, BINLOG_E_NOMEM,
					       "%s: no memory for a %zu-byte event", f->path, need);
				return -1;
			}
			f->buf = nb;
			f->cap = f->start + need;
		}
		want = (f->cap - f->end) > (1u << 30) ? (1u << 30) : (f->cap - f->end);
		if (f->gz) {
			n = gzread(f->gz, f->buf + f->end, (unsigned)want);
			if (n < 0) {
				int zerr;
				const char *m = gzerror(f->gz, &zerr);
				binlog_err_set(err, BINLOG_E_IO, "%s: read error at %llu: %s",
					       f->path, (unsigned long long)(f->base + f->end),
					       zerr == Z_ERRNO ? strerror(errno) : m);
				return -1;
			}
		} else {
			ssize_t r = read(f->fd, f->buf + f->end, want);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				binlog_err_set(err, BINLOG_E_IO, "%s: read error at %llu: %s",
					       f->path, (unsigned long long)(f->base + f->end),
					       strerror(errno));
				return -1;
			}
			n = (int)r;
		}
		if (n == 0)
			f->eof = 1;
		f->end += (size_t)n;
	}
	return f->end - f->start >= need ? 1 : 0;
}

cdc_file_t *cdc_file_open(const char *path, binlog_err_t *err)
{
	cdc_file_t *f = calloc(1, sizeof(*f));
	const char *slash;
	uint8_t magic[2];
	ssize_t m;
	int r;

	if (!f) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		return NULL;
	}
	f->fd = -1;
	f->path = strdup(path);
	f->buf = malloc(WINDOW);
	if (!f->path || !f->buf) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		goto fail;
	}
	f->cap = WINDOW;
	slash = strrchr(f->path, '/');
	f->name = slash ? slash + 1 : f->path;
	errno = 0;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		binlog_err_set(err, BINLOG_E_IO, "%s: %s", path,
			       errno ? strerror(errno) : "cannot open");
		goto fail;
	}
	/* A pipe cannot be peeked at: zlib tells gzip from plain as it reads. */
	m = pread(f->fd, magic, 2, 0);
	if (m < 0 || (m == 2 && magic[0] == 0x1f && magic[1] == 0x8b)) {
		f->gz = gzdopen(f->fd, "rb");
		if (!f->gz) {
			binlog_err_set(err, BINLOG_E_NOMEM, "%s: no memory for zlib", path);
			goto fail;
		}
		f->fd = -1; /* gzclose closes it */
		gzbuffer(f->gz, 32 * 1024);
	}
	r = fill(f, BINLOG_MAGIC_LEN, err);
	if (r < 0)
		goto fail;
	if (binlog_check_magic(f->buf, f->end, err) != BINLOG_OK) {
		binlog_err_prefix(err, "%s", path);
		goto fail;
	}
	f->start = BINLOG_MAGIC_LEN;
	return f;
fail:
	cdc_file_close(f);
	return NULL;
}

void cdc_file_close(cdc_file_t *f)
{
	if (!f)
		return;
	if (f->gz)
		gzclose(f->gz);
	if (f->fd >= 0)
		close(f->fd);
	free(f->buf);
	free(f->path);
	free(f);
}

int cdc_file_next(cdc_file_t *f, binlog_decoder_t *d, const uint8_t **p, uint32_t *n,
		  uint64_t *offset, binlog_err_t *err)
{
	uint32_t size;
	uint64_t off;
	int r;

	r = fill(f, BINLOG_HEADER_LEN, err);
	if (r < 0)
		return -1;
	off = f->base + f->start;
	if (r == 0) {
		if (f->end == f->start)
			return 0;
		binlog_err_set(err, BINLOG_E_TRUNCATED,
			       "%s: at %llu: %zu bytes at the end of the file, less than an event "
			       "header (a file still being written, or cut short)",
			       f->path, (unsigned long long)off, f->end - f->start);
		return -1;
	}
	if (binlog_decoder_event_size(d, f->buf + f->start, off, &size, err) != BINLOG_OK)
		return -1;
	r = fill(f, size, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		const char *tn = binlog_event_type_name(f->buf[f->start + 4]);
		binlog_err_set(err, BINLOG_E_TRUNCATED,
			       "%s: at %llu, %s (type %u): event of %u bytes cut off by the end of "
			       "the file after %zu bytes",
			       f->path, (unsigned long long)off, tn ? tn : "unknown event",
			       f->buf[f->start + 4], size, f->end - f->start);
		return -1;
	}
	*p = f->buf + f->start;
	*n = size;
	*offset = off;
	f->start += size;
	return 1;
}

const char *cdc_file_name(const cdc_file_t *f)
{
	return f->name;
}

const char *cdc_file_path(const cdc_file_t *f)
{
	return f->path;
}
