/*
 * cdc_config.c: the pipeline's YAML configuration: one table of settings,
 * and the loader, the validator and the reference documentation, all
 * made from it.
 *
 * The file is read with libyaml's event parser into a small tree of
 * scalars, mappings and sequences that keeps each node's line, so every
 * message can say where. The tree is then walked against the table: each
 * key is looked up in its block, its value parsed by the setting's type
 * and stored at the setting's offset. Rules that involve several settings
 * are checked last, with the lines where those settings were given.
 *
 * Defaults are written in the table as text in the file's own syntax and
 * parsed by the same code as the file, so the default the documentation
 * shows is the default sluice uses.
 */
#include "cdc_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "cdc_fs.h"
#include "cdc_registry.h"
#include "cdc_route.h"
#include "sink_kafka.h"

/* A configuration is a page of text; anything bigger is not one, and the
 * limit bounds what the tree may cost. */
#define CONFIG_MAX_BYTES (1u << 20)
/* The deepest a valid file goes is 3 (route, entry, value); the margin
 * only serves better messages. The limit keeps the recursion bounded. */
#define CONFIG_MAX_DEPTH 16
/* Values longer than this are cut in messages. */
#define SHOW_MAX 64

/* ------------------------------------------------------------------ */
/* The table of settings                                               */

/* In the order the documentation lists them. */
enum block {
	B_SOURCE,
	B_SINK,
	B_ROUTE,
	B_PIPELINE,
	B__COUNT,
};

static const char *const block_names[B__COUNT] = {"source", "sink", "route", "pipeline"};

static const char *const block_docs[B__COUNT] = {
	"The server whose binlog sluice reads, how to reach it, which tables and columns "
	"are captured, and where reading starts.",
	"Where records go: a file (or standard output), or Kafka.",
	"Kafka sink: an ordered list of rules; the first whose `database` and `table` "
	"regexes both match a table's names gives its topic. Tables no rule matches go to "
	"`sink.topic`. Sharded tables merge into one topic this way; each record keeps its "
	"physical database and table (headers, value and key).",
	"The pipeline as a whole: its name, where it keeps its state, and its limits.",
};

enum stype {
	T_STR,
	T_INT,      /* whole number in min..max */
	T_BOOL,     /* true or false */
	T_DURATION, /* "30s", stored as milliseconds */
	T_SIZE,     /* "64KiB", stored as bytes */
	T_ENUM,     /* one of vals */
	T_LIST,     /* cdc_list_t */
	T_SECRET,   /* where a secret is: a path or a variable name */
	T_REFUSED,  /* a key people expect that sluice refuses on purpose */
};

static const char *const type_names[] = {
	[T_STR] = "string",      [T_INT] = "integer",
	[T_BOOL] = "boolean",    [T_DURATION] = "duration",
	[T_SIZE] = "size",       [T_ENUM] = "enum",
	[T_LIST] = "list",       [T_SECRET] = "secret reference",
	[T_REFUSED] = "refused",
};

enum {
	F_REQUIRED = 1, /* no default: the file must give it */
	F_STRVAL = 2,   /* an enum stored as its (char *) name, not an int */
	F_ENVNAME = 4,  /* a secret reference that names an environment variable */
	F_OPEN = 8,     /* no upper bound worth showing (max is the storage's) */
};

struct enum_val {
	const char *name;
	int value;
};

typedef struct setting {
	unsigned char block; /* enum block */
	unsigned char type;  /* enum stype */
	unsigned char flags;
	const char *key;         /* within its block, Flink CDC style */
	const char *def;         /* default in the file's syntax; NULL: none */
	const char *def_doc;     /* the default as documented when it is derived */
	const char *allowed_doc; /* the "allowed" column of strings and lists */
	uint64_t min, max;       /* T_INT, T_DURATION (ms), T_SIZE (bytes) */
	const struct enum_val *vals;
	const char *note; /* added to a rejected value's message; for T_REFUSED,
			   * the whole message */
	const char *doc;
	size_t off, size; /* where it is stored: in cdc_config_t, or in
			   * cdc_route_conf_t for B_ROUTE */
} setting_t;

static const struct enum_val source_types[] = {
	{"mariadb", 0},
	{"mysql", 0},
	{NULL, 0},
};

static const struct enum_val ssl_modes[] = {
	{"disabled", CDC_SSL_DISABLED},
	{"preferred", CDC_SSL_PREFERRED},
	{"required", CDC_SSL_REQUIRED},
	{"verify-ca", CDC_SSL_VERIFY_CA},
	{"verify-identity", CDC_SSL_VERIFY_IDENTITY},
	{NULL, 0},
};

static const struct enum_val startup_modes[] = {
	{"earliest-offset", CDC_STARTUP_EARLIEST},
	{"latest-offset", CDC_STARTUP_LATEST},
	{"specific-offset", CDC_STARTUP_SPECIFIC},
	{"timestamp", CDC_STARTUP_TIMESTAMP},
	{"initial", CDC_STARTUP_INITIAL},
	{"when_needed", CDC_STARTUP_WHEN_NEEDED},
	{NULL, 0},
};

static const struct enum_val catalog_modes[] = {
	{"auto", CDC_CATALOG_AUTO},
	{"always", CDC_CATALOG_ALWAYS},
	{"never", CDC_CATALOG_NEVER},
	{NULL, 0},
};

static const struct enum_val sink_types[] = {
	{"file", 0},
	{"kafka", 0},
	{NULL, 0},
};

static const struct enum_val deliveries[] = {
	{"at-least-once", CDC_DELIVERY_AT_LEAST_ONCE},
	{"exactly-once", CDC_DELIVERY_EXACTLY_ONCE},
	{NULL, 0},
};

static const struct enum_val compressions[] = {
	{"none", 0}, {"gzip", 0}, {"snappy", 0}, {"lz4", 0}, {"zstd", 0}, {NULL, 0},
};

#define CF(f) .off = offsetof(cdc_config_t, f), .size = sizeof(((cdc_config_t *)0)->f)
#define RF(f) .off = offsetof(cdc_route_conf_t, f), .size = sizeof(((cdc_route_conf_t *)0)->f)

#define MS_S 1000ull
#define MS_M (60 * MS_S)
#define MS_H (60 * MS_M)
#define KIB  1024ull
#define GIB  (KIB * KIB * KIB)

