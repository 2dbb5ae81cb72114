/*
 * sink_kafka.c: records to Kafka (sink_kafka.h, docs/KAFKA.md).
 *
 * Every record gets a number, 1, 2, 3..., in the order written; its
 * delivery report marks the number in a ring of bits, and `acked` is the
 * largest n such that records 1..n are all acknowledged. Reports come
 * back out of order across partitions; the ring turns them into the one
 * number a checkpoint needs. The ring holds max_inflight numbers, so
 * write() waits when the oldest unacknowledged record is that far behind:
 * the same bound as librdkafka's own queue, and the whole of the sink's
 * memory.
 */
#include "sink_kafka.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdc_log.h"

#define META_TTL_MS   60000 /* partition counts for heartbeats */
#define POLL_EVERY    64    /* writes between two polls for reports */
#define STOP_GRACE_MS 10000 /* how long a stopping flush still waits */
#define TXN_TIMEOUT   60000

typedef struct topic {
	char *name;
	rd_kafka_topic_t *rkt;
	int partitions; /* 0: not known yet */
	int64_t meta_ms;
} topic_t;

typedef struct kafka {
	sink_t base;
	rd_kafka_t *rk;
	sink_kafka_opts_t o;
	char *offsets_topic, *offsets_key;
	int transactional;
	int in_txn;

	topic_t *topics; /* open addressing, power-of-two size */
	size_t ntopics, cap_topics;

	uint64_t *bits; /* the ring of acknowledged numbers */
	uint64_t ring;  /* its size in numbers, a power of two */
	uint64_t written, acked;
	unsigned since_poll;

	int failed; /* a record was refused: the sink is done */
	binlog_err_t fail;
	sink_kafka_stats_t st;
} kafka_t;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stopping(const kafka_t *k)
{
	return k->o.stop && *k->o.stop;
}

/* ------------------------------------------------------------------ */
/* Acknowledgements                                                    */

static int bit_get(const kafka_t *k, uint64_t n)
{
	uint64_t i = n & (k->ring - 1);
	return (int)((k->bits[i >> 6] >> (i & 63)) & 1);
}

