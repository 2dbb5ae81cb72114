/*
 * cdc_merge.c: `sluice merge`, the consumer that applies change records
 * from Kafka to merge-on-read or Hive tables (sinks/merge_table.h), one
 * table per topic, in DIR/TOPIC.
 *
 * One thread. It polls the consumer, parses each record
 * (merge_change_parse), turns it into a stored row and offers it to the
 * batch of its topic: a per-key map that keeps only the winning change
 * (merge_io.h), so a key updated a thousand times in a batch is written
 * once. A batch is committed when it holds --batch-rows changes or
 * --batch-bytes bytes, or --commit-interval after its first change: its
 * rows and the offsets up to which they were consumed go into the table in
 * one timeline instant. A merge-on-read commit runs on a thread of its own
 * while the next batch fills; the next commit waits for it, and so does
 * anything else that touches the table (assignment, maintenance, the end),
 * so only one thread uses a table at a time. A Hive commit runs on the
 * consumer's thread. A slow filesystem therefore holds back the consumer,
 * whose fetch queue is bounded: memory is two batches (one committing, one
 * filling; one for Hive) plus librdkafka's queue.
 *
 * Offsets live in the tables, not in Kafka: on assignment each partition
 * starts at the offset the table's completed instants hold for it (the
 * beginning when none), so a crash at any point resumes after the last
 * commit, and records consumed but not committed are read again; applying
 * them twice changes nothing, the highest sequence winning either way.
 * The group's offsets are also committed to Kafka after each table commit,
 * for lag monitoring only.
 *
 * Processes in one consumer group share the partitions (eager
 * rebalancing): before giving partitions up, a member commits what it has
 * consumed from them.
 */
#include "cdc_merge.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <librdkafka/rdkafka.h>

#include "binlog_err.h"
#include "cdc_fs.h"
#include "cdc_log.h"
#include "merge_io.h"
#include "merge_table.h"

#define POLL_MS        100
#define STATS_EVERY_MS 10000

typedef struct mpart {
	int32_t partition;
	int assigned;
	int eof;
	int64_t next;         /* the next offset to consume; -1 unknown */
	int64_t committed;    /* what the table holds */
	int64_t watermark_ms; /* INT64_MIN: none */
	int64_t committed_wm;
} mpart_t;

/* A batch being committed on its own thread. */
typedef struct mcommit {
	int state; /* C_IDLE, C_THREAD (th to join), C_DONE (ran in the caller) */
	atomic_int finished;
	pthread_t th;
	merge_table_t *table;
	merge_map_t *rows;
	merge_offset_t *offs;
	size_t n;
	uint64_t changes;
	merge_commit_stats_t st;
	binlog_errcode_t rc;
	binlog_err_t err;
	int64_t t0, t1; /* monotonic ms: started, ended */
} mcommit_t;

enum { C_IDLE, C_THREAD, C_DONE };

typedef struct mtopic {
	char *name;
	merge_table_t *table;
	merge_map_t *batch;
	merge_map_t *spare; /* the next batch, once the committing one is done */
	mcommit_t commit;
	mpart_t *parts;
	int32_t nparts;
	uint64_t batch_changes;
	int64_t first_ms; /* monotonic time of the batch's first change; 0: none */
} mtopic_t;

typedef struct merge_opts {
	char *brokers, *group, *path;
	char **topics;
	size_t ntopics;
	merge_table_opts_t table;
	merge_table_tuning_t tune;
	uint64_t batch_rows, batch_bytes, commit_ms, maintain_ms, idle_exit_ms;
	int from_beginning, skip_bad;
	char **props;
	size_t nprops;
} merge_opts_t;

