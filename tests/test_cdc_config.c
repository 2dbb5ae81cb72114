/*
 * test_cdc_config.c: the configuration loader: every default, every
 * type's parsing and its errors (with the exact text of the messages
 * people will read), unknown and repeated keys, wrong shapes, the rules
 * across settings, routes, the reference's own example, and the drift
 * test that keeps docs/CONFIGURATION.md what `sluice config docs` prints.
 */
#include "testutil.h"

#include <unistd.h>

#include "cdc_config.h"
#include "cdc_registry.h"

static char home[256]; /* SLUICE_HOME: a registry holding db1 */

/* Every valid file needs these two; tests add their keys from line 4. */
#define BASE "source:\n  username: u\n  server-id: 1\n"
/* The same with a Kafka sink: routes choose its topics. */
#define KBASE BASE "sink:\n  type: kafka\n  bootstrap.servers: k1:9092\n"

static binlog_errcode_t parse(const char *yaml, cdc_config_t *c, binlog_err_t *err)
{
	cdc_config_init(c);
	memset(err, 0, sizeof(*err));
	return cdc_config_parse("t.yaml", yaml, strlen(yaml), c, err);
}

/* Parse a file that must load; the message tells why when it does not. */
static void load_ok(const char *yaml, cdc_config_t *c)
{
	binlog_err_t err;

	if (parse(yaml, c, &err) != BINLOG_OK)
		fail_msg("unexpected error: %s", err.msg);
}

static void expect_err(const char *yaml, const char *msg)
{
	cdc_config_t c;
	binlog_err_t err;

	assert_int_equal(parse(yaml, &c, &err), BINLOG_E_USAGE);
	assert_string_equal(err.msg, msg);
	cdc_config_free(&c);
}

/* For messages whose whole text another test already pins down. */
static void expect_err_has(const char *yaml, const char *part)
{
	cdc_config_t c;
	binlog_err_t err;

	assert_int_not_equal(parse(yaml, &c, &err), BINLOG_OK);
	if (!strstr(err.msg, part))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, part);
	cdc_config_free(&c);
}

static void defaults(void **state)
{
	cdc_config_t c;

	(void)state;
	cdc_config_init(&c);
	assert_null(c.source.type);
	assert_null(c.source.registered);
	assert_null(c.source.name);
	assert_string_equal(c.source.conn.host, "127.0.0.1");
	assert_int_equal(c.source.conn.port, 3306);
	assert_null(c.source.conn.socket);
	assert_null(c.source.conn.user);
	assert_null(c.source.conn.password_file);
	assert_null(c.source.conn.password_env);
	assert_null(c.source.conn.password);
	assert_int_equal(c.source.conn.ssl_mode, CDC_SSL_PREFERRED);
	assert_null(c.source.conn.ssl_ca);
	assert_int_equal(c.source.server_id, 0);
	assert_int_equal(c.source.tables.n, 0);
	assert_int_equal(c.source.tables_exclude.n, 0);
	assert_int_equal(c.source.columns_exclude.n, 0);
	assert_int_equal(c.source.columns_mask.n, 0);
	assert_int_equal(c.source.startup_mode, CDC_STARTUP_LATEST);
	assert_null(c.source.startup_file);
	assert_int_equal(c.source.startup_pos, 4);
	assert_null(c.source.startup_gtid);
	assert_int_equal(c.source.startup_ts_ms, 0);
	assert_int_equal(c.source.heartbeat_ms, 30000);
	assert_int_equal(c.source.connect_timeout_ms, 30000);
	assert_int_equal(c.source.connect_max_retries, 0);
	assert_int_equal(c.source.backoff_max_ms, 60000);
	assert_int_equal(c.source.catalog, CDC_CATALOG_AUTO);
	assert_string_equal(c.sink.type, "file");
	assert_string_equal(c.sink.path, "-");
	assert_int_equal(c.sink.fsync, 1);
	assert_int_equal(c.sink.headers, 1);
	assert_int_equal(c.nroutes, 0);
	assert_string_equal(c.pipeline.name, "sluice");
	assert_string_equal(c.pipeline.state_dir, "sluice-state");
	assert_int_equal(c.pipeline.checkpoint_interval_ms, 1000);
	assert_int_equal(c.pipeline.max_event_size, (1ull << 30) + (64u << 10));
	assert_int_equal(c.pipeline.max_inflated_size, 1ull << 30);
	cdc_config_free(&c);
	/* freeing twice is harmless: free zeroes */
	cdc_config_free(&c);
}

/* The least a file may say, and what loading derives from it. */
static void minimal_and_derived(void **state)
{
	cdc_config_t c;

	(void)state;
	load_ok(BASE, &c);
	assert_string_equal(c.path, "t.yaml");
	assert_string_equal(c.source.conn.user, "u");
	assert_int_equal(c.source.server_id, 1);
	assert_string_equal(c.source.name, "127.0.0.1"); /* hostname */
	assert_int_equal(c.source.conn.connect_timeout_s, 30);
	cdc_config_free(&c);

	load_ok(BASE "  registered: db1\n", &c);
	assert_string_equal(c.source.name, "db1");
	cdc_config_free(&c);

	load_ok(BASE "  hostname: db2.internal\n  connect.timeout: 1500ms\n", &c);
	assert_string_equal(c.source.name, "db2.internal");
	assert_int_equal(c.source.conn.connect_timeout_s, 2); /* rounded up */
	cdc_config_free(&c);

	load_ok(BASE "  name: shop-primary\n  registered: db1\n", &c);
	assert_string_equal(c.source.name, "shop-primary");
	cdc_config_free(&c);

	/* a socket alone means a local connection */
	load_ok(BASE "  socket: /run/mysqld/mysqld.sock\n", &c);
	assert_string_equal(c.source.conn.host, "localhost");
	assert_string_equal(c.source.conn.socket, "/run/mysqld/mysqld.sock");
	cdc_config_free(&c);
	load_ok(BASE "  hostname: localhost\n  socket: /tmp/s\n", &c);
	cdc_config_free(&c);
}