/* clang-format off */
static const setting_t settings[] = {
	/* source */
	{.block = B_SOURCE, .key = "type", .type = T_ENUM, .flags = F_STRVAL,
	 .vals = source_types, CF(source.type),
	 .doc = "The server's flavour. When set, sluice refuses to run against the other one; "
		"unset, it is detected from the server."},
	{.block = B_SOURCE, .key = "registered", .type = T_STR, .allowed_doc = "source name",
	 CF(source.registered),
	 .doc = "A source of the source registry that this block extends: keys given here "
		"override the registered ones."},
	{.block = B_SOURCE, .key = "name", .type = T_STR,
	 .def_doc = "`registered`, else `hostname`", CF(source.name),
	 .doc = "The source's name in records and in the state directory."},
	{.block = B_SOURCE, .key = "hostname", .type = T_STR, .def = "127.0.0.1",
	 .allowed_doc = "host name or IP address", CF(source.conn.host),
	 .doc = "The server to connect to."},
	{.block = B_SOURCE, .key = "port", .type = T_INT, .def = "3306", .min = 1, .max = 65535,
	 CF(source.conn.port),
	 .doc = "The server's TCP port."},
	{.block = B_SOURCE, .key = "socket", .type = T_STR, .allowed_doc = "path",
	 CF(source.conn.socket),
	 .doc = "A Unix socket to connect through instead of TCP (`hostname` unset or "
		"`localhost`)."},
	{.block = B_SOURCE, .key = "username", .type = T_STR, .flags = F_REQUIRED,
	 CF(source.conn.user),
	 .doc = "The user sluice connects as; it needs the REPLICATION SLAVE, REPLICATION "
		"CLIENT and SELECT privileges."},
	{.block = B_SOURCE, .key = "password-file", .type = T_SECRET, .allowed_doc = "path",
	 CF(source.conn.password_file),
	 .doc = "A file whose first line is the password (keep it readable by sluice "
		"alone)."},
	{.block = B_SOURCE, .key = "password-env", .type = T_SECRET, .flags = F_ENVNAME,
	 .allowed_doc = "environment variable name", CF(source.conn.password_env),
	 .doc = "An environment variable that holds the password; with neither this nor "
		"`password-file`, the password is empty."},
	{.block = B_SOURCE, .key = "password", .type = T_REFUSED,
	 .note = "passwords are not read from configuration files: give password-file (a "
		 "file whose first line is the password) or password-env (an environment "
		 "variable that holds it)",
	 .doc = "Refused: passwords never live in configuration files. Use `password-file` "
		"or `password-env`."},
	{.block = B_SOURCE, .key = "ssl.mode", .type = T_ENUM, .def = "preferred",
	 .vals = ssl_modes, CF(source.conn.ssl_mode),
	 .doc = "TLS: `preferred` uses it when the server offers it, `required` insists on "
		"it, `verify-ca` also checks the server's certificate against `ssl.ca`, "
		"`verify-identity` also its host name."},
	{.block = B_SOURCE, .key = "ssl.ca", .type = T_STR, .allowed_doc = "path",
	 CF(source.conn.ssl_ca),
	 .doc = "The CA certificate (PEM) that the server's certificate must chain to; "
		"needed by `verify-ca` and `verify-identity`."},
	{.block = B_SOURCE, .key = "ssl.cert", .type = T_STR, .allowed_doc = "path",
	 CF(source.conn.ssl_cert),
	 .doc = "A client certificate (PEM) for servers that require one; goes with "
		"`ssl.key`."},
	{.block = B_SOURCE, .key = "ssl.key", .type = T_STR, .allowed_doc = "path",
	 CF(source.conn.ssl_key),
	 .doc = "The private key (PEM) of `ssl.cert`."},
	{.block = B_SOURCE, .key = "server-id", .type = T_INT, .flags = F_REQUIRED, .min = 1,
	 .max = 4294967295u, CF(source.server_id),
	 .doc = "The server id sluice replicates as; it must differ from the id of every "
		"server and replica of the topology."},
	{.block = B_SOURCE, .key = "tables", .type = T_LIST, .def_doc = "empty: every table",
	 .allowed_doc = "regexes on `db.table`", CF(source.tables),
	 .doc = "The tables to capture, matched against the whole `db.table` (escape the "
		"dot: `shop\\.orders`)."},
	{.block = B_SOURCE, .key = "tables.exclude", .type = T_LIST,
	 .allowed_doc = "regexes on `db.table`", CF(source.tables_exclude),
	 .doc = "Tables not to capture, even when `tables` matches them."},
	{.block = B_SOURCE, .key = "columns.exclude", .type = T_LIST,
	 .allowed_doc = "regexes on `db.table.column`", CF(source.columns_exclude),
	 .doc = "Columns left out of records."},
	{.block = B_SOURCE, .key = "columns.mask", .type = T_LIST,
	 .allowed_doc = "regexes on `db.table.column`", CF(source.columns_mask),
	 .doc = "Columns whose values records show as `\"****\"` (a NULL stays null), so "
		"consumers see that a value exists without seeing it."},
	{.block = B_SOURCE, .key = "scan.startup.mode", .type = T_ENUM, .def = "latest-offset",
	 .vals = startup_modes, CF(source.startup_mode),
	 .doc = "Where reading starts when the state directory holds no position yet: the "
		"oldest binlog the server keeps, its current position, a given position, a "
		"point in time; or `initial`: a snapshot of the captured tables (read while "
		"the binlog is followed from the current position, docs/SNAPSHOT.md); "
		"`when_needed`: `initial`, and when the stored position has been purged from "
		"the server, a backfill snapshot of every captured table from the current "
		"position instead of stopping."},
	{.block = B_SOURCE, .key = "scan.snapshot.parallelism", .type = T_INT, .def = "4",
	 .min = 1, .max = 64, CF(source.snapshot_readers),
	 .doc = "Snapshot chunks read at once, each on a connection of its own."},
	{.block = B_SOURCE, .key = "scan.snapshot.chunk.size", .type = T_INT, .def = "8192",
	 .min = 1, .max = 100000000, CF(source.snapshot_chunk_rows),
	 .doc = "Rows per snapshot chunk (a range of the primary key). Memory holds at most "
		"2 x parallelism chunks."},
	{.block = B_SOURCE, .key = "scan.snapshot.chunk.max-bytes", .type = T_SIZE,
	 .def = "256MiB", .min = 1 << 20, .max = (uint64_t)1 << 40,
	 CF(source.snapshot_chunk_bytes),
	 .doc = "The most one chunk's records may take; a chunk over it stops the snapshot "
		"with an error asking for a smaller chunk.size."},
	{.block = B_SOURCE, .key = "scan.snapshot.window-keys", .type = T_INT,
	 .def = "1000000", .min = 1, .max = 1000000000, CF(source.snapshot_window_keys),
	 .doc = "Keys changed by the binlog while one chunk is read that are remembered; a "
		"chunk whose table changes more in that time is read again."},
	{.block = B_SOURCE, .key = "scan.startup.specific-offset.file", .type = T_STR,
	 .allowed_doc = "binlog file name", CF(source.startup_file),
	 .doc = "`specific-offset`: the binlog file to start in."},
	{.block = B_SOURCE, .key = "scan.startup.specific-offset.pos", .type = T_INT,
	 .flags = F_OPEN, .def = "4", .min = 4, .max = UINT64_MAX, CF(source.startup_pos),
	 .doc = "`specific-offset`: the position in that file to start at (4: its first "
		"event)."},
	{.block = B_SOURCE, .key = "scan.startup.specific-offset.gtid-set", .type = T_STR,
	 .allowed_doc = "GTID set", CF(source.startup_gtid),
	 .doc = "`specific-offset`, instead of a file and position: the transactions "
		"already processed; reading starts after them."},
	{.block = B_SOURCE, .key = "scan.startup.timestamp-millis", .type = T_INT,
	 .flags = F_OPEN, .min = 0, .max = INT64_MAX, CF(source.startup_ts_ms),
	 .doc = "`timestamp`: start at the first transaction committed at or after this "
		"time, in milliseconds since 1970-01-01 UTC."},
	{.block = B_SOURCE, .key = "heartbeat.interval", .type = T_DURATION, .def = "30s",
	 .min = 1 * MS_S, .max = 1 * MS_H, CF(source.heartbeat_ms),
	 .doc = "How often the server sends a heartbeat when it has no events to send, so "
		"that a dead connection is noticed."},
	{.block = B_SOURCE, .key = "connect.timeout", .type = T_DURATION, .def = "30s",
	 .min = 1 * MS_S, .max = 1 * MS_H, CF(source.connect_timeout_ms),
	 .doc = "How long connecting to the server may take."},
	{.block = B_SOURCE, .key = "connect.max-retries", .type = T_INT, .def = "0", .min = 0,
	 .max = 4294967295u, CF(source.connect_max_retries),
	 .doc = "How many times a lost or refused connection is retried before sluice gives "
		"up; 0 retries for ever."},
	{.block = B_SOURCE, .key = "connect.backoff.max", .type = T_DURATION, .def = "60s",
	 .min = 1 * MS_S, .max = 1 * MS_H, CF(source.backoff_max_ms),
	 .doc = "The longest wait between two connection attempts; the wait grows up to "
		"this."},
	{.block = B_SOURCE, .key = "schema.catalog", .type = T_ENUM, .def = "auto",
	 .vals = catalog_modes, CF(source.catalog),
	 .doc = "When to read the server's catalog: `auto` for column names and keys the "
		"binlog lacks, `always` also for types and signedness the binlog cannot tell, "
		"`never` (binlog only: positional names)."},

	/* sink */
	{.block = B_SINK, .key = "type", .type = T_ENUM, .flags = F_STRVAL, .def = "file",
	 .vals = sink_types, CF(sink.type),
	 .doc = "The kind of sink: `file` (JSON lines to a file or standard output) or "
		"`kafka`."},
	{.block = B_SINK, .key = "path", .type = T_STR, .def = "-", .allowed_doc = "path",
	 CF(sink.path),
	 .doc = "`file`: the file records are appended to, one JSON line each; `-` is "
		"standard output."},
	{.block = B_SINK, .key = "fsync", .type = T_BOOL, .def = "true", CF(sink.fsync),
	 .doc = "`file`: a checkpoint first fsyncs the file, so a crash loses no record "
		"whose position was saved."},
	{.block = B_SINK, .key = "headers", .type = T_BOOL, .def = "true", CF(sink.headers),
	 .doc = "`file`: each line is an object with the record's headers and its value; "
		"`false` writes the value alone."},
	{.block = B_SINK, .key = "bootstrap.servers", .type = T_STR,
	 .allowed_doc = "host:port, comma-separated", CF(sink.bootstrap),
	 .doc = "`kafka`: brokers to connect to first (required for `kafka`)."},
	{.block = B_SINK, .key = "topic", .type = T_STR, .def = "${source}.${db}.${table}",
	 .allowed_doc = "template", CF(sink.topic),
	 .doc = "`kafka`: the topic of tables no `route` rule matches. `${source}`, `${db}` "
		"and `${table}` are replaced by the source's name and the table's names; a "
		"character Kafka does not allow in a topic name becomes `_`."},
	{.block = B_SINK, .key = "delivery", .type = T_ENUM, .def = "at-least-once",
	 .vals = deliveries, CF(sink.delivery),
	 .doc = "`kafka`: `at-least-once` (idempotent producer; a restart may repeat "
		"what followed the last checkpoint) or `exactly-once` (Kafka transactions: "
		"records and source offsets commit together; read with "
		"`isolation.level=read_committed`)."},
	{.block = B_SINK, .key = "transactional.id", .type = T_STR,
	 .def_doc = "`sluice-` and `pipeline.name`", CF(sink.transactional_id),
	 .doc = "`exactly-once`: the producer's transactional id; a second process with the "
		"same id fences the first."},
	{.block = B_SINK, .key = "offsets.topic", .type = T_STR, .def = "sluice.offsets",
	 .allowed_doc = "topic name", CF(sink.offsets_topic),
	 .doc = "`exactly-once`: the topic the source offsets are committed to, inside each "
		"transaction (keyed by pipeline name; make it compacted)."},
	{.block = B_SINK, .key = "heartbeat.interval", .type = T_DURATION, .def = "30s",
	 .min = 0, .max = 1 * MS_H, CF(sink.heartbeat_ms),
	 .doc = "`kafka`: a captured table with no change for this long gets a heartbeat "
		"record on every partition of its topic; `0s` sends none."},
	{.block = B_SINK, .key = "compression", .type = T_ENUM, .flags = F_STRVAL,
	 .def = "lz4", .vals = compressions, CF(sink.compression),
	 .doc = "`kafka`: how record batches are compressed."},
	{.block = B_SINK, .key = "linger", .type = T_DURATION, .def = "5ms", .min = 0,
	 .max = 10 * MS_S, CF(sink.linger_ms),
	 .doc = "`kafka`: how long records wait to fill a batch."},
	{.block = B_SINK, .key = "max-inflight-records", .type = T_INT, .def = "100000",
	 .min = 1, .max = 10000000, CF(sink.max_inflight),
	 .doc = "`kafka`: the most records produced and not yet acknowledged; when reached, "
		"reading the binlog waits (back-pressure)."},
	{.block = B_SINK, .key = "max-inflight-bytes", .type = T_SIZE, .def = "64MiB",
	 .min = 1 * KIB * KIB, .max = 2 * GIB, CF(sink.max_inflight_bytes),
	 .doc = "`kafka`: the same bound in bytes."},
	{.block = B_SINK, .key = "max-record-size", .type = T_SIZE, .def = "1MiB",
	 .min = 1 * KIB, .max = 512 * KIB * KIB, CF(sink.max_record_size),
	 .doc = "`kafka`: the largest record (value, key and headers) sent; a larger one "
		"stops the pipeline with an error naming its table and sequence. The topic's "
		"`max.message.bytes` (and the brokers' `message.max.bytes`) must allow it too."},
	{.block = B_SINK, .key = "request.timeout", .type = T_DURATION, .def = "30s",
	 .min = 1 * MS_S, .max = 10 * MS_M, CF(sink.request_timeout_ms),
	 .doc = "`kafka`: how long a broker may take to answer a request before it is "
		"retried. Records themselves are retried until acknowledged, never dropped."},

	{.block = B_SINK, .key = "properties", .type = T_LIST,
	 .allowed_doc = "`NAME=VALUE` librdkafka producer properties", CF(sink.properties),
	 .doc = "`kafka`: client properties passed to librdkafka, for security "
		"(`security.protocol=SASL_SSL`, `sasl.mechanisms`, `ssl.ca.location`, ...) and "
		"tuning. Properties sluice sets for its guarantees (idempotence, transactions, "
		"timeouts, acks) are refused, and so are secrets: those go in "
		"`properties-file`."},
	{.block = B_SINK, .key = "properties-file", .type = T_STR, .allowed_doc = "path",
	 CF(sink.properties_file),
	 .doc = "`kafka`: a file of `NAME=VALUE` lines (and `#` comments) applied after "
		"`properties`; the place for `sasl.password` and other secrets (keep it readable "
		"by sluice alone)."},

	/* route: offsets into cdc_route_conf_t */
	{.block = B_ROUTE, .key = "database", .type = T_STR, .def_doc = "any",
	 .allowed_doc = "regex on the database name", RF(database),
	 .doc = "The databases this rule applies to, matched against the whole name."},
	{.block = B_ROUTE, .key = "table", .type = T_STR, .def_doc = "any",
	 .allowed_doc = "regex on the table name", RF(table),
	 .doc = "The tables this rule applies to, matched against the whole name."},
	{.block = B_ROUTE, .key = "topic", .type = T_STR, .flags = F_REQUIRED,
	 .allowed_doc = "template", RF(topic),
	 .doc = "Their topic: `${db}`, `${table}` and `${source}` as in `sink.topic`, and "
		"`${db.1}`.., `${table.1}`.. the capture groups of `database` and `table`."},
	{.block = B_ROUTE, .key = "description", .type = T_STR, RF(description),
	 .doc = "Free text for people reading the file."},

	/* pipeline */
	{.block = B_PIPELINE, .key = "name", .type = T_STR, .def = "sluice",
	 CF(pipeline.name),
	 .doc = "The pipeline's name, in logs and messages."},
	{.block = B_PIPELINE, .key = "state-dir", .type = T_STR, .def = "sluice-state",
	 .allowed_doc = "path", CF(pipeline.state_dir),
	 .doc = "The directory where sluice keeps its position and schema history; one "
		"directory per pipeline."},
	{.block = B_PIPELINE, .key = "checkpoint.interval", .type = T_DURATION, .def = "1s",
	 .min = 10, .max = 1 * MS_H, CF(pipeline.checkpoint_interval_ms),
	 .doc = "How often the position is saved, once the sink has flushed what comes "
		"before it; a restart repeats at most this much."},
	{.block = B_PIPELINE, .key = "max-event-size", .type = T_SIZE, .def = "1GiB+64KiB",
	 .min = 64 * KIB, .max = 4 * GIB, CF(pipeline.max_event_size),
	 .doc = "The largest binlog event accepted; a larger one is an error before anything "
		"is allocated for it."},
	{.block = B_PIPELINE, .key = "max-inflated-size", .type = T_SIZE, .def = "1GiB",
	 .min = 64 * KIB, .max = 64 * GIB, CF(pipeline.max_inflated_size),
	 .doc = "The most a compressed transaction, event or column may inflate to."},
};
/* clang-format on */

