/*
 * kafka_shuffle.c: kafka-shuffle, Kafka input for testing and benchmarking
 * the merger (the consumer that applies sluice's records into tables,
 * keeping per key the record of highest sequence). Two modes:
 *
 *   --from TOPIC --to TOPIC2   copy every record TOPIC held when the tool
 *       started into random partitions of TOPIC2, reordered within a sliding
 *       window and with some records produced twice: what a merger must
 *       survive when records of one key arrive out of order, on several
 *       partitions, and more than once.
 *   --generate N --to TOPIC    produce N synthetic change records shaped as
 *       sluice's Kafka sink writes them (sinks/sink_kafka.c: key, headers,
 *       changelog-json value, timestamp; docs/KAFKA.md, docs/CHANGELOG_JSON.md),
 *       and with --expect write the final state a merge must reach.
 *
 * Shuffling: each record read goes into a window of at most W records; while
 * the window is full, a record drawn at random leaves it and is produced. A
 * record drawn for duplication goes back into the window once, so its second
 * copy leaves later at a random time. W=1 keeps the order (a duplicate then
 * follows its original at once). Memory is the window plus librdkafka's
 * bounded queues, never the topic.
 *
 * Generating: per key (T tables x K ids) a few fields of its current row;
 * the row's text is rebuilt from them, so memory is O(T*K) whatever N is.
 *
 * One thread: it polls the consumer and the producer. Each record is
 * acknowledged by the cluster (delivery reports) before the tool says it
 * succeeded. Exit 0, 1 on a runtime error, 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

#define WINDOW_MAX      10000000
#define TABLES_MAX      10000
#define KEYS_MAX        (1u << 30)
#define STATE_MAX       (1u << 27) /* tables x keys: 4 GiB of state at 32 bytes each */
#define VALUE_BYTES_MAX (1u << 20)
#define DB_NAME_MAX     64 /* MariaDB's limit on a database name */
#define PROPS_MAX       64
#define METADATA_MS     10000
#define POLL_MS         100
/* A partition that yields nothing for this long is reported, not waited on
 * forever: the cluster is down or the topic was truncated under us. */
#define STALL_MS 30000
/* librdkafka is polled for delivery reports every this many produce calls. */
#define POLL_EVERY 256

struct opts {
	const char *brokers;
	const char *from;
	const char *to;
	const char *db;
	const char *expect;
	const char *props[PROPS_MAX]; /* -X NAME=VALUE, given to every client */
	int nprops;
	uint64_t seed;
	uint64_t window;
	uint64_t generate;
	uint64_t keys;
	uint64_t tables;
	uint64_t value_bytes;
	int32_t partitions; /* 0: all of TOPIC2's */
	double dup_rate;
	double delete_rate;
	int random_partitions;
};

