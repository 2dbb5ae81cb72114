/*
 * binlog_int.h: internals shared between the decoder's files. Not for use
 * outside binlog/.
 */
#ifndef SLUICE_BINLOG_INT_H
#define SLUICE_BINLOG_INT_H

#include "binlog.h"

/*
 * Parse a TABLE_MAP body (post-header included, checksum excluded) into a
 * new table. `id_len` is 6, or 4 for servers whose TABLE_MAP post-header is
 * 6 bytes long. The table copies what it keeps. Returns 0 and *out, or an
 * error (message without the event prefix, which the caller adds).
 */
binlog_errcode_t binlog__table_parse(const uint8_t *body, size_t n, unsigned id_len, int flavor,
				     binlog_table_t **out, binlog_err_t *err);
void binlog__table_free(binlog_table_t *t);

/* Bytes the raw TABLE_MAP body is kept as (for the "same bytes" check). */
const uint8_t *binlog__table_raw(const binlog_table_t *t, size_t *n);

/* Inflate a MariaDB-compressed buffer: one header byte 0x8L (L = 1..4
 * length bytes), the big-endian inflated length, then a zlib stream.
 * Appends to out (reset by the caller). */
binlog_errcode_t binlog__maria_inflate(const uint8_t *p, size_t n, size_t max, binlog_buf_t *out,
				       binlog_err_t *err);

/* Inflate MariaDB column compression (VARCHAR/BLOB ... COMPRESSED):
 * header byte 0 then raw bytes, or 0x8L / 0x8(L|8) then the length and a
 * zlib (or, with bit 3, raw deflate) stream. */
binlog_errcode_t binlog__maria_column_inflate(const uint8_t *p, size_t n, size_t max,
					      binlog_buf_t *out, binlog_err_t *err);

/* CRC32 (zlib's polynomial and conventions: crc32(0, ...) starts, a
 * result continues), with carry-less multiplication where the CPU has it. */
uint32_t binlog__crc32(uint32_t crc, const uint8_t *p, size_t n);

/* zstd frame(s) to out, at most max bytes. */
binlog_errcode_t binlog__zstd_inflate(const uint8_t *p, size_t n, size_t expect, size_t max,
				      binlog_buf_t *out, binlog_err_t *err);

#endif