static void bit_flip(kafka_t *k, uint64_t n)
{
	uint64_t i = n & (k->ring - 1);
	k->bits[i >> 6] ^= 1ull << (i & 63);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	kafka_t *k = opaque;
	uint64_t n = (uint64_t)(uintptr_t)m->_private;
	(void)rk;

	if (m->err) {
		/* Only errors retries cannot mend get here (no timeout is
		 * set): the record is refused. Keep the first. */
		if (!k->failed) {
			k->failed = 1;
			binlog_err_set(&k->fail, BINLOG_E_SINK,
				       "Kafka refused a record of topic %s (partition %" PRId32
				       ", %zu bytes): %s",
				       m->rkt ? rd_kafka_topic_name(m->rkt) : "?", m->partition,
				       m->len, rd_kafka_err2str(m->err));
		}
		return;
	}
	if (n == 0 || n <= k->acked)
		return; /* an offsets record, or one its transaction counted */
	if (m->offset < 0 && !k->transactional) {
		/*
		 * "Persisted" without an offset: the broker answered that it
		 * already has the batch (DUPLICATE_SEQUENCE_NUMBER). A broker
		 * that says so wrongly (librdkafka 2.0's mock cluster does,
		 * after injected errors) would make this a silent loss, so it
		 * is not taken on trust: the sink stops, and the restart from
		 * the last checkpoint sends the record again.
		 */
		if (!k->failed) {
			k->failed = 1;
			binlog_err_set(&k->fail, BINLOG_E_SINK,
				       "Kafka acknowledged a record of topic %s (partition %" PRId32
				       ") without an offset, as a duplicate of a batch it already "
				       "has; that cannot be checked, so sluice stops here and a "
				       "restart sends what follows the last checkpoint again",
				       m->rkt ? rd_kafka_topic_name(m->rkt) : "?", m->partition);
		}
		return;
	}
	bit_flip(k, n);
	while (k->acked < k->written && bit_get(k, k->acked + 1)) {
		k->acked++;
		bit_flip(k, k->acked);
	}
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
	kafka_t *k = opaque;
	char fatal[512];

	k->st.errors++;
	if (code == RD_KAFKA_RESP_ERR__FATAL &&
	    rd_kafka_fatal_error(rk, fatal, sizeof(fatal)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (!k->failed) {
			k->failed = 1;
			binlog_err_set(&k->fail, BINLOG_E_SINK, "Kafka producer: fatal error: %s",
				       fatal);
		}
		return;
	}
	/* Brokers down, connections refused: librdkafka retries. */
	cdc_log_warn("kafka: %s (retrying)", reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 3)
		cdc_log_warn("kafka %s: %s", fac, buf);
	else if (level <= 5)
		cdc_log_debug("kafka %s: %s", fac, buf);
}

/* Serve delivery reports; 0 or the error that stopped the sink. */
static binlog_errcode_t serve(kafka_t *k, int ms, binlog_err_t *err)
{
	rd_kafka_poll(k->rk, ms);
	k->since_poll = 0;
	if (k->failed) {
		if (err)
			*err = k->fail;
		return k->fail.code;
	}
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Topics                                                              */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ull;
	return h;
}

static topic_t *topic_of(kafka_t *k, const char *name, binlog_err_t *err)
{
	size_t i;
	topic_t *t;

	if (k->ntopics * 2 >= k->cap_topics) {
		size_t cap = k->cap_topics ? k->cap_topics * 2 : 64;
		topic_t *nt = calloc(cap, sizeof(*nt));
		if (!nt) {
			binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			return NULL;
		}
		for (size_t j = 0; j < k->cap_topics; j++) {
			if (!k->topics[j].name)
				continue;
			i = hash_str(k->topics[j].name) & (cap - 1);
			while (nt[i].name)
				i = (i + 1) & (cap - 1);
			nt[i] = k->topics[j];
		}
		free(k->topics);
		k->topics = nt;
		k->cap_topics = cap;
	}
	i = hash_str(name) & (k->cap_topics - 1);
	while (k->topics[i].name && strcmp(k->topics[i].name, name) != 0)
		i = (i + 1) & (k->cap_topics - 1);
	t = &k->topics[i];
	if (t->name)
		return t;
	{
		rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
		char es[256];
		/* The partition of a key as Java's producer computes it, so
		 * that other producers of the same keys agree. */
		if (rd_kafka_topic_conf_set(tc, "partitioner", "murmur2_random", es, sizeof(es)) !=
		    RD_KAFKA_CONF_OK) {
			rd_kafka_topic_conf_destroy(tc);
			binlog_err_set(err, BINLOG_E_SINK, "kafka: partitioner: %s", es);
			return NULL;
		}
		t->rkt = rd_kafka_topic_new(k->rk, name, tc);
		if (!t->rkt) {
			binlog_err_set(err, BINLOG_E_SINK, "kafka: topic %s: %s", name,
				       rd_kafka_err2str(rd_kafka_last_error()));
			return NULL;
		}
		if (!(t->name = strdup(name))) {
			rd_kafka_topic_destroy(t->rkt);
			t->rkt = NULL;
			binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			return NULL;
		}
		k->ntopics++;
	}
	return t;
}

/* The number of partitions of t, asked of the cluster at most once a
 * minute (once a second while it is not known). 0 with *err set when it is
 * not known: the cluster did not answer, or has no such topic. */
static int partitions_of(kafka_t *k, topic_t *t, binlog_err_t *err)
{
	const rd_kafka_metadata_t *md;
	rd_kafka_resp_err_t e;
	int64_t now = mono_ms();

	if (t->meta_ms && now - t->meta_ms < (t->partitions > 0 ? META_TTL_MS : 1000)) {
		if (t->partitions <= 0)
			binlog_err_set(err, BINLOG_E_IO, "kafka: topic %s: no metadata yet",
				       t->name);
		return t->partitions;
	}
	t->meta_ms = now;
	e = rd_kafka_metadata(k->rk, 0, t->rkt, &md, 5000);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		binlog_err_set(err, BINLOG_E_IO, "kafka: metadata of topic %s: %s", t->name,
			       rd_kafka_err2str(e));
		return t->partitions; /* the last known count, if any */
	}
	/* A topic-level error such as LEADER_NOT_AVAILABLE still comes with
	 * its partitions. */
	if (md->topic_cnt == 1 && md->topics[0].partition_cnt > 0)
		t->partitions = md->topics[0].partition_cnt;
	else if (md->topic_cnt == 1)
		binlog_err_set(err, BINLOG_E_IO, "kafka: metadata of topic %s: %s", t->name,
			       rd_kafka_err2str(md->topics[0].err));
	rd_kafka_metadata_destroy(md);
	return t->partitions;
}

