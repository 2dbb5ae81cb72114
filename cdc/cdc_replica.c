/*
 * cdc_replica.c: the replication protocol (see cdc_replica.h).
 *
 * libmariadb connects, authenticates and frames packets; the replication
 * commands themselves are sent as raw commands, because the connector's
 * own replication API parses events with its decoder, not ours, and does
 * not speak COM_BINLOG_DUMP_GTID.
 */
#include "cdc_replica.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <ma_pvio.h>
#include <mysqld_error.h>

#include "binlog_gtid.h"
#include "cdc_log.h"
#include "cdc_sequence.h"

#define COM_BINLOG_DUMP_GTID_ 0x1e /* not in libmariadb's enum */

#define DUMP_NON_BLOCK    0x01
#define DUMP_THROUGH_GTID 0x04 /* COM_BINLOG_DUMP_GTID carries a set */

#define MARIA_SLAVE_CAPABILITY_GTID 4

struct cdc_replica {
	MYSQL *m;
	cdc_server_t srv;
	char addr[300];
	uint64_t bytes;
};

void cdc_start_free(cdc_start_t *s)
{
	free(s->gtid);
	free(s->seed);
	memset(s, 0, sizeof(*s));
}

const char *cdc_start_describe(const cdc_start_t *s, char *buf, size_t cap)
{
	if (s->by_gtid)
		snprintf(buf, cap, "GTID %s", s->gtid && *s->gtid ? s->gtid : "(empty)");
	else
		snprintf(buf, cap, "%s:%llu", s->file, (unsigned long long)s->pos);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

static int contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/*
 * Turn the connection's last error into *err, saying what was being done
 * (`what`) and, where the server's message is cryptic, what it means and
 * what to do.
 */
static binlog_errcode_t server_error(MYSQL *m, const char *addr, const char *what,
				     binlog_err_t *err)
{
	unsigned no = mysql_errno(m);
	const char *msg = mysql_error(m);

	switch (no) {
	case ER_MASTER_FATAL_ERROR_READING_BINLOG:
		if (contains(msg, "same server_uuid") || contains(msg, "same server_id") ||
		    contains(msg, "same server-id"))
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "%s: %s: %s (error %u): another replica uses this "
					      "server_id; give source.server-id a value no other "
					      "replica of this server has",
					      addr, what, msg, no);
		if (contains(msg, "purged") || contains(msg, "Could not find first log") ||
		    contains(msg, "Could not find GTID state") ||
		    contains(msg, "not in the master's binlog") ||
		    contains(msg, "is missing the GTID") || contains(msg, "could not find"))
			return binlog_err_set(err, BINLOG_E_PURGED, "%s: %s: %s (error %u)", addr,
					      what, msg, no);
		return binlog_err_set(err, BINLOG_E_SERVER, "%s: %s: %s (error %u)", addr, what,
				      msg, no);
	case ER_ACCESS_DENIED_ERROR:
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
	case 1044: /* ER_DBACCESS_DENIED_ERROR */
	case 1142: /* ER_TABLEACCESS_DENIED_ERROR */
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "%s: %s: %s (error %u); the user needs REPLICATION SLAVE "
				      "and REPLICATION CLIENT (GRANT REPLICATION SLAVE, "
				      "REPLICATION CLIENT ON *.* TO ...); `sluice source check` "
				      "lists every missing privilege",
				      addr, what, msg, no);
	case ER_NO_BINARY_LOGGING:
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "%s: %s: %s (error %u); start the server with log_bin "
				      "and binlog_format=ROW",
				      addr, what, msg, no);
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
	case 1317: /* ER_QUERY_INTERRUPTED */
		return binlog_err_set(err, BINLOG_E_IO, "%s: %s: %s (error %u)", addr, what, msg,
				      no);
	default:
		if (no >= 2000 && no < 3000) /* the client's own: connection trouble */
			return binlog_err_set(err, BINLOG_E_IO, "%s: %s: %s (error %u)", addr, what,
					      msg, no);
		return binlog_err_set(err, BINLOG_E_SERVER, "%s: %s: %s (error %u)", addr, what,
				      msg, no);
	}
}

