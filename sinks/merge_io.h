/*
 * merge_io.h: the merger's bytes: change records as Kafka delivers them,
 * the rows its tables store, the files that hold those rows, and the
 * per-key map that keeps the winning change.
 *
 * A change (what sluice's Kafka sink wrote) is
 *   key     ["db","table",pk1,...]        JSON array text
 *   header  sequence: decimal u64         the ordering field
 *   value   {"data":{...},"op":"+U","db":..,"table":..,...,"ts_ms":T,...}
 * and a heartbeat is a record whose `type` header is "heartbeat" (value
 * {"heartbeat":true,...,"ts_ms":T}).
 *
 * A stored row is one line of JSON (JSON lines, one object per line):
 *   {"_sluice_key":"[\"shop\",\"orders\",7]","_sluice_seq":123,
 *    "_sluice_op":"+U","_sluice_ts_ms":1718..,"_sluice_db":"shop",
 *    "_sluice_table":"orders","id":7,"qty":2,...}
 * the six meta members first, in that order, then the members of the
 * change's "data" object as sluice wrote them. A delete (-D) or an
 * update's before image (-U) is stored as a tombstone: the meta members
 * only. docs/MERGER.md describes the format for other readers.
 *
 * The record key is the Kafka key: it names the physical table, so the
 * shards a route merges into one topic never collide. A table without a
 * primary key has the key ["db","table"]; its rows are keyed by the whole
 * row instead (the key with the row's data object appended), so that a
 * delete finds the insert it undoes.
 *
 * The winning change per key: the higher sequence; on equal sequences
 * (a duplicate delivery) the one that sorts higher by (op, data bytes),
 * so that any delivery order picks the same one.
 *
 * Everything here is pure (no I/O) except merge_out_* and merge_in_*, and
 * may be called from any thread on objects it owns.
 */
#ifndef SLUICE_MERGE_IO_H
#define SLUICE_MERGE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_buf.h"
#include "binlog_err.h"

enum merge_op {
	MERGE_OP_INSERT = 0, /* +I */
	MERGE_OP_AFTER,      /* +U */
	MERGE_OP_BEFORE,     /* -U: retracts the key */
	MERGE_OP_DELETE,     /* -D */
};

/* 1 when a change with this op removes its key. */
static inline int merge_op_deletes(int op)
{
	return op == MERGE_OP_BEFORE || op == MERGE_OP_DELETE;
}

extern const char *const merge_op_names[4]; /* "+I", "+U", "-U", "-D" */

/* A span of bytes that belongs to someone else. */
typedef struct merge_span {
	const uint8_t *p;
	size_t n;
} merge_span_t;

/*
 * One row: a change taken from Kafka, or a line read from a table file.
 * All spans point into the bytes it was parsed from (key may point into
 * the scratch buffer given to the parser).
 */
typedef struct merge_row {
	merge_span_t key; /* JSON array text */
	uint64_t seq;
	int op;          /* enum merge_op */
	int64_t ts_ms;   /* the source's commit time; 0 when unknown */
	merge_span_t db; /* JSON string bodies, escapes kept */
	merge_span_t table;
	merge_span_t body; /* the data object's members without the braces:
			    * `"id":7,"qty":2`; empty for tombstones */
} merge_row_t;

/* What a Kafka record is to the merger. */
enum merge_kind {
	MERGE_CHANGE = 0,
	MERGE_HEARTBEAT,
};

/*
 * Parse one Kafka record: key and value bytes, and its `sequence` and
 * `type` headers (NULL when absent). On success *kind says what it is;
 * for a change *r is filled (a keyless table's key is built in scratch,
 * which must then outlive r), for a heartbeat only r->ts_ms, r->db and
 * r->table. Errors (BINLOG_E_BAD_VALUE) say what is wrong: not JSON, no
 * key, a key that is not an array of at least two members, no sequence,
 * an unknown op.
 */
binlog_errcode_t merge_change_parse(const uint8_t *key, size_t klen, const uint8_t *val,
				    size_t vlen, const char *seq_hdr, size_t seq_len,
				    const char *type_hdr, size_t type_len, binlog_buf_t *scratch,
				    int *kind, merge_row_t *r, binlog_err_t *err);

/* Append r as a stored line ('\n' included). Tombstones get the meta
 * members only. */
void merge_line_put(binlog_buf_t *b, const merge_row_t *r);

/*
 * Parse a stored line (without its '\n'). The key is unescaped into
 * scratch (reset first), which must outlive r. BINLOG_E_BAD_VALUE when
 * the line is not a stored row.
 */
binlog_errcode_t merge_line_parse(const uint8_t *s, size_t n, binlog_buf_t *scratch, merge_row_t *r,
				  binlog_err_t *err);

/* 1 when a is the winner over b (see above). */
int merge_row_newer(const merge_row_t *a, const merge_row_t *b);

/* FNV-1a, 64 bits: the bucket of a key is merge_hash(key) % buckets.
 * Fixed by the table format (docs/MERGER.md): never change it. */