/* ------------------------------------------------------------------ */
/* Producing                                                           */

static binlog_errcode_t txn_error(kafka_t *k, const char *what, rd_kafka_error_t *e,
				  binlog_err_t *err)
{
	binlog_errcode_t rc = BINLOG_E_SINK;

	binlog_err_set(err, rc, "kafka: %s: %s%s", what, rd_kafka_error_string(e),
		       rd_kafka_error_is_fatal(e) ? " (fatal: another process with the same "
						    "transactional.id took over?)"
						  : "");
	if (rd_kafka_error_txn_requires_abort(e)) {
		rd_kafka_error_t *a = rd_kafka_abort_transaction(k->rk, TXN_TIMEOUT);
		if (a)
			rd_kafka_error_destroy(a);
		k->in_txn = 0;
		binlog_err_prefix(err, "transaction aborted; a restart resumes from the last "
				       "committed checkpoint");
	}
	rd_kafka_error_destroy(e);
	k->failed = 1;
	k->fail = *err;
	return rc;
}

static binlog_errcode_t begin(kafka_t *k, binlog_err_t *err)
{
	rd_kafka_error_t *e;

	if (!k->transactional || k->in_txn)
		return BINLOG_OK;
	if ((e = rd_kafka_begin_transaction(k->rk)) != NULL)
		return txn_error(k, "begin transaction", e, err);
	k->in_txn = 1;
	return BINLOG_OK;
}

static void put_u64(char *out, size_t cap, uint64_t v)
{
	snprintf(out, cap, "%" PRIu64, v);
}

/*
 * Produce one record, to `partition` (RD_KAFKA_PARTITION_UA: by key),
 * numbered `n` (0: not counted). Waits while librdkafka's queue or the
 * ring is full, serving reports meanwhile.
 */
