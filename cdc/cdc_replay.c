/*
 * cdc_replay.c: `sluice replay -c PIPELINE [--binlogs DIR | FILE...]`
 * (cdc_replay.h).
 *
 *   files, in binlog order -> decoder -> stream (filter, catalog, router)
 *        -> counting sink -> the pipeline's sink
 *
 * What makes the records those of live capture: the stream is set up as
 * `sluice run` sets it up (cdc_pipe.c: the same filter, catalog mode,
 * router and keys, the source's name), its history merges each file's
 * GTID list as a live stream does, each file is named as the server names
 * it (without .gz), and the catalog reads through the schema history the
 * live pipeline kept, so a table is described at each position as it was
 * then.
 *
 * The range. Every transaction is read, so that its GTID counts towards
 * the sequence; the stream's emit_from gate (cdc_stream.h) keeps those
 * before the start from being emitted. The start is the first transaction
 * that satisfies every --from bound: of --from-gtid's domain (MariaDB) or
 * server UUID and tag (MySQL) at or after its number, committed at or
 * after --from-time. Reading stops before the first transaction past a
 * --to bound, or at the end of --to-gtid's own transaction. A range is
 * thus one stretch of the binlog, whatever other domains or servers
 * interleave.
 *
 * No checkpoint: a replay is one-shot, and one that fails is run again
 * whole. For a file sink that can, the records of a transaction cut short
 * (an error, a file that ends inside one) are dropped, so the file holds
 * whole transactions only.
 */
#include "cdc_replay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "binlog_gtid.h"
#include "cdc_config.h"
#include "cdc_file.h"
#include "cdc_fs.h"
#include "cdc_log.h"
#include "cdc_pipe.h"
#include "cdc_schema_history.h"
#include "cdc_stream.h"
#include "schema_catalog.h"
#include "sink.h"

#define PROGRESS_EVERY_MS 5000
#define HISTORY_MAX       ((size_t)256 << 20)

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_requested = 1;
	stop_signal = sig;
}

/* ------------------------------------------------------------------ */
/* Arguments: GTIDs and times                                          */

/* Decimal digits at *p into *v, moving *p past them. 0 when there are
 * none or they overflow. */
static int parse_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	if (*s < '0' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (x > UINT64_MAX / 10 || (x == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return 0;
		x = x * 10 + d;
	}
	*p = s;
	*v = x;
	return 1;
}

binlog_errcode_t cdc_replay_parse_gtid(const char *text, binlog_gtid_t *out, binlog_err_t *err)
{
	const char *p = text;
	uint64_t a, b, c;

	memset(out, 0, sizeof(*out));
	if (!strchr(text, ':')) {
		if (!parse_u64(&p, &a) || *p++ != '-' || !parse_u64(&p, &b) || *p++ != '-' ||
		    !parse_u64(&p, &c) || *p || a > UINT32_MAX || b > UINT32_MAX || c == 0)
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "GTID '%s': want MariaDB's domain-server-sequence "
					      "(0-1-42) or MySQL's uuid:number",
					      text);
		out->kind = BINLOG_GTID_MARIADB;
		out->domain = (uint32_t)a;
		out->server_id = (uint32_t)b;
		out->seq = c;
		return BINLOG_OK;
	}
	{
		char uuid[37];
		const char *colon = strchr(text, ':');
		const char *last = strrchr(text, ':');

		if (colon - text != 36)
			goto bad_mysql;
		for (int i = 0; i < 36; i++) /* MySQL prints lower case */
			uuid[i] = text[i] >= 'A' && text[i] <= 'F' ? (char)(text[i] - 'A' + 'a')
								   : text[i];
		uuid[36] = 0;
		if (binlog_uuid_parse(uuid, out->uuid) != 0)
			goto bad_mysql;
		if (last != colon) {
			size_t n = (size_t)(last - colon - 1);
			if (n == 0 || n > BINLOG_GTID_TAG_MAX)
				goto bad_mysql;
			for (size_t i = 0; i < n; i++) {
				char ch = colon[1 + i];
				if (ch >= 'A' && ch <= 'Z')
					ch = (char)(ch - 'A' + 'a');
				if (!((ch >= 'a' && ch <= 'z') || ch == '_' ||
				      (i > 0 && ch >= '0' && ch <= '9')))
					goto bad_mysql;
				out->tag[i] = ch;
			}
			out->tag[n] = 0;
			out->tag_len = (uint8_t)n;
		}
		p = last + 1;
		if (!parse_u64(&p, &a) || *p || a == 0)
			goto bad_mysql;
		out->kind = BINLOG_GTID_MYSQL;
		out->gno = a;
		return BINLOG_OK;
	}
bad_mysql:
	memset(out, 0, sizeof(*out));
	return binlog_err_set(err, BINLOG_E_USAGE,
			      "GTID '%s': want MySQL's uuid:number or uuid:tag:number "
			      "(3e11fa47-71ca-11e1-9e33-c80aa9429562:23), or MariaDB's "
			      "domain-server-sequence",
			      text);
}

/* Exactly n digits at *p into *v. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9')
			return 0;
		x = x * 10 + (ch - '0');
	}
	*p += n;
	*v = x;
	return 1;
}

binlog_errcode_t cdc_replay_parse_time(const char *text, int64_t *ms, binlog_err_t *err)
{
	const char *p = text;
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, s = 0, frac = 0, zone = 0;
	uint64_t v;
	time_t t;

	if (parse_u64(&p, &v) && !*p) {
		if (v > (uint64_t)INT64_MAX)
			goto bad;
		*ms = (int64_t)v;
		return BINLOG_OK;
	}
	p = text;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		goto bad;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			goto bad;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &s))
				goto bad;
			if (*p == '.' || *p == ',') {
				int k = 0;
				p++;
				if (*p < '0' || *p > '9')
					goto bad;
				/* milliseconds: the first three digits */
				for (; *p >= '0' && *p <= '9'; p++, k++)
					if (k < 3)
						frac = frac * 10 + (*p - '0');
				for (; k < 3; k++)
					frac *= 10;
			}
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, zh, zm;
		if (!digits(&p, 2, &zh))
			goto bad;
		if (*p == ':')
			p++;
		if (!digits(&p, 2, &zm) || zh > 23 || zm > 59)
			goto bad;
		zone = sign * (zh * 60 + zm);
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		goto bad;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	if (tm.tm_mday != d) /* 2024-02-30 */
		goto bad;
	*ms = ((int64_t)t - (int64_t)zone * 60) * 1000 + frac;
	return BINLOG_OK;
