/*
 * cdc_table.c: `sluice table`, the tables `sluice merge` maintains, for
 * people and scripts:
 *
 *   read DIR      the merged view, one JSON line per live row
 *   files DIR     the data files a reader must read (committed, not replaced)
 *   compact DIR   compact every bucket or partition with more than one
 *                 file, clean replaced files, fold the timeline
 *   verify DIR    row counts and checksums against the live source
 *                 (cdc_table_verify.c)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_log.h"
#include "cdc_merge.h"
#include "cdc_table_verify.h"
#include "merge_table.h"

static void usage(FILE *out)
{
	fputs("usage: sluice table read DIR [--partition P]\n"
	      "       sluice table files DIR\n"
	      "       sluice table compact DIR [--retain MS]\n"
	      "       sluice table verify DIR --source NAME [--tables DB.TABLE,...] [--json]\n"
	      "\n"
	      "DIR is a table `sluice merge` writes (--path DIR/TOPIC).\n"
	      "  read     the merged view: per key the change with the highest sequence,\n"
	      "           deletes left out; one JSON line per row (docs/MERGER.md)\n"
	      "  files    the committed data files, relative to DIR (for other engines)\n"
	      "  compact  compact every bucket (mor) or partition (hive) that has more than\n"
	      "           one file, remove replaced files older than --retain (0: all) and\n"
	      "           fold the timeline; safe while `sluice merge` writes\n"
	      "  verify   compare with the live source tables: row count and checksum per\n"
	      "           table, and per partition for tables partitioned by a column\n",
	      out);
}

typedef struct read_ctx {
	const char *partition;
	FILE *out;
	unsigned long long rows;
} read_ctx_t;

static binlog_errcode_t print_row(void *arg, const merge_row_t *r, const char *partition,
				  const uint8_t *line, size_t n, binlog_err_t *err)
{
	read_ctx_t *c = arg;

	(void)r;
	if (c->partition && (!partition || strcmp(partition, c->partition) != 0))
		return BINLOG_OK;
	if (fwrite(line, 1, n, c->out) != n || fputc('\n', c->out) == EOF)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "standard output: write failed");
	c->rows++;
	return BINLOG_OK;
}

static void print_file(void *arg, const char *path)
{
	(void)arg;
	puts(path);
}

int cdc_table_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"partition", required_argument, 0, 'p'},
		{"retain", required_argument, 0, 'r'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *cmd, *dir, *partition = NULL;
	merge_table_t *t = NULL;
	merge_table_tuning_t tune;
	binlog_err_t err = {0};
	binlog_errcode_t rc;
	int c, write;

	cdc_log_init("sluice table");
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (strcmp(cmd, "verify") == 0)
		return cdc_table_verify_main(argc - 1, argv + 1);
	merge_table_tuning_default(&tune);
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'p':
			partition = optarg;
			break;
		case 'r':
			tune.clean_retain_ms = strtoull(optarg, &end, 10);
			if (*end || !*optarg || *optarg == '-') {
				fprintf(stderr,
					"sluice table: --retain: '%s' is not milliseconds\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "sluice table %s: one table directory is wanted\n", cmd);
		return 2;
	}
	dir = argv[optind];
	if (strcmp(cmd, "read") != 0 && strcmp(cmd, "files") != 0 && strcmp(cmd, "compact") != 0) {
		fprintf(stderr, "sluice table: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	write = strcmp(cmd, "compact") == 0;
	if ((rc = merge_table_open(dir, NULL, write, &tune, &t, &err)) != BINLOG_OK)
		goto out;
	if (strcmp(cmd, "read") == 0) {
		read_ctx_t ctx = {partition, stdout, 0};
		rc = merge_table_read(t, print_row, &ctx, &err);
		if (fflush(stdout) != 0 && rc == BINLOG_OK)
			rc = binlog_err_set(&err, BINLOG_E_LOCAL_IO,
					    "standard output: write failed");
	} else if (strcmp(cmd, "files") == 0) {
		rc = merge_table_files(t, print_file, NULL, &err);
	} else {
		uint64_t n = 0;
		int64_t t0 = cdc_mono_ms();
		rc = merge_table_maintain(t, 1, &n, &err);
		if (rc == BINLOG_OK)
			fprintf(stderr, "compacted %llu bucket(s) or partition(s) in %lld ms\n",
				(unsigned long long)n, (long long)(cdc_mono_ms() - t0));
	}
out:
	merge_table_close(t);
	if (rc != BINLOG_OK) {
		fprintf(stderr, "sluice table %s: %s\n", cmd, err.msg);
		return 1;
	}
	return 0;
}
