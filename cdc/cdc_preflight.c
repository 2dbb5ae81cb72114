/*
 * cdc_preflight.c: the checks behind `sluice source add` and `check`.
 *
 * First everything is read from the server (the account, its grants, the
 * binlog settings, the binlog files, the replicas), each statement on its
 * own so that one refused statement costs one finding and not the run;
 * then each check looks at what was read and adds its findings. A
 * statement the user may not run is a finding too, since the capture will
 * need the same statement later.
 *
 * Privileges are read from SHOW GRANTS, not by trying statements, except
 * for SHOW BINARY LOGS, which is tried: it is what the capture runs, and
 * trying it sees privileges that come through roles or SUPER. Grant lines
 * are never printed: on MariaDB they carry the password hash.
 */
#include "cdc_preflight.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

/* Below this much retention an ordinary outage (a weekend) outlives the
 * binlogs, and the capture must start again from a snapshot. */
#define RETENTION_MIN_S 86400
/* What the fix suggests: a week. */
#define RETENTION_FIX_S 604800

/* The settings read with one SHOW GLOBAL VARIABLES. */
enum {
	V_LOG_BIN,
	V_FORMAT,
	V_ROW_IMAGE,
	V_ROW_METADATA,
	V_CHECKSUM,
	V_EXPIRE_SECONDS,
	V_EXPIRE_DAYS,
	V_AUTO_PURGE,
	V_GTID_MODE,
	V__COUNT
};

static const char *const var_names[V__COUNT] = {
	"log_bin",          "binlog_format",
	"binlog_row_image", "binlog_row_metadata",
	"binlog_checksum",  "binlog_expire_logs_seconds",
	"expire_logs_days", "binlog_expire_logs_auto_purge",
	"gtid_mode",
};

/* Privileges that matter here, from SHOW GRANTS. */
enum {
	P_ALL = 1 << 0,
	P_REPL_SLAVE = 1 << 1,
	P_REPL_CLIENT = 1 << 2, /* REPLICATION CLIENT or BINLOG MONITOR */
	P_SUPER = 1 << 3,
	P_SELECT = 1 << 4,
};

/* A grant on a database (table NULL) or a table. */
typedef struct grant {
	char *db; /* a LIKE pattern for database grants, as the server keeps it */
	char *table;
	unsigned privs;
} grant_t;

typedef struct pf {
	MYSQL *m;
	const cdc_server_t *srv;
	const cdc_source_conf_t *src;
	cdc_preflight_report_t *rep;
	binlog_err_t *err;
	char account[256]; /* 'user'@'host', for GRANT statements */

	int grants_read;
	unsigned global; /* P_* on *.* */
	int has_roles;   /* a GRANT role TO user line */
	grant_t *grants;
	size_t ngrants;

	char vars[V__COUNT][128];
	int have[V__COUNT];
	int vars_read;

	int binlogs_read; /* SHOW BINARY LOGS ran */
	unsigned binlogs_errno;
	char binlogs_msg[256];
	char oldest[256];
	size_t nbinlogs;
	uint64_t binlog_bytes;

	int replicas_read;
	unsigned replicas_errno;
	char replicas_msg[256];
	uint32_t *replica_ids;
	char (*replica_addr)[80];
	size_t nreplicas;
} pf_t;

void cdc_preflight_report_init(cdc_preflight_report_t *rep)
{
	memset(rep, 0, sizeof(*rep));
}

void cdc_preflight_report_free(cdc_preflight_report_t *rep)
{
	free(rep->items);
	memset(rep, 0, sizeof(*rep));
}

/* snprintf into a line buffer; a line cut at its end is still a line. */
static void fmt(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void fmt(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, cap, f, ap);
	va_end(ap);
}

/* Copy s into a line: cut at a line break, so one item stays one line. */
static void copy_line(char *dst, size_t cap, const char *s)
{
	size_t n = s ? strcspn(s, "\r\n") : 0;

	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, s, n);
	dst[n] = '\0';
}

void cdc_preflight_add(cdc_preflight_report_t *rep, int severity, const char *check,
		       const char *problem, const char *fix)
{
	cdc_preflight_item_t *it;

	if (rep->n == rep->cap) {
		size_t cap = rep->cap ? rep->cap * 2 : 16;
		it = realloc(rep->items, cap * sizeof(*it));
		if (!it) {
			rep->failed = 1;
			return;
		}
		rep->items = it;
		rep->cap = cap;
	}
	it = &rep->items[rep->n++];
	it->severity = severity;
	copy_line(it->check, sizeof(it->check), check);
	copy_line(it->problem, sizeof(it->problem), problem);
	copy_line(it->fix, sizeof(it->fix), fix);
	if (severity == CDC_PREFLIGHT_ERROR)
		rep->errors++;
	else if (severity == CDC_PREFLIGHT_WARNING)
		rep->warnings++;
}

/* A finding whose problem is formatted; the fix is given whole. */
static void finding(pf_t *pf, int severity, const char *check, const char *fix, const char *f, ...)
	__attribute__((format(printf, 5, 6)));

