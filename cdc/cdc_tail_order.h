/*
 * cdc_tail_order.h: the reorder buffer of `sluice tail --ordered`.
 */
#ifndef SLUICE_CDC_TAIL_ORDER_H
#define SLUICE_CDC_TAIL_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_err.h"

/*
 * The reorder buffer of `sluice tail --ordered`, apart from the consumer so
 * that it can be driven without Kafka (tests/fuzz/fuzz_tail.c).
 *
 * Records go in with their sequence and come out smallest sequence first
 * (equal ones first in, first out) when one bound is passed: more than
 * `window` records or more than `max_bytes` bytes held, or the smallest
 * held for `hold_ms`. Releasing the smallest first puts what the window
 * holds in sequence order overall, and so per key.
 *
 * For each key (compared as bytes; no key is the empty key) it remembers
 * the last sequence released in order. A record at or below it is late
 * (below) or a duplicate (equal): the window could not fix it. That is
 * decided when it comes in, so such a record is never held, and again
 * when it is released (two copies held together). Heartbeats are ordered
 * too, but never late and never remembered: they have no key and share
 * sequences. The key map holds at most `max_keys` keys and `max_bytes`
 * bytes (a budget of its own); past that the keys released least
 * recently are forgotten, and a late record of a forgotten key passes as
 * in order.
 *
 * Lanes say what Kafka may commit. A caller numbers its partitions 0, 1,
 * ... (lanes) and gives each record its lane and offset (pos); the first
 * record of a lane still held, in the order they came in, bounds what is
 * committable there (cdc_tail_order_committable).
 *
 * Not thread-safe: one thread at a time.
 */
typedef struct cdc_tail_order cdc_tail_order_t;

typedef struct cdc_tail_order_conf {
	uint64_t window; /* records held at most (after each release) */
	int64_t hold_ms; /* the smallest is released once held this long */
	uint64_t max_keys;
	size_t max_bytes; /* held records' bytes; the key map's, separately */
} cdc_tail_order_conf_t;

#define CDC_TAIL_NO_LANE  UINT32_MAX /* a record no commit depends on */
#define CDC_TAIL_LANE_MAX (1u << 20) /* lanes 0 to this - 1 */

typedef struct cdc_tail_order_rec {
	const uint8_t *key; /* NULL when none */
	size_t key_len;
	const uint8_t *line; /* what to print */
	size_t line_len;
	uint64_t seq;
	int heartbeat;
	uint32_t lane; /* or CDC_TAIL_NO_LANE */
	int64_t pos;   /* its offset in the lane */
} cdc_tail_order_rec_t;

typedef enum cdc_tail_verdict {
	CDC_TAIL_HELD,      /* in the buffer */
	CDC_TAIL_IN_ORDER,  /* above its key's last sequence (or a heartbeat) */
	CDC_TAIL_LATE,      /* below its key's last sequence */
	CDC_TAIL_DUPLICATE, /* equal to it */
} cdc_tail_verdict_t;

/* A buffer with conf's bounds (all of them at least 1), or NULL when out
 * of memory. The caller owns it and frees it with cdc_tail_order_free. */
cdc_tail_order_t *cdc_tail_order_new(const cdc_tail_order_conf_t *conf);
void cdc_tail_order_free(cdc_tail_order_t *o);

/*
 * Take r (key and line copied; r stays the caller's) that came in at
 * now_ms: *verdict is HELD, or LATE or DUPLICATE for a record not held,
 * which the caller prints or drops at once. Returns BINLOG_E_NOMEM, or
 * BINLOG_E_LIMIT for a lane of CDC_TAIL_LANE_MAX or more; nothing is held
 * then. The caller drains with cdc_tail_order_next after each add: that
 * is what keeps the buffer within its window.
 */
binlog_errcode_t cdc_tail_order_add(cdc_tail_order_t *o, const cdc_tail_order_rec_t *r,
				    int64_t now_ms, cdc_tail_verdict_t *verdict);

/*
 * The record due for release at now_ms (with `flush`, any held one),
 * taken out of the buffer: *out points to it until the next call on o, or
 * is NULL when none is due. *verdict is IN_ORDER, LATE or DUPLICATE; an
 * in-order record becomes its key's last sequence. Returns BINLOG_E_NOMEM
 * when the key could not be remembered; the record stays held then.
 */
binlog_errcode_t cdc_tail_order_next(cdc_tail_order_t *o, int64_t now_ms, int flush,
				     const cdc_tail_order_rec_t **out, cdc_tail_verdict_t *verdict);

/* When the smallest record held falls due by time: INT64_MAX when none is
 * held. (The window and bytes bounds are applied by the next _next.) */
int64_t cdc_tail_order_due_ms(const cdc_tail_order_t *o);

/* A record passed on without the buffer (a heartbeat without a sequence)
 * still moves its lane on. */
void cdc_tail_order_skip(cdc_tail_order_t *o, uint32_t lane, int64_t pos);

/* 1 and *pos, the offset up to which (exclusive) lane is done: the first
 * record of it still held, or after the last one seen; 0 when the lane
 * has seen no record since its start or reset. */
int cdc_tail_order_committable(const cdc_tail_order_t *o, uint32_t lane, int64_t *pos);

/* Forget a lane's positions (its partition was revoked or assigned anew):
 * records of it still held no longer bound it. */
void cdc_tail_order_lane_reset(cdc_tail_order_t *o, uint32_t lane);

/* What it holds: records, their bytes, keys remembered, the key map's
 * bytes. Any argument may be NULL. */
void cdc_tail_order_stats(const cdc_tail_order_t *o, uint64_t *held, size_t *bytes, uint64_t *keys,
			  size_t *key_bytes);

#endif