#define NSET (sizeof(settings) / sizeof(settings[0]))

static const setting_t *find_setting(int block, const char *key, size_t len)
{
	for (size_t i = 0; i < NSET; i++)
		if (settings[i].block == block && strlen(settings[i].key) == len &&
		    memcmp(settings[i].key, key, len) == 0)
			return &settings[i];
	return NULL;
}

static const setting_t *setting_named(int block, const char *key)
{
	return find_setting(block, key, strlen(key));
}

static void *slot(void *base, const setting_t *s)
{
	return (char *)base + s->off;
}

static void store_uint(void *p, size_t size, uint64_t v)
{
	/* The table's ranges keep v within the field; see the table. */
	switch (size) {
	case 1: {
		uint8_t x = (uint8_t)v;
		memcpy(p, &x, 1);
		break;
	}
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		break;
	}
	default: {
		memcpy(p, &v, 8);
		break;
	}
	}
}

/* ------------------------------------------------------------------ */
/* Parsing values: pure functions, shared by defaults and the loader    */

enum { P_OK, P_BAD, P_RANGE };

/* A whole decimal number: the digits of s[*i..], at least one. */
static int parse_digits(const char *s, size_t n, size_t *i, uint64_t *v)
{
	size_t start = *i;
	int over = 0;

	*v = 0;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		unsigned d = (unsigned)(s[*i] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			over = 1;
		else
			*v = *v * 10 + d;
		(*i)++;
	}
	if (*i == start)
		return P_BAD;
	return over ? P_RANGE : P_OK;
}

static void skip_spaces(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
}

static int parse_int(const char *s, size_t n, uint64_t *v)
{
	size_t i = 0;
	int r;

	if (n > 1 && s[0] == '-') {
		/* A negative number is a number, just out of every range. */
		i = 1;
		r = parse_digits(s, n, &i, v);
		return r == P_BAD || i != n ? P_BAD : P_RANGE;
	}
	if (n > 1 && s[0] == '+')
		i = 1;
	r = parse_digits(s, n, &i, v);
	if (r != P_BAD && i != n)
		return P_BAD;
	return r;
}

static int parse_duration(const char *s, size_t n, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", MS_S}, {"m", MS_M}, {"h", MS_H}};
	size_t i = 0;
	uint64_t v;
	int r = parse_digits(s, n, &i, &v);

	if (r == P_BAD)
		return P_BAD;
	skip_spaces(s, n, &i);
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strlen(units[u].unit) != n - i || memcmp(s + i, units[u].unit, n - i) != 0)
			continue;
		if (r == P_RANGE || v > UINT64_MAX / units[u].ms)
			return P_RANGE;
		*ms = v * units[u].ms;
		return P_OK;
	}
	return P_BAD;
}

/* Bytes, or terms like "64KiB" joined by '+'. Units are powers of 1024
 * and spelled so (KiB, not KB): "MB" means 10^6 to some and 2^20 to
 * others, and a size limit is no place for that doubt. */
static int parse_size(const char *s, size_t n, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{"", 1},      {"B", 1},           {"KiB", KIB}, {"MiB", KIB * KIB},
		{"GiB", GIB}, {"TiB", GIB * KIB},
	};
	size_t i = 0;
	uint64_t sum = 0;
	int range = 0;

	for (;;) {
		uint64_t v;
		size_t u, end, nu = sizeof(units) / sizeof(units[0]);
		int r;

		skip_spaces(s, n, &i);
		if ((r = parse_digits(s, n, &i, &v)) == P_BAD)
			return P_BAD;
		range |= r == P_RANGE;
		skip_spaces(s, n, &i);
		end = i;
		while (end < n && s[end] != '+' && s[end] != ' ' && s[end] != '\t')
			end++;
		for (u = 0; u < nu; u++)
			if (strlen(units[u].unit) == end - i &&
			    strncasecmp(s + i, units[u].unit, end - i) == 0)
				break;
		if (u == nu)
			return P_BAD;
		i = end;
		if (v > UINT64_MAX / units[u].mult || sum > UINT64_MAX - v * units[u].mult)
			range = 1;
		else
			sum += v * units[u].mult;
		skip_spaces(s, n, &i);
		if (i == n)
			break;
		if (s[i] != '+')
			return P_BAD;
		i++;
	}
	if (range)
		return P_RANGE;
	*bytes = sum;
	return P_OK;
}

static int parse_bool(const char *s, size_t n, int *b)
{
	if (n == 4 && strncasecmp(s, "true", 4) == 0)
		*b = 1;
	else if (n == 5 && strncasecmp(s, "false", 5) == 0)
		*b = 0;
	else
		return P_BAD;
	return P_OK;
}

static const struct enum_val *find_enum(const setting_t *s, const char *v, size_t n)
{
	for (const struct enum_val *e = s->vals; e->name; e++)
		if (strlen(e->name) == n && strncasecmp(e->name, v, n) == 0)
			return e;
	return NULL;
}

/* Store a value of a scalar type that parsed; text is NUL-terminated. */
static int store_value(const setting_t *s, void *base, const char *text, size_t n)
{
	void *p = slot(base, s);
	uint64_t v = 0;
	int r = P_OK, b;

	switch (s->type) {
	case T_STR:
	case T_SECRET: {
		char *dup = malloc(n + 1);
		if (!dup)
			return -1;
		memcpy(dup, text, n);
		dup[n] = '\0';
		free(*(char **)p);
		*(char **)p = dup;
		return P_OK;
	}
	case T_ENUM: {
		const struct enum_val *e = find_enum(s, text, n);
		if (!e)
			return P_BAD;
		if (s->flags & F_STRVAL) {
			char *dup = strdup(e->name);
			if (!dup)
				return -1;
			free(*(char **)p);
			*(char **)p = dup;
		} else {
			store_uint(p, s->size, (uint64_t)e->value);
		}
		return P_OK;
	}
	case T_BOOL:
		if ((r = parse_bool(text, n, &b)) == P_OK)
			store_uint(p, s->size, (uint64_t)b);
		return r;
	case T_INT:
		r = parse_int(text, n, &v);
		break;
	case T_DURATION:
		r = parse_duration(text, n, &v);
		break;
	case T_SIZE:
		r = parse_size(text, n, &v);
		break;
	default:
		return P_BAD;
	}
	if (r == P_OK && (v < s->min || v > s->max))
		r = P_RANGE;
	if (r == P_OK)
		store_uint(p, s->size, v);
	return r;
}