static void integers(void **state)
{
	cdc_config_t c;

	(void)state;
	load_ok(BASE "  port: 3307\n  connect.max-retries: 10\n", &c);
	assert_int_equal(c.source.conn.port, 3307);
	assert_int_equal(c.source.connect_max_retries, 10);
	cdc_config_free(&c);
	/* quoted numbers are numbers too; the widest server id fits */
	load_ok("source:\n  username: u\n  server-id: 4294967295\n  port: \"65535\"\n", &c);
	assert_int_equal(c.source.server_id, 4294967295u);
	assert_int_equal(c.source.conn.port, 65535);
	cdc_config_free(&c);

	expect_err(BASE "  port: 70000\n", "t.yaml:4: source.port: 70000 is out of range 1..65535");
	expect_err(BASE "  port: 0\n", "t.yaml:4: source.port: 0 is out of range 1..65535");
	expect_err(BASE "  port: -1\n", "t.yaml:4: source.port: -1 is out of range 1..65535");
	expect_err(BASE "  port: abc\n",
		   "t.yaml:4: source.port: 'abc' is not a whole number (allowed: 1..65535)");
	expect_err(BASE "  port: 33o6\n",
		   "t.yaml:4: source.port: '33o6' is not a whole number (allowed: 1..65535)");
	expect_err(BASE "  port: 3306.0\n",
		   "t.yaml:4: source.port: '3306.0' is not a whole number (allowed: 1..65535)");
	expect_err("source:\n  username: u\n  server-id: 4294967296\n",
		   "t.yaml:3: source.server-id: 4294967296 is out of range 1..4294967295");
	expect_err("source:\n  username: u\n  server-id: 0\n",
		   "t.yaml:3: source.server-id: 0 is out of range 1..4294967295");
	/* beyond 64 bits is out of range, not a wrapped number */
	expect_err(BASE "  port: 99999999999999999999999\n",
		   "t.yaml:4: source.port: 99999999999999999999999 is out of range 1..65535");
	expect_err(
		BASE "  scan.startup.mode: specific-offset\n"
		     "  scan.startup.specific-offset.file: b.000001\n"
		     "  scan.startup.specific-offset.pos: 3\n",
		"t.yaml:6: source.scan.startup.specific-offset.pos: 3 is out of range: 4 or more");
}

static void booleans(void **state)
{
	cdc_config_t c;

	(void)state;
	load_ok(BASE "sink:\n  fsync: false\n  headers: FALSE\n", &c);
	assert_int_equal(c.sink.fsync, 0);
	assert_int_equal(c.sink.headers, 0);
	cdc_config_free(&c);
	load_ok(BASE "sink:\n  fsync: true\n  headers: True\n", &c);
	assert_int_equal(c.sink.fsync, 1);
	assert_int_equal(c.sink.headers, 1);
	cdc_config_free(&c);
	expect_err(BASE "sink:\n  fsync: maybe\n",
		   "t.yaml:5: sink.fsync: 'maybe' is not a boolean (true or false)");
	/* YAML 1.1's yes/no are not booleans here: one spelling, no surprises */
	expect_err(BASE "sink:\n  fsync: yes\n",
		   "t.yaml:5: sink.fsync: 'yes' is not a boolean (true or false)");
}

static void durations(void **state)
{
	cdc_config_t c;

	(void)state;
	load_ok(BASE "  heartbeat.interval: 2m\n  connect.timeout: 1h\n"
		     "  connect.backoff.max: 90 s\n"
		     "pipeline:\n  checkpoint.interval: 500ms\n",
		&c);
	assert_int_equal(c.source.heartbeat_ms, 120000);
	assert_int_equal(c.source.connect_timeout_ms, 3600000);
	assert_int_equal(c.source.backoff_max_ms, 90000);
	assert_int_equal(c.pipeline.checkpoint_interval_ms, 500);
	cdc_config_free(&c);
	load_ok(BASE "pipeline:\n  checkpoint.interval: 10ms\n", &c);
	assert_int_equal(c.pipeline.checkpoint_interval_ms, 10);
	cdc_config_free(&c);

	expect_err(BASE "pipeline:\n  checkpoint.interval: 5ms\n",
		   "t.yaml:5: pipeline.checkpoint.interval: 5ms is out of range 10ms..1h");
	expect_err(BASE "  heartbeat.interval: 2h\n",
		   "t.yaml:4: source.heartbeat.interval: 2h is out of range 1s..1h");
	expect_err(BASE "  heartbeat.interval: 999ms\n",
		   "t.yaml:4: source.heartbeat.interval: 999ms is out of range 1s..1h");
	expect_err(BASE "  heartbeat.interval: 30\n",
		   "t.yaml:4: source.heartbeat.interval: '30' is not a duration: a whole number "
		   "and a unit, ms, s, m or h (e.g. 30s); allowed: 1s..1h");
	expect_err_has(BASE "  heartbeat.interval: 1.5s\n", "'1.5s' is not a duration");
	expect_err_has(BASE "  heartbeat.interval: 1m30s\n", "'1m30s' is not a duration");
	expect_err_has(BASE "  heartbeat.interval: 30d\n", "'30d' is not a duration");
	expect_err_has(BASE "  heartbeat.interval: s\n", "'s' is not a duration");
	/* an overflowing product is out of range, not a small number */
	expect_err(BASE "  heartbeat.interval: 18446744073709551615h\n",
		   "t.yaml:4: source.heartbeat.interval: 18446744073709551615h is out of range "
		   "1s..1h");
}

static void sizes(void **state)
{
	cdc_config_t c;

	(void)state;
	load_ok(BASE "pipeline:\n  max-event-size: 64KiB\n  max-inflated-size: 1048576\n", &c);
	assert_int_equal(c.pipeline.max_event_size, 65536);
	assert_int_equal(c.pipeline.max_inflated_size, 1048576);
	cdc_config_free(&c);
	load_ok(BASE "pipeline:\n  max-event-size: 2GiB + 512MiB\n  max-inflated-size: 16 gib\n",
		&c);
	assert_int_equal(c.pipeline.max_event_size, (2ull << 30) + (512ull << 20));
	assert_int_equal(c.pipeline.max_inflated_size, 16ull << 30);
	cdc_config_free(&c);
	load_ok(BASE "pipeline:\n  max-event-size: 4GiB\n  max-inflated-size: 100000B\n", &c);
	assert_int_equal(c.pipeline.max_event_size, 4ull << 30);
	assert_int_equal(c.pipeline.max_inflated_size, 100000);
	cdc_config_free(&c);

	expect_err(BASE "pipeline:\n  max-event-size: 64MB\n",
		   "t.yaml:5: pipeline.max-event-size: '64MB' is not a size: bytes, or a whole "
		   "number with KiB, MiB, GiB or TiB (powers of 1024, e.g. 64MiB); allowed: "
		   "64KiB..4GiB");
	expect_err(BASE "pipeline:\n  max-event-size: 1KiB\n",
		   "t.yaml:5: pipeline.max-event-size: 1KiB is out of range 64KiB..4GiB");
	expect_err(BASE "pipeline:\n  max-event-size: 4GiB+1\n",
		   "t.yaml:5: pipeline.max-event-size: 4GiB+1 is out of range 64KiB..4GiB");
	expect_err_has(BASE "pipeline:\n  max-event-size: 1GiB+\n", "'1GiB+' is not a size");
	expect_err_has(BASE "pipeline:\n  max-event-size: 1.5GiB\n", "'1.5GiB' is not a size");
	expect_err_has(BASE "pipeline:\n  max-inflated-size: 99999999TiB\n",
		       "99999999TiB is out of range 64KiB..64GiB");
}

