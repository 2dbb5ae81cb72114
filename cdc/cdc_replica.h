/*
 * cdc_replica.h: following a server's binlog as a replica does.
 *
 * The replica connects (cdc_conn), tells the server which checksum it
 * understands and how often to send heartbeats, registers with its
 * server_id and asks for the binlog from a file and position or from a
 * GTID state:
 *
 *   MySQL    COM_BINLOG_DUMP (file, position) or COM_BINLOG_DUMP_GTID (the
 *            executed GTID set, encoded as PREVIOUS_GTIDS is)
 *   MariaDB  COM_BINLOG_DUMP, with @slave_connect_state for a GTID state
 *
 * The server then sends events until the connection ends; each packet is
 * one event, passed on as the server wrote it (checksum included), so the
 * decoder sees exactly what a file holds.
 *
 * Where to start, when there is no checkpoint, is resolved here too: the
 * server's current position (latest), its oldest binlog (earliest), a file
 * and position, a GTID state, or a time.
 */
#ifndef SLUICE_CDC_REPLICA_H
#define SLUICE_CDC_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "binlog.h"
#include "cdc_config.h"
#include "cdc_conn.h"

/* Where the server is to start sending. */
typedef struct cdc_start {
	int by_gtid; /* connect with `gtid`; else with file and pos */
	char file[256];
	uint64_t pos; /* 4: the start of the file */
	char *gtid;   /* MySQL GTID set or MariaDB GTID state (owned) */
	char *seed;   /* history to seed the sequence with, or NULL (owned) */
	uint64_t seq_last;
	/* Transactions before this point are read but not emitted: a start
	 * at a position inside a file, or at a time. */
	char emit_file[256];
	uint64_t emit_pos;
	int64_t emit_ts_ms; /* 0: none */
} cdc_start_t;

void cdc_start_free(cdc_start_t *s);

/* "mysql-bin.000042:1234" or "GTID 0-1-100", for messages. */
const char *cdc_start_describe(const cdc_start_t *s, char *buf, size_t cap);

/*
 * Resolve the configured startup mode against the server `m` is connected
 * to. 0, or an error naming what is missing (no binlog, binlog off, a
 * file not on the server).
 */
binlog_errcode_t cdc_start_resolve(MYSQL *m, const cdc_server_t *srv, const cdc_conn_opts_t *conn,
				   const cdc_source_conf_t *conf, cdc_start_t *out,
				   binlog_err_t *err);

typedef struct cdc_replica cdc_replica_t;

typedef struct cdc_replica_opts {
	const cdc_conn_opts_t *conn;
	uint32_t server_id;
	uint64_t heartbeat_ms;   /* 0: no heartbeats */
	const char *expect_type; /* "mysql", "mariadb" or NULL: checked */
	int nonblocking;         /* the server ends the stream at the end
				  * of its binlog instead of waiting */
} cdc_replica_opts_t;

/*
 * Connect and ask for the binlog from `start`. Returns the replica, or
 * NULL with *err: BINLOG_E_IO when retrying can help (server unreachable,
 * restarting), BINLOG_E_PURGED when the start is no longer on the server,
 * BINLOG_E_USAGE or BINLOG_E_SERVER otherwise (access denied, server_id
 * taken, binlog off); the message says which and what to do.
 */
cdc_replica_t *cdc_replica_open(const cdc_replica_opts_t *o, const cdc_start_t *start,
				binlog_err_t *err);

/*
 * The next event: 1 and *ev, *len (valid until the next call), 0 when the
 * server ended the stream (non-blocking mode, or a server shutting down),
 * or -1 and *err, classified as for cdc_replica_open.
 */
int cdc_replica_next(cdc_replica_t *r, const uint8_t **ev, size_t *len, binlog_err_t *err);

/* 1 when the next event has arrived already: cdc_replica_next will not
 * wait. Callers push buffered output before they would wait. */
int cdc_replica_ready(cdc_replica_t *r);

/* What the server is. */
const cdc_server_t *cdc_replica_server(const cdc_replica_t *r);

/* The connection's socket (for poll, or shutdown to interrupt a read
 * from a signal handler), or -1. */
int cdc_replica_socket(const cdc_replica_t *r);

/* "host:port" of the server, for messages. */
const char *cdc_replica_addr(const cdc_replica_t *r);

/* Bytes received so far. */
uint64_t cdc_replica_bytes(const cdc_replica_t *r);

void cdc_replica_close(cdc_replica_t *r);

/*
 * The timestamp (ms) of the first transaction in binlog `file`, read
 * through a short replication connection: 1 and *ts_ms, 0 when the file
 * holds no transaction, -1 and *err.
 */
int cdc_replica_first_txn_ms(const cdc_replica_opts_t *o, const char *file, int64_t *ts_ms,
			     binlog_err_t *err);

#endif
