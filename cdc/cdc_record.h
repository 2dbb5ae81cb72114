/*
 * cdc_record.h: changelog-json records (docs/CHANGELOG_JSON.md).
 *
 *   {"data":{"id":1,"name":"a"},"op":"+I","db":"shop","table":"orders",
 *    "pk":["id"],"gtid":"...","seq":16777216,"ts_ms":1718454896000,
 *    "file":"mysql-bin.000001","pos":1234}
 *
 * The writer formats each value straight from the row image into one
 * reusable buffer: no object tree, no allocation per row. Fragments that
 * do not change within a table or a transaction are prepared once.
 *
 * One writer per stream; not thread-safe.
 */
#ifndef SLUICE_CDC_RECORD_H
#define SLUICE_CDC_RECORD_H

#include <stdint.h>

#include "binlog.h"
#include "binlog_charset.h"
#include "schema.h"

typedef struct cdc_json_before {
	const uint8_t *s; /* binary JSON of the before image, or NULL */
	size_t n;
} cdc_json_before_t;

typedef struct cdc_writer {
	binlog_buf_t rec; /* the record being built */
	binlog_buf_t tmp;
	binlog_csconv_t *conv;
	char txn[BINLOG_GTID_TEXT_MAX + 16]; /* ,"gtid":"..." or empty */
	size_t txn_len;
	int64_t ts_ms;
	binlog_buf_t file;     /* ,"file":"..." */
	cdc_json_before_t *jb; /* PARTIAL_UPDATE: before-image JSON */
	uint32_t jb_cap;
	uint32_t *diffs; /* columns written as JSON diffs */
	uint32_t diffs_cap;
	uint32_t *jnull; /* columns holding the JSON document null */
	uint32_t jnull_cap;
	binlog_buf_t *out; /* where the record being built goes */

	/* Parts of a record that change per transaction or per event,
	 * formatted once: ,"ts_ms":N,"file":"...","pos":N */
	binlog_buf_t tail;
	size_t tail_pos_at; /* where the position starts in tail */
	uint64_t tail_pos;
	int tail_ok; /* 0: rebuild */
	/* The last sequence's digits: consecutive sequences (the records of
	 * a transaction) are counted up in place. */
	char seq_txt[24];
	uint8_t seq_len;
	uint64_t seq_prev;
	uint64_t invalid_text; /* text bytes replaced by U+FFFD */
} cdc_writer_t;

/* 0 or BINLOG_E_NOMEM. `max_record` bounds one record (0: no bound). */
binlog_errcode_t cdc_writer_init(cdc_writer_t *w, size_t max_record);
void cdc_writer_free(cdc_writer_t *w);

/* The binlog file name records name from now on. */
void cdc_writer_set_file(cdc_writer_t *w, const char *name);

/* A transaction starts: its GTID (kind NONE for none) and commit time. */
void cdc_writer_begin_txn(cdc_writer_t *w, const binlog_gtid_t *g, int64_t ts_ms);

/*
 * Format one row image as a complete record appended to `out` (a sink's
 * buffer, so the record needs no copy), or, when out is NULL, as the whole
 * of w->rec. Consumes the image. `op` is "+I", "-U", "+U" or "-D"; `pos`
 * the position of the rows event. Returns 0, or an error naming the table
 * and column; out is then as it was before the call.
 */
binlog_errcode_t cdc_writer_image(cdc_writer_t *w, binlog_buf_t *out, const schema_table_t *st,
				  binlog_image_t *img, const char *op, uint64_t seq, uint64_t pos,
				  binlog_err_t *err);