bad:
	return binlog_err_set(err, BINLOG_E_USAGE,
			      "time '%s': want ISO-8601 (2024-06-15T12:30:00Z, "
			      "2024-06-15T14:30:00.250+02:00; UTC without a zone) or "
			      "milliseconds since the epoch",
			      text);
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

/* "mysql-bin.000042.gz" -> "mysql-bin.000042" in out (the name the
 * server gave the file, which records carry). */
static void server_name(const char *base, char *out, size_t cap)
{
	size_t n = strlen(base);

	if (n > 3 && strcmp(base + n - 3, ".gz") == 0)
		n -= 3;
	snprintf(out, cap, "%.*s", (int)n, base);
}

/* Is base a binlog's name? Its number in *num, the length of NAME (before
 * the dot) in *stem. */
static int binlog_name(const char *base, uint64_t *num, size_t *stem)
{
	char name[NAME_MAX + 1];
	const char *dot, *p;

	server_name(base, name, sizeof(name));
	dot = strrchr(name, '.');
	if (!dot || dot == name || !dot[1])
		return 0;
	p = dot + 1;
	if (!parse_u64(&p, num) || *p)
		return 0;
	*stem = (size_t)(dot - name);
	return 1;
}

void cdc_replay_files_free(cdc_replay_files_t *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->path[i]);
	free(f->path);
	free(f->number);
	memset(f, 0, sizeof(*f));
}

static int add_file(cdc_replay_files_t *f, char *path, uint64_t num)
{
	char **np = realloc(f->path, (f->n + 1) * sizeof(*np));
	uint64_t *nn;

	if (!np)
		return 0;
	f->path = np;
	nn = realloc(f->number, (f->n + 1) * sizeof(*nn));
	if (!nn)
		return 0;
	f->number = nn;
	f->path[f->n] = path;
	f->number[f->n++] = num;
	return 1;
}

size_t cdc_replay_files_gap(const cdc_replay_files_t *f, size_t from)
{
	for (size_t i = from > 0 ? from : 1; i < f->n; i++)
		if (f->number[i] != f->number[i - 1] + 1)
			return i;
	return 0;
}

binlog_errcode_t cdc_replay_list_dir(const char *dir, cdc_replay_files_t *out, binlog_err_t *err)
{
	DIR *d;
	struct dirent *de;
	char stem[NAME_MAX + 1] = "";
	int have_stem = 0;
	binlog_errcode_t rc = BINLOG_OK;

	memset(out, 0, sizeof(*out));
	if (!(d = opendir(dir)))
		return binlog_err_set(err, BINLOG_E_USAGE, "--binlogs %s: %s", dir,
				      strerror(errno));
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		char *path;
		struct stat s;
		uint64_t num;
		size_t n, len;

		if (de->d_name[0] == '.' && (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
			continue;
		len = strlen(dir) + strlen(de->d_name) + 2;
		if (!(path = malloc(len))) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			goto out;
		}
		snprintf(path, len, "%s/%s", dir, de->d_name);
		if (stat(path, &s) != 0 || !S_ISREG(s.st_mode) ||
		    !binlog_name(de->d_name, &num, &n)) {
			out->ignored++;
			free(path);
			continue;
		}
		if (!have_stem) {
			snprintf(stem, sizeof(stem), "%.*s", (int)n, de->d_name);
			have_stem = 1;
		} else if (strlen(stem) != n || strncmp(stem, de->d_name, n) != 0) {
			rc = binlog_err_set(
				err, BINLOG_E_USAGE,
				"--binlogs %s holds the binlogs of more than one server "
				"or name (%s.*, %.*s.*): give the files to replay, in "
				"order, instead",
				dir, stem, (int)n, de->d_name);
			free(path);
			goto out;
		}
		if (!add_file(out, path, num)) {
			free(path);
			rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			goto out;
		}
	}
	if (errno) {
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "--binlogs %s: %s", dir,
				    strerror(errno));
		goto out;
	}
	if (!out->n) {
		rc = binlog_err_set(err, BINLOG_E_USAGE,
				    "--binlogs %s: no binlog files in it (names like "
				    "mysql-bin.000001, plain or .gz)",
				    dir);
		goto out;
	}
	/* insertion sort by number: a directory holds thousands at most */
	for (size_t i = 1; i < out->n; i++) {
		char *p = out->path[i];
		uint64_t v = out->number[i];
		size_t j = i;
		for (; j > 0 && out->number[j - 1] > v; j--) {
			out->path[j] = out->path[j - 1];
			out->number[j] = out->number[j - 1];
		}
		out->path[j] = p;
		out->number[j] = v;
	}
	for (size_t i = 1; i < out->n; i++)
		if (out->number[i] == out->number[i - 1]) {
			rc = binlog_err_set(
				err, BINLOG_E_USAGE,
				"--binlogs %s: %s and %s are the same binlog (plain and "
				"gzipped?); keep one",
				dir, out->path[i - 1], out->path[i]);
			goto out;
		}
out:
	closedir(d);
	if (rc != BINLOG_OK)
		cdc_replay_files_free(out);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The counting sink: in front of the pipeline's sink (or alone, with   */
/* --dry-run), it sees every record on its way                          */

typedef struct topic_count {
	const char *topic; /* the router's: lives as long as it */
	uint64_t n;
} topic_count_t;

typedef struct counter {
	sink_t base;
	sink_t *inner; /* NULL: --dry-run */
	uint64_t records;
	uint64_t first_seq, last_seq;
	char first_gtid[BINLOG_GTID_TEXT_MAX], last_gtid[BINLOG_GTID_TEXT_MAX];
	topic_count_t *topics;
	size_t ntopics;
	int nomem;
} counter_t;

