/*
 * sluice_broker.c: sluice-broker, a local, in-memory, NON-DURABLE Kafka for
 * trying sluice out and for tests. Never a production broker.
 *
 * It is librdkafka's mock cluster (rdkafka_mock.h) behind a command line: N
 * brokers listening on 127.0.0.1, topics created up front, and a line-based
 * control channel (stdin, or a FIFO) through which a test takes brokers down,
 * moves leaders and injects request errors. Messages live in this process's
 * memory only and are gone when it exits. The mock also keeps only the newest
 * ~5 MiB or 100000 batches of each partition, replicates nothing (replicas
 * and ISR are reported, not real), and in librdkafka 2.0.2 does not filter
 * aborted transactions for read_committed consumers. Good enough to exercise
 * sluice's Kafka sink, nothing more.
 *
 * Threads: main reads commands and calls the mock API, which either takes the
 * cluster's lock or hands the call to the mock cluster's thread and waits for
 * the answer. SIGINT and SIGTERM stay blocked everywhere except inside main's
 * ppoll(), so they always land there.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define LINE_MAX_BYTES 4096 /* a longer command line is refused, not realloc'd */
#define ARGS_MAX       6    /* words in the longest command */
#define COUNT_MAX      10000
#define PARTITIONS_MAX 10000
#define BROKERS_MAX    64
#define RTT_MAX_MS     3600000

static const char banner[] =
	"sluice-broker: IN-MEMORY, NON-DURABLE Kafka (librdkafka mock cluster) for trying\n"
	"sluice-broker: sluice out and for tests. NEVER a production broker: every message\n"
	"sluice-broker: is lost when it exits.\n";

static void usage(FILE *out)
{
	fputs("usage: sluice-broker [--brokers N] [--partitions N] [--topic NAME[:PARTITIONS]]...\n"
	      "                     [--bootstrap-file PATH] [--control PATH] [--help]\n"
	      "\n"
	      "A local, in-memory, NON-DURABLE Kafka for trying sluice out and for tests, built\n"
	      "on librdkafka's mock cluster. Never a production broker: messages live in this\n"
	      "process's memory only and are lost on exit, each partition keeps only its newest\n"
	      "~5 MiB or 100000 batches, nothing is replicated, and aborted transactions are\n"
	      "not filtered for read_committed consumers.\n"
	      "\n"
	      "  --brokers N            mock brokers, ids 1..N (default 3)\n"
	      "  --partitions N         partitions of topics created without a count (default 8)\n"
	      "  --topic NAME[:PARTS]   create a topic before starting; repeatable\n"
	      "  --bootstrap-file PATH  also write the bootstrap list to PATH, atomically\n"
	      "  --control PATH         read commands from the FIFO PATH instead of stdin,\n"
	      "                         reopening it at EOF so writers can take turns\n"
	      "\n"
	      "Topics get replication factor min(3, brokers). Create them with --topic or the\n"
	      "`topic` command before clients use them: the mock creates any other topic a\n"
	      "client asks for with 4 partitions, and librdkafka 2.0.2 has no setting to change\n"
	      "that. `topic-error` on an unknown topic creates it the same way; `leader` with\n"
	      "PARTITION+1 partitions.\n"
	      "\n"
	      "Once the cluster is up, one line `bootstrap.servers=HOST:PORT,...` goes to stdout.\n"
	      "Then commands, one per line, each answered on stdout by `ok` or `error: ...`:\n"
	      "  topic NAME [PARTITIONS]      create a topic\n"
	      "  down ID | up ID              close broker ID's connections and listener, or\n"
	      "                               listen again (ID -1: all); leaders do not move\n"
	      "  leader TOPIC PARTITION ID    make broker ID the leader (ID -1: none)\n"
	      "  errors API COUNT ERR         fail the next COUNT API requests with ERR\n"
	      "  broker-errors ID API COUNT ERR [RTT_MS]\n"
	      "                               the same on broker ID only, answering after RTT_MS\n"
	      "  rtt ID MS                    delay broker ID's responses by MS (ID -1: all)\n"
	      "  topic-error TOPIC ERR        Metadata and AddPartitionsToTxn report ERR for\n"
	      "                               TOPIC; NO_ERROR clears it\n"
	      "  clear API                    drop the errors `errors` queued for API\n"
	      "  quit                         exit\n"
	      "API is a name (Produce, Fetch, Metadata, InitProducerId, EndTxn, ...) or api key.\n"
	      "ERR is a Kafka error name (NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT, ...) or\n"
	      "code; _TRANSPORT makes the broker drop the connection. Blank lines and lines\n"
	      "starting with # are ignored. After EOF on stdin (or if the FIFO cannot be\n"
	      "reopened) the broker runs on, without commands, until SIGINT or SIGTERM.\n",
	      out);
}