typedef struct merger {
	merge_opts_t o;
	rd_kafka_t *rk;
	mtopic_t *topics;
	size_t ntopics;
	binlog_buf_t line, scratch;
	int failed;
	binlog_err_t err;
	/* counters */
	uint64_t changes, heartbeats, bad, applied, stale, commits, compactions, successes;
	uint64_t last_changes;
	int64_t last_stats_ms, last_maintain_ms, last_record_ms;
	int64_t first_ms, done_ms; /* first record, end of the last commit */
} merger_t;

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fputs("usage: sluice merge -b BROKERS --group ID --path DIR --topic T [--topic T...]\n"
	      "                    [--kind mor|hive] [OPTIONS]\n"
	      "\n"
	      "Consume sluice's change records and keep, in DIR/TOPIC, a table per topic that\n"
	      "converges to the source: per key, the change with the highest sequence wins,\n"
	      "whatever the order of delivery (docs/MERGER.md).\n"
	      "\n"
	      "  -b, --bootstrap-servers LIST  Kafka brokers (required)\n"
	      "      --group ID                consumer group; its members share the partitions\n"
	      "      --path DIR                where the tables are (required)\n"
	      "      --topic T                 a topic to merge (repeatable; required)\n"
	      "      --kind mor|hive           merge-on-read (Hudi-style) or Hive table (mor)\n"
	      "      --buckets N               mor: key-hash buckets, 1..4096 (16)\n"
	      "      --partition-by COLUMN     hive: partition by this column's time (default:\n"
	      "                                the source's commit time)\n"
	      "      --granularity hour|day    hive: dt=/hr= or dt= partitions (hour)\n"
	      "      --format jsonl|text       hive: JSON lines or Hive delimited text (jsonl)\n"
	      "      --no-compress             plain files instead of zstd\n"
	      "      --success-delay MS        hive: _SUCCESS once the watermark passes a\n"
	      "                                partition's end by MS (600000)\n"
	      "      --commit-interval MS      commit a batch this long after its first change\n"
	      "                                (2000)\n"
	      "      --batch-rows N            ... or once it holds N changes (500000)\n"
	      "      --batch-bytes N           ... or N bytes of rows (268435456); mor: one\n"
	      "                                batch commits while the next fills (two in memory)\n"
	      "      --maintain-interval MS    compaction and cleaning every MS (60000; 0: never)\n"
	      "      --compact-files N         compact a bucket / partition with N files (8)\n"
	      "      --clean-retain MS         keep replaced files MS for readers (600000)\n"
	      "      --zstd-level N            1..19 (3)\n"
	      "      --write-threads N         mor: threads writing a commit's files, 1..16\n"
	      "                                (one a core)\n"
	      "      --max-index-bytes N       hive: memory for the key index (4 GiB)\n"
	      "      --from-beginning          ignore the offsets the tables hold and consume\n"
	      "                                every record again (the tables do not change)\n"
	      "      --skip-bad                log and skip a record that is not a change\n"
	      "                                (default: stop with an error naming it)\n"
	      "      --idle-exit MS            exit once every partition is read to its end and\n"
	      "                                nothing came for MS (tests, backfills)\n"
	      "  -X NAME=VALUE                 a librdkafka property (repeatable)\n"
	      "  -h, --help                    this text\n"
	      "\n"
	      "Exit status: 0 stopped (SIGINT/SIGTERM, --idle-exit), 1 error, 2 bad usage.\n",
	      out);
}

static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

