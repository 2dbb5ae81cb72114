/*
 * cdc_snapshot_cmd.c: `sluice snapshot`, asking a running pipeline to
 * backfill tables (docs/SNAPSHOT.md), and showing its snapshot progress.
 *
 * The request is a small JSON file written atomically into the
 * pipeline's state directory (NAME.requests/); `sluice run` picks it up
 * within a second, keeps it in its checkpoint while the tables are read,
 * and removes the file once a checkpoint after the last row is stored. A
 * request it cannot do is renamed *.rejected, and its log says why.
 */
#include "cdc_snapshot_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cdc_config.h"
#include "cdc_filter.h"
#include "cdc_fs.h"

static void usage(FILE *out)
{
	fputs("usage: sluice snapshot -c FILE [SOURCE] --tables REGEX[,REGEX...] [--where SQL]\n"
	      "                       [--wait]\n"
	      "       sluice snapshot -c FILE --status\n"
	      "\n"
	      "Ask the pipeline in FILE (running, or when it next starts) to read the\n"
	      "chosen tables again while it goes on streaming: a backfill. Its rows carry\n"
	      "the sequence of the point of the stream where they are emitted, so they\n"
	      "repair a downstream copy without overriding a later change\n"
	      "(docs/SNAPSHOT.md).\n"
	      "\n"
	      "  -c, --config FILE  the pipeline\n"
	      "  SOURCE             must be the pipeline's source name, when given\n"
	      "  -t, --tables LIST  regexes on db.table (anchored), among the captured tables\n"
	      "  -w, --where SQL    only the rows this condition selects (a key range)\n"
	      "      --wait         wait until the pipeline has done it, showing progress\n"
	      "      --status       print the pipeline's status file (snapshot progress)\n",
	      out);
}

static int print_status(const char *path)
{
	binlog_buf_t b;
	binlog_err_t err = {0};
	int missing = 0;

	binlog_buf_init(&b, 0);
	if (cdc_read_file(path, 1 << 20, &b, &missing, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice snapshot: %s\n", err.msg);
		binlog_buf_free(&b);
		return 1;
	}
	if (missing) {
		fprintf(stderr,
			"sluice snapshot: %s does not exist: the pipeline has not run a "
			"snapshot since it started\n",
			path);
		binlog_buf_free(&b);
		return 1;
	}
	fwrite(b.data, 1, b.len, stdout);
	binlog_buf_free(&b);
	return 0;
}

/* Is the pipeline running (its lock taken)? */
static int running(const char *lock_path)
{
	int fd = open(lock_path, O_RDWR | O_CLOEXEC);
	int busy = 0;

	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		busy = errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

int cdc_snapshot_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"tables", required_argument, NULL, 't'},
		{"where", required_argument, NULL, 'w'},
		{"wait", no_argument, NULL, 'W'},
		{"status", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cfg_path = NULL, *tables = NULL, *where = NULL, *source = NULL;
	int wait = 0, status = 0, c, rc = 1;
	cdc_config_t cfg;
	binlog_err_t err = {0};
	char dir[PATH_MAX], path[PATH_MAX + 64], lock[PATH_MAX], stat_path[PATH_MAX];
	cdc_source_conf_t sc;
	cdc_filter_t *f = NULL;
	json_t *root = NULL, *list;
	char *text = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:t:w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg_path = optarg;
			break;
		case 't':
			tables = optarg;
			break;
		case 'w':
			where = optarg;
			break;
		case 'W':
			wait = 1;
			break;
		case 's':
			status = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		source = argv[optind++];
	if (!cfg_path || optind != argc || (!status && !tables) || (status && tables)) {
		usage(stderr);
		return 2;
	}
	cdc_config_init(&cfg);
	if (cdc_config_load(cfg_path, &cfg, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice snapshot: %s\n", err.msg);
		goto out;
	}
	if (source && strcmp(source, cfg.source.name) != 0) {
		fprintf(stderr, "sluice snapshot: %s is the pipeline of source '%s', not '%s'\n",
			cfg_path, cfg.source.name, source);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/%s.requests", cfg.pipeline.state_dir, cfg.pipeline.name);
	snprintf(lock, sizeof(lock), "%s/%s.lock", cfg.pipeline.state_dir, cfg.pipeline.name);
	snprintf(stat_path, sizeof(stat_path), "%s/%s.status.json", cfg.pipeline.state_dir,
		 cfg.pipeline.name);
	if (status) {
		rc = print_status(stat_path);
		goto out;
	}
	if (where && (strchr(where, ';') || strstr(where, "--") || strstr(where, "/*"))) {
		fprintf(stderr, "sluice snapshot: --where: one condition, without ';' or "
				"comments\n");
		goto out;
	}

	/* The regexes must compile: the pipeline would reject them later. */
	memset(&sc, 0, sizeof(sc));
	root = json_object();
	list = json_array();
	{
		char *copy = strdup(tables), *save = NULL;
		size_t n = 0;
		sc.tables.v = calloc(strlen(tables) + 1, sizeof(char *));
		for (char *tok = strtok_r(copy, ",", &save); tok && sc.tables.v;
		     tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			if (*tok) {
				sc.tables.v[n++] = tok;
				json_array_append_new(list, json_string(tok));
			}
		}
		sc.tables.n = n;
		if (cdc_filter_new(&sc, &f, &err) != BINLOG_OK) {
			fprintf(stderr, "sluice snapshot: --tables: %s\n", err.msg);
			free(copy);
			free(sc.tables.v);
			goto out;
		}
		free(copy);
		free(sc.tables.v);
		if (!n) {
			fprintf(stderr, "sluice snapshot: --tables names no table\n");
			goto out;
		}
	}
	json_object_set_new(root, "tables", list);
	if (where && *where)
		json_object_set_new(root, "where", json_string(where));
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		json_object_set_new(
			root, "requested_ms",
			json_integer((json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
		snprintf(path, sizeof(path), "%s/%lld-%ld.json", dir,
			 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, (long)getpid());
	}
	text = json_dumps(root, JSON_COMPACT);
	if (!text || cdc_mkdirs(dir, 0755, &err) != BINLOG_OK ||
	    cdc_write_atomic(path, text, strlen(text), CDC_WRITE_EXCLUSIVE, 1, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice snapshot: %s\n", text ? err.msg : "out of memory");
		goto out;
	}
	printf("requested: %s\n", path);
	if (!running(lock))
		printf("the pipeline is not running: it takes the request when it starts\n");
	rc = 0;
	if (wait) {
		char rejected[PATH_MAX + 80];
		int64_t last = 0;
		snprintf(rejected, sizeof(rejected), "%s.rejected", path);
		for (;;) {
			struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000L};
			if (access(rejected, F_OK) == 0) {
				fprintf(stderr,
					"sluice snapshot: the pipeline rejected the request (its "
					"log says why)\n");
				rc = 1;
				break;
			}
			if (access(path, F_OK) != 0) {
				printf("done\n");
				break;
			}
			nanosleep(&ts, NULL);
			if (++last % 25 == 0)
				(void)print_status(stat_path);
		}
	}
out:
	free(text);
	json_decref(root);
	cdc_filter_free(f);
	cdc_config_free(&cfg);
	return rc;
}
