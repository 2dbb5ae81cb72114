/*
 * testutil.h: what every cmocka test includes, plus small helpers.
 */
#ifndef SLUICE_TESTUTIL_H
#define SLUICE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "binlog_buf.h"

/* The buffer's contents as a NUL-terminated string (appends a NUL that is
 * not counted in len). */
static inline const char *tu_str(binlog_buf_t *b)
{
	binlog_buf_putc(b, 0);
	b->len--;
	return (const char *)b->data;
}

/* Directory of the shared binlog fixtures, or NULL when absent. */
static inline const char *tu_fixture_dir(void)
{
	const char *d = getenv("SLUICE_FIXTURES");
	static const char *const cands[] = {"../shared/fixtures/binlog",
					    "../../shared/fixtures/binlog"};
	FILE *f;
	static char path[512];

	if (d && *d)
		return d;
	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		snprintf(path, sizeof(path), "%s/README.md", cands[i]);
		f = fopen(path, "r");
		if (f) {
			fclose(f);
			return cands[i];
		}
	}
	return NULL;
}

#endif