static void finding(pf_t *pf, int severity, const char *check, const char *fix, const char *f, ...)
{
	char problem[CDC_PREFLIGHT_LINE_MAX];
	va_list ap;

	va_start(ap, f);
	vsnprintf(problem, sizeof(problem), f, ap);
	va_end(ap);
	cdc_preflight_add(pf->rep, severity, check, problem, fix);
}

/* "SET GLOBAL binlog_format = 'ROW' (and in my.cnf: binlog_format = ROW)",
 * or on MySQL 8, "SET PERSIST binlog_format = 'ROW'", which survives a
 * restart by itself. */
static void fix_set(const pf_t *pf, char *buf, size_t cap, const char *name, const char *value,
		    int quote)
{
	const char *set = cdc_sql_set_global(pf->srv);
	const char *q = quote ? "'" : "";

	if (strcmp(set, "SET PERSIST") == 0)
		fmt(buf, cap, "%s %s = %s%s%s", set, name, q, value, q);
	else
		fmt(buf, cap, "%s %s = %s%s%s (and in my.cnf: %s = %s)", set, name, q, value, q,
		    name, value);
}

/* ------------------------------------------------------------------ */
/* Reading from the server                                             */

/*
 * Run a statement that returns rows. 0 and *res; or, when the connection
 * is lost, BINLOG_E_IO (the run stops); or BINLOG_E_USAGE with *eno and
 * msg set (the caller records a finding and goes on).
 */
static binlog_errcode_t query(pf_t *pf, const char *sql, MYSQL_RES **res, unsigned *eno, char *msg,
			      size_t cap)
{
	unsigned e;

	*res = NULL;
	*eno = 0;
	if (!mysql_real_query(pf->m, sql, strlen(sql)) && (*res = mysql_store_result(pf->m)))
		return BINLOG_OK;
	e = mysql_errno(pf->m);
	*eno = e;
	fmt(msg, cap, "%s (%s error %u)", mysql_error(pf->m),
	    e >= CR_MIN_ERROR && e <= CR_MAX_ERROR ? "client" : "server", e);
	if (e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_SERVER_LOST_EXTENDED ||
	    e == ER_CONNECTION_KILLED || e == ER_SERVER_SHUTDOWN || e == CR_OUT_OF_MEMORY)
		return binlog_err_set(pf->err, e == CR_OUT_OF_MEMORY ? BINLOG_E_NOMEM : BINLOG_E_IO,
				      "%s: %s", sql, msg);
	return BINLOG_E_USAGE;
}

/* A statement's failure that is not fatal: a finding, and the run goes on. */
static binlog_errcode_t not_fatal(pf_t *pf, binlog_errcode_t rc, const char *check, const char *sql,
				  const char *msg)
{
	if (rc != BINLOG_E_USAGE)
		return rc;
	finding(pf, CDC_PREFLIGHT_WARNING, check, NULL, "could not run %s: %s", sql, msg);
	return BINLOG_OK;
}

static binlog_errcode_t read_account(pf_t *pf)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char msg[256], user[128], host[128];
	const char *at;
	unsigned eno;
	binlog_errcode_t rc;
	size_t j = 0;

	rc = query(pf, "SELECT CURRENT_USER()", &res, &eno, msg, sizeof(msg));
	if (rc != BINLOG_OK)
		return not_fatal(pf, rc, "privileges", "SELECT CURRENT_USER()", msg);
	row = mysql_fetch_row(res);
	if (row && row[0] && (at = strrchr(row[0], '@'))) {
		/* 'user'@'host' with quotes doubled, ready to paste in a GRANT. */
		for (const char *p = row[0]; p < at && j + 3 < sizeof(user); p++) {
			if (*p == '\'')
				user[j++] = '\'';
			user[j++] = *p;
		}
		user[j] = '\0';
		j = 0;
		for (const char *p = at + 1; *p && j + 3 < sizeof(host); p++) {
			if (*p == '\'')
				host[j++] = '\'';
			host[j++] = *p;
		}
		host[j] = '\0';
		fmt(pf->account, sizeof(pf->account), "'%s'@'%s'", user, host);
	}
	mysql_free_result(res);
	return BINLOG_OK;
}

static int starts(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* The end of a `quoted` or 'quoted' name at s (s at the opening quote). */
static const char *skip_quoted(const char *s)
{
	char q = *s++;

	while (*s) {
		if (*s == q && s[1] == q)
			s += 2;
		else if (*s == q)
			return s + 1;
		else
			s++;
	}
	return s;
}

/* The first " WORD " at parenthesis depth 0 and outside quotes, or NULL. */
static const char *find_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	int depth = 0;

	while (*s) {
		if (*s == '`' || *s == '\'' || *s == '"') {
			s = skip_quoted(s);
			continue;
		}
		if (*s == '(')
			depth++;
		else if (*s == ')' && depth > 0)
			depth--;
		else if (depth == 0 && strncmp(s, word, n) == 0)
			return s;
		s++;
	}
	return NULL;
}

