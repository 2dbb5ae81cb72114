/*
 * cdc_tail.c: `sluice tail -b BROKERS [OPTIONS] TOPIC[:PARTITION]...`, a
 * Kafka consumer that prints each record as one JSON line (cdc_tail.h).
 *
 * Two ways to consume, because they differ in what they ask of a cluster:
 *
 *   - without --group, the partitions are read by librdkafka's simple
 *     consumer (rd_kafka_consume_start_queue), all of them onto one queue.
 *     The high-level consumer cannot do this: it refuses to poll without a
 *     group.id, and with one it looks up a group coordinator even when
 *     only assigning, which a locked-down cluster may not allow a debugging
 *     tool. Nothing is committed.
 *   - with --group, the high-level consumer subscribes; librdkafka commits
 *     the offsets of what was handed out, and --from-* only apply where the
 *     group has no committed offset (auto.offset.reset).
 *
 * Either way, one thread: this one polls, formats into one line buffer and
 * writes to a fully buffered stdout, flushed whenever the consumer has
 * nothing more at hand, so a burst is written in large blocks and a
 * trickle still shows at once. Memory is librdkafka's fetch queues
 * (bounded per partition without --group, see tail_client) plus the line
 * buffer, which is given back after a large record.
 *
 * --idle-exit needs to know when everything has been read: every
 * partition being read keeps a flag set by librdkafka's end-of-partition
 * event (enable.partition.eof) and cleared by the next record from it.
 */
#include "cdc_tail.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "binlog_err.h"
#include "binlog_jsonw.h"
#include "cdc_log.h"
#include "cdc_record.h"

/* How long a poll waits when there is nothing to flush: also how soon a
 * signal or the end of --idle-exit is noticed. */
#define POLL_MS 100
/* With --ordered --group, how often offsets are stored while records keep
 * coming (librdkafka commits what is stored every auto.commit.interval.ms,
 * 5 s by default). */
#define STORE_MS 1000
/* --ordered's bounds: defaults and ranges. */
#define REORDER_WINDOW     10000
#define REORDER_WINDOW_MAX 10000000
#define REORDER_MS         1000
#define REORDER_MS_MAX     86400000
#define REORDER_KEYS       1000000
#define REORDER_KEYS_MAX   100000000
#define REORDER_BYTES      ((uint64_t)256 << 20)
#define REORDER_BYTES_MIN  ((uint64_t)1 << 10)
#define REORDER_BYTES_MAX  ((uint64_t)1 << 40)
/* Startup metadata: one attempt per METADATA_TRY_MS, for METADATA_WAIT_MS
 * at most. A cluster that cannot say how many partitions a topic has in
 * that time cannot be read either. */
#define METADATA_TRY_MS  1000
#define METADATA_WAIT_MS 10000
/* A line buffer grown past this by one large record is freed after it,
 * so one 100 MB value does not pin 100 MB for the rest of the run. */
#define LINE_KEEP_MAX (1u << 20)
#define STDOUT_BUF    (1u << 16)
/* Headers of a record deduplicated without an allocation up to this many. */
#define HDR_STACK 16
/* Kafka's own limit on a topic name. */
#define TOPIC_NAME_MAX 249

int cdc_tail_json_container(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i < n && (s[i] == '{' || s[i] == '[') && cdc_json_valid(s, n);
}

/* ------------------------------------------------------------------ */
/* Formatting a record                                                */
/* ------------------------------------------------------------------ */

static void put_text(binlog_buf_t *out, const void *p, size_t n)
{
	/* "" for an empty non-NULL key: NULL + 0 is not valid C. */
	binlog_jw_utf8(out, p ? (const uint8_t *)p : (const uint8_t *)"", p ? n : 0);
}

/* A value the validator accepted, embedded as is. A line break in it can
 * only be whitespace between tokens (JSON strings cannot hold one raw), so
 * turning it into a space keeps the record on one line without changing
 * the value. */
static void put_raw_json(binlog_buf_t *out, const uint8_t *s, size_t n)
{
	size_t at = out->len;
	uint8_t *p, *end;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
		s++;
		n--;
	}
	binlog_buf_put(out, s, n);
	if (out->failed)
		return;
	p = out->data + at;
	end = out->data + out->len;
	while (p < end) {
		uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		uint8_t *cr = memchr(p, '\r', (size_t)(end - p));

		if (!nl && !cr)
			break;
		if (!nl || (cr && cr < nl))
			nl = cr;
		*nl = ' ';
		p = nl + 1;
	}
}

typedef struct hdr_ref {
	const char *name;
	size_t idx;
} hdr_ref_t;

static int hdr_ref_cmp(const void *a, const void *b)
{
	const hdr_ref_t *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * The headers as an object, in the order they were sent; of those sharing
 * a name, the last one, at its place (a JSON object with a repeated name
 * is one most readers silently resolve, each its own way). Finding the
 * repeats by sorting keeps a record with thousands of headers from costing
 * a quadratic number of comparisons.
 */
static void put_headers(binlog_buf_t *out, const rd_kafka_message_t *m)
{
	hdr_ref_t refs_stack[HDR_STACK], *refs = refs_stack;
	uint8_t keep_stack[HDR_STACK], *keep = keep_stack;
	rd_kafka_headers_t *hdrs = NULL;
	const char *name;
	const void *val;
	size_t n = 0, size;
	int first = 1;

	binlog_buf_putc(out, '{');
	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs)
		goto out;
	n = rd_kafka_header_cnt(hdrs);
	if (n == 0)
		goto out;
	if (n > HDR_STACK) {
		refs = malloc(n * (sizeof(*refs) + 1));
		if (!refs) {
			out->failed = 1;
			goto out;
		}
		keep = (uint8_t *)(refs + n);
	}
	for (size_t i = 0; i < n; i++) {
		if (rd_kafka_header_get_all(hdrs, i, &refs[i].name, &val, &size) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR)
			refs[i].name = "";
		refs[i].idx = i;
		keep[i] = 0;
	}
	qsort(refs, n, sizeof(*refs), hdr_ref_cmp);
	for (size_t i = 0; i < n; i++)
		if (i + 1 == n || strcmp(refs[i].name, refs[i + 1].name) != 0)
			keep[refs[i].idx] = 1;
	for (size_t i = 0; i < n; i++) {
		if (!keep[i] || rd_kafka_header_get_all(hdrs, i, &name, &val, &size) !=
					RD_KAFKA_RESP_ERR_NO_ERROR)
			continue;
		if (!first)
			binlog_buf_putc(out, ',');
		first = 0;
		put_text(out, name, strlen(name));
		binlog_buf_putc(out, ':');
		if (val)
			put_text(out, val, size);
		else
			binlog_buf_lit(out, "null");
	}
out:
	if (refs != refs_stack)
		free(refs);
	binlog_buf_putc(out, '}');
}