uint64_t merge_hash(const void *p, size_t n);

/* Unescape a JSON string body (no quotes) into b. 0, or -1 when it is
 * not a well-formed body. */
int merge_json_unescape(binlog_buf_t *b, const uint8_t *s, size_t n);

/*
 * The members of a JSON object, one by one, in place: the object must
 * already be known valid (cdc_json_valid). name is the member name's
 * body without quotes; val the value's bytes.
 */
typedef struct merge_members {
	const uint8_t *s;
	size_t n, i;
} merge_members_t;

int merge_members_begin(merge_members_t *it, const uint8_t *s, size_t n);
/* The same over an object's members without its braces (a row's body). */
void merge_members_body(merge_members_t *it, merge_span_t body);
int merge_members_next(merge_members_t *it, merge_span_t *name, merge_span_t *val);

/* 1 when a member name span equals the C string lit. */
static inline int merge_name_is(merge_span_t name, const char *lit)
{
	size_t l = strlen(lit);
	return name.n == l && memcmp(name.p, lit, l) == 0;
}

/* ------------------------------------------------------------------ */
/* The per-key map                                                     */
/* ------------------------------------------------------------------ */

/*
 * Key -> the winning row seen, with a copy of its stored line. Rows that
 * lose are not kept; a row that wins replaces the entry, the bytes of the
 * loser staying in the arena until merge_map_reset (the arena is what a
 * batch or a bucket's files hold, so it is bounded by what the caller
 * reads). Not thread-safe.
 */
typedef struct merge_map merge_map_t;

typedef struct merge_entry {
	uint64_t hash;
	uint64_t seq;
	uint32_t key_off, key_len; /* in the arena */
	uint64_t line_off;         /* the stored line, '\n' included */
	uint32_t line_len;
	uint8_t op;
	uint8_t used;
	uint32_t aux; /* the caller's: a partition, a bucket */
} merge_entry_t;

merge_map_t *merge_map_new(void);
/* Keep up to `bytes` of arena across resets (default 64 MiB). */
void merge_map_keep(merge_map_t *m, size_t bytes);
void merge_map_free(merge_map_t *m);
void merge_map_reset(merge_map_t *m);
size_t merge_map_count(const merge_map_t *m);
size_t merge_map_bytes(const merge_map_t *m); /* arena in use, and table */

/*
 * Offer row r (whose stored line is line[0..len), without its '\n') with
 * the caller's aux. Returns 1 when it became the entry of its key, 0 when
 * the entry already there wins, -1 when out of memory.
 */
int merge_map_offer(merge_map_t *m, const merge_row_t *r, const uint8_t *line, size_t len,
		    uint32_t aux);

/* The entry of key, or NULL. */
merge_entry_t *merge_map_get(merge_map_t *m, const uint8_t *key, size_t n);

/* Iterate: *i starts at 0; returns the next used entry or NULL. */
merge_entry_t *merge_map_next(merge_map_t *m, size_t *i);

/* The bytes an entry points at. */
const uint8_t *merge_map_key(const merge_map_t *m, const merge_entry_t *e);
const uint8_t *merge_map_line(const merge_map_t *m, const merge_entry_t *e);

/* Entries sorted by key bytes (for deterministic files); the array is
 * the caller's to free. NULL when out of memory (or empty: *n is 0). */
merge_entry_t **merge_map_sorted(merge_map_t *m, size_t *n);

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

/*
 * A data file being written: bytes go through zstd (one frame) when the
 * name ends in ".zst", as they are otherwise. merge_out_close fsyncs
 * before closing; a file is complete only once closed without error.
 */
typedef struct merge_out merge_out_t;

binlog_errcode_t merge_out_open(const char *path, int level, merge_out_t **out, binlog_err_t *err);
binlog_errcode_t merge_out_write(merge_out_t *o, const void *p, size_t n, binlog_err_t *err);
/* Flush, fsync, close and free; *bytes (may be NULL) is the file's size.
 * On error the file is left for the caller to remove. */
binlog_errcode_t merge_out_close(merge_out_t *o, uint64_t *bytes, binlog_err_t *err);
/* Close and remove without finishing (error paths). NULL is a no-op. */
void merge_out_abort(merge_out_t *o);

/*
 * Call fn for every line of a data file (decompressed when its name ends
 * in ".zst"), without the '\n'. A line longer than MERGE_LINE_MAX, a
 * truncated compressed frame or a last line without '\n' is an error
 * naming the file and line. fn returns 0 to go on, else an error code it
 * has put in err, which stops the reading. *missing is set (when not
 * NULL) if the file does not exist.
 */
#define MERGE_LINE_MAX (64u << 20)
typedef binlog_errcode_t (*merge_line_fn)(void *arg, const uint8_t *line, size_t n,
					  binlog_err_t *err);
binlog_errcode_t merge_in_lines(const char *path, merge_line_fn fn, void *arg, int *missing,
				binlog_err_t *err);

#endif
