/*
 * merge_table.c: merge-on-read and Hive tables and their timeline
 * (merge_table.h; the layout is in docs/MERGER.md).
 *
 * The visible state is computed from the timeline alone:
 *
 *   visible files = files of completed instants - files they replaced
 *   offsets       = per Kafka partition, the highest of completed instants
 *
 * Because a key's winner is the highest sequence whatever the order the
 * rows are read in, the files of a bucket can be read in any order, and
 * any set of them can be compacted into one file at any time, by any
 * process, concurrently with writers: the new file replaces exactly the
 * files it read, and a file a writer adds meanwhile stays visible beside
 * it. Nothing needs a global order of instants.
 *
 * The timeline is kept short: once it holds more than
 * tuning.checkpoint_instants completed instants, a checkpoint instant
 * records the visible files, the offsets and the replaced files not yet
 * removed, and names the instants it supersedes, which are then deleted.
 * A reader that sees a checkpoint ignores the instants it names, whether
 * or not they are deleted yet.
 */
#include "merge_table.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "binlog_jsonw.h"
#include "cdc_fs.h"
#include "cdc_log.h"
#include "cdc_record.h"

#define META_MAX    (64u << 20) /* one instant's metadata */
#define SLUICE_DIR  ".sluice"
#define INDEX_DIR   ".sluice/index"
#define MARKER_NAME ".sluice_commit"
#define NO_PART     UINT32_MAX

enum { ST_REQUESTED, ST_INFLIGHT, ST_COMPLETED };

void merge_table_tuning_default(merge_table_tuning_t *t)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	t->zstd_level = 3;
	t->write_threads = cores < 1                         ? 1
			   : cores > MERGE_WRITE_THREADS_MAX ? MERGE_WRITE_THREADS_MAX
							     : (uint32_t)cores;
	t->compact_files = 8;
	t->small_files = 8;
	t->clean_retain_ms = 10 * 60 * 1000;
	t->checkpoint_instants = 64;
	t->success_delay_ms = 10 * 60 * 1000;
	t->max_index_bytes = 4ull << 30;
}

/* ------------------------------------------------------------------ */
/* Small containers                                                    */

typedef struct strvec {
	char **v;
	size_t n, cap;
} strvec_t;

static int sv_push(strvec_t *s, const char *x)
{
	char *d;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if (!(d = strdup(x)))
		return -1;
	s->v[s->n++] = d;
	return 0;
}

static void sv_free(strvec_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sv_sort(strvec_t *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
}

static int sv_has(const strvec_t *s, const char *x)
{
	return s->n && bsearch(&x, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

/* Interned strings (partition names): string <-> small id. */
typedef struct strtab {
	char **names;
	uint32_t n, cap;
	uint32_t *slots; /* id + 1; 0 empty */
	uint32_t nslots;
} strtab_t;

static uint32_t st_find(const strtab_t *t, const char *s)
{
	uint64_t h;
	uint32_t i;

	if (!t->nslots)
		return NO_PART;
	h = merge_hash(s, strlen(s));
	for (i = (uint32_t)h & (t->nslots - 1);; i = (i + 1) & (t->nslots - 1)) {
		uint32_t id = t->slots[i];
		if (!id)
			return NO_PART;
		if (strcmp(t->names[id - 1], s) == 0)
			return id - 1;
	}
}

static uint32_t st_intern(strtab_t *t, const char *s)
{
	uint32_t id = st_find(t, s);

	if (id != NO_PART)
		return id;
	if ((t->n + 1) * 2 > t->nslots) {
		uint32_t ns = t->nslots ? t->nslots * 2 : 64;
		uint32_t *slots = calloc(ns, sizeof(*slots));
		if (!slots)
			return NO_PART;
		for (uint32_t k = 0; k < t->n; k++) {
			uint32_t i =
				(uint32_t)merge_hash(t->names[k], strlen(t->names[k])) & (ns - 1);
			while (slots[i])
				i = (i + 1) & (ns - 1);
			slots[i] = k + 1;
		}
		free(t->slots);
		t->slots = slots;
		t->nslots = ns;
	}
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 64;
		char **v = realloc(t->names, cap * sizeof(*v));
		if (!v)
			return NO_PART;
		t->names = v;
		t->cap = cap;
	}
	if (!(t->names[t->n] = strdup(s)))
		return NO_PART;
	{
		uint32_t i = (uint32_t)merge_hash(s, strlen(s)) & (t->nslots - 1);
		while (t->slots[i])
			i = (i + 1) & (t->nslots - 1);
		t->slots[i] = t->n + 1;
	}
	return t->n++;
}

static void st_free(strtab_t *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ */
/* The table                                                           */

/* A completed instant, parsed once (completed instants never change). */
typedef struct done_instant {
	char *name; /* the file name in the timeline */
	json_t *meta;
} done_instant_t;

/* What the timeline says at one moment. */
typedef struct view {
	strvec_t files;      /* visible, sorted */
	strvec_t replaced;   /* sorted */
	strvec_t completed;  /* names of completed instant files counted */
	strvec_t superseded; /* instants checkpoints fold, sorted */
	strvec_t seen;       /* every completed instant file listed, counted or
			      * superseded: what a new checkpoint folds */
	merge_offset_t *offs;
	size_t noffs, capoffs;
	size_t ninstants;   /* completed, not superseded */
	json_t *garbage;    /* [[path, replaced_at_ms]...] */
	json_t *files_rows; /* path -> rows */
} view_t;

/* Per Kafka partition state of the Hive partitions (for _SUCCESS). */
typedef struct hive_part {
	uint8_t success;
	uint8_t exists;
	uint32_t plan; /* during a commit: 1 + its plan's index, 0 none */
} hive_part_t;

struct merge_table {
	char *dir;
	merge_table_opts_t o;
	merge_table_tuning_t tune;
	int64_t created_ms;
	char writer[32];
	int writer_fd;
	int64_t last_instant_ms;
	done_instant_t *done;
	size_t ndone, capdone;
	/* partitions of the table's topic, for the watermark */
	char *topic;
	int32_t topic_partitions;
	/* Hive */
	merge_map_t *index;   /* key -> index line; aux: partition id or NO_PART */
	strvec_t index_files; /* index files applied, sorted */
	strtab_t parts;
	hive_part_t *pstate;
	uint32_t capp;
	strvec_t columns;        /* text format: data columns in order */
	int64_t success_scan_ms; /* empty partitions are marked up to here */
	binlog_buf_t line, scratch, scratch2;
};

const merge_table_opts_t *merge_table_options(const merge_table_t *t)
{
	return &t->o;
}

const char *merge_table_dir(const merge_table_t *t)
{
	return t->dir;
}

/* snprintf for paths: a path that does not fit becomes "" (so that the
 * operation on it fails visibly instead of acting on a cut name). */
static int pathf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pathf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap) {
		buf[0] = 0;
		return -1;
	}
	return n;
}

static const char *file_ext(const merge_table_t *t)
{
	if (t->o.kind == MERGE_TABLE_HIVE && t->o.format == MERGE_FMT_TEXT)
		return t->o.compress ? ".txt.zst" : ".txt";
	return t->o.compress ? ".jsonl.zst" : ".jsonl";
}

static const char *index_ext(const merge_table_t *t)
{
	return t->o.compress ? ".jsonl.zst" : ".jsonl";
}

static binlog_errcode_t write_json(const char *path, json_t *j, int how, binlog_err_t *err)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	binlog_errcode_t rc;

	if (!text)
		return binlog_err_set(err, BINLOG_E_NOMEM, "%s: out of memory", path);
	rc = cdc_write_atomic(path, text, strlen(text), how, 1, err);
	free(text);
	return rc;
}

static binlog_errcode_t read_json(const char *path, json_t **out, int *missing, binlog_err_t *err)
{
	binlog_buf_t b;
	json_error_t je;
	binlog_errcode_t rc;

	*out = NULL;
	binlog_buf_init(&b, 0);
	if ((rc = cdc_read_file(path, META_MAX, &b, missing, err)) != BINLOG_OK) {
		binlog_buf_free(&b);
		return rc;
	}
	*out = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &je);
	binlog_buf_free(&b);
	if (!*out)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE, "%s: line %d: %s", path, je.line,
				      je.text);
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Table metadata                                                      */

static const char *const kind_names[] = {"mor", "hive"};
static const char *const gran_names[] = {"hour", "day"};
static const char *const fmt_names[] = {"jsonl", "text"};

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static binlog_errcode_t opts_from_json(const char *path, json_t *j, merge_table_opts_t *o,
				       int64_t *created, binlog_err_t *err)
{
	json_t *pb = json_object_get(j, "partition_by");
	int k = name_index(kind_names, 2, json_string_value(json_object_get(j, "kind")));
	int g = name_index(gran_names, 2, json_string_value(json_object_get(j, "granularity")));
	int f = name_index(fmt_names, 2, json_string_value(json_object_get(j, "format")));
	json_int_t b = json_integer_value(json_object_get(j, "buckets"));

	memset(o, 0, sizeof(*o));
	if (k < 0 || g < 0 || f < 0 || b < 1 || b > 4096 ||
	    json_integer_value(json_object_get(j, "version")) != 1)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE,
				      "%s: not a sluice table description (version 1: kind, "
				      "buckets, granularity, format)",
				      path);
	o->kind = k;
	o->granularity = g;
	o->format = f;
	o->buckets = (uint32_t)b;
	o->compress = json_is_true(json_object_get(j, "compress"));
	if (json_is_string(pb) && !(o->partition_by = strdup(json_string_value(pb))))
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	*created = json_integer_value(json_object_get(j, "created_ms"));
	return BINLOG_OK;
}

static json_t *opts_to_json(const merge_table_opts_t *o, int64_t created)
{
	return json_pack("{s:i,s:s,s:i,s:s,s:s,s:s?,s:b,s:I}", "version", 1, "kind",
			 kind_names[o->kind], "buckets", (int)o->buckets, "format",
			 fmt_names[o->format], "granularity", gran_names[o->granularity],
			 "partition_by", o->partition_by, "compress", o->compress, "created_ms",
			 (json_int_t)created);
}

static binlog_errcode_t opts_agree(const char *dir, const merge_table_opts_t *a,
				   const merge_table_opts_t *b, binlog_err_t *err)
{
	const char *what = NULL;

	if (a->kind != b->kind)
		what = "kind";
	else if (a->kind == MERGE_TABLE_MOR && a->buckets != b->buckets)
		what = "buckets";
	else if (a->kind == MERGE_TABLE_HIVE && a->granularity != b->granularity)
		what = "partition granularity";
	else if (a->kind == MERGE_TABLE_HIVE && a->format != b->format)
		what = "format";
	else if (a->kind == MERGE_TABLE_HIVE && !!a->partition_by != !!b->partition_by)
		what = "partition-by";
	else if (a->kind == MERGE_TABLE_HIVE && a->partition_by &&
		 strcmp(a->partition_by, b->partition_by) != 0)
		what = "partition-by";
	else if (a->compress != b->compress)
		what = "compression";
	if (what)
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "%s: the table exists with another %s (see %s/" SLUICE_DIR
				      "/table.json); a table's layout cannot change",
				      dir, what, dir);
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Instants                                                            */

/* "20240615133055123_ab12cd34": the time (UTC, ms) and the writer. IDs of
 * one writer grow; across writers they only roughly follow time, which is
 * all that is needed: nothing depends on their order. */
static void new_instant(merge_table_t *t, char *id, size_t cap)
{
	int64_t ms = cdc_wall_ms();
	time_t s;
	struct tm tm;

	if (ms <= t->last_instant_ms)
		ms = t->last_instant_ms + 1;
	t->last_instant_ms = ms;
	s = (time_t)(ms / 1000);
	gmtime_r(&s, &tm);
	snprintf(id, cap, "%04d%02d%02d%02d%02d%02d%03d_%s", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000), t->writer);
}

/* Split "ID.ACTION[.STATE]"; 0 when it is not an instant file. */
static int parse_instant_name(const char *name, char *id, size_t idcap, char *action, size_t actcap,
			      int *state)
{
	const char *d1 = strchr(name, '.'), *d2;
	size_t n;

	if (!d1 || name[0] == '.' || (size_t)(d1 - name) >= idcap)
		return 0;
	memcpy(id, name, (size_t)(d1 - name));
	id[d1 - name] = 0;
	d2 = strchr(d1 + 1, '.');
	n = d2 ? (size_t)(d2 - d1 - 1) : strlen(d1 + 1);
	if (n == 0 || n >= actcap)
		return 0;
	memcpy(action, d1 + 1, n);
	action[n] = 0;
	if (!d2)
		*state = ST_COMPLETED;
	else if (strcmp(d2 + 1, "requested") == 0)
		*state = ST_REQUESTED;
	else if (strcmp(d2 + 1, "inflight") == 0)
		*state = ST_INFLIGHT;
	else
		return 0;
	return strchr(id, '_') != NULL;
}

static done_instant_t *done_find(merge_table_t *t, const char *name)
{
	for (size_t i = 0; i < t->ndone; i++)
		if (strcmp(t->done[i].name, name) == 0)
			return &t->done[i];
	return NULL;
}

