/*
 * cdc_pipe.c: filter, catalog, router and sink of a pipeline, from its
 * configuration (cdc_pipe.h).
 */
#include "cdc_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mysql.h>

#include "cdc_conn.h"
#include "cdc_log.h"
#include "sink_kafka.h"

void cdc_pipe_init(cdc_pipe_t *p, const cdc_config_t *cfg)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->sink_fd = -1;
}

binlog_errcode_t cdc_pipe_open_filter(cdc_pipe_t *p, binlog_err_t *err)
{
	return cdc_filter_new(&p->cfg->source, &p->filter, err);
}

binlog_errcode_t cdc_pipe_open_file(cdc_pipe_t *p, int mode, binlog_err_t *err)
{
	sink_file_opts_t so = {.fsync_on_flush = p->cfg->sink.fsync,
			       .headers = p->cfg->sink.headers};
	const char *path = p->cfg->sink.path;
	struct stat s;

	if (strcmp(path, "-") == 0) {
		p->sink_fd = STDOUT_FILENO;
	} else {
		p->sink_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (p->sink_fd < 0)
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "sink.path %s: %s", path,
					      strerror(errno));
		if (mode == CDC_PIPE_FILE_NEW && fstat(p->sink_fd, &s) == 0 && S_ISREG(s.st_mode) &&
		    s.st_size > 0)
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "sink.path %s exists and holds %lld bytes; it may be "
					      "another pipeline's output, so it is neither "
					      "overwritten nor appended to: remove it, or name "
					      "another file",
					      path, (long long)s.st_size);
		if (lseek(p->sink_fd, 0, SEEK_END) < 0 && errno != ESPIPE)
			return binlog_err_set(err, BINLOG_E_LOCAL_IO, "sink.path %s: %s", path,
					      strerror(errno));
	}
	p->sink = sink_file_new_ex(p->sink_fd, &so);
	if (!p->sink)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	/* a pipe or terminal cannot go back */
	p->sink_rewinds = p->sink->ops->offset && p->sink->ops->rewind &&
			  p->sink_fd != STDOUT_FILENO && fstat(p->sink_fd, &s) == 0 &&
			  S_ISREG(s.st_mode);
	return BINLOG_OK;
}

binlog_errcode_t cdc_pipe_open_router(cdc_pipe_t *p, binlog_err_t *err)
{
	const cdc_config_t *c = p->cfg;

	if (p->router)
		return BINLOG_OK;
	return cdc_router_new(c->routes, c->nroutes, c->sink.topic, c->source.name, &p->router,
			      err);
}

binlog_errcode_t cdc_pipe_open_kafka(cdc_pipe_t *p, const cdc_pipe_kafka_t *ko, binlog_err_t *err)
{
	const cdc_sink_conf_t *k = &p->cfg->sink;
	char client[300], txid[300];
	int txn = ko->transactional && k->delivery == CDC_DELIVERY_EXACTLY_ONCE;
	sink_kafka_opts_t o = {
		.bootstrap = k->bootstrap,
		.client_id = client,
		.compression = k->compression,
		.linger_ms = k->linger_ms,
		.max_inflight = k->max_inflight,
		.max_inflight_bytes = k->max_inflight_bytes,
		.max_record_size = k->max_record_size,
		.props = k->properties.v,
		.nprops = k->properties.n,
		.props_file = k->properties_file,
		.request_timeout_ms = k->request_timeout_ms,
		.offsets_topic = k->offsets_topic,
		.offsets_key = p->cfg->pipeline.name,
		.stop = ko->stop,
	};

	if (ko->client_id)
		snprintf(client, sizeof(client), "%s", ko->client_id);
	else
		snprintf(client, sizeof(client), "sluice-%s", p->cfg->pipeline.name);
	if (txn) {
		snprintf(txid, sizeof(txid), "%s",
			 k->transactional_id ? k->transactional_id : client);
		o.transactional_id = txid;
	}
	if (cdc_pipe_open_router(p, err) != BINLOG_OK)
		return err->code;
	if (!(p->sink = sink_kafka_new(&o, err)))
		return err->code;
	cdc_log_info("kafka sink: %s, %s%s", k->bootstrap,
		     txn ? "exactly-once, transactional.id " : "at-least-once (idempotent)",
		     txn ? o.transactional_id : "");
	return BINLOG_OK;
}