static void fmt_duration(uint64_t ms, char *buf, size_t cap)
{
	unsigned long long v = (unsigned long long)ms;

	if (ms && ms % MS_H == 0)
		snprintf(buf, cap, "%lluh", v / MS_H);
	else if (ms && ms % MS_M == 0)
		snprintf(buf, cap, "%llum", v / MS_M);
	else if (ms && ms % MS_S == 0)
		snprintf(buf, cap, "%llus", v / MS_S);
	else
		snprintf(buf, cap, "%llums", v);
}

static void fmt_size(uint64_t bytes, char *buf, size_t cap)
{
	static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};
	uint64_t mult = GIB * KIB;

	for (size_t u = 0; u < 4; u++, mult /= KIB) {
		if (bytes && bytes % mult == 0) {
			snprintf(buf, cap, "%llu%s", (unsigned long long)(bytes / mult), units[u]);
			return;
		}
	}
	snprintf(buf, cap, "%llu", (unsigned long long)bytes);
}

/* "1..65535", "1s..1h", "4 or more": what a number setting allows. */
static void fmt_range(const setting_t *s, char *buf, size_t cap)
{
	char lo[32], hi[32];

	switch (s->type) {
	case T_DURATION:
		fmt_duration(s->min, lo, sizeof(lo));
		fmt_duration(s->max, hi, sizeof(hi));
		break;
	case T_SIZE:
		fmt_size(s->min, lo, sizeof(lo));
		fmt_size(s->max, hi, sizeof(hi));
		break;
	default:
		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)s->min);
		snprintf(hi, sizeof(hi), "%llu", (unsigned long long)s->max);
		break;
	}
	if (s->flags & F_OPEN)
		snprintf(buf, cap, "%s or more", lo);
	else
		snprintf(buf, cap, "%s..%s", lo, hi);
}

/* "a, b, c", the values of an enum. */
static void fmt_values(const setting_t *s, char *buf, size_t cap, int code)
{
	size_t k = 0;

	buf[0] = '\0';
	for (const struct enum_val *e = s->vals; e->name && k < cap; e++) {
		int w = snprintf(buf + k, cap - k, code ? "%s`%s`" : "%s%s",
				 e == s->vals ? "" : ", ", e->name);
		if (w < 0)
			break;
		k += (size_t)w;
	}
}

/* ------------------------------------------------------------------ */
/* Lists and regexes                                                   */

void cdc_list_free(cdc_list_t *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int strlist_push(cdc_list_t *l, const char *s, size_t n)
{
	char **nv, *dup;

	dup = malloc(n + 1);
	if (!dup)
		return -1;
	memcpy(dup, s, n);
	dup[n] = '\0';
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv) {
		free(dup);
		return -1;
	}
	nv[l->n++] = dup;
	l->v = nv;
	return 0;
}

