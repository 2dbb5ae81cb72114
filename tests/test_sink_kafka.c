/*
 * test_sink_kafka.c: the Kafka sink against librdkafka's mock cluster, in
 * process: records, keys, timestamps and headers as documented; durable()
 * counts only acknowledged records, in order, through injected request
 * errors and a broker that goes down; back-pressure instead of growth; a
 * refused record stops the sink.
 */
#include "testutil.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "sink_kafka.h"

typedef struct cluster {
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *m;
	const char *bootstrap;
} cluster_t;

static void cluster_up(cluster_t *c, const char *topic, int parts)
{
	char es[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, es, sizeof(es));
	assert_non_null(c->rk);
	c->m = rd_kafka_mock_cluster_new(c->rk, 3);
	assert_non_null(c->m);
	c->bootstrap = rd_kafka_mock_cluster_bootstraps(c->m);
	assert_int_equal(rd_kafka_mock_topic_create(c->m, topic, parts, 3), 0);
}

static void cluster_down(cluster_t *c)
{
	rd_kafka_mock_cluster_destroy(c->m);
	rd_kafka_destroy(c->rk);
}

static sink_t *must_sink(const cluster_t *c, uint64_t inflight)
{
	sink_kafka_opts_t o = {
		.bootstrap = c->bootstrap,
		.compression = "lz4",
		.linger_ms = 2,
		.max_inflight = inflight,
		.max_inflight_bytes = 64 << 20,
		.request_timeout_ms = 5000,
	};
	binlog_err_t err = {0};
	sink_t *s = sink_kafka_new(&o, &err);

	if (!s)
		fail_msg("sink: %s", err.msg);
	return s;
}

static void put(sink_t *s, const char *topic, uint64_t i)
{
	char v[64], k[32];
	sink_record_t r = {0};
	binlog_err_t err = {0};

	snprintf(v, sizeof(v), "{\"data\":{\"id\":%llu},\"op\":\"+I\"}", (unsigned long long)i);
	snprintf(k, sizeof(k), "[\"d\",\"t\",%llu]", (unsigned long long)i);
	r.value = (const uint8_t *)v;
	r.value_len = strlen(v);
	r.key = (const uint8_t *)k;
	r.key_len = strlen(k);
	r.seq = 1000000 + i;
	r.op = "+I";
	r.ts_ms = 1718454896000 + (int64_t)i;
	r.db = "d";
	r.db_len = 1;
	r.table = "t";
	r.table_len = 1;
	r.gtid = "0-1-7";
	r.source = "src";
	r.type = "data";
	r.topic = topic;
	if (sink_write(s, &r, &err) != BINLOG_OK)
		fail_msg("write %llu: %s", (unsigned long long)i, err.msg);
}

/* Every record of the topic: which ids, how many times; checks headers. */
static uint64_t read_back(const cluster_t *c, const char *topic, int parts, uint8_t *seen,
			  uint64_t n)
{
	char es[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *k;
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts);
	int eofs = 0;
	uint64_t total = 0;

	rd_kafka_conf_set(conf, "bootstrap.servers", c->bootstrap, es, sizeof(es));
	rd_kafka_conf_set(conf, "group.id", "test", es, sizeof(es));
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", es, sizeof(es));
	k = rd_kafka_new(RD_KAFKA_CONSUMER, conf, es, sizeof(es));
	assert_non_null(k);
	rd_kafka_poll_set_consumer(k);
	for (int p = 0; p < parts; p++)
		rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	assert_int_equal(rd_kafka_assign(k, l), 0);
	while (eofs < parts) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(k, 5000);
		rd_kafka_headers_t *h;
		const void *hv;
		size_t hl;
		char num[32];
		unsigned long long id;

		assert_non_null(m);
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eofs++;
			rd_kafka_message_destroy(m);
			continue;
		}
		assert_int_equal(m->err, 0);
		snprintf(num, sizeof(num), "%.*s", (int)m->len, (const char *)m->payload + 14);
		id = strtoull(num, NULL, 10);
		assert_true(id < n);
		seen[id]++;
		total++;
		/* the documented headers, as text */
		assert_int_equal(rd_kafka_message_headers(m, &h), 0);
		assert_int_equal(rd_kafka_header_get_last(h, "sequence", &hv, &hl), 0);
		snprintf(num, sizeof(num), "%.*s", (int)hl, (const char *)hv);
		assert_int_equal(strtoull(num, NULL, 10), 1000000 + id);
		assert_int_equal(rd_kafka_header_get_last(h, "type", &hv, &hl), 0);
		assert_memory_equal(hv, "data", 4);
		assert_int_equal(rd_kafka_header_get_last(h, "gtid", &hv, &hl), 0);
		assert_memory_equal(hv, "0-1-7", 5);
		assert_int_equal(rd_kafka_message_timestamp(m, NULL), 1718454896000 + (int64_t)id);
		rd_kafka_message_destroy(m);
	}
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_consumer_close(k);
	rd_kafka_destroy(k);
	return total;
}

/* The next 40 Produce requests fail with `e` (a retriable error). */
static void push_errors(const cluster_t *c, rd_kafka_resp_err_t e)
{
	rd_kafka_resp_err_t v[40];

	for (int i = 0; i < 40; i++)
		v[i] = e;
	rd_kafka_mock_push_request_errors_array(c->m, 0 /* Produce */, 40, v);
}