static int push_str(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (!nv)
		return -1;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

enum {
	O_GROUP = 256,
	O_PATH,
	O_TOPIC,
	O_KIND,
	O_BUCKETS,
	O_PARTBY,
	O_GRAN,
	O_FORMAT,
	O_NOCOMP,
	O_DELAY,
	O_COMMIT,
	O_ROWS,
	O_BYTES,
	O_MAINT,
	O_CFILES,
	O_RETAIN,
	O_LEVEL,
	O_FROMBEG,
	O_SKIP,
	O_IDLE,
	O_INDEX,
	O_THREADS,
};

static int bad_value(const char *opt, const char *v, const char *allowed)
{
	fprintf(stderr, "sluice merge: --%s: '%s' is not %s\n", opt, v ? v : "", allowed);
	return 2;
}

static int parse_args(merge_opts_t *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{"bootstrap-servers", required_argument, 0, 'b'},
		{"group", required_argument, 0, O_GROUP},
		{"path", required_argument, 0, O_PATH},
		{"topic", required_argument, 0, O_TOPIC},
		{"kind", required_argument, 0, O_KIND},
		{"buckets", required_argument, 0, O_BUCKETS},
		{"partition-by", required_argument, 0, O_PARTBY},
		{"granularity", required_argument, 0, O_GRAN},
		{"format", required_argument, 0, O_FORMAT},
		{"no-compress", no_argument, 0, O_NOCOMP},
		{"success-delay", required_argument, 0, O_DELAY},
		{"commit-interval", required_argument, 0, O_COMMIT},
		{"batch-rows", required_argument, 0, O_ROWS},
		{"batch-bytes", required_argument, 0, O_BYTES},
		{"maintain-interval", required_argument, 0, O_MAINT},
		{"compact-files", required_argument, 0, O_CFILES},
		{"clean-retain", required_argument, 0, O_RETAIN},
		{"zstd-level", required_argument, 0, O_LEVEL},
		{"from-beginning", no_argument, 0, O_FROMBEG},
		{"skip-bad", no_argument, 0, O_SKIP},
		{"idle-exit", required_argument, 0, O_IDLE},
		{"max-index-bytes", required_argument, 0, O_INDEX},
		{"write-threads", required_argument, 0, O_THREADS},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int c;
	uint64_t v;

	o->table.kind = MERGE_TABLE_MOR;
	o->table.buckets = 16;
	o->table.compress = 1;
	merge_table_tuning_default(&o->tune);
	o->batch_rows = 500000;
	o->batch_bytes = 256u << 20;
	o->commit_ms = 2000;
	o->maintain_ms = 60000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:X:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			free(o->brokers);
			o->brokers = strdup(optarg);
			break;
		case O_GROUP:
			free(o->group);
			o->group = strdup(optarg);
			break;
		case O_PATH:
			free(o->path);
			o->path = strdup(optarg);
			break;
		case O_TOPIC:
			if (!*optarg || strlen(optarg) > 249 || strchr(optarg, '/'))
				return bad_value("topic", optarg, "a Kafka topic name");
			if (push_str(&o->topics, &o->ntopics, optarg) < 0)
				return 1;
			break;
		case O_KIND:
			if (strcmp(optarg, "mor") == 0)
				o->table.kind = MERGE_TABLE_MOR;
			else if (strcmp(optarg, "hive") == 0)
				o->table.kind = MERGE_TABLE_HIVE;
			else
				return bad_value("kind", optarg, "mor or hive");
			break;
		case O_BUCKETS:
			if (!parse_num(optarg, 1, 4096, &v))
				return bad_value("buckets", optarg, "a number in 1..4096");
			o->table.buckets = (uint32_t)v;
			break;
		case O_PARTBY:
			free(o->table.partition_by);
			o->table.partition_by = strdup(optarg);
			break;
		case O_GRAN:
			if (strcmp(optarg, "hour") == 0)
				o->table.granularity = MERGE_GRAN_HOUR;
			else if (strcmp(optarg, "day") == 0)
				o->table.granularity = MERGE_GRAN_DAY;
			else
				return bad_value("granularity", optarg, "hour or day");
			break;
		case O_FORMAT:
			if (strcmp(optarg, "jsonl") == 0)
				o->table.format = MERGE_FMT_JSONL;
			else if (strcmp(optarg, "text") == 0)
				o->table.format = MERGE_FMT_TEXT;
			else
				return bad_value("format", optarg, "jsonl or text");
			break;
		case O_NOCOMP:
			o->table.compress = 0;
			break;
		case O_DELAY:
			if (!parse_num(optarg, 0, 366ull * 86400000, &o->tune.success_delay_ms))
				return bad_value("success-delay", optarg,
						 "milliseconds in 0..31622400000");
			break;
		case O_COMMIT:
			if (!parse_num(optarg, 10, 3600000, &o->commit_ms))
				return bad_value("commit-interval", optarg,
						 "milliseconds in 10..3600000");
			break;
		case O_ROWS:
			if (!parse_num(optarg, 1, 100000000, &o->batch_rows))
				return bad_value("batch-rows", optarg, "a number in 1..100000000");
			break;
		case O_BYTES:
			if (!parse_num(optarg, 1u << 16, 64ull << 30, &o->batch_bytes))
				return bad_value("batch-bytes", optarg,
						 "bytes in 65536..68719476736");
			break;
		case O_MAINT:
			if (!parse_num(optarg, 0, 86400000, &o->maintain_ms))
				return bad_value("maintain-interval", optarg,
						 "milliseconds in 0..86400000");
			break;
		case O_CFILES:
			if (!parse_num(optarg, 2, 100000, &v))
				return bad_value("compact-files", optarg, "a number in 2..100000");
			o->tune.compact_files = o->tune.small_files = (uint32_t)v;
			break;
		case O_RETAIN:
			if (!parse_num(optarg, 0, 30ull * 86400000, &o->tune.clean_retain_ms))
				return bad_value("clean-retain", optarg, "milliseconds");
			break;
		case O_LEVEL:
			if (!parse_num(optarg, 1, 19, &v))
				return bad_value("zstd-level", optarg, "a number in 1..19");
			o->tune.zstd_level = (int)v;
			break;
		case O_FROMBEG:
			o->from_beginning = 1;
			break;
		case O_SKIP:
			o->skip_bad = 1;
			break;
		case O_IDLE:
			if (!parse_num(optarg, 1, 86400000, &o->idle_exit_ms))
				return bad_value("idle-exit", optarg,
						 "milliseconds in 1..86400000");
			break;
		case O_INDEX:
			if (!parse_num(optarg, 1u << 20, 1ull << 40, &o->tune.max_index_bytes))
				return bad_value("max-index-bytes", optarg,
						 "bytes in 1048576..2^40");
			break;
		case O_THREADS:
			if (!parse_num(optarg, 1, MERGE_WRITE_THREADS_MAX, &v))
				return bad_value("write-threads", optarg, "a number in 1..16");
			o->tune.write_threads = (uint32_t)v;
			break;
		case 'X':
			if (!strchr(optarg, '='))
				return bad_value("X", optarg, "NAME=VALUE");
			if (push_str(&o->props, &o->nprops, optarg) < 0)
				return 1;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice merge: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!o->brokers || !o->path || !o->ntopics || !o->group) {
		fprintf(stderr, "sluice merge: %s is required\n",
			!o->brokers ? "-b BROKERS"
			: !o->path  ? "--path DIR"
			: !o->group ? "--group ID"
				    : "--topic");
		return 2;
	}
	if (o->table.kind == MERGE_TABLE_MOR &&
	    (o->table.partition_by || o->table.format != MERGE_FMT_JSONL)) {
		fprintf(stderr, "sluice merge: --partition-by and --format are for --kind hive\n");
		return 2;
	}
	if (o->table.kind == MERGE_TABLE_HIVE)
		o->table.buckets = 1;
	return 0;
}

