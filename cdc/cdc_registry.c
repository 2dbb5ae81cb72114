/*
 * cdc_registry.c: the registry of sources on disk (format and layout in
 * cdc_registry.h): writing an entry atomically, reading one back with
 * libyaml, listing and removing them.
 *
 * The reader is strict on purpose: every key it does not know is an error
 * naming the file and line, so a hand edit with a typo ("usename") fails
 * loudly instead of connecting as nobody.
 */
#include "cdc_registry.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yaml.h>

#include "cdc_fs.h"

/* Registry files are a few hundred bytes; anything this big is not one. */
#define FILE_MAX (1u << 20)

int cdc_registry_name_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return 0;
	for (; name[n]; n++)
		if (!isalnum((unsigned char)name[n]) && name[n] != '_' && name[n] != '-')
			return 0;
	return n >= 1 && n <= CDC_REGISTRY_NAME_MAX;
}

static binlog_errcode_t bad_name(const char *name, binlog_err_t *err)
{
	return binlog_err_set(err, BINLOG_E_USAGE,
			      "invalid source name '%s': use 1 to %d letters, digits, '_' or '-'",
			      name ? name : "", CDC_REGISTRY_NAME_MAX);
}

binlog_errcode_t cdc_registry_home(const char *override, char *buf, size_t cap, binlog_err_t *err)
{
	const char *h = getenv("SLUICE_HOME"), *home = getenv("HOME");
	int n;

	if (override && *override)
		n = snprintf(buf, cap, "%s", override);
	else if (h && *h)
		n = snprintf(buf, cap, "%s", h);
	else if (home && *home)
		n = snprintf(buf, cap, "%s/.local/share/sluice", home);
	else
		return binlog_err_set(err, BINLOG_E_USAGE,
				      "no registry directory: HOME is not set; set SLUICE_HOME or "
				      "give --home DIR");
	if (n < 0 || (size_t)n >= cap)
		return binlog_err_set(err, BINLOG_E_USAGE, "registry directory path too long");
	return BINLOG_OK;
}

binlog_errcode_t cdc_registry_path(const char *home, const char *name, char *buf, size_t cap,
				   binlog_err_t *err)
{
	int n;

	if (!cdc_registry_name_valid(name))
		return bad_name(name, err);
	n = snprintf(buf, cap, "%s/sources/%s.yaml", home, name);
	if (n < 0 || (size_t)n >= cap)
		return binlog_err_set(err, BINLOG_E_USAGE, "%s/sources/%s.yaml: path too long",
				      home, name);
	return BINLOG_OK;
}

int cdc_registry_exists(const char *home, const char *name)
{
	char path[4096];
	struct stat st;

	if (cdc_registry_path(home, name, path, sizeof(path), NULL) != BINLOG_OK)
		return 0;
	return lstat(path, &st) == 0;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

/* A YAML string: single-quoted ('' for '), or double-quoted with escapes
 * when it holds control characters, which single quotes cannot carry. */
static void put_str(binlog_buf_t *b, const char *s)
{
	int ctl = 0;
	char esc[8];

	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			ctl = 1;
	if (!ctl) {
		binlog_buf_putc(b, '\'');
		for (const char *p = s; *p; p++) {
			if (*p == '\'')
				binlog_buf_putc(b, '\'');
			binlog_buf_putc(b, (uint8_t)*p);
		}
		binlog_buf_putc(b, '\'');
		return;
	}
	binlog_buf_putc(b, '"');
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			binlog_buf_putc(b, '\\');
			binlog_buf_putc(b, c);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			binlog_buf_puts(b, esc);
		} else {
			binlog_buf_putc(b, c);
		}
	}
	binlog_buf_putc(b, '"');
}

static void put_key_str(binlog_buf_t *b, const char *key, const char *val)
{
	if (!val)
		return;
	binlog_buf_lit(b, "  ");
	binlog_buf_puts(b, key);
	binlog_buf_lit(b, ": ");
	put_str(b, val);
	binlog_buf_putc(b, '\n');
}

