/*
 * binlog_err.h: error codes and the error report every decoder fills.
 *
 * One table (BINLOG_ERRORS) generates the enum, the short names and the
 * default messages, so they cannot drift apart. Each entry also says
 * whether retrying can help: a sink or the replication client uses that to
 * choose between "try again" and "stop and tell a human". Decoding errors
 * are never retriable: the same bytes give the same error.
 *
 * Functions return 0 (BINLOG_OK) or a code, and fill a caller-given
 * binlog_err_t with a message that names where: source file, position,
 * event type, table, column, bytes wanted and bytes left.
 */
#ifndef SLUICE_BINLOG_ERR_H
#define SLUICE_BINLOG_ERR_H

#include <stddef.h>

/* clang-format off */
/*       name             retriable  message */
#define BINLOG_ERRORS(X)                                                        \
	X(OK,               0, "success")                                       \
	X(BAD_MAGIC,        0, "not a binary log (bad magic number)")            \
	X(TRUNCATED,        0, "truncated")                                      \
	X(CHECKSUM,         0, "checksum mismatch")                              \
	X(BAD_EVENT,        0, "malformed event")                                \
	X(BAD_VALUE,        0, "malformed column value")                         \
	X(UNKNOWN_EVENT,    0, "unknown event type that is not ignorable")       \
	X(UNSUPPORTED,      0, "unsupported")                                    \
	X(NO_FORMAT,        0, "event before the format description event")      \
	X(NO_TABLE_MAP,     0, "rows event for a table id without a table map")  \
	X(LIMIT,            0, "size limit exceeded")                            \
	X(DECOMPRESS,       0, "decompression failed")                           \
	X(INCIDENT,         0, "the server logged an incident (events may be lost)") \
	X(SEQUENCE,         0, "sequence cannot be assigned")                    \
	X(NOMEM,            1, "out of memory")                                  \
	X(IO,               1, "I/O error")                                      \
	X(USAGE,            0, "invalid usage")                                  \
	X(PURGED,           0, "the server no longer has the binlog to resume from") \
	X(SERVER,           0, "the server refused the request")                \
	X(LOCAL_IO,         0, "a local file could not be read or written")  \
	X(SINK,             0, "the sink refused a record")

typedef enum binlog_errcode {
#define BINLOG__ERR_ENUM(name, retriable, msg) BINLOG_E_##name,
	BINLOG_ERRORS(BINLOG__ERR_ENUM)
#undef BINLOG__ERR_ENUM
	BINLOG_E__COUNT
} binlog_errcode_t;
/* clang-format on */

#define BINLOG_OK BINLOG_E_OK

#define BINLOG_ERR_MSG_MAX 768

typedef struct binlog_err {
	binlog_errcode_t code;
	char msg[BINLOG_ERR_MSG_MAX];
} binlog_err_t;

/* "CHECKSUM", "TRUNCATED", ...; "?" for an unknown code. */
const char *binlog_errname(binlog_errcode_t code);

/* The default one-line message of a code. */
const char *binlog_strerror(binlog_errcode_t code);

/* 1 when retrying the same operation later can succeed. */
int binlog_err_retriable(binlog_errcode_t code);

/* Fill *err (may be NULL) with code and a printf-style message, and return
 * the code so callers can write `return binlog_err_set(err, ...)`. */
binlog_errcode_t binlog_err_set(binlog_err_t *err, binlog_errcode_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "prefix: " in front of the message already in *err. */
void binlog_err_prefix(binlog_err_t *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
