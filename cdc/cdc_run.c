/*
 * cdc_run.c: the service loop (see cdc_run.h).
 *
 *   config -> checkpoint or startup mode -> replica -> decoder -> stream
 *          -> sink, checkpoint at transaction boundaries
 *
 * One thread. The sink's writes block when it is slow, and the replica
 * reads nothing meanwhile: back-pressure reaches the server's socket, and
 * memory does not grow with the backlog.
 *
 * Positions. A binlog event's header holds its end position in the file
 * (log_pos). After an event that closes a transaction, or one outside any
 * transaction, the stream is at a boundary: the next transaction starts at
 * (file, log_pos), with the sequence state as it stands. That boundary is
 * what a checkpoint stores and what a reconnection resumes from. Events the
 * server makes up (the ROTATE that opens a stream, heartbeats, the format
 * description sent when starting mid-file) have log_pos 0 or the
 * ARTIFICIAL flag and move nothing.
 */
#include "cdc_run.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mysql.h>

#include "binlog_jsonw.h"
#include "binlog_types.h"
#include "cdc_config.h"
#include "cdc_conn.h"
#include "cdc_filter.h"
#include "cdc_fs.h"
#include "cdc_log.h"
#include "cdc_offsets.h"
#include "cdc_pipe.h"
#include "cdc_replica.h"
#include "cdc_route.h"
#include "cdc_schema_history.h"
#include "cdc_snapshot.h"
#include "cdc_stream.h"
#include "schema.h"
#include "schema_catalog.h"
#include "sink.h"
#include "sink_kafka.h"

#define BACKOFF_FIRST_MS  100
#define PROGRESS_EVERY_MS 60000
/* Compact the schema history after this many appends (a DDL or a table
 * read from the catalog each). */
#define HISTORY_COMPACT_EVERY 1024
/* Checkpoints taken and waiting for the sink's acknowledgements. */
#define PENDING_MAX 16
/* How often a waiting checkpoint looks at the acknowledgements. */
#define PENDING_POLL_MS 20
/* While a snapshot runs: how often read chunks are looked for when the
 * stream is idle, requests looked for, progress logged and the status
 * file written. */
#define SNAP_POLL_MS     20
#define REQUEST_SCAN_MS  1000
#define SNAP_PROGRESS_MS 10000
#define STATUS_EVERY_MS  2000

/* Set by the signal handler; the socket is shut down so that a blocked
 * read returns at once. */
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stop_signal;
static volatile int stream_fd = -1;

static void on_stop(int sig)
{
	int fd = stream_fd;

	stop_requested = 1;
	stop_signal = sig;
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
}

typedef struct run {
	cdc_config_t cfg;
	int stop_at_end;
	char state_path[PATH_MAX];
	char lock_path[PATH_MAX];
	char history_path[PATH_MAX];
	char request_dir[PATH_MAX]; /* `sluice snapshot` requests */
	char status_path[PATH_MAX];
	cdc_schema_history_t *history;
	int lock_fd;

	cdc_pipe_t p; /* filter, sink, router, catalog */
	/* Checkpoints taken, oldest first, each stored once the sink has
	 * acknowledged the records before it (sink.h: durable). */
	struct pending {
		cdc_offsets_t o; /* owns file, gtid and snapshot */
		uint64_t written;
		char *finished; /* request files to remove once it is stored */
	} pending[PENDING_MAX];
	int npending;
	int64_t pending_ms;   /* when they were last looked at */
	int64_t beat_scan_ms; /* the last heartbeat scan */
	uint64_t heartbeats;
	int commit_beats; /* transactional sink: heartbeats wait for a commit */

	/* Snapshots: the tables being read, what a checkpoint must store
	 * that records do not show, finished requests whose files go when a
	 * checkpoint is stored (and, meanwhile, are not taken again). */
	cdc_snapshot_t *snap;
	int snap_dirty;
	binlog_buf_t req_done;
	char *req_carry;
	int64_t req_scan_ms, snap_log_ms, status_ms, snap_tick_ms;
	int row_image_checked;

	binlog_opts_t dopts;
	binlog_decoder_t *dec;
	cdc_stream_t st;
	cdc_replica_t *rep;
	cdc_server_t srv; /* the server of the last connection */
	int have_srv;
	cdc_start_t start; /* where the next connection starts */

	/* where the next transaction starts (see the top of this file) */
	char b_file[256];
	uint64_t b_pos;
	uint64_t b_sink;   /* the sink's offset there */
	uint64_t b_seq;    /* the last sequence before it */
	uint64_t next_off; /* file offset of the next event */
	int at_boundary;
	/* The furthest boundary known to be behind the stream: a stream that
	 * resumes by GTID is first sent the start of an older file (the
	 * transactions the state holds are skipped), yet has everything up
	 * to where it resumed. Snapshot chunks are emitted against it. */
	uint64_t reached_file, reached_pos;
	int skipping; /* connected by GTID, no transaction read yet */

	/* the last checkpoint */
	char c_file[256];
	uint64_t c_pos;
	uint64_t c_seq;
	uint64_t c_records;
	int64_t c_ms;

	uint64_t records_at_progress;
	int64_t progress_ms;
	int64_t last_event_ts; /* commit time of the last event, s */
	uint64_t reconnects;
} run_t;

static void usage(FILE *out)
{
	fputs("usage: sluice run -c FILE [--stop-at-end]\n"
	      "\n"
	      "Follow the source in FILE as a replica and write its row changes to the\n"
	      "sink, checkpointing in pipeline.state-dir; restarted, resume from the\n"
	      "checkpoint. SIGTERM or SIGINT stop it cleanly.\n"
	      "\n"
	      "  -c, --config FILE   the pipeline (docs/CONFIGURATION.md)\n"
	      "      --stop-at-end   stop once the server has sent all it has (a backfill\n"
	      "                      or a catch-up), instead of waiting for more\n"
	      "\n"
	      "SLUICE_LOG=debug|info|warn|error sets how much is logged (info).\n",
	      out);
}

/* ------------------------------------------------------------------ */
/* State directory, lock, sink                                         */

static binlog_errcode_t open_state(run_t *r, binlog_err_t *err)
{
	const char *dir = r->cfg.pipeline.state_dir;
	const char *name = r->cfg.pipeline.name;

	if (cdc_mkdirs(dir, 0755, err) != BINLOG_OK)
		return err->code;
	if (snprintf(r->state_path, sizeof(r->state_path), "%s/%s.offsets.json", dir, name) >=
		    (int)sizeof(r->state_path) ||
	    snprintf(r->lock_path, sizeof(r->lock_path), "%s/%s.lock", dir, name) >=
		    (int)sizeof(r->lock_path) ||
	    snprintf(r->history_path, sizeof(r->history_path), "%s/%s.schema.jsonl", dir, name) >=
		    (int)sizeof(r->history_path) ||
	    snprintf(r->request_dir, sizeof(r->request_dir), "%s/%s.requests", dir, name) >=
		    (int)sizeof(r->request_dir) ||
	    snprintf(r->status_path, sizeof(r->status_path), "%s/%s.status.json", dir, name) >=
		    (int)sizeof(r->status_path))
		return binlog_err_set(err, BINLOG_E_USAGE, "pipeline.state-dir: path too long");
	/* One process per pipeline: two would write the same sink and race
	 * on the checkpoint. The lock goes with the process, however it
	 * ends. */
	r->lock_fd = open(r->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (r->lock_fd < 0)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", r->lock_path,
				      strerror(errno));
	if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(r->lock_fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "pipeline %s is already running (process %s holds %s)", name,
				      *pid ? pid : "?", r->lock_path);
	}
	if (ftruncate(r->lock_fd, 0) == 0) {
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		if (pwrite(r->lock_fd, pid, (size_t)n, 0) < 0) {
			/* the pid is only informative */
		}
	}
	return BINLOG_OK;
}

static binlog_errcode_t open_sink(run_t *r, binlog_err_t *err)
{
	cdc_pipe_kafka_t ko = {.transactional = 1, .stop = &stop_requested};

	if (strcmp(r->cfg.sink.type, "kafka") == 0)
		return cdc_pipe_open_kafka(&r->p, &ko, err);
	return cdc_pipe_open_file(&r->p, CDC_PIPE_FILE_APPEND, err);
}

static uint64_t sink_offset(run_t *r)
{
	return r->p.sink_rewinds ? r->p.sink->ops->offset(r->p.sink) : 0;
}

/* ------------------------------------------------------------------ */
/* Checkpoints                                                         */

static const char *flavor_name(int f)
{
	return f == BINLOG_FLAVOR_MARIADB ? "mariadb" : f == BINLOG_FLAVOR_MYSQL ? "mysql" : "";
}

/* What every checkpoint says besides its position: the source, the
 * server, the time, the totals. */
