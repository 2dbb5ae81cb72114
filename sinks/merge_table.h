/*
 * merge_table.h: the merger's tables on a filesystem path, and the
 * timeline of commits that makes them safe to read while written.
 *
 * Two kinds, one directory each (docs/MERGER.md has the full layout):
 *
 *   merge-on-read ("mor"), Hudi-style: rows are appended to log files
 *   grouped by key hash into buckets (bNNNN/); compaction merges a
 *   bucket's files into one base file; a reader merges the files it sees,
 *   per key the highest sequence. Deletes stay as tombstones.
 *
 *   hive: partition directories dt=YYYY-MM-DD/hr=HH holding the current
 *   rows only; each commit replaces the partitions it touches whole (a
 *   directory exchanged in one rename), and a key index (.sluice/index,
 *   itself a merge-on-read table of key -> sequence, partition) says where
 *   each key lives, so a key that moves partition or is deleted leaves its
 *   old one, and an older change that arrives late loses.
 *
 * The timeline (.sluice/timeline) is a directory of instants, each an
 * action moving through ID.ACTION.requested, ID.ACTION.inflight and
 * ID.ACTION (completed), each step a file written atomically. A file or a
 * partition directory is visible only once the instant that wrote it is
 * completed; the completed instant also holds the Kafka offsets up to
 * which its rows were consumed, so rows and offsets commit together. An
 * instant whose writer died before completing it is rolled back by the
 * next process that opens the table (its files removed); a Hive commit
 * that completed before its directories were exchanged is finished.
 *
 * Writers: any number of processes may commit to one table at once (they
 * share the Kafka partitions of its topic): merge-on-read commits only add
 * files; Hive commits serialise on a lock (.sluice/table.lock). Each
 * process holds .sluice/writers/ID.lock for its life, which is how others
 * know its pending instants are abandoned.
 *
 * Threading: a merge_table_t is used by one thread at a time.
 */
#ifndef SLUICE_MERGE_TABLE_H
#define SLUICE_MERGE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_err.h"
#include "merge_io.h"

enum merge_table_kind {
	MERGE_TABLE_MOR = 0,
	MERGE_TABLE_HIVE,
};

enum merge_granularity {
	MERGE_GRAN_HOUR = 0, /* dt=YYYY-MM-DD/hr=HH */
	MERGE_GRAN_DAY,      /* dt=YYYY-MM-DD */
};

enum merge_format {
	MERGE_FMT_JSONL = 0, /* JSON lines, the stored row (merge_io.h) */
	MERGE_FMT_TEXT,      /* Hive delimited text: \001 between fields */
};

/* How a table is made; stored in .sluice/table.json when it is created
 * and read back from there afterwards. */
typedef struct merge_table_opts {
	int kind;           /* enum merge_table_kind */
	uint32_t buckets;   /* mor: 1..4096 */
	char *partition_by; /* hive: a column of the rows, or NULL: the
			     * source's commit time (ts_ms) */
	int granularity;    /* hive: enum merge_granularity */
	int format;         /* hive: enum merge_format */
	int compress;       /* files end in .zst and are zstd frames */
} merge_table_opts_t;

/* Settings of the process, not of the table. */
typedef struct merge_table_tuning {
	int zstd_level;               /* 1..19 */
	uint32_t compact_files;       /* mor: compact a bucket with this many files */
	uint32_t small_files;         /* hive: rewrite a partition with this many files */
	uint64_t clean_retain_ms;     /* replaced files are kept this long for readers */
	uint32_t checkpoint_instants; /* fold the timeline past this many instants */
	uint64_t success_delay_ms;    /* hive: _SUCCESS once the watermark passes
				       * a partition's end by this much */
	uint64_t max_index_bytes;     /* hive: the key index in memory, at most */
	uint32_t write_threads;       /* mor: threads writing a commit's files,
				       * 1..MERGE_WRITE_THREADS_MAX */
} merge_table_tuning_t;

/* The most threads a commit writes its files with. */
#define MERGE_WRITE_THREADS_MAX 16

/* The defaults; write_threads: one a core, at most the maximum. */
void merge_table_tuning_default(merge_table_tuning_t *t);

typedef struct merge_table merge_table_t;

/*
 * Open the table in dir. When dir holds no table and opts is not NULL,
 * create it with opts; when it holds one, opts (if given) must agree with
 * it (BINLOG_E_USAGE naming the difference). Registers this process as a
 * writer when `write` is set, rolls back the instants of writers that are
 * gone, and finishes Hive commits that completed. On success *out is the
 * caller's to close.
 */