/* A name at *s: `quoted` (`` is one `) or bare; NULL for "*". Advances *s. */
static char *parse_name(const char **s)
{
	const char *p = *s;
	char *out, *o;

	if (*p == '*') {
		*s = p + 1;
		return NULL;
	}
	out = malloc(strlen(p) + 1);
	if (!out)
		return NULL;
	o = out;
	if (*p == '`') {
		for (p++; *p; p++) {
			if (*p == '`' && p[1] == '`')
				*o++ = *p++;
			else if (*p == '`') {
				p++;
				break;
			} else
				*o++ = *p;
		}
	} else {
		while (*p && *p != '.' && *p != ' ')
			*o++ = *p++;
	}
	*o = '\0';
	*s = p;
	return out;
}

/* The P_* bits of one privilege name. */
static unsigned priv_bit(const char *name, size_t n)
{
	static const struct {
		const char *name;
		unsigned bit;
	} map[] = {
		{"ALL", P_ALL},
		{"ALL PRIVILEGES", P_ALL},
		{"REPLICATION SLAVE", P_REPL_SLAVE},
		{"REPLICATION CLIENT", P_REPL_CLIENT},
		{"BINLOG MONITOR", P_REPL_CLIENT},
		{"SUPER", P_SUPER},
		{"SELECT", P_SELECT},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strlen(map[i].name) == n && strncasecmp(map[i].name, name, n) == 0)
			return map[i].bit;
	return 0;
}

/* The privileges of "SELECT, REPLICATION SLAVE, INSERT (a, b)". A column
 * privilege does not count: it does not let the catalog or a snapshot
 * read the table. */
static unsigned parse_privs(const char *s, const char *end)
{
	unsigned bits = 0;

	while (s < end) {
		const char *e = s, *t;
		int depth = 0, column = 0;
		while (e < end && (depth > 0 || *e != ',')) {
			if (*e == '(') {
				depth++;
				column = 1;
			} else if (*e == ')') {
				depth--;
			}
			e++;
		}
		while (s < e && isspace((unsigned char)*s))
			s++;
		t = s;
		while (t < e && *t != '(')
			t++;
		while (t > s && isspace((unsigned char)t[-1]))
			t--;
		if (!column)
			bits |= priv_bit(s, (size_t)(t - s));
		s = e + 1;
	}
	return bits;
}

/* One line of SHOW GRANTS. Lines other than GRANT (SET DEFAULT ROLE,
 * MySQL's partial REVOKE) do not grant anything. */
static int parse_grant(pf_t *pf, const char *line)
{
	const char *privs, *on, *target, *to;
	char *db = NULL, *table = NULL;
	grant_t *g;
	unsigned bits;
	int rc = 0;

	if (!starts(line, "GRANT "))
		goto out;
	privs = line + 6;
	on = find_word(privs, " ON ");
	to = find_word(privs, " TO ");
	if (!on || (to && to < on)) {
		pf->has_roles = 1; /* GRANT `role` TO `user` */
		goto out;
	}
	bits = parse_privs(privs, on);
	target = on + 4;
	if (starts(target, "FUNCTION ") || starts(target, "PROCEDURE ") ||
	    starts(target, "PACKAGE "))
		goto out;
	if (*target == '*' && target[1] == '.' && target[2] == '*') {
		pf->global |= bits;
		goto out;
	}
	db = parse_name(&target);
	if (!db) /* "*" alone: the default database; nothing to learn */
		goto out;
	if (*target == '.') {
		target++;
		table = parse_name(&target);
	}
	if (!bits)
		goto out;
	g = realloc(pf->grants, (pf->ngrants + 1) * sizeof(*g));
	if (!g) {
		rc = -1;
		goto out;
	}
	pf->grants = g;
	g[pf->ngrants].db = db;
	g[pf->ngrants].table = table;
	g[pf->ngrants++].privs = bits;
	db = table = NULL;
out:
	free(db);
	free(table);
	return rc;
}

static binlog_errcode_t read_grants(pf_t *pf)
{
	const char *roles_sql = cdc_sql_active_roles(pf->srv);
	char sql[600] = "SHOW GRANTS", msg[256];
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned eno;
	binlog_errcode_t rc;

	/* MySQL 8 leaves the active roles' privileges out unless asked. */
	if (roles_sql) {
		rc = query(pf, roles_sql, &res, &eno, msg, sizeof(msg));
		if (rc == BINLOG_OK) {
			row = mysql_fetch_row(res);
			if (row && row[0] && *row[0] && strcmp(row[0], "NONE") != 0)
				fmt(sql, sizeof(sql), "SHOW GRANTS FOR CURRENT_USER() USING %s",
				    row[0]);
			mysql_free_result(res);
		} else if (rc != BINLOG_E_USAGE) {
			return rc;
		}
	}
	rc = query(pf, sql, &res, &eno, msg, sizeof(msg));
	if (rc != BINLOG_OK)
		return not_fatal(pf, rc, "privileges", "SHOW GRANTS", msg);
	while ((row = mysql_fetch_row(res))) {
		if (row[0] && parse_grant(pf, row[0]) < 0) {
			mysql_free_result(res);
			return binlog_err_set(pf->err, BINLOG_E_NOMEM, "out of memory");
		}
	}
	mysql_free_result(res);
	pf->grants_read = 1;
	return BINLOG_OK;
}