static void offsets_of(run_t *r, cdc_offsets_t *o)
{
	memset(o, 0, sizeof(*o));
	o->source = r->cfg.source.name;
	o->flavor = (char *)flavor_name(r->have_srv ? r->srv.flavor : 0);
	o->server_id = r->have_srv ? r->srv.server_id : 0;
	o->server_uuid = r->have_srv ? r->srv.server_uuid : "";
	o->has_sink_offset = r->p.sink_rewinds;
	o->updated_ms = cdc_wall_ms();
	o->transactions = r->st.stats.transactions;
	o->records = r->st.stats.records;
}

/* The stored checkpoint moved: remember it, and let the schema history
 * drop what a restart from it can no longer need. */
static binlog_errcode_t stored(run_t *r, const cdc_offsets_t *o, binlog_err_t *err)
{
	if (r->history && cdc_schema_history_appended(r->history) >= HISTORY_COMPACT_EVERY &&
	    cdc_schema_history_compact(r->history, CDC_SEQ_ORDINAL(o->seq_last), err) != BINLOG_OK)
		return err->code;
	cdc_log_debug("checkpoint %s:%llu seq %llu", o->file, (unsigned long long)o->pos,
		      (unsigned long long)o->seq_last);
	return BINLOG_OK;
}

/* The requests a stored checkpoint finished: their files go. */
static void requests_done(run_t *r, const char *finished)
{
	char path[PATH_MAX * 2];

	for (const char *p = finished; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		snprintf(path, sizeof(path), "%s/%.*s", r->request_dir, (int)n, p);
		if (unlink(path) != 0 && errno != ENOENT)
			cdc_log_warn("%s: %s", path, strerror(errno));
		p += n + (nl != NULL);
	}
}

/* A checkpoint holding `finished` will not be stored: the next one
 * takes them over. */
static void carry_finished(run_t *r, char *finished)
{
	size_t a, b;
	char *m;

	if (!finished)
		return;
	if (!r->req_carry) {
		r->req_carry = finished;
		return;
	}
	a = strlen(r->req_carry);
	b = strlen(finished);
	if ((m = realloc(r->req_carry, a + b + 1)) != NULL) {
		memcpy(m + a, finished, b + 1);
		r->req_carry = m;
	}
	free(finished);
}

static void pending_drop(run_t *r, int n)
{
	for (int i = 0; i < n; i++) {
		free(r->pending[i].o.file);
		free(r->pending[i].o.gtid);
		free(r->pending[i].o.snapshot);
		free(r->pending[i].finished);
	}
	memmove(r->pending, r->pending + n, (size_t)(r->npending - n) * sizeof(r->pending[0]));
	r->npending -= n;
}

/*
 * Store the newest waiting checkpoint whose records the sink has all
 * acknowledged. Never blocks: a topic that cannot take writes holds the
 * checkpoint back, not the stream.
 */
static binlog_errcode_t store_durable(run_t *r, binlog_err_t *err)
{
	uint64_t durable;
	int k = -1;

	if (!r->npending)
		return BINLOG_OK;
	if (r->p.sink->ops->durable_error(r->p.sink, err) != BINLOG_OK) {
		binlog_err_prefix(err, "sink");
		return err->code;
	}
	durable = r->p.sink->ops->durable(r->p.sink);
	for (int i = 0; i < r->npending && r->pending[i].written <= durable; i++)
		k = i;
	if (k < 0)
		return BINLOG_OK;
	if (cdc_offsets_save(r->state_path, &r->pending[k].o, err) != BINLOG_OK ||
	    stored(r, &r->pending[k].o, err) != BINLOG_OK)
		return err->code;
	for (int i = 0; i <= k; i++)
		requests_done(r, r->pending[i].finished);
	pending_drop(r, k + 1);
	return BINLOG_OK;
}

/*
 * Checkpoint at the boundary: make everything before it durable, then
 * store it. A sink that confirms later (Kafka) gets it queued until it
 * has (store_durable); `wait` waits for that (stopping). A transactional
 * sink commits the records and the checkpoint together first.
 */