/* ------------------------------------------------------------------ */
/* Queries                                                             */

/* Run `sql` and copy up to `ncols` columns of its first row into out[i]
 * (malloc'd, "" for NULL; free with free_row). 1 with a row, 0 without,
 * -1 and *err. */
static int query_row(MYSQL *m, const char *addr, const char *sql, char **out, unsigned ncols,
		     binlog_err_t *err)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned nf;

	for (unsigned i = 0; i < ncols; i++)
		out[i] = NULL;
	if (mysql_query(m, sql) != 0) {
		server_error(m, addr, sql, err);
		return -1;
	}
	res = mysql_store_result(m);
	if (!res) {
		if (mysql_errno(m)) {
			server_error(m, addr, sql, err);
			return -1;
		}
		return 0;
	}
	row = mysql_fetch_row(res);
	nf = mysql_num_fields(res);
	for (unsigned i = 0; i < ncols; i++) {
		out[i] = strdup(row && i < nf && row[i] ? row[i] : "");
		if (!out[i]) {
			mysql_free_result(res);
			binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			return -1;
		}
	}
	mysql_free_result(res);
	return row ? 1 : 0;
}

static void free_row(char **row, unsigned ncols)
{
	for (unsigned i = 0; i < ncols; i++) {
		free(row[i]);
		row[i] = NULL;
	}
}

static binlog_errcode_t set_file(cdc_start_t *out, const char *addr, const char *name,
				 binlog_err_t *err)
{
	if (strlen(name) >= sizeof(out->file))
		return binlog_err_set(err, BINLOG_E_LIMIT,
				      "%s: binlog file name '%.64s...' is longer than %zu bytes",
				      addr, name, sizeof(out->file) - 1);
	memcpy(out->file, name, strlen(name) + 1);
	return BINLOG_OK;
}

/* The binlog files the server has, oldest first. */
typedef struct file_list {
	char (*name)[256];
	size_t n;
} file_list_t;

static binlog_errcode_t list_binlogs(MYSQL *m, const char *addr, const cdc_server_t *srv,
				     file_list_t *l, binlog_err_t *err)
{
	const char *sql = cdc_sql_binlogs(srv);
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t cap = 0;

	memset(l, 0, sizeof(*l));
	if (mysql_query(m, sql) != 0 || !(res = mysql_store_result(m)))
		return server_error(m, addr, sql, err);
	while ((row = mysql_fetch_row(res))) {
		if (!row[0])
			continue;
		if (strlen(row[0]) >= sizeof(*l->name)) {
			mysql_free_result(res);
			free(l->name);
			return binlog_err_set(err, BINLOG_E_LIMIT,
					      "%s: binlog file name '%.64s...' is longer than %zu "
					      "bytes",
					      addr, row[0], sizeof(*l->name) - 1);
		}
		if (l->n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *p = realloc(l->name, nc * sizeof(*l->name));
			if (!p) {
				mysql_free_result(res);
				free(l->name);
				return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			}
			l->name = p;
			cap = nc;
		}
		memcpy(l->name[l->n++], row[0], strlen(row[0]) + 1);
	}
	mysql_free_result(res);
	if (l->n == 0) {
		free(l->name);
		l->name = NULL;
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "%s: the server has no binary logs; start it with log_bin "
				      "and binlog_format=ROW",
				      addr);
	}
	return BINLOG_OK;
}

static binlog_errcode_t dup_into(char **dst, const char *s, binlog_err_t *err)
{
	free(*dst);
	*dst = strdup(s);
	return *dst ? BINLOG_OK : binlog_err_set(err, BINLOG_E_NOMEM, NULL);
}

/* A MariaDB GTID state goes into a quoted SET: only digits, '-', ',' and
 * blanks may appear. */
static int maria_state_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == ',' || *s == ' '))
			return 0;
	return 1;
}

