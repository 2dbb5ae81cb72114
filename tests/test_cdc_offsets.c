/*
 * test_cdc_offsets.c: checkpoints and the file sink a restart rewinds:
 * a checkpoint reads back as written (the sequence past 2^63 included),
 * a damaged one is refused with a message naming the file and the way
 * out, a write leaves no temporary file behind and replaces the old one
 * whole; the file sink's offset, rewind and header lines.
 */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdc_fs.h"
#include "cdc_offsets.h"
#include "sink.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "%s/sluice-offsets-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[600];

	(void)state;
	while (d && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	return 0;
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static int hidden_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void round_trip(void **state)
{
	char path[600];
	cdc_offsets_t o, back;
	binlog_err_t err;
	int found;

	(void)state;
	snprintf(path, sizeof(path), "%s/p.offsets.json", dir);
	assert_int_equal(cdc_offsets_load(path, &back, &found, &err), BINLOG_OK);
	assert_int_equal(found, 0); /* no file: no checkpoint, not an error */

	memset(&o, 0, sizeof(o));
	o.source = "shop";
	o.flavor = "mysql";
	o.server_id = 4000000000u;
	o.server_uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
	o.file = "mysql-bin.000042";
	o.pos = 5000000000ull; /* past 4 GiB */
	o.gtid = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-100";
	o.seq_last = 18446744073709551615ull;
	o.has_sink_offset = 1;
	o.sink_offset = 123456789;
	o.updated_ms = 1795290001123;
	o.transactions = 7;
	o.records = 9;
	assert_int_equal(cdc_offsets_save(path, &o, &err), BINLOG_OK);
	assert_int_equal(entries(), 1);
	assert_int_equal(hidden_entries(), 0); /* the temporary file is gone */
	assert_int_equal(cdc_offsets_load(path, &back, &found, &err), BINLOG_OK);
	assert_int_equal(found, 1);
	assert_string_equal(back.source, "shop");
	assert_string_equal(back.flavor, "mysql");
	assert_int_equal(back.server_id, 4000000000u);
	assert_string_equal(back.server_uuid, o.server_uuid);
	assert_string_equal(back.file, "mysql-bin.000042");
	assert_true(back.pos == 5000000000ull);
	assert_string_equal(back.gtid, o.gtid);
	assert_true(back.seq_last == 18446744073709551615ull);
	assert_int_equal(back.has_sink_offset, 1);
	assert_int_equal(back.sink_offset, 123456789);
	assert_true(back.updated_ms == 1795290001123);
	assert_int_equal(back.transactions, 7);
	assert_int_equal(back.records, 9);
	assert_null(back.emit_file); /* no start gate: none stored */
	assert_int_equal(back.emit_ts_ms, 0);
	cdc_offsets_free(&back);

	/* a second save replaces the first; a first checkpoint's start gate */
	o.pos = 4;
	o.has_sink_offset = 0;
	o.emit_file = "mysql-bin.000042";
	o.emit_pos = 777;
	o.emit_ts_ms = 1795290001000;
	assert_int_equal(cdc_offsets_save(path, &o, &err), BINLOG_OK);
	assert_int_equal(cdc_offsets_load(path, &back, &found, &err), BINLOG_OK);
	assert_int_equal(back.pos, 4);
	assert_string_equal(back.emit_file, "mysql-bin.000042");
	assert_int_equal(back.emit_pos, 777);
	assert_true(back.emit_ts_ms == 1795290001000);
	assert_int_equal(back.has_sink_offset, 0);
	cdc_offsets_free(&back);
	assert_int_equal(entries(), 1);
	unlink(path);
}

static void expect_bad(const char *text, const char *needle)
{
	cdc_offsets_t o;
	binlog_err_t err;

	assert_int_equal(cdc_offsets_parse("s.json", text, strlen(text), &o, &err), BINLOG_E_USAGE);
	if (!strstr(err.msg, needle)) {
		fail_msg("'%s' not in '%s'", needle, err.msg);
	}
	/* every refusal says what to do */
	assert_non_null(strstr(err.msg, "s.json: "));
	assert_non_null(strstr(err.msg, "move it aside"));
}

#define GOOD_TAIL                                                                                  \
	"\"server\":{\"flavor\":\"mariadb\",\"server_id\":1,\"uuid\":\"\"},"                       \
	"\"binlog\":{\"file\":\"b.000001\",\"pos\":4},\"gtid\":\"0-1-5\",\"seq_last\":\"9\"}"

static void damaged(void **state)
{
	cdc_offsets_t o;
	binlog_err_t err;
	const char *good = "{\"version\":1,\"source\":\"s\"," GOOD_TAIL;

	(void)state;
	assert_int_equal(cdc_offsets_parse("s.json", good, strlen(good), &o, &err), BINLOG_OK);
	assert_int_equal(o.seq_last, 9);
	assert_int_equal(o.has_sink_offset, 0);
	cdc_offsets_free(&o);

	expect_bad("{\"version\":1,", "line 1, column"); /* cut short */
	expect_bad("", "s.json: ");                      /* empty */
	expect_bad("[1,2]", "not a JSON object");
	expect_bad("{\"version\":2,\"source\":\"s\"," GOOD_TAIL, "version is not 1");
	expect_bad("{\"version\":1," GOOD_TAIL, "a field is missing");
	expect_bad("{\"version\":1,\"source\":7," GOOD_TAIL, "a field is missing");
	expect_bad("{\"version\":1,\"source\":\"s\",\"source\":\"t\"," GOOD_TAIL, "duplicate");
	expect_bad(
		"{\"version\":1,\"source\":\"s\","
		"\"server\":{\"flavor\":\"mariadb\",\"server_id\":1,\"uuid\":\"\"},"
		"\"binlog\":{\"file\":\"b.000001\",\"pos\":-4},\"gtid\":\"\",\"seq_last\":\"9\"}",
		"a field is missing");
	expect_bad("{\"version\":1,\"source\":\"s\","
		   "\"server\":{\"flavor\":\"mariadb\",\"server_id\":1,\"uuid\":\"\"},"
		   "\"binlog\":{\"file\":\"b.000001\",\"pos\":4},\"gtid\":\"\",\"seq_last\":"
		   "\"99999999999999999999\"}",
		   "a field is missing"); /* past 2^64 */
}

static void atomic_exclusive(void **state)
{
	char path[600];
	binlog_err_t err;
	binlog_buf_t b;

	(void)state;
	snprintf(path, sizeof(path), "%s/x", dir);
	assert_int_equal(cdc_write_atomic(path, "one", 3, CDC_WRITE_EXCLUSIVE, 0, &err), BINLOG_OK);
	assert_int_equal(cdc_write_atomic(path, "two", 3, CDC_WRITE_EXCLUSIVE, 0, &err),
			 BINLOG_E_USAGE);
	assert_int_equal(hidden_entries(), 0);
	binlog_buf_init(&b, 0);
	assert_int_equal(cdc_read_file(path, 100, &b, NULL, &err), BINLOG_OK);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "one", 3);
	binlog_buf_reset(&b);
	assert_int_equal(cdc_write_atomic(path, "three", 5, CDC_WRITE_REPLACE, 0, &err), BINLOG_OK);
	assert_int_equal(cdc_read_file(path, 100, &b, NULL, &err), BINLOG_OK);
	assert_int_equal(b.len, 5);
	binlog_buf_reset(&b);
	assert_int_equal(cdc_read_file(path, 4, &b, NULL, &err), BINLOG_E_LIMIT);
	binlog_buf_free(&b);
	unlink(path);
}