void cdc_tail_format(binlog_buf_t *out, const rd_kafka_message_t *m)
{
	rd_kafka_timestamp_type_t tstype;
	int64_t ts = rd_kafka_message_timestamp(m, &tstype);
	const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";

	binlog_buf_lit(out, "{\"topic\":");
	put_text(out, topic, strlen(topic));
	binlog_buf_lit(out, ",\"partition\":");
	binlog_jw_i64(out, m->partition);
	binlog_buf_lit(out, ",\"offset\":");
	binlog_jw_i64(out, m->offset);
	binlog_buf_lit(out, ",\"timestamp\":");
	if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts == -1)
		binlog_buf_lit(out, "null");
	else
		binlog_jw_i64(out, ts);
	binlog_buf_lit(out, ",\"key\":");
	if (m->key)
		put_text(out, m->key, m->key_len);
	else
		binlog_buf_lit(out, "null");
	binlog_buf_lit(out, ",\"headers\":");
	put_headers(out, m);
	binlog_buf_lit(out, ",\"value\":");
	if (!m->payload)
		binlog_buf_lit(out, "null");
	else if (cdc_tail_json_container(m->payload, m->len))
		put_raw_json(out, m->payload, m->len);
	else
		put_text(out, m->payload, m->len);
	binlog_buf_lit(out, "}\n");
}

/* ------------------------------------------------------------------ */
/* The consumer                                                       */
/* ------------------------------------------------------------------ */

/* Per partition being read. */
enum { P_ASSIGNED = 1, P_EOF = 2, P_ENDED = 4 /* reached its end once */ };

typedef struct tail_topic {
	char *name;
	rd_kafka_topic_t *rkt;
	int all;        /* given without :PARTITION: read every partition */
	int32_t npart;  /* entries of part: the partition count, grown when a
			 * group hands out a partition added since */
	uint8_t *part;  /* P_ASSIGNED | P_EOF per partition */
	uint32_t *lane; /* per partition: 1 + its lane (--ordered), 0 none yet */
} tail_topic_t;

/* With --ordered, a partition records have come from: what its lane of
 * the reorder buffer maps to, and the offset last stored for it. */
typedef struct tail_lane {
	int topic;
	int32_t partition;
	int64_t stored; /* -1: none since it was (re)assigned */
} tail_lane_t;

/* A TOPIC:PARTITION argument. */
typedef struct tail_spec {
	int topic;
	int32_t partition;
} tail_spec_t;

typedef struct tail {
	/* Options. */
	const char *bootstrap;
	const char *group;
	int from_end;
	int read_committed;
	int64_t idle_ms; /* -1: no --idle-exit */
	int until_end;   /* --until-end */
	uint64_t max;    /* 0: no --max */
	const char **xconf;
	int nxconf;
	tail_topic_t *topics;
	int ntopics;
	tail_spec_t *specs;
	int nspecs;
	int ordered;    /* --ordered */
	int late_print; /* --late print */
	cdc_tail_order_conf_t oconf;

	/* State; only the main thread touches it (librdkafka calls the
	 * rebalance and error callbacks from inside our polls). */
	rd_kafka_t *rk;
	rd_kafka_queue_t *queue; /* without --group: where records arrive */
	int64_t assigned;        /* partitions with P_ASSIGNED */
	int64_t at_eof;          /* of those, with P_EOF */
	int64_t ended;           /* of those, with P_ENDED */
	int have_assignment;     /* a group has given us one (or assign mode) */
	int64_t last_ms;         /* when the last record or end arrived */
	uint64_t printed;        /* lines written, what --max counts */
	cdc_tail_order_t *order; /* with --ordered */
	tail_lane_t *lanes;
	uint32_t nlanes, lanes_cap;
	uint64_t in_order, late, dups; /* --ordered's summary */
	int64_t stored_ms;             /* when offsets were last stored */
	int started;                   /* consuming began: a summary is due */
	int loop_over;                 /* what is still held stays held */
	int dirty;                     /* stdout holds unflushed lines */
	int out_closed;                /* the reader of stdout went away */
	binlog_buf_t line;
	binlog_errcode_t fatal; /* set by a callback; the loop stops on it */
	binlog_err_t fatal_err;
} tail_t;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static tail_topic_t *topic_find(tail_t *t, const char *name, size_t len)
{
	for (int i = 0; i < t->ntopics; i++)
		if (strlen(t->topics[i].name) == len && memcmp(t->topics[i].name, name, len) == 0)
			return &t->topics[i];
	return NULL;
}

/* The state byte of topic [p], or NULL for a topic or partition we are
 * not reading. `grow` extends a topic's table to p (a group may hand out
 * a partition added after our metadata query); on an allocation failure
 * it returns NULL too and sets t->fatal. */
static uint8_t *part_state(tail_t *t, const char *topic, int32_t p, int grow)
{
	tail_topic_t *tp = topic ? topic_find(t, topic, strlen(topic)) : NULL;
	uint8_t *np;
	uint32_t *nl;

	if (!tp || p < 0 || p == INT32_MAX)
		return NULL;
	if (p >= tp->npart) {
		if (!grow)
			return NULL;
		np = realloc(tp->part, (size_t)p + 1);
		if (np)
			tp->part = np;
		nl = np ? realloc(tp->lane, ((size_t)p + 1) * sizeof(*nl)) : NULL;
		if (!nl) {
			t->fatal =
				binlog_err_set(&t->fatal_err, BINLOG_E_NOMEM,
					       "out of memory tracking %s [%" PRId32 "]", topic, p);
			return NULL;
		}
		tp->lane = nl;
		memset(np + tp->npart, 0, (size_t)(p + 1 - tp->npart));
		memset(nl + tp->npart, 0, (size_t)(p + 1 - tp->npart) * sizeof(*nl));
		tp->npart = p + 1;
	}
	return &tp->part[p];
}

/* The lane of topic [p] in the reorder buffer, given one the first time a
 * record comes from it; CDC_TAIL_NO_LANE for a partition we do not track
 * (no commit depends on it) or when out of memory (t->fatal set). */
static uint32_t lane_of(tail_t *t, const char *topic, int32_t p)
{
	tail_topic_t *tp = topic ? topic_find(t, topic, strlen(topic)) : NULL;
	tail_lane_t *nl;

	if (!tp || p < 0 || p >= tp->npart)
		return CDC_TAIL_NO_LANE;
	if (tp->lane[p])
		return tp->lane[p] - 1;
	if (t->nlanes >= CDC_TAIL_LANE_MAX)
		return CDC_TAIL_NO_LANE;
	if (t->nlanes == t->lanes_cap) {
		uint32_t cap = t->lanes_cap ? 2 * t->lanes_cap : 16;

		nl = realloc(t->lanes, cap * sizeof(*nl));
		if (!nl) {
			t->fatal =
				binlog_err_set(&t->fatal_err, BINLOG_E_NOMEM,
					       "out of memory tracking %s [%" PRId32 "]", topic, p);
			return CDC_TAIL_NO_LANE;
		}
		t->lanes = nl;
		t->lanes_cap = cap;
	}
	t->lanes[t->nlanes] = (tail_lane_t){(int)(tp - t->topics), p, -1};
	tp->lane[p] = ++t->nlanes;
	return tp->lane[p] - 1;
}

/* A partition revoked or assigned anew starts over: what was stored
 * belongs to the assignment before, and where reading resumes is the
 * group's committed offset. */
static void lane_reset(tail_t *t, const char *topic, int32_t p)
{
	tail_topic_t *tp = topic ? topic_find(t, topic, strlen(topic)) : NULL;

	if (!t->order || !tp || p < 0 || p >= tp->npart || !tp->lane[p])
		return;
	cdc_tail_order_lane_reset(t->order, tp->lane[p] - 1);
	t->lanes[tp->lane[p] - 1].stored = -1;
}

static void lane_reset_all(tail_t *t)
{
	for (uint32_t i = 0; t->order && i < t->nlanes; i++) {
		cdc_tail_order_lane_reset(t->order, i);
		t->lanes[i].stored = -1;
	}
}