static binlog_errcode_t check_gtid_text(const cdc_server_t *srv, const char *text,
					binlog_err_t *err)
{
	cdc_seq_t s;
	binlog_errcode_t rc;

	if (srv->flavor == BINLOG_FLAVOR_MARIADB && (strchr(text, ':') || !maria_state_ok(text)))
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "'%s' is not a MariaDB GTID state (domain-server-seq, "
				      "comma-separated)",
				      text);
	if (srv->flavor == BINLOG_FLAVOR_MYSQL && *text && !strchr(text, ':'))
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "'%s' is not a MySQL GTID set (uuid:1-5,...)", text);
	if ((rc = cdc_seq_init(&s)) != BINLOG_OK)
		return binlog_err_set(err, rc, NULL);
	rc = cdc_seq_seed_text(&s, text, err);
	cdc_seq_free(&s);
	return rc;
}

static binlog_errcode_t start_latest(MYSQL *m, const char *addr, const cdc_server_t *srv,
				     cdc_start_t *out, binlog_err_t *err)
{
	char *row[5];
	const char *sql = cdc_sql_binlog_status(srv);
	binlog_errcode_t rc = BINLOG_OK;
	int r = query_row(m, addr, sql, row, 5, err);

	if (r < 0)
		return err->code;
	if (r == 0 || !row[0][0]) {
		rc = binlog_err_set(err, BINLOG_E_USAGE,
				    "%s: %s returned nothing: binary logging is off; start "
				    "the server with log_bin and binlog_format=ROW",
				    addr, sql);
		goto out;
	}
	if ((rc = set_file(out, addr, row[0], err)) != BINLOG_OK)
		goto out;
	out->pos = strtoull(row[1], NULL, 10);
	if (srv->flavor == BINLOG_FLAVOR_MYSQL) {
		/* File, Position and Executed_Gtid_Set come from one row: the
		 * same instant. */
		if (row[4][0]) {
			/* the server breaks long sets over lines */
			for (char *p = row[4]; *p; p++)
				if (*p == '\n')
					*p = ' ';
			if ((rc = dup_into(&out->seed, row[4], err)) != BINLOG_OK)
				goto out;
			if (srv->gtid_mode) {
				out->by_gtid = 1;
				rc = dup_into(&out->gtid, row[4], err);
			}
		}
		goto out;
	}
	/* MariaDB: the GTID state names the same point as File and Position
	 * (a transaction committing in between is sent, not skipped). */
	free_row(row, 5);
	r = query_row(m, addr, "SELECT @@GLOBAL.gtid_binlog_pos", row, 1, err);
	if (r < 0)
		return err->code;
	if (r > 0 && row[0][0]) {
		out->by_gtid = 1;
		if ((rc = dup_into(&out->gtid, row[0], err)) == BINLOG_OK)
			rc = dup_into(&out->seed, row[0], err);
	}
	free_row(row, 1);
	return rc;
out:
	free_row(row, 5);
	return rc;
}

static binlog_errcode_t start_file(MYSQL *m, const char *addr, const cdc_server_t *srv,
				   const char *file, uint64_t pos, cdc_start_t *out,
				   binlog_err_t *err)
{
	file_list_t l;
	int found = 0;

	if (list_binlogs(m, addr, srv, &l, err) != BINLOG_OK)
		return err->code;
	for (size_t i = 0; i < l.n; i++)
		found |= strcmp(l.name[i], file) == 0;
	if (!found) {
		binlog_err_set(err, BINLOG_E_PURGED,
			       "%s: binlog %s is not on the server (it has %s to %s); choose "
			       "a file it has, or another scan.startup.mode",
			       addr, file, l.name[0], l.name[l.n - 1]);
		free(l.name);
		return err->code;
	}
	free(l.name);
	/* From the start of the file, so that its PREVIOUS_GTIDS or GTID_LIST
	 * give the sequence its history; what comes before `pos` is read but
	 * not emitted. */
	if (set_file(out, addr, file, err) != BINLOG_OK)
		return err->code;
	out->pos = 4;
	if (pos > 4) {
		snprintf(out->emit_file, sizeof(out->emit_file), "%s", file);
		out->emit_pos = pos;
	}
	return BINLOG_OK;
}

