/*
 * cdc_conn.c: connections to MySQL and MariaDB through libmariadb, the
 * password and TLS settings, the errors a connection can give and how to
 * classify them, and every statement or name that differs between server
 * flavours and versions.
 *
 * Every such difference lives here, in this table, so that the rest of
 * sluice asks "which statement" instead of testing versions itself:
 *
 *   what                   MySQL                        MariaDB
 *   ---------------------  ---------------------------  --------------------------
 *   binlog position        SHOW BINARY LOG STATUS 8.2+  SHOW MASTER STATUS
 *                          SHOW MASTER STATUS < 8.2
 *   binlog files           SHOW BINARY LOGS             SHOW BINARY LOGS
 *   connected replicas     SHOW REPLICAS 8.0.22+        SHOW SLAVE HOSTS
 *                          SHOW SLAVE HOSTS < 8.0.22
 *   executed GTIDs         @@GLOBAL.gtid_executed       @@GLOBAL.gtid_binlog_pos
 *   purged GTIDs           @@GLOBAL.gtid_purged         none (NULL)
 *   server uuid            @@server_uuid (5.6+)         none ("")
 *   GTIDs on               gtid_mode = ON (5.6+)        always
 *   binlog listing needs   REPLICATION CLIENT           BINLOG MONITOR (10.5+; the
 *                                                       old name is an alias)
 *   replica listing needs  REPLICATION SLAVE            REPLICATION MASTER ADMIN 10.5+
 *   binlog retention       binlog_expire_logs_seconds   binlog_expire_logs_seconds
 *                          (8.0+), expire_logs_days     (10.6+), expire_logs_days
 *                          (< 8.4); none when           (a fraction of days on 10.6+)
 *                          binlog_expire_logs_auto_purge
 *                          is OFF (8.0.29+)
 *   grants of active roles SHOW GRANTS FOR               SHOW GRANTS (shows them)
 *                          CURRENT_USER() USING <roles>
 *                          (8.0+)
 *   fix statements         SET PERSIST (8.0+)           SET GLOBAL (+ my.cnf)
 *   flavour                "MariaDB" not in @@version   "MariaDB" in @@version
 *
 * Connection errors are sorted into BINLOG_E_IO (retrying can help: the
 * server is down, unreachable, restarting or full) and BINLOG_E_USAGE
 * (a human must act: wrong password, missing grant, bad TLS settings).
 * Messages read "user@address: the server's message (server error N)" and
 * never contain the password.
 */
#include "cdc_conn.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

/* Without a timeout a dead route would hang `sluice source add` for the
 * kernel's TCP retry time (minutes). */
#define DEFAULT_CONNECT_TIMEOUT_S 10

/* A password longer than this is almost certainly the wrong file. */
#define PASSWORD_MAX 1024

static const char *const ssl_names[] = {"disabled", "preferred", "required", "verify-ca",
					"verify-identity"};

const char *cdc_ssl_mode_name(int mode)
{
	if (mode < 0 || mode >= (int)(sizeof(ssl_names) / sizeof(ssl_names[0])))
		return "?";
	return ssl_names[mode];
}

int cdc_ssl_mode_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(ssl_names) / sizeof(ssl_names[0]); i++)
		if (strcmp(s, ssl_names[i]) == 0)
			return (int)i;
	return -1;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void cdc_conn_opts_free(cdc_conn_opts_t *o)
{
	if (!o)
		return;
	free(o->host);
	free(o->socket);
	free(o->user);
	free(o->password_file);
	free(o->password_env);
	wipe_free(o->password);
	free(o->ssl_ca);
	free(o->ssl_cert);
	free(o->ssl_key);
	o->host = o->socket = o->user = o->password_file = o->password_env = NULL;
	o->password = o->ssl_ca = o->ssl_cert = o->ssl_key = NULL;
}

/* Copy one optional string; 0 on success, -1 when out of memory. */
static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -1;
}

