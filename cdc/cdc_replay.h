/*
 * cdc_replay.h: `sluice replay`: archived binlog files through a pipeline's
 * filter, routing and sink, giving the records live capture gave.
 *
 * Records depend only on the binlog history (docs/SEQUENCE.md), so
 * decoding the files in order renders and numbers every transaction as
 * `sluice run` did; a range (GTIDs, commit times) selects which of them
 * are emitted, the ones before it being read all the same so that their
 * GTIDs count.
 */
#ifndef SLUICE_CDC_REPLAY_H
#define SLUICE_CDC_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "binlog.h"

/*
 * One transaction's GTID as text: MariaDB "domain-server-seq", MySQL
 * "uuid:n" or "uuid:tag:n". 0 and *out, or BINLOG_E_USAGE naming the
 * problem.
 */
binlog_errcode_t cdc_replay_parse_gtid(const char *text, binlog_gtid_t *out, binlog_err_t *err);

/*
 * A point in time: milliseconds since the epoch (digits only), or ISO-8601
 * "YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:]MM]", UTC when no zone is
 * given. 0 and *ms, or BINLOG_E_USAGE naming the problem.
 */
binlog_errcode_t cdc_replay_parse_time(const char *text, int64_t *ms, binlog_err_t *err);

/* The binlog files of a directory, in order. */
typedef struct cdc_replay_files {
	char **path; /* owned */
	uint64_t *number;
	size_t n;
	size_t ignored; /* other files (the .index, anything else) */
} cdc_replay_files_t;

/*
 * Every regular file of dir named like a binlog, NAME.NNNNNN (digits after
 * the last dot) or the same with .gz, sorted by number. NAME.index and
 * files named otherwise are left out (counted). 0, or an error: dir not
 * readable, no binlog file in it, files of more than one NAME, one number
 * twice (plain and .gz). Gaps in the numbers are not errors
 * (cdc_replay_files_gap finds them). Free with cdc_replay_files_free.
 */
binlog_errcode_t cdc_replay_list_dir(const char *dir, cdc_replay_files_t *out, binlog_err_t *err);

/* The first i > 0 whose number is not the previous one's plus one, or 0
 * when the numbers follow each other. */
size_t cdc_replay_files_gap(const cdc_replay_files_t *f, size_t from);

void cdc_replay_files_free(cdc_replay_files_t *f);

/* `sluice replay` (argv[0] is "replay"). Main thread only (it installs
 * SIGINT and SIGTERM handlers). Returns the exit status: 0 done, 1 an
 * error, 2 bad usage. */
int cdc_replay_main(int argc, char **argv);

#endif