static binlog_errcode_t start_time(MYSQL *m, const char *addr, const cdc_server_t *srv,
				   const cdc_conn_opts_t *conn, const cdc_source_conf_t *conf,
				   cdc_start_t *out, binlog_err_t *err)
{
	cdc_replica_opts_t ro = {.conn = conn, .server_id = conf->server_id, .nonblocking = 1};
	file_list_t l;
	size_t i;

	if (list_binlogs(m, addr, srv, &l, err) != BINLOG_OK)
		return err->code;
	/* Newest first: a start time is usually recent, and the first file
	 * whose first transaction is older than it holds the start. */
	for (i = l.n; i-- > 0;) {
		int64_t ts;
		int r = cdc_replica_first_txn_ms(&ro, l.name[i], &ts, err);
		if (r < 0) {
			free(l.name);
			return err->code;
		}
		if (r > 0 && ts < conf->startup_ts_ms)
			break;
		if (i == 0)
			break;
	}
	memcpy(out->file, l.name[i], sizeof(out->file));
	out->pos = 4;
	out->emit_ts_ms = conf->startup_ts_ms;
	free(l.name);
	return BINLOG_OK;
}

binlog_errcode_t cdc_start_resolve(MYSQL *m, const cdc_server_t *srv, const cdc_conn_opts_t *conn,
				   const cdc_source_conf_t *conf, cdc_start_t *out,
				   binlog_err_t *err)
{
	char addr[300];
	file_list_t l;

	memset(out, 0, sizeof(*out));
	cdc_conn_addr(conn, addr, sizeof(addr));
	switch (conf->startup_mode) {
	case CDC_STARTUP_LATEST:
	case CDC_STARTUP_INITIAL: /* the snapshot starts here too */
	case CDC_STARTUP_WHEN_NEEDED:
		return start_latest(m, addr, srv, out, err);
	case CDC_STARTUP_EARLIEST:
		if (list_binlogs(m, addr, srv, &l, err) != BINLOG_OK)
			return err->code;
		memcpy(out->file, l.name[0], sizeof(out->file));
		out->pos = 4;
		free(l.name);
		return BINLOG_OK;
	case CDC_STARTUP_SPECIFIC:
		if (conf->startup_gtid && *conf->startup_gtid) {
			if (check_gtid_text(srv, conf->startup_gtid, err) != BINLOG_OK) {
				binlog_err_prefix(err,
						  "source.scan.startup.specific-offset.gtid-set");
				return err->code;
			}
			out->by_gtid = 1;
			if (dup_into(&out->gtid, conf->startup_gtid, err) != BINLOG_OK)
				return err->code;
			return dup_into(&out->seed, conf->startup_gtid, err);
		}
		return start_file(m, addr, srv, conf->startup_file, conf->startup_pos, out, err);
	case CDC_STARTUP_TIMESTAMP:
		return start_time(m, addr, srv, conn, conf, out, err);
	default:
		return binlog_err_set(err, BINLOG_E_USAGE, "unknown startup mode %d",
				      conf->startup_mode);
	}
}

/* ------------------------------------------------------------------ */
/* The stream                                                          */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static binlog_errcode_t command(cdc_replica_t *r, int cmd, const uint8_t *arg, size_t n,
				int skip_check, const char *what, binlog_err_t *err)
{
	if (r->m->methods->db_command(r->m, (enum enum_server_command)cmd, (const char *)arg, n,
				      (my_bool)skip_check, NULL) != 0)
		return server_error(r->m, r->addr, what, err);
	return BINLOG_OK;
}