static void done_drop_missing(merge_table_t *t, const strvec_t *present)
{
	size_t k = 0;

	for (size_t i = 0; i < t->ndone; i++) {
		if (sv_has(present, t->done[i].name)) {
			t->done[k++] = t->done[i];
		} else {
			free(t->done[i].name);
			json_decref(t->done[i].meta);
		}
	}
	t->ndone = k;
}

static void view_free(view_t *v)
{
	sv_free(&v->files);
	sv_free(&v->replaced);
	sv_free(&v->completed);
	sv_free(&v->seen);
	sv_free(&v->superseded);
	for (size_t i = 0; i < v->noffs; i++)
		free(v->offs[i].topic);
	free(v->offs);
	json_decref(v->garbage);
	json_decref(v->files_rows);
	memset(v, 0, sizeof(*v));
}

static int view_offset(view_t *v, const char *topic, int32_t p, int64_t off, int64_t wm)
{
	for (size_t i = 0; i < v->noffs; i++)
		if (v->offs[i].partition == p && strcmp(v->offs[i].topic, topic) == 0) {
			if (off > v->offs[i].offset)
				v->offs[i].offset = off;
			if (wm > v->offs[i].watermark_ms)
				v->offs[i].watermark_ms = wm;
			return 0;
		}
	if (v->noffs == v->capoffs) {
		size_t cap = v->capoffs ? v->capoffs * 2 : 16;
		merge_offset_t *o = realloc(v->offs, cap * sizeof(*o));
		if (!o)
			return -1;
		v->offs = o;
		v->capoffs = cap;
	}
	if (!(v->offs[v->noffs].topic = strdup(topic)))
		return -1;
	v->offs[v->noffs].partition = p;
	v->offs[v->noffs].offset = off;
	v->offs[v->noffs].watermark_ms = wm;
	v->noffs++;
	return 0;
}

static int view_add_meta(view_t *v, json_t *meta)
{
	size_t i;
	json_t *x;

	json_array_foreach(json_object_get(meta, "files"), i, x)
	{
		const char *p = json_string_value(json_object_get(x, "path"));
		if (!p || sv_push(&v->files, p) < 0)
			return -1;
		json_object_set(v->files_rows, p, json_object_get(x, "rows"));
	}
	json_array_foreach(json_object_get(meta, "replaced"), i, x)
	{
		if (!json_is_string(x) || sv_push(&v->replaced, json_string_value(x)) < 0)
			return -1;
		json_array_append_new(
			v->garbage,
			json_pack("[s,I]", json_string_value(x),
				  json_integer_value(json_object_get(meta, "time_ms"))));
	}
	json_array_foreach(json_object_get(meta, "garbage"), i, x)
	{
		json_array_append(v->garbage, x);
		if (json_is_string(json_array_get(x, 0)))
			sv_push(&v->replaced, json_string_value(json_array_get(x, 0)));
	}
	json_array_foreach(json_object_get(meta, "offsets"), i, x)
	{
		const char *tp = json_string_value(json_object_get(x, "topic"));
		json_t *wm = json_object_get(x, "watermark_ms");
		if (!tp ||
		    view_offset(v, tp, (int32_t)json_integer_value(json_object_get(x, "partition")),
				json_integer_value(json_object_get(x, "offset")),
				json_is_integer(wm) ? json_integer_value(wm) : INT64_MIN) < 0)
			return -1;
	}
	return 0;
}

/*
 * Read the timeline: completed instants into the cache, the view, and
 * the pending instants (names of .requested/.inflight files) when
 * pending is not NULL.
 */
static binlog_errcode_t tl_scan_once(merge_table_t *t, view_t *v, strvec_t *pending, int *again,
				     binlog_err_t *err)
{
	char dir[PATH_MAX], path[PATH_MAX], id[128], act[32];
	DIR *d;
	struct dirent *de;
	strvec_t names = {0}, superseded = {0};
	const char *latest_cp = NULL;
	binlog_errcode_t rc = BINLOG_OK;
	int state;

	memset(v, 0, sizeof(*v));
	v->garbage = json_array();
	v->files_rows = json_object();
	if (pathf(dir, sizeof(dir), "%s/" SLUICE_DIR "/timeline", t->dir) < 0)
		return binlog_err_set(err, BINLOG_E_USAGE, "%s: a path in the table is too long",
				      t->dir);
	if (!(d = opendir(dir)))
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (!parse_instant_name(de->d_name, id, sizeof(id), act, sizeof(act), &state))
			continue;
		if (state != ST_COMPLETED) {
			if (pending && sv_push(pending, de->d_name) < 0)
				goto nomem;
			continue;
		}
		if (sv_push(&names, de->d_name) < 0)
			goto nomem;
	}
	closedir(d);
	d = NULL;
	sv_sort(&names);
	done_drop_missing(t, &names);
	for (size_t i = 0; i < names.n; i++) {
		done_instant_t *di = done_find(t, names.v[i]);
		int missing = 0;
		if (!di) {
			json_t *meta;
			pathf(path, sizeof(path), "%s/%s", dir, names.v[i]);
			if ((rc = read_json(path, &meta, &missing, err)) != BINLOG_OK) {
				if (missing) {
					/* Folded by a checkpoint since the listing:
					 * that checkpoint is not in the listing, so
					 * the listing is stale. */
					*again = 1;
					rc = BINLOG_OK;
					goto out;
				}
				goto out;
			}
			if (t->ndone == t->capdone) {
				size_t cap = t->capdone ? t->capdone * 2 : 64;
				done_instant_t *nd = realloc(t->done, cap * sizeof(*nd));
				if (!nd) {
					json_decref(meta);
					goto nomem;
				}
				t->done = nd;
				t->capdone = cap;
			}
			di = &t->done[t->ndone++];
			if (!(di->name = strdup(names.v[i]))) {
				t->ndone--;
				json_decref(meta);
				goto nomem;
			}
			di->meta = meta;
		}
	}
	/* What checkpoints supersede, older checkpoints included: each one
	 * names the previous. The latest is the one no other names, which
	 * does not depend on clocks ordering the IDs. */
	for (size_t k = 0; k < t->ndone; k++) {
		size_t i;
		json_t *x;
		if (!strstr(t->done[k].name, ".checkpoint"))
			continue;
		json_array_foreach(json_object_get(t->done[k].meta, "superseded"), i, x)
		{
			if (json_is_string(x) && sv_push(&superseded, json_string_value(x)) < 0)
				goto nomem;
		}
	}
	sv_sort(&superseded);
	for (size_t k = 0; k < t->ndone; k++)
		if (strstr(t->done[k].name, ".checkpoint") &&
		    !sv_has(&superseded, t->done[k].name) &&
		    (!latest_cp || strcmp(t->done[k].name, latest_cp) > 0))
			latest_cp = t->done[k].name;
	for (size_t i = 0; i < t->ndone; i++)
		if (sv_push(&v->seen, t->done[i].name) < 0)
			goto nomem;
	for (size_t i = 0; i < t->ndone; i++) {
		done_instant_t *di = &t->done[i];
		if (sv_has(&superseded, di->name))
			continue;
		if (strstr(di->name, ".checkpoint") && di->name != latest_cp)
			continue; /* an older checkpoint: the latest supersedes it */
		if (view_add_meta(v, di->meta) < 0 || sv_push(&v->completed, di->name) < 0)
			goto nomem;
		v->ninstants++;
	}
	sv_sort(&v->replaced);
	{
		size_t k = 0;
		for (size_t i = 0; i < v->files.n; i++) {
			if (sv_has(&v->replaced, v->files.v[i]))
				free(v->files.v[i]);
			else
				v->files.v[k++] = v->files.v[i];
		}
		v->files.n = k;
	}
	sv_sort(&v->files);
	goto out;
nomem:
	rc = binlog_err_set(err, BINLOG_E_NOMEM, "%s: out of memory reading the timeline", dir);
out:
	if (d)
		closedir(d);
	sv_free(&names);
	if (rc == BINLOG_OK) {
		v->superseded = superseded; /* the view's now */
		memset(&superseded, 0, sizeof(superseded));
		sv_sort(&v->seen);
	}
	sv_free(&superseded);
	if (rc != BINLOG_OK)
		view_free(v);
	return rc;
}

/*
 * The timeline as it stands: tl_scan_once, listed again when an instant
 * vanished between the listing and its reading (a checkpoint folded it; the
 * listing predates the checkpoint). A few rounds at most: cleaning folds
 * the timeline at most once per maintenance interval.
 */
static binlog_errcode_t tl_scan(merge_table_t *t, view_t *v, strvec_t *pending, binlog_err_t *err)
{
	for (int round = 0;; round++) {
		int again = 0;
		binlog_errcode_t rc = tl_scan_once(t, v, pending, &again, err);
		if (rc != BINLOG_OK || !again)
			return rc;
		view_free(v);
		if (pending)
			sv_free(pending);
		if (round == 20)
			return binlog_err_set(err, BINLOG_E_LOCAL_IO,
					      "%s: the timeline keeps changing under its reading",
					      t->dir);
	}
}

static void unlink_rel(const merge_table_t *t, const char *rel)
{
	char p[PATH_MAX];

	/* ENOTDIR: a file where its directory should be; it was never made. */
	if (pathf(p, sizeof(p), "%s/%s", t->dir, rel) < (int)sizeof(p) && unlink(p) != 0 &&
	    errno != ENOENT && errno != ENOTDIR)
		cdc_log_warn("%s: cannot remove: %s", p, strerror(errno));
}

/* rm -r of a directory of the table (staged partitions): files, then it. */
static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[PATH_MAX];

	if (!d) {
		if (errno != ENOENT)
			unlink(path);
		return;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		pathf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (de->d_type == DT_DIR)
			remove_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static int writer_alive(const merge_table_t *t, const char *writer)
{
	char p[PATH_MAX];
	int fd, alive;

	if (strcmp(writer, t->writer) == 0)
		return 1;
	pathf(p, sizeof(p), "%s/" SLUICE_DIR "/writers/%s.lock", t->dir, writer);
	if ((fd = open(p, O_RDWR | O_CLOEXEC)) < 0)
		return 0;
	alive = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	if (!alive)
		unlink(p); /* ours now: the writer is gone */
	close(fd);
	return alive;
}

/* Finish a completed Hive instant's directory exchanges (idempotent). */
static void hive_apply(merge_table_t *t, json_t *meta, const char *id);

/* Remove what a pending instant wrote, then its markers; `why` ends the
 * log line ("whose writer is gone"). */
static void rollback(merge_table_t *t, const char *id, const char *action, const char *why)
{
	char p[PATH_MAX];
	json_t *meta = NULL;
	size_t i;
	json_t *x;
	int missing;
	binlog_err_t err;

	pathf(p, sizeof(p), "%s/" SLUICE_DIR "/timeline/%s.%s.inflight", t->dir, id, action);
	if (read_json(p, &meta, &missing, &err) == BINLOG_OK) {
		json_array_foreach(json_object_get(meta, "files"), i, x)
		{
			if (json_is_string(json_object_get(x, "path")))
				unlink_rel(t, json_string_value(json_object_get(x, "path")));
		}
		json_array_foreach(json_object_get(meta, "partitions"), i, x)
		{
			const char *staged = json_string_value(json_object_get(x, "staged"));
			char sp[PATH_MAX];
			if (staged &&
			    pathf(sp, sizeof(sp), "%s/%s", t->dir, staged) < (int)sizeof(sp))
				remove_tree(sp);
		}
		json_decref(meta);
	}
	unlink(p);
	pathf(p, sizeof(p), "%s/" SLUICE_DIR "/timeline/%s.%s.requested", t->dir, id, action);
	unlink(p);
	cdc_log_info("%s: rolled back %s %s, %s", t->dir, action, id, why);
}

/*
 * Roll back the pending instants of writers that are gone, and finish the
 * Hive exchanges of completed instants. Cheap when there is nothing to do.
 */
static binlog_errcode_t recover(merge_table_t *t, binlog_err_t *err)
{
	view_t v;
	strvec_t pending = {0};
	char id[128], act[32];
	int state;
	binlog_errcode_t rc = tl_scan(t, &v, &pending, err);

	if (rc != BINLOG_OK)
		return rc;
	sv_sort(&pending); /* an instant's markers side by side */
	for (size_t i = 0; i < pending.n; i++) {
		const char *us;
		char full[PATH_MAX];
		if (!parse_instant_name(pending.v[i], id, sizeof(id), act, sizeof(act), &state))
			continue;
		pathf(full, sizeof(full), "%s.%s", id, act);
		us = strchr(id, '_') + 1;
		if (sv_has(&v.seen, full) || sv_has(&v.superseded, full)) {
			/* Completed (perhaps folded by a checkpoint since): its
			 * markers are left over. Its writer removes them, unless
			 * it died first; then they go here. Never rolled back. */
			if (!writer_alive(t, us)) {
				char p[PATH_MAX];
				pathf(p, sizeof(p), "%s/" SLUICE_DIR "/timeline/%s", t->dir,
				      pending.v[i]);
				unlink(p);
			}
			continue;
		}
		if (i > 0 && strncmp(pending.v[i - 1], full, strlen(full)) == 0 &&
		    pending.v[i - 1][strlen(full)] == '.')
			continue; /* its other marker: handled */
		if (!writer_alive(t, us))
			rollback(t, id, act, "whose writer is gone");
	}
	if (t->o.kind == MERGE_TABLE_HIVE)
		for (size_t i = 0; i < t->ndone; i++)
			if (json_object_get(t->done[i].meta, "partitions"))
				hive_apply(t, t->done[i].meta,
					   json_string_value(
						   json_object_get(t->done[i].meta, "instant")));
	sv_free(&pending);
	view_free(&v);
	return BINLOG_OK;
}

static void tl_marker_path(const merge_table_t *t, char *p, size_t cap, const char *id,
			   const char *action, const char *state)
{
	snprintf(p, cap, "%s/" SLUICE_DIR "/timeline/%s.%s%s%s", t->dir, id, action,
		 state ? "." : "", state ? state : "");
}

static json_t *offsets_json(const merge_offset_t *o, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++) {
		json_t *x = json_pack("{s:s,s:i,s:I}", "topic", o[i].topic, "partition",
				      (int)o[i].partition, "offset", (json_int_t)o[i].offset);
		if (x && o[i].watermark_ms != INT64_MIN)
			json_object_set_new(x, "watermark_ms", json_integer(o[i].watermark_ms));
		json_array_append_new(a, x);
	}
	return a;
}

