/*
 * bench_latency.c: commit-to-emit latency of `sluice run` at a steady load
 * (tests/bench/live.sh, docs/BENCHMARKS.md).
 *
 *   bench_latency SOCKET TABLE ROWS RATE -- SLUICE-COMMAND...
 *
 * Starts the sluice command with its standard output on a pipe, waits for
 * it to connect (the first record, of a row inserted for that), then
 * inserts ROWS rows one autocommit INSERT each, RATE a second, into TABLE
 * (id INT PRIMARY KEY, v VARCHAR(64)). A reader thread stamps each record
 * line with the time it was read. The latency of a row is from just
 * before its INSERT was sent to the moment its record was read: the
 * commit itself is inside it, so this is an upper bound. Prints the
 * count, p50, p90, p99 and max in microseconds.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t *sent, *seen;
static long rows;
static volatile long seen_count;
static FILE *from_sluice;

/* Each record line: find "id":N in its data. */
static void *reader(void *arg)
{
	char *line = NULL;
	size_t cap = 0;

	(void)arg;
	while (getline(&line, &cap, from_sluice) > 0) {
		int64_t t = now_ns();
		char *p = strstr(line, "\"data\":{\"id\":");
		long id;
		if (!p || !strstr(line, "\"op\":\"+I\""))
			continue;
		id = strtol(p + 13, NULL, 10);
		if (id >= 0 && id <= rows && !seen[id]) {
			seen[id] = t;
			__atomic_add_fetch(&seen_count, 1, __ATOMIC_RELAXED);
		}
	}
	free(line);
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	MYSQL *m;
	char q[256];
	int fd[2];
	pid_t pid;
	pthread_t th;
	double rate;
	int64_t t0, *lat;
	long n = 0;

	if (argc < 7 || strcmp(argv[5], "--") != 0) {
		fprintf(stderr, "usage: %s SOCKET TABLE ROWS RATE -- SLUICE-COMMAND...\n", argv[0]);
		return 2;
	}
	rows = strtol(argv[3], NULL, 10);
	rate = strtod(argv[4], NULL);
	sent = calloc((size_t)rows + 1, sizeof(*sent));
	seen = calloc((size_t)rows + 1, sizeof(*seen));
	lat = calloc((size_t)rows, sizeof(*lat));
	if (!sent || !seen || !lat || rows <= 0 || rate <= 0)
		return 2;

	m = mysql_init(NULL);
	if (!mysql_real_connect(m, NULL, "root", NULL, NULL, 0, argv[1], 0)) {
		fprintf(stderr, "connect: %s\n", mysql_error(m));
		return 1;
	}
	if (pipe(fd) != 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		close(fd[0]);
		close(fd[1]);
		execvp(argv[6], argv + 6);
		_exit(127);
	}
	close(fd[1]);
	from_sluice = fdopen(fd[0], "r");
	pthread_create(&th, NULL, reader, NULL);

	/* Row 0 tells that sluice is connected and following. */
	snprintf(q, sizeof(q), "INSERT INTO %s VALUES (0, 'ready')", argv[2]);
	if (mysql_query(m, q)) {
		fprintf(stderr, "insert: %s\n", mysql_error(m));
		return 1;
	}
	for (int k = 0; !seen[0]; k++) {
		if (k > 3000) {
			fprintf(stderr, "sluice emitted nothing in 30 s\n");
			kill(pid, SIGKILL);
			return 1;
		}
		usleep(10000);
	}

	t0 = now_ns();
	for (long id = 1; id <= rows; id++) {
		int64_t due = t0 + (int64_t)((double)(id - 1) * 1e9 / rate), t;
		while ((t = now_ns()) < due) {
			struct timespec ts = {0, due - t > 1000000 ? 1000000 : due - t};
			nanosleep(&ts, NULL);
		}
		snprintf(q, sizeof(q), "INSERT INTO %s VALUES (%ld, 'row %ld')", argv[2], id, id);
		sent[id] = now_ns();
		if (mysql_query(m, q)) {
			fprintf(stderr, "insert %ld: %s\n", id, mysql_error(m));
			return 1;
		}
	}
	for (int k = 0; seen_count < rows + 1 && k < 3000; k++)
		usleep(10000);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	pthread_join(th, NULL);
	mysql_close(m);

	for (long id = 1; id <= rows; id++)
		if (seen[id])
			lat[n++] = (seen[id] - sent[id]) / 1000;
	if (n < rows) {
		fprintf(stderr, "%ld of %ld rows never came out of sluice\n", rows - n, rows);
		return 1;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp64);
	printf("rows %ld rate %.0f/s achieved %.0f/s p50_us %lld p90_us %lld p99_us %lld "
	       "max_us %lld\n",
	       n, rate, (double)rows * 1e9 / (double)(sent[rows] - t0 + 1), (long long)lat[n / 2],
	       (long long)lat[n * 9 / 10], (long long)lat[n * 99 / 100], (long long)lat[n - 1]);
	return 0;
}