/*
 * Value kinds of snapshot rows (cdc_snaprow.h) that no binlog produces:
 * what SELECT's text gives where the binlog's own form cannot be had from
 * it, or only by converting text to binary and back. Only
 * cdc_writer_values takes them (binlog_value_t.kind, beside the
 * BINLOG_V_* kinds).
 *
 *   DECIMAL_TEXT  s: the DECIMAL as the server prints it ("-001.50" with
 *                 ZEROFILL); written as the binlog's DECIMAL is: sign,
 *                 integer digits without leading zeros, the scale's
 *                 decimals, a negative zero as zero. Text to the binary
 *                 format and back would only add a way to differ.
 *   LABEL_TEXT    s: an ENUM's label or a SET's labels, comma-separated, as
 *                 SELECT returns them, in the labels' charset. The binlog
 *                 gives an index into its labels; a catalog cannot give
 *                 every label exactly (information_schema is utf8mb3: a
 *                 label with a 4-byte character reads as '?'), the row can.
 *   JSON_TEXT     s: MySQL's JSON as SELECT prints it, embedded compacted.
 *   ABSENT        a column no SELECT can read (MariaDB's DB_ROW_HASH_n):
 *                 left out of "data", as a column an image does not hold.
 */
enum cdc_value_kind {
	CDC_V_DECIMAL_TEXT = 100,
	CDC_V_LABEL_TEXT,
	CDC_V_JSON_TEXT,
	CDC_V_ABSENT,
};

/*
 * One snapshot row (cdc_snaprow.h: vals[i] for column i of st->bt) as a
 * complete "+I" record appended to out, as cdc_writer_image appends one:
 * the fields and order of an insert record ("data", "op", "db", "table",
 * "pk", "seq", "ts_ms", "file", "pos", "json_null" when a JSON column
 * holds null) and ,"snapshot":true before the closing brace. No "gtid",
 * whatever cdc_writer_begin_txn was given (call it with a GTID of kind
 * NONE and the time ts_ms is to say): a snapshot reads no transaction.
 * *seq_at (may be NULL) gets the offset in out where the digits of the
 * sequence start, so that the caller can put another sequence there.
 * Column rules (left out, masked) and the catalog's types apply as for
 * binlog rows (st->cols[i].special). Returns 0, or an error naming the
 * table and column; out is then as it was before the call.
 */
binlog_errcode_t cdc_writer_values(cdc_writer_t *w, binlog_buf_t *out, const schema_table_t *st,
				   const binlog_value_t *vals, uint64_t seq, uint64_t pos,
				   size_t *seq_at, binlog_err_t *err);

/*
 * Is s[0..n) one JSON text, by RFC 8259 strictly: valid UTF-8, no trailing
 * commas or comments, paired surrogate escapes, numbers of any size, at
 * most 512 levels deep (no recursion: safe on hostile input)? 1 or 0. The
 * check the record writer applies to JSON columns it minifies.
 */
int cdc_json_valid(const uint8_t *s, size_t n);

/*
 * cdc_json_valid for a JSON object, handing each of its members to fn in
 * the same pass: name (between its quotes, escapes kept) and value (its
 * JSON text). Members come in order, before the check of the rest is done:
 * a caller keeps what fn saw only when this returns 1. 0 when s is not a
 * JSON object.
 */
typedef void (*cdc_json_member_fn)(void *ctx, const uint8_t *name, size_t name_len,
				   const uint8_t *val, size_t val_len);
int cdc_json_members(const uint8_t *s, size_t n, cdc_json_member_fn fn, void *ctx);

/*
 * Kafka record keys: ["db","table",v1,v2..], the physical table and the
 * values of its primary key in key order, as changelog-json writes them;
 * ["db","table"] for a table without one (its changes then share a
 * partition, in order). Unique across the shards of a routed topic.
 */
#define CDC_KEY_MAX_COLS 64 /* MySQL allows 16 key parts; MariaDB 32 */

typedef struct cdc_keyer {
	binlog_buf_t key; /* the last key built */
	const schema_table_t *table;
	uint32_t nvals;
	uint32_t val_at[CDC_KEY_MAX_COLS], val_len[CDC_KEY_MAX_COLS]; /* in key */
} cdc_keyer_t;

void cdc_keyer_init(cdc_keyer_t *k);
void cdc_keyer_free(cdc_keyer_t *k);

/* The key of record `rec` (what cdc_writer_image wrote) of table st, in
 * k->key. A key column the image lacks (a MINIMAL after image) takes its
 * value from the previous key of the same table: the update's before
 * image. 0, or an error naming the table. */
binlog_errcode_t cdc_keyer_build(cdc_keyer_t *k, const schema_table_t *st, const uint8_t *rec,
				 size_t n, binlog_err_t *err);

#endif
