/*
 * cdc_config_cmd.c: `sluice config`: the configuration reference and the
 * check of a configuration file, both from cdc_config.c.
 *
 *   sluice config docs           the reference (docs/CONFIGURATION.md) on stdout
 *   sluice config check -c FILE  load and validate FILE: "ok", or the error
 *
 * `check` connects to nothing: it answers whether sluice would accept the
 * file, so it can run in CI or before a deploy.
 */
#include "cdc_config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fputs("usage: sluice config docs\n"
	      "       sluice config check -c FILE\n"
	      "\n"
	      "  docs              print the reference of every setting (Markdown)\n"
	      "  check -c FILE     load and validate FILE without connecting; prints\n"
	      "                    \"ok\", or the error and exits with status 1\n",
	      out);
}

static int config_docs(void)
{
	binlog_buf_t b;
	int status = 0;

	binlog_buf_init(&b, 0);
	cdc_config_doc(&b);
	if (b.failed) {
		fprintf(stderr, "sluice config docs: out of memory\n");
		status = 1;
	} else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
		fprintf(stderr, "sluice config docs: cannot write to standard output\n");
		status = 1;
	}
	binlog_buf_free(&b);
	return status;
}

static int config_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	cdc_config_t c;
	binlog_err_t err = {0};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	cdc_config_init(&c);
	if (cdc_config_load(path, &c, &err) != BINLOG_OK) {
		fprintf(stderr, "%s\n", err.msg);
		cdc_config_free(&c);
		return 1;
	}
	cdc_config_free(&c);
	puts("ok");
	return 0;
}

int cdc_config_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "docs") == 0) {
		if (argc != 2) {
			usage(stderr);
			return 2;
		}
		return config_docs();
	}
	if (strcmp(argv[1], "check") == 0)
		return config_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "sluice config: unknown subcommand '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
