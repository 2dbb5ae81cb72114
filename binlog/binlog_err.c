/*
 * binlog_err.c: names, messages and formatting of binlog_err_t.
 */
#include "binlog_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int retriable;
	const char *msg;
} err_table[] = {
#define BINLOG__ERR_ROW(name, retriable, msg) {#name, retriable, msg},
	BINLOG_ERRORS(BINLOG__ERR_ROW)
#undef BINLOG__ERR_ROW
};

const char *binlog_errname(binlog_errcode_t code)
{
	if ((unsigned)code >= BINLOG_E__COUNT)
		return "?";
	return err_table[code].name;
}

const char *binlog_strerror(binlog_errcode_t code)
{
	if ((unsigned)code >= BINLOG_E__COUNT)
		return "unknown error";
	return err_table[code].msg;
}

int binlog_err_retriable(binlog_errcode_t code)
{
	if ((unsigned)code >= BINLOG_E__COUNT)
		return 0;
	return err_table[code].retriable;
}

binlog_errcode_t binlog_err_set(binlog_err_t *err, binlog_errcode_t code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	if (!fmt) {
		snprintf(err->msg, sizeof(err->msg), "%s", binlog_strerror(code));
		return code;
	}
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void binlog_err_prefix(binlog_err_t *err, const char *fmt, ...)
{
	char prefix[BINLOG_ERR_MSG_MAX];
	char old[BINLOG_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	/* Truncation is fine: the message stays a bounded, readable line. */
	{
		size_t n = strlen(prefix), m = strlen(old), cap = sizeof(err->msg) - 1;
		size_t k = 0;
		memcpy(err->msg, prefix, n > cap ? cap : n);
		k = n > cap ? cap : n;
		if (k + 2 <= cap) {
			memcpy(err->msg + k, ": ", 2);
			k += 2;
		}
		if (m > cap - k)
			m = cap - k;
		memcpy(err->msg + k, old, m);
		err->msg[k + m] = '\0';
	}
}