static binlog_errcode_t checkpoint_ex(run_t *r, int wait, binlog_err_t *err)
{
	char *finished = NULL;
	cdc_offsets_t o = {0};
	binlog_buf_t g;
	binlog_errcode_t rc = BINLOG_OK;
	const sink_ops_t *ops = r->p.sink->ops;

	if (!r->at_boundary || !r->b_file[0])
		goto waiting;
	/* Before the start point is reached nothing was emitted, and a
	 * restart from here would not know to hold back. */
	if (r->st.emit_from.active)
		goto waiting;
	if (strcmp(r->c_file, r->b_file) == 0 && r->c_pos == r->b_pos &&
	    r->c_seq == r->st.seq.last && r->c_records == r->st.stats.records && !r->commit_beats &&
	    !r->snap_dirty)
		goto waiting;
	if (!ops->durable && (rc = sink_flush(r->p.sink, err)) != BINLOG_OK) {
		binlog_err_prefix(err, "sink");
		return rc;
	}
	binlog_buf_init(&g, 0);
	cdc_seq_format_state(&r->st.seq, &g);
	binlog_buf_putc(&g, 0);
	if (g.failed) {
		binlog_buf_free(&g);
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	}
	offsets_of(r, &o);
	o.file = r->b_file;
	o.pos = r->b_pos;
	o.gtid = (char *)g.data;
	o.seq_last = r->st.seq.last;
	o.sink_offset = r->b_sink;
	if (r->snap) {
		char *more = NULL;
		if (!(o.snapshot = cdc_snapshot_state(r->snap, &more))) {
			binlog_buf_free(&g);
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
		if (more) { /* not to be taken again before their files go */
			binlog_buf_puts(&r->req_done, more);
		}
		carry_finished(r, more);
		finished = r->req_carry;
		r->req_carry = NULL;
	}
	if (ops->commit) {
		char *text = cdc_offsets_format(&o);
		if (!text)
			rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		else if ((rc = ops->commit(r->p.sink, text, err)) != BINLOG_OK)
			binlog_err_prefix(err, "sink");
		free(text);
	}
	if (rc == BINLOG_OK && ops->durable) {
		struct pending *p;
		if (r->npending == PENDING_MAX) {
			/* Full (the sink is stuck): the newest makes way. */
			p = &r->pending[--r->npending];
			free(p->o.file);
			free(p->o.gtid);
			free(p->o.snapshot);
			carry_finished(r, p->finished);
			/* ... and its finished requests go with this one */
			carry_finished(r, finished);
			finished = r->req_carry;
			r->req_carry = NULL;
		}
		p = &r->pending[r->npending];
		p->o = o;
		p->o.file = strdup(o.file);
		p->o.gtid = (char *)g.data; /* handed over */
		g.data = NULL;
		o.snapshot = NULL; /* handed over */
		p->finished = finished;
		finished = NULL;
		p->written = ops->written(r->p.sink);
		if (!p->o.file) {
			free(p->o.gtid);
			free(p->o.snapshot);
			binlog_buf_free(&g);
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
		r->npending++;
	} else if (rc == BINLOG_OK) {
		if ((rc = cdc_offsets_save(r->state_path, &o, err)) == BINLOG_OK &&
		    (rc = stored(r, &o, err)) == BINLOG_OK)
			requests_done(r, finished);
	}
	binlog_buf_free(&g);
	free(o.snapshot);
	if (rc != BINLOG_OK) {
		carry_finished(r, finished);
		return rc;
	}
	free(finished);
	r->snap_dirty = 0;
	snprintf(r->c_file, sizeof(r->c_file), "%s", r->b_file);
	r->c_pos = r->b_pos;
	r->c_seq = r->st.seq.last;
	r->c_records = r->st.stats.records;
	r->c_ms = cdc_mono_ms();
	r->commit_beats = 0;
waiting:
	if (!ops->durable)
		return BINLOG_OK;
	if (wait && (rc = sink_flush(r->p.sink, err)) != BINLOG_OK) {
		binlog_err_prefix(err, "sink");
		return rc;
	}
	return store_durable(r, err);
}

static binlog_errcode_t checkpoint(run_t *r, binlog_err_t *err)
{
	return checkpoint_ex(r, 0, err);
}

static int checkpoint_due(const run_t *r, int64_t now)
{
	return now - r->c_ms >= (int64_t)r->cfg.pipeline.checkpoint_interval_ms;
}

static int checkpoint_dirty(const run_t *r)
{
	return r->at_boundary && !r->st.emit_from.active &&
	       (strcmp(r->c_file, r->b_file) != 0 || r->c_pos != r->b_pos ||
		r->c_records != r->st.stats.records || r->snap_dirty);
}

/* ------------------------------------------------------------------ */
/* Where to start                                                      */

static binlog_errcode_t dup_str(char **dst, const char *s, binlog_err_t *err)
{
	free(*dst);
	*dst = strdup(s ? s : "");
	return *dst ? BINLOG_OK : binlog_err_set(err, BINLOG_E_NOMEM, NULL);
}

static binlog_errcode_t start_from_checkpoint(run_t *r, cdc_offsets_t *o, binlog_err_t *err)
{
	if (strcmp(o->source, r->cfg.source.name) != 0)
		cdc_log_warn("the checkpoint %s was written for source '%s', the configuration "
			     "names '%s'; resuming from it anyway",
			     r->state_path, o->source, r->cfg.source.name);
	if (strlen(o->file) >= sizeof(r->start.file))
		return binlog_err_set(err, BINLOG_E_USAGE, "%s: binlog.file is too long",
				      r->state_path);
	memset(&r->start, 0, sizeof(r->start));
	snprintf(r->start.file, sizeof(r->start.file), "%s", o->file);
	r->start.pos = o->pos;
	r->start.by_gtid = o->gtid[0] != 0;
	if (dup_str(&r->start.gtid, o->gtid, err) != BINLOG_OK ||
	    dup_str(&r->start.seed, o->gtid, err) != BINLOG_OK)
		return err->code;
	r->start.seq_last = o->seq_last;
	if (o->emit_file && strlen(o->emit_file) < sizeof(r->start.emit_file))
		snprintf(r->start.emit_file, sizeof(r->start.emit_file), "%s", o->emit_file);
	r->start.emit_pos = o->emit_pos;
	r->start.emit_ts_ms = o->emit_ts_ms;

	/* The sink goes back to where the checkpoint left it: what follows
	 * is written again, identically, from the binlog. */
	if (o->has_sink_offset && r->p.sink_rewinds) {
		uint64_t have = sink_offset(r);
		if (have < o->sink_offset)
			return binlog_err_set(
				err, BINLOG_E_USAGE,
				"sink.path %s holds %llu bytes, but the checkpoint %s says sluice "
				"had written %llu: the file was truncated or replaced outside "
				"sluice. Restore it, or move the checkpoint aside to start again "
				"as scan.startup.mode says",
				r->cfg.sink.path, (unsigned long long)have, r->state_path,
				(unsigned long long)o->sink_offset);
		if (have > o->sink_offset) {
			cdc_log_info("sink %s: dropping the %llu bytes written after the last "
				     "checkpoint; they are written again from the binlog",
				     r->cfg.sink.path, (unsigned long long)(have - o->sink_offset));
			if (r->p.sink->ops->rewind(r->p.sink, o->sink_offset, err) != BINLOG_OK)
				return err->code;
		}
	}
	snprintf(r->c_file, sizeof(r->c_file), "%s", o->file);
	r->c_pos = o->pos;
	r->c_seq = o->seq_last;
	r->st.stats.transactions = o->transactions;
	r->st.stats.records = o->records;
	r->c_records = o->records;
	return BINLOG_OK;
}

/*
 * The first checkpoint: the start point as resolved, before anything is
 * read. A restart before the next one starts from there again, not from a
 * new resolution (`latest` or a time would skip what came in between).
 */
static binlog_errcode_t first_checkpoint(run_t *r, binlog_err_t *err)
{
	cdc_offsets_t o;

	offsets_of(r, &o);
	o.file = r->start.file;
	o.pos = r->start.pos;
	o.gtid = r->start.by_gtid && r->start.gtid ? r->start.gtid : "";
	o.seq_last = r->start.seq_last;
	o.sink_offset = r->p.sink_rewinds ? sink_offset(r) : 0;
	o.emit_file = r->start.emit_file;
	o.emit_pos = r->start.emit_pos;
	o.emit_ts_ms = r->start.emit_ts_ms;
	if (r->snap) {
		char *finished = NULL;
		if (!(o.snapshot = cdc_snapshot_state(r->snap, &finished)))
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		free(finished);
	}
	if (cdc_offsets_save(r->state_path, &o, err) != BINLOG_OK) {
		free(o.snapshot);
		return err->code;
	}
	free(o.snapshot);
	snprintf(r->c_file, sizeof(r->c_file), "%s", r->start.file);
	r->c_pos = r->start.pos;
	r->c_seq = r->start.seq_last;
	r->c_ms = cdc_mono_ms();
	return BINLOG_OK;
}

static binlog_errcode_t start_from_config(run_t *r, binlog_err_t *err)
{
	MYSQL *m = cdc_conn_open(&r->cfg.source.conn, err);
	binlog_errcode_t rc;

	if (!m)
		return err->code;
	if ((rc = cdc_server_probe(m, &r->srv, err)) == BINLOG_OK) {
		r->have_srv = 1;
		rc = cdc_start_resolve(m, &r->srv, &r->cfg.source.conn, &r->cfg.source, &r->start,
				       err);
	}
	mysql_close(m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Schema: the catalog connection and DDL                              */

static int initial_mode(const run_t *r);

/* A table a DDL statement names that is captured and has had no snapshot
 * (created, or renamed from a name not captured): snapshot it. */
static void ddl_target(void *ctx, int kind, const char *db, const char *table)
{
	run_t *r = ctx;
	binlog_err_t e;
	char q[600];

	if (kind != SCHEMA_DDL_TABLE || !db || !table || !cdc_filter_table(r->p.filter, db, table))
		return;
	snprintf(q, sizeof(q), "%s.%s", db, table);
	if (cdc_snapshot_is_done(r->snap, q))
		return;
	if (cdc_snapshot_add(r->snap, db, table, CDC_SNAP_INITIAL, NULL, NULL, &e) != BINLOG_OK)
		cdc_log_warn("snapshot of new table %s: %s", q, e.msg);
	else
		cdc_log_info("snapshot of %s queued: a DDL statement made it a captured table", q);
	r->snap_dirty = 1;
}

static binlog_errcode_t on_ddl(void *ctx, const binlog_event_t *ev, binlog_err_t *err)
{
	run_t *r = ctx;
	char db[256];

	if (r->snap && initial_mode(r) && !r->st.muted) {
		snprintf(db, sizeof(db), "%.*s", (int)ev->u.query.db.len,
			 ev->u.query.db.p ? ev->u.query.db.p : "");
		(void)schema_ddl_targets(db[0] ? db : NULL, ev->u.query.sql.p, ev->u.query.sql.len,
					 ddl_target, r);
	}
	return cdc_pipe_ddl(&r->p, ev, err);
}

/* ------------------------------------------------------------------ */
/* The stream                                                          */

static void note_reached(run_t *r, const char *file, uint64_t pos)
{
	uint64_t f = cdc_binlog_file_number(file);

	if (f > r->reached_file || (f == r->reached_file && pos > r->reached_pos)) {
		r->reached_file = f;
		r->reached_pos = pos;
	}
}

static void set_boundary(run_t *r, const char *file, uint64_t pos)
{
	uint64_t f = cdc_binlog_file_number(file);

	if (r->skipping &&
	    (f < r->reached_file || (f == r->reached_file && pos < r->reached_pos))) {
		/* Resumed by GTID: the start of the file the server begins
		 * with, before the transactions it skips. The stream is where
		 * it resumed. */
		file = r->start.file;
		pos = r->start.pos;
	}
	note_reached(r, file, pos);
	if (file != r->b_file)
		snprintf(r->b_file, sizeof(r->b_file), "%s", file);
	r->b_pos = pos;
	r->b_sink = sink_offset(r);
	r->b_seq = r->st.seq.last;
	r->at_boundary = 1;
}

/* ------------------------------------------------------------------ */
/* Heartbeats                                                          */

/* How often the tables are looked over for heartbeats. */
static int64_t beat_every(const run_t *r)
{
	int64_t hb = (int64_t)r->cfg.sink.heartbeat_ms;
	return hb / 4 < 1000 ? (hb / 4 > 0 ? hb / 4 : 1) : 1000;
}

static int beats(const run_t *r)
{
	return r->p.router && r->cfg.sink.heartbeat_ms && r->p.sink->ops->heartbeat;
}

/*
 * Every routed table that has had no change for heartbeat.interval (and
 * no heartbeat either) gets one on every partition of its topic: the
 * current time and the sequence of the last whole transaction, so that
 * a consumer's per-partition watermark moves while the table is idle.
 */
static binlog_errcode_t beat(run_t *r, int64_t now, binlog_err_t *err)
{
	int64_t hb = (int64_t)r->cfg.sink.heartbeat_ms;
	binlog_buf_t v;
	binlog_errcode_t rc = BINLOG_OK;
	int64_t wall = cdc_wall_ms();
	char num[24];

	if (!beats(r) || now - r->beat_scan_ms < beat_every(r))
		return BINLOG_OK;
	r->beat_scan_ms = now;
	binlog_buf_init(&v, 0);
	for (cdc_route_entry_t *e = cdc_router_entries(r->p.router); e; e = e->next_all) {
		sink_record_t rec = {0};
		if (now - e->changed_ms < hb || (e->beat_ms && now - e->beat_ms < hb))
			continue;
		binlog_buf_reset(&v);
		binlog_buf_lit(&v, "{\"heartbeat\":true,\"db\":");
		binlog_jw_utf8(&v, (const uint8_t *)e->db, strlen(e->db));
		binlog_buf_lit(&v, ",\"table\":");
		binlog_jw_utf8(&v, (const uint8_t *)e->table, strlen(e->table));
		snprintf(num, sizeof(num), "%llu", (unsigned long long)r->b_seq);
		binlog_buf_lit(&v, ",\"seq\":");
		binlog_buf_put(&v, num, strlen(num));
		snprintf(num, sizeof(num), "%lld", (long long)wall);
		binlog_buf_lit(&v, ",\"ts_ms\":");
		binlog_buf_put(&v, num, strlen(num));
		binlog_buf_putc(&v, '}');
		if (v.failed) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			break;
		}
		rec.value = v.data;
		rec.value_len = v.len;
		rec.seq = r->b_seq;
		rec.ts_ms = wall;
		rec.db = e->db;
		rec.db_len = strlen(e->db);
		rec.table = e->table;
		rec.table_len = strlen(e->table);
		rec.source = r->cfg.source.name;
		rec.type = "heartbeat";
		rec.topic = e->topic;
		if ((rc = r->p.sink->ops->heartbeat(r->p.sink, &rec, err)) != BINLOG_OK) {
			binlog_err_prefix(err, "heartbeat of %s.%s", e->db, e->table);
			break;
		}
		e->beat_ms = now;
		r->heartbeats++;
		/* In a transaction they are seen when it commits: soon. */
		r->commit_beats = r->p.sink->ops->commit != NULL;
	}
	binlog_buf_free(&v);
	return rc;
}

/*
 * The captured tables the catalog knows now, so that a table idle since
 * sluice started still gets heartbeats (the others join as their changes
 * arrive). A failure only delays those heartbeats.
 */
static void route_known_tables(run_t *r)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_err_t err = {0};
	int64_t now = cdc_mono_ms();

	if (!beats(r) || !r->p.catalog_conn)
		return;
	if (mysql_query(r->p.catalog_conn,
			"SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
			"WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', "
			"'information_schema', 'performance_schema', 'sys')") != 0 ||
	    !(res = mysql_store_result(r->p.catalog_conn))) {
		cdc_log_warn("listing the captured tables for heartbeats: %s",
			     mysql_error(r->p.catalog_conn));
		return;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		cdc_route_entry_t *e;
		if (!row[0] || !row[1] || !cdc_filter_table(r->p.filter, row[0], row[1]))
			continue;
		e = cdc_router_get(r->p.router, row[0], strlen(row[0]), row[1], strlen(row[1]),
				   &err);
		if (!e) {
			cdc_log_warn("heartbeats: %s", err.msg);
			continue;
		}
		if (!e->changed_ms)
			e->changed_ms = now;
	}
	mysql_free_result(res);
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */

static void snap_progress(run_t *r, int force);
static void write_status(run_t *r);

/* A snapshot row to the sink, routed like the table's changes. */
static binlog_errcode_t snap_write(void *ctx, sink_record_t *rec, binlog_err_t *err)
{
	run_t *r = ctx;

	rec->gtid = "";
	if (r->p.router) {
		cdc_route_entry_t *e = cdc_router_get(r->p.router, rec->db, rec->db_len, rec->table,
						      rec->table_len, err);
		if (!e)
			return err->code;
		e->changed_ms = r->st.now_ms;
		rec->topic = e->topic;
	} else {
		rec->key = NULL;
		rec->key_len = 0;
	}
	return sink_write(r->p.sink, rec, err);
}

static binlog_errcode_t snap_record(void *ctx, const schema_table_t *st, const sink_record_t *rec,
				    binlog_err_t *err)
{
	run_t *r = ctx;
	return cdc_snapshot_record(r->snap, st, rec, err);
}

/*
 * The sequence of backfill rows emitted at the boundary: above every
 * record before it, below every record after it (docs/SEQUENCE.md,
 * "Backfill rows"). Under GTIDs the next transaction's ordinal is at
 * least one more, so the last index of this ordinal is free; without, the
 * next record's offset is past the boundary's.
 */
static uint64_t backfill_seq(const run_t *r)
{
	uint64_t last = r->st.seq.last, b;

	if (r->st.seq.gtid_mode || !r->b_file[0])
		return last | (((uint64_t)1 << CDC_SEQ_INDEX_BITS) - 1);
	b = cdc_binlog_file_number(r->b_file) << 32 | (r->b_pos & 0xffffffffu);
	return b > last ? b : last;
}

/* At a boundary: emit the chunks whose high watermark it has reached. */
static binlog_errcode_t snap_emit(run_t *r, binlog_err_t *err)
{
	uint64_t n = 0;
	unsigned chunks = 0;

	if (!r->snap || !r->at_boundary || !r->b_file[0])
		return BINLOG_OK;
	if (cdc_snapshot_emit(r->snap, r->reached_file, r->reached_pos, backfill_seq(r), snap_write,
			      r, &n, &chunks, err) != BINLOG_OK)
		return err->code;
	if (n) {
		r->st.stats.records += n;
		r->b_sink = sink_offset(r);
	}
	if (chunks) {
		r->snap_dirty = 1;
		if (!cdc_snapshot_active(r->snap)) {
			snap_progress(r, 1);
			write_status(r);
		}
	}
	return BINLOG_OK;
}

/* Every base table the server has that the pipeline captures, and
 * `also` (a regex list, NULL: any) selects: fn for each. */
static binlog_errcode_t each_table(run_t *r, cdc_filter_t *also,
				   binlog_errcode_t (*fn)(run_t *r, const char *db,
							  const char *table, void *ctx,
							  binlog_err_t *err),
				   void *ctx, binlog_err_t *err)
{
	MYSQL *m = cdc_conn_open(&r->cfg.source.conn, err);
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_errcode_t rc = BINLOG_OK;

	if (!m)
		return err->code;
	if (!r->row_image_checked) {
		char img[32] = "";
		binlog_err_t e2;
		r->row_image_checked = 1;
		if (cdc_query_value(m, "SELECT @@GLOBAL.binlog_row_image", 0, img, sizeof(img),
				    &e2) == BINLOG_OK &&
		    strcasecmp(img, "FULL") != 0)
			cdc_log_warn(
				"the server logs binlog_row_image=%s: a snapshot row dropped for "
				"a change read meanwhile loses the columns that change's image "
				"leaves out; set binlog_row_image=FULL (docs/SNAPSHOT.md)",
				img);
	}
	if (mysql_query(m, "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
			   "WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('mysql', "
			   "'information_schema', 'performance_schema', 'sys') "
			   "ORDER BY TABLE_SCHEMA, TABLE_NAME") != 0 ||
	    !(res = mysql_store_result(m))) {
		rc = binlog_err_set(err, BINLOG_E_IO, "listing the tables to snapshot: %s",
				    mysql_error(m));
		mysql_close(m);
		return rc;
	}
	while (rc == BINLOG_OK && (row = mysql_fetch_row(res)) != NULL) {
		if (!row[0] || !row[1] || !cdc_filter_table(r->p.filter, row[0], row[1]) ||
		    (also && !cdc_filter_table(also, row[0], row[1])))
			continue;
		rc = fn(r, row[0], row[1], ctx, err);
	}
	mysql_free_result(res);
	mysql_close(m);
	return rc;
}

static binlog_errcode_t add_initial(run_t *r, const char *db, const char *table, void *ctx,
				    binlog_err_t *err)
{
	char q[600];
	unsigned *n = ctx;

	snprintf(q, sizeof(q), "%s.%s", db, table);
	if (cdc_snapshot_is_done(r->snap, q))
		return BINLOG_OK;
	(*n)++;
	return cdc_snapshot_add(r->snap, db, table, CDC_SNAP_INITIAL, NULL, NULL, err);
}

struct backfill_req {
	const char *where, *id;
	unsigned n;
};

static binlog_errcode_t add_backfill(run_t *r, const char *db, const char *table, void *ctx,
				     binlog_err_t *err)
{
	struct backfill_req *q = ctx;

	q->n++;
	cdc_log_info("backfill of %s.%s%s%s queued%s%s", db, table, q->where ? " where " : "",
		     q->where ? q->where : "", q->id ? ", request " : "", q->id ? q->id : "");
	return cdc_snapshot_add(r->snap, db, table, CDC_SNAP_BACKFILL, q->where, q->id, err);
}

/* Tables captured that have had no initial snapshot: queue them. */
static binlog_errcode_t queue_initial(run_t *r, binlog_err_t *err)
{
	unsigned n = 0;

	if (each_table(r, NULL, add_initial, &n, err) != BINLOG_OK)
		return err->code;
	if (n)
		cdc_log_info("snapshot: %u table%s to read, %u at a time", n, n == 1 ? "" : "s",
			     r->cfg.source.snapshot_readers);
	r->snap_dirty = 1;
	return BINLOG_OK;
}

static int request_known(run_t *r, const char *id)
{
	size_t n = strlen(id);

	for (size_t i = 0; i + n <= r->req_done.len; i++) {
		if ((i == 0 || r->req_done.data[i - 1] == '\n') &&
		    memcmp(r->req_done.data + i, id, n) == 0 &&
		    (i + n == r->req_done.len || r->req_done.data[i + n] == '\n'))
			return 1;
	}
	return cdc_snapshot_has_request(r->snap, id);
}

/* A request that cannot be done: kept as NAME.rejected, for the record. */
static void reject_request(run_t *r, const char *name, const char *why)
{
	char from[PATH_MAX * 2], to[PATH_MAX * 2 + 16];

	snprintf(from, sizeof(from), "%s/%s", r->request_dir, name);
	snprintf(to, sizeof(to), "%s.rejected", from);
	cdc_log_error("snapshot request %s rejected: %s", from, why);
	if (rename(from, to) != 0)
		(void)unlink(from);
}

/* One request file of `sluice snapshot`: {"tables":[regex...],"where":...}. */
static binlog_errcode_t take_request(run_t *r, const char *name, binlog_err_t *err)
{
	char path[PATH_MAX * 2];
	binlog_buf_t b;
	json_t *root, *tables, *v;
	json_error_t je;
	cdc_source_conf_t sc;
	cdc_filter_t *also = NULL;
	struct backfill_req q = {.id = name};
	binlog_errcode_t rc;
	int missing = 0;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", r->request_dir, name);
	binlog_buf_init(&b, 0);
	if (cdc_read_file(path, 1 << 20, &b, &missing, err) != BINLOG_OK || missing) {
		binlog_buf_free(&b);
		return BINLOG_OK; /* gone meanwhile, or unreadable: next time */
	}
	root = json_loadb((const char *)b.data, b.len, 0, &je);
	binlog_buf_free(&b);
	tables = json_object_get(root, "tables");
	if (!json_is_array(tables) || json_array_size(tables) == 0) {
		json_decref(root);
		reject_request(r, name, "not a JSON object with a \"tables\" list");
		return BINLOG_OK;
	}
	memset(&sc, 0, sizeof(sc));
	sc.tables.v = calloc(json_array_size(tables), sizeof(char *));
	json_array_foreach(tables, i, v)
	{
		if (sc.tables.v && json_is_string(v))
			sc.tables.v[sc.tables.n++] = (char *)json_string_value(v);
	}
	q.where = json_string_value(json_object_get(root, "where"));
	rc = cdc_filter_new(&sc, &also, err);
	free(sc.tables.v);
	if (rc != BINLOG_OK) {
		json_decref(root);
		reject_request(r, name, err->msg);
		return BINLOG_OK;
	}
	rc = each_table(r, also, add_backfill, &q, err);
	cdc_filter_free(also);
	json_decref(root);
	if (rc != BINLOG_OK)
		return binlog_err_retriable(rc) ? BINLOG_OK : rc;
	if (!q.n)
		reject_request(r, name, "no captured table matches its tables");
	r->snap_dirty = 1;
	return BINLOG_OK;
}

/* Look for new request files. */
static binlog_errcode_t scan_requests(run_t *r, binlog_err_t *err)
{
	DIR *d = opendir(r->request_dir);
	struct dirent *e;
	binlog_errcode_t rc = BINLOG_OK;

	if (!d)
		return BINLOG_OK;
	while (rc == BINLOG_OK && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".json") != 0 ||
		    request_known(r, e->d_name))
			continue;
		rc = take_request(r, e->d_name, err);
	}
	closedir(d);
	return rc;
}

/* The status file: where the pipeline is, and the snapshot's progress. */
static void write_status(run_t *r)
{
	binlog_buf_t b;
	binlog_err_t e;
	char t[512];

	binlog_buf_init(&b, 0);
	snprintf(t, sizeof(t),
		 "{\"pipeline\":\"%s\",\"pid\":%ld,\"updated_ms\":%lld,\"binlog\":{\"file\":\"%s\","
		 "\"pos\":%llu},\"records\":%llu,\"sequence\":%llu,\"snapshot\":",
		 r->cfg.pipeline.name, (long)getpid(), (long long)cdc_wall_ms(), r->b_file,
		 (unsigned long long)r->b_pos, (unsigned long long)r->st.stats.records,
		 (unsigned long long)r->st.seq.last);
	binlog_buf_puts(&b, t);
	if (r->snap)
		cdc_snapshot_progress_json(r->snap, &b);
	else
		binlog_buf_lit(&b, "null");
	binlog_buf_lit(&b, "}\n");
	if (!b.failed)
		(void)cdc_write_atomic(r->status_path, b.data, b.len, CDC_WRITE_REPLACE, 0, &e);
	binlog_buf_free(&b);
}

static void snap_progress(run_t *r, int force)
{
	cdc_snapshot_progress_t p;
	char eta[32] = "?";

	if (!r->snap)
		return;
	cdc_snapshot_get_progress(r->snap, &p);
	if (!force && !p.tables_total)
		return;
	if (p.eta_s >= 0)
		snprintf(eta, sizeof(eta), "%llds", (long long)p.eta_s);
	cdc_log_info("snapshot: %u/%u tables, %llu of ~%llu rows (%.0f rows/s, ETA %s)%s%s, "
		     "%llu left to the stream, %llu chunks read again",
		     p.tables_done, p.tables_total, (unsigned long long)p.rows,
		     (unsigned long long)p.rows_estimate, p.rate, eta,
		     p.current[0] ? ", reading " : "", p.current, (unsigned long long)p.dropped,
		     (unsigned long long)p.rereads);
}

/* Snapshot duties between events: requests, progress, status. */
static binlog_errcode_t snap_tick(run_t *r, int64_t now, binlog_err_t *err)
{
	if (!r->snap || now - r->snap_tick_ms < SNAP_POLL_MS)
		return BINLOG_OK;
	r->snap_tick_ms = now;
	if (snap_emit(r, err) != BINLOG_OK)
		return err->code;
	if (now - r->req_scan_ms >= REQUEST_SCAN_MS) {
		r->req_scan_ms = now;
		if (scan_requests(r, err) != BINLOG_OK)
			return err->code;
	}
	if (cdc_snapshot_active(r->snap)) {
		if (now - r->snap_log_ms >= SNAP_PROGRESS_MS) {
			r->snap_log_ms = now;
			snap_progress(r, 0);
		}
		if (now - r->status_ms >= STATUS_EVERY_MS) {
			r->status_ms = now;
			write_status(r);
		}
	}
	return BINLOG_OK;
}

static binlog_errcode_t open_snapshot(run_t *r, const char *state, binlog_err_t *err)
{
	cdc_snapshot_opts_t so = {
		.conn = &r->cfg.source.conn,
		.filter = r->p.filter,
		.catalog_mode = r->cfg.source.catalog,
		.readers = r->cfg.source.snapshot_readers,
		.chunk_rows = r->cfg.source.snapshot_chunk_rows,
		.chunk_bytes = r->cfg.source.snapshot_chunk_bytes,
		.window_keys = r->cfg.source.snapshot_window_keys,
		.max_record = r->cfg.sink.max_record_size,
		.source = r->cfg.source.name,
		.from_file_no = cdc_binlog_file_number(r->start.file),
		.from_pos = r->start.pos,
	};

	if (cdc_mkdirs(r->request_dir, 0755, err) != BINLOG_OK)
		return err->code;
	r->snap = cdc_snapshot_new(&so, state, err);
	if (!r->snap) {
		binlog_err_prefix(err, "%s", r->state_path);
		return err->code;
	}
	r->st.on_record = snap_record;
	r->st.record_ctx = r;
	return BINLOG_OK;
}

static int initial_mode(const run_t *r)
{
	return r->cfg.source.startup_mode == CDC_STARTUP_INITIAL ||
	       r->cfg.source.startup_mode == CDC_STARTUP_WHEN_NEEDED;
}

static binlog_errcode_t connect_replica(run_t *r, binlog_err_t *err)
{
	cdc_replica_opts_t ro;
	cdc_conn_opts_t co;
	char where[400];

	if (cdc_conn_opts_copy(&co, &r->cfg.source.conn) != BINLOG_OK)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	/* The server sends a heartbeat when it has nothing else: a silence
	 * three times as long is a dead connection. */
	co.read_timeout_s = (unsigned)(r->cfg.source.heartbeat_ms * 3 / 1000);
	if (co.read_timeout_s < 10)
		co.read_timeout_s = 10;
	memset(&ro, 0, sizeof(ro));
	ro.conn = &co;
	ro.server_id = r->cfg.source.server_id;
	ro.heartbeat_ms = r->cfg.source.heartbeat_ms;
	ro.expect_type = r->cfg.source.type;
	ro.nonblocking = r->stop_at_end;
	r->rep = cdc_replica_open(&ro, &r->start, err);
	cdc_conn_opts_free(&co);
	if (!r->rep)
		return err->code;
	r->srv = *cdc_replica_server(r->rep);
	r->have_srv = 1;
	stream_fd = cdc_replica_socket(r->rep);
	cdc_start_describe(&r->start, where, sizeof(where));
	cdc_log_info("connected to %s (%s %s, server_id %u), reading from %s",
		     cdc_replica_addr(r->rep),
		     r->srv.flavor == BINLOG_FLAVOR_MARIADB ? "MariaDB" : "MySQL",
		     r->srv.version_text, r->srv.server_id, where);
	if (stop_requested && stream_fd >= 0)
		shutdown(stream_fd, SHUT_RDWR);

	/* A new stream: the server sends the format description again, and
	 * the file to start from in an artificial ROTATE. */
	binlog_decoder_reset(r->dec);
	if (r->start.file[0])
		note_reached(r, r->start.file, r->start.pos);
	r->skipping = r->start.by_gtid && r->start.file[0];
	if (!r->start.by_gtid) {
		cdc_stream_set_file(&r->st, r->start.file);
		binlog_decoder_set_source(r->dec, r->start.file);
		r->next_off = r->start.pos;
	}
	return BINLOG_OK;
}

static void disconnect(run_t *r)
{
	stream_fd = -1;
	cdc_replica_close(r->rep);
	r->rep = NULL;
}

/*
 * Where the next connection starts: the boundary, by GTID when there is a
 * GTID state (it survives a server that renamed its files, or a new
 * primary), else by file and position.
 */
static binlog_errcode_t resume_point(run_t *r, binlog_err_t *err)
{
	binlog_buf_t g;

	binlog_buf_init(&g, 0);
	cdc_seq_format_state(&r->st.seq, &g);
	binlog_buf_putc(&g, 0);
	if (g.failed) {
		binlog_buf_free(&g);
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	}
	free(r->start.gtid);
	r->start.gtid = (char *)g.data; /* the buffer is handed over */
	r->start.by_gtid = r->start.gtid[0] != 0;
	if (r->b_file[0]) {
		snprintf(r->start.file, sizeof(r->start.file), "%s", r->b_file);
		r->start.pos = r->b_pos;
	}
	return BINLOG_OK;
}

/* The connection ended inside a transaction: forget the transaction and
 * what of it reached the sink, to read it again whole. */
static binlog_errcode_t back_to_boundary(run_t *r, binlog_err_t *err)
{
	if (r->st.txn_open) {
		if (cdc_stream_abort_txn(&r->st, err) != BINLOG_OK)
			return err->code;
		if (r->p.sink_rewinds &&
		    r->p.sink->ops->rewind(r->p.sink, r->b_sink, err) != BINLOG_OK)
			return err->code;
	}
	r->at_boundary = 1;
	return BINLOG_OK;
}

/* One packet: decode, stream, track the position. */
static binlog_errcode_t on_event(run_t *r, const uint8_t *p, size_t n, binlog_err_t *err)
{
	binlog_event_t ev;
	uint32_t size, log_pos;
	uint16_t flags;
	uint8_t type;
	uint64_t off;
	int k, real;

	if (n < BINLOG_HEADER_LEN)
		return binlog_err_set(err, BINLOG_E_TRUNCATED,
				      "%s: a %zu-byte packet in the binlog stream", r->st.file, n);
	type = p[4];
	size = binlog_le32(p + 9);
	log_pos = binlog_le32(p + 13);
	flags = binlog_le16(p + 17);
	real = log_pos != 0 && !(flags & BINLOG_LOG_EVENT_ARTIFICIAL_F) &&
	       type != BINLOG_HEARTBEAT_LOG_EVENT && type != BINLOG_HEARTBEAT_LOG_EVENT_V2;
	off = real && log_pos >= size ? log_pos - size : r->next_off;
	if (r->snap && real && type != BINLOG_ROTATE_EVENT)
		cdc_snapshot_event(r->snap, r->st.file_no, log_pos);
	if (binlog_decoder_feed(r->dec, p, n, off, err) != BINLOG_OK)
		return err->code;
	while ((k = binlog_decoder_next(r->dec, &ev, err)) > 0) {
		if (ev.type == BINLOG_ROTATE_EVENT && ev.u.rotate.name.len) {
			/* the stream follows it into the next file */
			if (cdc_stream_event(&r->st, &ev, err) != BINLOG_OK)
				return err->code;
			binlog_decoder_set_source(r->dec, r->st.file);
			r->next_off = ev.u.rotate.position;
			if (!r->st.txn_open)
				set_boundary(r, r->st.file, ev.u.rotate.position);
			continue;
		}
		if (cdc_stream_event(&r->st, &ev, err) != BINLOG_OK)
			return err->code;
		if (ev.timestamp)
			r->last_event_ts = ev.timestamp;
	}
	if (k < 0)
		return err->code;
	if (type == BINLOG_ROTATE_EVENT)
		return BINLOG_OK;
	if (real)
		r->next_off = log_pos;
	else if (log_pos == 0 && !(flags & BINLOG_LOG_EVENT_ARTIFICIAL_F) &&
		 type != BINLOG_FORMAT_DESCRIPTION_EVENT && type != BINLOG_HEARTBEAT_LOG_EVENT &&
		 type != BINLOG_HEARTBEAT_LOG_EVENT_V2)
		r->next_off += size; /* MariaDB 11 inside a transaction */
	if (r->st.txn_open) {
		r->at_boundary = 0;
		r->skipping = 0;
	} else if (real) {
		set_boundary(r, r->st.file, log_pos);
	}
	if (r->snap && r->at_boundary && cdc_snapshot_waiting(r->snap))
		return snap_emit(r, err);
	return BINLOG_OK;
}

static void progress(run_t *r, int force)
{
	int64_t now = cdc_mono_ms();
	double secs;
	uint64_t recs;

	if (!force && now - r->progress_ms < PROGRESS_EVERY_MS)
		return;
	secs = (double)(now - r->progress_ms) / 1000.0;
	recs = r->st.stats.records - r->records_at_progress;
	cdc_log_info("at %s:%llu, %llu records (%.0f/s), %llu transactions, sequence %llu, "
		     "%lld s behind",
		     r->b_file, (unsigned long long)r->b_pos,
		     (unsigned long long)r->st.stats.records, secs > 0 ? (double)recs / secs : 0.0,
		     (unsigned long long)r->st.stats.transactions,
		     (unsigned long long)r->st.seq.last,
		     r->last_event_ts ? (long long)(cdc_wall_ms() / 1000 - r->last_event_ts) : 0LL);
	r->progress_ms = now;
	r->records_at_progress = r->st.stats.records;
}

/* Wait for the next packet at most `ms` (poll on the socket). 1 when
 * something arrived, 0 on timeout. */
static int wait_readable(run_t *r, int64_t ms)
{
	struct pollfd pfd = {.fd = cdc_replica_socket(r->rep), .events = POLLIN};

	if (pfd.fd < 0 || ms <= 0)
		return 1;
	return poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms) != 0;
}