binlog_errcode_t cdc_pipe_open_catalog(cdc_pipe_t *p, binlog_err_t *err)
{
	cdc_conn_opts_t o;
	binlog_errcode_t rc = BINLOG_OK;

	if (p->cfg->source.catalog == CDC_CATALOG_NEVER)
		return BINLOG_OK;
	if (!p->catalog && !(p->catalog = schema_catalog_new(NULL)))
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	if (cdc_conn_opts_copy(&o, &p->cfg->source.conn) != BINLOG_OK)
		return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	o.read_timeout_s = 60;
	if (!o.password && (rc = cdc_conn_resolve_password(&o, err)) != BINLOG_OK)
		goto out;
	cdc_pipe_close_catalog_conn(p);
	if (!(p->catalog_conn = cdc_conn_open(&o, err))) {
		rc = err->code;
		goto out;
	}
	schema_catalog_set_conn(p->catalog, p->catalog_conn);
out:
	cdc_conn_opts_free(&o);
	return rc;
}

void cdc_pipe_close_catalog_conn(cdc_pipe_t *p)
{
	if (p->catalog)
		schema_catalog_set_conn(p->catalog, NULL);
	if (p->catalog_conn)
		mysql_close(p->catalog_conn);
	p->catalog_conn = NULL;
}

int cdc_pipe_table_captured(const cdc_pipe_t *p, const char *qualified)
{
	const char *dot = strchr(qualified, '.');
	char db[256];

	if (!dot || (size_t)(dot - qualified) >= sizeof(db))
		return 1;
	memcpy(db, qualified, (size_t)(dot - qualified));
	db[dot - qualified] = 0;
	return cdc_filter_table(p->filter, db, dot + 1) &&
	       (!p->extra || cdc_filter_table(p->extra, db, dot + 1));
}

static int table_filter(void *ctx, const char *qualified)
{
	return cdc_pipe_table_captured(ctx, qualified);
}

binlog_errcode_t cdc_pipe_ddl(cdc_pipe_t *p, const binlog_event_t *ev, binlog_err_t *err)
{
	char db[256];

	if (!p->catalog)
		return BINLOG_OK;
	snprintf(db, sizeof(db), "%.*s", (int)ev->u.query.db.len,
		 ev->u.query.db.p ? ev->u.query.db.p : "");
	schema_catalog_set_at(p->catalog, p->st->seq.ordinal);
	return schema_catalog_ddl(p->catalog, db, ev->u.query.sql.p, ev->u.query.sql.len, err);
}

static binlog_errcode_t on_ddl(void *ctx, const binlog_event_t *ev, binlog_err_t *err)
{
	return cdc_pipe_ddl(ctx, ev, err);
}

static void schema_warn(void *ctx, const schema_table_t *st, const char *msg)
{
	(void)ctx;
	cdc_log_warn("%s: %s", st->qualified, msg);
}

void cdc_pipe_attach(cdc_pipe_t *p, cdc_stream_t *st)
{
	p->st = st;
	st->source = p->cfg->source.name;
	st->filter = table_filter;
	st->filter_ctx = p;
	st->on_ddl = on_ddl;
	st->ddl_ctx = p;
	st->router = p->router;
	st->keys = p->router != NULL;
	p->schema.catalog = p->catalog;
	p->schema.catalog_mode = p->cfg->source.catalog;
	p->schema.filter = p->filter;
	p->schema.stats = &p->schema_stats;
	p->schema.warn = schema_warn;
	p->schema.warn_ctx = p;
	st->schema = &p->schema;
}

void cdc_pipe_close(cdc_pipe_t *p)
{
	cdc_pipe_close_catalog_conn(p);
	schema_catalog_free(p->catalog);
	p->catalog = NULL;
	sink_close(p->sink);
	p->sink = NULL;
	cdc_router_free(p->router);
	p->router = NULL;
	cdc_filter_free(p->filter);
	cdc_filter_free(p->extra);
	p->filter = p->extra = NULL;
	if (p->sink_fd > STDERR_FILENO)
		close(p->sink_fd);
	p->sink_fd = -1;
}