static void count(counter_t *c, const sink_record_t *r)
{
	c->records++;
	if (!c->first_seq) {
		c->first_seq = r->seq;
		snprintf(c->first_gtid, sizeof(c->first_gtid), "%s", r->gtid ? r->gtid : "");
	}
	c->last_seq = r->seq;
	if (r->gtid && strcmp(c->last_gtid, r->gtid) != 0)
		snprintf(c->last_gtid, sizeof(c->last_gtid), "%s", r->gtid);
	if (r->topic) {
		size_t i;
		for (i = 0; i < c->ntopics; i++)
			if (c->topics[i].topic == r->topic ||
			    strcmp(c->topics[i].topic, r->topic) == 0)
				break;
		if (i == c->ntopics) {
			topic_count_t *t = realloc(c->topics, (c->ntopics + 1) * sizeof(*t));
			if (!t) {
				c->nomem = 1;
				return;
			}
			c->topics = t;
			c->topics[c->ntopics].topic = r->topic;
			c->topics[c->ntopics++].n = 0;
		}
		c->topics[i].n++;
	}
}

static binlog_errcode_t counter_write(sink_t *s, const sink_record_t *r, binlog_err_t *err)
{
	counter_t *c = (counter_t *)s;

	count(c, r);
	return c->inner ? sink_write(c->inner, r, err) : BINLOG_OK;
}

static binlog_buf_t *counter_inplace(sink_t *s)
{
	counter_t *c = (counter_t *)s;

	return c->inner ? sink_inplace(c->inner) : NULL;
}

static void counter_inplace_head(sink_t *s, const sink_record_t *r)
{
	counter_t *c = (counter_t *)s;

	if (c->inner && c->inner->ops->inplace_head)
		c->inner->ops->inplace_head(c->inner, r);
}

static binlog_errcode_t counter_write_inplace(sink_t *s, const sink_record_t *r, binlog_err_t *err)
{
	counter_t *c = (counter_t *)s;

	count(c, r);
	return c->inner->ops->write_inplace(c->inner, r, err);
}

static binlog_errcode_t counter_flush(sink_t *s, binlog_err_t *err)
{
	counter_t *c = (counter_t *)s;

	return c->inner ? sink_flush(c->inner, err) : BINLOG_OK;
}

static void counter_close(sink_t *s)
{
	(void)s; /* the pipe closes the inner sink */
}

static const sink_ops_t counter_ops = {
	.name = "replay",
	.write = counter_write,
	.flush = counter_flush,
	.close = counter_close,
	.inplace = counter_inplace,
	.write_inplace = counter_write_inplace,
	.inplace_head = counter_inplace_head,
};

/* ------------------------------------------------------------------ */
/* The replay                                                          */

typedef struct replay {
	cdc_config_t cfg;
	const char *cfg_path;
	cdc_replay_files_t files;
	const char *dir;
	cdc_list_t tables; /* --tables */
	const char *history_arg;
	int dry_run;
	int has_from_gtid, has_to_gtid, has_from_time, has_to_time;
	binlog_gtid_t from_gtid, to_gtid;
	int64_t from_ms, to_ms;
	const char *from_text, *to_text;

	cdc_pipe_t pipe;
	counter_t counter;
	binlog_decoder_t *dec;
	cdc_stream_t st;
	int st_ok;
	cdc_schema_history_t *history;
	size_t history_entries;

	int from_found;  /* the --from-gtid bound was met */
	int flavor_seen; /* the GTID kind of the files was checked */
	int to_inside;   /* inside --to-gtid's own transaction: stop at its end */
	int done;        /* a --to bound was passed: stop reading */
	char to_why[160];
	uint64_t b_sink;    /* the sink's offset at the last transaction boundary */
	uint64_t b_records; /* records written by then */

	uint64_t bytes_done; /* decoded (gzip: uncompressed) */
	size_t file_index;
	int64_t t0, progress_ms;
	uint64_t progress_records, progress_bytes;
} replay_t;

static void usage(FILE *out)
{
	fputs("usage: sluice replay -c FILE [--binlogs DIR | BINLOG...] [--from-gtid GTID]\n"
	      "                     [--to-gtid GTID] [--from-time TIME] [--to-time TIME]\n"
	      "                     [--tables REGEX,...] [--schema-history FILE] [--dry-run]\n"
	      "\n"
	      "Read archived binlog files (plain or .gz) and send their row changes through\n"
	      "the pipeline in FILE: its table and column filter, its routing and its sink\n"
	      "(a file, standard output or Kafka). The records are those `sluice run` wrote\n"
	      "for the same transactions: the same bytes, the same sequences. Files are\n"
	      "read in binlog order; numbering needs no earlier file, as each file's GTID\n"
	      "list says where history stands.\n"
	      "\n"
	      "  -c, --config FILE      the pipeline (docs/CONFIGURATION.md)\n"
	      "      --binlogs DIR      every binlog file in DIR (NAME.NNNNNN, plain or .gz),\n"
	      "                         in numeric order; NAME.index and other files are\n"
	      "                         ignored, a gap in the numbers is a warning\n"
	      "      --from-gtid GTID   emit from this transaction on: the first of its\n"
	      "                         MariaDB domain (MySQL server UUID and tag) numbered\n"
	      "                         at or after it. GTID is domain-server-seq (MariaDB)\n"
	      "                         or uuid[:tag]:n (MySQL). Transactions before it are\n"
	      "                         read, so their GTIDs count, but not emitted\n"
	      "      --to-gtid GTID     emit up to this transaction, included, then stop\n"
	      "      --from-time TIME   emit from the first transaction committed at or\n"
	      "                         after TIME: ISO-8601 (2024-06-15T12:30:00Z; UTC\n"
	      "                         without a zone) or milliseconds since the epoch\n"
	      "      --to-time TIME     stop at the first transaction committed after TIME\n"
	      "      --tables REGEX,... only tables whose db.table matches one of these\n"
	      "                         (anchored, as source.tables), on top of the\n"
	      "                         pipeline's own filter; repeatable\n"
	      "      --schema-history FILE\n"
	      "                         what the catalog said, as a `sluice run` of the\n"
	      "                         pipeline kept it; default: "
	      "<state-dir>/<name>.schema.jsonl\n"
	      "                         of FILE's pipeline when it exists. Read, never written\n"
	      "      --dry-run          read, filter and count, write nothing (no Kafka\n"
	      "                         connection, no file)\n"
	      "\n"
	      "No checkpoint is read or written: a replay is one-shot, and one that fails\n"
	      "or is stopped is run again whole. A file sink (sink.path) must not exist or\n"
	      "be empty. Kafka: the idempotent producer (never a transaction, whatever\n"
	      "sink.delivery says, so the pipeline's own producer is not fenced), and the\n"
	      "replay ends only once Kafka has acknowledged every record. No heartbeats.\n"
	      "Names the binlog lacks come from the catalog as source.schema.catalog says\n"
	      "(a connection to the source; none with `never`).\n"
	      "\n"
	      "Progress goes to standard error (SLUICE_LOG=debug|info|warn|error).\n"
	      "Exit status: 0 done, 1 an error (a file, an event, a refused record, a\n"
	      "signal), 2 bad usage or configuration.\n",
	      out);
}

