/*
 * test_cdc_registry.c: the source registry on disk: names, the exact file
 * a source becomes (and that the password never goes in it), reading it
 * back, add refusing an existing name unless replacing, remove, the sorted
 * list ignoring temporary and foreign files, permissions, no temporary file
 * left behind, and parse errors that name the file, line and key.
 */
#include "testutil.h"

#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdc_registry.h"

#define T0 1718454896 /* 2024-06-15T12:34:56Z */

typedef struct fixture {
	char home[256];
} fixture_t;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->home, sizeof(f->home), "%s/sluice-registry.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->home)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;

	nftw(f->home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* A source with every field the registry writes; strings point at
 * literals (the registry only reads them). */
static cdc_source_conf_t sample(void)
{
	static char *tables[] = {"shop\\..*", "it's"};
	cdc_source_conf_t s;

	memset(&s, 0, sizeof(s));
	s.type = "mariadb";
	s.conn.host = "db1.internal";
	s.conn.port = 3307;
	s.conn.user = "sluice";
	s.conn.password_file = "/etc/sluice/db1.password";
	s.conn.password = "hunter2-never-written";
	s.conn.ssl_mode = CDC_SSL_VERIFY_CA;
	s.conn.ssl_ca = "/etc/ssl/ca.pem";
	s.server_id = 5401;
	s.tables.v = tables;
	s.tables.n = 2;
	return s;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

/* Entries in a directory, dot files included. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void names(void **state)
{
	char n64[66], path[512];
	binlog_err_t err;

	(void)state;
	memset(n64, 'a', 64);
	n64[64] = '\0';
	assert_true(cdc_registry_name_valid("a"));
	assert_true(cdc_registry_name_valid("db-1_X"));
	assert_true(cdc_registry_name_valid(n64));
	n64[64] = 'a';
	n64[65] = '\0';
	assert_false(cdc_registry_name_valid(n64));
	assert_false(cdc_registry_name_valid(""));
	assert_false(cdc_registry_name_valid(NULL));
	assert_false(cdc_registry_name_valid("a.b"));
	assert_false(cdc_registry_name_valid("a/b"));
	assert_false(cdc_registry_name_valid(".."));
	assert_false(cdc_registry_name_valid("a b"));
	assert_false(cdc_registry_name_valid("caf\xc3\xa9"));

	assert_int_equal(cdc_registry_path("/h", "db1", path, sizeof(path), &err), BINLOG_OK);
	assert_string_equal(path, "/h/sources/db1.yaml");
	assert_int_equal(cdc_registry_path("/h", "../x", path, sizeof(path), &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "invalid source name '../x'"));
	assert_int_equal(cdc_registry_path("/h", "db1", path, 10, &err), BINLOG_E_USAGE);
}

static void home_dir(void **state)
{
	char buf[512];
	binlog_err_t err;
	char *old_sh = getenv("SLUICE_HOME") ? strdup(getenv("SLUICE_HOME")) : NULL;
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	(void)state;
	setenv("SLUICE_HOME", "/srv/sluice", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(cdc_registry_home("/opt/x", buf, sizeof(buf), &err), BINLOG_OK);
	assert_string_equal(buf, "/opt/x");
	assert_int_equal(cdc_registry_home(NULL, buf, sizeof(buf), &err), BINLOG_OK);
	assert_string_equal(buf, "/srv/sluice");
	unsetenv("SLUICE_HOME");
	assert_int_equal(cdc_registry_home("", buf, sizeof(buf), &err), BINLOG_OK);
	assert_string_equal(buf, "/home/u/.local/share/sluice");
	unsetenv("HOME");
	assert_int_equal(cdc_registry_home(NULL, buf, sizeof(buf), &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "SLUICE_HOME"));
	if (old_sh)
		setenv("SLUICE_HOME", old_sh, 1);
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_sh);
	free(old_home);
}

static void file_content(void **state)
{
	fixture_t *f = *state;
	cdc_source_conf_t s = sample();
	char path[512], dir[512], *text;
	binlog_err_t err;
	struct stat st;

	assert_int_equal(cdc_registry_add(f->home, "db1", &s, T0, 0, &err), BINLOG_OK);
	snprintf(path, sizeof(path), "%s/sources/db1.yaml", f->home);
	text = slurp(path);
	assert_string_equal(text, "# sluice source \"db1\", written by `sluice source add`.\n"
				  "# A pipeline uses it with: source: {registered: db1}\n"
				  "source:\n"
				  "  name: 'db1'\n"
				  "  type: 'mariadb'\n"
				  "  hostname: 'db1.internal'\n"
				  "  port: 3307\n"
				  "  username: 'sluice'\n"
				  "  password-file: '/etc/sluice/db1.password'\n"
				  "  server-id: 5401\n"
				  "  ssl.mode: 'verify-ca'\n"
				  "  ssl.ca: '/etc/ssl/ca.pem'\n"
				  "  tables: ['shop\\..*', 'it''s']\n"
				  "registry:\n"
				  "  added-at: '2024-06-15T12:34:56Z'\n");
	assert_null(strstr(text, "hunter2"));
	free(text);
	/* Private: the file 0600, the directory 0700; nothing else left. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(dir, sizeof(dir), "%s/sources", f->home);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(count_entries(dir), 1);
}

static void round_trip(void **state)
{
	fixture_t *f = *state;
	cdc_source_conf_t s = sample();
	cdc_registry_entry_t e;
	binlog_err_t err;

	s.conn.socket = "/run/my\tsql.sock"; /* a control character: double quotes */
	s.conn.password_file = NULL;
	s.conn.password_env = "DB1_PASSWORD";
	assert_int_equal(cdc_registry_add(f->home, "db1", &s, T0, 0, &err), BINLOG_OK);
	assert_true(cdc_registry_exists(f->home, "db1"));
	assert_false(cdc_registry_exists(f->home, "db2"));
	assert_int_equal(cdc_registry_load(f->home, "db1", &e, &err), BINLOG_OK);
	assert_string_equal(e.name, "db1");
	assert_string_equal(e.src.name, "db1");
	assert_string_equal(e.src.type, "mariadb");
	assert_string_equal(e.src.conn.host, "db1.internal");
	assert_int_equal(e.src.conn.port, 3307);
	assert_string_equal(e.src.conn.socket, "/run/my\tsql.sock");
	assert_string_equal(e.src.conn.user, "sluice");
	assert_null(e.src.conn.password_file);
	assert_string_equal(e.src.conn.password_env, "DB1_PASSWORD");
	assert_null(e.src.conn.password);
	assert_int_equal(e.src.conn.ssl_mode, CDC_SSL_VERIFY_CA);
	assert_string_equal(e.src.conn.ssl_ca, "/etc/ssl/ca.pem");
	assert_null(e.src.conn.ssl_cert);
	assert_int_equal(e.src.server_id, 5401);
	assert_int_equal(e.src.tables.n, 2);
	assert_string_equal(e.src.tables.v[0], "shop\\..*");
	assert_string_equal(e.src.tables.v[1], "it's");
	assert_int_equal(e.added_at, T0);
	cdc_registry_entry_free(&e);
}

static void add_replace_remove(void **state)
{
	fixture_t *f = *state;
	cdc_source_conf_t s = sample();
	cdc_registry_entry_t e;
	binlog_err_t err;
	char dir[512];

	assert_int_equal(cdc_registry_add(f->home, "db1", &s, T0, 0, &err), BINLOG_OK);
	/* An existing name is refused, and the file stays as it was. */
	s.server_id = 7;
	assert_int_equal(cdc_registry_add(f->home, "db1", &s, T0 + 1, 0, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "source db1 is already registered"));
	assert_int_equal(cdc_registry_load(f->home, "db1", &e, &err), BINLOG_OK);
	assert_int_equal(e.src.server_id, 5401);
	cdc_registry_entry_free(&e);
	/* Unless replacing. */
	assert_int_equal(cdc_registry_add(f->home, "db1", &s, T0 + 1, 1, &err), BINLOG_OK);
	assert_int_equal(cdc_registry_load(f->home, "db1", &e, &err), BINLOG_OK);
	assert_int_equal(e.src.server_id, 7);
	assert_int_equal(e.added_at, T0 + 1);
	cdc_registry_entry_free(&e);
	snprintf(dir, sizeof(dir), "%s/sources", f->home);
	assert_int_equal(count_entries(dir), 1); /* no temporary file left */

	assert_int_equal(cdc_registry_remove(f->home, "db1", &err), BINLOG_OK);
	assert_false(cdc_registry_exists(f->home, "db1"));
	assert_int_equal(cdc_registry_remove(f->home, "db1", &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "no source named db1 is registered"));
	assert_int_equal(cdc_registry_load(f->home, "db1", &e, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "no source named db1"));
	cdc_registry_entry_free(&e);
	assert_int_equal(cdc_registry_remove(f->home, "a/b", &err), BINLOG_E_USAGE);
	assert_int_equal(cdc_registry_add(f->home, "a b", &s, T0, 0, &err), BINLOG_E_USAGE);
}

static void list_sorted(void **state)
{
	fixture_t *f = *state;
	cdc_source_conf_t s = sample();
	binlog_err_t err;
	char **v, path[512];
	size_t n;
	FILE *fp;

	/* No sources directory yet: an empty list. */
	assert_int_equal(cdc_registry_names(f->home, &v, &n, &err), BINLOG_OK);
	assert_int_equal(n, 0);
	cdc_registry_names_free(v, n);

	assert_int_equal(cdc_registry_add(f->home, "zeta", &s, T0, 0, &err), BINLOG_OK);
	assert_int_equal(cdc_registry_add(f->home, "alpha", &s, T0, 0, &err), BINLOG_OK);
	assert_int_equal(cdc_registry_add(f->home, "M-1", &s, T0, 0, &err), BINLOG_OK);
	/* Not entries: a temporary file, another extension, a bad name. */
	const char *junk[] = {".alpha.yaml.AbC123", "notes.txt", "bad name.yaml", ".yaml"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		snprintf(path, sizeof(path), "%s/sources/%s", f->home, junk[i]);
		fp = fopen(path, "w");
		assert_non_null(fp);
		fclose(fp);
	}
	assert_int_equal(cdc_registry_names(f->home, &v, &n, &err), BINLOG_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "M-1");
	assert_string_equal(v[1], "alpha");
	assert_string_equal(v[2], "zeta");
	cdc_registry_names_free(v, n);
}

static void expect_parse_error(const char *text, const char *msg)
{
	cdc_registry_entry_t e;
	binlog_err_t err;

	assert_int_equal(cdc_registry_parse("x.yaml", text, strlen(text), &e, &err),
			 BINLOG_E_USAGE);
	if (!strstr(err.msg, msg))
		fail_msg("expected '%s' in '%s'", msg, err.msg);
	cdc_registry_entry_free(&e);
}

static void parse_errors(void **state)
{
	cdc_registry_entry_t e;
	binlog_err_t err;
	const char *ok = "source:\n  name: db1\n  tables: a\\..*, b\\.c\n  port: 1\n";

	(void)state;
	expect_parse_error("source:\n  name: db1\n  usename: x\n",
			   "x.yaml:3: source: unknown key 'usename'");
	expect_parse_error("source:\n  name: db1\n  port: 70000\n",
			   "x.yaml:3: port: '70000' is not a number from 1 to 65535");
	expect_parse_error("source:\n  name: db1\n  server-id: 0\n",
			   "server-id: '0' is not a number");
	expect_parse_error("source:\n  name: db1\n  ssl.mode: yes\n",
			   "x.yaml:3: ssl.mode: 'yes' is not one of disabled");
	expect_parse_error("source:\n  hostname: h\n", "x.yaml: source: name: missing");
	expect_parse_error("source:\n  name: a/b\n", "not a valid source name");
	expect_parse_error("sauce:\n  name: db1\n", "x.yaml:1: unknown key 'sauce'");
	expect_parse_error("", "x.yaml: is empty");
	expect_parse_error("source: [1, 2]\n", "x.yaml:1: expected source: a mapping");
	expect_parse_error("source:\n  name: db1\n  name: db2\n", "x.yaml:3: name: given twice");
	expect_parse_error("source:\n  name: 'db1\n", "x.yaml:");
	expect_parse_error("source:\n  name: db1\nregistry:\n  added-at: yesterday\n",
			   "x.yaml:4: added-at: 'yesterday' is not a UTC time");
	/* A comma-separated scalar is a list too, as in pipeline files. */
	assert_int_equal(cdc_registry_parse("x.yaml", ok, strlen(ok), &e, &err), BINLOG_OK);
	assert_int_equal(e.src.tables.n, 2);
	assert_string_equal(e.src.tables.v[1], "b\\.c");
	assert_int_equal(e.src.conn.ssl_mode, CDC_SSL_PREFERRED);
	assert_int_equal(e.added_at, 0);
	cdc_registry_entry_free(&e);
}

static void load_checks_name(void **state)
{
	fixture_t *f = *state;
	cdc_source_conf_t s = sample();
	cdc_registry_entry_t e;
	binlog_err_t err;
	char from[512], to[512];

	assert_int_equal(cdc_registry_add(f->home, "db1", &s, T0, 0, &err), BINLOG_OK);
	snprintf(from, sizeof(from), "%s/sources/db1.yaml", f->home);
	snprintf(to, sizeof(to), "%s/sources/db2.yaml", f->home);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(cdc_registry_load(f->home, "db2", &e, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "name: 'db1' differs from the file name"));
	cdc_registry_entry_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(home_dir),
		cmocka_unit_test_setup_teardown(file_content, setup, teardown),
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(add_replace_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(list_sorted, setup, teardown),
		cmocka_unit_test(parse_errors),
		cmocka_unit_test_setup_teardown(load_checks_name, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