struct broker {
	rd_kafka_t *rk; /* only the mock's bookkeeping handle; it connects nowhere */
	rd_kafka_mock_cluster_t *mcluster;
	long broker_cnt;
	long partitions;
	int quit;
	char err[512]; /* why the last command failed */
};

/* Kafka protocol api keys. librdkafka's RD_KAFKAP_* names are internal
 * (rdkafka_proto.h), so the numbers are spelled out here. */
static const struct {
	const char *name;
	int16_t key;
} apis[] = {
	{"Produce", 0},          {"Fetch", 1},
	{"ListOffsets", 2},      {"Metadata", 3},
	{"OffsetCommit", 8},     {"OffsetFetch", 9},
	{"FindCoordinator", 10}, {"JoinGroup", 11},
	{"Heartbeat", 12},       {"LeaveGroup", 13},
	{"SyncGroup", 14},       {"ApiVersions", 18},
	{"InitProducerId", 22},  {"AddPartitionsToTxn", 24},
	{"AddOffsetsToTxn", 25}, {"EndTxn", 26},
	{"TxnOffsetCommit", 28},
};

static int fail(struct broker *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why a command failed; returns -1 so handlers can `return fail()`. */
static int fail(struct broker *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* A whole-string base-10 integer within [min, max]; 0 on success. */
static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int arg_long(struct broker *b, const char *what, const char *s, long min, long max,
		    long *out)
{
	if (parse_long(s, min, max, out) != 0)
		return fail(b, "%s '%.64s' is not %ld..%ld", what, s, min, max);
	return 0;
}

/* A broker id 1..N, or -1 where the mock call takes it (all, or no leader). */
static int arg_broker(struct broker *b, const char *s, const char *minus_one, long *id)
{
	if (parse_long(s, minus_one ? -1 : 1, b->broker_cnt, id) != 0 || *id == 0)
		return fail(b, "broker id '%.64s' is not 1..%ld%s%s", s, b->broker_cnt,
			    minus_one ? " or -1 " : "", minus_one ? minus_one : "");
	return 0;
}

/* Kafka's rule (1..249 of [A-Za-z0-9._-], not . or ..): the mock takes any
 * string, and a typo is better caught here than by a client. */
static int arg_topic(struct broker *b, const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

	if (n == 0 || n > 249 || s[n] != '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return fail(b, "bad topic name '%.64s': want 1..249 of [A-Za-z0-9._-], not . or ..",
			    s);
	return 0;
}

static int arg_api(struct broker *b, const char *s, int16_t *key)
{
	long v;

	for (size_t i = 0; i < sizeof(apis) / sizeof(apis[0]); i++) {
		if (strcasecmp(s, apis[i].name) == 0) {
			*key = apis[i].key;
			return 0;
		}
	}
	if (parse_long(s, 0, INT16_MAX, &v) != 0)
		return fail(b,
			    "unknown API '%.64s': want an api key 0..32767 or one of Produce, "
			    "Fetch, ListOffsets, Metadata, OffsetCommit, OffsetFetch, "
			    "FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup, "
			    "ApiVersions, InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, "
			    "EndTxn, TxnOffsetCommit",
			    s);
	*key = (int16_t)v;
	return 0;
}

/* librdkafka's table names errors without the RD_KAFKA_RESP_ERR_ prefix
 * ("NOT_LEADER_FOR_PARTITION", "_TRANSPORT"); take that, the prefixed form,
 * Kafka's newer name for error 6, or a code the table knows. */
static int arg_err(struct broker *b, const char *s, rd_kafka_resp_err_t *code)
{
	static const char prefix[] = "RD_KAFKA_RESP_ERR_";
	const struct rd_kafka_err_desc *descs;
	const char *name = s;
	size_t n;
	long v;
	int by_code = parse_long(s, INT_MIN, INT_MAX, &v) == 0;

	if (strncasecmp(name, prefix, sizeof(prefix) - 1) == 0)
		name += sizeof(prefix) - 1;
	if (strcasecmp(name, "NOT_LEADER_OR_FOLLOWER") == 0) {
		*code = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
		return 0;
	}
	rd_kafka_get_err_descs(&descs, &n);
	for (size_t i = 0; i < n; i++) {
		if (descs[i].name != NULL &&
		    (by_code ? descs[i].code == v : strcasecmp(name, descs[i].name) == 0)) {
			*code = descs[i].code;
			return 0;
		}
	}
	return fail(b,
		    "unknown error '%.64s': want a Kafka error name such as "
		    "NOT_LEADER_FOR_PARTITION or REQUEST_TIMED_OUT, or its code",
		    s);
}

static int mock_result(struct broker *b, rd_kafka_resp_err_t e)
{
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		return fail(b, "%s (%s)", rd_kafka_err2str(e), rd_kafka_err2name(e));
	return 0;
}

static int topic_create(struct broker *b, const char *name, long partitions)
{
	int rf = b->broker_cnt < 3 ? (int)b->broker_cnt : 3;

	if (arg_topic(b, name) != 0)
		return -1;
	return mock_result(b, rd_kafka_mock_topic_create(b->mcluster, name, (int)partitions, rf));
}

/* Command handlers: argv[0] is the command, argv is NULL-terminated, and the
 * word count is already checked against the table below. */
static int cmd_topic(struct broker *b, char **argv)
{
	long parts = b->partitions;

	if (argv[2] != NULL && arg_long(b, "PARTITIONS", argv[2], 1, PARTITIONS_MAX, &parts) != 0)
		return -1;
	return topic_create(b, argv[1], parts);
}

static int cmd_down_up(struct broker *b, char **argv)
{
	long id = 0;

	if (arg_broker(b, argv[1], "(all)", &id) != 0)
		return -1;
	if (strcmp(argv[0], "down") == 0)
		return mock_result(b, rd_kafka_mock_broker_set_down(b->mcluster, (int32_t)id));
	return mock_result(b, rd_kafka_mock_broker_set_up(b->mcluster, (int32_t)id));
}

static int cmd_leader(struct broker *b, char **argv)
{
	long part = 0, id = 0;

	if (arg_topic(b, argv[1]) != 0 ||
	    arg_long(b, "PARTITION", argv[2], 0, PARTITIONS_MAX - 1, &part) != 0 ||
	    arg_broker(b, argv[3], "(no leader)", &id) != 0)
		return -1;
	return mock_result(b, rd_kafka_mock_partition_set_leader(b->mcluster, argv[1],
								 (int32_t)part, (int32_t)id));
}

static int cmd_errors(struct broker *b, char **argv)
{
	rd_kafka_resp_err_t code, *codes;
	int16_t key = 0;
	long cnt = 0;

	if (arg_api(b, argv[1], &key) != 0 ||
	    arg_long(b, "COUNT", argv[2], 1, COUNT_MAX, &cnt) != 0 ||
	    arg_err(b, argv[3], &code) != 0)
		return -1;
	if ((codes = calloc((size_t)cnt, sizeof(*codes))) == NULL)
		return fail(b, "out of memory");
	for (long i = 0; i < cnt; i++)
		codes[i] = code;
	rd_kafka_mock_push_request_errors_array(b->mcluster, key, (size_t)cnt, codes);
	free(codes);
	return 0;
}

static int cmd_broker_errors(struct broker *b, char **argv)
{
	rd_kafka_resp_err_t code;
	int16_t key = 0;
	long id = 0, cnt = 0, rtt = 0;

	if (arg_broker(b, argv[1], NULL, &id) != 0 || arg_api(b, argv[2], &key) != 0 ||
	    arg_long(b, "COUNT", argv[3], 1, COUNT_MAX, &cnt) != 0 ||
	    arg_err(b, argv[4], &code) != 0 ||
	    (argv[5] != NULL && arg_long(b, "RTT_MS", argv[5], 0, RTT_MAX_MS, &rtt) != 0))
		return -1;
	/* Only a varargs form exists; one (err, rtt) per call stacks up the same. */
	for (long i = 0; i < cnt; i++) {
		if (mock_result(b, rd_kafka_mock_broker_push_request_error_rtts(
					   b->mcluster, (int32_t)id, key, 1, code, (int)rtt)) != 0)
			return -1;
	}
	return 0;
}

static int cmd_rtt(struct broker *b, char **argv)
{
	long id = 0, ms = 0;

	if (arg_broker(b, argv[1], "(all)", &id) != 0 ||
	    arg_long(b, "MS", argv[2], 0, RTT_MAX_MS, &ms) != 0)
		return -1;
	return mock_result(b, rd_kafka_mock_broker_set_rtt(b->mcluster, (int32_t)id, (int)ms));
}

static int cmd_topic_error(struct broker *b, char **argv)
{
	rd_kafka_resp_err_t code;

	if (arg_topic(b, argv[1]) != 0 || arg_err(b, argv[2], &code) != 0)
		return -1;
	rd_kafka_mock_topic_set_error(b->mcluster, argv[1], code);
	return 0;
}

static int cmd_clear(struct broker *b, char **argv)
{
	int16_t key = 0;

	if (arg_api(b, argv[1], &key) != 0)
		return -1;
	rd_kafka_mock_clear_request_errors(b->mcluster, key);
	return 0;
}

static int cmd_quit(struct broker *b, char **argv)
{
	(void)argv;
	b->quit = 1;
	return 0;
}

static const struct command {
	const char *name;
	int min_args, max_args; /* words after the name */
	int (*run)(struct broker *b, char **argv);
	const char *usage;
} commands[] = {
	{"topic", 1, 2, cmd_topic, "topic NAME [PARTITIONS]"},
	{"down", 1, 1, cmd_down_up, "down ID"},
	{"up", 1, 1, cmd_down_up, "up ID"},
	{"leader", 3, 3, cmd_leader, "leader TOPIC PARTITION ID"},
	{"errors", 3, 3, cmd_errors, "errors API COUNT ERR"},
	{"broker-errors", 4, 5, cmd_broker_errors, "broker-errors ID API COUNT ERR [RTT_MS]"},
	{"rtt", 2, 2, cmd_rtt, "rtt ID MS"},
	{"topic-error", 2, 2, cmd_topic_error, "topic-error TOPIC ERR"},
	{"clear", 1, 1, cmd_clear, "clear API"},
	{"quit", 0, 0, cmd_quit, "quit"},
};

/* Most mock calls are ops handed to the cluster thread. In librdkafka 2.0.2
 * one sent within microseconds of the previous answer often loses its wakeup
 * and waits out the thread's 1 s poll: 49 of 300 back-to-back
 * rd_kafka_mock_broker_set_rtt() calls did, none with 100 us between them.
 * So commands piped in a burst are spaced by at least 1 ms. */
static struct timespec last_answer;

static void mock_pace(void)
{
	struct timespec now, wait = {0, 0};
	long gap_ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	gap_ns = (now.tv_sec - last_answer.tv_sec) * 1000000000L +
		 (now.tv_nsec - last_answer.tv_nsec);
	if (gap_ns >= 0 && gap_ns < 1000000) {
		wait.tv_nsec = 1000000 - gap_ns;
		nanosleep(&wait, NULL);
	}
}

/* Runs one command line (NUL-terminated, no newline) and answers it with
 * one flushed line, which is what a test waits for. */
static void command_run(struct broker *b, char *line)
{
	char *argv[ARGS_MAX + 2]; /* one word too many, to refuse; then NULL */
	const struct command *cmd = NULL;
	int argc = 0;

	for (char *p = line + strspn(line, " \t\r"); *p != '\0' && argc <= ARGS_MAX;
	     p += strspn(p, " \t\r")) {
		argv[argc++] = p;
		p += strcspn(p, " \t\r");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (argc == 0 || argv[0][0] == '#')
		return;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	}
	if (cmd == NULL) {
		printf("error: unknown command '%.64s': want topic, down, up, leader, errors, "
		       "broker-errors, rtt, topic-error, clear or quit\n",
		       argv[0]);
	} else if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
		printf("error: %s: wrong number of arguments, want: %s\n", cmd->name, cmd->usage);
	} else {
		argv[argc] = NULL;
		mock_pace();
		if (cmd->run(b, argv) != 0)
			printf("error: %s: %s (usage: %s)\n", cmd->name, b->err, cmd->usage);
		else
			puts("ok");
		clock_gettime(CLOCK_MONOTONIC, &last_answer);
	}
	fflush(stdout);
}

/* Readers of path see the old file or the whole new one, never a part. */
static int write_file_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	size_t len = strlen(text), off = 0;
	int fd, ok = 0, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Next to path, so that the rename stays within one file system. */
	if ((fd = mkstemp(tmp)) < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno != EINTR)
			break;
		off += w > 0 ? (size_t)w : 0;
	}
	ok = off == len && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
	saved = errno;
	if (close(fd) != 0 && ok) {
		saved = errno;
		ok = 0;
	}
	if (ok && rename(tmp, path) == 0)
		return 0;
	if (ok)
		saved = errno;
	unlink(tmp);
	errno = saved;
	return -1;
}