binlog_errcode_t cdc_conn_opts_copy(cdc_conn_opts_t *dst, const cdc_conn_opts_t *src)
{
	binlog_errcode_t rc = BINLOG_OK;

	*dst = *src;
	/* Each pointer is replaced before anything can fail, so dst is always
	 * freeable, and never shares a string with src. */
	if (dup_opt(&dst->host, src->host) | dup_opt(&dst->socket, src->socket) |
	    dup_opt(&dst->user, src->user) | dup_opt(&dst->password_file, src->password_file) |
	    dup_opt(&dst->password_env, src->password_env) |
	    dup_opt(&dst->password, src->password) | dup_opt(&dst->ssl_ca, src->ssl_ca) |
	    dup_opt(&dst->ssl_cert, src->ssl_cert) | dup_opt(&dst->ssl_key, src->ssl_key)) {
		cdc_conn_opts_free(dst);
		rc = BINLOG_E_NOMEM;
	}
	return rc;
}

/*
 * The first line of the file, without its line end. Group- or world-
 * readable files are accepted without a word here: Kubernetes and Docker
 * mount secrets 0644 by default, where the directory is what protects them.
 * `sluice source add` points such a file out in its report instead.
 */
static binlog_errcode_t read_password_file(const char *path, char **out, binlog_err_t *err)
{
	char buf[PASSWORD_MAX + 2];
	struct stat st;
	size_t len = 0, line;
	ssize_t n;
	int fd;
	binlog_errcode_t rc = BINLOG_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "password file %s: does not exist", path);
		if (errno == EACCES)
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "password file %s: cannot be read: permission "
					      "denied for the user sluice runs as",
					      path);
		return binlog_err_set(err, BINLOG_E_USAGE, "password file %s: cannot be read: %s",
				      path, strerror(errno));
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = binlog_err_set(err, BINLOG_E_USAGE,
				    "password file %s: is a directory, not a file", path);
		goto out;
	}
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = binlog_err_set(err, BINLOG_E_USAGE,
					    "password file %s: cannot be read: %s", path,
					    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	line = strcspn(buf, "\n");
	if (line > 0 && buf[line - 1] == '\r')
		line--;
	if (line > PASSWORD_MAX) {
		rc = binlog_err_set(err, BINLOG_E_USAGE,
				    "password file %s: the first line is longer than %d bytes; "
				    "it should hold only the password",
				    path, PASSWORD_MAX);
		goto out;
	}
	if (memchr(buf, '\0', line)) {
		rc = binlog_err_set(err, BINLOG_E_USAGE,
				    "password file %s: the first line contains a NUL byte", path);
		goto out;
	}
	if (line == 0) {
		rc = binlog_err_set(
			err, BINLOG_E_USAGE,
			len == 0 ? "password file %s: is empty; its first line must be "
				   "the password"
				 : "password file %s: the first line is empty; it must be "
				   "the password",
			path);
		goto out;
	}
	*out = strndup(buf, line);
	if (!*out)
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "password file %s: out of memory", path);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

binlog_errcode_t cdc_conn_resolve_password(cdc_conn_opts_t *o, binlog_err_t *err)
{
	const char *v;
	char *pw = NULL;
	binlog_errcode_t rc = BINLOG_OK;

	if (o->password_file && o->password_env) {
		rc = binlog_err_set(err, BINLOG_E_USAGE,
				    "both a password file (%s) and a password variable (%s) are "
				    "set; give one",
				    o->password_file, o->password_env);
		goto out;
	}
	if (o->password_file) {
		rc = read_password_file(o->password_file, &pw, err);
	} else if (o->password_env) {
		v = getenv(o->password_env);
		if (!v)
			rc = binlog_err_set(err, BINLOG_E_USAGE,
					    "password variable %s: is not set in the environment",
					    o->password_env);
		else if (!*v)
			rc = binlog_err_set(err, BINLOG_E_USAGE,
					    "password variable %s: is set but empty",
					    o->password_env);
		else if (!(pw = strdup(v)))
			rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	} else if (!(pw = strdup(""))) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	}
	if (rc == BINLOG_OK) {
		wipe_free(o->password);
		o->password = pw;
	}
out:
	return rc;
}

static int is_local(const char *host)
{
	return !host || !*host || strcmp(host, "localhost") == 0;
}

const char *cdc_conn_addr(const cdc_conn_opts_t *o, char *buf, size_t cap)
{
	const char *host = o->host && *o->host ? o->host : "localhost";
	unsigned port = o->port ? o->port : 3306;

	if (o->socket && is_local(o->host))
		snprintf(buf, cap, "%s", o->socket);
	else if (strchr(host, ':'))
		snprintf(buf, cap, "[%s]:%u", host, port); /* IPv6 literal */
	else
		snprintf(buf, cap, "%s:%u", host, port);
	return buf;
}