static void wait_durable(sink_t *s, uint64_t n)
{
	binlog_err_t err = {0};

	if (sink_flush(s, &err) != BINLOG_OK)
		fail_msg("flush: %s", err.msg);
	assert_int_equal(s->ops->durable(s), n);
}

/*
 * Records under request errors: whatever the cluster does, durable() may
 * count a record only when it is in the log, and every record the sink
 * was given is in it once flushed.
 */
static void acked_means_stored(void **state)
{
	cluster_t c;
	sink_t *s;
	const uint64_t n = 20000;
	uint8_t *seen = calloc(n, 1);
	uint64_t total, missing = 0;

	(void)state;
	cluster_up(&c, "t", 8);
	s = must_sink(&c, 5000);
	for (uint64_t i = 0; i < n; i++) {
		if (i == 5000 || i == 9000)
			push_errors(&c, i == 5000 ? RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION
						  : RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
		if (i == 12000)
			rd_kafka_mock_broker_set_down(c.m, 2);
		/* Up again before librdkafka's queue (5,000) could fill: a
		 * write that waits for room would wait for ever, the broker
		 * coming back only with the writes after it. */
		if (i == 12300)
			rd_kafka_mock_broker_set_up(c.m, 2);
		put(s, "t", i);
		/* in flight is bounded: the ring and librdkafka's queue */
		assert_true(s->ops->written(s) - s->ops->durable(s) <= 8192);
	}
	wait_durable(s, n);
	total = read_back(&c, "t", 8, seen, n);
	for (uint64_t i = 0; i < n; i++)
		missing += seen[i] == 0;
	assert_int_equal(missing, 0);
	assert_true(total >= n);
	sink_close(s);
	cluster_down(&c);
	free(seen);
}

/* A record larger than max_record_size is refused before it is sent, by
 * an error that names it; a smaller one goes. */
static void record_too_large(void **state)
{
	cluster_t c;
	sink_kafka_opts_t o = {.compression = "none",
			       .max_inflight = 100,
			       .max_inflight_bytes = 1 << 20,
			       .request_timeout_ms = 5000,
			       .max_record_size = 2000};
	static uint8_t big[3000];
	sink_record_t r = {0};
	binlog_err_t err = {0};
	sink_t *s;

	(void)state;
	cluster_up(&c, "t", 2);
	o.bootstrap = c.bootstrap;
	s = sink_kafka_new(&o, &err);
	assert_non_null(s);
	memset(big, 'x', sizeof(big));
	r.value = big;
	r.value_len = sizeof(big);
	r.seq = 42;
	r.db = "shop";
	r.db_len = 4;
	r.table = "blobs";
	r.table_len = 5;
	r.topic = "t";
	assert_int_equal(sink_write(s, &r, &err), BINLOG_E_LIMIT);
	assert_non_null(strstr(err.msg, "topic t, shop.blobs, sequence 42 (3000 bytes)"));
	r.value_len = 1500;
	assert_int_equal(sink_write(s, &r, &err), BINLOG_OK);
	wait_durable(s, 1);
	sink_close(s);
	cluster_down(&c);
}

/* Properties: a file's lines apply; a bad line names the file and line;
 * a property sluice owns is refused there too. */
static void properties(void **state)
{
	cluster_t c;
	char path[] = "/tmp/sluice-props-XXXXXX";
	char *inl[] = {"linger.ms=1"};
	sink_kafka_opts_t o = {.compression = "none",
			       .max_inflight = 100,
			       .max_inflight_bytes = 1 << 20,
			       .request_timeout_ms = 5000,
			       .props = inl,
			       .nprops = 1};
	binlog_err_t err = {0};
	sink_t *s;
	FILE *f;
	int fd;

	(void)state;
	cluster_up(&c, "p", 1);
	o.bootstrap = c.bootstrap;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("# client settings\n\nclient.id = sluice-test\nsocket.keepalive.enable=true\n", f);
	fclose(f);
	o.props_file = path;
	s = sink_kafka_new(&o, &err);
	if (!s)
		fail_msg("%s", err.msg);
	put(s, "p", 1);
	wait_durable(s, 1);
	sink_close(s);

	f = fopen(path, "w");
	fputs("client.id=x\nsocket.keepalive.enable=perhaps\n", f);
	fclose(f);
	assert_null(sink_kafka_new(&o, &err));
	assert_int_equal(err.code, BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, ":2: "));
	assert_non_null(strstr(err.msg, path));

	f = fopen(path, "w");
	fputs("enable.idempotence=false\n", f);
	fclose(f);
	assert_null(sink_kafka_new(&o, &err));
	assert_non_null(strstr(err.msg, ":1: enable.idempotence is set by sluice"));
	unlink(path);
	o.props_file = "/nonexistent/sluice.properties";
	assert_null(sink_kafka_new(&o, &err));
	assert_int_equal(err.code, BINLOG_E_LOCAL_IO);
	cluster_down(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acked_means_stored),
		cmocka_unit_test(record_too_large),
		cmocka_unit_test(properties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
