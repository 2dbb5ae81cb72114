/*
 * binlog_jsonw.h: JSON text writing primitives shared by the JSON-binary
 * renderer and the changelog-json record writer.
 *
 * These sit on the hot path (every column of every row goes through one of
 * them), so they write straight into a binlog_buf_t with no intermediate
 * objects: integers by a two-digits-at-a-time conversion, strings by
 * copying runs that need no escaping, doubles by a shortest round-trip
 * conversion (binlog_dtoa.c) instead of printf.
 */
#ifndef SLUICE_BINLOG_JSONW_H
#define SLUICE_BINLOG_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_buf.h"

/* Append the decimal digits of v. */
void binlog_jw_u64(binlog_buf_t *b, uint64_t v);
void binlog_jw_i64(binlog_buf_t *b, int64_t v);

/* Write the decimal digits of v to out (at least 20 bytes), no NUL.
 * Returns the number of bytes written. */
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