/* Client errors come from libmariadb itself (2000-2999, and its own
 * 5000-5999); everything else is the server's. */
static int client_errno(unsigned e)
{
	return (e >= CR_MIN_ERROR && e <= CR_MAX_ERROR) || (e >= 5000 && e < 6000);
}

/* Errors after which trying again later can succeed. An unknown host is
 * among them: a resolver hiccup looks the same as a typo, and the retry
 * limit ends the typo's case. */
static int retriable_errno(unsigned e)
{
	switch (e) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_IPSOCK_ERROR:
	case CR_UNKNOWN_HOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_SERVER_HANDSHAKE_ERR:
	case CR_ERR_NET_READ:
	case CR_ERR_NET_WRITE:
	case ER_CON_COUNT_ERROR:
	case ER_TOO_MANY_USER_CONNECTIONS:
	case ER_SERVER_SHUTDOWN:
	case ER_NET_READ_INTERRUPTED:
	case ER_CONNECTION_KILLED:
		return 1;
	default:
		return 0;
	}
}

/*
 * libmariadb ends its "can't connect" messages with a bare errno, "(111)"
 * or "system error: 110"; spell it out so the reason is readable. After a
 * non-blocking connect it reports EINPROGRESS for a connection that failed
 * before the timeout (a timeout ends "system error: 110"): the kernel only
 * ends a pending connect that early on a refusal or an unreachable host.
 */
static void spell_errno(char *msg, size_t cap)
{
	size_t n = strlen(msg), i, end_digits;
	const char *reason;
	char *end;
	long e;

	end_digits = n;
	if (n && msg[n - 1] == ')')
		end_digits = n - 1;
	i = end_digits;
	while (i > 0 && isdigit((unsigned char)msg[i - 1]))
		i--;
	if (i == end_digits || i == 0)
		return;
	errno = 0;
	e = strtol(msg + i, &end, 10);
	if (errno || e <= 0 || e > 4095)
		return;
	reason = e == EINPROGRESS ? "connection refused or host unreachable" : strerror((int)e);
	if (end_digits < n && msg[i - 1] == '(')
		snprintf(msg + i - 1, cap - (i - 1), "(%ld: %s)", e, reason);
	else if (end_digits == n && (msg[i - 1] == ' ' || msg[i - 1] == ':'))
		snprintf(msg + n, cap - n, " (%s)", reason);
}

/* Fill *err from the handle's last error: "user@addr: message (server
 * error N)". */
static binlog_errcode_t conn_error(MYSQL *m, const char *user, const char *addr, const char *what,
				   binlog_err_t *err)
{
	unsigned e = mysql_errno(m);
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", *mysql_error(m) ? mysql_error(m) : "unknown error");
	if (e == CR_CONNECTION_ERROR || e == CR_CONN_HOST_ERROR || e == CR_SERVER_LOST ||
	    e == CR_SERVER_LOST_EXTENDED)
		spell_errno(msg, sizeof(msg));
	return binlog_err_set(err, retriable_errno(e) ? BINLOG_E_IO : BINLOG_E_USAGE,
			      "%s@%s: %s%s%s (%s error %u)", user ? user : "", addr,
			      what ? what : "", what ? ": " : "", msg,
			      client_errno(e) ? "client" : "server", e);
}

