/*
 * cdc_conn.h: connections to a MySQL or MariaDB server, and what differs
 * between server flavours and versions, in one place.
 *
 * Every part of sluice that talks to a server (the replication stream, the
 * catalog, preflight checks, snapshots) opens its connection here and asks
 * here for the statement that fits the server: `SHOW BINARY LOG STATUS` on
 * MySQL 8.2+ and `SHOW MASTER STATUS` elsewhere, `gtid_executed` or
 * `gtid_binlog_pos`, and so on.
 *
 * Passwords come from a file or an environment variable and are never
 * written to a message or a log.
 */
#ifndef SLUICE_CDC_CONN_H
#define SLUICE_CDC_CONN_H

#include <stdint.h>

#include "binlog.h"

/* The client library's handle. Its header is included only where it is
 * used: it defines macros (list_push) and functions (list_free) with names
 * too common to leak into every file that includes this one. */
typedef struct st_mysql MYSQL;

enum cdc_ssl_mode {
	CDC_SSL_DISABLED = 0,
	CDC_SSL_PREFERRED,       /* TLS when the server offers it */
	CDC_SSL_REQUIRED,        /* TLS or fail, certificate not checked */
	CDC_SSL_VERIFY_CA,       /* ... and the certificate chains to ssl_ca */
	CDC_SSL_VERIFY_IDENTITY, /* ... and names the host */
};

/* An ssl mode's spelling in configuration and on the command line
 * ("verify-ca"), and back (-1 when s is none of them). */
const char *cdc_ssl_mode_name(int mode);
int cdc_ssl_mode_parse(const char *s);

typedef struct cdc_conn_opts {
	char *host;    /* NULL or "localhost" with socket: local */
	unsigned port; /* 0: 3306 */
	char *socket;  /* Unix socket path, or NULL */
	char *user;
	char *password_file; /* first line is the password */
	char *password_env;  /* name of an environment variable */
	char *password;      /* resolved by cdc_conn_resolve_password;
			      * never printed */
	int ssl_mode;        /* enum cdc_ssl_mode */
	char *ssl_ca, *ssl_cert, *ssl_key;
	unsigned connect_timeout_s;
	unsigned read_timeout_s; /* 0: none (the replication stream blocks) */
} cdc_conn_opts_t;

/* Free the strings of o (not o itself) and wipe the password. */
void cdc_conn_opts_free(cdc_conn_opts_t *o);

/* Deep copy (password included). 0 or BINLOG_E_NOMEM. */
binlog_errcode_t cdc_conn_opts_copy(cdc_conn_opts_t *dst, const cdc_conn_opts_t *src);

/*
 * Read the password from password_file or password_env into o->password
 * (an empty password when neither is set). The error names the file or
 * variable and what is wrong with it, never the value.
 *
 * The file's first line is the password, without its line end (\n or
 * \r\n); a file that is missing, unreadable, a directory, empty, or whose
 * first line is empty or over 1024 bytes is an error, as is an unset or
 * empty variable, or both being set. A file that other users may read is
 * accepted: container platforms mount secrets 0644 by default, the
 * directory protecting them; `sluice source add` warns about it instead.
 */
binlog_errcode_t cdc_conn_resolve_password(cdc_conn_opts_t *o, binlog_err_t *err);

/*
 * Connect (TLS as ssl_mode says, utf8mb4, autocommit). Returns a handle
 * the caller closes with mysql_close, or NULL with *err naming the
 * address and the server's message; BINLOG_E_IO is retriable (unreachable,
 * refused, timed out), BINLOG_E_USAGE is not (access denied, bad TLS
 * configuration).
 *
 * TLS: preferred tries TLS and falls back to plain text when the server
 * has none; required and verify-* fail unless TLS was negotiated (a Unix
 * socket counts as secure); verify-ca needs ssl_ca and checks the chain;
 * verify-identity also checks the host name (against the system CAs when
 * ssl_ca is not set). connect_timeout_s 0 means 10 seconds.
 */
MYSQL *cdc_conn_open(const cdc_conn_opts_t *o, binlog_err_t *err);

/* "host:port" or the socket path, for messages. */
const char *cdc_conn_addr(const cdc_conn_opts_t *o, char *buf, size_t cap);

/* What a connected server is. */
typedef struct cdc_server {
	int flavor;       /* BINLOG_FLAVOR_MYSQL or _MARIADB */
	unsigned version; /* 80400 for 8.4.0, 101100 for 10.11.0 */
	char version_text[96];
	uint32_t server_id;
	char server_uuid[37]; /* MySQL; "" for MariaDB */
	int gtid_mode;        /* MySQL: gtid_mode=ON; MariaDB: always 1 */
} cdc_server_t;

/* Fill *s from the server. 0 or an error naming the query that failed. */
binlog_errcode_t cdc_server_probe(MYSQL *m, cdc_server_t *s, binlog_err_t *err);

/* The flavour- and version-specific statements. */
const char *cdc_sql_binlog_status(const cdc_server_t *s); /* file, position, ... */
const char *cdc_sql_binlogs(const cdc_server_t *s);       /* SHOW BINARY LOGS */
const char *cdc_sql_replicas(const cdc_server_t *s);      /* SHOW REPLICAS / SLAVE HOSTS */
const char *cdc_sql_gtid_state(const cdc_server_t *s);    /* the executed GTID state */
const char *cdc_sql_purged_gtids(const cdc_server_t *s);  /* GTIDs no longer in binlogs, or NULL */

/* Names and statements that differ by flavour, for preflight messages. */
const char *cdc_flavor_name(const cdc_server_t *s);         /* "MySQL" or "MariaDB" */
const char *cdc_priv_binlog_monitor(const cdc_server_t *s); /* SHOW BINARY LOGS needs it */
const char *cdc_priv_replicas(const cdc_server_t *s);       /* cdc_sql_replicas() needs it */
const char *cdc_sql_set_global(const cdc_server_t *s);      /* SET PERSIST (MySQL 8+) or
							     * SET GLOBAL */
/* The active roles ("`r1`@`%`,..." or "NONE"), on servers whose SHOW
 * GRANTS leaves their privileges out (MySQL 8+: SHOW GRANTS ... USING);
 * NULL where SHOW GRANTS already includes them (MariaDB). */
const char *cdc_sql_active_roles(const cdc_server_t *s);

/*
 * How long the server keeps binlogs, in seconds (0: it never purges them;
 * -1: unknown), from the values of binlog_expire_logs_seconds,
 * expire_logs_days and binlog_expire_logs_auto_purge (NULL when the server
 * has no such variable). *setting is the variable to change.
 */
int64_t cdc_binlog_retention(const cdc_server_t *s, const char *expire_seconds,
			     const char *expire_days, const char *auto_purge, const char **setting);

/*
 * Run a query whose result is one row, and copy column `col` of it into
 * out (NUL-terminated, "" for NULL). 0, or an error naming the query;
 * BINLOG_E_BAD_EVENT when it returned no row, BINLOG_E_LIMIT when the
 * value does not fit in cap (never cut: a cut GTID set would be wrong).
 */
binlog_errcode_t cdc_query_value(MYSQL *m, const char *sql, unsigned col, char *out, size_t cap,
				 binlog_err_t *err);

/* Run a statement that returns no rows. 0 or an error naming it. */
binlog_errcode_t cdc_exec(MYSQL *m, const char *sql, binlog_err_t *err);

#endif
