/*
 * cdc_decode.c: `sluice decode FILE...`: binlog files to changelog-json
 * lines on standard output, one record per row change, with sequences.
 *
 * Files are decoded in the order given, as one stream: sequences continue
 * from file to file, each file's PREVIOUS_GTIDS / GTID_LIST re-anchoring
 * them in the server's history. On an error, the records before it are
 * written out, the error names the file, position and event, and the exit
 * status is 1.
 */
#include "cdc_decode.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdc_file.h"
#include "cdc_stream.h"
#include "sink.h"

binlog_errcode_t cdc_decode_file(binlog_decoder_t *dec, cdc_stream_t *st, const char *path,
				 uint64_t *events, binlog_err_t *err)
{
	cdc_file_t *f;
	const uint8_t *p;
	uint32_t n;
	uint64_t off;
	binlog_event_t ev;
	binlog_errcode_t rc = BINLOG_OK;
	int r;

	f = cdc_file_open(path, err);
	if (!f)
		return err ? err->code : BINLOG_E_IO;
	binlog_decoder_reset(dec);
	binlog_decoder_set_source(dec, cdc_file_path(f));
	cdc_stream_set_file(st, cdc_file_name(f));
	while ((r = cdc_file_next(f, dec, &p, &n, &off, err)) > 0) {
		if ((rc = binlog_decoder_feed(dec, p, n, off, err)) != BINLOG_OK)
			goto out;
		while ((r = binlog_decoder_next(dec, &ev, err)) > 0) {
			if (events)
				(*events)++;
			if ((rc = cdc_stream_event(st, &ev, err)) != BINLOG_OK)
				goto out;
		}
		if (r < 0) {
			rc = err ? err->code : BINLOG_E_BAD_EVENT;
			goto out;
		}
	}
	if (r < 0)
		rc = err ? err->code : BINLOG_E_IO;
out:
	cdc_file_close(f);
	return rc;
}

/* --include / --exclude: shell patterns on "db.table"; the last pattern
 * that matches decides, and with any --include a table must match one. */
typedef struct table_patterns {
	const char **pat;
	uint8_t *include;
	int n;
	int any_include;
} table_patterns_t;

static int pattern_filter(void *ctx, const char *qualified)
{
	const table_patterns_t *tp = ctx;
	int verdict = !tp->any_include;

	for (int i = 0; i < tp->n; i++)
		if (fnmatch(tp->pat[i], qualified, 0) == 0)
			verdict = tp->include[i];
	return verdict;
}

static void usage(FILE *out)
{
	fputs("usage: sluice decode [OPTIONS] BINLOG...\n"
	      "\n"
	      "Decode binlog files (MySQL 5.5 to 9.x, MariaDB 10.x/11.x; plain or .gz)\n"
	      "into changelog-json records, one line per row change, in order.\n"
	      "Several files are one stream: give them in binlog order.\n"
	      "\n"
	      "  --stats               counts on standard error at the end\n"
	      "  --no-verify-checksum  do not check CRC32 event checksums\n"
	      "  -o, --output FILE     write records to FILE instead of standard output\n"
	      "  --include PATTERN     capture only tables whose db.table matches (shell\n"
	      "                        pattern, e.g. 'shop.order_*'); repeatable\n"
	      "  --exclude PATTERN     do not capture tables that match; repeatable.\n"
	      "                        The last matching --include/--exclude decides.\n",
	      out);
}

int cdc_decode_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"stats", no_argument, NULL, 's'},
		{"no-verify-checksum", no_argument, NULL, 'C'},
		{"output", required_argument, NULL, 'o'},
		{"include", required_argument, NULL, 'i'},
		{"exclude", required_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	binlog_opts_t bo;
	binlog_decoder_t *dec = NULL;
	cdc_stream_t st;
	sink_t *sink = NULL;
	binlog_err_t err = {0};
	binlog_errcode_t rc = BINLOG_OK;
	const char *output = NULL;
	int stats = 0, c, fd = -1, status = 1, stream_ok = 0;
	uint64_t events = 0;
	table_patterns_t tp = {0};

	binlog_opts_default(&bo);
	tp.pat = calloc((size_t)argc, sizeof(*tp.pat));
	tp.include = calloc((size_t)argc, 1);
	if (!tp.pat || !tp.include) {
		fprintf(stderr, "sluice decode: out of memory\n");
		free(tp.pat);
		free(tp.include);
		return 1;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			stats = 1;
			break;
		case 'C':
			bo.verify_checksum = 0;
			break;
		case 'o':
			output = optarg;
			break;
		case 'i':
		case 'x':
			tp.pat[tp.n] = optarg;
			tp.include[tp.n++] = c == 'i';
			tp.any_include |= c == 'i';
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
	if (optind >= argc) {
		usage(stderr);
		status = 2;
		goto out;
	}
	fd = STDOUT_FILENO;
	if (output) {
		fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "sluice decode: %s: %s\n", output, strerror(errno));
			goto out;
		}
	}
	dec = binlog_decoder_new(&bo);
	sink = sink_file_new(fd, output != NULL);
	if (!dec || !sink || cdc_stream_init(&st, sink) != BINLOG_OK) {
		fprintf(stderr, "sluice decode: out of memory\n");
		goto out;
	}
	stream_ok = 1;
	if (tp.n) {
		st.filter = pattern_filter;
		st.filter_ctx = &tp;
	}
	for (int i = optind; i < argc; i++) {
		rc = cdc_decode_file(dec, &st, argv[i], &events, &err);
		if (rc != BINLOG_OK)
			break;
	}
	/* Whatever was decoded before an error is written out first. */
	{
		binlog_err_t ferr = {0};
		if (sink_flush(sink, &ferr) != BINLOG_OK) {
			fprintf(stderr, "sluice decode: output: %s\n", ferr.msg);
			goto out;
		}
	}
	if (rc != BINLOG_OK) {
		fprintf(stderr, "sluice decode: %s: %s\n", binlog_errname(rc), err.msg);
	} else {
		status = 0;
	}
	if (st.stats.statement_changes)
		fprintf(stderr,
			"sluice decode: warning: %llu data changes were logged as SQL statements "
			"(binlog_format=STATEMENT or MIXED) and are not in the output; capture "
			"needs binlog_format=ROW\n",
			(unsigned long long)st.stats.statement_changes);
	if (stats) {
		const binlog_stats_t *bs = binlog_decoder_stats(dec);
		fprintf(stderr,
			"events %llu (ignored %llu), transactions %llu, records %llu "
			"(insert %llu, update %llu, delete %llu), statements %llu, bytes %llu, "
			"skipped rows events %llu, borrowed sequences %llu, "
			"replaced text bytes %llu\n",
			(unsigned long long)events, (unsigned long long)bs->ignored,
			(unsigned long long)st.stats.transactions,
			(unsigned long long)st.stats.records, (unsigned long long)st.stats.inserts,
			(unsigned long long)st.stats.updates, (unsigned long long)st.stats.deletes,
			(unsigned long long)st.stats.ddl, (unsigned long long)bs->bytes,
			(unsigned long long)st.stats.skipped_events,
			(unsigned long long)st.seq.borrowed, (unsigned long long)st.w.invalid_text);
	}
out:
	if (stream_ok)
		cdc_stream_free(&st);
	sink_close(sink);
	binlog_decoder_free(dec);
	if (output && fd >= 0)
		close(fd);
	free(tp.pat);
	free(tp.include);
	return status;
}
