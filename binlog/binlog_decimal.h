/*
 * binlog_decimal.h: MySQL's binary DECIMAL format to exact decimal text.
 *
 * DECIMAL(p,s) is stored as groups of 9 decimal digits in 4-byte
 * big-endian words, the leftover digits of the integer and fraction parts
 * in 1 to 4 bytes, the whole thing inverted for negative numbers and with
 * the top bit flipped so that the bytes sort like the numbers. No digit is
 * ever rounded or passed through a double here.
 */
#ifndef SLUICE_BINLOG_DECIMAL_H
#define SLUICE_BINLOG_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_buf.h"

/* Largest precision MySQL and MariaDB accept for DECIMAL. */
#define BINLOG_DECIMAL_MAX_PRECISION 65
#define BINLOG_DECIMAL_MAX_SCALE     38

/* Storage size of DECIMAL(prec, scale); 0 when prec/scale are not a valid
 * pair (prec 1..65, scale <= prec and <= 38). */
size_t binlog_decimal_size(unsigned prec, unsigned scale);

/*
 * Append the text of the DECIMAL(prec, scale) stored at p (exactly
 * binlog_decimal_size(prec, scale) bytes): optional '-', the integer digits
 * without leading zeros ("0" when there are none), and when scale > 0 a '.'
 * followed by exactly `scale` digits. Returns 0, or -1 when a 9-digit group
 * holds a value above 999999999 (corrupt bytes); nothing is appended then.
 */
int binlog_decimal_format(binlog_buf_t *b, const uint8_t *p, unsigned prec, unsigned scale);

#endif
