/*
 * sluice.c: the command line. Each command lives in its own cdc_*.c file;
 * this only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "cdc_config.h"
#include "cdc_decode.h"
#include "cdc_merge.h"
#include "cdc_replay.h"
#include "cdc_run.h"
#include "cdc_snapshot_cmd.h"
#include "cdc_source_cmd.h"
#include "cdc_tail.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
	fputs("usage: sluice COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  run -c FILE      follow a source and write its changes to the sink\n"
	      "  source ...       register sources: add, check, list, remove\n"
	      "  config ...       check a configuration file, print the reference\n"
	      "  snapshot -c FILE re-read tables while streaming (backfill); progress\n"
	      "  replay -c FILE   archived binlog files through a pipeline, as run wrote them\n"
	      "  merge ...        apply change records from Kafka to tables (Hudi-, Hive-style)\n"
	      "  table ...        read, verify, compact a table merge writes\n"
	      "  decode FILE...   binlog files to changelog-json records on stdout\n"
	      "  tail ...         print Kafka records as JSON lines (tests, debugging)\n"
	      "  version          print the version\n"
	      "\n"
	      "`sluice COMMAND --help` describes a command.\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "decode") == 0)
		return cdc_decode_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cdc_run_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "snapshot") == 0)
		return cdc_snapshot_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return cdc_replay_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "config") == 0)
		return cdc_config_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "source") == 0)
		return cdc_source_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "merge") == 0)
		return cdc_merge_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "table") == 0)
		return cdc_table_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "tail") == 0)
		return cdc_tail_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("sluice %s\n", SLUICE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "sluice: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