static binlog_errcode_t add_tables(replay_t *rp, const char *arg)
{
	const char *p = arg;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char **v;

		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			v = realloc(rp->tables.v, (rp->tables.n + 1) * sizeof(*v));
			if (!v)
				return BINLOG_E_NOMEM;
			rp->tables.v = v;
			if (!(v[rp->tables.n] = strndup(p, n)))
				return BINLOG_E_NOMEM;
			rp->tables.n++;
		}
		if (!end)
			return BINLOG_OK;
		p = end + 1;
	}
}

/* Two GTIDs of one numbering: a MariaDB domain, a MySQL UUID and tag. */
static int same_source(const binlog_gtid_t *a, const binlog_gtid_t *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == BINLOG_GTID_MARIADB)
		return a->domain == b->domain;
	return memcmp(a->uuid, b->uuid, 16) == 0 && strcmp(a->tag, b->tag) == 0;
}

static uint64_t gtid_number(const binlog_gtid_t *g)
{
	return g->kind == BINLOG_GTID_MARIADB ? g->seq : g->gno;
}

/* Did the stream's history already hold g (before the transaction now
 * starting)? For a --from-gtid never met: it was before the first file. */
static int in_history(const replay_t *rp, const binlog_gtid_t *g)
{
	const cdc_seq_t *s = &rp->st.seq;

	if (g->kind == BINLOG_GTID_MARIADB) {
		for (uint32_t i = 0; i < s->ndomains; i++)
			if (s->domains[i].domain == g->domain)
				return s->domains[i].max_seq >= g->seq;
		return 0;
	}
	return s->mysql && binlog_gtid_set_contains(s->mysql, g);
}

static const char *gtid_text(const binlog_gtid_t *g, char *buf, size_t cap)
{
	binlog_gtid_format(g, buf, cap);
	return buf;
}

/*
 * Before the stream takes ev: where does it stand against the range?
 * Sets rp->done (ev and what follows are past the end), or opens the
 * emit_from gate where --from-gtid is met. 0 or a usage error.
 */
static binlog_errcode_t range_event(replay_t *rp, const binlog_event_t *ev, binlog_err_t *err)
{
	int64_t ts;
	const binlog_gtid_t *g = NULL;
	char a[BINLOG_GTID_TEXT_MAX], b[BINLOG_GTID_TEXT_MAX];

	switch (ev->type) {
	case BINLOG_GTID_LOG_EVENT:
	case BINLOG_ANONYMOUS_GTID_LOG_EVENT:
	case BINLOG_GTID_TAGGED_LOG_EVENT:
	case BINLOG_MARIA_GTID_EVENT:
		g = &ev->u.gtid.gtid;
		ts = ev->u.gtid.commit_us ? (int64_t)(ev->u.gtid.commit_us / 1000)
					  : (int64_t)ev->timestamp * 1000;
		break;
	case BINLOG_QUERY_EVENT:
	case BINLOG_MARIA_QUERY_COMPRESSED_EVENT:
		if (rp->st.txn_open)
			return BINLOG_OK;
		ts = (int64_t)ev->timestamp * 1000; /* a transaction without GTID */
		break;
	default:
		if (rp->st.txn_open || !binlog_event_is_rows(ev->type))
			return BINLOG_OK;
		ts = (int64_t)ev->timestamp * 1000;
	}
	if (g && g->kind != BINLOG_GTID_NONE && !rp->flavor_seen) {
		const binlog_gtid_t *want = rp->has_from_gtid ? &rp->from_gtid
					    : rp->has_to_gtid ? &rp->to_gtid
							      : NULL;
		rp->flavor_seen = 1;
		if (want && want->kind != g->kind)
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "the files hold %s GTIDs (%s), the range is given "
					      "with %s ones",
					      g->kind == BINLOG_GTID_MARIADB ? "MariaDB" : "MySQL",
					      gtid_text(g, a, sizeof(a)),
					      want->kind == BINLOG_GTID_MARIADB ? "MariaDB"
										: "MySQL");
	}
	if (rp->has_to_time && ts > rp->to_ms) {
		rp->done = 1;
		snprintf(rp->to_why, sizeof(rp->to_why), "%s",
			 "the first transaction committed after --to-time");
		return BINLOG_OK;
	}
	if (!g || g->kind == BINLOG_GTID_NONE)
		return BINLOG_OK;
	if (rp->has_to_gtid && same_source(g, &rp->to_gtid)) {
		if (gtid_number(g) > gtid_number(&rp->to_gtid)) {
			rp->done = 1;
			snprintf(rp->to_why, sizeof(rp->to_why), "%s, the first past --to-gtid",
				 gtid_text(g, a, sizeof(a)));
			return BINLOG_OK;
		}
		if (gtid_number(g) == gtid_number(&rp->to_gtid))
			rp->to_inside = 1;
	}
	if (rp->has_from_gtid && !rp->from_found && same_source(g, &rp->from_gtid) &&
	    gtid_number(g) >= gtid_number(&rp->from_gtid)) {
		if (gtid_number(g) != gtid_number(&rp->from_gtid)) {
			if (in_history(rp, &rp->from_gtid))
				return binlog_err_set(
					err, BINLOG_E_USAGE,
					"--from-gtid %s is in a binlog before the first file given "
					"(%s: its GTID list already holds it): add the earlier "
					"files",
					gtid_text(&rp->from_gtid, a, sizeof(a)), rp->files.path[0]);
			cdc_log_info("no transaction %s in the files; starting at %s, the next "
				     "of its %s",
				     gtid_text(&rp->from_gtid, a, sizeof(a)),
				     gtid_text(g, b, sizeof(b)),
				     g->kind == BINLOG_GTID_MARIADB ? "domain" : "server");
		}
		rp->from_found = 1;
		/* The gate opens at this transaction (and --from-time, if
		 * any, still has its say). */
		rp->st.emit_from.file_no = rp->st.file_no;
		rp->st.emit_from.pos = ev->offset;
	}
	return BINLOG_OK;
}