/* One attempt, with TLS or without. On failure *eno is the error number. */
static MYSQL *conn_try(const cdc_conn_opts_t *o, int tls, const char *addr, unsigned *eno,
		       binlog_err_t *err)
{
	unsigned ct = o->connect_timeout_s ? o->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S;
	unsigned rt = o->read_timeout_s, no = 0;
	my_bool yes = 1, verify;
	const char *host = o->host && *o->host ? o->host : "localhost";
	MYSQL *m;

	*eno = 0;
	m = mysql_init(NULL);
	if (!m) {
		binlog_err_set(err, BINLOG_E_NOMEM, "%s: out of memory", addr);
		return NULL;
	}
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	if (rt) {
		mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rt);
		mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rt);
	}
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* The server must never be able to ask sluice for a local file. */
	mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &no);
	if (!o->socket || !is_local(o->host)) {
		unsigned proto = MYSQL_PROTOCOL_TCP;
		if (is_local(o->host) && !o->socket)
			proto = MYSQL_PROTOCOL_SOCKET; /* the default socket */
		mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
	}
	if (tls) {
		/* With a CA, libmariadb checks the chain; VERIFY_SERVER_CERT
		 * adds the chain (system CAs without ssl_ca) and the name. */
		verify = o->ssl_mode == CDC_SSL_VERIFY_IDENTITY;
		mysql_ssl_set(m, o->ssl_key, o->ssl_cert, o->ssl_ca, NULL, NULL);
		mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &yes);
		mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
	}
	if (!mysql_real_connect(m, host, o->user, o->password ? o->password : "", NULL,
				o->port ? o->port : 3306, o->socket, 0)) {
		*eno = mysql_errno(m);
		conn_error(m, o->user, addr, NULL, err);
		mysql_close(m);
		return NULL;
	}
	/*
	 * libmariadb 3.3 connects in plain text to a server without TLS even
	 * when told to enforce it, so look at what was negotiated. A Unix
	 * socket never leaves the host and counts as secure, as for MySQL.
	 */
	if (tls && o->ssl_mode >= CDC_SSL_REQUIRED && !mysql_get_ssl_cipher(m) &&
	    !(o->socket && is_local(o->host))) {
		*eno = CR_SSL_CONNECTION_ERROR;
		binlog_err_set(err, BINLOG_E_USAGE,
			       "%s@%s: ssl mode %s: the server does not offer TLS (client error "
			       "%u)",
			       o->user, addr, cdc_ssl_mode_name(o->ssl_mode),
			       CR_SSL_CONNECTION_ERROR);
		mysql_close(m);
		return NULL;
	}
	return m;
}

MYSQL *cdc_conn_open(const cdc_conn_opts_t *o, binlog_err_t *err)
{
	char addr[300];
	unsigned eno = 0;
	MYSQL *m = NULL;

	cdc_conn_addr(o, addr, sizeof(addr));
	if (!o->user || !*o->user) {
		binlog_err_set(err, BINLOG_E_USAGE, "%s: no user name given", addr);
		goto out;
	}
	if (o->ssl_mode < CDC_SSL_DISABLED || o->ssl_mode > CDC_SSL_VERIFY_IDENTITY) {
		binlog_err_set(err, BINLOG_E_USAGE, "%s: unknown ssl mode %d", addr, o->ssl_mode);
		goto out;
	}
	if (o->ssl_mode == CDC_SSL_VERIFY_CA && !o->ssl_ca) {
		binlog_err_set(err, BINLOG_E_USAGE,
			       "%s@%s: ssl mode verify-ca needs the CA certificate (ssl-ca)",
			       o->user, addr);
		goto out;
	}
	m = conn_try(o, o->ssl_mode != CDC_SSL_DISABLED, addr, &eno, err);
	/* preferred: a server without TLS (or whose TLS fails) still gets a
	 * plain connection; that guards against nothing but eavesdropping on
	 * servers that do offer TLS, as in the MySQL client. */
	if (!m && o->ssl_mode == CDC_SSL_PREFERRED && eno == CR_SSL_CONNECTION_ERROR)
		m = conn_try(o, 0, addr, &eno, err);
	if (m && mysql_autocommit(m, 1)) {
		conn_error(m, o->user, addr, "SET autocommit=1", err);
		mysql_close(m);
		m = NULL;
	}
out:
	return m;
}

/* The handle's "user@address", for messages about statements. */
static const char *handle_addr(MYSQL *m, const char **user, char *buf, size_t cap)
{
	const char *host = NULL, *sock = NULL;
	unsigned port = 0;

	*user = NULL;
	mariadb_get_infov(m, MARIADB_CONNECTION_USER, (void *)user);
	mariadb_get_infov(m, MARIADB_CONNECTION_HOST, (void *)&host);
	mariadb_get_infov(m, MARIADB_CONNECTION_PORT, (void *)&port);
	mariadb_get_infov(m, MARIADB_CONNECTION_UNIX_SOCKET, (void *)&sock);
	if (sock && *sock && is_local(host))
		snprintf(buf, cap, "%s", sock);
	else if (host && strchr(host, ':'))
		snprintf(buf, cap, "[%s]:%u", host, port);
	else
		snprintf(buf, cap, "%s:%u", host ? host : "?", port);
	return buf;
}