/* O_NONBLOCK so that waiting for a writer happens in ppoll, where signals
 * get through, not in open(). Linux reports no POLLHUP on a fresh FIFO until
 * a writer has come and gone, so an idle FIFO does not spin. A regular file
 * would: at EOF it is reopened at once, hence the S_ISFIFO check. */
static int control_open(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISFIFO(st.st_mode)) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0)
		fprintf(stderr, "sluice-broker: control %s: %s\n", path,
			errno == EINVAL ? "not a FIFO (make one with mkfifo)" : strerror(errno));
	return fd;
}

struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
	const char *bad; /* why the line in progress will be refused, or NULL */
};

/* Adds one input byte; a newline runs the command collected so far. */
static void line_feed(struct broker *b, struct line *l, char c)
{
	if (c != '\n') {
		if (l->bad != NULL)
			return;
		if (c == '\0')
			l->bad = "NUL byte in line";
		else if (l->len == sizeof(l->buf) - 1)
			l->bad = "line longer than 4095 bytes";
		else
			l->buf[l->len++] = c;
		return;
	}
	l->buf[l->len] = '\0';
	if (l->bad != NULL) {
		printf("error: %s, ignored\n", l->bad);
		fflush(stdout);
	} else {
		command_run(b, l->buf);
	}
	l->len = 0;
	l->bad = NULL;
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* Reads commands from fd (the FIFO control, or stdin when control is NULL)
 * until quit or a signal. Takes fd and closes it. */
static void serve(struct broker *b, int fd, const char *control, const sigset_t *waitmask)
{
	static struct line l;

	while (!b->quit && !stop_signal) {
		/* fd -1 (input gone): poll skips it, and only a signal ends the wait. */
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		char buf[4096];
		ssize_t n;

		if (ppoll(&pfd, 1, NULL, waitmask) < 0 || pfd.revents == 0)
			continue; /* EINTR: the loop condition looks at stop_signal */
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			fprintf(stderr, "sluice-broker: reading commands: %s\n", strerror(errno));
		for (ssize_t i = 0; i < n && !b->quit; i++)
			line_feed(b, &l, buf[i]);
		if (n > 0)
			continue;
		/* EOF ends the line in progress, so `printf quit > fifo` works. */
		line_feed(b, &l, '\n');
		if (fd != STDIN_FILENO)
			close(fd);
		fd = control != NULL && n == 0 ? control_open(control) : -1;
	}
	if (fd > STDIN_FILENO)
		close(fd);
}

struct topic_opt {
	const char *arg; /* NAME[:PARTITIONS] as given */
	char *name;      /* owned copy of NAME, so argv (and ps) stays as given */
	long parts;
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"brokers", required_argument, NULL, 'b'},
		{"partitions", required_argument, NULL, 'p'},
		{"topic", required_argument, NULL, 't'},
		{"bootstrap-file", required_argument, NULL, 'f'},
		{"control", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct broker b = {.broker_cnt = 3, .partitions = 8};
	const char *bootstrap_file = NULL, *control = NULL, *bootstraps;
	struct topic_opt *topics = calloc((size_t)argc, sizeof(*topics));
	char errstr[512], text[4096];
	rd_kafka_conf_t *conf;
	int ntopics = 0, opt, rc = 2, fd = STDIN_FILENO;
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: ppoll must see EINTR */
	sigset_t block, waitmask;

	if (topics == NULL)
		return 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'b' && parse_long(optarg, 1, BROKERS_MAX, &b.broker_cnt) != 0) {
			fprintf(stderr, "sluice-broker: --brokers '%s' is not 1..%d\n", optarg,
				BROKERS_MAX);
			goto out;
		} else if (opt == 'p' &&
			   parse_long(optarg, 1, PARTITIONS_MAX, &b.partitions) != 0) {
			fprintf(stderr, "sluice-broker: --partitions '%s' is not 1..%d\n", optarg,
				PARTITIONS_MAX);
			goto out;
		} else if (opt == 't') {
			topics[ntopics++].arg = optarg;
		} else if (opt == 'f') {
			bootstrap_file = optarg;
		} else if (opt == 'c') {
			control = optarg;
		} else if (opt == 'h') {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (opt == '?') {
			fputs("sluice-broker: see sluice-broker --help\n", stderr);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-broker: unexpected argument '%s'; see --help\n",
			argv[optind]);
		goto out;
	}
	/* NAME[:PARTITIONS], checked before anything starts and after the
	 * options, wherever --partitions was among them. */
	for (int i = 0; i < ntopics; i++) {
		struct topic_opt *t = &topics[i];
		const char *colon = strrchr(t->arg, ':');

		t->parts = b.partitions;
		t->name = strndup(t->arg, colon ? (size_t)(colon - t->arg) : strlen(t->arg));
		if (t->name == NULL) {
			rc = 1;
			goto out;
		}
		if ((colon != NULL &&
		     arg_long(&b, "PARTITIONS", colon + 1, 1, PARTITIONS_MAX, &t->parts) != 0) ||
		    arg_topic(&b, t->name) != 0) {
			fprintf(stderr, "sluice-broker: --topic %s: %s\n", t->arg, b.err);
			goto out;
		}
	}
	if (control != NULL && (fd = control_open(control)) < 0)
		goto out;

	fputs(banner, stderr);
	/* Blocked before librdkafka starts its threads, which inherit the mask,
	 * so that only serve()'s ppoll ever takes these signals. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = 1;
	conf = rd_kafka_conf_new();
	/* The handle connects nowhere; its notice that no bootstrap.servers
	 * is set (level 5) would only mislead. */
	rd_kafka_conf_set(conf, "log_level", "4", NULL, 0);
	rd_kafka_conf_set(conf, "client.id", "sluice-broker", NULL, 0);
	if ((b.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))) == NULL) {
		rd_kafka_conf_destroy(conf); /* still ours when rd_kafka_new fails */
		fprintf(stderr, "sluice-broker: %s\n", errstr);
		goto out;
	}
	if ((b.mcluster = rd_kafka_mock_cluster_new(b.rk, (int)b.broker_cnt)) == NULL) {
		fputs("sluice-broker: cannot create the mock cluster (see log above)\n", stderr);
		goto out;
	}
	for (int i = 0; i < ntopics; i++) {
		if (topic_create(&b, topics[i].name, topics[i].parts) != 0) {
			fprintf(stderr, "sluice-broker: --topic %s: %s\n", topics[i].arg, b.err);
			goto out;
		}
	}
	bootstraps = rd_kafka_mock_cluster_bootstraps(b.mcluster);
	if (bootstrap_file != NULL &&
	    (snprintf(text, sizeof(text), "%s\n", bootstraps) >= (int)sizeof(text) ||
	     write_file_atomic(bootstrap_file, text) != 0)) {
		fprintf(stderr, "sluice-broker: cannot write %s: %s\n", bootstrap_file,
			strerror(errno));
		goto out;
	}
	fprintf(stderr,
		"sluice-broker: %ld brokers, replication factor %ld, %ld partitions by default "
		"(4 for topics clients create)\n",
		b.broker_cnt, b.broker_cnt < 3 ? b.broker_cnt : 3, b.partitions);
	printf("bootstrap.servers=%s\n", bootstraps);
	fflush(stdout);

	serve(&b, fd, control, &waitmask);
	fd = STDIN_FILENO; /* serve() closed it */
	rc = 0;
out:
	if (fd > STDIN_FILENO)
		close(fd);
	/* The cluster first: librdkafka asserts none is left on its handle. */
	if (b.mcluster != NULL)
		rd_kafka_mock_cluster_destroy(b.mcluster);
	if (b.rk != NULL)
		rd_kafka_destroy(b.rk);
	for (int i = 0; i < ntopics; i++)
		free(topics[i].name);
	free(topics);
	return rc;
}