static void put_key_uint(binlog_buf_t *b, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	binlog_buf_lit(b, "  ");
	binlog_buf_puts(b, key);
	binlog_buf_lit(b, ": ");
	binlog_buf_puts(b, num);
	binlog_buf_putc(b, '\n');
}

static void format_time(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, cap, "1970-01-01T00:00:00Z");
}

void cdc_registry_format(const char *name, const cdc_source_conf_t *src, int64_t added_at,
			 binlog_buf_t *out)
{
	const cdc_conn_opts_t *c = &src->conn;
	char when[32];

	binlog_buf_lit(out, "# sluice source \"");
	binlog_buf_puts(out, name);
	binlog_buf_lit(out, "\", written by `sluice source add`.\n"
			    "# A pipeline uses it with: source: {registered: ");
	binlog_buf_puts(out, name);
	binlog_buf_lit(out, "}\nsource:\n");
	put_key_str(out, "name", name);
	put_key_str(out, "type", src->type);
	put_key_str(out, "hostname", c->host);
	put_key_uint(out, "port", c->port ? c->port : 3306);
	put_key_str(out, "socket", c->socket);
	put_key_str(out, "username", c->user);
	/* Where the password is, never the password. */
	put_key_str(out, "password-file", c->password_file);
	put_key_str(out, "password-env", c->password_env);
	put_key_uint(out, "server-id", src->server_id);
	put_key_str(out, "ssl.mode", cdc_ssl_mode_name(c->ssl_mode));
	put_key_str(out, "ssl.ca", c->ssl_ca);
	put_key_str(out, "ssl.cert", c->ssl_cert);
	put_key_str(out, "ssl.key", c->ssl_key);
	if (src->tables.n) {
		binlog_buf_lit(out, "  tables: [");
		for (size_t i = 0; i < src->tables.n; i++) {
			if (i)
				binlog_buf_lit(out, ", ");
			put_str(out, src->tables.v[i]);
		}
		binlog_buf_lit(out, "]\n");
	}
	format_time(added_at, when, sizeof(when));
	binlog_buf_lit(out, "registry:\n");
	put_key_str(out, "added-at", when);
}

binlog_errcode_t cdc_registry_add(const char *home, const char *name, const cdc_source_conf_t *src,
				  int64_t added_at, int replace, binlog_err_t *err)
{
	char dir[4096], path[4096];
	binlog_buf_t b;
	binlog_errcode_t rc;

	binlog_buf_init(&b, FILE_MAX);
	if ((rc = cdc_registry_path(home, name, path, sizeof(path), err)) != BINLOG_OK)
		goto out;
	snprintf(dir, sizeof(dir), "%s/sources", home);
	if ((rc = cdc_mkdirs(dir, 0700, err)) != BINLOG_OK)
		goto out;
	cdc_registry_format(name, src, added_at, &b);
	if (b.failed) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto out;
	}
	/* The temporary file has a dot name: never taken for an entry by
	 * cdc_registry_names. Without replace, an entry another add created
	 * a moment ago is not overwritten. */
	rc = cdc_write_atomic(path, b.data, b.len,
			      replace ? CDC_WRITE_REPLACE : CDC_WRITE_EXCLUSIVE, 0, err);
	if (rc == BINLOG_E_USAGE)
		rc = binlog_err_set(err, BINLOG_E_USAGE, "source %s is already registered (%s)",
				    name, path);
out:
	binlog_buf_free(&b);
	return rc;
}

binlog_errcode_t cdc_registry_remove(const char *home, const char *name, binlog_err_t *err)
{
	char path[4096], dir[4096];
	binlog_errcode_t rc;

	if ((rc = cdc_registry_path(home, name, path, sizeof(path), err)) != BINLOG_OK)
		return rc;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "no source named %s is registered (%s)", name, path);
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "cannot remove %s: %s", path,
				      strerror(errno));
	}
	snprintf(dir, sizeof(dir), "%s/sources", home);
	return cdc_sync_dir(dir, err);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