static binlog_errcode_t stmt_error(MYSQL *m, const char *sql, binlog_err_t *err)
{
	char addr[300];
	const char *user;

	handle_addr(m, &user, addr, sizeof(addr));
	return conn_error(m, user, addr, sql, err);
}

binlog_errcode_t cdc_exec(MYSQL *m, const char *sql, binlog_err_t *err)
{
	MYSQL_RES *res;

	if (mysql_real_query(m, sql, strlen(sql)))
		return stmt_error(m, sql, err);
	/* A statement that unexpectedly returns rows must not leave them
	 * unread: the next statement would fail "out of sync". */
	res = mysql_store_result(m);
	if (res)
		mysql_free_result(res);
	else if (mysql_field_count(m))
		return stmt_error(m, sql, err);
	return BINLOG_OK;
}

binlog_errcode_t cdc_query_value(MYSQL *m, const char *sql, unsigned col, char *out, size_t cap,
				 binlog_err_t *err)
{
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	unsigned long *lens;
	binlog_errcode_t rc = BINLOG_OK;

	if (cap)
		out[0] = '\0';
	if (mysql_real_query(m, sql, strlen(sql)) || !(res = mysql_store_result(m))) {
		rc = stmt_error(m, sql, err);
		goto out;
	}
	row = mysql_fetch_row(res);
	if (!row) {
		rc = binlog_err_set(err, BINLOG_E_BAD_EVENT, "%s: returned no row", sql);
		goto out;
	}
	if (col >= mysql_num_fields(res)) {
		rc = binlog_err_set(err, BINLOG_E_USAGE, "%s: has no column %u", sql, col);
		goto out;
	}
	lens = mysql_fetch_lengths(res);
	if (row[col]) {
		/* A cut GTID set would be silently wrong; refuse instead. */
		if (lens[col] >= cap) {
			rc = binlog_err_set(err, BINLOG_E_LIMIT,
					    "%s: the value (%lu bytes) does not fit in %zu bytes",
					    sql, lens[col], cap);
			goto out;
		}
		memcpy(out, row[col], lens[col]);
		out[lens[col]] = '\0';
	}
out:
	if (res)
		mysql_free_result(res);
	return rc;
}

/* "10.11.19-MariaDB-log" -> 101119; "8.4.0" -> 80400. */
static unsigned parse_version(const char *v)
{
	unsigned part[3] = {0, 0, 0};
	char *end;
	unsigned long x;

	for (int i = 0; i < 3 && isdigit((unsigned char)*v); i++) {
		x = strtoul(v, &end, 10);
		part[i] = x > 99 && i > 0 ? 99 : (unsigned)(x > 999 ? 999 : x);
		v = end;
		if (*v != '.')
			break;
		v++;
	}
	return part[0] * 10000 + part[1] * 100 + part[2];
}

binlog_errcode_t cdc_server_probe(MYSQL *m, cdc_server_t *s, binlog_err_t *err)
{
	static const char q_vars[] =
		"SHOW GLOBAL VARIABLES WHERE Variable_name IN ('server_uuid', 'gtid_mode')";
	char buf[64];
	MYSQL_RES *res = NULL;
	MYSQL_ROW row;
	binlog_errcode_t rc;
	unsigned long id;
	char *end;

	memset(s, 0, sizeof(*s));
	rc = cdc_query_value(m, "SELECT @@GLOBAL.version", 0, s->version_text,
			     sizeof(s->version_text), err);
	if (rc != BINLOG_OK)
		goto out;
	s->flavor =
		strstr(s->version_text, "MariaDB") ? BINLOG_FLAVOR_MARIADB : BINLOG_FLAVOR_MYSQL;
	s->version = parse_version(s->version_text);
	rc = cdc_query_value(m, "SELECT @@GLOBAL.server_id", 0, buf, sizeof(buf), err);
	if (rc != BINLOG_OK)
		goto out;
	errno = 0;
	id = strtoul(buf, &end, 10);
	if (errno || *end || id > UINT32_MAX) {
		rc = binlog_err_set(err, BINLOG_E_BAD_EVENT, "SELECT @@GLOBAL.server_id: '%s'",
				    buf);
		goto out;
	}
	s->server_id = (uint32_t)id;
	if (s->flavor == BINLOG_FLAVOR_MARIADB) {
		s->gtid_mode = 1; /* MariaDB always writes GTIDs (10.0+) */
		goto out;
	}
	/* SHOW VARIABLES rather than @@: MySQL 5.5 has neither variable, and
	 * a missing one is then simply absent. */
	if (mysql_real_query(m, q_vars, sizeof(q_vars) - 1) || !(res = mysql_store_result(m))) {
		rc = stmt_error(m, q_vars, err);
		goto out;
	}
	while ((row = mysql_fetch_row(res))) {
		if (!row[0] || !row[1])
			continue;
		if (strcmp(row[0], "server_uuid") == 0)
			snprintf(s->server_uuid, sizeof(s->server_uuid), "%s", row[1]);
		else if (strcmp(row[0], "gtid_mode") == 0)
			s->gtid_mode = strcasecmp(row[1], "ON") == 0;
	}
out:
	if (res)
		mysql_free_result(res);
	return rc;
}