static binlog_errcode_t produce(kafka_t *k, const sink_record_t *r, int32_t partition, uint64_t n,
				binlog_err_t *err)
{
	topic_t *t;
	char seq[24];
	rd_kafka_headers_t *h;
	rd_kafka_resp_err_t e;

	if (k->failed) {
		*err = k->fail;
		return k->fail.code;
	}
	if (!(t = topic_of(k, r->topic, err)))
		return err->code;
	if (begin(k, err) != BINLOG_OK)
		return err->code;
	put_u64(seq, sizeof(seq), r->seq);
	for (;;) {
		if (n && n - k->acked > k->ring) {
			/* a full ring: wait for the oldest */
		} else {
			h = rd_kafka_headers_new(8);
			rd_kafka_header_add(h, "sequence", -1, seq, -1);
			if (r->gtid && *r->gtid)
				rd_kafka_header_add(h, "gtid", -1, r->gtid, -1);
			if (r->db)
				rd_kafka_header_add(h, "db", -1, r->db, (ssize_t)r->db_len);
			if (r->table)
				rd_kafka_header_add(h, "table", -1, r->table,
						    (ssize_t)r->table_len);
			if (r->op)
				rd_kafka_header_add(h, "op", -1, r->op, -1);
			if (r->source)
				rd_kafka_header_add(h, "source", -1, r->source, -1);
			rd_kafka_header_add(h, "type", -1, r->type ? r->type : "data", -1);
			e = rd_kafka_producev(
				k->rk, RD_KAFKA_V_RKT(t->rkt), RD_KAFKA_V_PARTITION(partition),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				RD_KAFKA_V_VALUE((void *)r->value, r->value_len),
				RD_KAFKA_V_KEY((void *)r->key, r->key ? r->key_len : 0),
				RD_KAFKA_V_TIMESTAMP(r->ts_ms), RD_KAFKA_V_HEADERS(h),
				RD_KAFKA_V_OPAQUE((void *)(uintptr_t)n), RD_KAFKA_V_END);
			if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
				if (n)
					k->written = n;
				break;
			}
			rd_kafka_headers_destroy(h);
			if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
				return binlog_err_set(
					err,
					e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? BINLOG_E_LIMIT
										  : BINLOG_E_SINK,
					"kafka: topic %s, %.*s.%.*s, sequence %s (%zu bytes): %s",
					r->topic, (int)r->db_len, r->db ? r->db : "",
					(int)r->table_len, r->table ? r->table : "", seq,
					r->value_len, rd_kafka_err2str(e));
		}
		/* Back-pressure: the binlog reader waits here. */
		k->st.waits++;
		if (serve(k, 20, err) != BINLOG_OK)
			return err->code;
		if (stopping(k))
			return binlog_err_set(err, BINLOG_E_IO,
					      "kafka: stopped while waiting for room to produce");
	}
	if (++k->since_poll >= POLL_EVERY)
		return serve(k, 0, err);
	return BINLOG_OK;
}

static binlog_errcode_t kafka_write(sink_t *s, const sink_record_t *r, binlog_err_t *err)
{
	kafka_t *k = (kafka_t *)s;

	if (!r->topic)
		return binlog_err_set(err, BINLOG_E_USAGE, "kafka: a record without a topic");
	return produce(k, r, RD_KAFKA_PARTITION_UA, k->written + 1, err);
}

static binlog_errcode_t kafka_heartbeat(sink_t *s, const sink_record_t *r, binlog_err_t *err)
{
	kafka_t *k = (kafka_t *)s;
	binlog_err_t merr = {0};
	topic_t *t;
	int n;

	if (!(t = topic_of(k, r->topic, err)))
		return err->code;
	n = partitions_of(k, t, &merr);
	if (n <= 0) {
		/* The next beat tries again; heartbeats are not data. */
		cdc_log_warn("%s; heartbeat skipped", merr.msg[0] ? merr.msg : "no partitions");
		return BINLOG_OK;
	}
	for (int p = 0; p < n; p++) {
		if (produce(k, r, p, k->written + 1, err) != BINLOG_OK)
			return err->code;
		k->st.heartbeats++;
	}
	return BINLOG_OK;
}

static binlog_errcode_t kafka_push(sink_t *s, binlog_err_t *err)
{
	return serve((kafka_t *)s, 0, err);
}

static uint64_t kafka_written(sink_t *s)
{
	return ((kafka_t *)s)->written;
}

static uint64_t kafka_durable(sink_t *s)
{
	kafka_t *k = (kafka_t *)s;

	rd_kafka_poll(k->rk, 0);
	return k->acked;
}

static binlog_errcode_t kafka_durable_error(sink_t *s, binlog_err_t *err)
{
	kafka_t *k = (kafka_t *)s;

	if (!k->failed)
		return BINLOG_OK;
	*err = k->fail;
	return k->fail.code;
}

/* Wait until every record written is acknowledged. */
static binlog_errcode_t kafka_flush(sink_t *s, binlog_err_t *err)
{
	kafka_t *k = (kafka_t *)s;
	int64_t stop_at = 0;

	while (k->acked < k->written) {
		if (serve(k, 50, err) != BINLOG_OK)
			return err->code;
		if (stopping(k)) {
			if (!stop_at)
				stop_at = mono_ms() + STOP_GRACE_MS;
			else if (mono_ms() > stop_at)
				return binlog_err_set(err, BINLOG_E_IO,
						      "kafka: stopped with %" PRIu64
						      " records not acknowledged",
						      k->written - k->acked);
		}
	}
	return serve(k, 0, err);
}

