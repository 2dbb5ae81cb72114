/*
 * cdc_log.c: see cdc_log.h. A message is formatted whole and written with
 * one write(2), so lines from several processes sharing a terminal or a
 * log file do not interleave.
 */
#include "cdc_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int level = CDC_LOG_INFO;
static char prefix[64];

void cdc_log_init(const char *name)
{
	const char *e = getenv("SLUICE_LOG");
	static const char *const names[] = {"error", "warn", "info", "debug"};

	if (e)
		for (int i = 0; i < 4; i++)
			if (strcasecmp(e, names[i]) == 0)
				level = i;
	if (name && *name)
		snprintf(prefix, sizeof(prefix), "%s: ", name);
	else
		prefix[0] = 0;
}

int cdc_log_enabled(int l)
{
	return l <= level;
}

void cdc_log(int l, const char *fmt, ...)
{
	static const char *const tags[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n;
	int k;

	if (l > level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	k = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s", ts.tv_nsec / 1000000L,
		     tags[l < 0   ? 0
			  : l > 3 ? 3
				  : l],
		     prefix);
	n += k > 0 ? (size_t)k : 0;
	va_start(ap, fmt);
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (k > 0)
		n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k : sizeof(line) - n - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}

int64_t cdc_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cdc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
