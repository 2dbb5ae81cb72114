/*
 * cdc_decode.h: decoding binlog files into a stream of records.
 */
#ifndef SLUICE_CDC_DECODE_H
#define SLUICE_CDC_DECODE_H

#include <stdint.h>

#include "binlog.h"
#include "cdc_stream.h"

/*
 * Decode one file (plain or gzip) into the stream. The decoder is reset
 * first (a file starts with its own FORMAT_DESCRIPTION); the stream keeps
 * its sequence state, so consecutive files continue one another. Adds the
 * number of decoded events to *events when non-NULL. Returns 0 or an
 * error with *err naming the file, position and event.
 */
binlog_errcode_t cdc_decode_file(binlog_decoder_t *dec, cdc_stream_t *st, const char *path,
				 uint64_t *events, binlog_err_t *err);

/* `sluice decode` (argv[0] is "decode"). Returns the exit status. */
int cdc_decode_main(int argc, char **argv);

#endif
