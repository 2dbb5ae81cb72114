/*
 * cdc_fs.h: the file operations state needs: directories made on demand,
 * files replaced atomically, small files read whole.
 *
 * An atomic write puts the bytes in a temporary file in the same
 * directory, fsyncs it, renames (or links) it over the name and fsyncs the
 * directory: a crash at any instant leaves the old file or the new one,
 * whole, never a mix or nothing.
 */
#ifndef SLUICE_CDC_FS_H
#define SLUICE_CDC_FS_H

#include <stddef.h>

#include "binlog_buf.h"
#include "binlog_err.h"

/* mkdir -p, new directories with `mode`. 0 or an error naming the path. */
binlog_errcode_t cdc_mkdirs(const char *path, unsigned mode, binlog_err_t *err);

enum {
	CDC_WRITE_REPLACE = 0,   /* replace what is there */
	CDC_WRITE_EXCLUSIVE = 1, /* fail (BINLOG_E_USAGE) when the name exists */
};

/* Write `path` atomically (see above), with file mode 0600 | 0044 *
 * `world_readable`. 0 or an error naming the file and the step. */
binlog_errcode_t cdc_write_atomic(const char *path, const void *data, size_t len, int how,
				  int world_readable, binlog_err_t *err);

/* Read a whole file of at most `max` bytes into b (appended, NUL not
 * added). 0, BINLOG_E_IO (ENOENT included: err names it; *missing is set
 * when missing is not NULL) or BINLOG_E_LIMIT. */
binlog_errcode_t cdc_read_file(const char *path, size_t max, binlog_buf_t *b, int *missing,
			       binlog_err_t *err);

/* fsync a directory, so that a rename, link or unlink in it is durable. */
binlog_errcode_t cdc_sync_dir(const char *dir, binlog_err_t *err);

#endif