static binlog_errcode_t session_setup(cdc_replica_t *r, const cdc_replica_opts_t *o,
				      const cdc_start_t *st, binlog_err_t *err)
{
	char sql[1024];

	/* Events with the checksum the binlog has (the server strips it for
	 * a replica that does not say it understands it). */
	if (cdc_exec(r->m,
		     "SET @master_binlog_checksum = @@global.binlog_checksum, "
		     "@source_binlog_checksum = @@global.binlog_checksum",
		     err) != BINLOG_OK)
		return err->code;
	if (o->heartbeat_ms) {
		unsigned long long ns = (unsigned long long)o->heartbeat_ms * 1000000ULL;
		snprintf(sql, sizeof(sql),
			 "SET @master_heartbeat_period = %llu, @source_heartbeat_period = %llu", ns,
			 ns);
		if (cdc_exec(r->m, sql, err) != BINLOG_OK)
			return err->code;
	}
	/* A replica slower than the server's patience is dropped and comes
	 * back; an hour spares a large transaction being read twice while a
	 * sink holds the reader back. */
	if (cdc_exec(r->m, "SET SESSION net_write_timeout = 3600", err) != BINLOG_OK)
		return err->code;
	if (r->srv.flavor == BINLOG_FLAVOR_MARIADB) {
		/* GTID events as they are, not rewritten for old replicas. */
		snprintf(sql, sizeof(sql), "SET @mariadb_slave_capability = %d",
			 MARIA_SLAVE_CAPABILITY_GTID);
		if (cdc_exec(r->m, sql, err) != BINLOG_OK)
			return err->code;
		if (st->by_gtid) {
			const char *g = st->gtid ? st->gtid : "";
			if (!maria_state_ok(g))
				return binlog_err_set(err, BINLOG_E_USAGE,
						      "'%s' is not a MariaDB GTID state", g);
			snprintf(sql, sizeof(sql), "SET @slave_connect_state = '%s'", g);
			if (strlen(g) > sizeof(sql) - 64)
				return binlog_err_set(err, BINLOG_E_LIMIT,
						      "MariaDB GTID state of %zu bytes", strlen(g));
			if (cdc_exec(r->m, sql, err) != BINLOG_OK ||
			    cdc_exec(r->m,
				     "SET @slave_gtid_strict_mode = 0, "
				     "@slave_gtid_ignore_duplicates = 0",
				     err) != BINLOG_OK)
				return err->code;
		}
	} else {
		/* The server replaces a replica's old dump thread when the same
		 * UUID connects again: make it a function of server_id. */
		snprintf(sql, sizeof(sql),
			 "SET @slave_uuid = '5b1ce000-0000-4000-8000-%012x', "
			 "@replica_uuid = '5b1ce000-0000-4000-8000-%012x'",
			 o->server_id, o->server_id);
		if (cdc_exec(r->m, sql, err) != BINLOG_OK)
			return err->code;
	}
	return BINLOG_OK;
}

static binlog_errcode_t register_replica(cdc_replica_t *r, uint32_t server_id, binlog_err_t *err)
{
	uint8_t p[4 + 1 + 64 + 1 + 1 + 2 + 4 + 4];
	char host[64] = "sluice";
	size_t hl, n = 0;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "sluice");
	host[sizeof(host) - 1] = 0;
	hl = strlen(host);
	put32(p, server_id);
	n = 4;
	p[n++] = (uint8_t)hl; /* report host, shown by SHOW REPLICAS */
	memcpy(p + n, host, hl);
	n += hl;
	p[n++] = 0;      /* user */
	p[n++] = 0;      /* password */
	put16(p + n, 0); /* port */
	n += 2;
	put32(p + n, 0); /* replication rank */
	n += 4;
	put32(p + n, 0); /* master id */
	n += 4;
	return command(r, COM_REGISTER_SLAVE, p, n, 0, "COM_REGISTER_SLAVE", err);
}