static binlog_errcode_t read_vars(pf_t *pf)
{
	char sql[512], msg[256];
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned eno;
	size_t len;
	binlog_errcode_t rc;

	/* SHOW VARIABLES, not @@: a variable this server does not have is
	 * simply absent instead of failing the statement. */
	len = (size_t)snprintf(sql, sizeof(sql), "SHOW GLOBAL VARIABLES WHERE Variable_name IN (");
	for (int i = 0; i < V__COUNT; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s'%s'", i ? ", " : "",
					var_names[i]);
	snprintf(sql + len, sizeof(sql) - len, ")");
	rc = query(pf, sql, &res, &eno, msg, sizeof(msg));
	if (rc != BINLOG_OK)
		return not_fatal(pf, rc, "settings", "SHOW GLOBAL VARIABLES", msg);
	while ((row = mysql_fetch_row(res))) {
		for (int i = 0; row[0] && row[1] && i < V__COUNT; i++) {
			if (strcasecmp(row[0], var_names[i]) == 0) {
				copy_line(pf->vars[i], sizeof(pf->vars[i]), row[1]);
				pf->have[i] = 1;
			}
		}
	}
	mysql_free_result(res);
	pf->vars_read = 1;
	return BINLOG_OK;
}

static binlog_errcode_t read_binlogs(pf_t *pf)
{
	const char *sql = cdc_sql_binlogs(pf->srv);
	MYSQL_RES *res;
	MYSQL_ROW row;
	binlog_errcode_t rc;

	rc = query(pf, sql, &res, &pf->binlogs_errno, pf->binlogs_msg, sizeof(pf->binlogs_msg));
	if (rc != BINLOG_OK)
		return rc == BINLOG_E_USAGE ? BINLOG_OK : rc; /* the checks say why */
	while ((row = mysql_fetch_row(res))) {
		if (!pf->nbinlogs && row[0])
			copy_line(pf->oldest, sizeof(pf->oldest), row[0]);
		if (mysql_num_fields(res) > 1 && row[1])
			pf->binlog_bytes += strtoull(row[1], NULL, 10);
		pf->nbinlogs++;
	}
	mysql_free_result(res);
	pf->binlogs_read = 1;
	return BINLOG_OK;
}