static json_t *instant_json(const merge_table_t *t, const char *id, const char *action)
{
	return json_pack("{s:s,s:s,s:s,s:I}", "instant", id, "action", action, "writer", t->writer,
			 "time_ms", (json_int_t)cdc_wall_ms());
}

/* ------------------------------------------------------------------ */
/* Open and close                                                      */

static binlog_errcode_t lock_file(const merge_table_t *t, const char *rel, int nonblock, int *fd,
				  binlog_err_t *err)
{
	char p[PATH_MAX];

	*fd = -1;
	pathf(p, sizeof(p), "%s/%s", t->dir, rel);
	if ((*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", p, strerror(errno));
	while (flock(*fd, LOCK_EX | (nonblock ? LOCK_NB : 0)) != 0) {
		if (errno == EINTR)
			continue;
		close(*fd);
		*fd = -1;
		if (errno == EWOULDBLOCK)
			return BINLOG_OK; /* busy: *fd is -1 */
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: lock: %s", p, strerror(errno));
	}
	return BINLOG_OK;
}

static void unlock_file(int fd)
{
	if (fd >= 0)
		close(fd);
}

static binlog_errcode_t hive_load(merge_table_t *t, binlog_err_t *err);

binlog_errcode_t merge_table_open(const char *dir, const merge_table_opts_t *opts, int write,
				  const merge_table_tuning_t *tuning, merge_table_t **out,
				  binlog_err_t *err)
{
	merge_table_t *t = calloc(1, sizeof(*t));
	char p[PATH_MAX];
	json_t *meta = NULL;
	int missing = 0, fd;
	binlog_errcode_t rc;

	*out = NULL;
	if (!t || !(t->dir = strdup(dir))) {
		free(t);
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	}
	t->writer_fd = -1;
	binlog_buf_init(&t->line, 0);
	binlog_buf_init(&t->scratch, 0);
	binlog_buf_init(&t->scratch2, 0);
	if (tuning)
		t->tune = *tuning;
	else
		merge_table_tuning_default(&t->tune);
	pathf(p, sizeof(p), "%s/" SLUICE_DIR "/table.json", dir);
	rc = read_json(p, &meta, &missing, err);
	if (rc != BINLOG_OK && !(missing && opts)) {
		if (missing)
			rc = binlog_err_set(err, BINLOG_E_USAGE, "%s: no sluice table here (no %s)",
					    dir, p);
		goto fail;
	}
	if (rc == BINLOG_OK) {
		if ((rc = opts_from_json(p, meta, &t->o, &t->created_ms, err)) != BINLOG_OK)
			goto fail;
		if (opts && (rc = opts_agree(dir, &t->o, opts, err)) != BINLOG_OK)
			goto fail;
	} else {
		char sub[PATH_MAX];
		json_t *j;
		t->o = *opts;
		t->o.partition_by = NULL;
		if (opts->partition_by && !(t->o.partition_by = strdup(opts->partition_by))) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
			goto fail;
		}
		t->created_ms = cdc_wall_ms();
		pathf(sub, sizeof(sub), "%s/" SLUICE_DIR "/timeline", dir);
		if ((rc = cdc_mkdirs(sub, 0755, err)) != BINLOG_OK)
			goto fail;
		pathf(sub, sizeof(sub), "%s/" SLUICE_DIR "/writers", dir);
		if ((rc = cdc_mkdirs(sub, 0755, err)) != BINLOG_OK)
			goto fail;
		pathf(sub, sizeof(sub), "%s/" SLUICE_DIR "/locks", dir);
		if ((rc = cdc_mkdirs(sub, 0755, err)) != BINLOG_OK)
			goto fail;
		j = opts_to_json(&t->o, t->created_ms);
		rc = write_json(p, j, CDC_WRITE_EXCLUSIVE, err);
		json_decref(j);
		if (rc == BINLOG_E_USAGE) {
			/* Another process created it first: take its. */
			merge_table_close(t);
			return merge_table_open(dir, opts, write, tuning, out, err);
		}
		if (rc != BINLOG_OK)
			goto fail;
		cdc_log_info("%s: created a %s table", dir, kind_names[t->o.kind]);
	}
	if (write) {
		/* A random ID, its lock file created and locked. Another
		 * process checking for dead writers can take the file between
		 * its creation and the lock and remove it: so the lock counts
		 * only if the name still leads to the locked file. */
		for (int attempt = 0;; attempt++) {
			uint64_t r = (uint64_t)getpid() * 2654435761u ^ (uint64_t)cdc_mono_ms() ^
				     ((uint64_t)cdc_wall_ms() << 20) ^ ((uint64_t)attempt << 40);
			struct stat a, b;
			char full[PATH_MAX];
			r ^= r >> 29;
			snprintf(t->writer, sizeof(t->writer), "%08" PRIx32,
				 (uint32_t)(r ^ (r >> 32)));
			pathf(p, sizeof(p), SLUICE_DIR "/writers/%s.lock", t->writer);
			pathf(full, sizeof(full), "%s/%s", dir, p);
			if ((rc = lock_file(t, p, 1, &fd, err)) != BINLOG_OK)
				goto fail;
			if (fd >= 0 && fstat(fd, &a) == 0 && stat(full, &b) == 0 &&
			    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
				break;
			if (fd >= 0)
				close(fd);
			if (attempt == 16) {
				rc = binlog_err_set(
					err, BINLOG_E_LOCAL_IO,
					"%s: cannot register as a writer in %s/" SLUICE_DIR
					"/writers",
					dir, dir);
				goto fail;
			}
		}
		t->writer_fd = fd;
		if (t->o.kind == MERGE_TABLE_HIVE) {
			int lk;
			if ((rc = lock_file(t, SLUICE_DIR "/table.lock", 0, &lk, err)) != BINLOG_OK)
				goto fail;
			rc = recover(t, err);
			if (rc == BINLOG_OK)
				rc = hive_load(t, err);
			unlock_file(lk);
		} else {
			rc = recover(t, err);
		}
		if (rc != BINLOG_OK)
			goto fail;
	}
	json_decref(meta);
	*out = t;
	return BINLOG_OK;
fail:
	json_decref(meta);
	merge_table_close(t);
	return rc;
}

void merge_table_close(merge_table_t *t)
{
	if (!t)
		return;
	if (t->writer_fd >= 0) {
		char p[PATH_MAX];
		pathf(p, sizeof(p), "%s/" SLUICE_DIR "/writers/%s.lock", t->dir, t->writer);
		unlink(p);
		close(t->writer_fd);
	}
	for (size_t i = 0; i < t->ndone; i++) {
		free(t->done[i].name);
		json_decref(t->done[i].meta);
	}
	free(t->done);
	free(t->topic);
	merge_map_free(t->index);
	sv_free(&t->index_files);
	st_free(&t->parts);
	free(t->pstate);
	sv_free(&t->columns);
	binlog_buf_free(&t->line);
	binlog_buf_free(&t->scratch);
	binlog_buf_free(&t->scratch2);
	free(t->o.partition_by);
	free(t->dir);
	free(t);
}

binlog_errcode_t merge_table_offset(merge_table_t *t, const char *topic, int32_t partition,
				    merge_offset_t *out, binlog_err_t *err)
{
	view_t v;
	binlog_errcode_t rc = tl_scan(t, &v, NULL, err);

	out->topic = NULL;
	out->partition = partition;
	out->offset = -1;
	out->watermark_ms = INT64_MIN;
	if (rc != BINLOG_OK)
		return rc;
	for (size_t i = 0; i < v.noffs; i++)
		if (v.offs[i].partition == partition && strcmp(v.offs[i].topic, topic) == 0) {
			out->offset = v.offs[i].offset;
			out->watermark_ms = v.offs[i].watermark_ms;
		}
	view_free(&v);
	return BINLOG_OK;
}

void merge_table_set_partitions(merge_table_t *t, const char *topic, int32_t n)
{
	if (!t->topic || strcmp(t->topic, topic) != 0) {
		free(t->topic);
		t->topic = strdup(topic);
	}
	t->topic_partitions = n;
}

/* ------------------------------------------------------------------ */
/* Merge-on-read                                                       */

/* The directory part of a file path ("b0003" of "b0003/x.log.jsonl"). */
static size_t dir_len(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? (size_t)(s - path) : 0;
}

/* Write the entries es[0..n) (lines without '\n') to a new file. */
static binlog_errcode_t write_entries(merge_table_t *t, const char *rel, merge_map_t *m,
				      merge_entry_t **es, size_t n, uint64_t *bytes,
				      binlog_err_t *err)
{
	char p[PATH_MAX], d[PATH_MAX];
	merge_out_t *o;
	binlog_errcode_t rc;

	pathf(p, sizeof(p), "%s/%s", t->dir, rel);
	pathf(d, sizeof(d), "%s/%.*s", t->dir, (int)dir_len(rel), rel);
	if ((rc = cdc_mkdirs(d, 0755, err)) != BINLOG_OK)
		return rc;
	if ((rc = merge_out_open(p, t->tune.zstd_level, &o, err)) != BINLOG_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = merge_out_write(o, merge_map_line(m, es[i]), es[i]->line_len, err)) !=
			    BINLOG_OK ||
		    (rc = merge_out_write(o, "\n", 1, err)) != BINLOG_OK) {
			merge_out_abort(o);
			return rc;
		}
	}
	if ((rc = merge_out_close(o, bytes, err)) != BINLOG_OK) {
		unlink(p);
		return rc;
	}
	return cdc_sync_dir(d, err);
}

/*
 * The files of one commit, written by up to tune.write_threads threads
 * (the caller one of them): each takes the next file until none is left
 * or one has failed. Compressing is most of a commit, and the files are
 * independent: one bucket each, read from the batch, which nobody
 * changes meanwhile.
 */
typedef struct file_job {
	merge_table_t *t;
	merge_map_t *rows;
	merge_entry_t **order;
	const size_t *start;    /* bucket b's entries: order[start[b]..start[b+1]) */
	const uint32_t *bucket; /* file k is bucket[k]'s */
	const char **rel;       /* and goes to rel[k] */
	uint64_t *bytes;        /* its size, once written */
	size_t n;
	atomic_size_t next;
	atomic_int failed;
	binlog_err_t err; /* the first failure's: only the thread that set
			   * `failed` writes it, and it is read after the join */
} file_job_t;

static void *file_worker(void *arg)
{
	file_job_t *j = arg;
	size_t k;

	while (!atomic_load(&j->failed) && (k = atomic_fetch_add(&j->next, 1)) < j->n) {
		uint32_t b = j->bucket[k];
		binlog_err_t e = {0};
		if (write_entries(j->t, j->rel[k], j->rows, j->order + j->start[b],
				  j->start[b + 1] - j->start[b], &j->bytes[k], &e) != BINLOG_OK &&
		    !atomic_exchange(&j->failed, 1))
			j->err = e;
	}
	return NULL;
}