static int is_mysql(const cdc_server_t *s)
{
	return s->flavor != BINLOG_FLAVOR_MARIADB;
}

const char *cdc_sql_binlog_status(const cdc_server_t *s)
{
	if (is_mysql(s) && s->version >= 80200)
		return "SHOW BINARY LOG STATUS";
	return "SHOW MASTER STATUS";
}

const char *cdc_sql_binlogs(const cdc_server_t *s)
{
	(void)s;
	return "SHOW BINARY LOGS";
}

const char *cdc_sql_replicas(const cdc_server_t *s)
{
	if (is_mysql(s) && s->version >= 80022)
		return "SHOW REPLICAS";
	return "SHOW SLAVE HOSTS";
}

const char *cdc_sql_gtid_state(const cdc_server_t *s)
{
	if (is_mysql(s))
		return "SELECT @@GLOBAL.gtid_executed";
	return "SELECT @@GLOBAL.gtid_binlog_pos";
}

const char *cdc_sql_purged_gtids(const cdc_server_t *s)
{
	if (is_mysql(s))
		return "SELECT @@GLOBAL.gtid_purged";
	return NULL;
}

const char *cdc_flavor_name(const cdc_server_t *s)
{
	return is_mysql(s) ? "MySQL" : "MariaDB";
}

const char *cdc_priv_binlog_monitor(const cdc_server_t *s)
{
	if (!is_mysql(s) && s->version >= 100502)
		return "BINLOG MONITOR";
	return "REPLICATION CLIENT";
}

const char *cdc_priv_replicas(const cdc_server_t *s)
{
	if (!is_mysql(s) && s->version >= 100502)
		return "REPLICATION MASTER ADMIN";
	return "REPLICATION SLAVE";
}

const char *cdc_sql_active_roles(const cdc_server_t *s)
{
	if (is_mysql(s) && s->version >= 80000)
		return "SELECT CURRENT_ROLE()";
	return NULL;
}

const char *cdc_sql_set_global(const cdc_server_t *s)
{
	if (is_mysql(s) && s->version >= 80000)
		return "SET PERSIST";
	return "SET GLOBAL";
}

int64_t cdc_binlog_retention(const cdc_server_t *s, const char *expire_seconds,
			     const char *expire_days, const char *auto_purge, const char **setting)
{
	int64_t r = -1;
	double d;

	*setting = expire_seconds ? "binlog_expire_logs_seconds" : "expire_logs_days";
	if (is_mysql(s) && auto_purge && strcasecmp(auto_purge, "OFF") == 0) {
		*setting = "binlog_expire_logs_auto_purge";
		r = 0;
		goto out;
	}
	/* The seconds win when set (MySQL 8.0); MariaDB keeps the two in
	 * step, so either gives the same answer there. */
	if (expire_seconds && strtoll(expire_seconds, NULL, 10) > 0) {
		r = strtoll(expire_seconds, NULL, 10);
		goto out;
	}
	if (expire_days) {
		d = strtod(expire_days, NULL);
		r = d > 0 ? (int64_t)(d * 86400.0 + 0.5) : 0;
		goto out;
	}
	if (expire_seconds)
		r = 0;
out:
	return r;
}