static size_t trim(const char *s, size_t *start, size_t end)
{
	while (*start < end && (s[*start] == ' ' || s[*start] == '\t'))
		(*start)++;
	while (end > *start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	return end - *start;
}

/*
 * Split "a, b, c" into items. The items are regexes, so a comma that is
 * part of one is not a separator: one inside (), {} or a [...] class, or
 * escaped with a backslash ("x{1,3}", "[,;]", "a\,b" stay whole).
 * Returns 0, -1 when out of memory, or 1 for an empty item.
 */
static int split_list(const char *s, size_t n, cdc_list_t *out)
{
	size_t start = 0, depth = 0, class_first = 0;
	int in_class = 0;

	for (size_t i = 0;; i++) {
		if (i < n && s[i] == '\\') {
			if (i + 1 < n)
				i++;
			continue;
		}
		if (i < n && in_class) {
			/* "[]a]" and "[^]a]": a ']' first in the class is literal */
			if (s[i] == ']' && i > class_first)
				in_class = 0;
			continue;
		}
		if (i < n && s[i] == '[') {
			in_class = 1;
			class_first = i + 1;
			if (class_first < n && s[class_first] == '^')
				class_first++;
			continue;
		}
		if (i < n && (s[i] == '(' || s[i] == '{'))
			depth++;
		else if (i < n && (s[i] == ')' || s[i] == '}') && depth)
			depth--;
		if (i >= n || (s[i] == ',' && depth == 0)) {
			size_t b = start, len = trim(s, &b, i < n ? i : n);
			if (len == 0)
				return 1;
			if (strlist_push(out, s + b, len) < 0)
				return -1;
			if (i >= n)
				return 0;
			start = i + 1;
		}
	}
}

/* ------------------------------------------------------------------ */
/* The YAML tree                                                       */

enum ykind { Y_SCALAR, Y_MAP, Y_SEQ };

typedef struct ynode {
	int kind;
	unsigned line; /* 1-based */
	int plain;     /* a scalar without quotes (null may be spelled so) */
	char *text;    /* scalar: NUL-terminated, len bytes */
	size_t len;
	struct ynode **kid; /* map: key, value, key, value...; seq: items */
	size_t n, cap;
} ynode_t;

static const char *const kind_names[] = {"single value", "mapping", "list"};

static void ynode_free(ynode_t *y)
{
	if (!y)
		return;
	for (size_t i = 0; i < y->n; i++)
		ynode_free(y->kid[i]);
	free(y->kid);
	free(y->text);
	free(y);
}

/* Unquoted nothing, "~" or "null": YAML's ways of writing no value. */
static int ynode_null(const ynode_t *y)
{
	if (y->kind != Y_SCALAR)
		return 0;
	if (y->len == 0)
		return 1;
	if (!y->plain)
		return 0;
	return strcmp(y->text, "~") == 0 || strcmp(y->text, "null") == 0 ||
	       strcmp(y->text, "Null") == 0 || strcmp(y->text, "NULL") == 0;
}

/* Everything the loader needs to report where. */
typedef struct ctx {
	const char *name; /* the file name, for messages */
	cdc_config_t *c;
	binlog_err_t *err;
	unsigned line[NSET]; /* where each setting was given; 0: it was not */
	unsigned block_line[B__COUNT];
	unsigned char registered[NSET]; /* given by the registered source */
} ctx_t;

static binlog_errcode_t fail(ctx_t *x, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static binlog_errcode_t fail(ctx_t *x, unsigned line, const char *fmt, ...)
{
	char msg[BINLOG_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		return binlog_err_set(x->err, BINLOG_E_USAGE, "%s:%u: %s", x->name, line, msg);
	return binlog_err_set(x->err, BINLOG_E_USAGE, "%s: %s", x->name, msg);
}

static binlog_errcode_t nomem(ctx_t *x)
{
	return binlog_err_set(x->err, BINLOG_E_NOMEM, "%s: out of memory", x->name);
}

/* A value as a message shows it: bounded, control characters replaced. */
static void show(const char *s, size_t n, char *buf, size_t cap)
{
	size_t k = 0, max = n > SHOW_MAX ? SHOW_MAX : n;

	for (size_t i = 0; i < max && k + 1 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		buf[k++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (n > max && k + 4 < cap) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
}

static binlog_errcode_t next_event(ctx_t *x, yaml_parser_t *p, yaml_event_t *ev)
{
	if (yaml_parser_parse(p, ev))
		return BINLOG_OK;
	if (p->error == YAML_MEMORY_ERROR)
		return nomem(x);
	if (p->context)
		return fail(x, (unsigned)p->problem_mark.line + 1, "YAML: %s %s (line %u)",
			    p->problem ? p->problem : "syntax error", p->context,
			    (unsigned)p->context_mark.line + 1);
	return fail(x, (unsigned)p->problem_mark.line + 1, "YAML: %s",
		    p->problem ? p->problem : "syntax error");
}

static int ynode_add(ynode_t *y, ynode_t *kid)
{
	if (y->n == y->cap) {
		size_t cap = y->cap ? y->cap * 2 : 8;
		ynode_t **nk = realloc(y->kid, cap * sizeof(*nk));
		if (!nk)
			return -1;
		y->kid = nk;
		y->cap = cap;
	}
	y->kid[y->n++] = kid;
	return 0;
}

/* Build the node that starts with *ev (consumed), and what it contains. */
static binlog_errcode_t read_node(ctx_t *x, yaml_parser_t *p, yaml_event_t *ev, int depth,
				  ynode_t **out)
{
	binlog_errcode_t rc = BINLOG_OK;
	yaml_event_type_t end;
	ynode_t *y;

	*out = NULL;
	if (ev->type == YAML_ALIAS_EVENT) {
		rc = fail(x, (unsigned)ev->start_mark.line + 1,
			  "YAML aliases (*%s) are not supported in a configuration",
			  (const char *)ev->data.alias.anchor);
		yaml_event_delete(ev);
		return rc;
	}
	if (depth > CONFIG_MAX_DEPTH) {
		rc = fail(x, (unsigned)ev->start_mark.line + 1, "nested too deep");
		yaml_event_delete(ev);
		return rc;
	}
	y = calloc(1, sizeof(*y));
	if (!y) {
		yaml_event_delete(ev);
		return nomem(x);
	}
	y->line = (unsigned)ev->start_mark.line + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		y->kind = Y_SCALAR;
		y->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		y->len = ev->data.scalar.length;
		y->text = malloc(y->len + 1);
		if (!y->text) {
			rc = nomem(x);
			break;
		}
		memcpy(y->text, ev->data.scalar.value, y->len);
		y->text[y->len] = '\0';
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		y->kind = ev->type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ;
		end = y->kind == Y_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
		for (;;) {
			yaml_event_t e;
			ynode_t *kid;
			if ((rc = next_event(x, p, &e)) != BINLOG_OK)
				break;
			if (e.type == end) {
				yaml_event_delete(&e);
				break;
			}
			if ((rc = read_node(x, p, &e, depth + 1, &kid)) != BINLOG_OK)
				break;
			if (ynode_add(y, kid) < 0) {
				ynode_free(kid);
				rc = nomem(x);
				break;
			}
		}
		break;
	default:
		rc = fail(x, y->line, "YAML: unexpected event %d", (int)ev->type);
		break;
	}
	yaml_event_delete(ev);
	if (rc != BINLOG_OK) {
		ynode_free(y);
		return rc;
	}
	*out = y;
	return BINLOG_OK;
}

/* The one document of the text, or NULL for an empty file. */
static binlog_errcode_t read_tree(ctx_t *x, const char *yaml, size_t len, ynode_t **out)
{
	yaml_parser_t p;
	yaml_event_t ev;
	binlog_errcode_t rc;
	ynode_t *root = NULL;

	*out = NULL;
	if (!yaml_parser_initialize(&p))
		return nomem(x);
	yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
	if ((rc = next_event(x, &p, &ev)) != BINLOG_OK) /* STREAM_START */
		goto out;
	yaml_event_delete(&ev);
	if ((rc = next_event(x, &p, &ev)) != BINLOG_OK)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev); /* DOCUMENT_START */
	if ((rc = next_event(x, &p, &ev)) != BINLOG_OK)
		goto out;
	if ((rc = read_node(x, &p, &ev, 0, &root)) != BINLOG_OK)
		goto out;
	if ((rc = next_event(x, &p, &ev)) != BINLOG_OK) /* DOCUMENT_END */
		goto out;
	yaml_event_delete(&ev);
	if ((rc = next_event(x, &p, &ev)) != BINLOG_OK)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT)
		rc = fail(x, (unsigned)ev.start_mark.line + 1,
			  "a second YAML document; a configuration is one document");
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&p);
	if (rc != BINLOG_OK) {
		ynode_free(root);
		return rc;
	}
	*out = root;
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Unknown keys: the nearest known one                                 */

/* Optimal string alignment distance (Levenshtein plus transpositions,
 * the commonest typo); SIZE_MAX when a string is too long to bother. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
	size_t row[3][65];
	size_t *pp, *prev, *cur;

	if (na > 64 || nb > 64)
		return SIZE_MAX;
	pp = row[0];
	prev = row[1];
	cur = row[2];
	for (size_t j = 0; j <= nb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t *t;
		cur[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
		t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[nb];
}

/* Close enough to be a typo of a word of n characters. */
static int near(size_t d, size_t n)
{
	return d <= (n <= 4 ? 1 : n <= 8 ? 2 : 3);
}

static const setting_t *suggest_key(int block, const char *key, size_t len)
{
	const setting_t *best = NULL;
	size_t bestd = SIZE_MAX;

	for (size_t i = 0; i < NSET; i++) {
		const setting_t *s = &settings[i];
		size_t d;
		if (s->block != block)
			continue;
		d = edit_distance(key, len, s->key, strlen(s->key));
		if (d < bestd) {
			bestd = d;
			best = s;
		}
	}
	if (best && near(bestd, strlen(best->key)))
		return best;
	/* "user" for "username", "host" for "hostname" */
	for (size_t i = 0; len >= 3 && i < NSET; i++) {
		const setting_t *s = &settings[i];
		if (s->block == block && s->type != T_REFUSED && strlen(s->key) > len &&
		    memcmp(s->key, key, len) == 0)
			return s;
	}
	return NULL;
}

static const char *suggest_enum(const setting_t *s, const char *v, size_t n)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX;

	for (const struct enum_val *e = s->vals; e->name; e++) {
		size_t d = edit_distance(v, n, e->name, strlen(e->name));
		if (d < bestd) {
			bestd = d;
			best = e->name;
		}
	}
	if (best && near(bestd, strlen(best)))
		return best;
	/* "latest" for "latest-offset" */
	for (const struct enum_val *e = s->vals; n >= 3 && e->name; e++)
		if (strlen(e->name) > n && strncasecmp(e->name, v, n) == 0)
			return e->name;
	return NULL;
}

static binlog_errcode_t unknown_key(ctx_t *x, int block, const ynode_t *k, const ynode_t *v)
{
	char key[SHOW_MAX + 8];
	const setting_t *s;

	show(k->text, k->len, key, sizeof(key));
	/* A key of another block: say which. */
	for (int b = 0; b < B__COUNT; b++) {
		if (b != block && (s = find_setting(b, k->text, k->len)) != NULL &&
		    s->type != T_REFUSED)
			return fail(x, k->line, "%s.%s: unknown key; %s is a %s setting (%s.%s)",
				    block_names[block], key, key, block_names[b], block_names[b],
				    s->key);
	}
	/* "scan:" with "startup:" nested under it: keys are flat. */
	if (v->kind == Y_MAP) {
		for (size_t i = 0; i < NSET; i++) {
			s = &settings[i];
			if (s->block == block && strlen(s->key) > k->len &&
			    memcmp(s->key, k->text, k->len) == 0 && s->key[k->len] == '.')
				return fail(x, k->line,
					    "%s.%s: unknown key; settings are written flat, with "
					    "dots (%s: ...), not as nested mappings",
					    block_names[block], key, s->key);
		}
	}
	if ((s = suggest_key(block, k->text, k->len)) != NULL && s->type == T_REFUSED)
		return fail(x, k->line, "%s.%s: unknown key; %s", block_names[block], key, s->note);
	if (s)
		return fail(x, k->line, "%s.%s: unknown key; did you mean %s.%s?",
			    block_names[block], key, block_names[block], s->key);
	return fail(x, k->line, "%s.%s: unknown key (`sluice config docs` lists them all)",
		    block_names[block], key);
}

/* ------------------------------------------------------------------ */
/* Applying the tree                                                   */

static int is_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static binlog_errcode_t set_list(ctx_t *x, const setting_t *s, void *base, const ynode_t *v,
				 const char *key)
{
	cdc_list_t tmp = {NULL, 0}, *dst = slot(base, s);
	char shown[SHOW_MAX + 8];
	int r = 0;

	if (v->kind == Y_MAP)
		return fail(x, v->line,
			    "%s: a mapping where a list is wanted (a YAML list, or items separated "
			    "by commas)",
			    key);
	if (v->kind == Y_SCALAR) {
		if (memchr(v->text, 0, v->len))
			return fail(x, v->line, "%s: the value contains a NUL character", key);
		if (!ynode_null(v))
			r = split_list(v->text, v->len, &tmp);
		if (r == 1) {
			cdc_list_free(&tmp);
			show(v->text, v->len, shown, sizeof(shown));
			return fail(x, v->line,
				    "%s: '%s' has an empty item (items are separated by commas)",
				    key, shown);
		}
	} else {
		for (size_t i = 0; i < v->n && r == 0; i++) {
			const ynode_t *it = v->kid[i];
			if (it->kind != Y_SCALAR) {
				cdc_list_free(&tmp);
				return fail(x, it->line,
					    "%s: a list item that is a %s; items are "
					    "single values",
					    key, kind_names[it->kind]);
			}
			if (ynode_null(it) || memchr(it->text, 0, it->len)) {
				cdc_list_free(&tmp);
				return fail(x, it->line, "%s: an empty list item", key);
			}
			r = strlist_push(&tmp, it->text, it->len);
		}
	}
	if (r < 0) {
		cdc_list_free(&tmp);
		return nomem(x);
	}
	cdc_list_free(dst);
	*dst = tmp;
	return BINLOG_OK;
}

/* Parse v by s's type and store it; `key` is the full key, for messages. */
static binlog_errcode_t set_value(ctx_t *x, const setting_t *s, void *base, const ynode_t *v,
				  const char *key)
{
	char shown[SHOW_MAX + 8], allowed[256];
	const char *hint;
	int r;

	if (s->type == T_LIST)
		return set_list(x, s, base, v, key);
	if (v->kind != Y_SCALAR)
		return fail(x, v->line, "%s: a %s where a single value is wanted", key,
			    kind_names[v->kind]);
	if (ynode_null(v))
		return fail(x, v->line, "%s: no value%s", key,
			    s->def || s->def_doc ? " (omit the key to keep the default)" : "");
	if (memchr(v->text, 0, v->len))
		return fail(x, v->line, "%s: the value contains a NUL character", key);
	show(v->text, v->len, shown, sizeof(shown));
	if (s->flags & F_ENVNAME && !is_env_name(v->text))
		return fail(x, v->line,
			    "%s: '%s' is not an environment variable name (letters, digits and _, "
			    "not starting with a digit)",
			    key, shown);
	r = store_value(s, base, v->text, v->len);
	if (r < 0)
		return nomem(x);
	if (r == P_OK)
		return BINLOG_OK;
	if (s->type == T_INT || s->type == T_DURATION || s->type == T_SIZE)
		fmt_range(s, allowed, sizeof(allowed));
	switch (s->type) {
	case T_ENUM:
		fmt_values(s, allowed, sizeof(allowed), 0);
		hint = suggest_enum(s, v->text, v->len);
		return fail(x, v->line, "%s: '%s' is not one of: %s%s%s%s%s%s", key, shown, allowed,
			    hint ? "; did you mean " : "", hint ? hint : "", hint ? "?" : "",
			    s->note ? "; " : "", s->note ? s->note : "");
	case T_BOOL:
		return fail(x, v->line, "%s: '%s' is not a boolean (true or false)", key, shown);
	default:
		break;
	}
	if (r == P_RANGE)
		return fail(x, v->line, "%s: %s is out of range%s%s", key, shown,
			    s->flags & F_OPEN ? ": " : " ", allowed);
	if (s->type == T_DURATION)
		return fail(x, v->line,
			    "%s: '%s' is not a duration: a whole number and a unit, ms, s, m or h "
			    "(e.g. 30s); allowed: %s",
			    key, shown, allowed);
	if (s->type == T_SIZE)
		return fail(
			x, v->line,
			"%s: '%s' is not a size: bytes, or a whole number with KiB, MiB, GiB or "
			"TiB (powers of 1024, e.g. 64MiB); allowed: %s",
			key, shown, allowed);
	return fail(x, v->line, "%s: '%s' is not a whole number (allowed: %s)", key, shown,
		    allowed);
}

/* Settings of one of the blocks that are mappings: source, sink, pipeline. */
static binlog_errcode_t apply_block(ctx_t *x, int block, const ynode_t *m)
{
	char key[128];
	binlog_errcode_t rc;

	if (ynode_null(m))
		return BINLOG_OK;
	if (m->kind != Y_MAP)
		return fail(x, m->line, "%s: a %s where a mapping of settings is wanted",
			    block_names[block], kind_names[m->kind]);
	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const ynode_t *k = m->kid[i], *v = m->kid[i + 1];
		const setting_t *s;
		size_t idx;
		if (k->kind != Y_SCALAR)
			return fail(x, k->line, "%s: a key that is a %s; keys are names",
				    block_names[block], kind_names[k->kind]);
		s = find_setting(block, k->text, k->len);
		if (!s)
			return unknown_key(x, block, k, v);
		snprintf(key, sizeof(key), "%s.%s", block_names[block], s->key);
		if (s->type == T_REFUSED)
			return fail(x, k->line, "%s: %s", key, s->note);
		idx = (size_t)(s - settings);
		if (x->line[idx])
			return fail(x, k->line, "%s: given twice (first on line %u)", key,
				    x->line[idx]);
		x->line[idx] = k->line;
		if ((rc = set_value(x, s, x->c, v, key)) != BINLOG_OK)
			return rc;
	}
	return BINLOG_OK;
}

