/*
 * cdc_source_cmd.c: `sluice source add | check | list | remove`.
 *
 * `add` connects with the settings given, probes the server, runs every
 * preflight check, prints the report and registers the source when no
 * check found an error (with --force, whatever they found). `check` does
 * the same for a registered source without changing it. A failure to
 * connect or to read the password is reported like a preflight error:
 * one block naming the address and the reason, and a fix line.
 *
 * The report goes to standard output; usage errors to standard error.
 * Exit status: 0 success, 1 an error was found or the operation failed,
 * 2 bad usage. With --force, `add` exits 0 once the source is registered,
 * whatever the report says: the caller asked for exactly that.
 */
#include "cdc_source_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "cdc_conn.h"
#include "cdc_preflight.h"
#include "cdc_registry.h"

#define DEFAULT_CONNECT_TIMEOUT_S 10

static void usage(FILE *out)
{
	fputs("usage: sluice source add NAME --host H [--port P] [--socket S] --user U\n"
	      "                         (--password-file F | --password-env VAR) --server-id N\n"
	      "                         [--ssl-mode M] [--ssl-ca F] [--ssl-cert F] [--ssl-key F]\n"
	      "                         [--type mysql|mariadb] [--tables LIST]\n"
	      "                         [--connect-timeout S] [--force] [--replace] [--home DIR]\n"
	      "       sluice source check NAME [--home DIR]\n"
	      "       sluice source list [--home DIR]\n"
	      "       sluice source remove NAME [--home DIR]\n"
	      "\n"
	      "add checks that the server allows capture (privileges, binlog settings,\n"
	      "server id, binlog retention), prints every problem with its fix, and\n"
	      "registers the source when there is no error. check reruns the checks for\n"
	      "a registered source; list and remove manage the registry.\n"
	      "\n"
	      "  --ssl-mode M       disabled, preferred (default), required, verify-ca,\n"
	      "                     verify-identity\n"
	      "  --tables LIST      table patterns (regexes on db.table, comma-separated\n"
	      "                     or repeated) whose databases need SELECT\n"
	      "  --force            register even when a check finds an error\n"
	      "  --replace          overwrite a source of the same name\n"
	      "  --home DIR         the registry (default $SLUICE_HOME, else\n"
	      "                     $HOME/.local/share/sluice)\n",
	      out);
}

/* snprintf for report lines, which are cut at their end when too long. */
static void line(char *buf, size_t cap, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void line(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, cap, f, ap);
	va_end(ap);
}