/* Milliseconds until tick() has something to do while the stream is
 * idle; -1: nothing (block reading). */
static int64_t next_tick(run_t *r)
{
	int64_t now = cdc_mono_ms(), left = -1;

	if (checkpoint_dirty(r)) {
		left = (int64_t)r->cfg.pipeline.checkpoint_interval_ms - (now - r->c_ms);
		if (left < 0)
			left = 0;
	}
	if (r->npending && (left < 0 || left > PENDING_POLL_MS))
		left = PENDING_POLL_MS;
	if (r->snap) {
		int64_t b = cdc_snapshot_active(r->snap) ? SNAP_POLL_MS : REQUEST_SCAN_MS;
		if (left < 0 || b < left)
			left = b;
	}
	if (beats(r)) {
		int64_t b = beat_every(r) - (now - r->beat_scan_ms);
		if (b < 0)
			b = 0;
		if (left < 0 || b < left)
			left = b;
	}
	return left;
}

/*
 * What is due between events: a checkpoint (at a boundary, each interval;
 * `idle`: also a dirty one, the stream having paused), storing the
 * checkpoints the sink has acknowledged since, heartbeats.
 */
static binlog_errcode_t tick(run_t *r, int idle, binlog_err_t *err)
{
	int64_t now = cdc_mono_ms();

	r->st.now_ms = now;
	if (r->at_boundary && checkpoint_due(r, now) && (!idle || checkpoint_dirty(r))) {
		if (checkpoint(r, err) != BINLOG_OK)
			return err->code;
	} else if (r->npending && (idle || now - r->pending_ms >= PENDING_POLL_MS)) {
		r->pending_ms = now;
		if (store_durable(r, err) != BINLOG_OK)
			return err->code;
	}
	if (beat(r, now, err) != BINLOG_OK || snap_tick(r, now, err) != BINLOG_OK)
		return err->code;
	if (r->commit_beats && r->at_boundary)
		return checkpoint(r, err);
	return BINLOG_OK;
}