/* ------------------------------------------------------------------ */
/* Exactly-once                                                        */

static binlog_errcode_t kafka_commit(sink_t *s, const char *state, binlog_err_t *err)
{
	kafka_t *k = (kafka_t *)s;
	sink_record_t r = {0};
	rd_kafka_error_t *e;

	if (k->failed) {
		*err = k->fail;
		return k->fail.code;
	}
	r.value = (const uint8_t *)state;
	r.value_len = strlen(state);
	r.key = (const uint8_t *)k->offsets_key;
	r.key_len = strlen(k->offsets_key);
	r.topic = k->offsets_topic;
	r.type = "offsets";
	r.source = k->offsets_key;
	r.ts_ms = (int64_t)time(NULL) * 1000;
	if (produce(k, &r, RD_KAFKA_PARTITION_UA, 0, err) != BINLOG_OK)
		return err->code;
	for (;;) {
		e = rd_kafka_commit_transaction(k->rk, TXN_TIMEOUT);
		if (!e)
			break;
		if (rd_kafka_error_is_retriable(e) && !stopping(k)) {
			cdc_log_warn("kafka: commit: %s (retrying)", rd_kafka_error_string(e));
			rd_kafka_error_destroy(e);
			continue;
		}
		return txn_error(k, "commit transaction", e, err);
	}
	k->in_txn = 0;
	k->st.transactions++;
	/* Committed: every record of it is acknowledged. */
	k->acked = k->written;
	memset(k->bits, 0, (k->ring / 64) * sizeof(*k->bits));
	return BINLOG_OK;
}

/* The last offsets record of our key, read as read_committed consumers
 * see the topic. */