/* A number in [min, max], the whole string; 0 when it is not one. */
static int parse_uint(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

/* The error number at the end of a cdc_conn message: "... (server error
 * 1045)". cdc_conn.c writes every connection error that way. */
static unsigned msg_errno(const char *msg)
{
	const char *p = strrchr(msg, '(');
	unsigned long long v;
	char num[16];
	size_t n;

	if (!p || (strncmp(p, "(server error ", 14) != 0 && strncmp(p, "(client error ", 14) != 0))
		return 0;
	p += 14;
	n = strcspn(p, ")");
	if (n == 0 || n >= sizeof(num))
		return 0;
	memcpy(num, p, n);
	num[n] = '\0';
	return parse_uint(num, 1, 99999, &v) ? (unsigned)v : 0;
}

/* The fix for a failed connection, by its error number. */
static void connect_fix(const cdc_conn_opts_t *o, const char *addr, const char *msg, char *fix,
			size_t cap)
{
	unsigned e = msg_errno(msg);

	if (o->ssl_mode == CDC_SSL_VERIFY_CA && !o->ssl_ca) {
		line(fix, cap, "give --ssl-ca FILE: the CA certificate that signed the server's");
		return;
	}
	switch (e) {
	case ER_ACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
		line(fix, cap,
		     "check the password in %s%s and that user '%s' may connect from this "
		     "host: SELECT user, host FROM mysql.user WHERE user = '%s'",
		     o->password_file ? "" : "$",
		     o->password_file  ? o->password_file
		     : o->password_env ? o->password_env
				       : "(none given)",
		     o->user, o->user);
		break;
	case ER_HOST_NOT_PRIVILEGED:
		line(fix, cap, "create the user for this host: CREATE USER '%s'@'<this host>' ...",
		     o->user);
		break;
	case ER_HOST_IS_BLOCKED:
		line(fix, cap,
		     "on the server: FLUSH HOSTS (too many failed connections from "
		     "this host)");
		break;
	case ER_CON_COUNT_ERROR:
	case ER_TOO_MANY_USER_CONNECTIONS:
		line(fix, cap,
		     "retry later, or raise max_connections / the user's "
		     "MAX_USER_CONNECTIONS");
		break;
	case CR_SSL_CONNECTION_ERROR:
		line(fix, cap,
		     "enable TLS on the server (ssl_cert, ssl_key) or check "
		     "--ssl-ca; or choose --ssl-mode preferred or disabled");
		break;
	case CR_UNKNOWN_HOST:
		line(fix, cap, "check the host name (--host): it does not resolve here");
		break;
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST_EXTENDED:
		line(fix, cap,
		     "check that the server runs and listens on %s and that nothing (a "
		     "firewall, bind-address, skip-networking) blocks it",
		     addr);
		break;
	default:
		fix[0] = '\0';
	}
}

/* A password file that others may read: worth a warning, not a refusal
 * (container secrets are mounted 0644 by default; see cdc_conn.c). */
static void check_password_file(const cdc_conn_opts_t *o, cdc_preflight_report_t *rep)
{
	struct stat st;
	char problem[CDC_PREFLIGHT_LINE_MAX], fix[CDC_PREFLIGHT_LINE_MAX];

	if (!o->password_file || stat(o->password_file, &st) != 0 || !(st.st_mode & 077))
		return;
	line(problem, sizeof(problem), "password file %s is readable by %s (mode %04o)",
	     o->password_file, st.st_mode & 007 ? "every user" : "its group",
	     (unsigned)(st.st_mode & 07777));
	line(fix, sizeof(fix), "chmod 600 %s", o->password_file);
	cdc_preflight_add(rep, CDC_PREFLIGHT_WARNING, "password", problem, fix);
}

/*
 * Connect, probe and run the preflight for src, printing the report.
 * Returns the number of errors found (a failure to connect is one), or -1
 * when the run itself broke off (connection lost, out of memory).
 */
static int run_checks(const char *name, cdc_source_conf_t *src, cdc_server_t *srv)
{
	cdc_preflight_report_t rep;
	binlog_err_t err = {0};
	char addr[300], fix[CDC_PREFLIGHT_LINE_MAX];
	MYSQL *m = NULL;
	int status = -1;

	cdc_preflight_report_init(&rep);
	memset(srv, 0, sizeof(*srv));
	cdc_conn_addr(&src->conn, addr, sizeof(addr));
	printf("source %s: %s@%s\n", name, src->conn.user ? src->conn.user : "", addr);
	if (cdc_conn_resolve_password(&src->conn, &err) != BINLOG_OK) {
		if (src->conn.password_file)
			line(fix, sizeof(fix),
			     "write the password on the first line of %s (chmod 600 %s)",
			     src->conn.password_file, src->conn.password_file);
		else
			line(fix, sizeof(fix), "export %s with the password before running sluice",
			     src->conn.password_env ? src->conn.password_env : "the variable");
		cdc_preflight_add(&rep, CDC_PREFLIGHT_ERROR, "password", err.msg, fix);
		goto report;
	}
	check_password_file(&src->conn, &rep);
	m = cdc_conn_open(&src->conn, &err);
	if (!m) {
		char problem[CDC_PREFLIGHT_LINE_MAX];
		line(problem, sizeof(problem), "cannot connect: %s", err.msg);
		connect_fix(&src->conn, addr, err.msg, fix, sizeof(fix));
		cdc_preflight_add(&rep, CDC_PREFLIGHT_ERROR, "connect", problem, fix);
		goto report;
	}
	if (cdc_server_probe(m, srv, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice source: %s: %s\n", addr, err.msg);
		goto out;
	}
	printf("server: %s %s, server_id %u%s%s\n", cdc_flavor_name(srv), srv->version_text,
	       (unsigned)srv->server_id, srv->server_uuid[0] ? ", server_uuid " : "",
	       srv->server_uuid);
	if (cdc_preflight(m, srv, src, &rep, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice source: %s: %s\n", addr, err.msg);
		goto out;
	}
report:
	cdc_preflight_print(&rep, stdout);
	status = (int)rep.errors;
out:
	if (m)
		mysql_close(m);
	cdc_preflight_report_free(&rep);
	fflush(stdout);
	return status;
}

/* Append the comma-separated items of s to l. */
static int add_tables(cdc_list_t *l, const char *s)
{
	const char *e;
	char **v;

	for (; *s; s = *e ? e + 1 : e) {
		e = s + strcspn(s, ",");
		while (s < e && *s == ' ')
			s++;
		if (s == e)
			continue;
		v = realloc(l->v, (l->n + 1) * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		if (!(l->v[l->n] = strndup(s, (size_t)(e - s))))
			return -1;
		l->n++;
	}
	return 0;
}

/* Replace *dst with a copy of s. */
static int set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = strdup(s);
	return *dst ? 0 : -1;
}

enum {
	O_HOST = 1000,
	O_PORT,
	O_SOCKET,
	O_USER,
	O_PWFILE,
	O_PWENV,
	O_SERVER_ID,
	O_SSL_MODE,
	O_SSL_CA,
	O_SSL_CERT,
	O_SSL_KEY,
	O_TYPE,
	O_TABLES,
	O_TIMEOUT,
	O_FORCE,
	O_REPLACE,
	O_HOME,
	O_HELP,
};

static const struct option add_opts[] = {
	{"host", required_argument, NULL, O_HOST},
	{"port", required_argument, NULL, O_PORT},
	{"socket", required_argument, NULL, O_SOCKET},
	{"user", required_argument, NULL, O_USER},
	{"password-file", required_argument, NULL, O_PWFILE},
	{"password-env", required_argument, NULL, O_PWENV},
	{"server-id", required_argument, NULL, O_SERVER_ID},
	{"ssl-mode", required_argument, NULL, O_SSL_MODE},
	{"ssl-ca", required_argument, NULL, O_SSL_CA},
	{"ssl-cert", required_argument, NULL, O_SSL_CERT},
	{"ssl-key", required_argument, NULL, O_SSL_KEY},
	{"type", required_argument, NULL, O_TYPE},
	{"tables", required_argument, NULL, O_TABLES},
	{"connect-timeout", required_argument, NULL, O_TIMEOUT},
	{"force", no_argument, NULL, O_FORCE},
	{"replace", no_argument, NULL, O_REPLACE},
	{"home", required_argument, NULL, O_HOME},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

/* Only --home (and --help) for check, list and remove. */
static const struct option home_opts[] = {
	{"home", required_argument, NULL, O_HOME},
	{"help", no_argument, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

typedef struct cmd {
	const char *sub;
	const char *name;
	const char *home_opt;
	int force, replace;
	int timeout_s;
	cdc_source_conf_t src;
} cmd_t;

/* Parse the options of `sub`. 0, or the exit status to return (2 for bad
 * usage, 0 after --help). */
static int parse_args(cmd_t *c, int argc, char **argv)
{
	const struct option *opts = strcmp(c->sub, "add") == 0 ? add_opts : home_opts;
	cdc_conn_opts_t *o = &c->src.conn;
	unsigned long long v;
	int ch, status = 0, oom = 0;

	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_HOST:
			oom |= set_str(&o->host, optarg);
			break;
		case O_PORT:
			if (!parse_uint(optarg, 1, 65535, &v)) {
				fprintf(stderr, "sluice source: --port %s: not a port (1-65535)\n",
					optarg);
				return 2;
			}
			o->port = (unsigned)v;
			break;
		case O_SOCKET:
			oom |= set_str(&o->socket, optarg);
			break;
		case O_USER:
			oom |= set_str(&o->user, optarg);
			break;
		case O_PWFILE:
			oom |= set_str(&o->password_file, optarg);
			break;
		case O_PWENV:
			oom |= set_str(&o->password_env, optarg);
			break;
		case O_SERVER_ID:
			if (!parse_uint(optarg, 1, UINT32_MAX, &v)) {
				fprintf(stderr,
					"sluice source: --server-id %s: not a number from 1 to "
					"4294967295\n",
					optarg);
				return 2;
			}
			c->src.server_id = (uint32_t)v;
			break;
		case O_SSL_MODE:
			if ((o->ssl_mode = cdc_ssl_mode_parse(optarg)) < 0) {
				fprintf(stderr,
					"sluice source: --ssl-mode %s: not one of disabled, "
					"preferred, "
					"required, verify-ca, verify-identity\n",
					optarg);
				return 2;
			}
			break;
		case O_SSL_CA:
			oom |= set_str(&o->ssl_ca, optarg);
			break;
		case O_SSL_CERT:
			oom |= set_str(&o->ssl_cert, optarg);
			break;
		case O_SSL_KEY:
			oom |= set_str(&o->ssl_key, optarg);
			break;
		case O_TYPE:
			if (strcmp(optarg, "mysql") != 0 && strcmp(optarg, "mariadb") != 0) {
				fprintf(stderr, "sluice source: --type %s: not mysql or mariadb\n",
					optarg);
				return 2;
			}
			oom |= set_str(&c->src.type, optarg);
			break;
		case O_TABLES:
			oom |= add_tables(&c->src.tables, optarg);
			break;
		case O_TIMEOUT:
			if (!parse_uint(optarg, 1, 3600, &v)) {
				fprintf(stderr,
					"sluice source: --connect-timeout %s: not a number of "
					"seconds "
					"from 1 to 3600\n",
					optarg);
				return 2;
			}
			c->timeout_s = (int)v;
			break;
		case O_FORCE:
			c->force = 1;
			break;
		case O_REPLACE:
			c->replace = 1;
			break;
		case O_HOME:
			c->home_opt = optarg;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (oom) {
		fprintf(stderr, "sluice source: out of memory\n");
		return 1;
	}
	if (strcmp(c->sub, "list") != 0) {
		if (optind + 1 != argc) {
			fprintf(stderr, "sluice source %s: give exactly one source NAME\n", c->sub);
			return 2;
		}
		c->name = argv[optind];
		if (!cdc_registry_name_valid(c->name)) {
			fprintf(stderr,
				"sluice source %s: invalid source name '%s': use 1 to %d letters, "
				"digits, '_' or '-'\n",
				c->sub, c->name, CDC_REGISTRY_NAME_MAX);
			return 2;
		}
	} else if (optind != argc) {
		fprintf(stderr, "sluice source list: takes no arguments\n");
		return 2;
	}
	if (strcmp(c->sub, "add") != 0)
		return status;
	if (!o->host && !o->socket) {
		fprintf(stderr, "sluice source add: give --host (or --socket)\n");
		return 2;
	}
	/* The rules of the configuration's source block (cdc_config.c), so
	 * that what is registered loads there too. */
	if (o->socket && o->host && strcmp(o->host, "localhost") != 0) {
		fprintf(stderr,
			"sluice source add: --socket is a local connection; give it without "
			"--host (or with --host localhost), not with %s\n",
			o->host);
		return 2;
	}
	if (o->ssl_mode >= CDC_SSL_VERIFY_CA && !o->ssl_ca) {
		fprintf(stderr,
			"sluice source add: --ssl-mode %s needs --ssl-ca FILE (the CA certificate "
			"to verify the server's with)\n",
			cdc_ssl_mode_name(o->ssl_mode));
		return 2;
	}
	if (!o->ssl_cert != !o->ssl_key) {
		fprintf(stderr, "sluice source add: --ssl-cert and --ssl-key go together\n");
		return 2;
	}
	if (!o->user) {
		fprintf(stderr, "sluice source add: give --user\n");
		return 2;
	}
	if (!o->password_file == !o->password_env) {
		fprintf(stderr,
			"sluice source add: give one of --password-file FILE or --password-env "
			"VAR\n");
		return 2;
	}
	if (!c->src.server_id) {
		fprintf(stderr, "sluice source add: give --server-id N (the replica id sluice "
				"uses; unique among the server's replicas)\n");
		return 2;
	}
	return status;
}

/*
 * Make a relative path absolute against the current directory, so the
 * registered source works from anywhere. Symbolic links are kept as they
 * are: a mounted secret is a link that the platform re-points on rotation.
 */
static int absolute(char **p)
{
	char cwd[4096], *abs;
	size_t n;

	if (!*p || **p == '/')
		return 0;
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	n = strlen(cwd) + strlen(*p) + 2;
	abs = malloc(n);
	if (!abs)
		return -1;
	snprintf(abs, n, "%s/%s", cwd, *p);
	free(*p);
	*p = abs;
	return 0;
}

static int cmd_add(cmd_t *c, const char *home)
{
	binlog_err_t err = {0};
	cdc_server_t srv;
	char path[4096];
	int errors, status = 1;

	if (!c->replace && cdc_registry_exists(home, c->name)) {
		cdc_registry_path(home, c->name, path, sizeof(path), NULL);
		fprintf(stderr,
			"sluice source add: source %s is already registered (%s)\n"
			"  fix: --replace to overwrite it, or sluice source remove %s\n",
			c->name, path, c->name);
		goto out;
	}
	if (set_str(&c->src.name, c->name)) {
		fprintf(stderr, "sluice source add: out of memory\n");
		goto out;
	}
	if (absolute(&c->src.conn.password_file) || absolute(&c->src.conn.ssl_ca) ||
	    absolute(&c->src.conn.ssl_cert) || absolute(&c->src.conn.ssl_key) ||
	    absolute(&c->src.conn.socket)) {
		fprintf(stderr, "sluice source add: cannot resolve a relative path: %s\n",
			strerror(errno));
		goto out;
	}
	c->src.conn.connect_timeout_s = (unsigned)c->timeout_s;
	errors = run_checks(c->name, &c->src, &srv);
	if (errors < 0)
		goto out;
	if (errors > 0 && !c->force) {
		printf("source %s not registered: fix the errors above, or use --force\n", c->name);
		goto out;
	}
	/* Record what the server is, when the user did not say. */
	if (!c->src.type && srv.flavor &&
	    set_str(&c->src.type, srv.flavor == BINLOG_FLAVOR_MARIADB ? "mariadb" : "mysql")) {
		fprintf(stderr, "sluice source add: out of memory\n");
		goto out;
	}
	if (cdc_registry_add(home, c->name, &c->src, (int64_t)time(NULL), c->replace, &err) !=
	    BINLOG_OK) {
		fprintf(stderr, "sluice source add: %s\n", err.msg);
		goto out;
	}
	cdc_registry_path(home, c->name, path, sizeof(path), NULL);
	if (errors > 0)
		printf("registered source %s despite %d error%s (--force): %s\n", c->name, errors,
		       errors == 1 ? "" : "s", path);
	else
		printf("registered source %s: %s\n", c->name, path);
	status = 0;
out:
	return status;
}

static int cmd_check(cmd_t *c, const char *home)
{
	cdc_registry_entry_t e;
	binlog_err_t err = {0};
	cdc_server_t srv;
	int errors, status = 1;

	if (cdc_registry_load(home, c->name, &e, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice source check: %s\n", err.msg);
		goto out;
	}
	errors = run_checks(c->name, &e.src, &srv);
	if (errors == 0)
		status = 0;
out:
	cdc_registry_entry_free(&e);
	return status;
}

static int cmd_list(const char *home)
{
	binlog_err_t err = {0};
	cdc_registry_entry_t e;
	char **names = NULL, addr[300], when[32];
	size_t n = 0;
	int status = 1;

	if (cdc_registry_names(home, &names, &n, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice source list: %s\n", err.msg);
		goto out;
	}
	if (n == 0) {
		printf("no sources registered in %s/sources\n", home);
		status = 0;
		goto out;
	}
	printf("%-20s %-30s %-16s %-10s %s\n", "NAME", "ADDRESS", "USER", "SERVER-ID", "ADDED-AT");
	status = 0;
	for (size_t i = 0; i < n; i++) {
		if (cdc_registry_load(home, names[i], &e, &err) != BINLOG_OK) {
			printf("%-20s (unreadable: %s)\n", names[i], err.msg);
			status = 1;
		} else {
			time_t t = (time_t)e.added_at;
			struct tm tm;
			cdc_conn_addr(&e.src.conn, addr, sizeof(addr));
			if (!e.added_at || !gmtime_r(&t, &tm) ||
			    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
				snprintf(when, sizeof(when), "-");
			printf("%-20s %-30s %-16s %-10u %s\n", e.name, addr,
			       e.src.conn.user ? e.src.conn.user : "-", (unsigned)e.src.server_id,
			       when);
		}
		cdc_registry_entry_free(&e);
	}
out:
	cdc_registry_names_free(names, n);
	return status;
}

static int cmd_remove(cmd_t *c, const char *home)
{
	binlog_err_t err = {0};

	if (cdc_registry_remove(home, c->name, &err) != BINLOG_OK) {
		fprintf(stderr, "sluice source remove: %s\n", err.msg);
		return 1;
	}
	printf("removed source %s\n", c->name);
	return 0;
}

int cdc_source_main(int argc, char **argv)
{
	cmd_t c;
	binlog_err_t err = {0};
	char home[4096];
	int status;

	memset(&c, 0, sizeof(c));
	c.src.conn.ssl_mode = CDC_SSL_PREFERRED;
	c.timeout_s = DEFAULT_CONNECT_TIMEOUT_S;
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		status = argc < 2 ? 2 : 0;
		goto out;
	}
	c.sub = argv[1];
	if (strcmp(c.sub, "add") != 0 && strcmp(c.sub, "check") != 0 &&
	    strcmp(c.sub, "list") != 0 && strcmp(c.sub, "remove") != 0) {
		fprintf(stderr, "sluice source: unknown command '%s'\n", c.sub);
		usage(stderr);
		status = 2;
		goto out;
	}
	status = parse_args(&c, argc - 1, argv + 1);
	if (status) {
		status = status < 0 ? 0 : status;
		goto out;
	}
	if (cdc_registry_home(c.home_opt, home, sizeof(home), &err) != BINLOG_OK) {
		fprintf(stderr, "sluice source %s: %s\n", c.sub, err.msg);
		status = 1;
		goto out;
	}
	if (strcmp(c.sub, "add") == 0)
		status = cmd_add(&c, home);
	else if (strcmp(c.sub, "check") == 0)
		status = cmd_check(&c, home);
	else if (strcmp(c.sub, "list") == 0)
		status = cmd_list(home);
	else
		status = cmd_remove(&c, home);
out : {
	cdc_registry_entry_t e = {.src = c.src};
	cdc_registry_entry_free(&e); /* frees the strings of c.src */
}
	/* libmariadb keeps global state from the first mysql_init(); a
	 * command is the whole process, so release it here. */
	mysql_library_end();
	return status;
}