static binlog_errcode_t put(sink_t *s, uint64_t seq, const char *v)
{
	sink_record_t r;
	binlog_err_t err;

	memset(&r, 0, sizeof(r));
	r.value = (const uint8_t *)v;
	r.value_len = strlen(v);
	r.seq = seq;
	r.op = "+I";
	r.db = "shop";
	r.db_len = 4;
	r.table = "t\"1";
	r.table_len = 3;
	r.gtid = "0-1-5";
	r.source = "db1";
	r.type = "data";
	return sink_write(s, &r, &err);
}

static void file_sink_rewind(void **state)
{
	char path[600];
	sink_file_opts_t so = {.fsync_on_flush = 1, .headers = 1};
	binlog_err_t err;
	binlog_buf_t b;
	uint64_t mark;
	sink_t *s;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/out.jsonl", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	s = sink_file_new_ex(fd, &so);
	assert_non_null(s);
	assert_int_equal(put(s, 16777216, "{\"a\":1}"), BINLOG_OK);
	mark = s->ops->offset(s);
	assert_int_equal(put(s, 16777217, "{\"a\":2}"), BINLOG_OK);
	/* back to the mark while the record is still buffered */
	assert_int_equal(s->ops->rewind(s, mark, &err), BINLOG_OK);
	assert_int_equal(s->ops->offset(s), mark);
	assert_int_equal(put(s, 16777217, "{\"a\":3}"), BINLOG_OK);
	assert_int_equal(sink_flush(s, &err), BINLOG_OK);
	/* ... and after it reached the file: the file is truncated */
	assert_int_equal(put(s, 16777218, "{\"a\":4}"), BINLOG_OK);
	assert_int_equal(sink_push(s, &err), BINLOG_OK);
	assert_int_equal(s->ops->rewind(s, mark, &err), BINLOG_OK);
	assert_int_equal(put(s, 16777217, "{\"a\":5}"), BINLOG_OK);
	assert_int_equal(sink_flush(s, &err), BINLOG_OK);
	/* not past the end */
	assert_int_equal(s->ops->rewind(s, s->ops->offset(s) + 1, &err), BINLOG_E_USAGE);
	sink_close(s);
	close(fd);

	binlog_buf_init(&b, 0);
	assert_int_equal(cdc_read_file(path, 1 << 20, &b, NULL, &err), BINLOG_OK);
	assert_string_equal(tu_str(&b),
			    "{\"headers\":{\"sequence\":\"16777216\",\"gtid\":\"0-1-5\",\"db\":"
			    "\"shop\",\"table\":\"t\\\"1\",\"op\":\"+I\",\"source\":\"db1\","
			    "\"type\":\"data\"},\"value\":{\"a\":1}}\n"
			    "{\"headers\":{\"sequence\":\"16777217\",\"gtid\":\"0-1-5\",\"db\":"
			    "\"shop\",\"table\":\"t\\\"1\",\"op\":\"+I\",\"source\":\"db1\","
			    "\"type\":\"data\"},\"value\":{\"a\":5}}\n");
	binlog_buf_free(&b);

	/* a sink opened on an existing file starts at its end */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_true(lseek(fd, 0, SEEK_END) > 0);
	s = sink_file_new_ex(fd, &so);
	assert_int_equal(s->ops->offset(s), (uint64_t)lseek(fd, 0, SEEK_CUR));
	sink_close(s);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(damaged),
		cmocka_unit_test(atomic_exclusive),
		cmocka_unit_test(file_sink_rewind),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