static void enums(void **state)
{
	cdc_config_t c;

	(void)state;
	load_ok(BASE "  type: MySQL\n  ssl.mode: disabled\n  schema.catalog: never\n", &c);
	assert_string_equal(c.source.type, "mysql"); /* stored as spelled in the table */
	assert_int_equal(c.source.conn.ssl_mode, CDC_SSL_DISABLED);
	assert_int_equal(c.source.catalog, CDC_CATALOG_NEVER);
	cdc_config_free(&c);
	load_ok(BASE "  ssl.mode: verify-identity\n  ssl.ca: /ca.pem\n"
		     "  scan.startup.mode: earliest-offset\n  schema.catalog: always\n",
		&c);
	assert_int_equal(c.source.conn.ssl_mode, CDC_SSL_VERIFY_IDENTITY);
	assert_int_equal(c.source.startup_mode, CDC_STARTUP_EARLIEST);
	assert_int_equal(c.source.catalog, CDC_CATALOG_ALWAYS);
	cdc_config_free(&c);

	expect_err(BASE "  ssl.mode: verify\n",
		   "t.yaml:4: source.ssl.mode: 'verify' is not one of: disabled, preferred, "
		   "required, verify-ca, verify-identity; did you mean verify-ca?");
	expect_err(BASE "  type: postgres\n",
		   "t.yaml:4: source.type: 'postgres' is not one of: mariadb, mysql");
	expect_err(BASE "sink:\n  type: kinesis\n",
		   "t.yaml:5: sink.type: 'kinesis' is not one of: file, kafka");
	expect_err_has(BASE "  scan.startup.mode: latest\n", "did you mean latest-offset?");
}

static void lists(void **state)
{
	cdc_config_t c;

	(void)state;
	/* comma-separated, spaces trimmed */
	load_ok(BASE "  tables: shop\\..* , crm\\.customers\n", &c);
	assert_int_equal(c.source.tables.n, 2);
	assert_string_equal(c.source.tables.v[0], "shop\\..*");
	assert_string_equal(c.source.tables.v[1], "crm\\.customers");
	cdc_config_free(&c);
	/* a YAML list, both styles */
	load_ok(BASE "  tables:\n    - shop\\..*\n    - 'a,b'\n"
		     "  tables.exclude: [shop\\.tmp_.*, shop\\.bak]\n",
		&c);
	assert_int_equal(c.source.tables.n, 2);
	assert_string_equal(c.source.tables.v[1], "a,b"); /* no splitting in a list */
	assert_int_equal(c.source.tables_exclude.n, 2);
	assert_string_equal(c.source.tables_exclude.v[0], "shop\\.tmp_.*");
	cdc_config_free(&c);
	/* commas that belong to a regex */
	load_ok(BASE "  columns.mask: 'a\\.t{1,3}\\.c, x\\.(y,z)\\.w, [,;]\\.[]a,]\\.c, p\\,q, "
		     "[^]x,]'\n",
		&c);
	assert_int_equal(c.source.columns_mask.n, 5);
	assert_string_equal(c.source.columns_mask.v[0], "a\\.t{1,3}\\.c");
	assert_string_equal(c.source.columns_mask.v[1], "x\\.(y,z)\\.w");
	assert_string_equal(c.source.columns_mask.v[2], "[,;]\\.[]a,]\\.c");
	assert_string_equal(c.source.columns_mask.v[3], "p\\,q");
	assert_string_equal(c.source.columns_mask.v[4], "[^]x,]");
	cdc_config_free(&c);
	/* a backslash at the very end */
	load_ok(BASE "  columns.exclude: a, b\\\n", &c);
	assert_int_equal(c.source.columns_exclude.n, 2);
	assert_string_equal(c.source.columns_exclude.v[1], "b\\");
	cdc_config_free(&c);
	/* empty: the empty list, every table */
	load_ok(BASE "  tables:\n  tables.exclude: []\n  columns.mask: ''\n", &c);
	assert_int_equal(c.source.tables.n, 0);
	assert_int_equal(c.source.tables_exclude.n, 0);
	assert_int_equal(c.source.columns_mask.n, 0);
	cdc_config_free(&c);

	expect_err(BASE "  tables: a,,b\n",
		   "t.yaml:4: source.tables: 'a,,b' has an empty item (items are separated by "
		   "commas)");
	expect_err_has(BASE "  tables: a,\n", "'a,' has an empty item");
	expect_err(BASE "  tables:\n    - a\n    - ''\n",
		   "t.yaml:6: source.tables: an empty list item");
	expect_err(BASE "  tables:\n    - a\n    - x: y\n",
		   "t.yaml:6: source.tables: a list item that is a mapping; items are single "
		   "values");
	expect_err(BASE "  tables:\n    x: y\n",
		   "t.yaml:5: source.tables: a mapping where a list is wanted (a YAML list, or "
		   "items separated by commas)");
}

static void strings_and_secrets(void **state)
{
	cdc_config_t c;

	(void)state;
	load_ok(BASE "  password-env: SLUICE_DB1_PASSWORD\n", &c);
	assert_string_equal(c.source.conn.password_env, "SLUICE_DB1_PASSWORD");
	cdc_config_free(&c);
	load_ok(BASE "  password-file: /etc/sluice/db1.password\n", &c);
	assert_string_equal(c.source.conn.password_file, "/etc/sluice/db1.password");
	cdc_config_free(&c);

	expect_err(BASE "  password-env: 1PASS\n",
		   "t.yaml:4: source.password-env: '1PASS' is not an environment variable name "
		   "(letters, digits and _, not starting with a digit)");
	expect_err_has(BASE "  password-env: MY-PASS\n", "is not an environment variable name");
	expect_err(BASE "  hostname:\n",
		   "t.yaml:4: source.hostname: no value (omit the key to keep the default)");
	expect_err(BASE "  hostname: ~\n",
		   "t.yaml:4: source.hostname: no value (omit the key to keep the default)");
	expect_err(BASE "  ssl.ca: ''\n", "t.yaml:4: source.ssl.ca: no value");
	expect_err("source:\n  username: null\n  server-id: 1\n",
		   "t.yaml:2: source.username: no value");
	/* a quoted "null" is the string null */
	load_ok("source:\n  username: 'null'\n  server-id: 1\n", &c);
	assert_string_equal(c.source.conn.user, "null");
	cdc_config_free(&c);
	/* a NUL hidden in a double-quoted string would cut the value short */
	expect_err(BASE "  hostname: \"db\\0evil\"\n",
		   "t.yaml:4: source.hostname: the value contains a NUL character");
	/* long values are cut in messages, control characters replaced */
	expect_err(BASE "  port: \"1234567890123456789012345678901234567890123456789012345678901"
			"234567890\\t\"\n",
		   "t.yaml:4: source.port: '1234567890123456789012345678901234567890123456789012"
		   "345678901234...' is not a whole number (allowed: 1..65535)");
	expect_err(BASE "  port: \"12\\t3\"\n",
		   "t.yaml:4: source.port: '12?3' is not a whole number (allowed: 1..65535)");
}

