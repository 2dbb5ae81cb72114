/*
 * cdc_pipe.h: what a pipeline puts between the binlog stream and the sink,
 * made from its configuration: the table and column filter, the catalog
 * (its connection, and the DDL that invalidates it), the router and the
 * sink. `sluice replay` builds its pipeline here so that it renders, routes
 * and writes records exactly as `sluice run` does for the same
 * configuration.
 *
 *   cdc_pipe_init -> cdc_pipe_open_filter -> cdc_pipe_open_file / _kafka
 *     -> cdc_pipe_open_catalog -> cdc_pipe_attach(stream) -> ... ->
 *   cdc_pipe_close
 *
 * Ownership: the pipe owns everything it opens (filter, router, sink, its
 * file descriptor unless standard output, the catalog and its connection)
 * and frees it in cdc_pipe_close; it borrows the configuration and the
 * stream, which must outlive it. One thread (the stream's).
 */
#ifndef SLUICE_CDC_PIPE_H
#define SLUICE_CDC_PIPE_H

#include <signal.h>

#include "binlog.h"
#include "cdc_config.h"
#include "cdc_filter.h"
#include "cdc_route.h"
#include "cdc_stream.h"
#include "schema.h"
#include "schema_catalog.h"
#include "sink.h"

typedef struct cdc_pipe {
	const cdc_config_t *cfg; /* borrowed */
	cdc_filter_t *filter;    /* source.tables, columns rules */
	/* A further table filter (NULL: none): a table is captured when
	 * both filter and extra capture it. Column rules stay filter's. */
	cdc_filter_t *extra;
	sink_t *sink;
	int sink_fd;          /* the file sink's descriptor, -1 none */
	int sink_rewinds;     /* the sink can go back to an offset */
	cdc_router_t *router; /* sinks with topics (Kafka); NULL otherwise */
	MYSQL *catalog_conn;
	schema_catalog_t *catalog; /* NULL with source.schema.catalog: never */
	schema_stats_t schema_stats;
	schema_opts_t schema;
	cdc_stream_t *st; /* borrowed, from cdc_pipe_attach */
} cdc_pipe_t;

/* Empty; cfg is borrowed for the pipe's life. */
void cdc_pipe_init(cdc_pipe_t *p, const cdc_config_t *cfg);

/* The filter of source.tables, tables.exclude and the column rules. 0 or
 * an error naming the pattern that does not compile. */
binlog_errcode_t cdc_pipe_open_filter(cdc_pipe_t *p, binlog_err_t *err);

enum cdc_pipe_file_mode {
	/* Create or open sink.path and write at its end: the caller truncates
	 * it back to its checkpoint (sluice run). */
	CDC_PIPE_FILE_APPEND = 0,
	/* Create sink.path; one that exists and is not empty is an error
	 * (sluice replay: it may be another pipeline's output). */
	CDC_PIPE_FILE_NEW,
};

/* The file sink of sink.path ("-": standard output), sink.headers and
 * sink.fsync. 0 or an error naming the path. */
binlog_errcode_t cdc_pipe_open_file(cdc_pipe_t *p, int mode, binlog_err_t *err);

typedef struct cdc_pipe_kafka {
	const char *client_id; /* NULL: sluice-<pipeline.name> */
	/* 0: the idempotent producer whatever sink.delivery says (no
	 * transactional id, so no producer of the pipeline is fenced, and
	 * nothing goes to sink.offsets-topic); 1: as sink.delivery says. */
	int transactional;
	volatile sig_atomic_t *stop; /* set by a signal handler, or NULL */
} cdc_pipe_kafka_t;

/* The router of the route rules and sink.topic, and the Kafka sink of the
 * sink settings. 0 or an error naming the rule or setting. */
binlog_errcode_t cdc_pipe_open_kafka(cdc_pipe_t *p, const cdc_pipe_kafka_t *o, binlog_err_t *err);

/* The router alone (what a Kafka sink would route by, without one). */
binlog_errcode_t cdc_pipe_open_router(cdc_pipe_t *p, binlog_err_t *err);

/*
 * The catalog, when source.schema.catalog is not `never`: a connection of
 * its own to the source (password resolved here), read timeout 60 s.
 * Returns 0 with p->catalog set, or the connection's error with p->catalog
 * set all the same, without a connection (tables that need the server then
 * fail, naming the table): the caller decides whether that is fatal.
 * With `never`, 0 and no catalog.
 */
binlog_errcode_t cdc_pipe_open_catalog(cdc_pipe_t *p, binlog_err_t *err);

/* Close the catalog's connection (the catalog stays, without one). */
void cdc_pipe_close_catalog_conn(cdc_pipe_t *p);

/*
 * Make the stream use the pipe: its table filter, DDL tracking for the
 * catalog, schema options (catalog, column rules), router and keys (with
 * a router), and the source's name in records.
 */
void cdc_pipe_attach(cdc_pipe_t *p, cdc_stream_t *st);

/* A DDL statement in the stream: the catalog forgets (and its store
 * records) what it may have changed, at the stream's position. What
 * cdc_pipe_attach makes the stream's on_ddl; a caller with more to do
 * on DDL calls it from its own. 0 or the catalog's error. */
binlog_errcode_t cdc_pipe_ddl(cdc_pipe_t *p, const binlog_event_t *ev, binlog_err_t *err);

/* 1 when db.table ("db.table") is captured by filter and extra. */
int cdc_pipe_table_captured(const cdc_pipe_t *p, const char *qualified);

/* Free everything the pipe opened (the sink is closed, not flushed). */
void cdc_pipe_close(cdc_pipe_t *p);

#endif
