/*
 * decode_util.h: decode a binlog file in-process and keep every record,
 * for tests that assert on records.
 */
#ifndef SLUICE_DECODE_UTIL_H
#define SLUICE_DECODE_UTIL_H

#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "binlog.h"
#include "cdc_decode.h"
#include "cdc_file.h"
#include "cdc_stream.h"
#include "sink.h"

typedef struct du_result {
	char **rec; /* NUL-terminated record texts */
	size_t n, cap;
	uint64_t events;     /* logical events, payload contents included */
	uint64_t top_events; /* events as framed in the file */
	uint64_t ignored;
	char **notes; /* ROWS_QUERY / ANNOTATE_ROWS texts */
	size_t nnotes;
	binlog_errcode_t rc;
	binlog_err_t err;
	cdc_stream_stats_t stats;
	uint64_t borrowed;
	uint64_t invalid_text;
} du_result_t;

typedef struct du_sink {
	sink_t base;
	du_result_t *r;
} du_sink_t;

static binlog_errcode_t du_write(sink_t *s, const sink_record_t *rec, binlog_err_t *err)
{
	du_result_t *r = ((du_sink_t *)s)->r;
	char *t;

	(void)err;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->rec = realloc(r->rec, r->cap * sizeof(*r->rec));
	}
	t = malloc(rec->value_len + 1);
	memcpy(t, rec->value, rec->value_len);
	t[rec->value_len] = 0;
	r->rec[r->n++] = t;
	return BINLOG_OK;
}

static binlog_errcode_t du_flush(sink_t *s, binlog_err_t *err)
{
	(void)s;
	(void)err;
	return BINLOG_OK;
}

static void du_close(sink_t *s)
{
	(void)s;
}

static const sink_ops_t du_ops = {
	.name = "test", .write = du_write, .flush = du_flush, .close = du_close};

static int du_exclude(void *ctx, const char *qualified)
{
	return fnmatch((const char *)ctx, qualified, 0) != 0;
}

/* Decode paths[0..npaths) as one stream; `exclude` is a db.table pattern
 * not to capture, or NULL. */
static inline du_result_t *du_decode_files(const char *const *paths, int npaths,
					   const char *exclude)
{
	du_result_t *r = calloc(1, sizeof(*r));
	du_sink_t sk = {{&du_ops}, r};
	binlog_decoder_t *dec = binlog_decoder_new(NULL);
	cdc_stream_t st;
	binlog_event_t ev;

	cdc_stream_init(&st, &sk.base);
	if (exclude) {
		st.filter = du_exclude;
		st.filter_ctx = (void *)exclude;
	}
	for (int i = 0; i < npaths && r->rc == BINLOG_OK; i++) {
		cdc_file_t *f = cdc_file_open(paths[i], &r->err);
		const uint8_t *p;
		uint32_t n;
		uint64_t off;
		int k = 0;

		if (!f) {
			r->rc = r->err.code;
			break;
		}
		binlog_decoder_reset(dec);
		binlog_decoder_set_source(dec, cdc_file_path(f));
		cdc_stream_set_file(&st, cdc_file_name(f));
		while (r->rc == BINLOG_OK &&
		       (k = cdc_file_next(f, dec, &p, &n, &off, &r->err)) > 0) {
			r->top_events++;
			if ((r->rc = binlog_decoder_feed(dec, p, n, off, &r->err)) != BINLOG_OK)
				break;
			while ((k = binlog_decoder_next(dec, &ev, &r->err)) > 0) {
				r->events++;
				if (ev.ignored)
					r->ignored++;
				if (ev.type == BINLOG_ROWS_QUERY_LOG_EVENT ||
				    ev.type == BINLOG_MARIA_ANNOTATE_ROWS_EVENT) {
					char *t = malloc(ev.u.annotate.text.len + 1);
					memcpy(t, ev.u.annotate.text.p, ev.u.annotate.text.len);
					t[ev.u.annotate.text.len] = 0;
					r->notes =
						realloc(r->notes, (r->nnotes + 1) * sizeof(char *));
					r->notes[r->nnotes++] = t;
				}
				if ((r->rc = cdc_stream_event(&st, &ev, &r->err)) != BINLOG_OK)
					break;
			}
			if (k < 0)
				r->rc = r->err.code;
		}
		if (k < 0 && r->rc == BINLOG_OK)
			r->rc = r->err.code;
		cdc_file_close(f);
	}
	r->stats = st.stats;
	r->borrowed = st.seq.borrowed;
	r->invalid_text = st.w.invalid_text;
	cdc_stream_free(&st);
	binlog_decoder_free(dec);
	return r;
}

static inline du_result_t *du_decode(const char *path, const char *exclude)
{
	return du_decode_files(&path, 1, exclude);
}

/* Decode bytes held in memory (through the file reader, via a memfd). */
static inline du_result_t *du_decode_bytes(const void *p, size_t n, const char *exclude)
{
	int fd = memfd_create("binlog", 0);
	char path[64];
	du_result_t *r;

	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		r = calloc(1, sizeof(*r));
		r->rc = BINLOG_E_IO;
		if (fd >= 0)
			close(fd);
		return r;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = du_decode(path, exclude);
	close(fd);
	return r;
}

static inline void du_free(du_result_t *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->rec[i]);
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->rec);
	free(r->notes);
	free(r);
}

/* The "seq" of a record. */
static inline uint64_t du_seq(const char *rec)
{
	const char *p = strstr(rec, ",\"seq\":");
	return p ? strtoull(p + 7, NULL, 10) : 0;
}

/* Index of the first record at or after `from` containing every needle
 * (NULL-terminated list), or -1. */
static inline long du_find(const du_result_t *r, size_t from, const char *const *needles)
{
	for (size_t i = from; i < r->n; i++) {
		int ok = 1;
		for (const char *const *q = needles; *q && ok; q++)
			ok = strstr(r->rec[i], *q) != NULL;
		if (ok)
			return (long)i;
	}
	return -1;
}

#endif