typedef struct reader {
	yaml_parser_t p;
	yaml_event_t ev;
	int have_ev;
	const char *path;
	binlog_err_t *err;
} reader_t;

static binlog_errcode_t next(reader_t *r)
{
	if (r->have_ev)
		yaml_event_delete(&r->ev);
	r->have_ev = 0;
	if (!yaml_parser_parse(&r->p, &r->ev))
		return binlog_err_set(r->err, BINLOG_E_USAGE, "%s:%zu: %s", r->path,
				      (size_t)r->p.problem_mark.line + 1,
				      r->p.problem ? r->p.problem : "not valid YAML");
	r->have_ev = 1;
	return BINLOG_OK;
}

static size_t line_of(const reader_t *r)
{
	return (size_t)r->ev.start_mark.line + 1;
}

static binlog_errcode_t expect(reader_t *r, yaml_event_type_t t, const char *what)
{
	binlog_errcode_t rc = next(r);

	if (rc == BINLOG_OK && r->ev.type != t)
		rc = binlog_err_set(r->err, BINLOG_E_USAGE, "%s:%zu: expected %s", r->path,
				    line_of(r), what);
	return rc;
}

static const char *scalar(const reader_t *r)
{
	return (const char *)r->ev.data.scalar.value;
}

/* A scalar value for key; NULL for YAML's null (~, null, nothing). */
static binlog_errcode_t value_str(reader_t *r, const char *key, char **out)
{
	binlog_errcode_t rc = next(r);
	const char *v;

	if (rc != BINLOG_OK)
		return rc;
	if (r->ev.type != YAML_SCALAR_EVENT)
		return binlog_err_set(r->err, BINLOG_E_USAGE, "%s:%zu: %s: expected a single value",
				      r->path, line_of(r), key);
	v = scalar(r);
	if (r->ev.data.scalar.plain_implicit &&
	    (!*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0))
		return BINLOG_OK;
	if (*out)
		return binlog_err_set(r->err, BINLOG_E_USAGE, "%s:%zu: %s: given twice", r->path,
				      line_of(r), key);
	*out = strdup(v);
	if (!*out)
		return binlog_err_set(r->err, BINLOG_E_NOMEM, "out of memory");
	return BINLOG_OK;
}

static binlog_errcode_t value_uint(reader_t *r, const char *key, uint64_t min, uint64_t max,
				   uint64_t *out)
{
	char *s = NULL, *end;
	unsigned long long v;
	binlog_errcode_t rc = value_str(r, key, &s);

	if (rc != BINLOG_OK || !s)
		goto out;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno || v < min || v > max)
		rc = binlog_err_set(r->err, BINLOG_E_USAGE,
				    "%s:%zu: %s: '%s' is not a number from %" PRIu64 " to %" PRIu64,
				    r->path, line_of(r), key, s, min, max);
	else
		*out = v;
out:
	free(s);
	return rc;
}

static binlog_errcode_t strlist_push(cdc_list_t *l, const char *s, size_t n, reader_t *r)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return binlog_err_set(r->err, BINLOG_E_NOMEM, "out of memory");
	l->v = v;
	l->v[l->n] = strndup(s, n);
	if (!l->v[l->n])
		return binlog_err_set(r->err, BINLOG_E_NOMEM, "out of memory");
	l->n++;
	return BINLOG_OK;
}