static void opts_free(merge_opts_t *o)
{
	free(o->brokers);
	free(o->group);
	free(o->path);
	for (size_t i = 0; i < o->ntopics; i++)
		free(o->topics[i]);
	free(o->topics);
	for (size_t i = 0; i < o->nprops; i++)
		free(o->props[i]);
	free(o->props);
	free(o->table.partition_by);
}

/* ------------------------------------------------------------------ */
/* Topics and partitions                                               */

static mtopic_t *topic_find(merger_t *m, const char *name)
{
	for (size_t i = 0; i < m->ntopics; i++)
		if (strcmp(m->topics[i].name, name) == 0)
			return &m->topics[i];
	return NULL;
}

static mpart_t *part_get(mtopic_t *tp, int32_t p)
{
	if (p < 0)
		return NULL;
	if (p >= tp->nparts) {
		mpart_t *np = realloc(tp->parts, ((size_t)p + 1) * sizeof(*np));
		if (!np)
			return NULL;
		for (int32_t i = tp->nparts; i <= p; i++)
			np[i] = (mpart_t){i, 0, 0, -1, -1, INT64_MIN, INT64_MIN};
		tp->parts = np;
		tp->nparts = p + 1;
	}
	return &tp->parts[p];
}

static int32_t topic_partitions(merger_t *m, const char *topic)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(m->rk, topic, NULL);
	int32_t n = -1;

	if (!rkt)
		return -1;
	if (rd_kafka_metadata(m->rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && md &&
	    md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
		n = md->topics[0].partition_cnt;
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return n;
}

/* ------------------------------------------------------------------ */
/* Commits                                                             */

static void *commit_run(void *arg)
{
	mcommit_t *c = arg;

	c->rc = merge_table_commit(c->table, c->rows, c->offs, c->n, &c->st, &c->err);
	merge_map_reset(c->rows); /* here, not on the consumer's thread */
	c->t1 = cdc_mono_ms();
	atomic_store(&c->finished, 1);
	return NULL;
}

/* Wait for the topic's commit, if one runs, and take in its outcome: the
 * offsets it made durable, the counters, a handed-over batch as the next
 * spare. Its error names the table. */
static binlog_errcode_t commit_finish(merger_t *m, mtopic_t *tp, binlog_err_t *err)
{
	mcommit_t *c = &tp->commit;
	binlog_errcode_t rc;

	if (c->state == C_IDLE)
		return BINLOG_OK;
	if (c->state == C_THREAD) {
		pthread_join(c->th, NULL);
		tp->spare = c->rows;
	}
	c->state = C_IDLE;
	c->rows = NULL;
	rc = c->rc;
	if (rc == BINLOG_OK) {
		rd_kafka_topic_partition_list_t *l =
			rd_kafka_topic_partition_list_new((int)c->n + 1);
		for (size_t i = 0; i < c->n; i++) {
			mpart_t *p = &tp->parts[c->offs[i].partition];
			p->committed = c->offs[i].offset;
			p->committed_wm = c->offs[i].watermark_ms;
			rd_kafka_topic_partition_list_add(l, tp->name, c->offs[i].partition)
				->offset = c->offs[i].offset;
		}
		/* For lag monitoring only: the tables hold the offsets that count. */
		if (l->cnt)
			rd_kafka_commit(m->rk, l, 1);
		rd_kafka_topic_partition_list_destroy(l);
		m->applied += c->st.rows;
		m->stale += c->st.stale;
		m->successes += c->st.successes;
		m->commits++;
		m->done_ms = c->t1;
		cdc_log_debug("%s: committed %" PRIu64 " rows (%" PRIu64 " changes) in %" PRId64
			      " ms, %" PRIu64 " files, %" PRIu64 " bytes",
			      tp->name, c->st.rows, c->changes, c->t1 - c->t0, c->st.files,
			      c->st.bytes);
	} else {
		*err = c->err;
		binlog_err_prefix(err, "commit to %s/%s", m->o.path, tp->name);
	}
	free(c->offs);
	c->offs = NULL;
	return rc;
}

/*
 * Commit the topic's batch, and the offsets consumed since the last
 * commit. The commit before it is waited for first. With `wait`, this one
 * is too; otherwise it runs on its own thread while the next batch fills
 * (in the caller when no thread or spare batch can be had).
 */
static binlog_errcode_t commit_topic(merger_t *m, mtopic_t *tp, int wait, binlog_err_t *err)
{
	mcommit_t *c = &tp->commit;
	merge_offset_t *offs;
	size_t n = 0;
	binlog_errcode_t rc;

	if ((rc = commit_finish(m, tp, err)) != BINLOG_OK || !tp->table)
		return rc;
	offs = calloc((size_t)tp->nparts + 1, sizeof(*offs));
	if (!offs)
		return binlog_err_set(err, BINLOG_E_NOMEM, "commit to %s/%s: out of memory",
				      m->o.path, tp->name);
	for (int32_t i = 0; i < tp->nparts; i++) {
		mpart_t *p = &tp->parts[i];
		if (p->next < 0 || (p->next == p->committed && p->watermark_ms == p->committed_wm))
			continue;
		offs[n++] = (merge_offset_t){tp->name, p->partition, p->next, p->watermark_ms};
	}
	if (n == 0 && merge_map_count(tp->batch) == 0) {
		free(offs);
		return BINLOG_OK;
	}
	*c = (mcommit_t){.state = C_DONE,
			 .table = tp->table,
			 .rows = tp->batch,
			 .offs = offs,
			 .n = n,
			 .changes = tp->batch_changes,
			 .t0 = cdc_mono_ms()};
	tp->batch_changes = 0;
	tp->first_ms = 0;
	/* On its own thread, the batch is handed over and the spare fills
	 * next; in the caller, the batch is emptied in place. */
	if (!wait && !tp->spare && (tp->spare = merge_map_new()))
		merge_map_keep(tp->spare, m->o.batch_bytes);
	if (!wait && tp->spare && pthread_create(&c->th, NULL, commit_run, c) == 0) {
		c->state = C_THREAD;
		tp->batch = tp->spare;
		tp->spare = NULL;
	} else {
		commit_run(c);
	}
	return wait ? commit_finish(m, tp, err) : BINLOG_OK;
}

/* Take in the outcome of commits that have ended, without waiting. */
static binlog_errcode_t commit_poll(merger_t *m, binlog_err_t *err)
{
	for (size_t i = 0; i < m->ntopics; i++) {
		mtopic_t *tp = &m->topics[i];
		if (tp->commit.state != C_IDLE && atomic_load(&tp->commit.finished) &&
		    commit_finish(m, tp, err) != BINLOG_OK)
			return err->code;
	}
	return BINLOG_OK;
}

/* Commit every topic's batch and wait for it: nothing is left running. */
static binlog_errcode_t commit_all(merger_t *m, binlog_err_t *err)
{
	for (size_t i = 0; i < m->ntopics; i++) {
		binlog_errcode_t rc = commit_topic(m, &m->topics[i], 1, err);
		if (rc != BINLOG_OK)
			return rc;
	}
	return BINLOG_OK;
}

static binlog_errcode_t open_table(merger_t *m, mtopic_t *tp, binlog_err_t *err)
{
	char dir[4096];

	if (tp->table)
		return BINLOG_OK;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", m->o.path, tp->name) >= sizeof(dir))
		return binlog_err_set(err, BINLOG_E_USAGE, "%s: path too long", m->o.path);
	return merge_table_open(dir, &m->o.table, 1, &m->o.tune, &tp->table, err);
}

/* ------------------------------------------------------------------ */
/* The consumer                                                        */

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	merger_t *m = opaque;
	binlog_err_t *err = &m->err;

	if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		for (int i = 0; i < parts->cnt && !m->failed; i++) {
			rd_kafka_topic_partition_t *x = &parts->elems[i];
			mtopic_t *tp = topic_find(m, x->topic);
			mpart_t *p;
			merge_offset_t stored;
			if (!tp || !(p = part_get(tp, x->partition))) {
				m->failed = 1;
				binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
				break;
			}
			/* The table is used here: its commit ends first. */
			if (commit_finish(m, tp, err) != BINLOG_OK ||
			    open_table(m, tp, err) != BINLOG_OK ||
			    merge_table_offset(tp->table, tp->name, x->partition, &stored, err) !=
				    BINLOG_OK) {
				m->failed = 1;
				break;
			}
			if (tp->nparts > 0) {
				int32_t n = topic_partitions(m, tp->name);
				if (n > 0)
					merge_table_set_partitions(tp->table, tp->name, n);
			}
			p->assigned = 1;
			p->eof = 0;
			p->committed = stored.offset;
			p->committed_wm = stored.watermark_ms;
			p->watermark_ms = stored.watermark_ms;
			p->next = stored.offset;
			x->offset = (stored.offset >= 0 && !m->o.from_beginning)
					    ? stored.offset
					    : RD_KAFKA_OFFSET_BEGINNING;
			cdc_log_info("%s [%" PRId32 "]: assigned, from %s%" PRId64, x->topic,
				     x->partition, x->offset < 0 ? "the beginning " : "offset ",
				     x->offset < 0 ? (int64_t)0 : x->offset);
		}
		rd_kafka_assign(rk, m->failed ? NULL : parts);
		return;
	}
	if (e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
		/* Commit what was consumed from them before they go. */
		for (size_t i = 0; i < m->ntopics && !m->failed; i++)
			cdc_log_debug("%s: revocation: %s, then %" PRIu64 " changes to commit",
				      m->topics[i].name,
				      m->topics[i].commit.state == C_THREAD ? "a commit to wait for"
									    : "no commit running",
				      m->topics[i].batch_changes);
		if (!m->failed && commit_all(m, err) != BINLOG_OK)
			m->failed = 1;
		for (int i = 0; i < parts->cnt; i++) {
			mtopic_t *tp = topic_find(m, parts->elems[i].topic);
			mpart_t *p = tp ? part_get(tp, parts->elems[i].partition) : NULL;
			if (p) {
				p->assigned = 0;
				p->next = -1;
			}
			cdc_log_info("%s [%" PRId32 "]: revoked", parts->elems[i].topic,
				     parts->elems[i].partition);
		}
		rd_kafka_assign(rk, NULL);
		return;
	}
	cdc_log_error("group %s: rebalance: %s", m->o.group, rd_kafka_err2str(e));
	rd_kafka_assign(rk, NULL);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 4)
		cdc_log_warn("kafka: %s: %s", fac, buf);
}

