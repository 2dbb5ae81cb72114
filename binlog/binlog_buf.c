/*
 * binlog_buf.c: growth policy of binlog_buf_t (doubling, capped by `max`).
 */
#include "binlog_buf.h"

#include <stdlib.h>

void binlog_buf_init(binlog_buf_t *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : SIZE_MAX / 2;
	b->failed = 0;
}

void binlog_buf_free(binlog_buf_t *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = 0;
}

int binlog_buf__grow(binlog_buf_t *b, size_t extra)
{
	size_t need, ncap;
	uint8_t *p;

	if (b->failed)
		return 0;
	if (extra > b->max || b->len > b->max - extra) {
		b->failed = 1;
		return 0;
	}
	need = b->len + extra;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 4 ? need : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	p = realloc(b->data, ncap);
	if (!p) {
		b->failed = 1;
		return 0;
	}
	b->data = p;
	b->cap = ncap;
	return 1;
}
