/*
 * test_cdc_replay.c: what `sluice replay` reads from its command line and
 * its archive directory (cdc_replay.h): GTIDs of both flavours, ISO-8601
 * and epoch times, and the binlog files of a directory in numeric order,
 * gzipped ones included, the index and strangers left out, mixtures and
 * duplicates refused, gaps found. The replay itself is tested live
 * (tests/live_replay.sh).
 */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binlog_gtid.h"
#include "cdc_replay.h"

static void gtids(void **state)
{
	binlog_gtid_t g;
	binlog_err_t err = {0};
	char text[BINLOG_GTID_TEXT_MAX];
	static const char *const bad[] = {
		"",
		"0-1",
		"0-1-",
		"0-1-0",
		"0-1-2-3",
		"4294967296-1-5",
		"a-1-5",
		"0-1-5 ",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:0",
		"3e11fa47-71ca-11e1-9e33-c80aa942956:5",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:5-7",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:9tag:5",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562::5",
	};
	(void)state;

	assert_int_equal(cdc_replay_parse_gtid("0-1-42", &g, &err), BINLOG_OK);
	assert_int_equal(g.kind, BINLOG_GTID_MARIADB);
	assert_int_equal(g.domain, 0);
	assert_int_equal(g.server_id, 1);
	assert_int_equal(g.seq, 42);
	assert_int_equal(cdc_replay_parse_gtid("4294967295-7-18446744073709551615", &g, &err),
			 BINLOG_OK);
	assert_int_equal(g.domain, 4294967295u);
	assert_true(g.seq == UINT64_MAX);

	assert_int_equal(cdc_replay_parse_gtid("3E11FA47-71CA-11E1-9E33-C80AA9429562:23", &g, &err),
			 BINLOG_OK);
	assert_int_equal(g.kind, BINLOG_GTID_MYSQL);
	assert_int_equal(g.gno, 23);
	assert_int_equal(g.tag_len, 0);
	binlog_gtid_format(&g, text, sizeof(text));
	assert_string_equal(text, "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
	assert_int_equal(
		cdc_replay_parse_gtid("3e11fa47-71ca-11e1-9e33-c80aa9429562:My_Tag1:7", &g, &err),
		BINLOG_OK);
	assert_string_equal(g.tag, "my_tag1"); /* tags are kept in lower case */
	assert_int_equal(g.gno, 7);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cdc_replay_parse_gtid(bad[i], &g, &err) != BINLOG_E_USAGE)
			fail_msg("'%s' was taken as a GTID", bad[i]);
		assert_non_null(strstr(err.msg, bad[i]));
	}
}

static void times(void **state)
{
	int64_t ms;
	binlog_err_t err = {0};
	static const struct {
		const char *text;
		int64_t ms;
	} good[] = {
		{"0", 0},
		{"1718454896123", 1718454896123},
		{"2024-06-15", 1718409600000},
		{"2024-06-15T12:34:56Z", 1718454896000},
		{"2024-06-15 12:34:56", 1718454896000},
		{"2024-06-15T12:34", 1718454840000},
		{"2024-06-15T12:34:56.123Z", 1718454896123},
		{"2024-06-15T12:34:56.1234567Z", 1718454896123},
		{"2024-06-15T12:34:56.5", 1718454896500},
		{"2024-06-15T14:34:56+02:00", 1718454896000},
		{"2024-06-15T10:04:56-0230", 1718454896000},
		{"2024-02-29T00:00:00Z", 1709164800000},
	};
	static const char *const bad[] = {
		"",
		"now",
		"2024-6-15",
		"2024-06-15T",
		"2024-06-15T12",
		"2024-13-01",
		"2024-02-30",
		"2023-02-29",
		"2024-06-15T24:00:00Z",
		"2024-06-15T12:34:56.Z",
		"2024-06-15T12:34:56+2",
		"2024-06-15T12:34:56Zx",
		"99999999999999999999",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (cdc_replay_parse_time(good[i].text, &ms, &err) != BINLOG_OK)
			fail_msg("'%s': %s", good[i].text, err.msg);
		if (ms != good[i].ms)
			fail_msg("'%s': %lld, want %lld", good[i].text, (long long)ms,
				 (long long)good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (cdc_replay_parse_time(bad[i], &ms, &err) != BINLOG_E_USAGE)
			fail_msg("'%s' was taken as a time (%lld)", bad[i], (long long)ms);
}

static char dir[64];

static void touch(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void clear_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sluice-test-replay.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static void directories(void **state)
{
	cdc_replay_files_t f;
	binlog_err_t err = {0};
	char sub[128];
	(void)state;

	make_dir();
	assert_int_equal(cdc_replay_list_dir(dir, &f, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "no binlog files"));
	touch("mysql-bin.index");
	touch("notes.txt");
	touch("mysql-bin.");
	assert_int_equal(cdc_replay_list_dir(dir, &f, &err), BINLOG_E_USAGE);

	touch("mysql-bin.000010");
	touch("mysql-bin.000009.gz");
	touch("mysql-bin.000100");
	touch("mysql-bin.000008");
	touch("mysql-bin.000012");
	snprintf(sub, sizeof(sub), "%s/mysql-bin.000011", dir);
	assert_int_equal(mkdir(sub, 0755), 0); /* not a file */
	assert_int_equal(cdc_replay_list_dir(dir, &f, &err), BINLOG_OK);
	assert_int_equal(f.n, 5);
	assert_int_equal(f.ignored, 4);
	assert_string_equal(base(f.path[0]), "mysql-bin.000008");
	assert_string_equal(base(f.path[1]), "mysql-bin.000009.gz");
	assert_string_equal(base(f.path[2]), "mysql-bin.000010");
	assert_string_equal(base(f.path[3]), "mysql-bin.000012");
	assert_string_equal(base(f.path[4]), "mysql-bin.000100");
	assert_int_equal(f.number[1], 9);
	assert_int_equal(cdc_replay_files_gap(&f, 1), 3);
	assert_int_equal(cdc_replay_files_gap(&f, 4), 4);
	assert_int_equal(cdc_replay_files_gap(&f, 5), 0);
	cdc_replay_files_free(&f);

	touch("mysql-bin.000010.gz"); /* the same file twice */
	assert_int_equal(cdc_replay_list_dir(dir, &f, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "the same binlog"));
	clear_dir();

	make_dir();
	touch("mysql-bin.000001");
	touch("other-bin.000002");
	assert_int_equal(cdc_replay_list_dir(dir, &f, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "more than one"));
	clear_dir();

	assert_int_equal(cdc_replay_list_dir("/nonexistent/sluice", &f, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "/nonexistent/sluice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gtids),
		cmocka_unit_test(times),
		cmocka_unit_test(directories),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