static binlog_errcode_t write_files(file_job_t *j, uint32_t nthreads, binlog_err_t *err)
{
	pthread_t th[MERGE_WRITE_THREADS_MAX];
	uint32_t started = 0;

	atomic_init(&j->next, 0);
	atomic_init(&j->failed, 0);
	if (nthreads > MERGE_WRITE_THREADS_MAX)
		nthreads = MERGE_WRITE_THREADS_MAX;
	if (nthreads > j->n)
		nthreads = (uint32_t)j->n;
	/* A thread that cannot start leaves its share to the others. */
	while (started + 1 < nthreads && pthread_create(&th[started], NULL, file_worker, j) == 0)
		started++;
	file_worker(j);
	for (uint32_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (atomic_load(&j->failed)) {
		*err = j->err;
		return err->code ? err->code : BINLOG_E_LOCAL_IO;
	}
	return BINLOG_OK;
}

/* Write the files listed in `files` (one a non-empty bucket, in bucket
 * order) and note each one's size in it. */
static binlog_errcode_t write_buckets(merge_table_t *t, merge_map_t *rows, merge_entry_t **order,
				      const size_t *start, json_t *files, merge_commit_stats_t *st,
				      binlog_err_t *err)
{
	size_t n = json_array_size(files);
	file_job_t j = {.t = t, .rows = rows, .order = order, .start = start, .n = n};
	uint32_t *bucket = malloc(n * sizeof(*bucket));
	const char **rel = malloc(n * sizeof(*rel));
	uint64_t *bytes = calloc(n, sizeof(*bytes));
	binlog_errcode_t rc;

	if (!bucket || !rel || !bytes) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto out;
	}
	for (uint32_t b = 0, k = 0; k < n; b++)
		if (start[b + 1] > start[b]) {
			bucket[k] = b;
			rel[k] = json_string_value(
				json_object_get(json_array_get(files, k), "path"));
			k++;
		}
	j.bucket = bucket;
	j.rel = rel;
	j.bytes = bytes;
	if ((rc = write_files(&j, t->tune.write_threads, err)) != BINLOG_OK)
		goto out;
	for (size_t k = 0; k < n; k++) {
		json_object_set_new(json_array_get(files, k), "bytes",
				    json_integer((json_int_t)bytes[k]));
		if (st) {
			st->files++;
			st->bytes += bytes[k];
		}
	}
out:
	free(bucket);
	free(rel);
	free(bytes);
	return rc;
}