static void unknown_keys(void **state)
{
	(void)state;
	expect_err(BASE "  hostnmae: db1\n",
		   "t.yaml:4: source.hostnmae: unknown key; did you mean source.hostname?");
	expect_err(BASE "  server_id: 7\n",
		   "t.yaml:4: source.server_id: unknown key; did you mean source.server-id?");
	expect_err(BASE "  user: u\n",
		   "t.yaml:4: source.user: unknown key; did you mean source.username?");
	expect_err(BASE "  scan.startup.modes: x\n",
		   "t.yaml:4: source.scan.startup.modes: unknown key; did you mean "
		   "source.scan.startup.mode?");
	expect_err(BASE "pipeline:\n  checkpoint-interval: 1s\n",
		   "t.yaml:5: pipeline.checkpoint-interval: unknown key; did you mean "
		   "pipeline.checkpoint.interval?");
	expect_err(BASE "  path: /x\n",
		   "t.yaml:4: source.path: unknown key; path is a sink setting (sink.path)");
	expect_err(BASE "  scan:\n    startup:\n      mode: timestamp\n",
		   "t.yaml:4: source.scan: unknown key; settings are written flat, with dots "
		   "(scan.startup.mode: ...), not as nested mappings");
	/* a misspelt password is still a password */
	expect_err(BASE "  passwrod: hunter2\n",
		   "t.yaml:4: source.passwrod: unknown key; passwords are not read from "
		   "configuration files: give password-file (a file whose first line is the "
		   "password) or password-env (an environment variable that holds it)");
	expect_err(BASE "  flavour: x\n",
		   "t.yaml:4: source.flavour: unknown key (`sluice config docs` lists them all)");
	expect_err(BASE "sources:\n  x: 1\n",
		   "t.yaml:4: sources: unknown block; did you mean source? (blocks: source, "
		   "sink, route, pipeline)");
	expect_err(BASE "transform:\n  - x: 1\n",
		   "t.yaml:4: transform: unknown block (blocks: source, sink, route, pipeline)");
	expect_err(KBASE "route:\n  - topic: a\n    tabel: b\n",
		   "t.yaml:9: route.tabel: unknown key; did you mean route.table?");
}

static void repeated_keys(void **state)
{
	(void)state;
	expect_err(BASE "  port: 1\n  port: 2\n",
		   "t.yaml:5: source.port: given twice (first on line 4)");
	expect_err("source:\n  username: u\n  server-id: 1\n  username: v\n",
		   "t.yaml:4: source.username: given twice (first on line 2)");
	expect_err(BASE "sink:\n  path: a\nsink:\n  path: b\n",
		   "t.yaml:6: sink: given twice (first on line 4)");
	expect_err(KBASE "route:\n  - table: a\n    topic: b\n    topic: c\n",
		   "t.yaml:10: route.topic: given twice (first on line 9)");
	/* the same key in two routes is two routes, not a repeat */
	expect_err_has(KBASE "route:\n  - {table: a}\n  - {table: b}\n",
		       "t.yaml:8: route: an entry without topic");
}

static void structure(void **state)
{
	(void)state;
	expect_err(BASE "  port: [1, 2]\n",
		   "t.yaml:4: source.port: a list where a single value is wanted");
	expect_err(BASE "  hostname:\n    a: b\n",
		   "t.yaml:5: source.hostname: a mapping where a single value is wanted");
	expect_err("source: mariadb\n",
		   "t.yaml:1: source: a single value where a mapping of settings is wanted");
	expect_err(BASE "sink:\n  - path: x\n",
		   "t.yaml:5: sink: a list where a mapping of settings is wanted");
	expect_err(KBASE "route:\n  table: a\n  topic: b\n",
		   "t.yaml:8: route: a mapping where a list of rules is wanted (each entry "
		   "with database, table and topic)");
	expect_err(KBASE "route:\n  - a\n",
		   "t.yaml:8: route: an entry that is a single value; each entry is a mapping "
		   "with database, table and topic");
	expect_err("- source\n",
		   "t.yaml:1: the file is a list; a configuration is a mapping with source, "
		   "sink, route and pipeline");
	expect_err(BASE "  ? [a, b]\n  : c\n",
		   "t.yaml:4: source: a key that is a list; keys are names");
	/* YAML itself */
	expect_err_has(BASE "  port: [1, 2\n", "t.yaml:");
	expect_err_has(BASE "  port: 1\n port: 2\n", "t.yaml:5: YAML: ");
	expect_err(BASE "  hostname: &h db1\n  name: *h\n",
		   "t.yaml:5: YAML aliases (*h) are not supported in a configuration");
	expect_err(BASE "---\nsink:\n  path: x\n",
		   "t.yaml:4: a second YAML document; a configuration is one document");
	expect_err("a:\n b:\n  c:\n   d:\n    e:\n     f:\n      g:\n       h:\n        i:\n"
		   "         j:\n          k:\n           l:\n            m:\n             n:\n"
		   "              o:\n               p:\n                q:\n"
		   "                 r: 1\n",
		   "t.yaml:17: nested too deep");
	/* nothing at all: the rules catch what is missing */
	expect_err("", "t.yaml: source.username is required (the user sluice connects as)");
	expect_err("# only a comment\n",
		   "t.yaml: source.username is required (the user sluice connects as)");
}