static void usage(FILE *out)
{
	fputs("usage: kafka-shuffle -b BROKERS --from TOPIC --to TOPIC2 [--seed N] [--window W]\n"
	      "                     [--dup-rate R] [--partitions P] [-X NAME=VALUE]...\n"
	      "       kafka-shuffle -b BROKERS --generate N --to TOPIC [--keys K] [--tables T]\n"
	      "                     [--db NAME] [--seed S] [--delete-rate R] [--value-bytes B]\n"
	      "                     [--random-partitions] [--expect FILE] [-X NAME=VALUE]...\n"
	      "\n"
	      "Kafka input for testing the merger. Both topics must exist.\n"
	      "\n"
	      "Shuffle: read every record TOPIC holds when the tool starts (all partitions, from\n"
	      "the beginning to their end offsets at start) and produce it to a random partition\n"
	      "of TOPIC2 with its key, value, headers and timestamp, reordered at random within a\n"
	      "sliding window of W records, a fraction R of them produced twice (the copy later,\n"
	      "maybe to another partition). Prints `shuffled N records (D duplicates) from TOPIC\n"
	      "to TOPIC2 over P partitions`: TOPIC2 received N + D records.\n"
	      "  --window W          reorder within W records (default 1000; 1 keeps the order)\n"
	      "  --dup-rate R        fraction of records produced twice (default 0.05)\n"
	      "  --partitions P      use partitions 0..P-1 of TOPIC2 (default: all of them)\n"
	      "\n"
	      "Generate: produce N change records shaped as sluice's (key [\"DB\",\"tN\",ID];\n"
	      "headers sequence, gtid, db, table, op, source=gen, type=data; changelog-json "
	      "value)\n"
	      "with strictly increasing sequences, ~5 records a transaction. A key's first change\n"
	      "is +I; then -U and +U, or -D with probability R, after which it is inserted again.\n"
	      "Records go to the partition of their key (murmur2, as sluice's sink), or a random\n"
	      "one. Prints `generated N records to TOPIC`.\n"
	      "  --keys K            ids 1..K in each table (default 1000)\n"
	      "  --tables T          tables t0..t{T-1} (default 1)\n"
	      "  --db NAME           database name (default shop)\n"
	      "  --delete-rate R     probability that a change of a live key deletes it (0.1)\n"
	      "  --value-bytes B     approximate size of a value (default 300)\n"
	      "  --random-partitions spread records over partitions at random, not by key\n"
	      "  --expect FILE       write the final state, one JSON line per live key, sorted by\n"
	      "                      key text (bytewise): "
	      "{\"key\":\"[...]\",\"seq\":S,\"data\":{...}}\n"
	      "\n"
	      "  -b, --brokers LIST  bootstrap servers\n"
	      "  --seed N            random seed (default 1: runs repeat)\n"
	      "  -X NAME=VALUE       a librdkafka setting for every client (e.g. "
	      "compression.type)\n"
	      "  -h, --help          this text\n"
	      "Exit status: 0, 1 on a runtime error, 2 on a usage error.\n",
	      out);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("kafka-shuffle: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64: small, fast, and the same sequence on every platform. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* In [0, n), n > 0; the modulo bias is below 2^-32 for the n used here. */
static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

/* In [0, 1). */
static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- options ---- */

static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
		fail("%s: '%s' is not an integer in %" PRIu64 "..%" PRIu64, opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_rate(const char *opt, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0)) {
		fail("%s: '%s' is not a number in 0..1", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

enum {
	O_FROM = 256,
	O_TO,
	O_SEED,
	O_WINDOW,
	O_DUP_RATE,
	O_PARTITIONS,
	O_GENERATE,
	O_KEYS,
	O_TABLES,
	O_DB,
	O_DELETE_RATE,
	O_VALUE_BYTES,
	O_RANDOM_PARTITIONS,
	O_EXPECT,
};

/* Options of one mode given in the other are refused, not ignored. */
#define SHUFFLE_ONLY                                                                               \
	((1u << (O_WINDOW - 256)) | (1u << (O_DUP_RATE - 256)) | (1u << (O_PARTITIONS - 256)))
#define GENERATE_ONLY                                                                              \
	((1u << (O_KEYS - 256)) | (1u << (O_TABLES - 256)) | (1u << (O_DB - 256)) |                \
	 (1u << (O_DELETE_RATE - 256)) | (1u << (O_VALUE_BYTES - 256)) |                           \
	 (1u << (O_RANDOM_PARTITIONS - 256)) | (1u << (O_EXPECT - 256)))

static const struct option long_opts[] = {
	{"brokers", required_argument, NULL, 'b'},
	{"from", required_argument, NULL, O_FROM},
	{"to", required_argument, NULL, O_TO},
	{"seed", required_argument, NULL, O_SEED},
	{"window", required_argument, NULL, O_WINDOW},
	{"dup-rate", required_argument, NULL, O_DUP_RATE},
	{"partitions", required_argument, NULL, O_PARTITIONS},
	{"generate", required_argument, NULL, O_GENERATE},
	{"keys", required_argument, NULL, O_KEYS},
	{"tables", required_argument, NULL, O_TABLES},
	{"db", required_argument, NULL, O_DB},
	{"delete-rate", required_argument, NULL, O_DELETE_RATE},
	{"value-bytes", required_argument, NULL, O_VALUE_BYTES},
	{"random-partitions", no_argument, NULL, O_RANDOM_PARTITIONS},
	{"expect", required_argument, NULL, O_EXPECT},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char *opt_name(int c)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

/* 0, 1 after --help, or -1 after a usage error (reported). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	unsigned given = 0;
	uint64_t v;
	int c, gen = 0;

	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->window = 1000;
	o->dup_rate = 0.05;
	o->keys = 1000;
	o->tables = 1;
	o->db = "shop";
	o->delete_rate = 0.1;
	o->value_bytes = 300;
	while ((c = getopt_long(argc, argv, "b:X:h", long_opts, NULL)) != -1) {
		int rc = 0;

		if (c >= 256)
			given |= 1u << (c - 256);
		switch (c) {
		case 'b':
			o->brokers = optarg;
			break;
		case 'X':
			if (o->nprops == PROPS_MAX || !strchr(optarg, '=')) {
				fail("-X %s: want NAME=VALUE, at most %d of them", optarg,
				     PROPS_MAX);
				return -1;
			}
			o->props[o->nprops++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case O_FROM:
			o->from = optarg;
			break;
		case O_TO:
			o->to = optarg;
			break;
		case O_SEED:
			rc = parse_u64("--seed", optarg, 0, UINT64_MAX, &o->seed);
			break;
		case O_WINDOW:
			rc = parse_u64("--window", optarg, 1, WINDOW_MAX, &o->window);
			break;
		case O_DUP_RATE:
			rc = parse_rate("--dup-rate", optarg, &o->dup_rate);
			break;
		case O_PARTITIONS:
			rc = parse_u64("--partitions", optarg, 1, INT32_MAX, &v);
			o->partitions = (int32_t)v;
			break;
		case O_GENERATE:
			rc = parse_u64("--generate", optarg, 0, UINT64_MAX >> 1, &o->generate);
			gen = 1;
			break;
		case O_KEYS:
			rc = parse_u64("--keys", optarg, 1, KEYS_MAX, &o->keys);
			break;
		case O_TABLES:
			rc = parse_u64("--tables", optarg, 1, TABLES_MAX, &o->tables);
			break;
		case O_DB:
			o->db = optarg;
			break;
		case O_DELETE_RATE:
			rc = parse_rate("--delete-rate", optarg, &o->delete_rate);
			break;
		case O_VALUE_BYTES:
			rc = parse_u64("--value-bytes", optarg, 0, VALUE_BYTES_MAX,
				       &o->value_bytes);
			break;
		case O_RANDOM_PARTITIONS:
			o->random_partitions = 1;
			break;
		case O_EXPECT:
			o->expect = optarg;
			break;
		default:
			usage(stderr);
			return -1;
		}
		if (rc)
			return -1;
	}
	if (optind < argc) {
		fail("unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	if (!o->brokers || !o->to || gen == !!o->from) {
		fail("want -b BROKERS --to TOPIC and one of --from TOPIC or --generate N "
		     "(see --help)");
		return -1;
	}
	if (given & (gen ? SHUFFLE_ONLY : GENERATE_ONLY)) {
		for (c = 256; c < 256 + 32; c++)
			if (given & (gen ? SHUFFLE_ONLY : GENERATE_ONLY) & (1u << (c - 256)))
				break;
		fail("--%s does not apply %s", opt_name(c), gen ? "to --generate" : "to --from");
		return -1;
	}
	if (o->tables * o->keys > STATE_MAX) {
		fail("--tables %" PRIu64 " x --keys %" PRIu64 " is more than %u keys", o->tables,
		     o->keys, STATE_MAX);
		return -1;
	}
	if (!*o->db || strlen(o->db) > DB_NAME_MAX) {
		fail("--db: a name of 1..%d bytes", DB_NAME_MAX);
		return -1;
	}
	return 0;
}

/* ---- clients ---- */

struct producer {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	const char *topic;
	uint64_t sent;
	uint64_t acked;
	uint64_t failed;
	uint64_t since_poll;
	char first_failure[512];
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct producer *p = opaque;

	(void)rk;
	if (!m->err) {
		p->acked++;
		return;
	}
	if (!p->failed++)
		snprintf(p->first_failure, sizeof(p->first_failure),
			 "topic %s partition %" PRId32 ": delivery failed: %s", p->topic,
			 m->partition, rd_kafka_err2str(m->err));
}

struct kv {
	const char *name, *value;
};

static int conf_set(rd_kafka_conf_t *c, const char *name, const char *value)
{
	char es[256];

	if (rd_kafka_conf_set(c, name, value, es, sizeof(es)) == RD_KAFKA_CONF_OK)
		return 0;
	fail("%s=%s: %s", name, value, es);
	return -1;
}

/*
 * A client of `type` configured by `defaults`, then -X, then `forced` (what
 * the tool's guarantees rest on, so -X cannot undo it). The caller owns the
 * handle; NULL after an error (reported).
 */
static rd_kafka_t *client_new(const struct opts *o, rd_kafka_type_t type, const struct kv *defaults,
			      const struct kv *forced, void *opaque)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_t *rk = NULL;
	char es[512], name[256];

	if (conf_set(c, "bootstrap.servers", o->brokers))
		goto err;
	for (; defaults->name; defaults++)
		if (conf_set(c, defaults->name, defaults->value))
			goto err;
	for (int i = 0; i < o->nprops; i++) {
		const char *eq = strchr(o->props[i], '=');
		size_t n = (size_t)(eq - o->props[i]);

		if (n == 0 || n >= sizeof(name)) {
			fail("-X %s: no NAME", o->props[i]);
			goto err;
		}
		memcpy(name, o->props[i], n);
		name[n] = 0;
		if (conf_set(c, name, eq + 1))
			goto err;
	}
	for (; forced->name; forced++)
		if (conf_set(c, forced->name, forced->value))
			goto err;
	if (type == RD_KAFKA_PRODUCER)
		rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
	rd_kafka_conf_set_opaque(c, opaque);
	if (!(rk = rd_kafka_new(type, c, es, sizeof(es)))) {
		fail("cannot create a Kafka client for %s: %s", o->brokers, es);
		goto err;
	}
	return rk; /* rd_kafka_new() took c */
err:
	rd_kafka_conf_destroy(c);
	return NULL;
}

/*
 * The partition count of `topic`, or -1 (reported). Asks for every topic's
 * metadata because asking for one can make a broker create it.
 */
static int32_t topic_partitions(rd_kafka_t *rk, const struct opts *o, const char *topic)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e;
	int32_t n = -1;
	int i;

	if ((e = rd_kafka_metadata(rk, 1, NULL, &md, METADATA_MS)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fail("cannot read the cluster's metadata from %s: %s", o->brokers,
		     rd_kafka_err2str(e));
		return -1;
	}
	for (i = 0; i < md->topic_cnt; i++)
		if (strcmp(md->topics[i].topic, topic) == 0)
			break;
	if (i == md->topic_cnt || md->topics[i].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
		fail("topic %s does not exist on %s: create it first (sluice-broker --topic "
		     "%s:PARTITIONS, or the broker's `topic` command)",
		     topic, o->brokers, topic);
	else if (md->topics[i].err)
		fail("topic %s: %s", topic, rd_kafka_err2str(md->topics[i].err));
	else if (md->topics[i].partition_cnt <= 0)
		fail("topic %s has no partitions", topic);
	else
		n = md->topics[i].partition_cnt;
	rd_kafka_metadata_destroy(md);
	return n;
}

/* Serve delivery reports; -1 (reported) once one failed. */
static int producer_poll(struct producer *p, int ms)
{
	rd_kafka_poll(p->rk, ms);
	if (p->failed) {
		fail("%s", p->first_failure);
		return -1;
	}
	return 0;
}

/*
 * Produce one record; librdkafka copies key and value, and takes `h` on
 * success (the caller still owns it on failure). Waits while the producer's
 * queue is full.
 */
static int producer_send(struct producer *p, int32_t partition, const void *key, size_t klen,
			 const void *value, size_t vlen, int64_t ts, rd_kafka_headers_t *h)
{
	rd_kafka_resp_err_t e;

	for (;;) {
		e = rd_kafka_producev(
			p->rk, RD_KAFKA_V_RKT(p->rkt), RD_KAFKA_V_PARTITION(partition),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *)key, klen),
			RD_KAFKA_V_VALUE((void *)value, vlen), RD_KAFKA_V_TIMESTAMP(ts),
			RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			if (partition == RD_KAFKA_PARTITION_UA)
				fail("topic %s: cannot produce record %" PRIu64 ": %s", p->topic,
				     p->sent + 1, rd_kafka_err2str(e));
			else
				fail("topic %s partition %" PRId32
				     ": cannot produce record %" PRIu64 ": %s",
				     p->topic, partition, p->sent + 1, rd_kafka_err2str(e));
			return -1;
		}
		if (producer_poll(p, 10))
			return -1;
	}
	p->sent++;
	if (++p->since_poll >= POLL_EVERY) {
		p->since_poll = 0;
		return producer_poll(p, 0);
	}
	return 0;
}

/* Wait for every delivery report; -1 (reported) unless all were acked. */
static int producer_finish(struct producer *p)
{
	rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, -1); /* message.timeout.ms bounds it */

	if (producer_poll(p, 0))
		return -1;
	if (e || p->acked != p->sent) {
		fail("topic %s: %" PRIu64 " of %" PRIu64 " records acknowledged (%s)", p->topic,
		     p->acked, p->sent, rd_kafka_err2str(e));
		return -1;
	}
	return 0;
}

/* Producer settings: idempotent with acks=all, so retries neither lose,
 * duplicate nor reorder; a large queue and batches for speed. */
static const struct kv producer_defaults[] = {
	{"linger.ms", "20"},
	{"batch.num.messages", "10000"},
	{"queue.buffering.max.messages", "500000"},
	{"message.timeout.ms", "60000"},
	{NULL, NULL},
};
static const struct kv producer_forced[] = {
	{"enable.idempotence", "true"},
	{"acks", "all"},
	/* TOPIC2 must exist: a mock broker would create it with 4 partitions. */
	{"allow.auto.create.topics", "false"},
	{NULL, NULL},
};

/*
 * The producer to --to, once that topic is known to exist (*parts: its
 * partition count); -1 after an error (reported). producer_close() frees it
 * either way.
 */
static int producer_open(struct producer *p, const struct opts *o, const char *partitioner,
			 int32_t *parts)
{
	rd_kafka_topic_conf_t *tc;
	char es[256];

	memset(p, 0, sizeof(*p));
	p->topic = o->to;
	if (!(p->rk = client_new(o, RD_KAFKA_PRODUCER, producer_defaults, producer_forced, p)))
		return -1;
	/* Before the topic handle, whose metadata request could create it. */
	if ((*parts = topic_partitions(p->rk, o, o->to)) < 0)
		return -1;
	/* The global conf's topic settings (message.timeout.ms, -X), not the defaults. */
	tc = rd_kafka_default_topic_conf_dup(p->rk);
	if (partitioner &&
	    rd_kafka_topic_conf_set(tc, "partitioner", partitioner, es, sizeof(es)) != 0) {
		fail("partitioner %s: %s", partitioner, es);
		rd_kafka_topic_conf_destroy(tc);
		return -1;
	}
	if (!(p->rkt = rd_kafka_topic_new(p->rk, o->to, tc))) {
		fail("topic %s: %s", o->to, rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	return 0;
}

static void producer_close(struct producer *p)
{
	if (p->rkt)
		rd_kafka_topic_destroy(p->rkt);
	if (p->rk)
		rd_kafka_destroy(p->rk);
}

/* ---- shuffle ---- */

/* A record in the window: key and value in one allocation. */
struct rec {
	char *buf;
	size_t klen, vlen;
	rd_kafka_headers_t *hdrs; /* owned, or NULL */
	int64_t ts;               /* 0: none (the producer stamps it) */
	unsigned char has_key, has_value, dup;
};

struct shuffle {
	const struct opts *o;
	struct producer *p;
	uint64_t rng;
	struct rec *win;
	size_t nwin;
	int32_t parts;
	uint64_t read, dups;
};

static void rec_free(struct rec *r)
{
	free(r->buf);
	if (r->hdrs)
		rd_kafka_headers_destroy(r->hdrs);
}

/* Produce a random record of the window; it may go back in as a duplicate. */
static int shuffle_emit(struct shuffle *s)
{
	size_t i = (size_t)rng_below(&s->rng, s->nwin);
	struct rec r = s->win[i];
	int32_t part = (int32_t)rng_below(&s->rng, (uint64_t)s->parts);
	int again = !r.dup && s->o->dup_rate > 0 && rng_unit(&s->rng) < s->o->dup_rate;
	rd_kafka_headers_t *h = r.hdrs;

	s->win[i] = s->win[--s->nwin];
	if (again && h)
		h = rd_kafka_headers_copy(r.hdrs); /* the producer takes h */
	if (producer_send(s->p, part, r.has_key ? r.buf : NULL, r.klen,
			  r.has_value ? r.buf + r.klen : NULL, r.vlen, r.ts, h)) {
		if (h != r.hdrs)
			rd_kafka_headers_destroy(h);
		rec_free(&r);
		return -1;
	}
	if (!again) {
		r.hdrs = NULL; /* the producer's now */
		rec_free(&r);
		return 0;
	}
	r.dup = 1;
	s->win[s->nwin++] = r;
	s->dups++;
	return 0;
}

/* Take a consumed message into the window, then emit while it is full. */
static int shuffle_push(struct shuffle *s, rd_kafka_message_t *m)
{
	struct rec r;
	rd_kafka_timestamp_type_t tt;

	memset(&r, 0, sizeof(r));
	r.has_key = m->key != NULL;
	r.has_value = m->payload != NULL;
	r.klen = m->key ? m->key_len : 0;
	r.vlen = m->payload ? m->len : 0;
	if (!(r.buf = malloc(r.klen + r.vlen + 1))) {
		fail("out of memory for a record of %zu bytes", r.klen + r.vlen);
		return -1;
	}
	if (r.klen)
		memcpy(r.buf, m->key, r.klen);
	if (r.vlen)
		memcpy(r.buf + r.klen, m->payload, r.vlen);
	if (rd_kafka_message_detach_headers(m, &r.hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
		r.hdrs = NULL;
	r.ts = rd_kafka_message_timestamp(m, &tt);
	if (tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || r.ts < 0)
		r.ts = 0;
	s->win[s->nwin++] = r;
	s->read++;
	while (s->nwin >= s->o->window)
		if (shuffle_emit(s))
			return -1;
	return 0;
}

struct part_state {
	int64_t end;  /* the high watermark at start: read offsets below it */
	int64_t next; /* the offset after the last record seen */
	int done;
};

static void report_stall(const struct opts *o, const struct part_state *ps, int32_t n)
{
	char list[1024];
	size_t len = 0;

	list[0] = 0;
	for (int32_t i = 0; i < n && len < sizeof(list) - 64; i++)
		if (!ps[i].done)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%" PRId32 " (at %" PRId64 " of %" PRId64 ")",
						len ? ", " : "", i, ps[i].next, ps[i].end);
	fail("topic %s: nothing read for %d s; partitions not read to their end: %s", o->from,
	     STALL_MS / 1000, list);
}

static int run_shuffle(const struct opts *o)
{
	static const struct kv consumer_defaults[] = {
		{"group.id", "kafka-shuffle"},
		{"auto.offset.reset", "earliest"},
		{NULL, NULL},
	};
	static const struct kv consumer_forced[] = {
		{"enable.auto.commit", "false"},
		{"enable.auto.offset.store", "false"},
		{"enable.partition.eof", "true"},
		{NULL, NULL},
	};
	struct producer p;
	struct shuffle s;
	rd_kafka_t *c = NULL;
	rd_kafka_topic_partition_list_t *tl = NULL;
	struct part_state *ps = NULL;
	int32_t nfrom = 0, left = 0, nto;
	int64_t last = now_ms();
	int rc = EXIT_RUNTIME;
	rd_kafka_resp_err_t e;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.p = &p;
	s.rng = o->seed;
	if (producer_open(&p, o, NULL, &nto))
		goto out;
	if (!(c = client_new(o, RD_KAFKA_CONSUMER, consumer_defaults, consumer_forced, NULL)))
		goto out;
	if ((nfrom = topic_partitions(c, o, o->from)) < 0)
		goto out;
	if (o->partitions > nto) {
		fail("--partitions %" PRId32 ": topic %s has %" PRId32 " partitions", o->partitions,
		     o->to, nto);
		goto out;
	}
	s.parts = o->partitions ? o->partitions : nto;
	if (!(ps = calloc((size_t)nfrom, sizeof(*ps))) ||
	    !(s.win = calloc((size_t)o->window, sizeof(*s.win)))) {
		fail("out of memory for a window of %" PRIu64 " records", o->window);
		goto out;
	}
	tl = rd_kafka_topic_partition_list_new(nfrom);
	for (int32_t i = 0; i < nfrom; i++) {
		int64_t lo, hi;

		e = rd_kafka_query_watermark_offsets(c, o->from, i, &lo, &hi, METADATA_MS);
		if (e) {
			fail("topic %s partition %" PRId32 ": cannot read its offsets: %s", o->from,
			     i, rd_kafka_err2str(e));
			goto out;
		}
		ps[i].end = hi;
		ps[i].next = lo;
		if (lo >= hi) {
			ps[i].done = 1;
			continue;
		}
		rd_kafka_topic_partition_list_add(tl, o->from, i)->offset =
			RD_KAFKA_OFFSET_BEGINNING;
		left++;
	}
	if ((e = rd_kafka_assign(c, tl))) {
		fail("topic %s: cannot assign its partitions: %s", o->from, rd_kafka_err2str(e));
		goto out;
	}
	while (left > 0) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c, POLL_MS);
		struct part_state *q;

		if (producer_poll(&p, 0))
			goto out;
		if (!m) {
			if (now_ms() - last > STALL_MS) {
				report_stall(o, ps, nfrom);
				goto out;
			}
			continue;
		}
		if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			/* librdkafka retries transport and leader errors itself. */
			fail("topic %s partition %" PRId32 ": %s%s", o->from, m->partition,
			     rd_kafka_message_errstr(m),
			     rd_kafka_fatal_error(c, NULL, 0) ? "" : " (retrying)");
			if (rd_kafka_fatal_error(c, NULL, 0) ||
			    m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
			    m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
			    m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
				rd_kafka_message_destroy(m);
				goto out;
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->partition < 0 || m->partition >= nfrom || ps[m->partition].done) {
			rd_kafka_message_destroy(m);
			continue;
		}
		q = &ps[m->partition];
		last = now_ms();
		if (m->err) {
			/* The end, before `end` only if records past the last
			 * stable offset stay in an open transaction. */
			if (m->offset < q->end)
				fail("topic %s partition %" PRId32 ": ends at offset %" PRId64
				     " before %" PRId64 " (an open transaction?); going on",
				     o->from, m->partition, m->offset, q->end);
			q->done = 1;
		} else if (m->offset < q->end) {
			q->next = m->offset + 1;
			q->done = q->next >= q->end;
			if (shuffle_push(&s, m)) {
				rd_kafka_message_destroy(m);
				goto out;
			}
		} else {
			q->done = 1;
		}
		left -= q->done;
		rd_kafka_message_destroy(m);
	}
	while (s.nwin)
		if (shuffle_emit(&s))
			goto out;
	if (producer_finish(&p))
		goto out;
	printf("shuffled %" PRIu64 " records (%" PRIu64 " duplicates) from %s to %s over %" PRId32
	       " partitions\n",
	       s.read, s.dups, o->from, o->to, s.parts);
	rc = EXIT_SUCCESS;
out:
	if (tl)
		rd_kafka_topic_partition_list_destroy(tl);
	if (c) {
		rd_kafka_consumer_close(c);
		rd_kafka_destroy(c);
	}
	for (size_t i = 0; i < s.nwin; i++)
		rec_free(&s.win[i]);
	free(s.win);
	free(ps);
	producer_close(&p);
	return rc;
}

/* ---- generate ---- */

/* A key's current row, from which its text is rebuilt (gen_data). */
struct key_state {
	uint64_t seq; /* of its last record */
	uint32_t ver; /* changes so far */
	uint32_t ts;  /* seconds after the run's base time */
	uint32_t qty;
	uint32_t cents;    /* price */
	uint32_t name_len; /* padding sized the value at its last +I/+U */
	uint8_t live;
	uint8_t note;
};

struct gen {
	const struct opts *o;
	struct producer *p;
	uint64_t rng;
	struct key_state *keys;
	char db_json[DB_NAME_MAX * 6 + 3]; /* the name as a JSON string */
	char *val;                         /* the value being built */
	size_t val_cap;
	int64_t base_ms;
	uint64_t ordinal; /* the transaction's */
	uint32_t index;   /* the next record's within it */
	uint32_t txn_len; /* records the transaction gets */
	uint64_t pos;
};

/* `s` as a JSON string into out (6*strlen(s)+3 bytes); its length. */
static size_t json_str(char *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	out[n++] = '"';
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			out[n++] = '\\';
			out[n++] = (char)ch;
		} else if (ch < 0x20) {
			memcpy(out + n, "\\u00", 4);
			out[n + 4] = hex[ch >> 4];
			out[n + 5] = hex[ch & 15];
			n += 6;
		} else {
			out[n++] = (char)ch;
		}
	}
	out[n++] = '"';
	out[n] = 0;
	return n;
}

/*
 * The row of (table, id) as `"data"`'s object, into out (cap bytes, room
 * for name_len + 256). Deterministic in the state, so -U, -D and --expect
 * repeat what +I/+U wrote.
 */
static size_t gen_data(char *out, size_t cap, const struct gen *g, uint64_t id,
		       const struct key_state *k)
{
	time_t t = (time_t)(g->base_ms / 1000 + k->ts);
	struct tm tm;
	char ts[32];
	int n;
	size_t len, name_at;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(out, cap, "{\"id\":%" PRIu64 ",\"name\":\"", id);
	name_at = (size_t)n;
	n = snprintf(out + name_at, cap - name_at, "n%" PRIu64 "v%" PRIu32, id, k->ver);
	len = name_at + (size_t)n;
	for (uint32_t i = (uint32_t)n; i < k->name_len; i++)
		out[len++] = (char)('a' + (i + k->ver) % 26);
	n = snprintf(out + len, cap - len,
		     "\",\"qty\":%" PRIu32 ",\"price\":\"%" PRIu32 ".%02" PRIu32 "\",\"note\":",
		     k->qty, k->cents / 100, k->cents % 100);
	len += (size_t)n;
	if (k->note)
		n = snprintf(out + len, cap - len, "\"note %" PRIu32 "\"", k->ver);
	else
		n = snprintf(out + len, cap - len, "null");
	len += (size_t)n;
	n = snprintf(out + len, cap - len, ",\"ts\":\"%s\"}", ts);
	return len + (size_t)n;
}

/* The value of a record of `op` on (table, id) into g->val; its length. */
static size_t gen_value(struct gen *g, const char *op, uint64_t table, uint64_t id,
			const struct key_state *k, uint64_t seq)
{
	size_t len;

	memcpy(g->val, "{\"data\":", 8);
	len = 8 + gen_data(g->val + 8, g->val_cap - 8, g, id, k);
	len += (size_t)snprintf(g->val + len, g->val_cap - len,
				",\"op\":\"%s\",\"db\":%s,\"table\":\"t%" PRIu64
				"\",\"pk\":[\"id\"],\"gtid\":\"0-1-%" PRIu64 "\",\"seq\":%" PRIu64
				",\"ts_ms\":%" PRId64
				",\"file\":\"mariadb-bin.000001\",\"pos\":%" PRIu64 "}",
				op, g->db_json, table, g->ordinal, seq,
				g->base_ms + (int64_t)g->ordinal - 1, g->pos);
	return len;
}

/* A new version of the row: fresh values, the name padded so that the
 * value of this `op` record is about --value-bytes long. */
static void gen_new_row(struct gen *g, struct key_state *k, const char *op, uint64_t table,
			uint64_t id, uint64_t seq)
{
	size_t len;

	k->ver++;
	k->ts = (uint32_t)((g->ordinal - 1) / 1000);
	k->qty = (uint32_t)rng_below(&g->rng, 1000);
	k->cents = (uint32_t)rng_below(&g->rng, 100000);
	k->note = rng_below(&g->rng, 4) == 0;
	k->name_len = 0; /* the name is its prefix only: n<ID>v<VER> */
	len = gen_value(g, op, table, id, k, seq);
	if (len < g->o->value_bytes)
		k->name_len = (uint32_t)(snprintf(NULL, 0, "n%" PRIu64 "v%" PRIu32, id, k->ver) +
					 (int)(g->o->value_bytes - len));
}

static int gen_send(struct gen *g, const char *op, uint64_t table, uint64_t id, struct key_state *k,
		    int random_part)
{
	uint64_t seq = g->ordinal << 24 | g->index;
	char key[DB_NAME_MAX * 6 + 64], txt[24], gtid[32], tname[24];
	size_t vlen;
	int klen;
	rd_kafka_headers_t *h;
	int32_t part = RD_KAFKA_PARTITION_UA;

	if (op[0] == '+')
		gen_new_row(g, k, op, table, id, seq);
	vlen = gen_value(g, op, table, id, k, seq);
	klen = snprintf(key, sizeof(key), "[%s,\"t%" PRIu64 "\",%" PRIu64 "]", g->db_json, table,
			id);
	snprintf(txt, sizeof(txt), "%" PRIu64, seq);
	snprintf(gtid, sizeof(gtid), "0-1-%" PRIu64, g->ordinal);
	snprintf(tname, sizeof(tname), "t%" PRIu64, table);
	/* The headers sinks/sink_kafka.c writes, in its order. */
	h = rd_kafka_headers_new(8);
	rd_kafka_header_add(h, "sequence", -1, txt, -1);
	rd_kafka_header_add(h, "gtid", -1, gtid, -1);
	rd_kafka_header_add(h, "db", -1, g->o->db, -1);
	rd_kafka_header_add(h, "table", -1, tname, -1);
	rd_kafka_header_add(h, "op", -1, op, -1);
	rd_kafka_header_add(h, "source", -1, "gen", -1);
	rd_kafka_header_add(h, "type", -1, "data", -1);
	if (random_part)
		part = (int32_t)rng_below(&g->rng, (uint64_t)random_part);
	if (producer_send(g->p, part, key, (size_t)klen, g->val, vlen,
			  g->base_ms + (int64_t)g->ordinal - 1, h)) {
		rd_kafka_headers_destroy(h);
		return -1;
	}
	k->seq = seq;
	g->index++;
	g->pos += vlen;
	return 0;
}

struct live_key {
	char sfx[24]; /* the key's text after the common `["DB","t`: what orders it */
	uint32_t at;
};

static int live_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct live_key *)a)->sfx, ((const struct live_key *)b)->sfx);
}