static void part_assign(tail_t *t, uint8_t *st)
{
	if (!st || (*st & P_ASSIGNED))
		return;
	*st = P_ASSIGNED;
	t->assigned++;
}

static void part_unassign(tail_t *t, uint8_t *st)
{
	if (!st || !(*st & P_ASSIGNED))
		return;
	if (*st & P_EOF)
		t->at_eof--;
	if (*st & P_ENDED)
		t->ended--;
	*st = 0;
	t->assigned--;
}

static void unassign_all(tail_t *t)
{
	for (int i = 0; i < t->ntopics; i++)
		for (int32_t p = 0; p < t->topics[i].npart; p++)
			part_unassign(t, &t->topics[i].part[p]);
}

/* librdkafka's log, into ours (any librdkafka thread; cdc_log writes each
 * line whole). Syslog levels: 3 error, 4 warning, 5-6 notice and info.
 * FAIL lines say again what on_error reports, so they are debug here. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (strcmp(fac, "FAIL") == 0)
		level = LOG_DEBUG;
	cdc_log(level <= LOG_ERR       ? CDC_LOG_ERROR
		: level == LOG_WARNING ? CDC_LOG_WARN
		: level <= LOG_INFO    ? CDC_LOG_INFO
				       : CDC_LOG_DEBUG,
		"kafka %s: %s", fac, buf);
}

/* Client-level errors (brokers down, authentication): reported, and
 * librdkafka keeps retrying; only a fatal one stops us. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	tail_t *t = opaque;
	int level = CDC_LOG_ERROR;
	char msg[512];

	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, msg, sizeof(msg));

		t->fatal = binlog_err_set(&t->fatal_err, BINLOG_E_SERVER,
					  "fatal consumer error: %s: %s", rd_kafka_err2name(orig),
					  msg);
		return;
	}
	/* A broker that cannot be reached is retried: a warning until it
	 * comes back. */
	if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
	    err == RD_KAFKA_RESP_ERR__RESOLVE)
		level = CDC_LOG_WARN;
	cdc_log(level, "kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void order_drain(tail_t *t);

/* A group's rebalance (with --group; called from rd_kafka_consumer_poll).
 * Also keeps the P_ASSIGNED flags that --idle-exit counts, and with
 * --ordered prints what is held before partitions go (order_drain). */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	tail_t *t = opaque;
	int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_error_t *e = NULL;
	rd_kafka_resp_err_t r = RD_KAFKA_RESP_ERR_NO_ERROR;
	int on = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;

	if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS &&
	    err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
		cdc_log_error("group %s: rebalance failed: %s", t->group, rd_kafka_err2str(err));
		order_drain(t);
		unassign_all(t);
		lane_reset_all(t);
		t->have_assignment = 0;
		r = rd_kafka_assign(rk, NULL);
		goto out;
	}
	if (!on)
		order_drain(t);
	for (int i = 0; i < parts->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &parts->elems[i];
		uint8_t *st = part_state(t, tp->topic, tp->partition, on);

		if (on)
			part_assign(t, st);
		else
			part_unassign(t, st);
		lane_reset(t, tp->topic, tp->partition);
	}
	cdc_log_info("group %s: %s %d partition%s (%" PRId64 " now)", t->group,
		     on ? "assigned" : "revoked", parts->cnt, parts->cnt == 1 ? "" : "s",
		     t->assigned);
	if (coop) {
		e = on ? rd_kafka_incremental_assign(rk, parts)
		       : rd_kafka_incremental_unassign(rk, parts);
	} else {
		r = rd_kafka_assign(rk, on ? parts : NULL);
		/* Eager: a revocation takes everything, and --idle-exit waits for
		 * the assignment that follows instead of ending on none. */
		if (!on) {
			unassign_all(t);
			lane_reset_all(t);
		}
	}
	t->have_assignment = on || (coop && t->have_assignment);
out:
	if (e) {
		cdc_log_error("group %s: %s", t->group, rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
	} else if (r) {
		cdc_log_error("group %s: %s", t->group, rd_kafka_err2str(r));
	}
}

static void usage(FILE *out)
{
	fputs("usage: sluice tail -b BROKERS [OPTIONS] TOPIC[:PARTITION]...\n"
	      "\n"
	      "Print the records of Kafka topics on standard output, one JSON object per line:\n"
	      "  {\"topic\":\"t\",\"partition\":3,\"offset\":17,\"timestamp\":1718454896123,\n"
	      "   \"key\":\"k1\",\"headers\":{\"op\":\"+I\"},\"value\":{...}}\n"
	      "A value that is a JSON object or array is embedded as is; any other value, the\n"
	      "key and header values are JSON strings (ill-formed UTF-8 becomes U+FFFD); null\n"
	      "for no key, a NULL header value, a tombstone, or no timestamp. Runs until\n"
	      "SIGINT or SIGTERM unless --idle-exit or --max ends it.\n"
	      "\n"
	      "  -b, --bootstrap-servers LIST  brokers to start from, host:port[,...] (required)\n"
	      "      --from-beginning          start at the oldest record (the default)\n"
	      "      --from-end                start after the newest record\n"
	      "      --read-committed          only records of committed transactions (the\n"
	      "                                default reads uncommitted ones too)\n"
	      "      --group ID                consume as a member of group ID and commit\n"
	      "                                offsets; --from-* apply only where the group has\n"
	      "                                no committed offset\n"
	      "      --idle-exit MS            exit 0 once every partition read has been read to\n"
	      "                                its end and nothing arrived for MS milliseconds\n"
	      "      --until-end               exit 0 once every partition read has been read to\n"
	      "                                the end it had when reached (a topic that keeps\n"
	      "                                receiving heartbeats is never idle)\n"
	      "      --max N                   exit 0 after N records printed\n"
	      "      --format json             output format; json is the only one\n"
	      "      --ordered                 print in `sequence` header order through a\n"
	      "                                reorder buffer (below)\n"
	      "      --reorder-window N        hold at most N records (1 to 10000000; 10000)\n"
	      "      --reorder-ms MS           release the smallest once held MS ms (1 to\n"
	      "                                86400000; 1000)\n"
	      "      --reorder-bytes N[K|M|G]  hold at most N bytes of records, and at most N\n"
	      "                                in the key map (1K to 1024G; 256M)\n"
	      "      --reorder-keys N          remember the last sequence of N keys (1 to\n"
	      "                                100000000; 1000000)\n"
	      "      --late drop|print         a record at or below its key's last sequence:\n"
	      "                                drop it (the default) or print it with\n"
	      "                                \"late\":true added\n"
	      "  -X NAME=VALUE                 set a librdkafka property (repeatable; applied\n"
	      "                                after the ones above, so it overrides them)\n"
	      "  -h, --help                    this text\n"
	      "\n"
	      "Without --group, TOPIC reads every partition of the topic and TOPIC:N only\n"
	      "partition N, with no consumer group and no commits; --group takes whole\n"
	      "topics. Exit status: 0 done, 1 error (unknown topic, fatal consumer error, a\n"
	      "record without a sequence with --ordered), 2 bad usage.\n"
	      "\n"
	      "--ordered holds records and releases the smallest sequence (ties: first in)\n"
	      "when more than the window or the bytes are held, or when it has been held MS\n"
	      "ms; everything held goes out at exit. Per key it remembers the last sequence\n"
	      "released: a record at or below it came too late for the window, or again, and\n"
	      "is counted late (below) or duplicate (equal). Beyond --reorder-keys keys, the\n"
	      "least recently released are forgotten, and a late record of a forgotten key\n"
	      "is printed as in order. Heartbeats (type=heartbeat) are ordered, never late;\n"
	      "any other record needs a sequence header. With --group, offsets are committed\n"
	      "only up to records printed. At exit, one line on standard error:\n"
	      "  tail: N records in order, L late dropped, D duplicates dropped\n",
	      out);
}

