/*
 * cdc_config.h: the configuration of a pipeline, loaded from YAML.
 *
 * The file is shaped like a Flink CDC 3 pipeline definition:
 *
 *   source:
 *     type: mariadb
 *     hostname: db1.internal
 *     port: 3306
 *     username: sluice
 *     password-file: /etc/sluice/db1.password
 *     server-id: 5401
 *     tables: shop\..*, crm\.customers
 *     scan.startup.mode: latest-offset
 *   sink:
 *     type: kafka
 *     bootstrap.servers: kafka1:9092,kafka2:9092
 *     topic: cdc.${db}.${table}
 *   route:
 *     - database: shop_[0-9]+
 *       table: order_[0-9]+
 *       topic: ods.orders
 *   pipeline:
 *     name: shop
 *     state-dir: /var/lib/sluice/state
 *
 * One table of settings (cdc_config.c) holds, for every key: its block,
 * type, default, allowed range or values and one line of documentation;
 * the loader, the validator and docs/CONFIGURATION.md are all made from it.
 * An unknown key, a value of the wrong type or out of range is an error
 * naming the file, line, key, value and what is allowed.
 *
 * Memory: every string, list and route of a cdc_config_t belongs to it
 * and is freed by cdc_config_free; others may read them while it lives.
 * Durations are stored in milliseconds, sizes in bytes.
 */
#ifndef SLUICE_CDC_CONFIG_H
#define SLUICE_CDC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "binlog.h"
#include "cdc_conn.h"

/* A list of strings (comma-separated in a scalar, or a YAML sequence). */
typedef struct cdc_list {
	char **v;
	size_t n;
} cdc_list_t;

enum cdc_startup_mode {
	CDC_STARTUP_LATEST = 0,  /* latest-offset: from the server's current position */
	CDC_STARTUP_EARLIEST,    /* earliest-offset: from the oldest binlog kept */
	CDC_STARTUP_SPECIFIC,    /* specific-offset: a file and position, or a GTID set */
	CDC_STARTUP_TIMESTAMP,   /* timestamp: the first transaction committed at or after */
	CDC_STARTUP_INITIAL,     /* initial: snapshot the tables, then follow from
				  * where the snapshot started */
	CDC_STARTUP_WHEN_NEEDED, /* when_needed: initial, and a snapshot again
				  * when the stored position is purged */
};

enum cdc_catalog_mode {
	CDC_CATALOG_AUTO = 0, /* read names and keys from the catalog when the
			       * binlog does not carry them */
	CDC_CATALOG_ALWAYS,   /* also for types the binlog cannot tell
			       * (MariaDB UUID/INET), and signedness */
	CDC_CATALOG_NEVER,    /* binlog only: positional names */
};

typedef struct cdc_source_conf {
	char *type;       /* "mysql" or "mariadb": checked against the server */
	char *registered; /* a source of the registry this block extends */
	char *name;       /* the source's name in records and state */
	cdc_conn_opts_t conn;
	uint32_t server_id;
	cdc_list_t tables; /* regexes on "db.table"; empty: every table */
	cdc_list_t tables_exclude;
	cdc_list_t columns_exclude; /* regexes on "db.table.column" */
	cdc_list_t columns_mask;
	int startup_mode; /* enum cdc_startup_mode */
	char *startup_file;
	uint64_t startup_pos;
	char *startup_gtid;
	int64_t startup_ts_ms;
	uint64_t heartbeat_ms;
	uint64_t connect_timeout_ms;
	uint32_t connect_max_retries; /* 0: retry for ever */
	uint64_t backoff_max_ms;
	int catalog; /* enum cdc_catalog_mode */
	uint32_t snapshot_readers;
	uint64_t snapshot_chunk_rows;
	uint64_t snapshot_chunk_bytes;
	uint64_t snapshot_window_keys;
} cdc_source_conf_t;

enum cdc_delivery {
	CDC_DELIVERY_AT_LEAST_ONCE = 0, /* idempotent producer */
	CDC_DELIVERY_EXACTLY_ONCE,      /* Kafka transactions */
};

typedef struct cdc_sink_conf {
	char *type; /* "file" or "kafka" */
	/* file */
	char *path;  /* "-": standard output */
	int fsync;   /* checkpoints fsync the file first */
	int headers; /* each line an object with the record's
		      * headers and its value, not the value */
	/* kafka */
	char *bootstrap;        /* bootstrap.servers */
	char *topic;            /* the default route's topic template */
	int delivery;           /* enum cdc_delivery */
	char *transactional_id; /* exactly-once; NULL: sluice-<pipeline.name> */
	char *offsets_topic;    /* exactly-once: where offsets are committed */
	uint64_t heartbeat_ms;  /* 0: no heartbeats */
	char *compression;      /* none, gzip, snappy, lz4, zstd */
	uint64_t linger_ms;
	uint64_t max_inflight;       /* records produced but not acknowledged */
	uint64_t max_inflight_bytes; /* their bytes */
	uint64_t max_record_size;    /* message.max.bytes */
	uint64_t request_timeout_ms;
	cdc_list_t properties; /* librdkafka properties, NAME=VALUE */
	char *properties_file;
} cdc_sink_conf_t;

typedef struct cdc_route_conf {
	char *database; /* regex on the database name; NULL: any */
	char *table;    /* regex on the table name; NULL: any */
	char *topic;    /* template: ${db}, ${table}, ${source}, ${db.N}, ${table.N} */
	char *description;
} cdc_route_conf_t;

typedef struct cdc_pipeline_conf {
	char *name;
	char *state_dir;
	uint64_t checkpoint_interval_ms;
	uint64_t max_event_size;
	uint64_t max_inflated_size;
} cdc_pipeline_conf_t;

typedef struct cdc_config {
	char *path; /* the file it came from */
	cdc_source_conf_t source;
	cdc_sink_conf_t sink;
	cdc_route_conf_t *routes;
	size_t nroutes;
	cdc_pipeline_conf_t pipeline;
} cdc_config_t;

/* Defaults for every setting (no username or server id: the file must
 * give those). Allocates the default strings: free with cdc_config_free. */
void cdc_config_init(cdc_config_t *c);

/*
 * Load a YAML file over the defaults, then validate. *c must come from
 * cdc_config_init. Returns 0, or an error whose message names the file,
 * line, key, the value given and what is allowed
 * ("shop.yaml:7: source.port: 70000 is out of range 1..65535").
 * On error *c is left freeable. After success, derived values are filled
 * in: source.name (registered, else hostname), hostname "localhost" when
 * only a socket is given, conn.connect_timeout_s.
 */
binlog_errcode_t cdc_config_load(const char *path, cdc_config_t *c, binlog_err_t *err);

/* The same from a string (for tests); `name` stands for the file name. */
binlog_errcode_t cdc_config_parse(const char *name, const char *yaml, size_t len, cdc_config_t *c,
				  binlog_err_t *err);

/* Free everything *c holds (the password is wiped first) and zero it. */
void cdc_config_free(cdc_config_t *c);

/* Append the reference of every setting, as docs/CONFIGURATION.md holds it. */
void cdc_config_doc(binlog_buf_t *b);

/* Free the items and the array; the list is empty afterwards. */
void cdc_list_free(cdc_list_t *l);

/* `sluice config docs` and `sluice config check -c FILE` (argv[0] is
 * "config"). Returns the exit status. */
int cdc_config_main(int argc, char **argv);

#endif