static binlog_errcode_t kafka_recover(sink_t *s, char **state, binlog_err_t *err)
{
	kafka_t *k = (kafka_t *)s;
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_t *rk;
	const rd_kafka_metadata_t *md = NULL;
	rd_kafka_topic_t *rkt;
	rd_kafka_topic_partition_list_t *parts = NULL;
	char es[512];
	int64_t best_ms = -1, deadline;
	int remaining = 0;
	binlog_errcode_t rc = BINLOG_OK;
	rd_kafka_resp_err_t e;

	*state = NULL;
	if (rd_kafka_conf_set(c, "bootstrap.servers", k->o.bootstrap, es, sizeof(es)) ||
	    rd_kafka_conf_set(c, "isolation.level", "read_committed", es, sizeof(es)) ||
	    rd_kafka_conf_set(c, "enable.partition.eof", "true", es, sizeof(es)) ||
	    rd_kafka_conf_set(c, "enable.auto.commit", "false", es, sizeof(es)) ||
	    rd_kafka_conf_set(c, "group.id", k->offsets_key, es, sizeof(es))) {
		rd_kafka_conf_destroy(c);
		return binlog_err_set(err, BINLOG_E_USAGE, "kafka: %s", es);
	}
	rd_kafka_conf_set_log_cb(c, on_log);
	if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, es, sizeof(es))))
		return binlog_err_set(err, BINLOG_E_SINK, "kafka: %s", es);
	rkt = rd_kafka_topic_new(rk, k->offsets_topic, NULL);
	e = rkt ? rd_kafka_metadata(rk, 0, rkt, &md, 30000) : rd_kafka_last_error();
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rc = binlog_err_set(err, BINLOG_E_IO, "kafka: reading %s: %s", k->offsets_topic,
				    rd_kafka_err2str(e));
		goto out;
	}
	if (md->topic_cnt != 1 || md->topics[0].err) {
		/* No such topic: nothing was ever committed. */
		goto out;
	}
	parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
	for (int p = 0; p < md->topics[0].partition_cnt; p++)
		rd_kafka_topic_partition_list_add(parts, k->offsets_topic, p)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
	remaining = md->topics[0].partition_cnt;
	if ((e = rd_kafka_assign(rk, parts)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rc = binlog_err_set(err, BINLOG_E_IO, "kafka: reading %s: %s", k->offsets_topic,
				    rd_kafka_err2str(e));
		goto out;
	}
	deadline = mono_ms() + 60000;
	while (remaining > 0) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (mono_ms() > deadline || stopping(k)) {
			rc = binlog_err_set(err, BINLOG_E_IO,
					    "kafka: could not read %s to its end within 60 s",
					    k->offsets_topic);
			if (m)
				rd_kafka_message_destroy(m);
			goto out;
		}
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			remaining--;
		} else if (m->err) {
			cdc_log_warn("kafka: reading %s: %s", k->offsets_topic,
				     rd_kafka_message_errstr(m));
		} else if (m->key_len == strlen(k->offsets_key) && m->payload &&
			   memcmp(m->key, k->offsets_key, m->key_len) == 0) {
			/* The newest by its own clock: partitions may have
			 * been added since an older one was written. */
			rd_kafka_timestamp_type_t tt;
			int64_t ts = rd_kafka_message_timestamp(m, &tt);
			if (ts >= best_ms) {
				char *v = malloc(m->len + 1);
				if (!v) {
					rd_kafka_message_destroy(m);
					rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
					goto out;
				}
				memcpy(v, m->payload, m->len);
				v[m->len] = 0;
				free(*state);
				*state = v;
				best_ms = ts;
			}
		}
		rd_kafka_message_destroy(m);
	}
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	if (parts)
		rd_kafka_topic_partition_list_destroy(parts);
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	if (rc != BINLOG_OK) {
		free(*state);
		*state = NULL;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Life                                                                */

static void kafka_close(sink_t *s)
{
	kafka_t *k = (kafka_t *)s;

	if (k->rk) {
		if (k->in_txn) {
			/* Not committed: the next run writes it again. */
			rd_kafka_error_t *e = rd_kafka_abort_transaction(k->rk, 5000);
			if (e)
				rd_kafka_error_destroy(e);
		} else {
			rd_kafka_flush(k->rk, 2000);
		}
	}
	for (size_t i = 0; i < k->cap_topics; i++) {
		if (k->topics[i].rkt)
			rd_kafka_topic_destroy(k->topics[i].rkt);
		free(k->topics[i].name);
	}
	free(k->topics);
	if (k->rk)
		rd_kafka_destroy(k->rk);
	free(k->bits);
	free(k->offsets_topic);
	free(k->offsets_key);
	free(k);
}

void sink_kafka_stats(sink_t *s, sink_kafka_stats_t *out)
{
	const kafka_t *k = (const kafka_t *)s;

	*out = k->st;
	out->written = k->written;
	out->acked = k->acked;
}

static const sink_ops_t kafka_ops = {
	.name = "kafka",
	.write = kafka_write,
	.flush = kafka_flush,
	.close = kafka_close,
	.push = kafka_push,
	.written = kafka_written,
	.durable = kafka_durable,
	.durable_error = kafka_durable_error,
	.heartbeat = kafka_heartbeat,
};

/* Transactions: a checkpoint is a commit. */
static const sink_ops_t kafka_txn_ops = {
	.name = "kafka",
	.write = kafka_write,
	.flush = kafka_flush,
	.close = kafka_close,
	.push = kafka_push,
	.heartbeat = kafka_heartbeat,
	.commit = kafka_commit,
	.recover = kafka_recover,
};

/* Properties whose value sluice's guarantees depend on. */
static const char *const owned_props[] = {
	"bootstrap.servers",
	"metadata.broker.list",
	"enable.idempotence",
	"transactional.id",
	"transaction.timeout.ms",
	"message.timeout.ms",
	"delivery.timeout.ms",
	"acks",
	"request.required.acks",
	"enable.gapless.guarantee",
	"max.in.flight",
	"max.in.flight.requests.per.connection",
	"message.max.bytes",
	"queue.buffering.max.messages",
	"queue.buffering.max.kbytes",
	"partitioner",
	NULL,
};

int sink_kafka_check_property(const char *item, int inline_, char *name, size_t name_cap,
			      const char **value, char *msg, size_t cap)
{
	rd_kafka_conf_t *c;
	char es[256];
	const char *eq = strchr(item, '=');
	size_t n = eq ? (size_t)(eq - item) : 0;
	int rc = 0;

	while (n && (item[n - 1] == ' ' || item[n - 1] == '\t'))
		n--;
	if (!eq || n == 0 || n >= name_cap) {
		snprintf(msg, cap, "'%s' is not NAME=VALUE", item);
		return -1;
	}
	memcpy(name, item, n);
	name[n] = 0;
	for (eq++; *eq == ' ' || *eq == '\t'; eq++)
		;
	*value = eq;
	for (const char *const *o = owned_props; *o; o++)
		if (strcmp(name, *o) == 0) {
			snprintf(msg, cap,
				 "%s is set by sluice (its delivery guarantees depend on it); "
				 "see the sink settings in docs/CONFIGURATION.md",
				 name);
			return -1;
		}
	if (inline_ && (strstr(name, "password") || strstr(name, "secret"))) {
		snprintf(msg, cap,
			 "%s holds a secret: give it in sink.properties-file (a file readable by "
			 "sluice alone), not in the configuration",
			 name);
		return -1;
	}
	c = rd_kafka_conf_new();
	if (rd_kafka_conf_set(c, name, eq, es, sizeof(es)) != RD_KAFKA_CONF_OK) {
		snprintf(msg, cap, "%s", es);
		rc = -1;
	}
	rd_kafka_conf_destroy(c);
	return rc;
}

/* Apply NAME=VALUE; 0 or -1 with *err naming `where`. */
static int set_prop(rd_kafka_conf_t *c, const char *item, const char *where, binlog_err_t *err)
{
	char name[256], msg[512], es[256];
	const char *value;

	if (sink_kafka_check_property(item, 0, name, sizeof(name), &value, msg, sizeof(msg)) != 0) {
		binlog_err_set(err, BINLOG_E_USAGE, "%s: %s", where, msg);
		return -1;
	}
	if (rd_kafka_conf_set(c, name, value, es, sizeof(es)) != RD_KAFKA_CONF_OK) {
		binlog_err_set(err, BINLOG_E_USAGE, "%s: %s", where, es);
		return -1;
	}
	return 0;
}

/* A properties file: NAME=VALUE lines, blank lines and # comments. */
static int set_props_file(rd_kafka_conf_t *c, const char *path, binlog_err_t *err)
{
	FILE *f = fopen(path, "r");
	char line[4096], where[PATH_MAX + 32];
	unsigned no = 0;
	int rc = 0;

	if (!f) {
		binlog_err_set(err, BINLOG_E_LOCAL_IO, "sink.properties-file %s: %s", path,
			       strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *p = line, *e;
		no++;
		snprintf(where, sizeof(where), "%s:%u", path, no);
		if (!strchr(line, '\n') && !feof(f)) {
			binlog_err_set(err, BINLOG_E_USAGE, "%s: line longer than %zu bytes", where,
				       sizeof(line) - 2);
			rc = -1;
			break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			*--e = 0;
		if (!*p || *p == '#')
			continue;
		rc = set_prop(c, p, where, err);
	}
	if (rc == 0 && ferror(f)) {
		binlog_err_set(err, BINLOG_E_LOCAL_IO, "sink.properties-file %s: read error", path);
		rc = -1;
	}
	fclose(f);
	return rc;
}

static int set(rd_kafka_conf_t *c, const char *key, const char *val, binlog_err_t *err)
{
	char es[256];

	if (rd_kafka_conf_set(c, key, val, es, sizeof(es)) == RD_KAFKA_CONF_OK)
		return 0;
	binlog_err_set(err, BINLOG_E_USAGE, "kafka: %s=%s: %s", key, val, es);
	return -1;
}

static int set_u64(rd_kafka_conf_t *c, const char *key, uint64_t v, binlog_err_t *err)
{
	char t[24];

	put_u64(t, sizeof(t), v);
	return set(c, key, t, err);
}

sink_t *sink_kafka_new(const sink_kafka_opts_t *o, binlog_err_t *err)
{
	kafka_t *k = calloc(1, sizeof(*k));
	rd_kafka_conf_t *c = NULL;
	char es[512];
	uint64_t kbytes = o->max_inflight_bytes / 1024;

	if (!k) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		return NULL;
	}
	k->o = *o;
	k->transactional = o->transactional_id && *o->transactional_id;
	k->base.ops = k->transactional ? &kafka_txn_ops : &kafka_ops;
	for (k->ring = 64; k->ring < o->max_inflight + 1; k->ring *= 2)
		;
	k->bits = calloc(k->ring / 64, sizeof(*k->bits));
	k->offsets_topic = strdup(o->offsets_topic ? o->offsets_topic : "sluice.offsets");
	k->offsets_key = strdup(o->offsets_key ? o->offsets_key : "sluice");
	c = rd_kafka_conf_new();
	if (!k->bits || !k->offsets_topic || !k->offsets_key || !c) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		goto fail;
	}
	rd_kafka_conf_set_opaque(c, k);
	rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
	rd_kafka_conf_set_error_cb(c, on_error);
	rd_kafka_conf_set_log_cb(c, on_log);
	if (set(c, "bootstrap.servers", o->bootstrap, err) ||
	    set(c, "client.id", o->client_id ? o->client_id : "sluice", err) ||
	    set(c, "enable.idempotence", "true", err) ||
	    set(c, "compression.codec", o->compression ? o->compression : "lz4", err) ||
	    set_u64(c, "linger.ms", o->linger_ms, err) ||
	    set_u64(c, "queue.buffering.max.messages", o->max_inflight, err) ||
	    set_u64(c, "queue.buffering.max.kbytes", kbytes ? kbytes : 1, err) ||
	    set_u64(c, "request.timeout.ms", o->request_timeout_ms, err) ||
	    (o->max_record_size && set_u64(c, "message.max.bytes", o->max_record_size, err)))
		goto fail;
	if (k->transactional) {
		/* A transaction has to end within its timeout, and so does
		 * every record in it. */
		if (set(c, "transactional.id", o->transactional_id, err) ||
		    set_u64(c, "transaction.timeout.ms", TXN_TIMEOUT, err))
			goto fail;
	} else if (set(c, "message.timeout.ms", "0", err)) {
		/* 0: retried until acknowledged */
		goto fail;
	}
	for (size_t i = 0; i < o->nprops; i++)
		if (set_prop(c, o->props[i], "sink.properties", err) != 0)
			goto fail;
	if (o->props_file && set_props_file(c, o->props_file, err) != 0)
		goto fail;
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof(es));
	c = NULL; /* the handle owns it now, or it was freed */
	if (!k->rk) {
		binlog_err_set(err, BINLOG_E_USAGE, "kafka: %s", es);
		goto fail;
	}
	if (k->transactional) {
		rd_kafka_error_t *e;
		/* Registers the id and fences an earlier producer of it: its
		 * open transaction is aborted. */
		while ((e = rd_kafka_init_transactions(k->rk, TXN_TIMEOUT)) != NULL) {
			if (!rd_kafka_error_is_retriable(e) || stopping(k)) {
				binlog_err_set(err, BINLOG_E_SINK,
					       "kafka: registering transactional.id %s: %s",
					       o->transactional_id, rd_kafka_error_string(e));
				rd_kafka_error_destroy(e);
				goto fail;
			}
			cdc_log_warn("kafka: registering transactional.id %s: %s (retrying)",
				     o->transactional_id, rd_kafka_error_string(e));
			rd_kafka_error_destroy(e);
		}
	}
	return &k->base;
fail:
	if (c)
		rd_kafka_conf_destroy(c);
	k->in_txn = 0;
	kafka_close(&k->base);
	return NULL;
}