/* Kafka's rule for topic names: [A-Za-z0-9._-], 1 to 249 of them. Checked
 * here so a typo is a usage error and a '^' is never taken by librdkafka
 * for a regular expression. */
static int topic_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > TOPIC_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* Decimal digits only (strtoull alone takes "-1", " 5" and "0x10"). */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A byte count: decimal digits, then K, M or G (powers of 1024) or
 * nothing. */
static int parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t n = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (n && (s[n - 1] == 'K' || s[n - 1] == 'k'))
		shift = 10;
	else if (n && (s[n - 1] == 'M' || s[n - 1] == 'm'))
		shift = 20;
	else if (n && (s[n - 1] == 'G' || s[n - 1] == 'g'))
		shift = 30;
	if (shift)
		n--;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_u64(num, UINT64_MAX >> shift, &v) != 0)
		return -1;
	*out = v << shift;
	return 0;
}

/* One TOPIC or TOPIC:PARTITION argument. Topic names cannot hold ':'. */
static binlog_errcode_t add_topic_arg(tail_t *t, const char *arg, binlog_err_t *err)
{
	const char *colon = strchr(arg, ':');
	size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
	tail_topic_t *tp;
	uint64_t p = 0;

	if (!topic_name_valid(arg, len))
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "'%.*s' is not a topic name (1 to %d of A-Z a-z 0-9 . _ -)",
				      (int)(len > 300 ? 300 : len), arg, TOPIC_NAME_MAX);
	if (colon && parse_u64(colon + 1, INT32_MAX, &p) != 0)
		return binlog_err_set(err, BINLOG_E_USAGE, "'%s': the partition must be 0 to %d",
				      arg, INT32_MAX);
	tp = topic_find(t, arg, len);
	if (!tp) {
		tp = &t->topics[t->ntopics];
		tp->name = strndup(arg, len);
		if (!tp->name)
			return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		t->ntopics++;
	}
	if (colon) {
		t->specs[t->nspecs].topic = (int)(tp - t->topics);
		t->specs[t->nspecs].partition = (int32_t)p;
		t->nspecs++;
	} else {
		tp->all = 1;
	}
	return BINLOG_OK;
}

/* Returns -1 to go on, else the exit status (0 for --help). */
static int parse_args(tail_t *t, int argc, char **argv)
{
	enum {
		O_FROM_BEGINNING = 256,
		O_FROM_END,
		O_READ_COMMITTED,
		O_IDLE_EXIT,
		O_UNTIL_END,
		O_MAX,
		O_GROUP,
		O_FORMAT,
		O_ORDERED,
		O_REORDER_WINDOW,
		O_REORDER_MS,
		O_REORDER_BYTES,
		O_REORDER_KEYS,
		O_LATE
	};
	static const struct option opts[] = {
		{"bootstrap-servers", required_argument, NULL, 'b'},
		{"from-beginning", no_argument, NULL, O_FROM_BEGINNING},
		{"from-end", no_argument, NULL, O_FROM_END},
		{"read-committed", no_argument, NULL, O_READ_COMMITTED},
		{"idle-exit", required_argument, NULL, O_IDLE_EXIT},
		{"until-end", no_argument, NULL, O_UNTIL_END},
		{"max", required_argument, NULL, O_MAX},
		{"group", required_argument, NULL, O_GROUP},
		{"format", required_argument, NULL, O_FORMAT},
		{"ordered", no_argument, NULL, O_ORDERED},
		{"reorder-window", required_argument, NULL, O_REORDER_WINDOW},
		{"reorder-ms", required_argument, NULL, O_REORDER_MS},
		{"reorder-bytes", required_argument, NULL, O_REORDER_BYTES},
		{"reorder-keys", required_argument, NULL, O_REORDER_KEYS},
		{"late", required_argument, NULL, O_LATE},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	binlog_err_t err = {0};
	const char *reorder_opt = NULL; /* a --reorder-* or --late given */
	uint64_t v;
	int c;

	t->oconf.window = REORDER_WINDOW;
	t->oconf.hold_ms = REORDER_MS;
	t->oconf.max_keys = REORDER_KEYS;
	t->oconf.max_bytes = (size_t)REORDER_BYTES;
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:X:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			t->bootstrap = optarg;
			break;
		case O_FROM_BEGINNING:
			t->from_end = 0;
			break;
		case O_FROM_END:
			t->from_end = 1;
			break;
		case O_READ_COMMITTED:
			t->read_committed = 1;
			break;
		case O_IDLE_EXIT:
			if (parse_u64(optarg, INT32_MAX, &v) != 0) {
				fprintf(stderr,
					"sluice tail: --idle-exit: '%s' is not 0 to %d ms\n",
					optarg, INT32_MAX);
				return 2;
			}
			t->idle_ms = (int64_t)v;
			break;
		case O_UNTIL_END:
			t->until_end = 1;
			break;
		case O_MAX:
			if (parse_u64(optarg, UINT64_MAX, &v) != 0 || v == 0) {
				fprintf(stderr,
					"sluice tail: --max: '%s' is not a count of 1 or more\n",
					optarg);
				return 2;
			}
			t->max = v;
			break;
		case O_GROUP:
			if (!*optarg) {
				fprintf(stderr, "sluice tail: --group: the group id is empty\n");
				return 2;
			}
			t->group = optarg;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "json") != 0) {
				fprintf(stderr, "sluice tail: --format: '%s' is not one (json)\n",
					optarg);
				return 2;
			}
			break;
		case O_ORDERED:
			t->ordered = 1;
			break;
		case O_REORDER_WINDOW:
			reorder_opt = "--reorder-window";
			if (parse_u64(optarg, REORDER_WINDOW_MAX, &v) != 0 || v < 1) {
				fprintf(stderr,
					"sluice tail: --reorder-window: '%s' is not 1 to %d "
					"records\n",
					optarg, REORDER_WINDOW_MAX);
				return 2;
			}
			t->oconf.window = v;
			break;
		case O_REORDER_MS:
			reorder_opt = "--reorder-ms";
			if (parse_u64(optarg, REORDER_MS_MAX, &v) != 0 || v < 1) {
				fprintf(stderr,
					"sluice tail: --reorder-ms: '%s' is not 1 to %d ms\n",
					optarg, REORDER_MS_MAX);
				return 2;
			}
			t->oconf.hold_ms = (int64_t)v;
			break;
		case O_REORDER_BYTES:
			reorder_opt = "--reorder-bytes";
			if (parse_size(optarg, &v) != 0 || v < REORDER_BYTES_MIN ||
			    v > REORDER_BYTES_MAX || v > SIZE_MAX / 2) {
				fprintf(stderr,
					"sluice tail: --reorder-bytes: '%s' is not 1K to 1024G "
					"(N bytes, or N with K, M or G: powers of 1024)\n",
					optarg);
				return 2;
			}
			t->oconf.max_bytes = (size_t)v;
			break;
		case O_REORDER_KEYS:
			reorder_opt = "--reorder-keys";
			if (parse_u64(optarg, REORDER_KEYS_MAX, &v) != 0 || v < 1) {
				fprintf(stderr,
					"sluice tail: --reorder-keys: '%s' is not 1 to %d keys\n",
					optarg, REORDER_KEYS_MAX);
				return 2;
			}
			t->oconf.max_keys = v;
			break;
		case O_LATE:
			reorder_opt = "--late";
			if (strcmp(optarg, "drop") == 0) {
				t->late_print = 0;
			} else if (strcmp(optarg, "print") == 0) {
				t->late_print = 1;
			} else {
				fprintf(stderr, "sluice tail: --late: '%s' is not drop or print\n",
					optarg);
				return 2;
			}
			break;
		case 'X':
			if (!strchr(optarg, '=')) {
				fprintf(stderr, "sluice tail: -X '%s': expected NAME=VALUE\n",
					optarg);
				return 2;
			}
			t->xconf[t->nxconf++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (reorder_opt && !t->ordered) {
		fprintf(stderr, "sluice tail: %s applies only with --ordered\n", reorder_opt);
		return 2;
	}
	if (!t->bootstrap || !*t->bootstrap) {
		fprintf(stderr, "sluice tail: -b BROKERS is required\n");
		usage(stderr);
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "sluice tail: no TOPIC given\n");
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		if (add_topic_arg(t, argv[i], &err) != BINLOG_OK) {
			fprintf(stderr, "sluice tail: %s\n", err.msg);
			return err.code == BINLOG_E_USAGE ? 2 : 1;
		}
	}
	if (t->group && t->nspecs) {
		fprintf(stderr, "sluice tail: --group takes whole topics (the group hands out "
				"partitions); TOPIC:PARTITION is for reading without --group\n");
		return 2;
	}
	return -1;
}

