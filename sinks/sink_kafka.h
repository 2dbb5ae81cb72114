/*
 * sink_kafka.h: records to Kafka (docs/KAFKA.md).
 *
 * One idempotent producer (librdkafka). Each record: the changelog-json
 * value, the key the caller built, the commit time as its timestamp, and
 * the headers sequence, gtid, db, table, op, source and type, all UTF-8
 * text (the sequence in decimal digits).
 *
 * Records are confirmed by the brokers later: the sink counts them, and
 * durable() says how many of the first ones are acknowledged, so the
 * caller's checkpoint follows acknowledgements without waiting for them
 * (sink.h). A broker that is down or a partition without a leader is
 * retried for ever (librdkafka's retries, message.timeout.ms 0); what is
 * not acknowledged stays in memory up to max_inflight records or bytes,
 * and then write() waits: back-pressure reaches the binlog reader. A
 * record the cluster refuses for good (too large, not authorized, a topic
 * that does not exist) stops the sink with an error naming it; nothing
 * after it is checkpointed.
 *
 * Exactly-once: records go in Kafka transactions, and commit() puts the
 * checkpoint in the transaction as a record of offsets_topic (keyed by
 * the pipeline's name) before committing it: the records and the position
 * they reach become visible together to read_committed consumers.
 * recover() reads that topic back.
 */
#ifndef SLUICE_SINK_KAFKA_H
#define SLUICE_SINK_KAFKA_H

#include <signal.h>

#include "sink.h"

typedef struct sink_kafka_opts {
	const char *bootstrap;
	const char *client_id;
	const char *compression; /* none, gzip, snappy, lz4, zstd */
	uint64_t linger_ms;
	uint64_t max_inflight;       /* records */
	uint64_t max_inflight_bytes; /* bytes */
	uint64_t max_record_size;    /* message.max.bytes; 0: librdkafka's */
	uint64_t request_timeout_ms;
	/* exactly-once */
	const char *transactional_id; /* NULL: at-least-once */
	const char *offsets_topic;
	const char *offsets_key; /* the pipeline's name */
	/* librdkafka producer properties (NAME=VALUE) applied after sluice's
	 * own, for security and tuning: inline ones, then a file's. */
	char *const *props;
	size_t nprops;
	const char *props_file;
	/* Set by a signal handler: blocking waits give up soon after. */
	volatile sig_atomic_t *stop;
} sink_kafka_opts_t;

/* Connects lazily; with a transactional id, registers it (fencing an
 * earlier producer of the same id) before returning. NULL with *err set
 * on a bad setting or when the transactional id cannot be registered. */
sink_t *sink_kafka_new(const sink_kafka_opts_t *o, binlog_err_t *err);

/*
 * Whether a producer property, `item` being NAME=VALUE (blanks around the
 * '=' allowed), may be given: librdkafka knows it and takes the value, and
 * it is not one sluice sets for its guarantees (idempotence, transactions,
 * timeouts, bootstrap). With `inline_` (the configuration file), properties
 * holding secrets are refused too: they belong in the properties file.
 * 0 with the name in name[0..name_cap) and *value pointing into item, or
 * -1 with the reason in msg.
 */
int sink_kafka_check_property(const char *item, int inline_, char *name, size_t name_cap,
			      const char **value, char *msg, size_t cap);

/* Counters for progress lines and tests. */
typedef struct sink_kafka_stats {
	uint64_t written, acked, heartbeats, transactions;
	uint64_t waits;  /* times write() waited for room (back-pressure) */
	uint64_t errors; /* broker and request errors reported (retried) */
} sink_kafka_stats_t;

void sink_kafka_stats(sink_t *s, sink_kafka_stats_t *out);

#endif