static binlog_errcode_t conf_set(rd_kafka_conf_t *conf, const char *k, const char *v,
				 binlog_err_t *err)
{
	char es[512];

	if (rd_kafka_conf_set(conf, k, v, es, sizeof(es)) != RD_KAFKA_CONF_OK)
		return binlog_err_set(err, BINLOG_E_USAGE, "kafka property %s=%s: %s", k, v, es);
	return BINLOG_OK;
}

static binlog_errcode_t make_consumer(merger_t *m, binlog_err_t *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char es[512];
	binlog_errcode_t rc;
	rd_kafka_topic_partition_list_t *subs;
	rd_kafka_resp_err_t e;

	if ((rc = conf_set(conf, "bootstrap.servers", m->o.brokers, err)) ||
	    (rc = conf_set(conf, "group.id", m->o.group, err)) ||
	    (rc = conf_set(conf, "enable.auto.commit", "false", err)) ||
	    (rc = conf_set(conf, "enable.auto.offset.store", "false", err)) ||
	    (rc = conf_set(conf, "auto.offset.reset", "earliest", err)) ||
	    (rc = conf_set(conf, "enable.partition.eof", "true", err)) ||
	    (rc = conf_set(conf, "isolation.level", "read_committed", err)) ||
	    /* The fetch queue is what a slow commit holds back: bound it. */
	    (rc = conf_set(conf, "queued.max.messages.kbytes", "65536", err)) ||
	    /* Fetch ahead well before the queue runs dry: with the default
	     * (100000 messages) the consumer waited on fetches at half the
	     * rate it can apply (make bench). */
	    (rc = conf_set(conf, "queued.min.messages", "1000000", err)) ||
	    (rc = conf_set(conf, "max.poll.interval.ms", "600000", err))) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	for (size_t i = 0; i < m->o.nprops; i++) {
		char *eq = strchr(m->o.props[i], '=');
		*eq = 0;
		rc = conf_set(conf, m->o.props[i], eq + 1, err);
		*eq = '=';
		if (rc) {
			rd_kafka_conf_destroy(conf);
			return rc;
		}
	}
	rd_kafka_conf_set_opaque(conf, m);
	rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
	rd_kafka_conf_set_log_cb(conf, on_log);
	if (!(m->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, es, sizeof(es)))) {
		rd_kafka_conf_destroy(conf);
		return binlog_err_set(err, BINLOG_E_USAGE, "kafka consumer: %s", es);
	}
	rd_kafka_poll_set_consumer(m->rk);
	subs = rd_kafka_topic_partition_list_new((int)m->o.ntopics);
	for (size_t i = 0; i < m->o.ntopics; i++)
		rd_kafka_topic_partition_list_add(subs, m->o.topics[i], RD_KAFKA_PARTITION_UA);
	e = rd_kafka_subscribe(m->rk, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (e)
		return binlog_err_set(err, BINLOG_E_USAGE, "subscribe: %s", rd_kafka_err2str(e));
	return BINLOG_OK;
}