static void route_free(cdc_route_conf_t *r)
{
	for (size_t i = 0; i < NSET; i++)
		if (settings[i].block == B_ROUTE)
			free(*(char **)slot(r, &settings[i]));
	memset(r, 0, sizeof(*r));
}

static void routes_free(cdc_config_t *c)
{
	for (size_t i = 0; i < c->nroutes; i++)
		route_free(&c->routes[i]);
	free(c->routes);
	c->routes = NULL;
	c->nroutes = 0;
}

/* A rule's regexes compile and its template names what they capture. */
static binlog_errcode_t check_route(ctx_t *x, const cdc_route_conf_t *rc, size_t idx,
				    const unsigned *seen)
{
	const char *keys[2] = {"database", "table"};
	const char *res[2] = {rc->database, rc->table};
	unsigned groups[2] = {0, 0};
	char msg[BINLOG_ERR_MSG_MAX - 64];

	for (int k = 0; k < 2; k++) {
		unsigned line = seen[setting_named(B_ROUTE, keys[k]) - settings];
		if (res[k] && cdc_route_check_regex(res[k], &groups[k], msg, sizeof(msg)) < 0)
			return fail(x, line, "route[%zu].%s: %s", idx + 1, keys[k], msg);
	}
	if (cdc_route_check_template(rc->topic, groups[0], groups[1], msg, sizeof(msg)) < 0)
		return fail(x, seen[setting_named(B_ROUTE, "topic") - settings],
			    "route[%zu].topic: %s", idx + 1, msg);
	return BINLOG_OK;
}

static binlog_errcode_t apply_routes(ctx_t *x, const ynode_t *seq)
{
	binlog_errcode_t rc;

	routes_free(x->c);
	if (ynode_null(seq))
		return BINLOG_OK;
	if (seq->kind != Y_SEQ)
		return fail(x, seq->line,
			    "route: a %s where a list of rules is wanted (each entry with "
			    "database, table and topic)",
			    kind_names[seq->kind]);
	if (seq->n == 0)
		return BINLOG_OK;
	x->c->routes = calloc(seq->n, sizeof(*x->c->routes));
	if (!x->c->routes)
		return nomem(x);
	x->c->nroutes = seq->n;
	for (size_t r = 0; r < seq->n; r++) {
		const ynode_t *m = seq->kid[r];
		unsigned seen[NSET] = {0};
		char key[128];
		if (m->kind != Y_MAP)
			return fail(x, m->line,
				    "route: an entry that is a %s; each entry is a mapping with "
				    "database, table and topic",
				    kind_names[m->kind]);
		for (size_t i = 0; i + 1 < m->n; i += 2) {
			const ynode_t *k = m->kid[i], *v = m->kid[i + 1];
			const setting_t *s;
			size_t idx;
			if (k->kind != Y_SCALAR)
				return fail(x, k->line, "route: a key that is a %s; keys are names",
					    kind_names[k->kind]);
			s = find_setting(B_ROUTE, k->text, k->len);
			if (!s)
				return unknown_key(x, B_ROUTE, k, v);
			snprintf(key, sizeof(key), "route.%s", s->key);
			idx = (size_t)(s - settings);
			if (seen[idx])
				return fail(x, k->line, "%s: given twice (first on line %u)", key,
					    seen[idx]);
			seen[idx] = k->line;
			if ((rc = set_value(x, s, &x->c->routes[r], v, key)) != BINLOG_OK)
				return rc;
		}
		for (size_t i = 0; i < NSET; i++)
			if (settings[i].block == B_ROUTE && settings[i].flags & F_REQUIRED &&
			    !seen[i])
				return fail(x, m->line,
					    "route: an entry without %s (each rule needs "
					    "a topic)",
					    settings[i].key);
		if ((rc = check_route(x, &x->c->routes[r], r, seen)) != BINLOG_OK)
			return rc;
	}
	return BINLOG_OK;
}

static binlog_errcode_t apply_root(ctx_t *x, const ynode_t *root)
{
	binlog_errcode_t rc;
	char name[SHOW_MAX + 8];

	if (!root || ynode_null(root))
		return BINLOG_OK;
	if (root->kind != Y_MAP)
		return fail(x, root->line,
			    "the file is a %s; a configuration is a mapping with source, sink, "
			    "route and pipeline",
			    kind_names[root->kind]);
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const ynode_t *k = root->kid[i], *v = root->kid[i + 1];
		int b;
		if (k->kind != Y_SCALAR)
			return fail(x, k->line, "a key that is a %s; keys are names",
				    kind_names[k->kind]);
		for (b = 0; b < B__COUNT; b++)
			if (strlen(block_names[b]) == k->len &&
			    memcmp(block_names[b], k->text, k->len) == 0)
				break;
		if (b == B__COUNT) {
			const char *hint = NULL;
			for (int j = 0; j < B__COUNT && !hint; j++)
				if (near(edit_distance(k->text, k->len, block_names[j],
						       strlen(block_names[j])),
					 strlen(block_names[j])))
					hint = block_names[j];
			show(k->text, k->len, name, sizeof(name));
			return fail(x, k->line,
				    "%s: unknown block%s%s%s (blocks: source, sink, "
				    "route, pipeline)",
				    name, hint ? "; did you mean " : "", hint ? hint : "",
				    hint ? "?" : "");
		}
		if (x->block_line[b])
			return fail(x, k->line, "%s: given twice (first on line %u)",
				    block_names[b], x->block_line[b]);
		x->block_line[b] = k->line;
		rc = b == B_ROUTE ? apply_routes(x, v) : apply_block(x, b, v);
		if (rc != BINLOG_OK)
			return rc;
	}
	return BINLOG_OK;
}

/* source.registered in the tree, or NULL. */
static const ynode_t *registered_node(const ynode_t *root)
{
	if (!root || root->kind != Y_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < root->n; i += 2) {
		const ynode_t *k = root->kid[i], *v = root->kid[i + 1];
		if (k->kind != Y_SCALAR || strcmp(k->text, "source") != 0 || v->kind != Y_MAP)
			continue;
		for (size_t j = 0; j + 1 < v->n; j += 2)
			if (v->kid[j]->kind == Y_SCALAR &&
			    strcmp(v->kid[j]->text, "registered") == 0)
				return v->kid[j + 1];
	}
	return NULL;
}

/*
 * The registered source's settings, under the file's: its registry entry
 * (written by `sluice source add`) is applied first, with errors naming
 * the entry's file; the file's own source block then overrides any of
 * them.
 */
static binlog_errcode_t apply_registered(ctx_t *x, const ynode_t *reg)
{
	char home[4096], path[4096], shown[SHOW_MAX + 8];
	binlog_buf_t b;
	ctx_t *y;
	ynode_t *root = NULL;
	const ynode_t *src = NULL;
	binlog_errcode_t rc;
	int missing = 0;

	if (reg->kind != Y_SCALAR || ynode_null(reg))
		return BINLOG_OK; /* set_value reports it */
	show(reg->text, reg->len, shown, sizeof(shown));
	if (!cdc_registry_name_valid(reg->text))
		return fail(x, reg->line,
			    "source.registered: '%s' is not a source name (1 to 64 of A-Z a-z "
			    "0-9 _ -)",
			    shown);
	if (cdc_registry_home(NULL, home, sizeof(home), x->err) != BINLOG_OK ||
	    cdc_registry_path(home, reg->text, path, sizeof(path), x->err) != BINLOG_OK)
		return x->err->code;
	binlog_buf_init(&b, 0);
	if (cdc_read_file(path, CONFIG_MAX_BYTES, &b, &missing, x->err) != BINLOG_OK) {
		binlog_buf_free(&b);
		if (missing)
			return fail(x, reg->line,
				    "source.registered: no source named %s is registered (%s); "
				    "`sluice source list` shows the registered ones",
				    shown, path);
		return x->err->code;
	}
	y = calloc(1, sizeof(*y));
	if (!y) {
		binlog_buf_free(&b);
		return nomem(x);
	}
	y->name = path;
	y->c = x->c;
	y->err = x->err;
	rc = read_tree(y, (const char *)b.data, b.len, &root);
	binlog_buf_free(&b);
	if (rc == BINLOG_OK && root && root->kind == Y_MAP)
		for (size_t i = 0; i + 1 < root->n && !src; i += 2)
			if (root->kid[i]->kind == Y_SCALAR &&
			    strcmp(root->kid[i]->text, "source") == 0)
				src = root->kid[i + 1];
	if (rc == BINLOG_OK && !src)
		rc = fail(y, 0, "no source block: not a registry entry");
	if (rc == BINLOG_OK)
		rc = apply_block(y, B_SOURCE, src);
	for (size_t i = 0; i < NSET; i++)
		x->registered[i] = y->line[i] != 0;
	ynode_free(root);
	free(y);
	return rc;
}