/* A list: a YAML sequence, or one scalar of comma-separated items. */
static binlog_errcode_t value_list(reader_t *r, const char *key, cdc_list_t *l)
{
	binlog_errcode_t rc = next(r);
	const char *s, *e;

	if (rc != BINLOG_OK)
		return rc;
	if (l->n)
		return binlog_err_set(r->err, BINLOG_E_USAGE, "%s:%zu: %s: given twice", r->path,
				      line_of(r), key);
	if (r->ev.type == YAML_SCALAR_EVENT) {
		for (s = scalar(r); *s && rc == BINLOG_OK; s = *e ? e + 1 : e) {
			e = s + strcspn(s, ",");
			while (s < e && isspace((unsigned char)*s))
				s++;
			size_t n = (size_t)(e - s);
			while (n && isspace((unsigned char)s[n - 1]))
				n--;
			if (n)
				rc = strlist_push(l, s, n, r);
		}
		return rc;
	}
	if (r->ev.type != YAML_SEQUENCE_START_EVENT)
		return binlog_err_set(r->err, BINLOG_E_USAGE, "%s:%zu: %s: expected a list",
				      r->path, line_of(r), key);
	while ((rc = next(r)) == BINLOG_OK && r->ev.type != YAML_SEQUENCE_END_EVENT) {
		if (r->ev.type != YAML_SCALAR_EVENT)
			return binlog_err_set(r->err, BINLOG_E_USAGE,
					      "%s:%zu: %s: expected a list of strings", r->path,
					      line_of(r), key);
		if ((rc = strlist_push(l, scalar(r), strlen(scalar(r)), r)) != BINLOG_OK)
			return rc;
	}
	return rc;
}

static binlog_errcode_t parse_source(reader_t *r, cdc_registry_entry_t *e)
{
	cdc_source_conf_t *s = &e->src;
	cdc_conn_opts_t *c = &s->conn;
	char key[64], *mode = NULL;
	uint64_t v;
	binlog_errcode_t rc;

	if ((rc = expect(r, YAML_MAPPING_START_EVENT, "source: a mapping of settings")))
		return rc;
	while ((rc = next(r)) == BINLOG_OK && r->ev.type != YAML_MAPPING_END_EVENT) {
		if (r->ev.type != YAML_SCALAR_EVENT) {
			rc = binlog_err_set(r->err, BINLOG_E_USAGE,
					    "%s:%zu: source: expected a key", r->path, line_of(r));
			break;
		}
		snprintf(key, sizeof(key), "%s", scalar(r));
		if (strcmp(key, "name") == 0)
			rc = value_str(r, key, &s->name);
		else if (strcmp(key, "type") == 0)
			rc = value_str(r, key, &s->type);
		else if (strcmp(key, "hostname") == 0)
			rc = value_str(r, key, &c->host);
		else if (strcmp(key, "socket") == 0)
			rc = value_str(r, key, &c->socket);
		else if (strcmp(key, "username") == 0)
			rc = value_str(r, key, &c->user);
		else if (strcmp(key, "password-file") == 0)
			rc = value_str(r, key, &c->password_file);
		else if (strcmp(key, "password-env") == 0)
			rc = value_str(r, key, &c->password_env);
		else if (strcmp(key, "ssl.ca") == 0)
			rc = value_str(r, key, &c->ssl_ca);
		else if (strcmp(key, "ssl.cert") == 0)
			rc = value_str(r, key, &c->ssl_cert);
		else if (strcmp(key, "ssl.key") == 0)
			rc = value_str(r, key, &c->ssl_key);
		else if (strcmp(key, "tables") == 0)
			rc = value_list(r, key, &s->tables);
		else if (strcmp(key, "port") == 0) {
			v = 3306;
			rc = value_uint(r, key, 1, 65535, &v);
			c->port = (unsigned)v;
		} else if (strcmp(key, "server-id") == 0) {
			v = 0;
			rc = value_uint(r, key, 1, UINT32_MAX, &v);
			s->server_id = (uint32_t)v;
		} else if (strcmp(key, "ssl.mode") == 0) {
			rc = value_str(r, key, &mode);
			if (rc == BINLOG_OK && mode && (c->ssl_mode = cdc_ssl_mode_parse(mode)) < 0)
				rc = binlog_err_set(
					r->err, BINLOG_E_USAGE,
					"%s:%zu: ssl.mode: '%s' is not one of disabled, "
					"preferred, required, verify-ca, verify-identity",
					r->path, line_of(r), mode);
		} else {
			rc = binlog_err_set(r->err, BINLOG_E_USAGE,
					    "%s:%zu: source: unknown key '%s'", r->path, line_of(r),
					    key);
		}
		if (rc != BINLOG_OK)
			break;
	}
	free(mode);
	return rc;
}