/*
 * Read until the connection ends. Returns 0 when the server ended the
 * stream with --stop-at-end or a stop was asked, else the error (an end
 * of the stream without --stop-at-end is a retriable one).
 */
static binlog_errcode_t stream(run_t *r, binlog_err_t *err)
{
	for (;;) {
		const uint8_t *p;
		size_t n;
		int k;

		if (stop_requested)
			return BINLOG_OK;
		if (!cdc_replica_ready(r->rep)) {
			/* Nothing more at once: hand on what is buffered, and
			 * do what is due (a checkpoint, heartbeats) while
			 * waiting rather than at the next event. */
			if (sink_push(r->p.sink, err) != BINLOG_OK)
				return err->code;
			for (;;) {
				int64_t left = next_tick(r);
				if (left < 0 || (left > 0 && wait_readable(r, left)))
					break;
				if (tick(r, 1, err) != BINLOG_OK)
					return err->code;
				if (stop_requested)
					return BINLOG_OK;
			}
		}
		k = cdc_replica_next(r->rep, &p, &n, err);
		if (k == 0 && !r->stop_at_end)
			/* A following replica is only ended by a server going
			 * away (a shutdown sends EOF): reconnect. */
			return binlog_err_set(err, BINLOG_E_IO,
					      "%s ended the binlog stream (shutting down?)",
					      cdc_replica_addr(r->rep));
		if (k == 0)
			return BINLOG_OK;
		if (k < 0)
			return stop_requested ? BINLOG_OK : err->code;
		if (on_event(r, p, n, err) != BINLOG_OK)
			return err->code;
		if (tick(r, 0, err) != BINLOG_OK)
			return err->code;
		progress(r, 0);
	}
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (!stop_requested && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The message a purged start deserves: what is missing, and the way out. */
static void explain_purged(run_t *r, binlog_err_t *err)
{
	char where[400];

	cdc_start_describe(&r->start, where, sizeof(where));
	binlog_err_prefix(err, "cannot resume from %s", where);
	{
		binlog_err_t e2 = *err;
		binlog_err_set(err, BINLOG_E_PURGED,
			       "%s. The server no longer has the binlog between the checkpoint "
			       "(%s) and what it keeps: those changes cannot be read any more. "
			       "Either re-snapshot the tables, or move %s aside to start again "
			       "as scan.startup.mode says (the changes in between are then "
			       "missing downstream)",
			       e2.msg, where, r->state_path);
	}
}

/* --stop-at-end and the stream is at the end: let the snapshot go on
 * for a while (its chunks are emitted here, the stream being idle). */
static binlog_errcode_t wait_snapshot(run_t *r, binlog_err_t *err)
{
	int64_t until = cdc_mono_ms() + 500;

	while (!stop_requested && cdc_snapshot_active(r->snap) && cdc_mono_ms() < until) {
		r->snap_tick_ms = 0;
		if (tick(r, 1, err) != BINLOG_OK)
			return err->code;
		sleep_ms(SNAP_POLL_MS);
	}
	return BINLOG_OK;
}

/*
 * when_needed, and the binlog after the checkpoint is purged: start again
 * from the server's current position, with a backfill snapshot of every
 * captured table queued in the same checkpoint. What changed in the gap
 * reaches consumers through the backfill (rows deleted in the gap do
 * not: docs/SNAPSHOT.md).
 */
static binlog_errcode_t resnapshot(run_t *r, binlog_err_t *err)
{
	struct backfill_req q = {0};
	char where[400];

	cdc_start_describe(&r->start, where, sizeof(where));
	cdc_log_warn("cannot resume from %s: %s. source.scan.startup.mode is when_needed: "
		     "starting again from the server's current position, with a backfill "
		     "snapshot of every captured table",
		     where, err->msg);
	if (back_to_boundary(r, err) != BINLOG_OK)
		return err->code;
	cdc_start_free(&r->start);
	memset(&r->start, 0, sizeof(r->start));
	if (start_from_config(r, err) != BINLOG_OK)
		return err->code;
	if (r->start.seed && cdc_seq_seed_text(&r->st.seq, r->start.seed, err) != BINLOG_OK)
		return err->code;
	set_boundary(r, r->start.file, r->start.pos);
	cdc_snapshot_event(r->snap, cdc_binlog_file_number(r->start.file), r->start.pos);
	if (each_table(r, NULL, add_backfill, &q, err) != BINLOG_OK)
		return err->code;
	r->snap_dirty = 1;
	return checkpoint_ex(r, 0, err);
}

static binlog_errcode_t follow(run_t *r, binlog_err_t *err)
{
	uint64_t failures = 0;
	int64_t backoff = BACKOFF_FIRST_MS;

	for (;;) {
		binlog_errcode_t rc;
		uint64_t before = r->st.stats.records + r->st.stats.transactions;

		if (stop_requested)
			return BINLOG_OK;
		rc = connect_replica(r, err);
		if (rc == BINLOG_OK) {
			rc = stream(r, err);
			disconnect(r);
			if (rc == BINLOG_OK && !stop_requested && r->stop_at_end &&
			    cdc_snapshot_active(r->snap)) {
				/* At the end, with chunks still being read: they
				 * are emitted here, then the end is looked for
				 * again. */
				if (wait_snapshot(r, err) != BINLOG_OK ||
				    resume_point(r, err) != BINLOG_OK)
					return err->code;
				continue;
			}
			if (rc == BINLOG_OK)
				return BINLOG_OK; /* stopped, or the end (--stop-at-end) */
		}
		if (rc == BINLOG_E_PURGED && r->snap &&
		    r->cfg.source.startup_mode == CDC_STARTUP_WHEN_NEEDED) {
			if (resnapshot(r, err) != BINLOG_OK)
				return err->code;
			continue;
		}
		if (rc == BINLOG_E_PURGED)
			explain_purged(r, err);
		if (!binlog_err_retriable(rc))
			return rc;
		/* Connection trouble: back to the last complete transaction,
		 * and again after a pause that grows while it keeps failing. */
		if (back_to_boundary(r, err) != BINLOG_OK || resume_point(r, err) != BINLOG_OK)
			return err->code;
		if (r->p.catalog) {
			/* it may have lost its connection the same way */
			binlog_err_t e2;
			cdc_pipe_close_catalog_conn(&r->p);
			(void)cdc_pipe_open_catalog(&r->p, &e2);
		}
		if (r->st.stats.records + r->st.stats.transactions != before) {
			failures = 0;
			backoff = BACKOFF_FIRST_MS;
		}
		failures++;
		if (r->cfg.source.connect_max_retries &&
		    failures > r->cfg.source.connect_max_retries) {
			binlog_err_prefix(err, "gave up after %llu attempts",
					  (unsigned long long)(failures - 1));
			return err->code;
		}
		cdc_log_warn("%s; retrying in %lld ms", err->msg, (long long)backoff);
		r->reconnects++;
		sleep_ms(backoff);
		backoff *= 2;
		if (backoff > (int64_t)r->cfg.source.backoff_max_ms)
			backoff = (int64_t)r->cfg.source.backoff_max_ms;
	}
}

/* ------------------------------------------------------------------ */

/*
 * Exactly-once: the checkpoint committed to Kafka with the records is the
 * one to resume from. The local file is written after each commit, so it
 * can only be behind (a crash in between); it is then replaced.
 */
static binlog_errcode_t recover(run_t *r, cdc_offsets_t *o, int *found, binlog_err_t *err)
{
	char *text = NULL;
	char where[300];
	cdc_offsets_t ko;

	if (r->p.sink->ops->recover(r->p.sink, &text, err) != BINLOG_OK) {
		binlog_err_prefix(err, "reading the committed checkpoint");
		return err->code;
	}
	if (!text)
		return BINLOG_OK;
	snprintf(where, sizeof(where), "topic %s, key %s", r->cfg.sink.offsets_topic,
		 r->cfg.pipeline.name);
	if (cdc_offsets_parse(where, text, strlen(text), &ko, err) != BINLOG_OK) {
		free(text);
		return err->code;
	}
	free(text);
	if (*found && o->seq_last > ko.seq_last)
		cdc_log_warn("the local checkpoint %s (sequence %llu) is ahead of the one "
			     "committed to Kafka (%llu); resuming from Kafka's: records after it "
			     "may repeat",
			     r->state_path, (unsigned long long)o->seq_last,
			     (unsigned long long)ko.seq_last);
	if (*found)
		cdc_offsets_free(o);
	*o = ko;
	*found = 1;
	cdc_log_info("the checkpoint committed to Kafka (%s): %s:%llu, sequence %llu", where,
		     o->file, (unsigned long long)o->pos, (unsigned long long)o->seq_last);
	return BINLOG_OK;
}

static binlog_errcode_t setup(run_t *r, binlog_err_t *err)
{
	cdc_offsets_t o;
	int found = 0;
	schema_catalog_store_t store;
	char where[400];

	if (cdc_conn_resolve_password(&r->cfg.source.conn, err) != BINLOG_OK)
		return err->code;
	if (open_state(r, err) != BINLOG_OK || open_sink(r, err) != BINLOG_OK)
		return err->code;
	if (cdc_pipe_open_filter(&r->p, err) != BINLOG_OK)
		return err->code;
	binlog_opts_default(&r->dopts);
	r->dopts.initial_checksum = BINLOG_CHECKSUM_UNDEF;
	r->dopts.max_event_size = r->cfg.pipeline.max_event_size;
	r->dopts.max_inflated_size = r->cfg.pipeline.max_inflated_size;
	r->dec = binlog_decoder_new(&r->dopts);
	if (!r->dec || cdc_stream_init(&r->st, r->p.sink) != BINLOG_OK)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	r->st.follow_rotate = 1;
	r->st.seq.merge_history = 1;
	cdc_pipe_attach(&r->p, &r->st);
	r->st.on_ddl = on_ddl; /* snapshots of new tables, then the pipe's */
	r->st.ddl_ctx = r;
	r->st.schema = NULL; /* until the catalog is set up */
	r->st.now_ms = cdc_mono_ms();

	if (cdc_offsets_load(r->state_path, &o, &found, err) != BINLOG_OK)
		return err->code;
	if (r->p.sink->ops->recover && recover(r, &o, &found, err) != BINLOG_OK) {
		if (found)
			cdc_offsets_free(&o);
		return err->code;
	}
	if (found) {
		binlog_errcode_t rc = start_from_checkpoint(r, &o, err);
		if (rc == BINLOG_OK)
			rc = open_snapshot(r, o.snapshot, err);
		cdc_offsets_free(&o);
		if (rc != BINLOG_OK)
			return rc;
		cdc_log_info("resuming from the checkpoint in %s", r->state_path);
		if (initial_mode(r) && queue_initial(r, err) != BINLOG_OK)
			return err->code;
	} else {
		/* The server may still be starting: retried like a dropped
		 * connection would be. */
		int64_t backoff = BACKOFF_FIRST_MS;
		uint32_t tries = 0;
		/* What the catalog said belongs to the checkpoint: a history
		 * left without one is of a stream that is gone. */
		if (unlink(r->history_path) != 0 && errno != ENOENT)
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", r->history_path,
					      strerror(errno));
		while (start_from_config(r, err) != BINLOG_OK) {
			if (!binlog_err_retriable(err->code) || stop_requested ||
			    (r->cfg.source.connect_max_retries &&
			     ++tries > r->cfg.source.connect_max_retries))
				return err->code;
			cdc_log_warn("%s; retrying in %lld ms", err->msg, (long long)backoff);
			sleep_ms(backoff);
			backoff = backoff * 2 > (int64_t)r->cfg.source.backoff_max_ms
					  ? (int64_t)r->cfg.source.backoff_max_ms
					  : backoff * 2;
		}
		if (open_snapshot(r, NULL, err) != BINLOG_OK)
			return err->code;
		if (initial_mode(r) && queue_initial(r, err) != BINLOG_OK)
			return err->code;
		if (first_checkpoint(r, err) != BINLOG_OK)
			return err->code;
		cdc_log_info("no checkpoint in %s: starting as scan.startup.mode says",
			     r->state_path);
	}
	if (r->start.seed && cdc_seq_seed_text(&r->st.seq, r->start.seed, err) != BINLOG_OK) {
		binlog_err_prefix(err, "GTID state to start from");
		return err->code;
	}
	r->st.seq.last = r->start.seq_last;
	if (r->start.emit_file[0] || r->start.emit_ts_ms) {
		r->st.emit_from.active = 1;
		r->st.emit_from.file_no = cdc_binlog_file_number(r->start.emit_file);
		r->st.emit_from.pos = r->start.emit_pos;
		r->st.emit_from.ts_ms = r->start.emit_ts_ms;
	}
	if (r->start.file[0] && !r->start.by_gtid)
		set_boundary(r, r->start.file, r->start.pos);
	r->st.schema = NULL;
	if (r->cfg.source.catalog != CDC_CATALOG_NEVER) {
		/* The catalog is read over a connection of its own. A failure
		 * here is not fatal: tables that need it are asked for again
		 * (and fail then, retriably). */
		if (cdc_pipe_open_catalog(&r->p, err) != BINLOG_OK &&
		    !binlog_err_retriable(err->code))
			return err->code;
		if (!r->p.catalog)
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		r->history = cdc_schema_history_open(r->history_path,
						     CDC_SEQ_ORDINAL(r->start.seq_last), err);
		if (!r->history)
			return err->code;
		cdc_schema_history_store(r->history, &store);
		schema_catalog_set_store(r->p.catalog, &store);
	}
	cdc_pipe_attach(&r->p, &r->st); /* now with the catalog */
	r->st.on_ddl = on_ddl;
	r->st.ddl_ctx = r;
	route_known_tables(r);
	cdc_start_describe(&r->start, where, sizeof(where));
	cdc_log_debug("start: %s", where);
	return BINLOG_OK;
}

static void teardown(run_t *r)
{
	disconnect(r);
	cdc_snapshot_free(r->snap);
	r->snap = NULL;
	binlog_buf_free(&r->req_done);
	free(r->req_carry);
	cdc_pipe_close(&r->p); /* the catalog before the history it writes to */
	cdc_schema_history_close(r->history);
	cdc_stream_free(&r->st);
	binlog_decoder_free(r->dec);
	pending_drop(r, r->npending);
	cdc_start_free(&r->start);
	if (r->lock_fd > 0)
		close(r->lock_fd);
	cdc_config_free(&r->cfg);
}

int cdc_run_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"stop-at-end", no_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cfg_path = NULL;
	run_t r;
	binlog_err_t err = {0};
	binlog_errcode_t rc;
	struct sigaction sa;
	int c;

	/* First: a SIGTERM from here on stops the run cleanly (before the
	 * source is read, that is at once, with nothing to lose). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: a blocked call returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&r, 0, sizeof(r));
	cdc_pipe_init(&r.p, &r.cfg);
	r.lock_fd = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg_path = optarg;
			break;
		case 'e':
			r.stop_at_end = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!cfg_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	cdc_config_init(&r.cfg);
	if (cdc_config_load(cfg_path, &r.cfg, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice run: %s\n", err.msg);
		cdc_config_free(&r.cfg);
		return 1;
	}
	cdc_log_init(r.cfg.pipeline.name);

	r.c_ms = cdc_mono_ms();
	r.progress_ms = r.c_ms;
	rc = setup(&r, &err);
	if (rc == BINLOG_OK)
		rc = follow(&r, &err);
	if (rc != BINLOG_OK) {
		binlog_err_t e2 = {0};
		/* Keep what is complete: the checkpoint holds everything the
		 * sink accepted up to the last whole transaction. */
		/* A sink that cannot deliver is not waited for long. */
		stop_requested = 1;
		if (r.p.sink && r.dec && back_to_boundary(&r, &e2) == BINLOG_OK)
			(void)checkpoint_ex(&r, 1, &e2);
		cdc_log_error("%s", err.msg);
		progress(&r, 1);
		teardown(&r);
		return 1;
	}
	if (back_to_boundary(&r, &err) != BINLOG_OK || checkpoint_ex(&r, 1, &err) != BINLOG_OK) {
		cdc_log_error("%s", err.msg);
		teardown(&r);
		return 1;
	}
	progress(&r, 1);
	if (stop_requested)
		cdc_log_info("stopped (signal %d); checkpoint at %s:%llu", (int)stop_signal,
			     r.c_file, (unsigned long long)r.c_pos);
	else
		cdc_log_info("caught up with the server; checkpoint at %s:%llu", r.c_file,
			     (unsigned long long)r.c_pos);
	teardown(&r);
	return 0;
}