static binlog_errcode_t conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
				 binlog_err_t *err)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return binlog_err_set(err, BINLOG_E_USAGE, "%s=%s: %s", name, value, errstr);
	return BINLOG_OK;
}

/* The client. On success t->rk owns the configuration. */
static binlog_errcode_t tail_client(tail_t *t, binlog_err_t *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	binlog_errcode_t rc = BINLOG_OK;
	char errstr[512];

	if (!conf)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	if ((rc = conf_set(conf, "bootstrap.servers", t->bootstrap, err)) ||
	    (rc = conf_set(conf, "client.id", "sluice-tail", err)) ||
	    (rc = conf_set(conf, "enable.partition.eof", "true", err)) ||
	    /* librdkafka's default is read_committed; a debugging tool shows
	     * everything unless asked. */
	    (rc = conf_set(conf, "isolation.level",
			   t->read_committed ? "read_committed" : "read_uncommitted", err)) ||
	    /* Where a group has no offset; and, without a group, where to go
	     * when retention deleted the next record while we read. */
	    (rc = conf_set(conf, "auto.offset.reset", t->from_end ? "latest" : "earliest", err)) ||
	    (t->group && (rc = conf_set(conf, "group.id", t->group, err))) ||
	    /* --ordered stores offsets as records leave its buffer
	     * (tail_store_offsets), not as they are handed out. */
	    (t->group && t->ordered &&
	     (rc = conf_set(conf, "enable.auto.offset.store", "false", err))) ||
	    /* The simple consumer applies this bound per partition, not to
	     * its one queue as the group consumer does: the default 64 MB
	     * would let a backlog on 32 partitions prefetch 2 GB. 4 MB (plus
	     * one fetch, which may overshoot it) keeps a partition busy. */
	    (!t->group && (rc = conf_set(conf, "queued.max.messages.kbytes", "4096", err))))
		goto fail;
	for (int i = 0; i < t->nxconf; i++) {
		const char *eq = strchr(t->xconf[i], '=');
		char name[256];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - t->xconf[i]), t->xconf[i]);
		if ((rc = conf_set(conf, name, eq + 1, err)) != BINLOG_OK) {
			binlog_err_prefix(err, "-X");
			goto fail;
		}
	}
	rd_kafka_conf_set_opaque(conf, t);
	rd_kafka_conf_set_log_cb(conf, on_log);
	rd_kafka_conf_set_error_cb(conf, on_error);
	if (t->group)
		rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	t->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (!t->rk) {
		rc = binlog_err_set(err, BINLOG_E_USAGE, "cannot create the consumer: %s", errstr);
		goto fail;
	}
	return BINLOG_OK;
fail:
	rd_kafka_conf_destroy(conf);
	return rc;
}

/* The partition count of one topic, asked until METADATA_WAIT_MS has
 * passed: a cluster that is starting, or a topic just created, may need
 * a moment. A topic that does not exist is an error at once (a typo
 * should not cost ten seconds). Leaves tp->npart 0 when a signal stopped
 * it. */