binlog_errcode_t merge_table_open(const char *dir, const merge_table_opts_t *opts, int write,
				  const merge_table_tuning_t *tuning, merge_table_t **out,
				  binlog_err_t *err);
void merge_table_close(merge_table_t *t);

const merge_table_opts_t *merge_table_options(const merge_table_t *t);
const char *merge_table_dir(const merge_table_t *t);

/* Where a Kafka partition stands in the table. */
typedef struct merge_offset {
	char *topic;
	int32_t partition;
	int64_t offset;       /* the next offset to consume; -1: none stored */
	int64_t watermark_ms; /* the highest ts_ms consumed (records and
			       * heartbeats); INT64_MIN: none */
} merge_offset_t;

/*
 * The offset and watermark the completed instants hold for
 * topic/partition (the highest of them), re-reading the timeline.
 */
binlog_errcode_t merge_table_offset(merge_table_t *t, const char *topic, int32_t partition,
				    merge_offset_t *out, binlog_err_t *err);

/* How many partitions the table's topic has: the watermark of the table
 * is the lowest over all of them (for _SUCCESS). */
void merge_table_set_partitions(merge_table_t *t, const char *topic, int32_t n);

/* What a commit did. */
typedef struct merge_commit_stats {
	uint64_t rows;       /* rows written */
	uint64_t stale;      /* changes older than the table's (Hive) */
	uint64_t files;      /* data files written */
	uint64_t bytes;      /* their size */
	uint64_t partitions; /* Hive partitions replaced */
	uint64_t successes;  /* _SUCCESS markers written */
} merge_commit_stats_t;

/*
 * Commit rows (a map of the batch's winning change per key; its entries'
 * lines are stored lines, merge_line_put) together with offsets[0..n):
 * after it returns 0 both are durable and visible together; on error
 * neither is (the instant is rolled back, or will be by the next opener).
 * An empty map with offsets only records progress (heartbeats).
 */
binlog_errcode_t merge_table_commit(merge_table_t *t, merge_map_t *rows,
				    const merge_offset_t *offsets, size_t n,
				    merge_commit_stats_t *st, binlog_err_t *err);

/*
 * Maintenance: compaction (merge-on-read buckets with at least
 * tuning.compact_files files, or every bucket with more than one when
 * `all`; Hive partitions with at least tuning.small_files files, or more
 * than one when `all`, and the key index), then cleaning (replaced files
 * older than clean_retain_ms, or all when `all`) and folding the timeline.
 * Work another process is doing is skipped. *compacted counts the buckets
 * or partitions rewritten.
 */
binlog_errcode_t merge_table_maintain(merge_table_t *t, int all, uint64_t *compacted,
				      binlog_err_t *err);

/*
 * The merged view: fn(arg, row, line) once per live key (the highest
 * sequence, not a delete), in no particular order. `line` is the stored
 * row: a JSON line for merge-on-read and JSON-lines Hive tables; for text
 * Hive tables a JSON line made from the text (values as strings). For
 * Hive tables `partition` is the row's partition directory (NULL for
 * merge-on-read). Reads only completed instants, as they were when it
 * started: the view of one moment, never part of a commit. Cleaning
 * removes replaced files only after tuning.clean_retain_ms, so a read
 * shorter than that is never disturbed; a longer one can find a file gone,
 * an error (BINLOG_E_LOCAL_IO naming it) after which the caller reads
 * again: rows already passed to fn cannot be taken back, so it does not
 * start over by itself.
 */
typedef binlog_errcode_t (*merge_row_fn)(void *arg, const merge_row_t *row, const char *partition,
					 const uint8_t *line, size_t n, binlog_err_t *err);
binlog_errcode_t merge_table_read(merge_table_t *t, merge_row_fn fn, void *arg, binlog_err_t *err);

/* The visible data files, relative to the table's directory, one per
 * call of fn (for `sluice table files` and engines' file lists). */
binlog_errcode_t merge_table_files(merge_table_t *t, void (*fn)(void *arg, const char *path),
				   void *arg, binlog_err_t *err);

/* Hive: the partition a row goes to ("dt=2024-06-15/hr=13"), into buf. */
void merge_table_partition_of(const merge_table_t *t, const merge_row_t *r, char *buf, size_t cap);

#endif