/* After the stream took an event: at a transaction boundary? */
static void after_event(replay_t *rp)
{
	if (rp->st.txn_open)
		return;
	rp->b_records = rp->counter.records;
	if (rp->pipe.sink_rewinds)
		rp->b_sink = rp->pipe.sink->ops->offset(rp->pipe.sink);
	if (rp->to_inside) {
		rp->done = 1;
		snprintf(rp->to_why, sizeof(rp->to_why), "the end of --to-gtid's transaction");
	}
}

static void progress(replay_t *rp, const char *file, int force)
{
	int64_t now = cdc_mono_ms();
	double secs = (double)(now - rp->progress_ms) / 1000.0;

	if (!force && now - rp->progress_ms < PROGRESS_EVERY_MS)
		return;
	cdc_log_info(
		"%s (file %zu of %zu): %llu records, %llu transactions, %.1f MiB read; "
		"%.0f records/s, %.1f MiB/s",
		file, rp->file_index + 1, rp->files.n, (unsigned long long)rp->counter.records,
		(unsigned long long)rp->st.stats.transactions, (double)rp->bytes_done / 1048576.0,
		secs > 0 ? (double)(rp->counter.records - rp->progress_records) / secs : 0.0,
		secs > 0 ? (double)(rp->bytes_done - rp->progress_bytes) / secs / 1048576.0 : 0.0);
	rp->progress_ms = now;
	rp->progress_records = rp->counter.records;
	rp->progress_bytes = rp->bytes_done;
}