/* --expect: one line per live key, ordered by the key's text, into f,
 * which this closes. */
static int gen_expect(struct gen *g, FILE *f)
{
	const struct opts *o = g->o;
	size_t n = 0, total = (size_t)(o->tables * o->keys);
	struct live_key *lk;
	char key[DB_NAME_MAX * 6 + 64], esc[(DB_NAME_MAX * 6 + 64) * 6 + 3];
	int rc = -1;

	for (size_t i = 0; i < total; i++)
		n += g->keys[i].live;
	if (!(lk = malloc((n ? n : 1) * sizeof(*lk)))) {
		fail("out of memory for %zu keys", n);
		goto out;
	}
	n = 0;
	for (size_t i = 0; i < total; i++)
		if (g->keys[i].live) {
			snprintf(lk[n].sfx, sizeof(lk[n].sfx), "%u\",%u]", (unsigned)(i / o->keys),
				 (unsigned)(i % o->keys + 1));
			lk[n++].at = (uint32_t)i;
		}
	qsort(lk, n, sizeof(*lk), live_key_cmp);
	for (size_t j = 0; j < n; j++) {
		const struct key_state *k = &g->keys[lk[j].at];
		uint64_t table = lk[j].at / o->keys, id = lk[j].at % o->keys + 1;

		snprintf(key, sizeof(key), "[%s,\"t%" PRIu64 "\",%" PRIu64 "]", g->db_json, table,
			 id);
		json_str(esc, key);
		gen_data(g->val, g->val_cap, g, id, k);
		fprintf(f, "{\"key\":%s,\"seq\":%" PRIu64 ",\"data\":%s}\n", esc, k->seq, g->val);
	}
	if (fflush(f) || ferror(f)) {
		fail("--expect %s: %s", o->expect, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fclose(f) && rc == 0) {
		fail("--expect %s: %s", o->expect, strerror(errno));
		rc = -1;
	}
	free(lk);
	return rc;
}

static int run_generate(const struct opts *o)
{
	struct producer p;
	struct gen g;
	struct timespec wall;
	FILE *expect = NULL;
	int32_t nto, random_part = 0;
	int rc = EXIT_RUNTIME;

	memset(&p, 0, sizeof(p));
	memset(&g, 0, sizeof(g));
	g.o = o;
	g.p = &p;
	g.rng = o->seed;
	json_str(g.db_json, o->db);
	clock_gettime(CLOCK_REALTIME, &wall);
	g.base_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
	g.ordinal = 1;
	g.txn_len = 5;
	g.pos = 4;
	/* murmur2_random: the partition of a key as sluice's sink picks it. */
	/* Opened first: a bad path fails before a topic is written. */
	if (o->expect && !(expect = fopen(o->expect, "w"))) {
		fail("--expect %s: %s", o->expect, strerror(errno));
		goto out;
	}
	if (producer_open(&p, o, "murmur2_random", &nto))
		goto out;
	if (o->random_partitions)
		random_part = nto;
	g.val_cap = o->value_bytes + 2048; /* + the rest of a value, DB name escaped */
	if (!(g.keys = calloc((size_t)(o->tables * o->keys), sizeof(*g.keys))) ||
	    !(g.val = malloc(g.val_cap))) {
		fail("out of memory for %" PRIu64 " keys", o->tables * o->keys);
		goto out;
	}
	for (uint64_t left = o->generate; left > 0;) {
		uint64_t table = rng_below(&g.rng, o->tables);
		uint64_t id = rng_below(&g.rng, o->keys) + 1;
		struct key_state *k = &g.keys[table * o->keys + id - 1];

		/* A change starts a transaction when the current one is long
		 * enough, so an update's two records share one. */
		if (g.index >= g.txn_len) {
			g.ordinal++;
			g.index = 0;
			g.txn_len = 3 + (uint32_t)rng_below(&g.rng, 5);
		}
		if (!k->live) {
			if (gen_send(&g, "+I", table, id, k, random_part))
				goto out;
			k->live = 1;
			left--;
		} else if (left == 1 || rng_unit(&g.rng) < o->delete_rate) {
			if (gen_send(&g, "-D", table, id, k, random_part))
				goto out;
			k->live = 0;
			left--;
		} else {
			if (gen_send(&g, "-U", table, id, k, random_part) ||
			    gen_send(&g, "+U", table, id, k, random_part))
				goto out;
			left -= 2;
		}
	}
	if (producer_finish(&p))
		goto out;
	if (expect) {
		int bad = gen_expect(&g, expect);

		expect = NULL; /* gen_expect() closed it */
		if (bad)
			goto out;
	}
	printf("generated %" PRIu64 " records to %s\n", o->generate, o->to);
	rc = EXIT_SUCCESS;
out:
	if (expect)
		fclose(expect);
	free(g.keys);
	free(g.val);
	producer_close(&p);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc = parse_args(argc, argv, &o);

	if (rc)
		return rc > 0 ? EXIT_SUCCESS : EXIT_USAGE;
	rc = o.from ? run_shuffle(&o) : run_generate(&o);
	if (fflush(stdout) && rc == EXIT_SUCCESS) {
		fail("stdout: %s", strerror(errno));
		rc = EXIT_RUNTIME;
	}
	return rc;
}
