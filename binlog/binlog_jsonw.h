/*
 * binlog_jsonw.h: JSON text writing primitives shared by the JSON-binary
 * renderer and the changelog-json record writer.
 *
 * These sit on the hot path (every column of every row goes through one of
 * them), so they write straight into a binlog_buf_t with no intermediate
 * objects: integers eight digits at a time, strings by copying runs that
 * need no escaping (tested 8 or 16 bytes at a time), doubles by a shortest
 * round-trip conversion (binlog_dtoa.c) instead of printf.
 */
#ifndef SLUICE_BINLOG_JSONW_H
#define SLUICE_BINLOG_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_buf.h"

/* "00" "01" ... "99": the two digits of n at binlog_digit_pairs + 2 * n. */
extern const char binlog_digit_pairs[201];

/*
 * Copy n <= 16 bytes by two overlapping fixed-size moves, which the
 * compiler turns into a few loads and stores where a variable-length
 * memcpy is a call. Reads only s[0..n), writes only o[0..n).
 */
static inline void binlog_jw_copy16(uint8_t *o, const uint8_t *s, size_t n)
{
	if (n >= 8) {
		memcpy(o, s, 8);
		memcpy(o + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(o, s, 4);
		memcpy(o + n - 4, s + n - 4, 4);
	} else if (n) {
		o[0] = s[0];
		o[n / 2] = s[n / 2];
		o[n - 1] = s[n - 1];
	}
}

/* The same for n <= 64, by up to four overlapping 16-byte moves. */
static inline void binlog_jw_copy64(uint8_t *o, const uint8_t *s, size_t n)
{
	if (n <= 16) {
		binlog_jw_copy16(o, s, n);
	} else if (n <= 32) {
		memcpy(o, s, 16);
		memcpy(o + n - 16, s + n - 16, 16);
	} else {
		memcpy(o, s, 16);
		memcpy(o + 16, s + 16, 16);
		memcpy(o + n - 32, s + n - 32, 16);
		memcpy(o + n - 16, s + n - 16, 16);
	}
}

/* binlog_buf_put for the short pieces a record is made of (keys, labels,
 * prepared fragments of a table or a transaction): up to 64 bytes
 * without a call to memcpy. */
static inline void binlog_jw_put(binlog_buf_t *b, const void *p, size_t n)
{
	uint8_t *o;

	if (n > 64) {
		binlog_buf_put(b, p, n);
		return;
	}
	o = binlog_buf_space(b, n);
	if (!o)
		return;
	binlog_jw_copy64(o, (const uint8_t *)p, n);
	binlog_buf_commit(b, n);
}

/* Append the decimal digits of v. */
void binlog_jw_u64(binlog_buf_t *b, uint64_t v);
void binlog_jw_i64(binlog_buf_t *b, int64_t v);

/* Write the decimal digits of v to out (at least 20 bytes), no NUL.
 * Returns the number of digits; bytes of out past them may have been
 * overwritten too. */
size_t binlog_u64_to_dec(uint64_t v, char *out);

/*
 * Append the body of a JSON string (no quotes) from UTF-8 input: '"', '\\'
 * and control characters are escaped; an ill-formed UTF-8 sequence (which a
 * server does not produce for a utf8mb4 column, but a corrupt or
 * mislabelled value can hold) becomes U+FFFD. Returns the number of
 * replacements made, so the caller can count them.
 */
size_t binlog_jw_utf8_body(binlog_buf_t *b, const uint8_t *s, size_t n);

/* Same with the surrounding quotes. */
size_t binlog_jw_utf8(binlog_buf_t *b, const uint8_t *s, size_t n);

/* Append one code point, UTF-8 encoded and JSON-escaped as needed. Code
 * points above U+10FFFF and surrogates become U+FFFD. */
void binlog_jw_codepoint(binlog_buf_t *b, uint32_t cp);

/* 1 when s[0..n) is well-formed UTF-8 (no surrogates, no overlongs). */
int binlog_utf8_valid(const uint8_t *s, size_t n);

/* How many leading bytes of s[0..n) are plain: ASCII from 0x20 up, not '"'
 * nor '\\' (what a JSON string holds as it is). 16 or 8 bytes a step:
 * readers of JSON text skip the body of a string with it. */
size_t binlog_json_plain_run(const uint8_t *s, size_t n);

/* Append the base64 of p[0..n) (RFC 4648, with padding), no quotes. */
void binlog_jw_base64_body(binlog_buf_t *b, const uint8_t *p, size_t n);

/* Same, with quotes. */
void binlog_jw_base64(binlog_buf_t *b, const uint8_t *p, size_t n);

/* Append the lower-case hex digits of p[0..n), no quotes. */
void binlog_jw_hex(binlog_buf_t *b, const uint8_t *p, size_t n);

/*
 * Shortest decimal text that reads back (strtod / strtof) as exactly v.
 * `single` selects float32 precision (for FLOAT columns and VECTOR
 * elements). Finite values only; the text always has a '.' or an exponent
 * so a reader keeps it a floating-point number ("2.0", "1e+300", "-0.0").
 * Writes at most 32 bytes to out, no NUL; returns the length.
 * Non-finite input writes "null" (MySQL cannot store NaN or infinity, but
 * a corrupt value can decode to one and JSON has no spelling for it).
 */
size_t binlog_dtoa(double v, int single, char *out);

static inline void binlog_jw_double(binlog_buf_t *b, double v, int single)
{
	uint8_t *p = binlog_buf_space(b, 32);
	if (p)
		binlog_buf_commit(b, binlog_dtoa(v, single, (char *)p));
}

#endif