/* One file into the stream, until its end or the end of the range. */
static binlog_errcode_t replay_file(replay_t *rp, const char *path, binlog_err_t *err)
{
	cdc_file_t *f;
	const uint8_t *p;
	uint32_t n;
	uint64_t off, start = rp->bytes_done;
	binlog_event_t ev;
	binlog_errcode_t rc = BINLOG_OK;
	char name[256];
	int r = 0, k = 0;

	f = cdc_file_open(path, err);
	if (!f)
		return err->code;
	server_name(cdc_file_name(f), name, sizeof(name));
	binlog_decoder_reset(rp->dec);
	binlog_decoder_set_source(rp->dec, path);
	cdc_stream_set_file(&rp->st, name);
	while (!rp->done && (r = cdc_file_next(f, rp->dec, &p, &n, &off, err)) > 0) {
		if ((rc = binlog_decoder_feed(rp->dec, p, n, off, err)) != BINLOG_OK)
			goto out;
		while ((k = binlog_decoder_next(rp->dec, &ev, err)) > 0) {
			if (!ev.ignored && (rc = range_event(rp, &ev, err)) != BINLOG_OK)
				goto out;
			if (rp->done)
				break;
			if ((rc = cdc_stream_event(&rp->st, &ev, err)) != BINLOG_OK)
				goto out;
			after_event(rp);
			if (rp->done)
				break;
		}
		if (k < 0) {
			rc = err->code;
			goto out;
		}
		if (stop_requested) {
			rc = binlog_err_set(err, BINLOG_E_IO, "stopped by signal %d in %s at %llu",
					    (int)stop_signal, path, (unsigned long long)off);
			goto out;
		}
		rp->bytes_done = start + off + n;
		progress(rp, name, 0);
	}
	if (!rp->done && r < 0)
		rc = err->code;
out:
	cdc_file_close(f);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */

/*
 * The catalog's memory: a private copy of the pipeline's schema history
 * (or an empty one), which the catalog reads and may add to; removed from
 * the disk at once, so nothing is left behind, and the original is never
 * written.
 */
static binlog_errcode_t open_history(replay_t *rp, binlog_err_t *err)
{
	char src[PATH_MAX], dir[PATH_MAX], copy[PATH_MAX + 16];
	const char *tmp = getenv("TMPDIR");
	binlog_buf_t b;
	int missing = 0, fd;
	binlog_errcode_t rc = BINLOG_OK;
	schema_catalog_store_t store;

	if (rp->history_arg) {
		snprintf(src, sizeof(src), "%s", rp->history_arg);
	} else if (snprintf(src, sizeof(src), "%s/%s.schema.jsonl", rp->cfg.pipeline.state_dir,
			    rp->cfg.pipeline.name) >= (int)sizeof(src)) {
		src[0] = 0;
	}
	binlog_buf_init(&b, 0);
	if (src[0] && cdc_read_file(src, HISTORY_MAX, &b, &missing, err) != BINLOG_OK) {
		if (!missing || rp->history_arg) {
			binlog_err_prefix(err, "--schema-history");
			binlog_buf_free(&b);
			return err->code;
		}
		src[0] = 0;
	}
	snprintf(dir, sizeof(dir), "%s/sluice-replay.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(copy, sizeof(copy), "%s/schema.jsonl", dir);
	fd = open(copy, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || (b.len && write(fd, b.data, b.len) != (ssize_t)b.len)) {
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", copy, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(copy);
		rmdir(dir);
		goto out;
	}
	close(fd);
	rp->history = cdc_schema_history_open(copy, 0, err);
	unlink(copy);
	rmdir(dir);
	if (!rp->history) {
		if (src[0])
			binlog_err_prefix(err, "schema history %s", src);
		rc = err->code;
		goto out;
	}
	rp->history_entries = cdc_schema_history_size(rp->history);
	cdc_schema_history_store(rp->history, &store);
	schema_catalog_set_store(rp->pipe.catalog, &store);
	if (src[0])
		cdc_log_info("schema history %s: %zu entries", src, rp->history_entries);
out:
	binlog_buf_free(&b);
	return rc;
}

static binlog_errcode_t check_files(replay_t *rp, binlog_err_t *err)
{
	uint64_t prev = 0;
	const char *prev_path = NULL;

	for (size_t i = 0; i < rp->files.n; i++) {
		const char *path = rp->files.path[i];
		struct stat s;
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &s) != 0) {
			binlog_err_set(err, BINLOG_E_USAGE, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return err->code;
		}
		close(fd);
		if (!S_ISREG(s.st_mode))
			return binlog_err_set(err, BINLOG_E_USAGE, "%s: not a regular file", path);
		if (!rp->dir) {
			/* files given one by one: each with a number after the
			 * previous one's */
			const char *slash = strrchr(path, '/');
			uint64_t num;
			size_t stem;
			if (binlog_name(slash ? slash + 1 : path, &num, &stem)) {
				if (prev_path && num <= prev)
					return binlog_err_set(err, BINLOG_E_USAGE,
							      "%s comes after %s but its number is "
							      "not higher: give "
							      "the files in binlog order",
							      path, prev_path);
				if (prev_path && num != prev + 1)
					cdc_log_warn("no file numbered %llu between %s and %s: "
						     "its changes are not replayed",
						     (unsigned long long)(prev + 1), prev_path,
						     path);
				prev = num;
				prev_path = path;
			}
		}
	}
	if (rp->dir) {
		for (size_t i = cdc_replay_files_gap(&rp->files, 1); i;
		     i = cdc_replay_files_gap(&rp->files, i + 1))
			cdc_log_warn("%s: no file numbered %llu to %llu between %s and %s: their "
				     "changes are not replayed",
				     rp->dir, (unsigned long long)(rp->files.number[i - 1] + 1),
				     (unsigned long long)(rp->files.number[i] - 1),
				     rp->files.path[i - 1], rp->files.path[i]);
	}
	return BINLOG_OK;
}

static binlog_errcode_t setup(replay_t *rp, binlog_err_t *err)
{
	binlog_opts_t o;

	if (check_files(rp, err) != BINLOG_OK)
		return err->code;
	cdc_pipe_init(&rp->pipe, &rp->cfg);
	if (cdc_pipe_open_filter(&rp->pipe, err) != BINLOG_OK)
		return err->code;
	if (rp->tables.n) {
		cdc_source_conf_t only;
		memset(&only, 0, sizeof(only));
		only.tables = rp->tables;
		if (cdc_filter_new(&only, &rp->pipe.extra, err) != BINLOG_OK) {
			if (strncmp(err->msg, "source.tables: ", 15) == 0)
				memmove(err->msg, err->msg + 15, strlen(err->msg + 15) + 1);
			binlog_err_prefix(err, "--tables");
			return err->code;
		}
	}
	if (rp->cfg.source.catalog != CDC_CATALOG_NEVER) {
		binlog_err_t cerr = {0};
		char addr[300];
		if (cdc_pipe_open_catalog(&rp->pipe, &cerr) != BINLOG_OK && !rp->pipe.catalog)
			return binlog_err_set(err, cerr.code, "%s", cerr.msg);
		if (open_history(rp, err) != BINLOG_OK)
			return err->code;
		if (!rp->pipe.catalog_conn) {
			/* Archived binlogs may outlive their server: the history,
			 * or full metadata in the binlog, can be all it takes. */
			cdc_log_warn("catalog: %s; going on without it: a table that needs the "
				     "catalog and that the schema history (%zu entries) does not "
				     "describe stops the replay",
				     cerr.msg, rp->history_entries);
		} else {
			cdc_log_info("catalog: connected to %s",
				     cdc_conn_addr(&rp->cfg.source.conn, addr, sizeof(addr)));
		}
	} else if (rp->history_arg) {
		cdc_log_warn("--schema-history is not read: source.schema.catalog is never");
	}
	if (rp->dry_run) {
		if (strcmp(rp->cfg.sink.type, "kafka") == 0 &&
		    cdc_pipe_open_router(&rp->pipe, err) != BINLOG_OK)
			return err->code;
	} else if (strcmp(rp->cfg.sink.type, "kafka") == 0) {
		char client[300];
		cdc_pipe_kafka_t ko = {
			.client_id = client, .transactional = 0, .stop = &stop_requested};
		snprintf(client, sizeof(client), "sluice-%s-replay", rp->cfg.pipeline.name);
		if (rp->cfg.sink.delivery == CDC_DELIVERY_EXACTLY_ONCE)
			cdc_log_info("sink.delivery is exactly-once: the replay writes with the "
				     "idempotent producer, outside transactions, and commits no "
				     "offsets");
		if (cdc_pipe_open_kafka(&rp->pipe, &ko, err) != BINLOG_OK)
			return err->code;
	} else if (cdc_pipe_open_file(&rp->pipe, CDC_PIPE_FILE_NEW, err) != BINLOG_OK) {
		return err->code;
	}
	rp->counter.base.ops = &counter_ops;
	rp->counter.inner = rp->pipe.sink;

	binlog_opts_default(&o);
	o.max_event_size = rp->cfg.pipeline.max_event_size;
	o.max_inflated_size = rp->cfg.pipeline.max_inflated_size;
	if (!(rp->dec = binlog_decoder_new(&o)) ||
	    cdc_stream_init(&rp->st, &rp->counter.base) != BINLOG_OK)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	rp->st_ok = 1;
	/* As a live stream: GTID lists add to the history (cdc_sequence.h),
	 * which on one server's files is what replacing it gives too. */
	rp->st.seq.merge_history = 1;
	cdc_pipe_attach(&rp->pipe, &rp->st);
	if (rp->has_from_gtid || rp->has_from_time) {
		rp->st.emit_from.active = 1;
		/* --from-gtid: shut until range_event finds it */
		rp->st.emit_from.file_no = rp->has_from_gtid ? UINT64_MAX : 0;
		rp->st.emit_from.pos = 0;
		rp->st.emit_from.ts_ms = rp->has_from_time ? rp->from_ms : 0;
	}
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* The end                                                             */

/* Everything written made durable: flushed (a file fsync'd as sink.fsync
 * says), or acknowledged by Kafka, every record of it. */
static binlog_errcode_t finish_sink(replay_t *rp, binlog_err_t *err)
{
	sink_t *s = rp->pipe.sink;

	if (!s)
		return BINLOG_OK;
	if (s->ops->durable) {
		/* Kafka retries for ever: say what is awaited while it does. */
		int64_t said = cdc_mono_ms();
		while (!stop_requested && s->ops->durable(s) < s->ops->written(s)) {
			struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
			if (sink_push(s, err) != BINLOG_OK ||
			    s->ops->durable_error(s, err) != BINLOG_OK) {
				binlog_err_prefix(err, "sink");
				return err->code;
			}
			if (cdc_mono_ms() - said >= PROGRESS_EVERY_MS) {
				said = cdc_mono_ms();
				cdc_log_info("waiting for Kafka: %llu of %llu records acknowledged",
					     (unsigned long long)s->ops->durable(s),
					     (unsigned long long)s->ops->written(s));
			}
			nanosleep(&ts, NULL);
		}
	}
	if (sink_flush(s, err) != BINLOG_OK) {
		binlog_err_prefix(err, "sink");
		return err->code;
	}
	if (s->ops->durable) {
		uint64_t w = s->ops->written(s), d = s->ops->durable(s);
		if (s->ops->durable_error(s, err) != BINLOG_OK) {
			binlog_err_prefix(err, "sink");
			return err->code;
		}
		if (d != w)
			return binlog_err_set(err, BINLOG_E_SINK,
					      "sink: %llu of %llu records acknowledged",
					      (unsigned long long)d, (unsigned long long)w);
	}
	return BINLOG_OK;
}

/* A transaction left open (an error inside it, a last file that ends
 * inside it): a file sink drops its records. */
static void drop_open_txn(replay_t *rp)
{
	binlog_err_t e = {0};
	sink_t *s = rp->pipe.sink;

	if (!rp->st_ok || !rp->st.txn_open || rp->counter.records == rp->b_records)
		return;
	if (rp->pipe.sink_rewinds && s->ops->rewind(s, rp->b_sink, &e) == BINLOG_OK) {
		cdc_log_warn("the %llu records of the unfinished transaction %s were dropped "
			     "from %s",
			     (unsigned long long)(rp->counter.records - rp->b_records),
			     rp->st.gtid_text[0] ? rp->st.gtid_text : "(without GTID)",
			     rp->cfg.sink.path);
		rp->counter.records = rp->b_records;
	} else {
		cdc_log_warn("the %llu records of the unfinished transaction %s were written",
			     (unsigned long long)(rp->counter.records - rp->b_records),
			     rp->st.gtid_text[0] ? rp->st.gtid_text : "(without GTID)");
	}
}

static void summary(replay_t *rp)
{
	const cdc_stream_stats_t *s = &rp->st.stats;
	double secs = (double)(cdc_mono_ms() - rp->t0) / 1000.0;

	cdc_log_info("%s%zu file(s), %.1f MiB in %.1f s: %llu records (insert %llu, update %llu, "
		     "delete %llu) of %llu transactions read; sequences %llu to %llu, GTIDs %s "
		     "to %s",
		     rp->dry_run ? "dry run, nothing written: " : "", rp->file_index,
		     (double)rp->bytes_done / 1048576.0, secs,
		     (unsigned long long)rp->counter.records, (unsigned long long)s->inserts,
		     (unsigned long long)s->updates, (unsigned long long)s->deletes,
		     (unsigned long long)s->transactions, (unsigned long long)rp->counter.first_seq,
		     (unsigned long long)rp->counter.last_seq,
		     rp->counter.first_gtid[0] ? rp->counter.first_gtid : "-",
		     rp->counter.last_gtid[0] ? rp->counter.last_gtid : "-");
	for (size_t i = 0; i < rp->counter.ntopics; i++)
		cdc_log_info("  topic %s: %llu records", rp->counter.topics[i].topic,
			     (unsigned long long)rp->counter.topics[i].n);
	if (rp->pipe.schema_stats.catalog_mismatch || rp->pipe.schema_stats.catalog_missing)
		cdc_log_warn("catalog: %llu table definitions disagreed with the binlog, %llu "
			     "tables were gone: those records have positional or binlog-only "
			     "names (a schema history from the live pipeline avoids this)",
			     (unsigned long long)rp->pipe.schema_stats.catalog_mismatch,
			     (unsigned long long)rp->pipe.schema_stats.catalog_missing);
	if (s->statement_changes)
		cdc_log_warn("%llu data changes were logged as SQL statements "
			     "(binlog_format=STATEMENT or MIXED) and are not replayed",
			     (unsigned long long)s->statement_changes);
}

/* What the range asked for and did not find. 0, or an error for a
 * --from-gtid that is not in the files. */
static binlog_errcode_t range_end(replay_t *rp, binlog_err_t *err)
{
	if (rp->has_from_gtid && !rp->from_found)
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "--from-gtid %s: no transaction of its %s at or after it in "
				      "the files; nothing was written",
				      rp->from_text,
				      rp->from_gtid.kind == BINLOG_GTID_MARIADB ? "domain"
										: "server");
	if (rp->has_from_time && rp->st.emit_from.active)
		cdc_log_warn("--from-time: no transaction committed at or after it in the files");
	if (rp->done)
		cdc_log_info("stopped at %s", rp->to_why);
	else if (rp->has_to_gtid)
		cdc_log_warn("the files end before --to-gtid %s: everything after the start was "
			     "replayed",
			     rp->to_text);
	return BINLOG_OK;
}

static void teardown(replay_t *rp)
{
	if (rp->st_ok)
		cdc_stream_free(&rp->st);
	binlog_decoder_free(rp->dec);
	cdc_pipe_close(&rp->pipe);
	cdc_schema_history_close(rp->history);
	free(rp->counter.topics);
	cdc_list_free(&rp->tables);
	cdc_replay_files_free(&rp->files);
	cdc_config_free(&rp->cfg);
}

int cdc_replay_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"binlogs", required_argument, NULL, 'b'},
		{"from-gtid", required_argument, NULL, 'F'},
		{"to-gtid", required_argument, NULL, 'T'},
		{"from-time", required_argument, NULL, 'f'},
		{"to-time", required_argument, NULL, 't'},
		{"tables", required_argument, NULL, 'x'},
		{"schema-history", required_argument, NULL, 's'},
		{"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	replay_t rp;
	binlog_err_t err = {0};
	binlog_errcode_t rc;
	struct sigaction sa;
	int c, status = 1;

	/* First: a SIGTERM from here on stops the replay cleanly. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&rp, 0, sizeof(rp));
	cdc_pipe_init(&rp.pipe, &rp.cfg);
	cdc_config_init(&rp.cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			rp.cfg_path = optarg;
			break;
		case 'b':
			rp.dir = optarg;
			break;
		case 'F':
		case 'T':
			if (cdc_replay_parse_gtid(optarg, c == 'F' ? &rp.from_gtid : &rp.to_gtid,
						  &err) != BINLOG_OK) {
				fprintf(stderr, "sluice replay: --%s-gtid: %s\n",
					c == 'F' ? "from" : "to", err.msg);
				status = 2;
				goto out;
			}
			if (c == 'F') {
				rp.has_from_gtid = 1;
				rp.from_text = optarg;
			} else {
				rp.has_to_gtid = 1;
				rp.to_text = optarg;
			}
			break;
		case 'f':
		case 't':
			if (cdc_replay_parse_time(optarg, c == 'f' ? &rp.from_ms : &rp.to_ms,
						  &err) != BINLOG_OK) {
				fprintf(stderr, "sluice replay: --%s-time: %s\n",
					c == 'f' ? "from" : "to", err.msg);
				status = 2;
				goto out;
			}
			*(c == 'f' ? &rp.has_from_time : &rp.has_to_time) = 1;
			break;
		case 'x':
			if (add_tables(&rp, optarg) != BINLOG_OK) {
				fprintf(stderr, "sluice replay: out of memory\n");
				goto out;
			}
			break;
		case 's':
			rp.history_arg = optarg;
			break;
		case 'n':
			rp.dry_run = 1;
			break;
		case 'h':
			usage(stdout);
			status = 0;
			goto out;
		default:
			usage(stderr);
			status = 2;
			goto out;
		}
	}
	if (!rp.cfg_path || (!rp.dir) == (optind == argc)) {
		if (rp.cfg_path && rp.dir)
			fprintf(stderr,
				"sluice replay: --binlogs and files: give one or the other\n");
		usage(stderr);
		status = 2;
		goto out;
	}
	if (rp.has_from_gtid && rp.has_to_gtid && same_source(&rp.from_gtid, &rp.to_gtid) &&
	    gtid_number(&rp.to_gtid) < gtid_number(&rp.from_gtid)) {
		fprintf(stderr, "sluice replay: --to-gtid %s is before --from-gtid %s\n",
			rp.to_text, rp.from_text);
		status = 2;
		goto out;
	}
	if (rp.has_from_time && rp.has_to_time && rp.to_ms < rp.from_ms) {
		fprintf(stderr, "sluice replay: --to-time is before --from-time\n");
		status = 2;
		goto out;
	}
	if (cdc_config_load(rp.cfg_path, &rp.cfg, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice replay: %s\n", err.msg);
		status = 2;
		goto out;
	}
	cdc_log_init(rp.cfg.pipeline.name);
	if (rp.dir) {
		if (cdc_replay_list_dir(rp.dir, &rp.files, &err) != BINLOG_OK) {
			cdc_log_error("%s", err.msg);
			goto out;
		}
		if (rp.files.ignored)
			cdc_log_info("%s: %zu binlog files; %zu other files ignored", rp.dir,
				     rp.files.n, rp.files.ignored);
	} else {
		for (int i = optind; i < argc; i++) {
			char *p = strdup(argv[i]);
			if (!p || !add_file(&rp.files, p, 0)) {
				free(p);
				cdc_log_error("out of memory");
				goto out;
			}
		}
	}

	rp.t0 = rp.progress_ms = cdc_mono_ms();
	rc = setup(&rp, &err);
	for (; rc == BINLOG_OK && rp.file_index < rp.files.n && !rp.done; rp.file_index++) {
		const char *path = rp.files.path[rp.file_index];
		char name[256];
		const char *slash = strrchr(path, '/');

		rc = replay_file(&rp, path, &err);
		server_name(slash ? slash + 1 : path, name, sizeof(name));
		if (rc == BINLOG_OK)
			progress(&rp, name, 1);
	}
	if (rc == BINLOG_OK && rp.counter.nomem)
		rc = binlog_err_set(&err, BINLOG_E_NOMEM, "counting records per topic");
	if (rc == BINLOG_OK && rp.st.txn_open)
		cdc_log_warn("the last file ends inside a transaction (%s); it is not complete "
			     "in these files",
			     rp.st.gtid_text[0] ? rp.st.gtid_text : "without GTID");
	drop_open_txn(&rp);
	if (rc != BINLOG_OK) {
		binlog_err_t e2 = {0};
		/* What was written before the error is kept (and, for Kafka,
		 * waited for a little), but the status says it is not all. */
		stop_requested = 1;
		(void)finish_sink(&rp, &e2);
		cdc_log_error("%s", err.msg);
		if (rp.pipe.catalog && !rp.pipe.catalog_conn && strstr(err.msg, "catalog:"))
			cdc_log_error("the catalog is out of reach: with the source gone, a schema "
				      "history that covers these tables, or "
				      "source.schema.catalog: never (names from the binlog alone, "
				      "which may differ from the live records), lets the replay "
				      "through");
		if (rp.st_ok)
			cdc_log_error("replay incomplete: %llu records were written before the "
				      "error",
				      (unsigned long long)rp.counter.records);
		goto out;
	}
	if (range_end(&rp, &err) != BINLOG_OK || finish_sink(&rp, &err) != BINLOG_OK) {
		cdc_log_error("%s", err.msg);
		goto out;
	}
	summary(&rp);
	status = 0;
out:
	teardown(&rp);
	return status;
}