static binlog_errcode_t dump(cdc_replica_t *r, const cdc_replica_opts_t *o, const cdc_start_t *st,
			     binlog_err_t *err)
{
	uint16_t flags = o->nonblocking ? DUMP_NON_BLOCK : 0;
	char what[400];
	binlog_errcode_t rc;

	snprintf(what, sizeof(what), "binlog dump from ");
	cdc_start_describe(st, what + strlen(what), sizeof(what) - strlen(what));

	if (st->by_gtid && r->srv.flavor == BINLOG_FLAVOR_MYSQL) {
		binlog_gtid_set_t *set = binlog_gtid_set_new();
		binlog_buf_t b;
		if (!set)
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		if (binlog_gtid_set_parse(set, st->gtid ? st->gtid : "", err) != BINLOG_OK) {
			binlog_gtid_set_free(set);
			binlog_err_prefix(err, "GTID set to resume from");
			return err->code;
		}
		binlog_buf_init(&b, 0);
		/* flags 2, server_id 4, name length 4 (no name), position 8,
		 * set length 4, set */
		binlog_buf_reserve(&b, 22);
		b.len = 22;
		binlog_gtid_set_encode(set, &b);
		binlog_gtid_set_free(set);
		if (b.failed) {
			binlog_buf_free(&b);
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
		put16(b.data, flags | DUMP_THROUGH_GTID);
		put32(b.data + 2, o->server_id);
		put32(b.data + 6, 0);
		put64(b.data + 10, 4);
		put32(b.data + 18, (uint32_t)(b.len - 22));
		rc = command(r, COM_BINLOG_DUMP_GTID_, b.data, b.len, 1, what, err);
		binlog_buf_free(&b);
		return rc;
	} else {
		/* MariaDB in GTID mode takes an empty name; the state was set. */
		const char *file = st->by_gtid ? "" : st->file;
		size_t fl = strlen(file);
		uint8_t p[10 + 256];
		if (!st->by_gtid && st->pos > UINT32_MAX)
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "position %llu is beyond 4 GiB, which "
					      "COM_BINLOG_DUMP cannot name",
					      (unsigned long long)st->pos);
		put32(p, st->by_gtid ? 4 : (uint32_t)st->pos);
		put16(p + 4, flags);
		put32(p + 6, o->server_id);
		memcpy(p + 10, file, fl);
		return command(r, COM_BINLOG_DUMP, p, 10 + fl, 1, what, err);
	}
}

cdc_replica_t *cdc_replica_open(const cdc_replica_opts_t *o, const cdc_start_t *start,
				binlog_err_t *err)
{
	cdc_replica_t *r = calloc(1, sizeof(*r));

	if (!r) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		return NULL;
	}
	cdc_conn_addr(o->conn, r->addr, sizeof(r->addr));
	r->m = cdc_conn_open(o->conn, err);
	if (!r->m)
		goto fail;
	if (cdc_server_probe(r->m, &r->srv, err) != BINLOG_OK)
		goto fail;
	if (o->expect_type && *o->expect_type) {
		int want = strcmp(o->expect_type, "mariadb") == 0 ? BINLOG_FLAVOR_MARIADB
								  : BINLOG_FLAVOR_MYSQL;
		if (want != r->srv.flavor) {
			binlog_err_set(err, BINLOG_E_USAGE,
				       "%s: source.type is %s, but the server is %s %s", r->addr,
				       o->expect_type,
				       r->srv.flavor == BINLOG_FLAVOR_MARIADB ? "MariaDB" : "MySQL",
				       r->srv.version_text);
			goto fail;
		}
	}
	if (start->by_gtid && r->srv.flavor == BINLOG_FLAVOR_MYSQL && !r->srv.gtid_mode) {
		binlog_err_set(err, BINLOG_E_USAGE,
			       "%s: asked to start from a GTID set, but gtid_mode is not ON on "
			       "the server; start from a file and position instead",
			       r->addr);
		goto fail;
	}
	if (session_setup(r, o, start, err) != BINLOG_OK ||
	    register_replica(r, o->server_id, err) != BINLOG_OK ||
	    dump(r, o, start, err) != BINLOG_OK)
		goto fail;
	return r;
fail:
	cdc_replica_close(r);
	return NULL;
}

int cdc_replica_next(cdc_replica_t *r, const uint8_t **ev, size_t *len, binlog_err_t *err)
{
	unsigned long n = mysql_net_read_packet(r->m);
	const uint8_t *p;

	if (n == packet_error) {
		server_error(r->m, r->addr, "reading the binlog stream", err);
		return -1;
	}
	p = r->m->net.read_pos;
	r->bytes += n;
	if (n == 0) {
		binlog_err_set(err, BINLOG_E_IO, "%s: empty packet in the binlog stream", r->addr);
		return -1;
	}
	if (p[0] == 0xfe && n < 9) /* EOF: the server ended the stream */
		return 0;
	if (p[0] != 0x00) {
		binlog_err_set(err, BINLOG_E_BAD_EVENT,
			       "%s: binlog stream packet starts with 0x%02x, not 0x00", r->addr,
			       p[0]);
		return -1;
	}
	*ev = p + 1;
	*len = n - 1;
	return 1;
}