static void cross_field_rules(void **state)
{
	cdc_config_t c;
	binlog_err_t err;

	(void)state;
	expect_err("source:\n  server-id: 1\n",
		   "t.yaml:1: source.username is required (the user sluice connects as)");
	expect_err("source:\n  username: u\n",
		   "t.yaml:1: source.server-id is required: 1..4294967295, different from the id "
		   "of every server and replica of the topology");
	/* an inline password is refused, and its value never repeated */
	assert_int_equal(parse(BASE "  password: hunter2\n", &c, &err), BINLOG_E_USAGE);
	assert_string_equal(err.msg,
			    "t.yaml:4: source.password: passwords are not read from configuration "
			    "files: give password-file (a file whose first line is the password) "
			    "or password-env (an environment variable that holds it)");
	assert_null(strstr(err.msg, "hunter2"));
	cdc_config_free(&c);
	expect_err(BASE "  password-file: /p\n  password-env: P\n",
		   "t.yaml:5: source.password-env: give password-file or password-env, not both");
	expect_err(BASE "  hostname: db1\n  socket: /tmp/s\n",
		   "t.yaml:5: source.socket: a socket is a local connection; give it without "
		   "hostname (or with hostname: localhost), not with db1");

	/* TLS */
	expect_err(BASE "  ssl.mode: verify-ca\n",
		   "t.yaml:4: source.ssl.mode: verify-ca needs source.ssl.ca (the CA certificate "
		   "to verify the server's with)");
	expect_err_has(BASE "  ssl.mode: verify-identity\n", "verify-identity needs source.ssl.ca");
	expect_err(BASE "  ssl.cert: /c.pem\n",
		   "t.yaml:4: source.ssl.cert needs source.ssl.key: a client certificate goes "
		   "with its key");
	expect_err(BASE "  ssl.key: /k.pem\n",
		   "t.yaml:4: source.ssl.key needs source.ssl.cert: a client certificate goes "
		   "with its key");
	load_ok(BASE "  ssl.mode: verify-ca\n  ssl.ca: /ca.pem\n  ssl.cert: /c.pem\n"
		     "  ssl.key: /k.pem\n",
		&c);
	assert_string_equal(c.source.conn.ssl_ca, "/ca.pem");
	assert_string_equal(c.source.conn.ssl_cert, "/c.pem");
	assert_string_equal(c.source.conn.ssl_key, "/k.pem");
	cdc_config_free(&c);

	/* where reading starts */
	expect_err(BASE "  scan.startup.mode: specific-offset\n",
		   "t.yaml:4: source.scan.startup.mode: specific-offset needs "
		   "scan.startup.specific-offset.file (and .pos) or "
		   "scan.startup.specific-offset.gtid-set");
	load_ok(BASE "  scan.startup.mode: specific-offset\n"
		     "  scan.startup.specific-offset.file: mysql-bin.000042\n"
		     "  scan.startup.specific-offset.pos: 1234\n",
		&c);
	assert_int_equal(c.source.startup_mode, CDC_STARTUP_SPECIFIC);
	assert_string_equal(c.source.startup_file, "mysql-bin.000042");
	assert_int_equal(c.source.startup_pos, 1234);
	cdc_config_free(&c);
	/* a file alone starts at its first event */
	load_ok(BASE "  scan.startup.mode: specific-offset\n"
		     "  scan.startup.specific-offset.file: mysql-bin.000042\n",
		&c);
	assert_int_equal(c.source.startup_pos, 4);
	cdc_config_free(&c);
	load_ok(BASE "  scan.startup.mode: specific-offset\n"
		     "  scan.startup.specific-offset.gtid-set: 0-1-42\n",
		&c);
	assert_string_equal(c.source.startup_gtid, "0-1-42");
	cdc_config_free(&c);
	expect_err(BASE "  scan.startup.mode: specific-offset\n"
			"  scan.startup.specific-offset.pos: 1234\n",
		   "t.yaml:5: source.scan.startup.specific-offset.pos needs "
		   "scan.startup.specific-offset.file");
	expect_err(BASE "  scan.startup.mode: specific-offset\n"
			"  scan.startup.specific-offset.file: b.000001\n"
			"  scan.startup.specific-offset.gtid-set: 0-1-42\n",
		   "t.yaml:6: source.scan.startup.specific-offset.gtid-set: give a GTID set or a "
		   "file and position, not both");
	expect_err(BASE "  scan.startup.specific-offset.file: b.000001\n",
		   "t.yaml:4: source.scan.startup.specific-offset.file is only read with "
		   "scan.startup.mode: specific-offset (the mode is latest-offset)");
	expect_err(BASE "  scan.startup.mode: timestamp\n",
		   "t.yaml:4: source.scan.startup.mode: timestamp needs "
		   "scan.startup.timestamp-millis");
	expect_err(BASE "  scan.startup.mode: earliest-offset\n"
			"  scan.startup.timestamp-millis: 1718454896000\n",
		   "t.yaml:5: source.scan.startup.timestamp-millis is only read with "
		   "scan.startup.mode: timestamp (the mode is earliest-offset)");
	load_ok(BASE "  scan.startup.mode: timestamp\n"
		     "  scan.startup.timestamp-millis: 1718454896000\n",
		&c);
	assert_int_equal(c.source.startup_mode, CDC_STARTUP_TIMESTAMP);
	assert_int_equal(c.source.startup_ts_ms, 1718454896000ll);
	cdc_config_free(&c);
	expect_err(BASE "  scan.startup.mode: timestamp\n"
			"  scan.startup.timestamp-millis: 9223372036854775808\n",
		   "t.yaml:5: source.scan.startup.timestamp-millis: 9223372036854775808 is out of "
		   "range: 0 or more");
}