static const char *header(const rd_kafka_message_t *msg, const char *name, size_t *len)
{
	rd_kafka_headers_t *h = NULL;
	const void *v = NULL;

	*len = 0;
	if (rd_kafka_message_headers(msg, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(h, name, &v, len) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return NULL;
	return v;
}

static binlog_errcode_t on_message(merger_t *m, rd_kafka_message_t *msg, int64_t now,
				   binlog_err_t *err)
{
	const char *tname = rd_kafka_topic_name(msg->rkt);
	mtopic_t *tp = topic_find(m, tname);
	mpart_t *p = tp ? part_get(tp, msg->partition) : NULL;
	const char *seq, *type;
	size_t seq_len, type_len;
	merge_row_t r;
	int kind;
	binlog_errcode_t rc;

	if (!p || !p->assigned)
		return BINLOG_OK; /* revoked meanwhile */
	seq = header(msg, "sequence", &seq_len);
	type = header(msg, "type", &type_len);
	rc = merge_change_parse(msg->key, msg->key_len, msg->payload, msg->len, seq, seq_len, type,
				type_len, &m->scratch, &kind, &r, err);
	if (rc != BINLOG_OK) {
		binlog_err_prefix(err, "%s [%" PRId32 "] offset %" PRId64, tname, msg->partition,
				  msg->offset);
		if (!m->o.skip_bad)
			return rc;
		cdc_log_warn("%s; skipped (--skip-bad)", err->msg);
		m->bad++;
	} else if (kind == MERGE_HEARTBEAT) {
		m->heartbeats++;
	} else {
		binlog_buf_reset(&m->line);
		merge_line_put(&m->line, &r);
		if (m->line.failed ||
		    merge_map_offer(tp->batch, &r, m->line.data, m->line.len - 1, 0) < 0)
			return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory for the batch");
		tp->batch_changes++;
		m->changes++;
	}
	if (r.ts_ms > p->watermark_ms)
		p->watermark_ms = r.ts_ms;
	p->next = msg->offset + 1;
	p->eof = 0;
	if (!tp->first_ms)
		tp->first_ms = now; /* changes, and heartbeats' progress, to commit */
	return BINLOG_OK;
}

static int all_eof(merger_t *m)
{
	int any = 0;

	for (size_t i = 0; i < m->ntopics; i++)
		for (int32_t j = 0; j < m->topics[i].nparts; j++) {
			mpart_t *p = &m->topics[i].parts[j];
			if (!p->assigned)
				continue;
			any = 1;
			if (!p->eof)
				return 0;
		}
	return any;
}

static void log_stats(merger_t *m, int64_t now)
{
	double secs = (double)(now - m->last_stats_ms) / 1000.0;

	cdc_log_info("merged %" PRIu64 " changes (%.0f/s), %" PRIu64 " rows written, %" PRIu64
		     " stale, %" PRIu64 " heartbeats, %" PRIu64 " commits, %" PRIu64
		     " compactions, %" PRIu64 " partitions committed",
		     m->changes, secs > 0 ? (double)(m->changes - m->last_changes) / secs : 0.0,
		     m->applied, m->stale, m->heartbeats, m->commits, m->compactions, m->successes);
	m->last_changes = m->changes;
	m->last_stats_ms = now;
}

static binlog_errcode_t maintain(merger_t *m, binlog_err_t *err)
{
	for (size_t i = 0; i < m->ntopics; i++) {
		mtopic_t *tp = &m->topics[i];
		uint64_t n = 0;
		binlog_errcode_t rc;
		if (!tp->table)
			continue;
		if ((rc = commit_finish(m, tp, err)) != BINLOG_OK)
			return rc;
		if ((rc = merge_table_maintain(tp->table, 0, &n, err)) != BINLOG_OK) {
			binlog_err_prefix(err, "maintenance of %s", merge_table_dir(tp->table));
			return rc;
		}
		m->compactions += n;
	}
	return BINLOG_OK;
}

/* One message off the consumer queue: a record, an end of partition, or
 * an error (fatal ones end the run). */
static binlog_errcode_t take(merger_t *m, rd_kafka_message_t *msg, int64_t now, binlog_err_t *err)
{
	if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		mtopic_t *tp = topic_find(m, rd_kafka_topic_name(msg->rkt));
		mpart_t *p = tp ? part_get(tp, msg->partition) : NULL;
		if (p)
			p->eof = 1;
		return BINLOG_OK;
	}
	if (msg->err) {
		if (msg->err == RD_KAFKA_RESP_ERR__FATAL ||
		    msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
		    msg->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
			return binlog_err_set(err, BINLOG_E_SINK, "kafka: %s",
					      rd_kafka_message_errstr(msg));
		cdc_log_warn("kafka: %s", rd_kafka_message_errstr(msg));
		return BINLOG_OK;
	}
	m->last_record_ms = now;
	if (!m->first_ms)
		m->first_ms = now;
	return on_message(m, msg, now, err);
}

#define TAKE_MAX 1024

static binlog_errcode_t merge_loop(merger_t *m, binlog_err_t *err)
{
	binlog_errcode_t rc = BINLOG_OK;
	rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(m->rk);
	rd_kafka_message_t *msgs[TAKE_MAX];
	/* A Hive commit rewrites the partitions it touches whole, so its cost
	 * goes with their size, not the batch's: overlapped, commits came out
	 * smaller and more numerous, and slower in all (make bench). */
	int overlap = m->o.table.kind == MERGE_TABLE_MOR;

	m->last_stats_ms = m->last_maintain_ms = m->last_record_ms = cdc_mono_ms();
	while (!stop && !m->failed) {
		/* Up to TAKE_MAX messages a call (this also serves the
		 * rebalance callback): per-message polling cost a third of
		 * the rate (make bench). */
		ssize_t got = rd_kafka_consume_batch_queue(q, POLL_MS, msgs, TAKE_MAX);
		int64_t now = cdc_mono_ms();
		int any = got > 0;
		for (ssize_t k = 0; k < got; k++) {
			if (rc == BINLOG_OK)
				rc = take(m, msgs[k], now, err);
			rd_kafka_message_destroy(msgs[k]);
		}
		if (rc != BINLOG_OK)
			break;
		if (got < 0)
			cdc_log_warn("kafka: %s", rd_kafka_err2str(rd_kafka_last_error()));
		if ((rc = commit_poll(m, err)) != BINLOG_OK)
			goto out;
		for (size_t i = 0; i < m->ntopics; i++) {
			mtopic_t *tp = &m->topics[i];
			int full = tp->batch_changes >= m->o.batch_rows ||
				   merge_map_bytes(tp->batch) >= m->o.batch_bytes;
			int due = tp->first_ms && now - tp->first_ms >= (int64_t)m->o.commit_ms;
			/* At the end of what is there, commit at once: nothing
			 * more will fill the batch for a while. */
			int idle = !any && tp->first_ms && all_eof(m);
			if ((full || due || idle) &&
			    (rc = commit_topic(m, tp, !overlap, err)) != BINLOG_OK)
				goto out;
		}
		if (m->o.maintain_ms && now - m->last_maintain_ms >= (int64_t)m->o.maintain_ms) {
			if ((rc = maintain(m, err)) != BINLOG_OK)
				goto out;
			m->last_maintain_ms = cdc_mono_ms();
		}
		if (now - m->last_stats_ms >= STATS_EVERY_MS)
			log_stats(m, now);
		if (m->o.idle_exit_ms && !any && all_eof(m) &&
		    now - m->last_record_ms >= (int64_t)m->o.idle_exit_ms)
			break;
	}
out:
	rd_kafka_queue_destroy(q);
	if (m->failed && rc == BINLOG_OK) {
		/* An error in a rebalance callback. */
		*err = m->err;
		rc = m->err.code ? m->err.code : BINLOG_E_SINK;
	}
	if (rc == BINLOG_OK)
		rc = commit_all(m, err);
	return rc;
}

int cdc_merge_main(int argc, char **argv)
{
	merger_t m;
	binlog_err_t err = {0};
	binlog_errcode_t rc;
	int st;

	/* First: a SIGTERM from here on stops the merger cleanly. */
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	memset(&m, 0, sizeof(m));
	cdc_log_init("sluice merge");
	if ((st = parse_args(&m.o, argc, argv)) != 0) {
		opts_free(&m.o);
		return st < 0 ? 0 : st;
	}
	binlog_buf_init(&m.line, 0);
	binlog_buf_init(&m.scratch, 0);
	if ((rc = cdc_mkdirs(m.o.path, 0755, &err)) != BINLOG_OK)
		goto out;
	m.topics = calloc(m.o.ntopics, sizeof(*m.topics));
	if (!m.topics) {
		rc = binlog_err_set(&err, BINLOG_E_NOMEM, "out of memory");
		goto out;
	}
	m.ntopics = m.o.ntopics;
	for (size_t i = 0; i < m.ntopics; i++) {
		m.topics[i].name = m.o.topics[i];
		if (!(m.topics[i].batch = merge_map_new())) {
			rc = binlog_err_set(&err, BINLOG_E_NOMEM, "out of memory");
			goto out;
		}
		merge_map_keep(m.topics[i].batch, m.o.batch_bytes);
		/* Open (create) now: a wrong layout is an error before consuming. */
		if ((rc = open_table(&m, &m.topics[i], &err)) != BINLOG_OK)
			goto out;
	}
	if ((rc = make_consumer(&m, &err)) != BINLOG_OK)
		goto out;
	cdc_log_info("merging %zu topic%s into %s (%s tables), group %s", m.ntopics,
		     m.ntopics == 1 ? "" : "s", m.o.path,
		     m.o.table.kind == MERGE_TABLE_MOR ? "merge-on-read" : "Hive", m.o.group);
	rc = merge_loop(&m, &err);
	if (rc != BINLOG_OK)
		m.failed = 1; /* closing the consumer must not commit past it */
	log_stats(&m, cdc_mono_ms());
	if (m.first_ms && m.done_ms > m.first_ms)
		cdc_log_info("total: %" PRIu64 " changes in %.3f s from the first record to the "
			     "last commit: %.0f changes/s",
			     m.changes, (double)(m.done_ms - m.first_ms) / 1000.0,
			     (double)m.changes * 1000.0 / (double)(m.done_ms - m.first_ms));
out:
	for (size_t i = 0; i < m.ntopics; i++) {
		binlog_err_t e2 = {0};
		/* After a failure a commit may still run: it ends before its
		 * table closes (what it made durable stays so either way). */
		if (commit_finish(&m, &m.topics[i], &e2) == BINLOG_OK)
			continue;
		m.failed = 1;
		if (rc == BINLOG_OK) {
			rc = e2.code;
			err = e2;
		} else {
			cdc_log_error("%s", e2.msg);
		}
	}
	if (m.rk) {
		rd_kafka_consumer_close(m.rk);
		rd_kafka_destroy(m.rk);
	}
	for (size_t i = 0; i < m.ntopics; i++) {
		merge_table_close(m.topics[i].table);
		merge_map_free(m.topics[i].batch);
		merge_map_free(m.topics[i].spare);
		free(m.topics[i].parts);
	}
	free(m.topics);
	binlog_buf_free(&m.line);
	binlog_buf_free(&m.scratch);
	opts_free(&m.o);
	if (rc != BINLOG_OK) {
		cdc_log_error("%s", err.msg[0] ? err.msg : binlog_strerror(rc));
		return 1;
	}
	return 0;
}