int cdc_replica_ready(cdc_replica_t *r)
{
	MARIADB_PVIO *pv = r->m->net.pvio;
	struct pollfd pfd;

	/* bytes the connector read ahead of the last packet */
	if (pv && pv->cache && pv->cache_pos < pv->cache + pv->cache_size)
		return 1;
	pfd.fd = cdc_replica_socket(r);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 0;
	return poll(&pfd, 1, 0) > 0;
}

const cdc_server_t *cdc_replica_server(const cdc_replica_t *r)
{
	return &r->srv;
}

int cdc_replica_socket(const cdc_replica_t *r)
{
	my_socket fd = mysql_get_socket(r->m);

	return fd < 0 ? -1 : (int)fd;
}

const char *cdc_replica_addr(const cdc_replica_t *r)
{
	return r->addr;
}

uint64_t cdc_replica_bytes(const cdc_replica_t *r)
{
	return r->bytes;
}

void cdc_replica_close(cdc_replica_t *r)
{
	if (!r)
		return;
	if (r->m)
		mysql_close(r->m);
	free(r);
}

int cdc_replica_first_txn_ms(const cdc_replica_opts_t *o, const char *file, int64_t *ts_ms,
			     binlog_err_t *err)
{
	cdc_replica_opts_t po = *o;
	cdc_start_t st;
	cdc_replica_t *r;
	binlog_decoder_t *d;
	binlog_opts_t dopt;
	int result = 0;

	memset(&st, 0, sizeof(st));
	snprintf(st.file, sizeof(st.file), "%s", file);
	st.pos = 4;
	po.nonblocking = 1;
	po.heartbeat_ms = 0;
	binlog_opts_default(&dopt);
	dopt.initial_checksum = BINLOG_CHECKSUM_UNDEF;
	d = binlog_decoder_new(&dopt);
	if (!d) {
		binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		return -1;
	}
	r = cdc_replica_open(&po, &st, err);
	if (!r) {
		binlog_decoder_free(d);
		return -1;
	}
	for (;;) {
		const uint8_t *p;
		size_t n;
		binlog_event_t ev;
		int k = cdc_replica_next(r, &p, &n, err);
		if (k <= 0) {
			result = k;
			break;
		}
		if (binlog_decoder_feed(d, p, n, 0, err) != BINLOG_OK) {
			result = -1;
			break;
		}
		while ((k = binlog_decoder_next(d, &ev, err)) > 0) {
			if (ev.type == BINLOG_ROTATE_EVENT && ev.log_pos != 0)
				goto done; /* the end of the file, no transaction */
			if (ev.type == BINLOG_GTID_LOG_EVENT ||
			    ev.type == BINLOG_GTID_TAGGED_LOG_EVENT ||
			    ev.type == BINLOG_ANONYMOUS_GTID_LOG_EVENT ||
			    ev.type == BINLOG_MARIA_GTID_EVENT ||
			    (ev.type == BINLOG_QUERY_EVENT && ev.timestamp) ||
			    binlog_event_is_rows(ev.type)) {
				*ts_ms = ev.type != BINLOG_MARIA_GTID_EVENT &&
							 ev.type != BINLOG_QUERY_EVENT &&
							 !binlog_event_is_rows(ev.type) &&
							 ev.u.gtid.commit_us
						 ? (int64_t)(ev.u.gtid.commit_us / 1000)
						 : (int64_t)ev.timestamp * 1000;
				result = 1;
				goto done;
			}
		}
		if (k < 0) {
			result = -1;
			break;
		}
	}
done:
	cdc_replica_close(r);
	binlog_decoder_free(d);
	return result;
}