static void routes(void **state)
{
	cdc_config_t c;

	(void)state;
	load_ok(KBASE "route:\n"
		      "  - database: shop_([0-9]+)\n"
		      "    table: order_[0-9]+\n"
		      "    topic: ods.orders.${db.1}\n"
		      "    description: the order shards\n"
		      "  - {database: crm, topic: 'crm_${table}'}\n",
		&c);
	assert_int_equal(c.nroutes, 2);
	assert_string_equal(c.routes[0].database, "shop_([0-9]+)");
	assert_string_equal(c.routes[0].table, "order_[0-9]+");
	assert_string_equal(c.routes[0].topic, "ods.orders.${db.1}");
	assert_string_equal(c.routes[0].description, "the order shards");
	assert_string_equal(c.routes[1].database, "crm");
	assert_null(c.routes[1].table);
	assert_string_equal(c.routes[1].topic, "crm_${table}");
	assert_null(c.routes[1].description);
	assert_string_equal(c.sink.topic, "${source}.${db}.${table}");
	cdc_config_free(&c);
	load_ok(KBASE "route: []\n", &c);
	assert_int_equal(c.nroutes, 0);
	cdc_config_free(&c);

	expect_err(KBASE "route:\n  - table: a\n",
		   "t.yaml:8: route: an entry without topic (each rule needs a topic)");
	expect_err(KBASE "route:\n  - table: ''\n    topic: b\n",
		   "t.yaml:8: route.table: no value (omit the key to keep the default)");
	/* an error in a later route leaves the earlier ones freeable */
	expect_err(KBASE "route:\n  - {table: a, topic: b}\n  - {table: [x]}\n",
		   "t.yaml:9: route.table: a list where a single value is wanted");
	/* a pattern that does not compile: the rule, the key, the offset */
	expect_err(KBASE "route:\n  - {table: a, topic: b}\n  - database: shop\n"
			 "    table: order_[0-9\n    topic: x\n",
		   "t.yaml:10: route[2].table: 'order_[0-9' does not compile at offset 10: "
		   "missing terminating ] for character class");
	expect_err(KBASE "route:\n  - {database: 'a(', topic: b}\n",
		   "t.yaml:8: route[1].database: 'a(' does not compile at offset 2: missing "
		   "closing parenthesis");
	/* templates: known names, groups that exist, characters topics allow */
	expect_err(KBASE "route:\n  - {table: 'o_(.)', topic: 'x.${table.2}'}\n",
		   "t.yaml:8: route[1].topic: 'x.${table.2}': ${table.2}, but the table regex "
		   "has 1 capture group");
	expect_err(KBASE "route:\n  - {table: o, topic: 'x.${schema}'}\n",
		   "t.yaml:8: route[1].topic: 'x.${schema}': unknown ${schema} at offset 2 "
		   "(known: ${db}, ${table}, ${source}, ${db.N}, ${table.N})");
	expect_err(KBASE "route:\n  - {table: o, topic: 'a b'}\n",
		   "t.yaml:8: route[1].topic: 'a b': ' ' cannot be in a topic name (letters, "
		   "digits, '.', '_' and '-')");
	expect_err(KBASE "route:\n  - {table: o, topic: 'a$b'}\n",
		   "t.yaml:8: route[1].topic: 'a$b': a '$' at offset 1 that starts no ${name} "
		   "(write $$ for a dollar sign)");
	/* routes choose Kafka topics */
	expect_err(BASE "route:\n  - {table: a, topic: b}\n",
		   "t.yaml:4: route: rules choose Kafka topics; sink.type is file");
}

static void kafka_sink(void **state)
{
	cdc_config_t c;

	(void)state;
	load_ok(KBASE "  delivery: exactly-once\n  heartbeat.interval: 0s\n", &c);
	assert_string_equal(c.sink.type, "kafka");
	assert_string_equal(c.sink.bootstrap, "k1:9092");
	assert_int_equal(c.sink.delivery, CDC_DELIVERY_EXACTLY_ONCE);
	assert_int_equal(c.sink.heartbeat_ms, 0);
	assert_string_equal(c.sink.offsets_topic, "sluice.offsets");
	assert_string_equal(c.sink.compression, "lz4");
	assert_int_equal(c.sink.max_inflight, 100000);
	cdc_config_free(&c);
	expect_err(BASE "sink:\n  type: kafka\n",
		   "t.yaml:4: sink.bootstrap.servers is required with sink.type: kafka "
		   "(host:port of one or more brokers, comma-separated)");
	expect_err(KBASE "  path: /tmp/x\n",
		   "t.yaml:7: sink.path is only read with sink.type: file (the type is kafka)");
	expect_err(BASE "sink:\n  linger: 5ms\n",
		   "t.yaml:5: sink.linger is only read with sink.type: kafka (the type is file)");
	expect_err(KBASE "  transactional.id: x\n",
		   "t.yaml:7: sink.transactional.id is only read with sink.delivery: "
		   "exactly-once");
	expect_err(KBASE "  topic: 'cdc.${db}.${tbl}'\n",
		   "t.yaml:7: sink.topic: 'cdc.${db}.${tbl}': unknown ${tbl} at offset 10 (known: "
		   "${db}, ${table}, ${source}, ${db.N}, ${table.N})");
	load_ok(KBASE "  properties: security.protocol=plaintext, linger.ms = 3\n", &c);
	assert_int_equal(c.sink.properties.n, 2);
	assert_string_equal(c.sink.properties.v[1], "linger.ms = 3");
	cdc_config_free(&c);
	expect_err(KBASE "  properties: [enable.idempotence=false]\n",
		   "t.yaml:7: sink.properties: enable.idempotence is set by sluice (its delivery "
		   "guarantees depend on it); see the sink settings in docs/CONFIGURATION.md");
	expect_err(KBASE "  properties: sasl.password=hunter2\n",
		   "t.yaml:7: sink.properties: sasl.password holds a secret: give it in "
		   "sink.properties-file (a file readable by sluice alone), not in the "
		   "configuration");
	expect_err(KBASE "  properties: no.such.thing=1\n",
		   "t.yaml:7: sink.properties: No such configuration property: \"no.such.thing\"");
	expect_err(KBASE "  properties: [linger.ms]\n",
		   "t.yaml:7: sink.properties: 'linger.ms' is not NAME=VALUE");
	expect_err(KBASE "  delivery: once\n",
		   "t.yaml:7: sink.delivery: 'once' is not one of: at-least-once, exactly-once");
}

/* The reference as cdc_config_doc() writes it. */
static char *reference(size_t *len)
{
	binlog_buf_t b;
	char *s;

	binlog_buf_init(&b, 0);
	cdc_config_doc(&b);
	assert_false(b.failed);
	s = malloc(b.len + 1);
	assert_non_null(s);
	memcpy(s, b.data, b.len);
	s[b.len] = '\0';
	*len = b.len;
	binlog_buf_free(&b);
	return s;
}

/* The example of the reference loads, and means what it says. */
static void reference_example(void **state)
{
	size_t len;
	char *doc = reference(&len), *start, *end;
	cdc_config_t c;
	binlog_err_t err;

	(void)state;
	start = strstr(doc, "```yaml\n");
	assert_non_null(start);
	start += strlen("```yaml\n");
	end = strstr(start, "```\n");
	assert_non_null(end);
	cdc_config_init(&c);
	if (cdc_config_parse("example.yaml", start, (size_t)(end - start), &c, &err) != BINLOG_OK)
		fail_msg("the reference's example does not load: %s", err.msg);
	assert_string_equal(c.source.type, "mariadb");
	assert_string_equal(c.source.name, "db1.internal");
	assert_int_equal(c.source.server_id, 5401);
	assert_int_equal(c.source.tables.n, 2);
	assert_int_equal(c.source.columns_mask.n, 1);
	assert_string_equal(c.source.columns_mask.v[0], "crm\\.customers\\.(email|phone)");
	assert_int_equal(c.nroutes, 1);
	assert_string_equal(c.routes[0].topic, "shop.orders");
	assert_string_equal(c.sink.type, "kafka");
	assert_string_equal(c.pipeline.name, "shop");
	assert_int_equal(c.pipeline.checkpoint_interval_ms, 500);
	cdc_config_free(&c);
	free(doc);
}