static binlog_errcode_t read_replicas(pf_t *pf)
{
	const char *sql = cdc_sql_replicas(pf->srv);
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t n;
	binlog_errcode_t rc = BINLOG_OK;

	rc = query(pf, sql, &res, &pf->replicas_errno, pf->replicas_msg, sizeof(pf->replicas_msg));
	if (rc != BINLOG_OK)
		return rc == BINLOG_E_USAGE ? BINLOG_OK : rc;
	n = (size_t)mysql_num_rows(res);
	pf->replica_ids = calloc(n ? n : 1, sizeof(*pf->replica_ids));
	pf->replica_addr = calloc(n ? n : 1, sizeof(*pf->replica_addr));
	if (!pf->replica_ids || !pf->replica_addr) {
		rc = binlog_err_set(pf->err, BINLOG_E_NOMEM, "out of memory");
		goto out;
	}
	/* Both statements start Server_id, Host, Port. */
	while ((row = mysql_fetch_row(res)) && pf->nreplicas < n) {
		unsigned nf = mysql_num_fields(res);
		if (!row[0])
			continue;
		pf->replica_ids[pf->nreplicas] = (uint32_t)strtoul(row[0], NULL, 10);
		fmt(pf->replica_addr[pf->nreplicas], sizeof(pf->replica_addr[0]), "%s:%s",
		    nf > 1 && row[1] && *row[1] ? row[1] : "?", nf > 2 && row[2] ? row[2] : "?");
		pf->nreplicas++;
	}
	pf->replicas_read = 1;
out:
	mysql_free_result(res);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The checks                                                          */

static void check_type(pf_t *pf)
{
	const char *want = pf->src->type;
	const char *is = pf->srv->flavor == BINLOG_FLAVOR_MARIADB ? "mariadb" : "mysql";
	char fix[CDC_PREFLIGHT_LINE_MAX];

	if (!want || !*want || strcasecmp(want, is) == 0)
		return;
	fmt(fix, sizeof(fix), "set type: %s (--type %s), or point the source at a %s server", is,
	    is, want);
	finding(pf, CDC_PREFLIGHT_ERROR, "type", fix,
		"the source is configured as %s but the "
		"server is %s %s",
		want, cdc_flavor_name(pf->srv), pf->srv->version_text);
}

static const char *account(const pf_t *pf)
{
	return pf->account[0] ? pf->account : "CURRENT_USER";
}

static void check_repl_slave(pf_t *pf)
{
	char fix[CDC_PREFLIGHT_LINE_MAX];

	if (!pf->grants_read || (pf->global & (P_ALL | P_REPL_SLAVE)))
		return;
	fmt(fix, sizeof(fix), "GRANT REPLICATION SLAVE ON *.* TO %s;", account(pf));
	finding(pf, CDC_PREFLIGHT_ERROR, "privileges", fix,
		"user %s lacks the REPLICATION SLAVE privilege: the server will refuse to "
		"send it the binlog%s",
		account(pf),
		pf->has_roles ? " (grants of roles that are not active are not seen)" : "");
}

static void check_binlog_monitor(pf_t *pf)
{
	const char *priv = cdc_priv_binlog_monitor(pf->srv);
	char fix[CDC_PREFLIGHT_LINE_MAX];
	int denied;

	/* SHOW BINARY LOGS says it best; without a binlog to list, it
	 * cannot, and the grants decide. */
	if (pf->binlogs_read)
		return;
	if (pf->binlogs_errno == ER_SPECIFIC_ACCESS_DENIED_ERROR ||
	    pf->binlogs_errno == ER_ACCESS_DENIED_ERROR)
		denied = 1;
	else
		denied = pf->grants_read && !(pf->global & (P_ALL | P_REPL_CLIENT | P_SUPER));
	if (!denied)
		return;
	fmt(fix, sizeof(fix), "GRANT %s ON *.* TO %s;", priv, account(pf));
	finding(pf, CDC_PREFLIGHT_ERROR, "privileges", fix,
		"user %s lacks the %s privilege: sluice cannot read the binlog position or "
		"list the binlog files (%s)",
		account(pf), priv, cdc_sql_binlogs(pf->srv));
}

/* SQL LIKE: % any run, _ any one character, \x a literal x. */
static int like(const char *pat, const char *s)
{
	for (; *pat; pat++, s++) {
		if (*pat == '%') {
			for (const char *t = s;; t++) {
				if (like(pat + 1, t))
					return 1;
				if (!*t)
					return 0;
			}
		}
		if (!*s)
			return 0;
		if (*pat == '\\' && pat[1])
			pat++;
		else if (*pat == '_')
			continue;
		if (*pat != *s)
			return 0;
	}
	return *s == '\0';
}

static int is_meta(char c)
{
	return strchr("^$.|?*+()[]{}\\", c) != NULL;
}

/*
 * The literal database (and table) a table pattern names: "shop\..*" gives
 * shop and no table; "crm\.customers" crm and customers. 0 when the
 * database part is itself a pattern ("shop_[0-9]+\..*"). An unescaped dot
 * separates too: Flink CDC users write "shop.orders".
 */
static int literal_parts(const char *pat, char *db, size_t dbcap, char *table, size_t tcap)
{
	size_t n = 0;
	const char *p = pat;
	int sep = 0;

	if (*p == '^')
		p++;
	for (; *p && !sep; p++) {
		char c = *p;
		if (c == '.' || (c == '\\' && p[1] == '.')) {
			p += c == '\\';
			sep = 1;
			continue;
		}
		if (c == '\\' && p[1] && !isalnum((unsigned char)p[1]))
			c = *++p;
		else if (is_meta(c))
			return 0;
		if (n + 1 >= dbcap)
			return 0;
		db[n++] = c;
	}
	db[n] = '\0';
	if (!n || !sep)
		return 0;
	n = 0;
	table[0] = '\0';
	for (; *p; p++) {
		char c = *p;
		if (c == '$' && !p[1])
			break;
		if (c == '\\' && p[1] && !isalnum((unsigned char)p[1]))
			c = *++p;
		else if (is_meta(c)) {
			n = 0;
			break;
		}
		if (n + 1 >= tcap) {
			n = 0;
			break;
		}
		table[n++] = c;
	}
	table[n] = '\0';
	return 1;
}

static int can_select(const pf_t *pf, const char *db, const char *table)
{
	for (size_t i = 0; i < pf->ngrants; i++) {
		const grant_t *g = &pf->grants[i];
		if (!(g->privs & (P_ALL | P_SELECT)))
			continue;
		if (!g->table && like(g->db, db))
			return 1;
		if (g->table && *table && strcmp(g->db, db) == 0 && strcmp(g->table, table) == 0)
			return 1;
	}
	return 0;
}

static void check_select(pf_t *pf)
{
	const cdc_list_t *t = &pf->src->tables;
	char fix[CDC_PREFLIGHT_LINE_MAX], db[128], table[128];

	if (!pf->grants_read || (pf->global & (P_ALL | P_SELECT)))
		return;
	if (t->n == 0) {
		fmt(fix, sizeof(fix),
		    "GRANT SELECT ON *.* TO %s; or configure tables and grant SELECT on "
		    "their databases",
		    account(pf));
		finding(pf, CDC_PREFLIGHT_WARNING, "privileges", fix,
			"user %s has no SELECT on *.* and no tables are configured (every table "
			"is captured): the catalog cannot read the tables it may not select",
			account(pf));
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		const char *pat = t->v[i];
		if (!literal_parts(pat, db, sizeof(db), table, sizeof(table))) {
			fmt(fix, sizeof(fix),
			    "GRANT SELECT ON `db`.* TO %s; for each database it matches, or "
			    "GRANT SELECT ON *.* TO %s;",
			    account(pf), account(pf));
			finding(pf, CDC_PREFLIGHT_WARNING, "privileges", fix,
				"cannot tell which databases the table pattern '%s' matches: "
				"user %s needs SELECT on each",
				pat, account(pf));
			continue;
		}
		if (can_select(pf, db, table))
			continue;
		fmt(fix, sizeof(fix), "GRANT SELECT ON `%s`.* TO %s;", db, account(pf));
		finding(pf, CDC_PREFLIGHT_ERROR, "privileges", fix,
			"user %s has no SELECT privilege on database %s (table pattern '%s'): "
			"the catalog and snapshots cannot read its tables%s",
			account(pf), db, pat,
			pf->has_roles ? " (grants of roles that are not active are not seen)" : "");
	}
}

static void check_log_bin(pf_t *pf)
{
	if (!pf->vars_read)
		return;
	if (pf->have[V_LOG_BIN] && strcasecmp(pf->vars[V_LOG_BIN], "ON") == 0)
		return;
	if (!pf->have[V_LOG_BIN] && pf->binlogs_read)
		return;
	finding(pf, CDC_PREFLIGHT_ERROR, "log_bin",
		"in my.cnf under [mysqld]: log_bin = mysql-bin (and remove skip-log-bin), "
		"then restart the server; log_bin cannot be changed at run time",
		"the binary log is off (log_bin = %s): there is nothing to capture",
		pf->have[V_LOG_BIN] ? pf->vars[V_LOG_BIN] : "absent");
}

static void check_format(pf_t *pf)
{
	char fix[CDC_PREFLIGHT_LINE_MAX];
	size_t n;

	if (!pf->have[V_FORMAT] || strcasecmp(pf->vars[V_FORMAT], "ROW") == 0)
		return;
	fix_set(pf, fix, sizeof(fix), "binlog_format", "ROW", 1);
	n = strlen(fix);
	fmt(fix + n, sizeof(fix) - n, "; sessions already open keep %s until they reconnect",
	    pf->vars[V_FORMAT]);
	finding(pf, CDC_PREFLIGHT_ERROR, "binlog_format", fix,
		"binlog_format is %s, not ROW: changes the server logs as SQL statements "
		"cannot be captured",
		pf->vars[V_FORMAT]);
}

static void check_row_image(pf_t *pf)
{
	const char *v = pf->vars[V_ROW_IMAGE];
	const char *what;
	char fix[CDC_PREFLIGHT_LINE_MAX];

	if (!pf->have[V_ROW_IMAGE] || strcasecmp(v, "FULL") == 0)
		return;
	if (strcasecmp(v, "MINIMAL") == 0)
		what = "before images of updates and deletes carry only the primary key, "
		       "after images only the changed columns";
	else if (strcasecmp(v, "NOBLOB") == 0)
		what = "images leave out BLOB and TEXT columns that did not change";
	else if (strcasecmp(v, "FULL_NODUP") == 0)
		what = "after images of updates carry only the changed columns";
	else
		what = "row images may not carry every column";
	fix_set(pf, fix, sizeof(fix), "binlog_row_image", "FULL", 1);
	finding(pf, CDC_PREFLIGHT_WARNING, "binlog_row_image", fix, "binlog_row_image is %s: %s", v,
		what);
}

static void check_row_metadata(pf_t *pf)
{
	const char *v = pf->vars[V_ROW_METADATA];
	char fix[CDC_PREFLIGHT_LINE_MAX];

	if (!pf->vars_read)
		return;
	if (!pf->have[V_ROW_METADATA]) {
		finding(pf, CDC_PREFLIGHT_WARNING, "binlog_row_metadata",
			"upgrade to MySQL 8.0.1+ or MariaDB 10.5+ for binlog_row_metadata = "
			"FULL; until then keep SELECT on the captured tables",
			"%s %s cannot log column names (no binlog_row_metadata): names come from "
			"the catalog, which can be wrong for changes made before a schema change",
			cdc_flavor_name(pf->srv), pf->srv->version_text);
		return;
	}
	if (strcasecmp(v, "FULL") == 0)
		return;
	fix_set(pf, fix, sizeof(fix), "binlog_row_metadata", "FULL", 1);
	finding(pf, CDC_PREFLIGHT_WARNING, "binlog_row_metadata", fix,
		"binlog_row_metadata is %s: the binlog does not carry column names%s; they come "
		"from the catalog, which can be wrong for changes made before a schema change",
		v, strcasecmp(v, "NO_LOG") == 0 ? ", signedness or charsets" : "");
}

static void check_gtid(pf_t *pf)
{
	char fix[CDC_PREFLIGHT_LINE_MAX];
	const char *set = cdc_sql_set_global(pf->srv);

	if (pf->srv->gtid_mode)
		return;
	fmt(fix, sizeof(fix),
	    "%s enforce_gtid_consistency = ON; then %s gtid_mode = OFF_PERMISSIVE, "
	    "ON_PERMISSIVE, ON, one step at a time%s",
	    set, set,
	    strcmp(set, "SET PERSIST") ? " (and in my.cnf: gtid_mode = ON, "
					 "enforce_gtid_consistency = ON)"
				       : "");
	finding(pf, CDC_PREFLIGHT_WARNING, "gtid_mode", fix,
		"gtid_mode is %s: sequences fall back to binlog file positions, which do not "
		"survive a failover to another server",
		pf->have[V_GTID_MODE] ? pf->vars[V_GTID_MODE] : "absent (MySQL before 5.6)");
}

static int id_taken(const pf_t *pf, uint32_t id)
{
	if (id == pf->srv->server_id)
		return 1;
	for (size_t i = 0; i < pf->nreplicas; i++)
		if (pf->replica_ids[i] == id)
			return 1;
	return 0;
}

static void check_server_id(pf_t *pf)
{
	uint32_t want = pf->src->server_id, free_id = 5401;
	char fix[CDC_PREFLIGHT_LINE_MAX];

	while (id_taken(pf, free_id))
		free_id++;
	fmt(fix, sizeof(fix),
	    "choose a server-id that no server or replica of this topology uses, e.g. "
	    "--server-id %" PRIu32,
	    free_id);
	if (want == 0)
		finding(pf, CDC_PREFLIGHT_ERROR, "server_id", fix,
			"no server-id is configured: a replica needs one (1 to 4294967295)");
	else if (want == pf->srv->server_id)
		finding(pf, CDC_PREFLIGHT_ERROR, "server_id", fix,
			"server-id %" PRIu32 " is the server's own server_id: the server would "
			"take sluice for itself",
			want);
	for (size_t i = 0; want && i < pf->nreplicas; i++)
		if (pf->replica_ids[i] == want)
			finding(pf, CDC_PREFLIGHT_ERROR, "server_id", fix,
				"server-id %" PRIu32 " is already used by the replica connected "
				"from %s: the server would disconnect one of the two",
				want, pf->replica_addr[i]);
	if (pf->srv->server_id == 0) {
		fix_set(pf, fix, sizeof(fix), "server_id", "1", 0);
		finding(pf, CDC_PREFLIGHT_ERROR, "server_id", fix,
			"the server's server_id is 0: it refuses replicas");
	}
	if (!pf->replicas_read) {
		fmt(fix, sizeof(fix), "GRANT %s ON *.* TO %s;", cdc_priv_replicas(pf->srv),
		    account(pf));
		if (pf->replicas_errno == ER_SPECIFIC_ACCESS_DENIED_ERROR)
			finding(pf, CDC_PREFLIGHT_WARNING, "server_id", fix,
				"cannot list the replicas (%s needs %s): a server-id already used "
				"by a replica is not detected",
				cdc_sql_replicas(pf->srv), cdc_priv_replicas(pf->srv));
		else
			finding(pf, CDC_PREFLIGHT_WARNING, "server_id", NULL,
				"cannot list the replicas: %s: %s", cdc_sql_replicas(pf->srv),
				pf->replicas_msg);
	}
}

/* "12 hours", "7 days", "90 minutes". */
static void human_duration(int64_t s, char *buf, size_t cap)
{
	if (s % 86400 == 0)
		fmt(buf, cap, "%" PRId64 " day%s", s / 86400, s == 86400 ? "" : "s");
	else if (s % 3600 == 0)
		fmt(buf, cap, "%" PRId64 " hour%s", s / 3600, s == 3600 ? "" : "s");
	else if (s % 60 == 0)
		fmt(buf, cap, "%" PRId64 " minute%s", s / 60, s == 60 ? "" : "s");
	else
		fmt(buf, cap, "%" PRId64 " second%s", s, s == 1 ? "" : "s");
}

/* The value read for a variable, by name. */
static const char *setting_value(const pf_t *pf, const char *name)
{
	for (int i = 0; i < V__COUNT; i++)
		if (pf->have[i] && strcmp(var_names[i], name) == 0)
			return pf->vars[i];
	return "?";
}

static void check_retention(pf_t *pf)
{
	const char *setting;
	char fix[CDC_PREFLIGHT_LINE_MAX], dur[48], value[32];
	int64_t r;

	/* Without a binlog there is nothing kept; check_log_bin said so. */
	if (!pf->vars_read || (pf->have[V_LOG_BIN] && strcasecmp(pf->vars[V_LOG_BIN], "ON") != 0))
		return;
	r = cdc_binlog_retention(pf->srv,
				 pf->have[V_EXPIRE_SECONDS] ? pf->vars[V_EXPIRE_SECONDS] : NULL,
				 pf->have[V_EXPIRE_DAYS] ? pf->vars[V_EXPIRE_DAYS] : NULL,
				 pf->have[V_AUTO_PURGE] ? pf->vars[V_AUTO_PURGE] : NULL, &setting);
	if (r == 0) {
		finding(pf, CDC_PREFLIGHT_INFO, "retention", NULL,
			"binlogs are never purged automatically (%s = %s): purge them yourself "
			"once sluice has read them",
			setting, setting_value(pf, setting));
	} else if (r > 0) {
		human_duration(r, dur, sizeof(dur));
		if (r < RETENTION_MIN_S) {
			if (strcmp(setting, "expire_logs_days") == 0)
				fmt(value, sizeof(value), "%d", RETENTION_FIX_S / 86400);
			else
				fmt(value, sizeof(value), "%d", RETENTION_FIX_S);
			fix_set(pf, fix, sizeof(fix), setting, value, 0);
			finding(pf, CDC_PREFLIGHT_WARNING, "retention", fix,
				"binlogs are purged after %s (%s = %s): an outage of sluice "
				"longer than that needs a new snapshot",
				dur, setting, setting_value(pf, setting));
		} else {
			finding(pf, CDC_PREFLIGHT_INFO, "retention", NULL,
				"binlogs are kept for %s (%s = %s)", dur, setting,
				setting_value(pf, setting));
		}
	}
	if (pf->binlogs_read && pf->nbinlogs)
		finding(pf, CDC_PREFLIGHT_INFO, "retention", NULL,
			"oldest binlog kept: %s (%zu file%s, %" PRIu64 " bytes in all)", pf->oldest,
			pf->nbinlogs, pf->nbinlogs == 1 ? "" : "s", pf->binlog_bytes);
}

static void check_checksum(pf_t *pf)
{
	const char *v = pf->vars[V_CHECKSUM];

	if (!pf->have[V_CHECKSUM])
		return;
	if (strcasecmp(v, "CRC32") == 0)
		finding(pf, CDC_PREFLIGHT_INFO, "binlog_checksum", NULL,
			"binlog_checksum is CRC32: sluice verifies every event");
	else if (strcasecmp(v, "NONE") == 0)
		finding(pf, CDC_PREFLIGHT_INFO, "binlog_checksum", NULL,
			"binlog_checksum is NONE: events carry no checksum to verify");
	else
		finding(pf, CDC_PREFLIGHT_WARNING, "binlog_checksum", NULL,
			"binlog_checksum is %s, which sluice does not know", v);
}

binlog_errcode_t cdc_preflight(MYSQL *m, const cdc_server_t *srv, const cdc_source_conf_t *src,
			       cdc_preflight_report_t *rep, binlog_err_t *err)
{
	pf_t *pf;
	binlog_errcode_t rc;

	/* On the heap: the variables and replica buffers are a few KiB. */
	pf = calloc(1, sizeof(*pf));
	if (!pf)
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	pf->m = m;
	pf->srv = srv;
	pf->src = src;
	pf->rep = rep;
	pf->err = err;
	if ((rc = read_account(pf)) != BINLOG_OK || (rc = read_grants(pf)) != BINLOG_OK ||
	    (rc = read_vars(pf)) != BINLOG_OK || (rc = read_binlogs(pf)) != BINLOG_OK ||
	    (rc = read_replicas(pf)) != BINLOG_OK)
		goto out;

	check_type(pf);
	check_repl_slave(pf);
	check_binlog_monitor(pf);
	check_select(pf);
	check_log_bin(pf);
	check_format(pf);
	check_row_image(pf);
	check_row_metadata(pf);
	check_gtid(pf);
	check_server_id(pf);
	check_retention(pf);
	check_checksum(pf);
	if (rep->failed)
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
out:
	for (size_t i = 0; i < pf->ngrants; i++) {
		free(pf->grants[i].db);
		free(pf->grants[i].table);
	}
	free(pf->grants);
	free(pf->replica_ids);
	free(pf->replica_addr);
	free(pf);
	return rc;
}

void cdc_preflight_print(const cdc_preflight_report_t *rep, FILE *out)
{
	static const char *const label[] = {"INFO", "WARNING", "ERROR"};

	for (int sev = CDC_PREFLIGHT_ERROR; sev >= CDC_PREFLIGHT_INFO; sev--) {
		for (size_t i = 0; i < rep->n; i++) {
			const cdc_preflight_item_t *it = &rep->items[i];
			if (it->severity != sev)
				continue;
			fprintf(out, "%s %s\n", label[sev], it->problem);
			if (it->fix[0])
				fprintf(out, "  fix: %s\n", it->fix);
		}
	}
	fprintf(out, "preflight: %u error%s, %u warning%s\n", rep->errors,
		rep->errors == 1 ? "" : "s", rep->warnings, rep->warnings == 1 ? "" : "s");
}