static binlog_errcode_t parse_registry(reader_t *r, cdc_registry_entry_t *e)
{
	char *when = NULL;
	struct tm tm;
	const char *end;
	binlog_errcode_t rc;

	if ((rc = expect(r, YAML_MAPPING_START_EVENT, "registry: a mapping")))
		return rc;
	while ((rc = next(r)) == BINLOG_OK && r->ev.type != YAML_MAPPING_END_EVENT) {
		if (r->ev.type != YAML_SCALAR_EVENT || strcmp(scalar(r), "added-at") != 0) {
			rc = binlog_err_set(r->err, BINLOG_E_USAGE,
					    "%s:%zu: registry: unknown key '%s'", r->path,
					    line_of(r),
					    r->ev.type == YAML_SCALAR_EVENT ? scalar(r) : "?");
			break;
		}
		if ((rc = value_str(r, "added-at", &when)) != BINLOG_OK || !when)
			break;
		memset(&tm, 0, sizeof(tm));
		end = strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (!end || *end) {
			rc = binlog_err_set(r->err, BINLOG_E_USAGE,
					    "%s:%zu: added-at: '%s' is not a UTC time like "
					    "2024-06-15T12:34:56Z",
					    r->path, line_of(r), when);
			break;
		}
		e->added_at = (int64_t)timegm(&tm);
	}
	free(when);
	return rc;
}

binlog_errcode_t cdc_registry_parse(const char *path, const char *text, size_t len,
				    cdc_registry_entry_t *e, binlog_err_t *err)
{
	reader_t r;
	int seen_source = 0;
	binlog_errcode_t rc;

	memset(e, 0, sizeof(*e));
	e->src.conn.ssl_mode = CDC_SSL_PREFERRED;
	memset(&r, 0, sizeof(r));
	r.path = path;
	r.err = err;
	if (!yaml_parser_initialize(&r.p))
		return binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
	yaml_parser_set_input_string(&r.p, (const unsigned char *)text, len);
	if ((rc = expect(&r, YAML_STREAM_START_EVENT, "a YAML stream")) || (rc = next(&r)))
		goto out;
	if (r.ev.type != YAML_DOCUMENT_START_EVENT) {
		rc = binlog_err_set(err, BINLOG_E_USAGE, "%s: is empty", path);
		goto out;
	}
	if ((rc = expect(&r, YAML_MAPPING_START_EVENT, "a mapping with source:")))
		goto out;
	while ((rc = next(&r)) == BINLOG_OK && r.ev.type != YAML_MAPPING_END_EVENT) {
		if (r.ev.type == YAML_SCALAR_EVENT && strcmp(scalar(&r), "source") == 0) {
			rc = parse_source(&r, e);
			seen_source = 1;
		} else if (r.ev.type == YAML_SCALAR_EVENT && strcmp(scalar(&r), "registry") == 0) {
			rc = parse_registry(&r, e);
		} else {
			rc = binlog_err_set(err, BINLOG_E_USAGE, "%s:%zu: unknown key '%s'", path,
					    line_of(&r),
					    r.ev.type == YAML_SCALAR_EVENT ? scalar(&r) : "?");
		}
		if (rc != BINLOG_OK)
			goto out;
	}
	if (rc != BINLOG_OK)
		goto out;
	if (!seen_source) {
		rc = binlog_err_set(err, BINLOG_E_USAGE, "%s: has no source: block", path);
		goto out;
	}
	if (!e->src.name || !cdc_registry_name_valid(e->src.name)) {
		rc = binlog_err_set(err, BINLOG_E_USAGE, "%s: source: name: %s", path,
				    e->src.name ? "not a valid source name" : "missing");
		goto out;
	}
	snprintf(e->name, sizeof(e->name), "%s", e->src.name);
out:
	if (r.have_ev)
		yaml_event_delete(&r.ev);
	yaml_parser_delete(&r.p);
	if (rc != BINLOG_OK)
		cdc_registry_entry_free(e); /* what was read before the error */
	return rc;
}