static binlog_errcode_t topic_metadata(tail_t *t, tail_topic_t *tp, binlog_err_t *err)
{
	int64_t deadline = cdc_mono_ms() + METADATA_WAIT_MS;
	rd_kafka_resp_err_t r;

	tp->rkt = rd_kafka_topic_new(t->rk, tp->name, NULL);
	if (!tp->rkt)
		return binlog_err_set(err, BINLOG_E_USAGE, "topic '%s': %s", tp->name,
				      rd_kafka_err2str(rd_kafka_last_error()));
	for (;;) {
		const struct rd_kafka_metadata *md = NULL;

		r = rd_kafka_metadata(t->rk, 0, tp->rkt, &md, METADATA_TRY_MS);
		if (r == RD_KAFKA_RESP_ERR_NO_ERROR) {
			const rd_kafka_metadata_topic_t *mt =
				md->topic_cnt == 1 ? &md->topics[0] : NULL;

			r = mt ? mt->err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
			if (r == RD_KAFKA_RESP_ERR_NO_ERROR && mt->partition_cnt > 0)
				tp->npart = mt->partition_cnt;
			else if (r == RD_KAFKA_RESP_ERR_NO_ERROR)
				r = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE; /* being created */
			rd_kafka_metadata_destroy(md);
		}
		if (tp->npart > 0)
			break;
		if (r == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
		    r == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
			return binlog_err_set(err, BINLOG_E_SERVER,
					      "topic '%s' does not exist on %s", tp->name,
					      t->bootstrap);
		if (r == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
			return binlog_err_set(err, BINLOG_E_SERVER, "topic '%s': %s", tp->name,
					      rd_kafka_err2str(r));
		if (stop_requested)
			return BINLOG_OK;
		if (cdc_mono_ms() >= deadline)
			return binlog_err_set(err, BINLOG_E_IO,
					      "topic '%s': no metadata from %s in %d s: %s",
					      tp->name, t->bootstrap, METADATA_WAIT_MS / 1000,
					      rd_kafka_err2str(r));
		if (r != RD_KAFKA_RESP_ERR__TIMED_OUT)
			sleep_ms(200); /* an answer that came at once: do not spin */
	}
	tp->part = calloc((size_t)tp->npart, 1);
	tp->lane = calloc((size_t)tp->npart, sizeof(*tp->lane));
	if (!tp->part || !tp->lane)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	return BINLOG_OK;
}

/* Without --group: start every partition asked for, onto one queue. */
static binlog_errcode_t tail_start_assign(tail_t *t, binlog_err_t *err)
{
	int64_t from = t->from_end ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;

	/* Every TOPIC:N is checked before anything starts. */
	for (int i = 0; i < t->nspecs; i++) {
		tail_topic_t *tp = &t->topics[t->specs[i].topic];

		if (t->specs[i].partition >= tp->npart)
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "topic '%s' has %" PRId32
					      " partition%s (0 to %" PRId32
					      "): there is no partition %" PRId32,
					      tp->name, tp->npart, tp->npart == 1 ? "" : "s",
					      tp->npart - 1, t->specs[i].partition);
	}
	t->queue = rd_kafka_queue_new(t->rk);
	if (!t->queue)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	for (int i = 0; i < t->ntopics; i++)
		if (t->topics[i].all)
			for (int32_t p = 0; p < t->topics[i].npart; p++)
				part_assign(t, &t->topics[i].part[p]);
	for (int i = 0; i < t->nspecs; i++)
		part_assign(t, &t->topics[t->specs[i].topic].part[t->specs[i].partition]);
	/* Started only now, so that a partition given twice starts once. The
	 * flag is dropped on a failure so that tail_stop does not stop it. */
	for (int i = 0; i < t->ntopics; i++) {
		tail_topic_t *tp = &t->topics[i];

		for (int32_t p = 0; p < tp->npart; p++) {
			if (!(tp->part[p] & P_ASSIGNED))
				continue;
			if (rd_kafka_consume_start_queue(tp->rkt, p, from, t->queue) == -1) {
				part_unassign(t, &tp->part[p]);
				return binlog_err_set(
					err, BINLOG_E_SERVER, "%s [%" PRId32 "]: cannot start: %s",
					tp->name, p, rd_kafka_err2str(rd_kafka_last_error()));
			}
		}
	}
	t->have_assignment = 1;
	return BINLOG_OK;
}

/* With --group: subscribe; partitions come through on_rebalance. */
static binlog_errcode_t tail_start_group(tail_t *t, binlog_err_t *err)
{
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(t->ntopics);
	rd_kafka_resp_err_t r;

	if (!list)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	for (int i = 0; i < t->ntopics; i++)
		rd_kafka_topic_partition_list_add(list, t->topics[i].name, RD_KAFKA_PARTITION_UA);
	/* Callbacks (errors, rebalances) are then served by consumer_poll. */
	r = rd_kafka_poll_set_consumer(t->rk);
	if (r == RD_KAFKA_RESP_ERR_NO_ERROR)
		r = rd_kafka_subscribe(t->rk, list);
	rd_kafka_topic_partition_list_destroy(list);
	if (r != RD_KAFKA_RESP_ERR_NO_ERROR)
		return binlog_err_set(err, BINLOG_E_SERVER, "group %s: cannot subscribe: %s",
				      t->group, rd_kafka_err2str(r));
	return BINLOG_OK;
}

/* EPIPE is the reader leaving (`sluice tail ... | head`): the end of the
 * run, not an error. */
static binlog_errcode_t output_error(tail_t *t, binlog_err_t *err)
{
	if (errno == EPIPE) {
		t->out_closed = 1;
		return BINLOG_OK;
	}
	return binlog_err_set(err, BINLOG_E_LOCAL_IO, "standard output: %s", strerror(errno));
}

/*
 * With --ordered and --group, tell librdkafka what it may commit: per
 * partition, up to the first record still held (or everything seen when
 * none is). librdkafka's own store, at hand-out, would commit records the
 * buffer still holds, which a crash would then lose; this keeps the group
 * at least once. Called only after stdout was flushed, so what is stored
 * has reached our reader (and never after the reader went away).
 */
static binlog_errcode_t tail_store_offsets(tail_t *t, binlog_err_t *err)
{
	rd_kafka_topic_partition_list_t *list;
	rd_kafka_resp_err_t r;
	int64_t pos;

	if (!t->order || !t->group || !t->rk || t->out_closed)
		return BINLOG_OK;
	t->stored_ms = cdc_mono_ms();
	list = rd_kafka_topic_partition_list_new(8);
	if (!list)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	for (uint32_t i = 0; i < t->nlanes; i++) {
		rd_kafka_topic_partition_t *e;

		if (!cdc_tail_order_committable(t->order, i, &pos) || pos <= t->lanes[i].stored)
			continue;
		e = rd_kafka_topic_partition_list_add(list, t->topics[t->lanes[i].topic].name,
						      t->lanes[i].partition);
		e->offset = pos;
		e->opaque = (void *)(uintptr_t)i;
	}
	r = list->cnt ? rd_kafka_offsets_store(t->rk, list) : RD_KAFKA_RESP_ERR_NO_ERROR;
	if (r == RD_KAFKA_RESP_ERR__INVALID_ARG) {
		rd_kafka_topic_partition_list_destroy(list);
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "--ordered with --group stores offsets itself: leave "
				      "enable.auto.offset.store false");
	}
	/* A partition revoked meanwhile refuses (_STATE): its new owner
	 * starts at the last offset committed, so nothing is lost. */
	for (int i = 0; i < list->cnt; i++) {
		const rd_kafka_topic_partition_t *e = &list->elems[i];

		if (e->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			t->lanes[(uintptr_t)e->opaque].stored = e->offset;
		else
			cdc_log_debug("%s [%" PRId32 "]: offset %" PRId64 " not stored: %s",
				      e->topic, e->partition, e->offset, rd_kafka_err2str(e->err));
	}
	rd_kafka_topic_partition_list_destroy(list);
	return BINLOG_OK;
}

static binlog_errcode_t tail_flush(tail_t *t, binlog_err_t *err)
{
	if (t->dirty && !t->out_closed) {
		t->dirty = 0;
		if (fflush(stdout) != 0)
			return output_error(t, err);
	}
	return tail_store_offsets(t, err);
}

/* One formatted line out; `late` adds "late":true as its last member. */
static binlog_errcode_t tail_write(tail_t *t, const uint8_t *line, size_t len, int late,
				   binlog_err_t *err)
{
	static const char late_end[] = ",\"late\":true}\n";

	if (t->out_closed)
		return BINLOG_OK;
	/* cdc_tail_format ends every line with "}\n". */
	if (late && (len < 2 || fwrite(line, 1, len - 2, stdout) != len - 2 ||
		     fwrite(late_end, 1, sizeof(late_end) - 1, stdout) != sizeof(late_end) - 1))
		return output_error(t, err);
	if (!late && fwrite(line, 1, len, stdout) != len)
		return output_error(t, err);
	t->dirty = 1;
	t->printed++;
	return BINLOG_OK;
}

/* Count a record the reorder buffer judged, and print it unless it is late
 * (or a duplicate) and --late is drop. */
static binlog_errcode_t tail_judged(tail_t *t, const uint8_t *line, size_t len,
				    cdc_tail_verdict_t v, binlog_err_t *err)
{
	switch (v) {
	case CDC_TAIL_IN_ORDER:
		t->in_order++;
		return tail_write(t, line, len, 0, err);
	case CDC_TAIL_LATE:
		t->late++;
		break;
	case CDC_TAIL_DUPLICATE:
		t->dups++;
		break;
	case CDC_TAIL_HELD:
		return BINLOG_OK;
	}
	return t->late_print ? tail_write(t, line, len, 1, err) : BINLOG_OK;
}

/* Print what the reorder buffer has due at now (everything with `flush`),
 * smallest sequence first. Stops at --max: a record not printed stays
 * held, so that its offset is not stored. */
static binlog_errcode_t tail_release(tail_t *t, int64_t now, int flush, binlog_err_t *err)
{
	const cdc_tail_order_rec_t *r;
	cdc_tail_verdict_t v;
	binlog_errcode_t rc;

	while (!t->out_closed && !(t->max && t->printed >= t->max)) {
		if (cdc_tail_order_next(t->order, now, flush, &r, &v) != BINLOG_OK)
			return binlog_err_set(err, BINLOG_E_NOMEM,
					      "out of memory remembering the keys of --ordered");
		if (!r)
			break;
		if ((rc = tail_judged(t, r->line, r->line_len, v, err)) != BINLOG_OK)
			return rc;
	}
	return BINLOG_OK;
}

/* Before a group takes partitions away: print everything held and store
 * the offsets while the partitions are still ours, so that librdkafka's
 * commit on revocation covers them and their next owner does not print
 * them again. Called from on_rebalance, inside a poll of ours. */
static void order_drain(tail_t *t)
{
	binlog_err_t e = {0};
	binlog_errcode_t rc;

	/* After the loop (consumer_close revokes too), the end of
	 * cdc_tail_main has flushed what it should; after an error, what is
	 * held must stay unprinted and uncommitted. */
	if (!t->order || t->fatal || t->loop_over)
		return;
	rc = tail_release(t, cdc_mono_ms(), 1, &e);
	if (rc == BINLOG_OK)
		rc = tail_flush(t, &e);
	if (rc != BINLOG_OK) {
		t->fatal = rc;
		t->fatal_err = e;
	}
}

/* A message carrying an error (other than the end of a partition): most
 * are transient and librdkafka recovers on its own, so they are reported
 * and the run goes on; a topic that is gone or forbidden, or a fatal
 * error, ends it. */
static binlog_errcode_t consumer_error(tail_t *t, const rd_kafka_message_t *m, binlog_err_t *err)
{
	char where[320];
	char msg[512];

	if (m->rkt)
		snprintf(where, sizeof(where), "%s [%" PRId32 "]", rd_kafka_topic_name(m->rkt),
			 m->partition);
	else
		snprintf(where, sizeof(where), "consumer");
	switch (m->err) {
	case RD_KAFKA_RESP_ERR__FATAL:
		rd_kafka_fatal_error(t->rk, msg, sizeof(msg));
		return binlog_err_set(err, BINLOG_E_SERVER, "%s: fatal consumer error: %s", where,
				      msg);
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
		return binlog_err_set(err, BINLOG_E_SERVER, "%s: %s (%s)", where,
				      rd_kafka_message_errstr(m), rd_kafka_err2name(m->err));
	default:
		cdc_log_error("%s: %s (%s)", where, rd_kafka_message_errstr(m),
			      rd_kafka_err2name(m->err));
		return BINLOG_OK;
	}
}

/* The sequence header's value: decimal digits (at most 20) that fit 64
 * bits. Leading zeros are taken, sluice never writes them. */
static int parse_seq(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Up to 40 bytes of a header value for an error message, bytes outside
 * printable ASCII as '?'. */
static void quote_bytes(char *out, size_t cap, const uint8_t *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < 40 && o + 4 < cap; i++)
		out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	if (i < n && o + 4 < cap)
		o += (size_t)snprintf(out + o, cap - o, "...");
	out[o] = '\0';
}

/* --ordered: a record's sequence and type, then into the reorder buffer. A
 * data record without a usable sequence cannot be ordered, and printing
 * it out of order silently would defeat the point: an error. */
static binlog_errcode_t tail_order_message(tail_t *t, const rd_kafka_message_t *m,
					   const char *topic, binlog_err_t *err)
{
	cdc_tail_order_rec_t r = {0};
	rd_kafka_headers_t *hdrs = NULL;
	const void *val = NULL;
	size_t size = 0;
	int have = 0, has_seq = 0;
	cdc_tail_verdict_t v;
	char shown[64];

	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
		if (rd_kafka_header_get_last(hdrs, "type", &val, &size) ==
			    RD_KAFKA_RESP_ERR_NO_ERROR &&
		    val && size == 9 && memcmp(val, "heartbeat", 9) == 0)
			r.heartbeat = 1;
		have = rd_kafka_header_get_last(hdrs, "sequence", &val, &size) ==
		       RD_KAFKA_RESP_ERR_NO_ERROR;
		has_seq = have && val && parse_seq(val, size, &r.seq) == 0;
	}
	if (!has_seq && !r.heartbeat) {
		const char *topic_s = topic ? topic : "?";
		const char *need = "--ordered needs a sequence (decimal digits, 64 bits) on "
				   "every record but heartbeats";

		if (!have)
			return binlog_err_set(err, BINLOG_E_BAD_VALUE,
					      "%s [%" PRId32 "] offset %" PRId64
					      ": no sequence header: %s",
					      topic_s, m->partition, m->offset, need);
		if (!val)
			return binlog_err_set(err, BINLOG_E_BAD_VALUE,
					      "%s [%" PRId32 "] offset %" PRId64
					      ": the sequence header has no value: %s",
					      topic_s, m->partition, m->offset, need);
		quote_bytes(shown, sizeof(shown), val, size);
		return binlog_err_set(err, BINLOG_E_BAD_VALUE,
				      "%s [%" PRId32 "] offset %" PRId64
				      ": the sequence header '%s' is not a number: %s",
				      topic_s, m->partition, m->offset, shown, need);
	}
	r.key = m->key;
	r.key_len = m->key ? m->key_len : 0;
	r.line = t->line.data;
	r.line_len = t->line.len;
	r.lane = lane_of(t, topic, m->partition);
	r.pos = m->offset;
	if (t->fatal) {
		*err = t->fatal_err;
		return t->fatal;
	}
	/* A heartbeat without a sequence has no place in the order: it goes
	 * out at once. */
	if (!has_seq) {
		cdc_tail_order_skip(t->order, r.lane, r.pos);
		return tail_judged(t, r.line, r.line_len, CDC_TAIL_IN_ORDER, err);
	}
	if (cdc_tail_order_add(t->order, &r, cdc_mono_ms(), &v) != BINLOG_OK)
		return binlog_err_set(err, BINLOG_E_NOMEM,
				      "%s [%" PRId32 "] offset %" PRId64
				      ": out of memory holding a record of %zu bytes",
				      topic ? topic : "?", m->partition, m->offset, r.line_len);
	return tail_judged(t, r.line, r.line_len, v, err);
}