/* The file gave `key` and the registered source gave `other`, which
 * cannot go with it (password-file and password-env, socket and hostname):
 * the file's choice wins, the registered one is forgotten. */
static void registered_yields(ctx_t *x, const char *key, const char *other)
{
	const setting_t *k = setting_named(B_SOURCE, key), *o = setting_named(B_SOURCE, other);
	size_t ko = (size_t)(o - settings);
	char **p;

	if (!x->line[k - settings] || x->line[ko] || !x->registered[ko])
		return;
	x->registered[ko] = 0;
	p = slot(x->c, o);
	free(*p);
	*p = NULL;
}

/* ------------------------------------------------------------------ */
/* Defaults and rules across settings                                  */

/* Store every default; with only_missing, only strings still unset (the
 * defaults cdc_config_init could not allocate). -1 when out of memory. */
static int apply_defaults(cdc_config_t *c, int only_missing)
{
	int rc = 0;

	for (size_t i = 0; i < NSET; i++) {
		const setting_t *s = &settings[i];
		int is_str = s->type == T_STR || s->type == T_SECRET ||
			     (s->type == T_ENUM && s->flags & F_STRVAL);
		if (!s->def || s->block == B_ROUTE || s->type == T_LIST)
			continue;
		if (only_missing && (!is_str || *(char **)slot(c, s)))
			continue;
		if (store_value(s, c, s->def, strlen(s->def)) < 0)
			rc = -1;
	}
	return rc;
}

/* The line a setting was given on; for one the registered source gave,
 * the line of the block naming it; 0 when it was not given. */
static unsigned given(const ctx_t *x, int block, const char *key)
{
	const setting_t *s = setting_named(block, key);

	if (!s)
		return 0;
	if (x->line[s - settings])
		return x->line[s - settings];
	return x->registered[s - settings] ? (x->block_line[block] ? x->block_line[block] : 1) : 0;
}

static const char *enum_name(const setting_t *s, int v)
{
	for (const struct enum_val *e = s->vals; e->name; e++)
		if (e->value == v)
			return e->name;
	return "?";
}

static binlog_errcode_t check_startup(ctx_t *x)
{
	static const char *const specific[] = {
		"scan.startup.specific-offset.file",
		"scan.startup.specific-offset.pos",
		"scan.startup.specific-offset.gtid-set",
	};
	const cdc_source_conf_t *src = &x->c->source;
	const setting_t *ms = setting_named(B_SOURCE, "scan.startup.mode");
	const char *mode = enum_name(ms, src->startup_mode);
	unsigned mline = given(x, B_SOURCE, "scan.startup.mode");
	unsigned file = given(x, B_SOURCE, specific[0]), pos = given(x, B_SOURCE, specific[1]);
	unsigned gtid = given(x, B_SOURCE, specific[2]);
	unsigned ts = given(x, B_SOURCE, "scan.startup.timestamp-millis");

	/* A setting of another mode would be ignored without a word: say so. */
	if (src->startup_mode != CDC_STARTUP_SPECIFIC) {
		for (size_t i = 0; i < 3; i++)
			if (given(x, B_SOURCE, specific[i]))
				return fail(x, given(x, B_SOURCE, specific[i]),
					    "source.%s is only read with scan.startup.mode: "
					    "specific-offset (the mode is %s)",
					    specific[i], mode);
	}
	if (src->startup_mode != CDC_STARTUP_TIMESTAMP && ts)
		return fail(x, ts,
			    "source.scan.startup.timestamp-millis is only read with "
			    "scan.startup.mode: timestamp (the mode is %s)",
			    mode);
	if (src->startup_mode == CDC_STARTUP_SPECIFIC) {
		if (gtid && (file || pos))
			return fail(x, gtid,
				    "source.scan.startup.specific-offset.gtid-set: give a GTID set "
				    "or a file and position, not both");
		if (pos && !file)
			return fail(x, pos,
				    "source.scan.startup.specific-offset.pos needs "
				    "scan.startup.specific-offset.file");
		if (!gtid && !file)
			return fail(x, mline,
				    "source.scan.startup.mode: specific-offset needs "
				    "scan.startup.specific-offset.file (and .pos) or "
				    "scan.startup.specific-offset.gtid-set");
	}
	if (src->startup_mode == CDC_STARTUP_TIMESTAMP && !ts)
		return fail(x, mline,
			    "source.scan.startup.mode: timestamp needs "
			    "scan.startup.timestamp-millis");
	return BINLOG_OK;
}

/* Settings of the other kind of sink would be ignored without a word. */
static binlog_errcode_t check_sink(ctx_t *x)
{
	static const char *const file_only[] = {"path", "fsync", "headers"};
	static const char *const kafka_only[] = {
		"bootstrap.servers",  "topic",           "delivery",
		"transactional.id",   "offsets.topic",   "heartbeat.interval",
		"compression",        "linger",          "max-inflight-records",
		"max-inflight-bytes", "max-record-size", "request.timeout",
		"properties",         "properties-file",
	};
	cdc_sink_conf_t *k = &x->c->sink;
	int kafka = strcmp(k->type, "kafka") == 0;
	const char *const *other = kafka ? file_only : kafka_only;
	size_t nother = kafka ? 3 : sizeof(kafka_only) / sizeof(kafka_only[0]);
	char msg[BINLOG_ERR_MSG_MAX - 64];
	unsigned line;

	for (size_t i = 0; i < nother; i++)
		if ((line = given(x, B_SINK, other[i])) != 0)
			return fail(x, line,
				    "sink.%s is only read with sink.type: %s (the type is %s)",
				    other[i], kafka ? "file" : "kafka", k->type);
	if (!kafka) {
		if (x->c->nroutes)
			return fail(x, x->block_line[B_ROUTE],
				    "route: rules choose Kafka topics; sink.type is file");
		return BINLOG_OK;
	}
	if (!k->bootstrap || !*k->bootstrap)
		return fail(x, x->block_line[B_SINK],
			    "sink.bootstrap.servers is required with sink.type: kafka "
			    "(host:port of one or more brokers, comma-separated)");
	if (cdc_route_check_template(k->topic, 0, 0, msg, sizeof(msg)) < 0)
		return fail(x, given(x, B_SINK, "topic"), "sink.topic: %s", msg);
	if (cdc_route_check_template(k->offsets_topic, 0, 0, msg, sizeof(msg)) < 0 ||
	    strchr(k->offsets_topic, '$'))
		return fail(x, given(x, B_SINK, "offsets.topic"),
			    "sink.offsets.topic: '%s' is not a topic name", k->offsets_topic);
	for (size_t i = 0; i < k->properties.n; i++) {
		char name[256];
		const char *value;
		if (sink_kafka_check_property(k->properties.v[i], 1, name, sizeof(name), &value,
					      msg, sizeof(msg)) != 0)
			return fail(x, given(x, B_SINK, "properties"), "sink.properties: %s", msg);
	}
	if ((line = given(x, B_SINK, "transactional.id")) != 0 &&
	    k->delivery != CDC_DELIVERY_EXACTLY_ONCE)
		return fail(x, line,
			    "sink.transactional.id is only read with sink.delivery: exactly-once");
	return BINLOG_OK;
}

static binlog_errcode_t validate(ctx_t *x)
{
	cdc_source_conf_t *src = &x->c->source;
	cdc_conn_opts_t *o = &src->conn;
	binlog_errcode_t rc;
	unsigned line;

	if (!o->user)
		return fail(x, x->block_line[B_SOURCE],
			    "source.username is required (the user sluice connects as)");
	if (!given(x, B_SOURCE, "server-id"))
		return fail(x, x->block_line[B_SOURCE],
			    "source.server-id is required: 1..4294967295, different from the id "
			    "of every server and replica of the topology");
	if (o->password_file && o->password_env)
		return fail(x, given(x, B_SOURCE, "password-env"),
			    "source.password-env: give password-file or password-env, not both");
	if ((line = given(x, B_SOURCE, "socket")) != 0) {
		/* The client library goes through the socket only for a local
		 * host; 127.0.0.1 would silently mean TCP. */
		if (given(x, B_SOURCE, "hostname") && strcmp(o->host, "localhost") != 0)
			return fail(
				x, line,
				"source.socket: a socket is a local connection; give it without "
				"hostname (or with hostname: localhost), not with %s",
				o->host);
		if (!given(x, B_SOURCE, "hostname")) {
			char *h = strdup("localhost");
			if (!h)
				return nomem(x);
			free(o->host);
			o->host = h;
		}
	}
	if ((o->ssl_mode == CDC_SSL_VERIFY_CA || o->ssl_mode == CDC_SSL_VERIFY_IDENTITY) &&
	    !o->ssl_ca)
		return fail(x, given(x, B_SOURCE, "ssl.mode"),
			    "source.ssl.mode: %s needs source.ssl.ca (the CA certificate to "
			    "verify the server's with)",
			    enum_name(setting_named(B_SOURCE, "ssl.mode"), o->ssl_mode));
	if (!o->ssl_cert != !o->ssl_key)
		return fail(x,
			    o->ssl_cert ? given(x, B_SOURCE, "ssl.cert")
					: given(x, B_SOURCE, "ssl.key"),
			    "source.%s needs source.%s: a client certificate goes with its key",
			    o->ssl_cert ? "ssl.cert" : "ssl.key",
			    o->ssl_cert ? "ssl.key" : "ssl.cert");
	if ((rc = check_startup(x)) != BINLOG_OK)
		return rc;
	if ((rc = check_sink(x)) != BINLOG_OK)
		return rc;

	/* Derived values. */
	if (!src->name) {
		const char *n = src->registered ? src->registered : o->host;
		if (!(src->name = strdup(n ? n : "localhost")))
			return nomem(x);
	}
	o->connect_timeout_s = (unsigned)((src->connect_timeout_ms + 999) / 1000);
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* The interface                                                       */

void cdc_config_init(cdc_config_t *c)
{
	memset(c, 0, sizeof(*c));
	/* Out of memory leaves a string default unset; loading fills it in
	 * again and reports the failure. */
	(void)apply_defaults(c, 0);
}

void cdc_config_free(cdc_config_t *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NSET; i++) {
		const setting_t *s = &settings[i];
		if (s->block == B_ROUTE || s->type == T_REFUSED)
			continue;
		if (s->type == T_LIST)
			cdc_list_free(slot(c, s));
		else if (s->type == T_STR || s->type == T_SECRET ||
			 (s->type == T_ENUM && s->flags & F_STRVAL))
			free(*(char **)slot(c, s));
	}
	routes_free(c);
	if (c->source.conn.password) {
		explicit_bzero(c->source.conn.password, strlen(c->source.conn.password));
		free(c->source.conn.password);
	}
	free(c->path);
	memset(c, 0, sizeof(*c));
}