/* Every setting in one file, loaded from disk as `sluice` would. */
static void full_file(void **state)
{
	static const char yaml[] = "# every setting\n"
				   "source:\n"
				   "  type: mysql\n"
				   "  registered: db1\n"
				   "  name: shop-db\n"
				   "  hostname: db1.internal\n"
				   "  port: 3307\n"
				   "  username: sluice\n"
				   "  password-file: /etc/sluice/db1.password\n"
				   "  ssl.mode: verify-identity\n"
				   "  ssl.ca: /etc/ssl/ca.pem\n"
				   "  ssl.cert: /etc/ssl/sluice.pem\n"
				   "  ssl.key: /etc/ssl/sluice.key\n"
				   "  server-id: 5401\n"
				   "  tables: [shop\\..*, crm\\.customers]\n"
				   "  tables.exclude: shop\\.tmp_.*\n"
				   "  columns.exclude: crm\\.customers\\.notes\n"
				   "  columns.mask: crm\\.customers\\.(email|phone)\n"
				   "  scan.startup.mode: specific-offset\n"
				   "  scan.startup.specific-offset.file: mysql-bin.000042\n"
				   "  scan.startup.specific-offset.pos: 1234\n"
				   "  heartbeat.interval: 10s\n"
				   "  connect.timeout: 5s\n"
				   "  connect.max-retries: 20\n"
				   "  connect.backoff.max: 2m\n"
				   "  schema.catalog: always\n"
				   "sink:\n"
				   "  type: kafka\n"
				   "  bootstrap.servers: k1:9092,k2:9092\n"
				   "  topic: cdc.${source}.${db}.${table}\n"
				   "  delivery: exactly-once\n"
				   "  transactional.id: shop-1\n"
				   "  offsets.topic: shop.offsets\n"
				   "  heartbeat.interval: 1m\n"
				   "  compression: zstd\n"
				   "  linger: 20ms\n"
				   "  max-inflight-records: 5000\n"
				   "  max-inflight-bytes: 16MiB\n"
				   "  max-record-size: 4MiB\n"
				   "  request.timeout: 10s\n"
				   "route:\n"
				   "  - database: shop_([0-9]+)\n"
				   "    table: order_[0-9]+\n"
				   "    topic: ods.orders\n"
				   "    description: shards\n"
				   "pipeline:\n"
				   "  name: shop\n"
				   "  state-dir: /var/lib/sluice/state\n"
				   "  checkpoint.interval: 250ms\n"
				   "  max-event-size: 256MiB\n"
				   "  max-inflated-size: 2GiB\n";
	char path[] = "/tmp/sluice-config-XXXXXX";
	cdc_config_t c;
	binlog_err_t err;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), (ssize_t)(sizeof(yaml) - 1));
	close(fd);
	cdc_config_init(&c);
	if (cdc_config_load(path, &c, &err) != BINLOG_OK)
		fail_msg("unexpected error: %s", err.msg);
	unlink(path);
	assert_string_equal(c.path, path);
	assert_string_equal(c.source.type, "mysql");
	assert_string_equal(c.source.registered, "db1");
	assert_string_equal(c.source.name, "shop-db");
	assert_string_equal(c.source.conn.host, "db1.internal");
	assert_int_equal(c.source.conn.port, 3307);
	assert_string_equal(c.source.conn.user, "sluice");
	assert_string_equal(c.source.conn.password_file, "/etc/sluice/db1.password");
	assert_int_equal(c.source.conn.ssl_mode, CDC_SSL_VERIFY_IDENTITY);
	assert_string_equal(c.source.conn.ssl_key, "/etc/ssl/sluice.key");
	assert_int_equal(c.source.server_id, 5401);
	assert_int_equal(c.source.tables.n, 2);
	assert_int_equal(c.source.tables_exclude.n, 1);
	assert_int_equal(c.source.columns_exclude.n, 1);
	assert_int_equal(c.source.columns_mask.n, 1);
	assert_int_equal(c.source.startup_mode, CDC_STARTUP_SPECIFIC);
	assert_int_equal(c.source.startup_pos, 1234);
	assert_int_equal(c.source.heartbeat_ms, 10000);
	assert_int_equal(c.source.connect_timeout_ms, 5000);
	assert_int_equal(c.source.conn.connect_timeout_s, 5);
	assert_int_equal(c.source.connect_max_retries, 20);
	assert_int_equal(c.source.backoff_max_ms, 120000);
	assert_int_equal(c.source.catalog, CDC_CATALOG_ALWAYS);
	assert_string_equal(c.sink.bootstrap, "k1:9092,k2:9092");
	assert_string_equal(c.sink.topic, "cdc.${source}.${db}.${table}");
	assert_int_equal(c.sink.delivery, CDC_DELIVERY_EXACTLY_ONCE);
	assert_string_equal(c.sink.transactional_id, "shop-1");
	assert_string_equal(c.sink.offsets_topic, "shop.offsets");
	assert_int_equal(c.sink.heartbeat_ms, 60000);
	assert_string_equal(c.sink.compression, "zstd");
	assert_int_equal(c.sink.linger_ms, 20);
	assert_int_equal(c.sink.max_inflight, 5000);
	assert_int_equal(c.sink.max_inflight_bytes, 16 << 20);
	assert_int_equal(c.sink.max_record_size, 4 << 20);
	assert_int_equal(c.sink.request_timeout_ms, 10000);
	assert_int_equal(c.nroutes, 1);
	assert_string_equal(c.pipeline.state_dir, "/var/lib/sluice/state");
	assert_int_equal(c.pipeline.checkpoint_interval_ms, 250);
	assert_int_equal(c.pipeline.max_event_size, 256u << 20);
	assert_int_equal(c.pipeline.max_inflated_size, 2ull << 30);
	cdc_config_free(&c);

	/* a file that is not there */
	cdc_config_init(&c);
	assert_int_equal(cdc_config_load("/nonexistent/sluice.yaml", &c, &err), BINLOG_E_LOCAL_IO);
	assert_string_equal(err.msg, "/nonexistent/sluice.yaml: No such file or directory");
	cdc_config_free(&c);
}