static binlog_errcode_t tail_message(tail_t *t, const rd_kafka_message_t *m, binlog_err_t *err)
{
	const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
	uint8_t *st = part_state(t, topic, m->partition, 0);
	binlog_errcode_t rc;

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if (st && (*st & P_ASSIGNED) && !(*st & P_EOF)) {
			*st |= P_EOF;
			t->at_eof++;
		}
		if (st && (*st & P_ASSIGNED) && !(*st & P_ENDED)) {
			*st |= P_ENDED;
			t->ended++;
		}
		t->last_ms = cdc_mono_ms();
		cdc_log_debug("%s [%" PRId32 "]: at its end, offset %" PRId64, topic ? topic : "?",
			      m->partition, m->offset);
		return BINLOG_OK;
	}
	if (m->err)
		return consumer_error(t, m, err);
	if (st && (*st & P_EOF)) {
		*st &= (uint8_t)~P_EOF;
		t->at_eof--;
	}
	t->last_ms = cdc_mono_ms();
	if (t->out_closed)
		return BINLOG_OK;
	binlog_buf_reset(&t->line);
	cdc_tail_format(&t->line, m);
	if (t->line.failed)
		return binlog_err_set(err, BINLOG_E_NOMEM,
				      "%s [%" PRId32 "] offset %" PRId64
				      ": out of memory formatting a record of %zu bytes",
				      topic ? topic : "?", m->partition, m->offset,
				      m->len + m->key_len);
	if (t->order)
		rc = tail_order_message(t, m, topic, err);
	else
		rc = tail_write(t, t->line.data, t->line.len, 0, err);
	if (t->line.cap > LINE_KEEP_MAX) {
		binlog_buf_free(&t->line);
		/* No limit of its own: a record is at most librdkafka's
		 * receive.message.max.bytes, and escaping grows it at most
		 * sixfold. */
		binlog_buf_init(&t->line, 0);
	}
	return rc;
}