binlog_errcode_t cdc_config_parse(const char *name, const char *yaml, size_t len, cdc_config_t *c,
				  binlog_err_t *err)
{
	ctx_t *x;
	ynode_t *root = NULL;
	binlog_errcode_t rc;
	char *path;

	/* The context holds a line per setting: heap, not stack. */
	x = calloc(1, sizeof(*x));
	if (!x)
		return binlog_err_set(err, BINLOG_E_NOMEM, "%s: out of memory", name);
	x->name = name;
	x->c = c;
	x->err = err;
	if (len > CONFIG_MAX_BYTES) {
		rc = fail(x, 0, "%zu bytes; a configuration is at most %u", len, CONFIG_MAX_BYTES);
		goto out;
	}
	if (!(path = strdup(name))) {
		rc = nomem(x);
		goto out;
	}
	free(c->path);
	c->path = path;
	if (apply_defaults(c, 1) < 0) {
		rc = nomem(x);
		goto out;
	}
	if ((rc = read_tree(x, yaml, len, &root)) != BINLOG_OK)
		goto out;
	if (registered_node(root) && (rc = apply_registered(x, registered_node(root))) != BINLOG_OK)
		goto out;
	if ((rc = apply_root(x, root)) != BINLOG_OK)
		goto out;
	registered_yields(x, "password-file", "password-env");
	registered_yields(x, "password-env", "password-file");
	registered_yields(x, "hostname", "socket");
	if (x->line[setting_named(B_SOURCE, "socket") - settings] &&
	    !x->line[setting_named(B_SOURCE, "hostname") - settings])
		x->registered[setting_named(B_SOURCE, "hostname") - settings] = 0;
	rc = validate(x);
out:
	ynode_free(root);
	free(x);
	return rc;
}

binlog_errcode_t cdc_config_load(const char *path, cdc_config_t *c, binlog_err_t *err)
{
	FILE *f;
	char *buf;
	size_t n;
	binlog_errcode_t rc;

	f = fopen(path, "rb");
	if (!f)
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", path, strerror(errno));
	/* One byte more than allowed tells a file that is too big. */
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return binlog_err_set(err, BINLOG_E_NOMEM, "%s: out of memory", path);
	}
	n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: read error", path);
		goto out;
	}
	if (n > CONFIG_MAX_BYTES) {
		rc = binlog_err_set(err, BINLOG_E_USAGE,
				    "%s: larger than %u bytes; not a configuration file?", path,
				    CONFIG_MAX_BYTES);
		goto out;
	}
	rc = cdc_config_parse(path, buf, n, c, err);
out:
	free(buf);
	fclose(f);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The reference                                                       */

/* A table cell: '|' would end it, a newline the row. */
static void put_cell(binlog_buf_t *b, const char *s)
{
	binlog_buf_lit(b, " ");
	for (; *s; s++) {
		if (*s == '|')
			binlog_buf_lit(b, "\\|");
		else if (*s == '\n')
			binlog_buf_putc(b, ' ');
		else
			binlog_buf_putc(b, (uint8_t)*s);
	}
	binlog_buf_lit(b, " |");
}

static void doc_row(binlog_buf_t *b, const setting_t *s)
{
	char cell[512];

	binlog_buf_lit(b, "|");
	snprintf(cell, sizeof(cell), "`%s`", s->key);
	put_cell(b, cell);
	put_cell(b, type_names[s->type]);
	if (s->type == T_REFUSED)
		cell[0] = '\0';
	else if (s->def)
		snprintf(cell, sizeof(cell), "`%s`", s->def);
	else if (s->def_doc)
		snprintf(cell, sizeof(cell), "%s", s->def_doc);
	else if (s->flags & F_REQUIRED)
		snprintf(cell, sizeof(cell), "required");
	else if (s->type == T_LIST)
		snprintf(cell, sizeof(cell), "empty");
	else
		snprintf(cell, sizeof(cell), "none");
	put_cell(b, cell);
	switch (s->type) {
	case T_INT:
	case T_DURATION:
	case T_SIZE:
		fmt_range(s, cell, sizeof(cell));
		break;
	case T_BOOL:
		snprintf(cell, sizeof(cell), "`true`, `false`");
		break;
	case T_ENUM:
		fmt_values(s, cell, sizeof(cell), 1);
		break;
	default:
		snprintf(cell, sizeof(cell), "%s", s->allowed_doc ? s->allowed_doc : "");
		break;
	}
	put_cell(b, cell);
	put_cell(b, s->doc);
	binlog_buf_lit(b, "\n");
}

/* The example of the reference's introduction; the tests load it. */
static const char doc_example[] = "source:\n"
				  "  type: mariadb\n"
				  "  hostname: db1.internal\n"
				  "  username: sluice\n"
				  "  password-file: /etc/sluice/db1.password\n"
				  "  server-id: 5401\n"
				  "  tables: shop\\..*, crm\\.customers\n"
				  "  columns.mask: crm\\.customers\\.(email|phone)\n"
				  "  scan.startup.mode: latest-offset\n"
				  "sink:\n"
				  "  type: kafka\n"
				  "  bootstrap.servers: kafka1:9092,kafka2:9092\n"
				  "  topic: cdc.${db}.${table}\n"
				  "route:\n"
				  "  - database: shop_[0-9]+\n"
				  "    table: order_[0-9]+\n"
				  "    topic: shop.orders\n"
				  "    description: the order shards, as one topic\n"
				  "pipeline:\n"
				  "  name: shop\n"
				  "  state-dir: /var/lib/sluice/shop\n"
				  "  checkpoint.interval: 500ms\n";

static const char doc_intro[] =
	"sluice reads the configuration of a pipeline from one YAML file, shaped like a\n"
	"Flink CDC pipeline definition: a `source` block (the server, and what to\n"
	"capture), a `sink` block (where records go), an optional `route` list (the\n"
	"Kafka topic of each table) and a `pipeline` block (state and limits). Keys are\n"
	"written flat,\n"
	"with dots, as Flink CDC writes them: `scan.startup.mode: timestamp`, not\n"
	"nested mappings.\n"
	"\n"
	"```yaml\n"
	"%EXAMPLE%"
	"```\n"
	"\n"
	"`sluice config check -c FILE` loads and checks a file without connecting to\n"
	"anything.\n"
	"\n"
	"An unknown key is an error (naming the nearest known key when one is close),\n"
	"and so is a key given twice, a value of the wrong type or shape, a value out\n"
	"of range, and a combination that cannot work (`scan.startup.mode:\n"
	"specific-offset` without an offset, `ssl.mode: verify-ca` without\n"
	"`ssl.ca`). Messages name the file, the line, the key, the value and what is\n"
	"allowed:\n"
	"\n"
	"```\n"
	"shop.yaml:7: source.port: 70000 is out of range 1..65535\n"
	"```\n"
	"\n"
	"Values:\n"
	"\n"
	"- **duration**: a whole number and a unit, `ms`, `s`, `m` or `h`: `500ms`,\n"
	"  `30s`, `2m`.\n"
	"- **size**: bytes (`1048576`), or a whole number with `KiB`, `MiB`, `GiB` or\n"
	"  `TiB` (powers of 1024; `KB` and `MB` are refused as ambiguous): `64KiB`,\n"
	"  `1GiB`. Terms add up: `1GiB+64KiB`.\n"
	"- **boolean**: `true` or `false`.\n"
	"- **list**: a YAML list, or items separated by commas. The items are\n"
	"  regexes, so a comma inside `()`, `{}` or `[]`, or after a backslash,\n"
	"  belongs to its item: `shop\\.t{1,3}` is one item. A YAML list needs no\n"
	"  such care.\n"
	"- **regex**: PCRE2, matched against the whole name: `db.table`, or\n"
	"  `db.table.column`. A dot in a name is a dot in the regex, so escape it:\n"
	"  `shop\\.orders`.\n"
	"- **secret reference**: where the password is, never the password: a\n"
	"  password is not written in a configuration file, and a `password` key is\n"
	"  an error.\n"
	"\n"
	"A key left out takes its default; `null` or an empty value is an error,\n"
	"except for a list, where it is the empty list.\n";

void cdc_config_doc(binlog_buf_t *b)
{
	const char *mark = strstr(doc_intro, "%EXAMPLE%");

	binlog_buf_lit(b,
		       "# Configuration reference\n\n"
		       "<!-- Generated by `sluice config docs` from the table of settings in\n"
		       "     cdc/cdc_config.c: edit the table, then regenerate this file. -->\n\n");
	binlog_buf_put(b, doc_intro, (size_t)(mark - doc_intro));
	binlog_buf_lit(b, doc_example);
	binlog_buf_puts(b, mark + strlen("%EXAMPLE%"));
	for (int blk = 0; blk < B__COUNT; blk++) {
		binlog_buf_lit(b, "\n## ");
		binlog_buf_puts(b, block_names[blk]);
		binlog_buf_lit(b, "\n\n");
		binlog_buf_puts(b, block_docs[blk]);
		binlog_buf_lit(b, "\n\n| Key | Type | Default | Allowed | Description |\n"
				  "|---|---|---|---|---|\n");
		for (size_t i = 0; i < NSET; i++)
			if (settings[i].block == blk)
				doc_row(b, &settings[i]);
	}
}
