/*
 * binlog_buf.h: a growable byte buffer with a hard size limit.
 *
 * Every text the decoder produces (JSON values, changelog-json records) is
 * appended to one of these. Appends never return an error one by one: a
 * failed growth (out of memory, or the limit reached) sets the sticky
 * `failed` flag and turns later appends into no-ops, so a hot loop appends
 * freely and checks once per record. That keeps the per-value cost to a
 * bounds check and a memcpy.
 *
 * The limit is what stops a hostile length (a 4 GiB JSON document claimed by
 * a 40-byte event) from becoming a 4 GiB allocation.
 *
 * Not thread-safe; one owner at a time.
 */
#ifndef SLUICE_BINLOG_BUF_H
#define SLUICE_BINLOG_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct binlog_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* growth beyond this fails; 0 means SIZE_MAX/2 */
	int failed; /* sticky: 1 after a growth failed */
} binlog_buf_t;

/* Initialise an empty buffer that may grow to `max` bytes (0: no limit
 * beyond address space). Allocates nothing. */
void binlog_buf_init(binlog_buf_t *b, size_t max);

/* Free the storage; the buffer may be initialised again. */
void binlog_buf_free(binlog_buf_t *b);

/* Make room for `extra` more bytes. Returns 1, or 0 and sets `failed`. */
int binlog_buf__grow(binlog_buf_t *b, size_t extra);

static inline int binlog_buf_reserve(binlog_buf_t *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return !b->failed;
	return binlog_buf__grow(b, extra);
}

static inline void binlog_buf_reset(binlog_buf_t *b)
{
	b->len = 0;
	b->failed = 0;
}

static inline void binlog_buf_put(binlog_buf_t *b, const void *p, size_t n)
{
	if (b->cap - b->len < n && !binlog_buf__grow(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void binlog_buf_putc(binlog_buf_t *b, uint8_t c)
{
	if (b->cap == b->len && !binlog_buf__grow(b, 1))
		return;
	b->data[b->len++] = c;
}

/* Append a string literal without strlen at run time. */
#define binlog_buf_lit(b, s) binlog_buf_put((b), (s), sizeof(s) - 1)

static inline void binlog_buf_puts(binlog_buf_t *b, const char *s)
{
	binlog_buf_put(b, s, strlen(s));
}

/* Pointer to `n` writable bytes at the end (not yet counted in len), or
 * NULL when growth failed. Commit with binlog_buf_commit(). */
static inline uint8_t *binlog_buf_space(binlog_buf_t *b, size_t n)
{
	if (b->cap - b->len < n && !binlog_buf__grow(b, n))
		return NULL;
	if (b->failed)
		return NULL;
	return b->data + b->len;
}

static inline void binlog_buf_commit(binlog_buf_t *b, size_t n)
{
	b->len += n;
}

#endif