static binlog_errcode_t tail_loop(tail_t *t, binlog_err_t *err)
{
	binlog_errcode_t rc = BINLOG_OK;

	t->last_ms = cdc_mono_ms();
	t->stored_ms = t->last_ms;
	t->started = 1;
	while (!stop_requested && !t->out_closed && !(t->max && t->printed >= t->max)) {
		/* Unflushed lines: look without waiting, and flush as soon as
		 * nothing more is at hand. A record held by --ordered is
		 * released on time, not a poll later. */
		int timeout = t->dirty ? 0 : POLL_MS;
		rd_kafka_message_t *m;
		int64_t now;

		if (t->order && timeout > 0) {
			int64_t wait = cdc_tail_order_due_ms(t->order) - cdc_mono_ms();

			if (wait < timeout)
				timeout = wait > 0 ? (int)wait : 0;
		}
		if (t->queue) {
			m = rd_kafka_consume_queue(t->queue, timeout);
			rd_kafka_poll(t->rk, 0); /* error and log callbacks */
		} else {
			m = rd_kafka_consumer_poll(t->rk, timeout);
		}
		if (t->fatal) {
			if (m)
				rd_kafka_message_destroy(m);
			*err = t->fatal_err;
			return t->fatal;
		}
		if (m) {
			rc = tail_message(t, m, err);
			rd_kafka_message_destroy(m);
			if (rc != BINLOG_OK)
				break;
		}
		now = cdc_mono_ms();
		if (t->order && (rc = tail_release(t, now, 0, err)) != BINLOG_OK)
			break;
		if (m) {
			/* A steady stream never leaves the poll empty-handed:
			 * store offsets on time anyway, after a flush. */
			if (t->order && t->group && now - t->stored_ms >= STORE_MS &&
			    (rc = tail_flush(t, err)) != BINLOG_OK)
				break;
			continue;
		}
		if ((rc = tail_flush(t, err)) != BINLOG_OK)
			break;
		if (t->idle_ms >= 0 && t->have_assignment && t->at_eof == t->assigned &&
		    now - t->last_ms >= t->idle_ms)
			break;
		if (t->until_end && t->have_assignment && t->ended == t->assigned)
			break;
	}
	return rc;
}

/* Stop consuming and free everything t holds. */
static void tail_close(tail_t *t)
{
	if (t->rk && t->group) {
		/* Leaves the group and commits what was handed out. */
		rd_kafka_resp_err_t r = rd_kafka_consumer_close(t->rk);

		if (r)
			cdc_log_error("group %s: close: %s", t->group, rd_kafka_err2str(r));
	}
	for (int i = 0; i < t->ntopics; i++) {
		tail_topic_t *tp = &t->topics[i];

		if (t->queue)
			for (int32_t p = 0; p < tp->npart; p++)
				if (tp->part[p] & P_ASSIGNED)
					rd_kafka_consume_stop(tp->rkt, p);
	}
	if (t->queue)
		rd_kafka_queue_destroy(t->queue);
	for (int i = 0; i < t->ntopics; i++) {
		if (t->topics[i].rkt)
			rd_kafka_topic_destroy(t->topics[i].rkt);
		free(t->topics[i].name);
		free(t->topics[i].part);
		free(t->topics[i].lane);
	}
	if (t->rk)
		rd_kafka_destroy(t->rk);
	cdc_tail_order_free(t->order);
	free(t->lanes);
	free(t->topics);
	free(t->specs);
	free(t->xconf);
	binlog_buf_free(&t->line);
}

int cdc_tail_main(int argc, char **argv)
{
	tail_t t = {0};
	binlog_err_t err = {0};
	binlog_errcode_t rc = BINLOG_OK;
	struct sigaction sa;
	int status = 1;

	/* First: a SIGTERM from here on stops the tail cleanly. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is EPIPE, seen by fwrite */

	t.idle_ms = -1;
	binlog_buf_init(&t.line, 0);
	/* Every argument is at most one topic, one TOPIC:N or one -X. */
	t.topics = calloc((size_t)argc, sizeof(*t.topics));
	t.specs = calloc((size_t)argc, sizeof(*t.specs));
	t.xconf = calloc((size_t)argc, sizeof(*t.xconf));
	if (!t.topics || !t.specs || !t.xconf) {
		fprintf(stderr, "sluice tail: out of memory\n");
		goto out;
	}
	status = parse_args(&t, argc, argv);
	if (status >= 0)
		goto out;
	status = 1;
	if (t.ordered && !(t.order = cdc_tail_order_new(&t.oconf))) {
		fprintf(stderr, "sluice tail: out of memory\n");
		goto out;
	}
	cdc_log_init("tail");
	setvbuf(stdout, NULL, _IOFBF, STDOUT_BUF);

	if ((rc = tail_client(&t, &err)) != BINLOG_OK) {
		/* A setting librdkafka refused (-X, a malformed -b) is bad usage. */
		if (rc == BINLOG_E_USAGE)
			status = 2;
		goto report;
	}
	for (int i = 0; i < t.ntopics && !stop_requested; i++)
		if ((rc = topic_metadata(&t, &t.topics[i], &err)) != BINLOG_OK)
			goto report;
	if (stop_requested) {
		status = 0;
		goto out;
	}
	rc = t.group ? tail_start_group(&t, &err) : tail_start_assign(&t, &err);
	if (rc == BINLOG_OK)
		rc = tail_loop(&t, &err);
	t.loop_over = 1;
	/* What --ordered holds goes out, in order, at any end but an error:
	 * after one, it stays unprinted and (with --group) uncommitted. */
	if (rc == BINLOG_OK && t.order)
		rc = tail_release(&t, cdc_mono_ms(), 1, &err);
	/* What was printed before an error is written out first. */
	if (rc == BINLOG_OK) {
		t.dirty = 1;
		rc = tail_flush(&t, &err);
	} else {
		fflush(stdout);
	}
	if (t.order && t.started)
		fprintf(stderr,
			"tail: %" PRIu64 " records in order, %" PRIu64 " late %s, %" PRIu64
			" duplicates %s\n",
			t.in_order, t.late, t.late_print ? "printed" : "dropped", t.dups,
			t.late_print ? "printed" : "dropped");
report:
	if (rc != BINLOG_OK)
		fprintf(stderr, "sluice tail: %s\n", err.msg);
	else
		status = 0;
out:
	tail_close(&t);
	return status;
}