static binlog_errcode_t read_file(const char *path, char **out, size_t *len, binlog_err_t *err)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	ssize_t got;
	int fd;
	binlog_errcode_t rc = BINLOG_OK;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return binlog_err_set(err, errno == ENOENT ? BINLOG_E_USAGE : BINLOG_E_LOCAL_IO,
				      "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		rc = binlog_err_set(err, BINLOG_E_USAGE, "%s: not a registry file", path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
		goto out;
	}
	while (n < (size_t)st.st_size) {
		got = read(fd, buf + n, (size_t)st.st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = binlog_err_set(err, BINLOG_E_LOCAL_IO, "read %s: %s", path,
					    strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

binlog_errcode_t cdc_registry_load(const char *home, const char *name, cdc_registry_entry_t *e,
				   binlog_err_t *err)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	binlog_errcode_t rc;

	memset(e, 0, sizeof(*e));
	if ((rc = cdc_registry_path(home, name, path, sizeof(path), err)) != BINLOG_OK)
		goto out;
	if (!cdc_registry_exists(home, name)) {
		rc = binlog_err_set(err, BINLOG_E_USAGE, "no source named %s is registered (%s)",
				    name, path);
		goto out;
	}
	if ((rc = read_file(path, &text, &len, err)) != BINLOG_OK)
		goto out;
	if ((rc = cdc_registry_parse(path, text, len, e, err)) != BINLOG_OK)
		goto out;
	if (strcmp(e->name, name) != 0)
		rc = binlog_err_set(err, BINLOG_E_USAGE,
				    "%s: source: name: '%s' differs from the file name", path,
				    e->name);
out:
	free(text);
	return rc;
}

static void strings_free(cdc_list_t *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void cdc_registry_entry_free(cdc_registry_entry_t *e)
{
	cdc_source_conf_t *s = &e->src;

	free(s->type);
	free(s->registered);
	free(s->name);
	cdc_conn_opts_free(&s->conn);
	strings_free(&s->tables);
	strings_free(&s->tables_exclude);
	strings_free(&s->columns_exclude);
	strings_free(&s->columns_mask);
	free(s->startup_file);
	free(s->startup_gtid);
	memset(e, 0, sizeof(*e));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

binlog_errcode_t cdc_registry_names(const char *home, char ***names, size_t *n, binlog_err_t *err)
{
	char dir[4096], **v = NULL, **nv;
	struct dirent *de;
	size_t cnt = 0, len;
	DIR *d;
	binlog_errcode_t rc = BINLOG_OK;

	*names = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), "%s/sources", home);
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return BINLOG_OK;
		return binlog_err_set(err, BINLOG_E_LOCAL_IO, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		de->d_name[len - 5] = '\0';
		if (!cdc_registry_name_valid(de->d_name))
			continue; /* temporary files start with a dot */
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv || !(nv[cnt] = strdup(de->d_name))) {
			if (nv)
				v = nv;
			rc = binlog_err_set(err, BINLOG_E_NOMEM, "out of memory");
			goto out;
		}
		v = nv;
		cnt++;
	}
	qsort(v, cnt, sizeof(*v), cmp_names);
	*names = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
out:
	closedir(d);
	cdc_registry_names_free(v, cnt);
	return rc;
}

void cdc_registry_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