/* Loading twice into one configuration replaces, and leaks nothing. */
static void load_over(void **state)
{
	cdc_config_t c;
	binlog_err_t err;
	const char *second = BASE "  tables: b\nsink: {type: kafka, bootstrap.servers: k}\n"
				  "route:\n  - {table: x, topic: y}\n";

	(void)state;
	load_ok(BASE "  tables: a, b\n  hostname: h1\nsink: {type: kafka, bootstrap.servers: k}\n"
		     "route:\n  - {table: a, topic: b}\n",
		&c);
	assert_int_equal(cdc_config_parse("u.yaml", second, strlen(second), &c, &err), BINLOG_OK);
	assert_string_equal(c.path, "u.yaml");
	assert_int_equal(c.source.tables.n, 1);
	assert_string_equal(c.routes[0].table, "x");
	cdc_config_free(&c);
}

static void reference_is_deterministic(void **state)
{
	size_t n1, n2;
	char *a = reference(&n1), *b = reference(&n2);

	(void)state;
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, n1);
	/* one row per setting, under each block's heading */
	assert_non_null(strstr(a, "\n## source\n"));
	assert_non_null(strstr(a, "\n## sink\n"));
	assert_non_null(strstr(a, "\n## route\n"));
	assert_non_null(strstr(a, "\n## pipeline\n"));
	assert_non_null(strstr(a, "| `port` | integer | `3306` | 1..65535 |"));
	assert_non_null(strstr(a, "| `max-event-size` | size | `1GiB+64KiB` | 64KiB..4GiB |"));
	assert_non_null(strstr(a, "| `checkpoint.interval` | duration | `1s` | 10ms..1h |"));
	free(a);
	free(b);
}

static char *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t r;
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			s = realloc(s, cap + 1);
			assert_non_null(s);
		}
		r = fread(s + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	s[n] = '\0';
	*len = n;
	return s;
}

/* THE DRIFT TEST: docs/CONFIGURATION.md is what `sluice config docs`
 * prints, byte for byte. */
static void reference_matches_docs(void **state)
{
	static const char *const cands[] = {"docs/CONFIGURATION.md", "../docs/CONFIGURATION.md"};
	size_t glen, flen = 0, line = 1, i = 0;
	char *gen = reference(&glen), *file = NULL;
	const char *used = NULL;

	(void)state;
	for (size_t k = 0; k < sizeof(cands) / sizeof(cands[0]) && !file; k++)
		if ((file = read_whole(cands[k], &flen)) != NULL)
			used = cands[k];
	if (!file) {
		free(gen);
		fail_msg("docs/CONFIGURATION.md not found from the working directory (run the "
			 "tests from the repository root: make test T=cdc_config)");
	}
	if (flen == glen && memcmp(file, gen, glen) == 0) {
		free(file);
		free(gen);
		return;
	}
	/* The first line that differs, both ways. */
	while (i < flen && i < glen && file[i] == gen[i]) {
		if (file[i] == '\n')
			line++;
		i++;
	}
	{
		size_t a = i, b = i;
		while (a > 0 && file[a - 1] != '\n')
			a--;
		while (b < flen && file[b] != '\n')
			b++;
		print_error("%s:%zu differs from the generated reference\n", used, line);
		print_error("  file:      %.*s\n", (int)(b - a), file + a);
		b = i;
		while (b < glen && gen[b] != '\n')
			b++;
		print_error("  generated: %.*s\n", (int)(b - a), gen + a);
	}
	free(file);
	free(gen);
	fail_msg("docs/CONFIGURATION.md is out of date; run: build/sluice config docs > "
		 "docs/CONFIGURATION.md");
}

/* A registered source under the file's settings: its entry supplies what
 * the file leaves out (username, server-id included), the file overrides
 * the rest; a name with no entry is an error naming the registry. */
static void registered_source(void **state)
{
	cdc_config_t c;
	binlog_err_t err;

	(void)state;
	load_ok("source:\n  registered: db1\n  port: 3310\n", &c);
	assert_string_equal(c.source.conn.host, "db1.internal");
	assert_int_equal(c.source.conn.port, 3310);
	assert_string_equal(c.source.conn.user, "repl");
	assert_int_equal(c.source.server_id, 4242);
	assert_string_equal(c.source.conn.password_env, "DB1_PASSWORD");
	assert_string_equal(c.source.name, "db1");
	cdc_config_free(&c);

	/* a password file given here replaces the registered variable; a
	 * socket, the registered host */
	load_ok("source:\n  registered: db1\n  password-file: /run/pw\n  socket: /tmp/s\n", &c);
	assert_null(c.source.conn.password_env);
	assert_string_equal(c.source.conn.password_file, "/run/pw");
	assert_string_equal(c.source.conn.host, "localhost");
	cdc_config_free(&c);

	assert_int_equal(parse("source:\n  registered: nope\n", &c, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "t.yaml:2: source.registered: no source named nope is "
					"registered ("));
	assert_non_null(strstr(err.msg, "`sluice source list`"));
	cdc_config_free(&c);

	assert_int_equal(parse("source:\n  registered: a/b\n", &c, &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "'a/b' is not a source name"));
	cdc_config_free(&c);
}

static int make_registry(void **state)
{
	cdc_source_conf_t src;
	binlog_err_t err;

	(void)state;
	snprintf(home, sizeof(home), "%s/sluice-cfg-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(home))
		return -1;
	setenv("SLUICE_HOME", home, 1);
	memset(&src, 0, sizeof(src));
	src.type = "mysql";
	src.conn.host = "db1.internal";
	src.conn.port = 3306;
	src.conn.user = "repl";
	src.conn.password_env = "DB1_PASSWORD";
	src.server_id = 4242;
	return cdc_registry_add(home, "db1", &src, 0, 0, &err) == BINLOG_OK ? 0 : -1;
}

static int remove_registry(void **state)
{
	char path[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/sources/db1.yaml", home);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sources", home);
	rmdir(path);
	rmdir(home);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(minimal_and_derived),
		cmocka_unit_test(integers),
		cmocka_unit_test(booleans),
		cmocka_unit_test(durations),
		cmocka_unit_test(sizes),
		cmocka_unit_test(enums),
		cmocka_unit_test(lists),
		cmocka_unit_test(strings_and_secrets),
		cmocka_unit_test(unknown_keys),
		cmocka_unit_test(repeated_keys),
		cmocka_unit_test(structure),
		cmocka_unit_test(cross_field_rules),
		cmocka_unit_test(routes),
		cmocka_unit_test(kafka_sink),
		cmocka_unit_test(reference_example),
		cmocka_unit_test(full_file),
		cmocka_unit_test(load_over),
		cmocka_unit_test(reference_is_deterministic),
		cmocka_unit_test(reference_matches_docs),
		cmocka_unit_test(registered_source),
	};

	return cmocka_run_group_tests(tests, make_registry, remove_registry);
}
