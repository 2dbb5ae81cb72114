/*
 * cdc_file.h: reading binlog files event by event (plain or gzip).
 *
 * The reader keeps a window of the file in memory and hands out whole
 * events as pointers into it, so the decoder works on the bytes in place.
 * An event larger than the window grows it, up to the decoder's
 * max_event_size. Archived binlogs are often gzipped; .gz input is read
 * through zlib transparently.
 */
#ifndef SLUICE_CDC_FILE_H
#define SLUICE_CDC_FILE_H

#include <stdint.h>

#include "binlog.h"

typedef struct cdc_file cdc_file_t;

/* Open a binlog file and check its magic. Returns NULL with *err filled.
 * The caller owns the reader (cdc_file_close). */
cdc_file_t *cdc_file_open(const char *path, binlog_err_t *err);
void cdc_file_close(cdc_file_t *f);

/*
 * The next event: 1 with *p, *n and *offset (valid until the next call), 0 at
 * the end of the file, -1 with *err filled (a read error, or an event cut
 * off by the end of the file). The decoder validates the size.
 */
int cdc_file_next(cdc_file_t *f, binlog_decoder_t *d, const uint8_t **p, uint32_t *n,
		  uint64_t *offset, binlog_err_t *err);

/* The file's base name (for records and messages). */
const char *cdc_file_name(const cdc_file_t *f);
const char *cdc_file_path(const cdc_file_t *f);

#endif
