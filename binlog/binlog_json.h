/*
 * binlog_json.h: MySQL's binary JSON (the JSON column type, 5.7 and later)
 * rendered as JSON text, and the JSON diffs of PARTIAL_UPDATE_ROWS events.
 *
 * A row event carries a JSON column in the server's binary format, and a
 * PARTIAL_UPDATE_ROWS event (MySQL 8.0, binlog_row_value_options =
 * PARTIAL_JSON) may carry, instead of the after image, the list of
 * changes ("JSON diffs") that turns the before image into it. These
 * functions turn either into compact JSON text:
 *
 *   binlog_json_render()       one binary document
 *   binlog_json_apply_diffs()  before image + diffs -> the after document
 *   binlog_json_render_diffs() the diffs themselves, when the before image
 *                              does not hold the column (binlog_row_image
 *                              MINIMAL), as
 *     [{"op":"replace","path":"$.age","value":26},
 *      {"op":"insert","path":"$.a[1]","value":[1,2]},
 *      {"op":"remove","path":"$.x"}]
 *
 * The text is what MySQL prints for the same value (JSON_EXTRACT, CAST AS
 * CHAR) minus the blanks: {"a":1,"b":[true,null]}. Object members keep
 * the stored order (MySQL stores them sorted by key length, then bytes).
 * DECIMAL values are exact JSON numbers, unsigned 64-bit integers keep
 * every digit, dates and times are strings ("2012-03-18",
 * "2012-03-18 11:30:45.000000", "87:31:46.654321"), and other opaque
 * values are "base64:typeNN:<base64 of the bytes>", as MySQL prints them.
 *
 * Every length and offset inside the bytes is checked against the value
 * that encloses it, nesting deeper than 100 (MySQL's own limit) is
 * refused, and the work is bounded by the input size (see binlog_json.c).
 *
 * Ownership and threads: the functions keep no state between calls and
 * touch no globals, so concurrent calls on different buffers are safe.
 * They only read the input bytes, which stay the caller's (an input may
 * be NULL when its length is 0); the text is appended to b (which the
 * caller owns and frees). On error nothing is appended (b->len is
 * restored), *err (may be NULL) says what and where, and the code is
 * BINLOG_E_BAD_VALUE (malformed bytes, or a diff that does not fit the
 * before image), BINLOG_E_LIMIT (nesting, the output buffer's limit, or a
 * size bound), BINLOG_E_NOMEM, or BINLOG_E_USAGE (NULL input with a
 * length).
 */
#ifndef SLUICE_BINLOG_JSON_H
#define SLUICE_BINLOG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_buf.h"
#include "binlog_err.h"

/* MySQL's JSON_DOCUMENT_MAX_DEPTH: arrays and objects nested in each
 * other, the outermost counting as 1. */
#define BINLOG_JSON_MAX_DEPTH 100

/*
 * Render the binary JSON document p[0..n) (one JSON column value, without
 * the column's length prefix) as JSON text appended to b. n == 0 renders
 * as null: MySQL stores an empty value when NULL goes into a NOT NULL JSON
 * column under INSERT IGNORE or a non-strict sql_mode, and reads it back
 * as the JSON null literal.
 */
binlog_errcode_t binlog_json_render(binlog_buf_t *b, const uint8_t *p, size_t n, binlog_err_t *err);

/*
 * Apply the JSON diff list diff[0..dn) (one column's value in a
 * PARTIAL_UPDATE_ROWS after image, without the length prefix) to the
 * binary document before[0..bn) and append the resulting document as JSON
 * text. A diff whose path is not in the document (or an INSERT of a member
 * that exists) is BINLOG_E_BAD_VALUE: the before image and the diffs
 * disagree. An empty list renders the before image unchanged.
 */
binlog_errcode_t binlog_json_apply_diffs(binlog_buf_t *b, const uint8_t *before, size_t bn,
					 const uint8_t *diff, size_t dn, binlog_err_t *err);

/*
 * Append the diff list diff[0..dn) as a JSON array of
 * {"op":"replace"|"insert"|"remove","path":"<MySQL JSON path>"[,"value":v]}
 * objects, in log order ("[]" for an empty list). Paths are checked for
 * MySQL path syntax and written as logged.
 */
binlog_errcode_t binlog_json_render_diffs(binlog_buf_t *b, const uint8_t *diff, size_t dn,
					  binlog_err_t *err);

#endif