static binlog_errcode_t mor_commit(merge_table_t *t, merge_map_t *rows,
				   const merge_offset_t *offsets, size_t noffs,
				   merge_commit_stats_t *st, binlog_err_t *err)
{
	char id[96], p[PATH_MAX], rel[256];
	uint32_t nb = t->o.buckets;
	size_t n = merge_map_count(rows), it = 0, *start = NULL;
	merge_entry_t **order = NULL, *e;
	json_t *meta = NULL, *files = json_array();
	binlog_errcode_t rc = BINLOG_OK;
	int requested = 0;

	new_instant(t, id, sizeof(id));
	meta = instant_json(t, id, "deltacommit");
	json_object_set_new(meta, "offsets", offsets_json(offsets, noffs));
	tl_marker_path(t, p, sizeof(p), id, "deltacommit", "requested");
	if ((rc = write_json(p, meta, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
		goto out;
	requested = 1;
	if (n) {
		/* Group by bucket: a counting sort on the key hash. */
		if (!(order = malloc(n * sizeof(*order))) ||
		    !(start = calloc((size_t)nb + 1, sizeof(*start)))) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
			goto out;
		}
		while ((e = merge_map_next(rows, &it)))
			start[e->hash % nb + 1]++;
		for (uint32_t b = 0; b < nb; b++)
			start[b + 1] += start[b];
		it = 0;
		{
			size_t *fill = calloc(nb, sizeof(*fill));
			if (!fill) {
				rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
				goto out;
			}
			while ((e = merge_map_next(rows, &it))) {
				uint32_t b = (uint32_t)(e->hash % nb);
				order[start[b] + fill[b]++] = e;
			}
			free(fill);
		}
		for (uint32_t b = 0; b < nb; b++)
			if (start[b + 1] > start[b]) {
				pathf(rel, sizeof(rel), "b%04" PRIu32 "/%s.log%s", b, id,
				      file_ext(t));
				json_array_append_new(
					files, json_pack("{s:s,s:I}", "path", rel, "rows",
							 (json_int_t)(start[b + 1] - start[b])));
			}
		json_object_set(meta, "files", files);
		tl_marker_path(t, p, sizeof(p), id, "deltacommit", "inflight");
		if ((rc = write_json(p, meta, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
			goto out;
		if ((rc = write_buckets(t, rows, order, start, files, st, err)) != BINLOG_OK)
			goto out;
	}
	json_object_set_new(meta, "rows", json_integer((json_int_t)n));
	tl_marker_path(t, p, sizeof(p), id, "deltacommit", NULL);
	if ((rc = write_json(p, meta, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
		goto out;
	if (st)
		st->rows += n;
	/* Completed: the intermediate states have served their purpose. */
	tl_marker_path(t, p, sizeof(p), id, "deltacommit", "inflight");
	unlink(p);
	tl_marker_path(t, p, sizeof(p), id, "deltacommit", "requested");
	unlink(p);
	requested = 0;
out:
	if (rc != BINLOG_OK && requested)
		rollback(t, id, "deltacommit", "which failed");
	free(order);
	free(start);
	json_decref(files);
	json_decref(meta);
	return rc;
}

typedef struct offer_ctx {
	merge_map_t *m;
	binlog_buf_t *scratch;
	uint32_t aux;
	int (*aux_of)(void *arg, const merge_row_t *r, uint32_t *aux);
	void *aux_arg;
} offer_ctx_t;

static binlog_errcode_t offer_line(void *arg, const uint8_t *line, size_t n, binlog_err_t *err)
{
	offer_ctx_t *c = arg;
	merge_row_t r;
	binlog_errcode_t rc = merge_line_parse(line, n, c->scratch, &r, err);
	uint32_t aux = c->aux;

	if (rc != BINLOG_OK)
		return rc;
	if (c->aux_of && c->aux_of(c->aux_arg, &r, &aux) < 0)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	if (merge_map_offer(c->m, &r, line, n, aux) < 0)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory merging rows");
	return BINLOG_OK;
}

static binlog_errcode_t read_files_into(merge_table_t *t, char **files, size_t n, merge_map_t *m,
					binlog_err_t *err)
{
	offer_ctx_t c = {m, &t->scratch, 0, NULL, NULL};
	char p[PATH_MAX];
	binlog_errcode_t rc;
	int missing;

	for (size_t i = 0; i < n; i++) {
		pathf(p, sizeof(p), "%s/%s", t->dir, files[i]);
		if ((rc = merge_in_lines(p, offer_line, &c, &missing, err)) != BINLOG_OK) {
			if (missing)
				binlog_err_set(err, BINLOG_E_LOCAL_IO,
					       "%s: gone: cleaning removed it while it was "
					       "read (read again, or keep replaced files "
					       "longer)",
					       p);
			return err->code;
		}
	}
	return BINLOG_OK;
}

/* Compact the files of one bucket directory (files[0..n), all in `bdir`). */
static binlog_errcode_t compact_dir(merge_table_t *t, const char *bdir, char **files, size_t n,
				    binlog_err_t *err)
{
	char id[96], p[PATH_MAX], rel[256], lockrel[256];
	merge_map_t *m = merge_map_new();
	merge_entry_t **es = NULL;
	size_t ne = 0;
	json_t *meta = NULL, *rep = json_array(), *out = json_array();
	uint64_t bytes = 0;
	int lk = -1, requested = 0;
	binlog_errcode_t rc = BINLOG_OK;

	if (!m)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	pathf(lockrel, sizeof(lockrel), SLUICE_DIR "/locks/%08" PRIx64 ".lock",
	      merge_hash(bdir, strlen(bdir)));
	if ((rc = lock_file(t, lockrel, 1, &lk, err)) != BINLOG_OK || lk < 0)
		goto out; /* another process is compacting it */
	new_instant(t, id, sizeof(id));
	pathf(rel, sizeof(rel), "%s/%s.base%s", bdir, id,
	      strncmp(bdir, INDEX_DIR, strlen(INDEX_DIR)) == 0 ? index_ext(t) : file_ext(t));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(rep, json_string(files[i]));
	meta = instant_json(t, id, "compaction");
	json_object_set(meta, "replaced", rep);
	tl_marker_path(t, p, sizeof(p), id, "compaction", "requested");
	if ((rc = write_json(p, meta, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
		goto out;
	requested = 1;
	json_array_append_new(out, json_pack("{s:s}", "path", rel));
	json_object_set(meta, "files", out);
	tl_marker_path(t, p, sizeof(p), id, "compaction", "inflight");
	if ((rc = write_json(p, meta, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
		goto out;
	if ((rc = read_files_into(t, files, n, m, err)) != BINLOG_OK)
		goto out;
	es = merge_map_sorted(m, &ne);
	if (!es && merge_map_count(m)) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto out;
	}
	/* Tombstones are kept: a change older than a delete may still come. */
	if ((rc = write_entries(t, rel, m, es, ne, &bytes, err)) != BINLOG_OK)
		goto out;
	json_object_set_new(json_array_get(out, 0), "rows", json_integer((json_int_t)ne));
	json_object_set_new(json_array_get(out, 0), "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(meta, "time_ms", json_integer(cdc_wall_ms()));
	tl_marker_path(t, p, sizeof(p), id, "compaction", NULL);
	if ((rc = write_json(p, meta, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
		goto out;
	tl_marker_path(t, p, sizeof(p), id, "compaction", "inflight");
	unlink(p);
	tl_marker_path(t, p, sizeof(p), id, "compaction", "requested");
	unlink(p);
	requested = 0;
	cdc_log_debug("%s: compacted %zu files of %s into %s (%zu rows)", t->dir, n, bdir, rel, ne);
out:
	if (rc != BINLOG_OK && requested)
		rollback(t, id, "compaction", "which failed");
	unlock_file(lk);
	free(es);
	merge_map_free(m);
	json_decref(meta);
	json_decref(rep);
	json_decref(out);
	return rc;
}

/*
 * Whether compacting a bucket's n files pays: rewriting the base costs its
 * size, and saves readers the logs. So a bucket is compacted once its logs
 * add up to a quarter of its base, or once they are many (4 x min) however
 * small, which bounds how many files a reader opens.
 */
static int worth_compacting(const merge_table_t *t, char **files, size_t n, size_t min)
{
	uint64_t base = 0, logs = 0;
	char p[PATH_MAX];
	struct stat sb;

	if (n >= 4 * min || min <= 2)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (pathf(p, sizeof(p), "%s/%s", t->dir, files[i]) < 0 || stat(p, &sb) != 0)
			return 1; /* let compaction report it */
		if (strstr(files[i], ".base."))
			base += (uint64_t)sb.st_size;
		else
			logs += (uint64_t)sb.st_size;
	}
	return logs * 4 >= base;
}

/* Compact every bucket directory (data, and the Hive index) with at
 * least `min` visible files, when worth it. */
static binlog_errcode_t compact_buckets(merge_table_t *t, size_t min, uint64_t *count,
					binlog_err_t *err)
{
	view_t v;
	binlog_errcode_t rc = tl_scan(t, &v, NULL, err);
	size_t i = 0;

	if (rc != BINLOG_OK)
		return rc;
	if (min < 2)
		min = 2;
	/* v.files is sorted, so a directory's files are together. */
	while (i < v.files.n && rc == BINLOG_OK) {
		size_t j = i + 1, dl = dir_len(v.files.v[i]);
		char bdir[256];
		while (j < v.files.n && dir_len(v.files.v[j]) == dl &&
		       strncmp(v.files.v[j], v.files.v[i], dl) == 0)
			j++;
		if (j - i >= min && dl < sizeof(bdir) &&
		    worth_compacting(t, v.files.v + i, j - i, min)) {
			memcpy(bdir, v.files.v[i], dl);
			bdir[dl] = 0;
			rc = compact_dir(t, bdir, v.files.v + i, j - i, err);
			if (rc == BINLOG_OK && count)
				++*count;
		}
		i = j;
	}
	view_free(&v);
	return rc;
}

/* Lock files of writers that died (SIGKILL leaves them) and have no
 * pending instant left: writer_alive removes those it can lock. */
static void forget_dead_writers(merge_table_t *t)
{
	char p[PATH_MAX], w[64];
	DIR *d;
	struct dirent *de;

	if (pathf(p, sizeof(p), "%s/" SLUICE_DIR "/writers", t->dir) < 0 || !(d = opendir(p)))
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 6 || n - 5 >= sizeof(w) || strcmp(de->d_name + n - 5, ".lock") != 0)
			continue;
		memcpy(w, de->d_name, n - 5);
		w[n - 5] = 0;
		writer_alive(t, w);
	}
	closedir(d);
}

/*
 * Cleaning: remove replaced files older than the retention, then fold
 * the timeline into a checkpoint when it has grown. One process at a
 * time (the clean lock); others skip.
 */
static binlog_errcode_t clean(merge_table_t *t, int all, binlog_err_t *err)
{
	view_t v;
	int lk;
	binlog_errcode_t rc = lock_file(t, SLUICE_DIR "/locks/clean.lock", 1, &lk, err);
	int64_t now = cdc_wall_ms();
	json_t *keep = NULL, *cp = NULL, *files = NULL, *sup = NULL;
	size_t i;
	json_t *x;
	char id[96], p[PATH_MAX];

	if (rc != BINLOG_OK || lk < 0)
		return rc;
	if ((rc = tl_scan(t, &v, NULL, err)) != BINLOG_OK)
		goto out_unlock;
	forget_dead_writers(t);
	keep = json_array();
	json_array_foreach(v.garbage, i, x)
	{
		const char *path = json_string_value(json_array_get(x, 0));
		int64_t at = json_integer_value(json_array_get(x, 1));
		if (!path)
			continue;
		if (at + (int64_t)t->tune.clean_retain_ms <= now)
			unlink_rel(t, path);
		else
			json_array_append(keep, x);
	}
	if (v.ninstants > t->tune.checkpoint_instants || (all && v.ninstants > 1)) {
		new_instant(t, id, sizeof(id));
		cp = instant_json(t, id, "checkpoint");
		files = json_array();
		for (i = 0; i < v.files.n; i++)
			json_array_append_new(
				files, json_pack("{s:s,s:O?}", "path", v.files.v[i], "rows",
						 json_object_get(v.files_rows, v.files.v[i])));
		json_object_set_new(cp, "files", files);
		json_object_set(cp, "garbage", keep);
		json_object_set_new(cp, "offsets", offsets_json(v.offs, v.noffs));
		/* Everything listed, including instants an earlier checkpoint
		 * superseded but a crash left behind: were they not named here,
		 * they would count again once that checkpoint is gone. */
		sup = json_array();
		for (i = 0; i < v.seen.n; i++)
			json_array_append_new(sup, json_string(v.seen.v[i]));
		json_object_set_new(cp, "superseded", sup);
		tl_marker_path(t, p, sizeof(p), id, "checkpoint", NULL);
		if ((rc = write_json(p, cp, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
			goto out;
		for (i = 0; i < v.seen.n; i++) {
			pathf(p, sizeof(p), "%s/" SLUICE_DIR "/timeline/%s", t->dir, v.seen.v[i]);
			unlink(p);
		}
		cdc_log_debug("%s: checkpoint %s folds %zu instants", t->dir, id, v.seen.n);
	}
out:
	view_free(&v);
out_unlock:
	json_decref(keep);
	json_decref(cp);
	unlock_file(lk);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Hive: partitions                                                    */

static int digits(const uint8_t *s, size_t n, size_t at, size_t len)
{
	if (at + len > n)
		return 0;
	for (size_t i = at; i < at + len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* "YYYY-MM-DD[ hh[:mm...]]" (or 'T'), or an integer of epoch seconds
 * (milliseconds above 10^11): the time in ms, or 0 when it is neither. */
static int parse_when(merge_span_t v, int64_t *ms)
{
	const uint8_t *s = v.p;
	size_t n = v.n;
	struct tm tm;

	if (n >= 2 && s[0] == '"') {
		s++;
		n -= 2;
		if (!digits(s, n, 0, 4) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2) ||
		    s[7] != '-' || !digits(s, n, 8, 2))
			return 0;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
			     (s[3] - '0') - 1900;
		tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
		tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
		if (n >= 13 && (s[10] == ' ' || s[10] == 'T') && digits(s, n, 11, 2))
			tm.tm_hour = (s[11] - '0') * 10 + (s[12] - '0');
		if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23)
			return 0;
		*ms = (int64_t)timegm(&tm) * 1000;
		return 1;
	}
	if (n > 0 && n < 20 && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) {
		int64_t x = 0;
		int neg = s[0] == '-';
		for (size_t i = neg; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return 0;
			x = x * 10 + (s[i] - '0');
		}
		if (neg)
			x = -x;
		*ms = (x > 100000000000LL || x < -100000000000LL) ? x : x * 1000;
		return 1;
	}
	return 0;
}

static void part_name(const merge_table_t *t, int64_t ms, char *buf, size_t cap)
{
	time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	if (t->o.granularity == MERGE_GRAN_DAY)
		snprintf(buf, cap, "dt=%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday);
	else
		snprintf(buf, cap, "dt=%04d-%02d-%02d/hr=%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour);
}

#define DEFAULT_PART_DAY  "dt=__HIVE_DEFAULT_PARTITION__"
#define DEFAULT_PART_HOUR "dt=__HIVE_DEFAULT_PARTITION__/hr=__HIVE_DEFAULT_PARTITION__"

void merge_table_partition_of(const merge_table_t *t, const merge_row_t *r, char *buf, size_t cap)
{
	int64_t ms = r->ts_ms;

	if (t->o.partition_by) {
		merge_members_t it;
		merge_span_t name, v;
		int found = 0;
		merge_members_body(&it, r->body);
		while (!found && merge_members_next(&it, &name, &v))
			if (merge_name_is(name, t->o.partition_by))
				found = parse_when(v, &ms);
		if (!found) {
			snprintf(buf, cap, "%s",
				 t->o.granularity == MERGE_GRAN_DAY ? DEFAULT_PART_DAY
								    : DEFAULT_PART_HOUR);
			return;
		}
	}
	part_name(t, ms, buf, cap);
}

/* The start and end (ms) of a partition named by part_name; 0 for the
 * default partition. */
static int part_bounds(const merge_table_t *t, const char *name, int64_t *lo, int64_t *hi)
{
	struct tm tm;
	int y, mo, d, h = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(name, "dt=%4d-%2d-%2d", &y, &mo, &d) != 3)
		return 0;
	if (t->o.granularity == MERGE_GRAN_HOUR && sscanf(name, "dt=%*10[0-9-]/hr=%2d", &h) != 1)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	*lo = (int64_t)timegm(&tm) * 1000;
	*hi = *lo + (t->o.granularity == MERGE_GRAN_DAY ? 86400000 : 3600000);
	return 1;
}

static int pstate_grow(merge_table_t *t, uint32_t id)
{
	if (id < t->capp)
		return 0;
	uint32_t cap = t->capp ? t->capp : 64;
	while (cap <= id)
		cap *= 2;
	hive_part_t *ns = realloc(t->pstate, cap * sizeof(*ns));
	if (!ns)
		return -1;
	memset(ns + t->capp, 0, (cap - t->capp) * sizeof(*ns));
	t->pstate = ns;
	t->capp = cap;
	return 0;
}

static uint32_t part_id(merge_table_t *t, const char *name)
{
	uint32_t id = st_intern(&t->parts, name);
	if (id != NO_PART && pstate_grow(t, id) < 0)
		return NO_PART;
	return id;
}

/* Staged directory of partition `name` for instant id: a hidden sibling. */
static void staged_name(const char *name, const char *id, char *buf, size_t cap)
{
	const char *leaf = strrchr(name, '/');
	if (leaf)
		snprintf(buf, cap, "%.*s/.%s.%s", (int)(leaf - name), name, leaf + 1, id);
	else
		snprintf(buf, cap, ".%s.%s", name, id);
}

static int is_data_file(const char *n)
{
	return n[0] != '.' && n[0] != '_';
}

/* The marker's content, or "" */
static void read_marker(const char *dir, char *buf, size_t cap)
{
	char p[PATH_MAX];
	int fd;
	ssize_t r;

	buf[0] = 0;
	pathf(p, sizeof(p), "%s/" MARKER_NAME, dir);
	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	r = read(fd, buf, cap - 1);
	close(fd);
	buf[r > 0 ? r : 0] = 0;
}

static void sync_parent(const char *path)
{
	char d[PATH_MAX];
	const char *s = strrchr(path, '/');
	binlog_err_t err;

	if (!s)
		return;
	pathf(d, sizeof(d), "%.*s", (int)(s - path), path);
	cdc_sync_dir(d, &err);
}

static void hive_apply(merge_table_t *t, json_t *meta, const char *id)
{
	size_t i;
	json_t *x;

	json_array_foreach(json_object_get(meta, "partitions"), i, x)
	{
		const char *path = json_string_value(json_object_get(x, "path"));
		const char *staged = json_string_value(json_object_get(x, "staged"));
		char sp[PATH_MAX], pp[PATH_MAX], mk[128];
		if (!path || !staged)
			continue;
		pathf(sp, sizeof(sp), "%s/%s", t->dir, staged);
		pathf(pp, sizeof(pp), "%s/%s", t->dir, path);
		read_marker(sp, mk, sizeof(mk));
		if (id && strcmp(mk, id) == 0) {
			/* Not yet exchanged. */
			if (renameat2(AT_FDCWD, sp, AT_FDCWD, pp, RENAME_EXCHANGE) != 0) {
				if (errno == ENOENT) {
					char parent[PATH_MAX];
					pathf(parent, sizeof(parent), "%.*s",
					      (int)(strrchr(pp, '/') - pp), pp);
					binlog_err_t e2;
					cdc_mkdirs(parent, 0755, &e2);
					if (rename(sp, pp) != 0)
						cdc_log_error("%s: cannot move %s in: %s", pp, sp,
							      strerror(errno));
				} else if (errno == EINVAL || errno == ENOSYS) {
					/* No exchange on this filesystem: the old
					 * directory goes, then the new one comes in;
					 * a reader in between sees no partition. */
					char old[PATH_MAX];
					pathf(old, sizeof(old), "%s.old", sp);
					if (rename(pp, old) == 0 && rename(sp, pp) == 0)
						remove_tree(old);
				} else {
					cdc_log_error("%s: cannot exchange with %s: %s", pp, sp,
						      strerror(errno));
					continue;
				}
			}
			sync_parent(pp);
		}
		remove_tree(sp);
	}
}

static binlog_errcode_t hive_index_line(void *arg, const uint8_t *line, size_t n,
					binlog_err_t *err);

/* Read the index files the in-memory index has not seen. */
static binlog_errcode_t index_refresh(merge_table_t *t, view_t *v, binlog_err_t *err)
{
	char p[PATH_MAX];
	binlog_errcode_t rc;
	int missing;

	for (size_t i = 0; i < v->files.n; i++) {
		const char *f = v->files.v[i];
		if (strncmp(f, INDEX_DIR "/", strlen(INDEX_DIR) + 1) != 0 ||
		    sv_has(&t->index_files, f))
			continue;
		pathf(p, sizeof(p), "%s/%s", t->dir, f);
		if ((rc = merge_in_lines(p, hive_index_line, t, &missing, err)) != BINLOG_OK)
			return rc;
	}
	/* What is visible now is what has been applied. */
	sv_free(&t->index_files);
	for (size_t i = 0; i < v->files.n; i++)
		if (strncmp(v->files.v[i], INDEX_DIR "/", strlen(INDEX_DIR) + 1) == 0 &&
		    sv_push(&t->index_files, v->files.v[i]) < 0)
			return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	sv_sort(&t->index_files);
	if (merge_map_bytes(t->index) > t->tune.max_index_bytes)
		return binlog_err_set(err, BINLOG_E_LIMIT,
				      "%s: the key index needs more than %" PRIu64
				      " bytes of memory (--max-index-bytes)",
				      t->dir, t->tune.max_index_bytes);
	return BINLOG_OK;
}

/* An index line's partition: the "p" member of its body. */
static uint32_t index_part(merge_table_t *t, const merge_row_t *r)
{
	merge_members_t it;
	merge_span_t name, v, body;

	if (merge_op_deletes(r->op))
		return NO_PART;
	merge_members_body(&it, r->body);
	while (merge_members_next(&it, &name, &v))
		if (merge_name_is(name, "p") && v.n >= 2 && v.p[0] == '"') {
			char s[256];
			body.p = v.p + 1;
			body.n = v.n - 2;
			if (body.n >= sizeof(s))
				return NO_PART;
			memcpy(s, body.p, body.n);
			s[body.n] = 0;
			return part_id(t, s);
		}
	return NO_PART;
}

static binlog_errcode_t hive_index_line(void *arg, const uint8_t *line, size_t n, binlog_err_t *err)
{
	merge_table_t *t = arg;
	merge_row_t r;
	binlog_errcode_t rc = merge_line_parse(line, n, &t->scratch2, &r, err);
	uint32_t pid;

	if (rc != BINLOG_OK)
		return rc;
	pid = index_part(t, &r);
	if (merge_map_offer(t->index, &r, line, n, pid) < 0)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory for the key index");
	return BINLOG_OK;
}

/* The partitions on disk, and which have _SUCCESS. */
static void scan_partitions(merge_table_t *t)
{
	DIR *d = opendir(t->dir), *d2;
	struct dirent *de, *de2;
	char p[PATH_MAX], name[512], sp[PATH_MAX];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "dt=", 3) != 0)
			continue;
		if (t->o.granularity == MERGE_GRAN_DAY) {
			uint32_t id = part_id(t, de->d_name);
			pathf(sp, sizeof(sp), "%s/%s/_SUCCESS", t->dir, de->d_name);
			if (id != NO_PART) {
				t->pstate[id].exists = 1;
				t->pstate[id].success = access(sp, F_OK) == 0;
			}
			continue;
		}
		pathf(p, sizeof(p), "%s/%s", t->dir, de->d_name);
		if (!(d2 = opendir(p)))
			continue;
		while ((de2 = readdir(d2))) {
			uint32_t id;
			if (strncmp(de2->d_name, "hr=", 3) != 0)
				continue;
			pathf(name, sizeof(name), "%s/%s", de->d_name, de2->d_name);
			id = part_id(t, name);
			pathf(sp, sizeof(sp), "%s/%s/_SUCCESS", t->dir, name);
			if (id != NO_PART) {
				t->pstate[id].exists = 1;
				t->pstate[id].success = access(sp, F_OK) == 0;
			}
		}
		closedir(d2);
	}
	closedir(d);
}

static binlog_errcode_t load_columns(merge_table_t *t, binlog_err_t *err)
{
	char p[PATH_MAX];
	json_t *j = NULL, *x;
	size_t i;
	int missing;
	binlog_errcode_t rc;

	pathf(p, sizeof(p), "%s/" SLUICE_DIR "/columns.json", t->dir);
	rc = read_json(p, &j, &missing, err);
	if (rc != BINLOG_OK)
		return missing ? BINLOG_OK : rc;
	sv_free(&t->columns);
	json_array_foreach(json_object_get(j, "columns"), i, x)
	{
		if (json_is_string(x) && sv_push(&t->columns, json_string_value(x)) < 0) {
			json_decref(j);
			return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		}
	}
	json_decref(j);
	return BINLOG_OK;
}

static binlog_errcode_t hive_load(merge_table_t *t, binlog_err_t *err)
{
	view_t v;
	binlog_errcode_t rc;

	if (!t->index && !(t->index = merge_map_new()))
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	if ((rc = tl_scan(t, &v, NULL, err)) != BINLOG_OK)
		return rc;
	rc = index_refresh(t, &v, err);
	view_free(&v);
	if (rc == BINLOG_OK)
		scan_partitions(t);
	if (rc == BINLOG_OK && t->o.format == MERGE_FMT_TEXT)
		rc = load_columns(t, err);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Hive: text                                                          */

/* Hive's escaping for delimited text: \ before \, the field separator
 * and line breaks; NULL is \N. */
static void text_escape(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\':
			binlog_buf_lit(b, "\\\\");
			break;
		case '\n':
			binlog_buf_lit(b, "\\n");
			break;
		case '\r':
			binlog_buf_lit(b, "\\r");
			break;
		case 1:
			binlog_buf_lit(b, "\\\001");
			break;
		default:
			binlog_buf_putc(b, s[i]);
		}
	}
}

/* A JSON value as Hive text. */
static void text_value(binlog_buf_t *b, binlog_buf_t *tmp, merge_span_t v)
{
	if (v.n == 4 && memcmp(v.p, "null", 4) == 0) {
		binlog_buf_lit(b, "\\N");
	} else if (v.n >= 2 && v.p[0] == '"') {
		binlog_buf_reset(tmp);
		if (merge_json_unescape(tmp, v.p + 1, v.n - 2) == 0)
			text_escape(b, tmp->data, tmp->len);
	} else {
		text_escape(b, v.p, v.n);
	}
}

/* The column a member name (a JSON string body, escapes kept) is: its
 * unescaped text is what columns.json holds. -1 when new; -2 when the
 * name is not well formed. */
static int column_index(const merge_table_t *t, merge_span_t name, char *buf, size_t cap)
{
	binlog_buf_t b;
	int rc = -1;

	binlog_buf_init(&b, cap - 1);
	if (merge_json_unescape(&b, name.p, name.n) < 0 || b.failed || memchr(b.data, 0, b.len)) {
		binlog_buf_free(&b);
		return -2;
	}
	memcpy(buf, b.data ? (const char *)b.data : "", b.len);
	buf[b.len] = 0;
	binlog_buf_free(&b);
	for (size_t i = 0; i < t->columns.n && rc < 0; i++)
		if (strcmp(buf, t->columns.v[i]) == 0)
			rc = (int)i;
	return rc;
}

/* The columns a batch brings that the table does not have yet. */
static binlog_errcode_t text_columns(merge_table_t *t, merge_map_t *rows, binlog_err_t *err)
{
	size_t it = 0, before = t->columns.n;
	merge_entry_t *e;
	merge_row_t r;
	binlog_errcode_t rc;

	while (rows && (e = merge_map_next(rows, &it))) {
		merge_members_t mi;
		merge_span_t name, v;
		if (merge_op_deletes(e->op))
			continue;
		if ((rc = merge_line_parse(merge_map_line(rows, e), e->line_len, &t->scratch, &r,
					   err)) != BINLOG_OK)
			return rc;
		merge_members_body(&mi, r.body);
		while (merge_members_next(&mi, &name, &v)) {
			char nm[1024];
			if (column_index(t, name, nm, sizeof(nm)) != -1)
				continue;
			if (sv_push(&t->columns, nm) < 0)
				return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		}
	}
	if (t->columns.n != before) {
		char p[PATH_MAX];
		json_t *a = json_array(), *j;
		for (size_t i = 0; i < t->columns.n; i++)
			json_array_append_new(a, json_string(t->columns.v[i]));
		j = json_pack("{s:o}", "columns", a);
		pathf(p, sizeof(p), "%s/" SLUICE_DIR "/columns.json", t->dir);
		rc = write_json(p, j, CDC_WRITE_REPLACE, err);
		json_decref(j);
		return rc;
	}
	return BINLOG_OK;
}

/* A stored (JSON) row as a Hive text line: key, seq, ts_ms, db, table,
 * then the data columns in the table's order. */
static void text_line(merge_table_t *t, binlog_buf_t *b, const merge_row_t *r)
{
	merge_members_t mi;
	merge_span_t name, v;
	merge_span_t *vals = calloc(t->columns.n ? t->columns.n : 1, sizeof(*vals));
	char num[24];

	text_escape(b, r->key.p, r->key.n);
	binlog_buf_putc(b, 1);
	binlog_buf_put(b, num, binlog_u64_to_dec(r->seq, num));
	binlog_buf_putc(b, 1);
	binlog_buf_put(b, num, (size_t)snprintf(num, sizeof(num), "%" PRId64, r->ts_ms));
	binlog_buf_putc(b, 1);
	binlog_buf_reset(&t->scratch2);
	merge_json_unescape(&t->scratch2, r->db.p, r->db.n);
	text_escape(b, t->scratch2.data, t->scratch2.len);
	binlog_buf_putc(b, 1);
	binlog_buf_reset(&t->scratch2);
	merge_json_unescape(&t->scratch2, r->table.p, r->table.n);
	text_escape(b, t->scratch2.data, t->scratch2.len);
	if (vals) {
		merge_members_body(&mi, r->body);
		while (merge_members_next(&mi, &name, &v)) {
			char nm[1024];
			int c = column_index(t, name, nm, sizeof(nm));
			if (c >= 0)
				vals[c] = v;
		}
		for (size_t c = 0; c < t->columns.n; c++) {
			binlog_buf_putc(b, 1);
			if (vals[c].p)
				text_value(b, &t->scratch2, vals[c]);
			else
				binlog_buf_lit(b, "\\N");
		}
	}
	free(vals);
}

/* The key of a text line: its first field, unescaped, into out. */
static int text_key(const uint8_t *s, size_t n, binlog_buf_t *out)
{
	binlog_buf_reset(out);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == 1)
			return 0;
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			binlog_buf_putc(out, s[i] == 'n' ? '\n' : s[i] == 'r' ? '\r' : s[i]);
		} else {
			binlog_buf_putc(out, s[i]);
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Hive: commit                                                        */

typedef struct part_plan {
	uint32_t pid;
	int rewrite;
	size_t in; /* keys move in from other partitions of the batch: its
		    * exchange waits for theirs */
	size_t nadd;
	merge_entry_t **add;
	size_t capadd;
} part_plan_t;

typedef struct rewrite_ctx {
	merge_table_t *t;
	merge_map_t *touched; /* the batch: keys whose lines are replaced */
	uint32_t pid;
	merge_out_t *o;
	uint64_t kept;
} rewrite_ctx_t;

/* Copy a line of an old partition file unless the batch moves or
 * replaces its key. */
static binlog_errcode_t rewrite_line(void *arg, const uint8_t *line, size_t n, binlog_err_t *err)
{
	rewrite_ctx_t *c = arg;
	merge_table_t *t = c->t;
	const uint8_t *key;
	size_t kn;
	merge_entry_t *e;
	binlog_errcode_t rc;

	if (t->o.format == MERGE_FMT_TEXT) {
		text_key(line, n, &t->scratch);
		key = t->scratch.data;
		kn = t->scratch.len;
	} else {
		merge_row_t r;
		if ((rc = merge_line_parse(line, n, &t->scratch, &r, err)) != BINLOG_OK)
			return rc;
		key = r.key.p;
		kn = r.key.n;
	}
	e = merge_map_get(c->touched, key, kn);
	if (e && e->aux == 1)
		return BINLOG_OK; /* the batch changes this key */
	if ((rc = merge_out_write(c->o, line, n, err)) != BINLOG_OK ||
	    (rc = merge_out_write(c->o, "\n", 1, err)) != BINLOG_OK)
		return rc;
	c->kept++;
	return BINLOG_OK;
}

/* Data files of a partition directory (names), sorted. */
static int list_dir(const char *dir, strvec_t *data, int *has_success)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*has_success = 0;
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, "_SUCCESS") == 0)
			*has_success = 1;
		else if (is_data_file(de->d_name) && sv_push(data, de->d_name) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	sv_sort(data);
	return 0;
}

/* Build the staged directory of one partition. */
static binlog_errcode_t stage_partition(merge_table_t *t, const char *id, part_plan_t *pp,
					merge_map_t *rows, merge_map_t *touched, int force_one,
					const char *staged_rel, merge_commit_stats_t *st,
					binlog_err_t *err)
{
	const char *name = t->parts.names[pp->pid];
	char pdir[PATH_MAX], sdir[PATH_MAX], f[PATH_MAX], g[PATH_MAX];
	strvec_t old = {0};
	int has_success = 0, rewrite;
	rewrite_ctx_t rc_ctx = {t, touched, pp->pid, NULL, 0};
	binlog_errcode_t rc = BINLOG_OK;
	uint64_t bytes = 0;

	pathf(pdir, sizeof(pdir), "%s/%s", t->dir, name);
	pathf(sdir, sizeof(sdir), "%s/%s", t->dir, staged_rel);
	if (list_dir(pdir, &old, &has_success) < 0)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", pdir, strerror(errno));
	remove_tree(sdir); /* a leftover of a rolled-back attempt */
	if ((rc = cdc_mkdirs(sdir, 0755, err)) != BINLOG_OK)
		goto out;
	rewrite = pp->rewrite || force_one || old.n + 1 > t->tune.small_files;
	pathf(f, sizeof(f), "%s/part-%s%s", sdir, id, file_ext(t));
	if ((rc = merge_out_open(f, t->tune.zstd_level, &rc_ctx.o, err)) != BINLOG_OK)
		goto out;
	for (size_t i = 0; i < old.n; i++) {
		pathf(g, sizeof(g), "%s/%s", pdir, old.v[i]);
		if (rewrite) {
			int missing;
			if ((rc = merge_in_lines(g, rewrite_line, &rc_ctx, &missing, err)) !=
			    BINLOG_OK)
				goto out;
		} else {
			char h[PATH_MAX];
			pathf(h, sizeof(h), "%s/%s", sdir, old.v[i]);
			if (link(g, h) != 0) {
				rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: link to %s: %s", g,
						    h, strerror(errno));
				goto out;
			}
		}
	}
	for (size_t i = 0; i < pp->nadd; i++) {
		const uint8_t *line = merge_map_line(rows, pp->add[i]);
		size_t n = pp->add[i]->line_len;
		if (t->o.format == MERGE_FMT_TEXT) {
			merge_row_t r;
			if ((rc = merge_line_parse(line, n, &t->scratch, &r, err)) != BINLOG_OK)
				goto out;
			binlog_buf_reset(&t->line);
			text_line(t, &t->line, &r);
			line = t->line.data;
			n = t->line.len;
		}
		if ((rc = merge_out_write(rc_ctx.o, line, n, err)) != BINLOG_OK ||
		    (rc = merge_out_write(rc_ctx.o, "\n", 1, err)) != BINLOG_OK)
			goto out;
	}
	rc = merge_out_close(rc_ctx.o, &bytes, err);
	rc_ctx.o = NULL;
	if (rc != BINLOG_OK)
		goto out;
	if (rc_ctx.kept + pp->nadd == 0)
		unlink(f); /* the partition is now empty */
	else if (st) {
		st->files++;
		st->bytes += bytes;
	}
	if (has_success) {
		pathf(g, sizeof(g), "%s/_SUCCESS", pdir);
		pathf(f, sizeof(f), "%s/_SUCCESS", sdir);
		if (link(g, f) != 0 && errno != EEXIST) {
			rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", f, strerror(errno));
			goto out;
		}
	}
	pathf(f, sizeof(f), "%s/" MARKER_NAME, sdir);
	if ((rc = cdc_write_atomic(f, id, strlen(id), CDC_WRITE_REPLACE, 1, err)) != BINLOG_OK)
		goto out;
	rc = cdc_sync_dir(sdir, err);
out:
	merge_out_abort(rc_ctx.o);
	sv_free(&old);
	return rc;
}

static int plan_add(part_plan_t *pp, merge_entry_t *e)
{
	if (pp->nadd == pp->capadd) {
		size_t cap = pp->capadd ? pp->capadd * 2 : 16;
		merge_entry_t **v = realloc(pp->add, cap * sizeof(*v));
		if (!v)
			return -1;
		pp->add = v;
		pp->capadd = cap;
	}
	pp->add[pp->nadd++] = e;
	return 0;
}

static binlog_errcode_t hive_successes(merge_table_t *t, view_t *v, uint64_t *count,
				       binlog_err_t *err);

/* The plan of partition pid in this commit, made on first use. The
 * pointer lasts until the next call. */
static part_plan_t *plan_for(merge_table_t *t, part_plan_t **plans, size_t *n, uint32_t pid)
{
	if (!t->pstate[pid].plan) {
		part_plan_t *v = realloc(*plans, (*n + 1) * sizeof(*v));
		if (!v)
			return NULL;
		*plans = v;
		memset(&v[*n], 0, sizeof(*v));
		v[*n].pid = pid;
		(*n)++;
		t->pstate[pid].plan = (uint32_t)*n;
	}
	return &(*plans)[t->pstate[pid].plan - 1];
}

/* A key moving between partitions: plan indexes, from -> to. */
typedef struct part_move {
	uint32_t from, to;
} part_move_t;

static int move_cmp(const void *a, const void *b)
{
	const part_move_t *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

/*
 * Order the exchanges so that a partition a key moves out of goes before
 * the partition it moves into: exchanges are atomic one partition at a
 * time, so the key is then briefly in neither, never in both. Moves sorted
 * by `from`; otherwise the batch's order (Kahn's algorithm, taking the
 * first ready plan). Only a cycle (keys moving both ways between
 * partitions of one batch) has no such order: it is broken at its first
 * plan, and one key of it can be seen twice for a moment. 0 when out of
 * memory.
 */
static int plans_order(part_plan_t *plans, size_t n, part_move_t *mv, size_t nmv)
{
	part_plan_t *out;
	size_t *first;
	char *done;
	int ok;

	if (nmv == 0)
		return 1; /* nothing moves: the batch's order */
	out = malloc(n * sizeof(*out));
	first = calloc(n + 1, sizeof(*first));
	done = calloc(n, 1);
	ok = out && first && done;
	if (ok) {
		qsort(mv, nmv, sizeof(*mv), move_cmp);
		for (size_t i = 0; i < nmv; i++)
			first[mv[i].from + 1]++;
		for (size_t i = 0; i < n; i++)
			first[i + 1] += first[i];
		for (size_t k = 0; k < n; k++) {
			size_t pick = n;
			for (size_t i = 0; i < n && pick == n; i++)
				if (!done[i] && plans[i].in == 0)
					pick = i;
			for (size_t i = 0; i < n && pick == n; i++)
				if (!done[i])
					pick = i; /* a cycle */
			done[pick] = 1;
			out[k] = plans[pick];
			for (size_t m = first[pick]; m < first[pick + 1]; m++)
				plans[mv[m].to].in--;
		}
		memcpy(plans, out, n * sizeof(*out));
	}
	free(out);
	free(first);
	free(done);
	return ok;
}

static void plans_forget(merge_table_t *t, const part_plan_t *plans, size_t n)
{
	for (size_t i = 0; i < n; i++)
		t->pstate[plans[i].pid].plan = 0;
}

static binlog_errcode_t hive_commit_locked(merge_table_t *t, merge_map_t *rows,
					   const merge_offset_t *offsets, size_t noffs,
					   const uint32_t *only_parts, size_t nonly,
					   merge_commit_stats_t *st, binlog_err_t *err)
{
	char id[96], p[PATH_MAX], rel[512], pname[256];
	view_t v;
	merge_map_t *touched = merge_map_new(), *idx = merge_map_new();
	part_plan_t *plans = NULL;
	part_move_t *moves = NULL;
	size_t nplans = 0, it = 0, nmoves = 0, capmoves = 0;
	merge_entry_t *e;
	json_t *meta = NULL, *parts = json_array(), *files = json_array();
	binlog_errcode_t rc;
	int requested = 0;
	const char *action = nonly ? "compaction" : "commit";

	if (!touched || !idx || !parts || !files) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto out_nov;
	}
	if ((rc = recover(t, err)) != BINLOG_OK)
		goto out_nov;
	if ((rc = tl_scan(t, &v, NULL, err)) != BINLOG_OK)
		goto out_nov;
	if ((rc = index_refresh(t, &v, err)) != BINLOG_OK)
		goto out;
	/* Another process may have added columns: its list is the one to extend. */
	if (t->o.format == MERGE_FMT_TEXT && ((rc = load_columns(t, err)) != BINLOG_OK ||
					      (rc = text_columns(t, rows, err)) != BINLOG_OK))
		goto out;
	for (size_t i = 0; i < nonly; i++) {
		part_plan_t *pp = plan_for(t, &plans, &nplans, only_parts[i]);
		if (!pp) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
			goto out;
		}
		pp->rewrite = 1;
	}
	while (rows && (e = merge_map_next(rows, &it))) {
		merge_row_t r;
		merge_entry_t *old;
		uint32_t oldp = NO_PART, newp = NO_PART;
		if ((rc = merge_line_parse(merge_map_line(rows, e), e->line_len, &t->scratch, &r,
					   err)) != BINLOG_OK)
			goto out;
		old = merge_map_get(t->index, r.key.p, r.key.n);
		if (old && (old->seq > r.seq || (old->seq == r.seq && old->op >= r.op))) {
			if (st)
				st->stale++;
			continue;
		}
		if (old)
			oldp = old->aux;
		if (!merge_op_deletes(r.op)) {
			merge_table_partition_of(t, &r, pname, sizeof(pname));
			if ((newp = part_id(t, pname)) == NO_PART) {
				rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
				goto out;
			}
		}
		if (oldp != NO_PART) {
			part_plan_t *pp = plan_for(t, &plans, &nplans, oldp);
			if (!pp) {
				rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
				goto out;
			}
			pp->rewrite = 1;
		}
		if (newp != NO_PART) {
			part_plan_t *pp = plan_for(t, &plans, &nplans, newp);
			if (!pp || plan_add(pp, e) < 0) {
				rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
				goto out;
			}
		}
		if (oldp != NO_PART && newp != NO_PART && oldp != newp) {
			if (nmoves == capmoves) {
				size_t cap = capmoves ? 2 * capmoves : 64;
				part_move_t *nm = realloc(moves, cap * sizeof(*nm));
				if (!nm) {
					rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
					goto out;
				}
				moves = nm;
				capmoves = cap;
			}
			moves[nmoves].from = t->pstate[oldp].plan - 1;
			moves[nmoves].to = t->pstate[newp].plan - 1;
			plans[moves[nmoves].to].in++;
			nmoves++;
		}
		/* The batch replaces this key wherever it was. */
		if (merge_map_offer(touched, &r, (const uint8_t *)"", 0, 1) < 0) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
			goto out;
		}
		/* The index entry: the key, its sequence and op, where it lives. */
		{
			merge_row_t ir = r;
			binlog_buf_reset(&t->line);
			binlog_buf_lit(&t->line, "\"p\":");
			binlog_jw_utf8(&t->line, (const uint8_t *)pname,
				       newp == NO_PART ? 0 : strlen(pname));
			ir.body.p = t->line.data;
			ir.body.n = t->line.len;
			binlog_buf_reset(&t->scratch2);
			merge_line_put(&t->scratch2, &ir);
			if (merge_map_offer(idx, &ir, t->scratch2.data, t->scratch2.len - 1, newp) <
			    0) {
				rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
				goto out;
			}
		}
	}
	/* A key moving between partitions is briefly in neither, rather
	 * than in both. pstate's plan indexes are not used past this point
	 * but for forgetting, by pid. */
	if (!plans_order(plans, nplans, moves, nmoves)) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto out;
	}
	if (nplans == 0 && noffs == 0 && !nonly)
		goto out; /* nothing to record */
	new_instant(t, id, sizeof(id));
	meta = instant_json(t, id, action);
	json_object_set_new(meta, "offsets", offsets_json(offsets, noffs));
	tl_marker_path(t, p, sizeof(p), id, action, "requested");
	if ((rc = write_json(p, meta, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
		goto out;
	requested = 1;
	if (merge_map_count(idx)) {
		pathf(rel, sizeof(rel), INDEX_DIR "/b0000/%s.log%s", id, index_ext(t));
		json_array_append_new(files, json_pack("{s:s,s:I}", "path", rel, "rows",
						       (json_int_t)merge_map_count(idx)));
	}
	for (size_t i = 0; i < nplans; i++) {
		char sr[512];
		staged_name(t->parts.names[plans[i].pid], id, sr, sizeof(sr));
		json_array_append_new(parts, json_pack("{s:s,s:s}", "path",
						       t->parts.names[plans[i].pid], "staged", sr));
	}
	json_object_set(meta, "files", files);
	json_object_set(meta, "partitions", parts);
	tl_marker_path(t, p, sizeof(p), id, action, "inflight");
	if ((rc = write_json(p, meta, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
		goto out;
	if (merge_map_count(idx)) {
		size_t ne;
		merge_entry_t **es = merge_map_sorted(idx, &ne);
		if (!es) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
			goto out;
		}
		rc = write_entries(t, rel, idx, es, ne, NULL, err);
		free(es);
		if (rc != BINLOG_OK)
			goto out;
	}
	for (size_t i = 0; i < nplans; i++) {
		const char *sr =
			json_string_value(json_object_get(json_array_get(parts, i), "staged"));
		if ((rc = stage_partition(t, id, &plans[i], rows, touched, nonly > 0, sr, st,
					  err)) != BINLOG_OK)
			goto out;
	}
	json_object_set_new(meta, "time_ms", json_integer(cdc_wall_ms()));
	tl_marker_path(t, p, sizeof(p), id, action, NULL);
	if ((rc = write_json(p, meta, CDC_WRITE_EXCLUSIVE, err)) != BINLOG_OK)
		goto out;
	/* Committed: now make it so on disk (recover does this after a crash). */
	hive_apply(t, meta, id);
	tl_marker_path(t, p, sizeof(p), id, action, "inflight");
	unlink(p);
	tl_marker_path(t, p, sizeof(p), id, action, "requested");
	unlink(p);
	requested = 0;
	/* The index learns the batch. */
	it = 0;
	while ((e = merge_map_next(idx, &it))) {
		merge_row_t r;
		if (merge_line_parse(merge_map_line(idx, e), e->line_len, &t->scratch, &r, err) !=
			    BINLOG_OK ||
		    merge_map_offer(t->index, &r, merge_map_line(idx, e), e->line_len, e->aux) <
			    0) {
			rc = binlog_err_set(err, BINLOG_E_NOMEM,
					    "out of memory updating the index");
			goto out;
		}
	}
	if (merge_map_count(idx))
		sv_push(&t->index_files, rel), sv_sort(&t->index_files);
	for (size_t i = 0; i < nplans; i++)
		t->pstate[plans[i].pid].exists = 1;
	if (st)
		st->partitions += nplans, st->rows += merge_map_count(idx);
	/* Before a partition compaction below plans partitions of its own. */
	plans_forget(t, plans, nplans);
	if (!nonly) {
		/* The offsets this commit adds count for the watermark too. */
		for (size_t i = 0; i < noffs; i++)
			view_offset(&v, offsets[i].topic, offsets[i].partition, offsets[i].offset,
				    offsets[i].watermark_ms);
		rc = hive_successes(t, &v, st ? &st->successes : NULL, err);
	}
out:
	if (rc != BINLOG_OK && requested)
		rollback(t, id, action, "which failed");
	view_free(&v);
out_nov:
	for (size_t i = 0; i < nplans; i++)
		free(plans[i].add);
	plans_forget(t, plans, nplans);
	free(plans);
	free(moves);
	merge_map_free(touched);
	merge_map_free(idx);
	json_decref(meta);
	json_decref(parts);
	json_decref(files);
	return rc;
}

/*
 * _SUCCESS for every partition whose end plus the delay the watermark
 * has passed: the watermark is the lowest, over every partition of the
 * topic, of the highest ts_ms consumed from it (records and heartbeats).
 * Partitions with several files are compacted first. Hours with no rows
 * since the table was created get an empty directory with the marker.
 */
static binlog_errcode_t hive_successes(merge_table_t *t, view_t *v, uint64_t *count,
				       binlog_err_t *err)
{
	int64_t wm = INT64_MAX, lo, hi, step;
	int32_t seen = 0;
	char p[PATH_MAX], name[256];
	binlog_errcode_t rc = BINLOG_OK;

	if (!t->topic || t->topic_partitions <= 0)
		return BINLOG_OK;
	for (size_t i = 0; i < v->noffs; i++)
		if (strcmp(v->offs[i].topic, t->topic) == 0 &&
		    v->offs[i].partition < t->topic_partitions) {
			seen++;
			if (v->offs[i].watermark_ms < wm)
				wm = v->offs[i].watermark_ms;
		}
	if (seen < t->topic_partitions || wm == INT64_MIN || wm == INT64_MAX)
		return BINLOG_OK;
	wm -= (int64_t)t->tune.success_delay_ms;
	/* Empty hours from the table's creation on: directories of their own. */
	step = t->o.granularity == MERGE_GRAN_DAY ? 86400000 : 3600000;
	if (t->success_scan_ms == 0)
		t->success_scan_ms = t->created_ms - t->created_ms % step;
	for (; t->success_scan_ms + step <= wm; t->success_scan_ms += step) {
		part_name(t, t->success_scan_ms, name, sizeof(name));
		if (part_id(t, name) == NO_PART)
			return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	}
	for (uint32_t id = 0; id < t->parts.n && rc == BINLOG_OK; id++) {
		strvec_t files = {0};
		int has;
		if (t->pstate[id].success || !part_bounds(t, t->parts.names[id], &lo, &hi) ||
		    hi > wm)
			continue;
		pathf(p, sizeof(p), "%s/%s", t->dir, t->parts.names[id]);
		if (list_dir(p, &files, &has) < 0) {
			sv_free(&files);
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", p, strerror(errno));
		}
		if (files.n > 1) {
			/* Close the partition with one file: a compaction. */
			rc = hive_commit_locked(t, NULL, NULL, 0, &id, 1, NULL, err);
		}
		sv_free(&files);
		if (rc != BINLOG_OK)
			break;
		if ((rc = cdc_mkdirs(p, 0755, err)) != BINLOG_OK)
			break;
		pathf(p, sizeof(p), "%s/%s/_SUCCESS", t->dir, t->parts.names[id]);
		if ((rc = cdc_write_atomic(p, "", 0, CDC_WRITE_REPLACE, 1, err)) != BINLOG_OK)
			break;
		t->pstate[id].success = 1;
		t->pstate[id].exists = 1;
		if (count)
			++*count;
		cdc_log_info("%s: partition %s committed (_SUCCESS)", t->dir, t->parts.names[id]);
	}
	return rc;
}

binlog_errcode_t merge_table_commit(merge_table_t *t, merge_map_t *rows,
				    const merge_offset_t *offsets, size_t n,
				    merge_commit_stats_t *st, binlog_err_t *err)
{
	int lk;
	binlog_errcode_t rc;

	if (t->writer_fd < 0)
		return binlog_err_set(err, BINLOG_E_USAGE, "%s: opened read-only", t->dir);
	if (t->o.kind == MERGE_TABLE_MOR)
		return mor_commit(t, rows, offsets, n, st, err);
	if ((rc = lock_file(t, SLUICE_DIR "/table.lock", 0, &lk, err)) != BINLOG_OK)
		return rc;
	rc = hive_commit_locked(t, rows, offsets, n, NULL, 0, st, err);
	unlock_file(lk);
	return rc;
}

binlog_errcode_t merge_table_maintain(merge_table_t *t, int all, uint64_t *compacted,
				      binlog_err_t *err)
{
	binlog_errcode_t rc;

	if (t->writer_fd < 0)
		return binlog_err_set(err, BINLOG_E_USAGE, "%s: opened read-only", t->dir);
	if (t->o.kind == MERGE_TABLE_HIVE) {
		int lk;
		uint32_t *ids = NULL;
		size_t nids = 0;
		if ((rc = lock_file(t, SLUICE_DIR "/table.lock", 0, &lk, err)) != BINLOG_OK)
			return rc;
		if ((rc = recover(t, err)) == BINLOG_OK)
			scan_partitions(t);
		ids = malloc(((size_t)t->parts.n + 1) * sizeof(*ids));
		for (uint32_t id = 0; rc == BINLOG_OK && ids && id < t->parts.n; id++) {
			strvec_t files = {0};
			int has;
			char p[PATH_MAX];
			pathf(p, sizeof(p), "%s/%s", t->dir, t->parts.names[id]);
			if (list_dir(p, &files, &has) == 0 &&
			    files.n >= (all ? 2 : (size_t)t->tune.small_files))
				ids[nids++] = id;
			sv_free(&files);
		}
		if (rc == BINLOG_OK && nids) {
			rc = hive_commit_locked(t, NULL, NULL, 0, ids, nids, NULL, err);
			if (compacted)
				*compacted += nids;
		}
		free(ids);
		/* The index is a merge-on-read table of one bucket. */
		if (rc == BINLOG_OK)
			rc = compact_buckets(t, all ? 2 : t->tune.compact_files, compacted, err);
		if (rc == BINLOG_OK)
			rc = clean(t, all, err);
		unlock_file(lk);
		return rc;
	}
	if ((rc = recover(t, err)) != BINLOG_OK)
		return rc;
	if ((rc = compact_buckets(t, all ? 2 : t->tune.compact_files, compacted, err)) != BINLOG_OK)
		return rc;
	return clean(t, all, err);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

static binlog_errcode_t emit_map(merge_table_t *t, merge_map_t *m, merge_row_fn fn, void *arg,
				 binlog_err_t *err)
{
	size_t it = 0;
	merge_entry_t *e;
	binlog_errcode_t rc;

	while ((e = merge_map_next(m, &it))) {
		merge_row_t r;
		if (merge_op_deletes(e->op))
			continue;
		if ((rc = merge_line_parse(merge_map_line(m, e), e->line_len, &t->scratch, &r,
					   err)) != BINLOG_OK ||
		    (rc = fn(arg, &r, NULL, merge_map_line(m, e), e->line_len, err)) != BINLOG_OK)
			return rc;
	}
	return BINLOG_OK;
}

typedef struct hive_read_ctx {
	merge_table_t *t;
	merge_row_fn fn;
	void *arg;
	const char *part;
	binlog_buf_t json;
} hive_read_ctx_t;

/* A text line as a JSON line: the meta members, then every column as a
 * string (or null). */
static binlog_errcode_t text_to_row(hive_read_ctx_t *c, const uint8_t *s, size_t n, merge_row_t *r,
				    binlog_err_t *err)
{
	merge_table_t *t = c->t;
	size_t field = 0, i = 0;
	binlog_buf_t *j = &c->json;
	binlog_buf_t *v = &t->scratch2;

	binlog_buf_reset(j);
	binlog_buf_putc(j, '{');
	while (i <= n) {
		int is_null = 0;
		binlog_buf_reset(v);
		if (i + 1 < n + 1 && i + 2 <= n && s[i] == '\\' && s[i + 1] == 'N' &&
		    (i + 2 == n || s[i + 2] == 1)) {
			is_null = 1;
			i += 2;
		} else {
			while (i < n && s[i] != 1) {
				if (s[i] == '\\' && i + 1 < n) {
					i++;
					binlog_buf_putc(v, s[i] == 'n'   ? '\n'
							   : s[i] == 'r' ? '\r'
									 : s[i]);
				} else {
					binlog_buf_putc(v, s[i]);
				}
				i++;
			}
		}
		if (field > 0)
			binlog_buf_putc(j, ',');
		switch (field) {
		case 0:
			binlog_buf_lit(j, "\"_sluice_key\":");
			break;
		case 1:
			binlog_buf_lit(j, "\"_sluice_seq\":");
			break;
		case 2:
			binlog_buf_lit(j, "\"_sluice_op\":\"+U\",\"_sluice_ts_ms\":");
			break;
		case 3:
			binlog_buf_lit(j, "\"_sluice_db\":");
			break;
		case 4:
			binlog_buf_lit(j, "\"_sluice_table\":");
			break;
		default:
			if (field - 5 >= t->columns.n)
				return binlog_err_set(err, BINLOG_E_BAD_VALUE,
						      "more fields than the table's %zu columns",
						      t->columns.n);
			binlog_jw_utf8(j, (const uint8_t *)t->columns.v[field - 5],
				       strlen(t->columns.v[field - 5]));
			binlog_buf_putc(j, ':');
		}
		if (field == 1 || field == 2)
			binlog_buf_put(j, v->data, v->len);
		else if (is_null)
			binlog_buf_lit(j, "null");
		else
			binlog_jw_utf8(j, v->data, v->len);
		field++;
		i++; /* the separator */
	}
	binlog_buf_putc(j, '}');
	if (field < 5)
		return binlog_err_set(err, BINLOG_E_BAD_VALUE, "a line of %zu fields", field);
	return merge_line_parse(j->data, j->len, &t->scratch, r, err);
}

static binlog_errcode_t hive_read_line(void *arg, const uint8_t *line, size_t n, binlog_err_t *err)
{
	hive_read_ctx_t *c = arg;
	merge_row_t r;
	binlog_errcode_t rc;

	if (c->t->o.format == MERGE_FMT_TEXT) {
		if ((rc = text_to_row(c, line, n, &r, err)) != BINLOG_OK)
			return rc;
		return c->fn(c->arg, &r, c->part, c->json.data, c->json.len, err);
	}
	if ((rc = merge_line_parse(line, n, &c->t->scratch, &r, err)) != BINLOG_OK)
		return rc;
	return c->fn(c->arg, &r, c->part, line, n, err);
}

static binlog_errcode_t hive_read(merge_table_t *t, merge_row_fn fn, void *arg, binlog_err_t *err)
{
	hive_read_ctx_t c = {t, fn, arg, NULL, {0}};
	binlog_errcode_t rc = BINLOG_OK;

	binlog_buf_init(&c.json, 0);
	if (t->o.format == MERGE_FMT_TEXT && (rc = load_columns(t, err)) != BINLOG_OK)
		return rc;
	scan_partitions(t);
	for (uint32_t id = 0; id < t->parts.n && rc == BINLOG_OK; id++) {
		char pdir[PATH_MAX], f[PATH_MAX];
		int dfd, has;
		strvec_t files = {0};
		pathf(pdir, sizeof(pdir), "%s/%s", t->dir, t->parts.names[id]);
		/* Through the directory's descriptor: a commit exchanging the
		 * partition meanwhile leaves this one readable as it was. */
		if ((dfd = open(pdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			continue;
		pathf(f, sizeof(f), "/proc/self/fd/%d", dfd);
		if (list_dir(f, &files, &has) < 0) {
			close(dfd);
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", pdir,
					      strerror(errno));
		}
		c.part = t->parts.names[id];
		for (size_t i = 0; i < files.n && rc == BINLOG_OK; i++) {
			int missing;
			pathf(f, sizeof(f), "/proc/self/fd/%d/%s", dfd, files.v[i]);
			rc = merge_in_lines(f, hive_read_line, &c, &missing, err);
			if (rc != BINLOG_OK && missing)
				binlog_err_set(err, BINLOG_E_LOCAL_IO,
					       "%s/%s: replaced while read; read again", pdir,
					       files.v[i]);
		}
		sv_free(&files);
		close(dfd);
	}
	binlog_buf_free(&c.json);
	return rc;
}

binlog_errcode_t merge_table_read(merge_table_t *t, merge_row_fn fn, void *arg, binlog_err_t *err)
{
	view_t v;
	merge_map_t *m;
	binlog_errcode_t rc;
	size_t i = 0;

	if (t->o.kind == MERGE_TABLE_HIVE)
		return hive_read(t, fn, arg, err);
	if ((rc = tl_scan(t, &v, NULL, err)) != BINLOG_OK)
		return rc;
	if (!(m = merge_map_new())) {
		view_free(&v);
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	}
	/* One bucket at a time: a key lives in one bucket only. */
	while (i < v.files.n && rc == BINLOG_OK) {
		size_t j = i + 1, dl = dir_len(v.files.v[i]);
		if (strncmp(v.files.v[i], SLUICE_DIR "/", strlen(SLUICE_DIR) + 1) == 0) {
			i++;
			continue;
		}
		while (j < v.files.n && dir_len(v.files.v[j]) == dl &&
		       strncmp(v.files.v[j], v.files.v[i], dl) == 0)
			j++;
		merge_map_reset(m);
		rc = read_files_into(t, v.files.v + i, j - i, m, err);
		if (rc == BINLOG_OK)
			rc = emit_map(t, m, fn, arg, err);
		i = j;
	}
	merge_map_free(m);
	view_free(&v);
	return rc;
}

binlog_errcode_t merge_table_files(merge_table_t *t, void (*fn)(void *arg, const char *path),
				   void *arg, binlog_err_t *err)
{
	view_t v;
	binlog_errcode_t rc;

	if (t->o.kind == MERGE_TABLE_HIVE) {
		scan_partitions(t);
		for (uint32_t id = 0; id < t->parts.n; id++) {
			strvec_t files = {0};
			int has;
			char p[PATH_MAX], rel[PATH_MAX];
			pathf(p, sizeof(p), "%s/%s", t->dir, t->parts.names[id]);
			if (list_dir(p, &files, &has) == 0)
				for (size_t i = 0; i < files.n; i++) {
					pathf(rel, sizeof(rel), "%s/%s", t->parts.names[id],
					      files.v[i]);
					fn(arg, rel);
				}
			sv_free(&files);
		}
		return BINLOG_OK;
	}
	if ((rc = tl_scan(t, &v, NULL, err)) != BINLOG_OK)
		return rc;
	for (size_t i = 0; i < v.files.n; i++)
		if (strncmp(v.files.v[i], SLUICE_DIR "/", strlen(SLUICE_DIR) + 1) != 0)
			fn(arg, v.files.v[i]);
	view_free(&v);
	return BINLOG_OK;
}
