/*
 * binlog_time.h: the temporal types of the binlog, decoded and formatted.
 *
 * Storage formats (all read by binlog_value.c):
 *   DATE        3 bytes LE: day 5 bits, month 4 bits, year the rest
 *   TIME        3 bytes LE signed, the number HHMMSS (MySQL < 5.6)
 *   DATETIME    8 bytes LE, the number YYYYMMDDhhmmss (MySQL < 5.6)
 *   TIMESTAMP   4 bytes LE seconds since the epoch (MySQL < 5.6)
 *   TIME2       3 bytes BE offset by 0x800000, then 0..3 bytes of fraction
 *   DATETIME2   5 bytes BE offset by 0x8000000000, then 0..3 bytes fraction
 *   TIMESTAMP2  4 bytes BE seconds, then 0..3 bytes of fraction
 *   YEAR        1 byte, 0 or years since 1900
 * The "packed" 64-bit forms are MySQL's in-memory representation, which
 * binary JSON uses for its DATE/TIME/DATETIME opaque values.
 *
 * Text follows what SELECT prints: 'YYYY-MM-DD', 'YYYY-MM-DD hh:mm:ss.ff',
 * '[-]hh:mm:ss.ff' with at least two hour digits, and the fraction written
 * to the column's precision (fsp). TIMESTAMP is written in UTC with a 'Z'.
 */
#ifndef SLUICE_BINLOG_TIME_H
#define SLUICE_BINLOG_TIME_H

#include <stdint.h>

#include "binlog_buf.h"

typedef struct binlog_time {
	uint8_t neg; /* TIME only */
	uint8_t month;
	uint8_t day;
	uint8_t minute;
	uint8_t second;
	uint16_t year;
	uint32_t hour; /* TIME can exceed 24 (up to 838) */
	uint32_t usec;
} binlog_time_t;

/* MySQL's packed datetime (also used for DATE and TIMESTAMP in JSON). */
void binlog_time_from_packed_datetime(int64_t packed, binlog_time_t *t);

/* MySQL's packed time. */
void binlog_time_from_packed_time(int64_t packed, binlog_time_t *t);

/* Civil date and time in UTC of `sec` seconds after the epoch. */
void binlog_time_from_epoch(int64_t sec, uint32_t usec, binlog_time_t *t);

/* Append 'YYYY-MM-DD' (no quotes). */
void binlog_time_put_date(binlog_buf_t *b, const binlog_time_t *t);

/* Append 'YYYY-MM-DD hh:mm:ss' and, when fsp > 0, '.' and fsp digits. */
void binlog_time_put_datetime(binlog_buf_t *b, const binlog_time_t *t, unsigned fsp);

/* Append '[-]hh:mm:ss' and, when fsp > 0, '.' and fsp digits. */
void binlog_time_put_time(binlog_buf_t *b, const binlog_time_t *t, unsigned fsp);

#endif
