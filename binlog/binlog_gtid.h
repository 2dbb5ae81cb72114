/*
 * binlog_gtid.h: MySQL GTID sets: what PREVIOUS_GTIDS_LOG_EVENT carries and
 * what the sequence counts.
 *
 * A set maps each source (server UUID, optionally with a tag, MySQL 8.3+)
 * to sorted, disjoint, non-adjacent intervals of transaction numbers.
 */
#ifndef SLUICE_BINLOG_GTID_H
#define SLUICE_BINLOG_GTID_H

#include <stddef.h>
#include <stdint.h>

#include "binlog.h"

typedef struct binlog_gtid_set binlog_gtid_set_t;

/* New empty set, owned by the caller (binlog_gtid_set_free); NULL when out
 * of memory. */
binlog_gtid_set_t *binlog_gtid_set_new(void);
void binlog_gtid_set_free(binlog_gtid_set_t *s);
void binlog_gtid_set_clear(binlog_gtid_set_t *s);

/* Copy src into dst (replacing dst's contents). 0 or BINLOG_E_NOMEM. */
binlog_errcode_t binlog_gtid_set_copy(binlog_gtid_set_t *dst, const binlog_gtid_set_t *src);

/*
 * Replace the contents with the set encoded in a PREVIOUS_GTIDS body,
 * untagged (MySQL 5.6+) or tagged (8.3+):
 *   u64 LE: n_sids (untagged), or format 1 in the low and high byte with
 *           n_sids in bits 8..55 (tagged)
 *   per sid: uuid[16], [tagged: varlen tag length + tag], u64 n_intervals,
 *            n_intervals * (u64 start, u64 end), end exclusive
 * Counts are checked against the bytes present before anything is
 * allocated.
 */
binlog_errcode_t binlog_gtid_set_decode(binlog_gtid_set_t *s, const uint8_t *p, size_t n,
					binlog_err_t *err);

/*
 * Append the set in that encoding, as COM_BINLOG_DUMP_GTID sends it: the
 * untagged format when no source has a tag (every MySQL 5.6+ reads it),
 * the tagged one otherwise.
 */
void binlog_gtid_set_encode(const binlog_gtid_set_t *s, binlog_buf_t *b);

/* Add every transaction of src to dst. 0 or BINLOG_E_NOMEM. */
binlog_errcode_t binlog_gtid_set_union(binlog_gtid_set_t *dst, const binlog_gtid_set_t *src);

/* Remove one MySQL GTID (undoing an add). Returns 1 when removed, 0 when
 * it was not there, -1 when out of memory (splitting an interval). */
int binlog_gtid_set_remove(binlog_gtid_set_t *s, const binlog_gtid_t *g);

/* Add one MySQL GTID. Returns 1 when added, 0 when already present,
 * -1 when out of memory. */
int binlog_gtid_set_add(binlog_gtid_set_t *s, const binlog_gtid_t *g);

/* Add the interval [first, last] (inclusive) of uuid[:tag]. 0 or -1. */
int binlog_gtid_set_add_range(binlog_gtid_set_t *s, const uint8_t uuid[16], const char *tag,
			      uint64_t first, uint64_t last);

int binlog_gtid_set_contains(const binlog_gtid_set_t *s, const binlog_gtid_t *g);

/* 1 when the set has any transaction of uuid[:tag]. */
int binlog_gtid_set_has_source(const binlog_gtid_set_t *s, const uint8_t uuid[16], const char *tag);

/* Number of transactions in the set (saturates at UINT64_MAX). */
uint64_t binlog_gtid_set_count(const binlog_gtid_set_t *s);

/* Append the text form, as MySQL prints gtid_executed:
 * "uuid:1-5:7,uuid:tag:1-3" (sources sorted, untagged first). */
void binlog_gtid_set_format(const binlog_gtid_set_t *s, binlog_buf_t *b);

/* Parse the text form (whitespace allowed after commas). Replaces the
 * contents. 0 or an error naming the offset of the problem. */
binlog_errcode_t binlog_gtid_set_parse(binlog_gtid_set_t *s, const char *text, binlog_err_t *err);

/* Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (36 chars). 0 or -1. */
int binlog_uuid_parse(const char *text, uint8_t out[16]);

/* Write the 36-character text of a UUID plus a NUL into out[37]. */
void binlog_uuid_format(const uint8_t uuid[16], char out[37]);

/*
 * MySQL serialization-library variable-length unsigned integer (tagged
 * GTID events): the number of trailing one bits of the first byte, plus
 * one, is the byte count (9 when the first byte is 0xff); the value is the
 * little-endian integer of those bytes shifted right by the byte count (for
 * 9 bytes, the 8 bytes after the first).
 */
int binlog_cur_varlen(binlog_cur_t *c, uint64_t *v);

#endif
