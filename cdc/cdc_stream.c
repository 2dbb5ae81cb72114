/*
 * cdc_stream.c: transactions, sequences and records from binlog events.
 *
 * Transaction boundaries, as servers write them in ROW format:
 *   MySQL 5.6+   GTID or ANONYMOUS_GTID, QUERY "BEGIN", rows..., XID
 *                (or QUERY "COMMIT"); DDL: GTID, QUERY <ddl>
 *   MySQL 5.5    QUERY "BEGIN", rows..., XID / QUERY "COMMIT"
 *   MariaDB      GTID (its flags say standalone/DDL), rows..., XID or
 *                QUERY "COMMIT"; DDL: GTID, QUERY <ddl>
 * Rows that arrive with no transaction open (a stream that starts inside
 * one) get a transaction without GTID of their own.
 */
#include "cdc_stream.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "schema.h"
#include "schema_catalog.h"

binlog_errcode_t cdc_stream_init(cdc_stream_t *s, sink_t *sink)
{
	binlog_errcode_t rc;

	memset(s, 0, sizeof(*s));
	s->sink = sink;
	if ((rc = cdc_seq_init(&s->seq)) != BINLOG_OK)
		return rc;
	if ((rc = cdc_writer_init(&s->w, 0)) != BINLOG_OK) {
		cdc_seq_free(&s->seq);
		return rc;
	}
	cdc_keyer_init(&s->keyer);
	cdc_stream_set_file(s, "");
	return BINLOG_OK;
}

void cdc_stream_free(cdc_stream_t *s)
{
	cdc_writer_free(&s->w);
	cdc_seq_free(&s->seq);
	cdc_keyer_free(&s->keyer);
}

void cdc_stream_set_file(cdc_stream_t *s, const char *name)
{
	snprintf(s->file, sizeof(s->file), "%s", name);
	s->file_no = cdc_binlog_file_number(s->file);
	cdc_writer_set_file(&s->w, s->file);
}

static int64_t event_ms(const binlog_event_t *ev)
{
	return (int64_t)ev->timestamp * 1000;
}

/* A transaction starts at ev: is it before where emission starts? */
static void gate(cdc_stream_t *s, const binlog_event_t *ev, int64_t ts_ms)
{
	if (!s->emit_from.active) {
		s->muted = 0;
		return;
	}
	s->muted = s->file_no < s->emit_from.file_no ||
		   (s->file_no == s->emit_from.file_no && ev->offset < s->emit_from.pos) ||
		   ts_ms < s->emit_from.ts_ms;
	if (!s->muted)
		s->emit_from.active = 0; /* from here on, everything */
}

static binlog_errcode_t begin_gtid(cdc_stream_t *s, const binlog_event_t *ev, binlog_err_t *err)
{
	const binlog_gtid_t *g = &ev->u.gtid.gtid;
	int64_t ts = ev->u.gtid.commit_us ? (int64_t)(ev->u.gtid.commit_us / 1000) : event_ms(ev);
	binlog_errcode_t rc;

	if (g->kind == BINLOG_GTID_NONE) {
		cdc_seq_begin_anonymous(&s->seq, s->file_no);
	} else if ((rc = cdc_seq_begin_gtid(&s->seq, g, err)) != BINLOG_OK) {
		binlog_err_prefix(err, "%s: at %llu", ev->where.source,
				  (unsigned long long)ev->offset);
		return rc;
	}
	cdc_writer_begin_txn(&s->w, g, ts);
	if (g->kind == BINLOG_GTID_NONE)
		s->gtid_text[0] = 0;
	else
		binlog_gtid_format(g, s->gtid_text, sizeof(s->gtid_text));
	s->txn_open = 1;
	s->txn_has_gtid = 1;
	gate(s, ev, ts);
	s->stats.transactions++;
	return BINLOG_OK;
}

static void begin_anonymous(cdc_stream_t *s, const binlog_event_t *ev)
{
	cdc_seq_begin_anonymous(&s->seq, s->file_no);
	cdc_writer_begin_txn(&s->w, NULL, event_ms(ev));
	s->gtid_text[0] = 0;
	s->txn_open = 1;
	s->txn_has_gtid = 0;
	gate(s, ev, event_ms(ev));
	s->stats.transactions++;
}

/* The transaction committed (or was rolled back in full). */
static void end_txn(cdc_stream_t *s)
{
	s->txn_open = 0;
	cdc_seq_end_txn(&s->seq);
}

static int sql_is(const binlog_str_t *q, const char *word)
{
	size_t n = strlen(word);
	return q->len == n && strncasecmp(q->p, word, n) == 0;
}

/*
 * Does this statement change rows? Under binlog_format STATEMENT or MIXED
 * a server logs some data changes as their SQL, which a row-based capture
 * cannot turn into records; they are counted so that the loss is reported,
 * never silent. The first word decides, after blanks and comments.
 */
static int sql_changes_rows(const binlog_str_t *q)
{
	static const char *const words[] = {"INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD"};
	const char *p = q->p, *end = q->p + q->len;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
			const char *c = p + 2;
			while (c + 1 < end && !(c[0] == '*' && c[1] == '/'))
				c++;
			if (c + 1 >= end)
				return 0;
			p = c + 2;
			continue;
		}
		break;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i]);
		if ((size_t)(end - p) > n && strncasecmp(p, words[i], n) == 0 &&
		    (p[n] == ' ' || p[n] == '\t' || p[n] == '\n' || p[n] == '\r'))
			return 1;
	}
	return 0;
}

static binlog_errcode_t emit(cdc_stream_t *s, const schema_table_t *st, binlog_rows_t *rows,
			     int which, const char *op, const binlog_event_t *ev, binlog_err_t *err)
{
	binlog_image_t img;
	binlog_errcode_t rc;
	uint64_t seq;
	sink_record_t r;
	binlog_buf_t *out;
	size_t start, vstart;

	if ((rc = binlog_rows_image(rows, which, &img, err)) != BINLOG_OK)
		return rc;
	if ((rc = cdc_seq_next(&s->seq, img.pos, !rows->compressed, &seq, err)) != BINLOG_OK) {
		binlog_err_prefix(err, "%s: at %llu", ev->where.source,
				  (unsigned long long)ev->offset);
		return rc;
	}
	r.key = NULL;
	r.key_len = 0;
	r.seq = seq;
	r.op = op;
	r.ts_ms = s->w.ts_ms;
	r.db = st->bt->db.p;
	r.db_len = st->bt->db.len;
	r.table = st->bt->name.p;
	r.table_len = st->bt->name.len;
	r.gtid = s->gtid_text;
	r.source = s->source;
	r.type = "data";
	r.topic = NULL;
	if (s->router) {
		cdc_route_entry_t *re = st->route;
		if (!re) {
			re = cdc_router_get(s->router, st->bt->db.p, st->bt->db.len, st->bt->name.p,
					    st->bt->name.len, err);
			if (!re)
				return err->code;
			((schema_table_t *)st)->route = re;
		}
		re->changed_ms = s->now_ms;
		r.topic = re->topic;
	}
	/* Straight into the sink's buffer when it has one: no copy. */
	out = sink_inplace(s->sink);
	start = out ? out->len : 0;
	if (out && s->sink->ops->inplace_head)
		s->sink->ops->inplace_head(s->sink, &r);
	vstart = out ? out->len : 0;
	if ((rc = cdc_writer_image(&s->w, out, st, &img, op, seq, ev->offset, err)) != BINLOG_OK) {
		if (out)
			out->len = start;
		return rc;
	}
	if (!out)
		out = &s->w.rec;
	r.value = out->data + vstart;
	r.value_len = out->len - vstart;
	if (s->keys) {
		if ((rc = cdc_keyer_build(&s->keyer, st, r.value, r.value_len, err)) != BINLOG_OK)
			return rc;
		r.key = s->keyer.key.data;
		r.key_len = s->keyer.key.len;
	}
	if (s->on_record && (rc = s->on_record(s->record_ctx, st, &r, err)) != BINLOG_OK) {
		if (out != &s->w.rec)
			out->len = start;
		return rc;
	}
	s->stats.records++;
	if (out != &s->w.rec)
		return s->sink->ops->write_inplace(s->sink, &r, err);
	return sink_write(s->sink, &r, err);
}

/*
 * Rows of a table that is not captured are not formatted, but under a GTID
 * they are counted: the index of later records in the transaction must
 * not depend on the capture filter. A row that cannot even be walked (a
 * column type sluice cannot size) makes the count unknown; the rest of the
 * transaction then takes previous + 1 and the stream goes on, since the
 * table is not wanted anyway.
 */
static binlog_errcode_t count_rows(cdc_stream_t *s, binlog_rows_t *rows)
{
	binlog_image_t img;
	uint64_t n = 0;
	int images = rows->kind == BINLOG_ROWS_WRITE || rows->kind == BINLOG_ROWS_DELETE ? 1 : 2;

	if (!s->seq.gtid_mode)
		return BINLOG_OK; /* positions already identify rows */
	while (binlog_rows_more(rows)) {
		for (int k = 0; k < images; k++) {
			int which = rows->kind == BINLOG_ROWS_WRITE || k == 1 ? BINLOG_IMAGE_AFTER
									      : BINLOG_IMAGE_BEFORE;
			if (binlog_rows_image(rows, which, &img, NULL) != BINLOG_OK ||
			    binlog_image_skip(&img, NULL) != BINLOG_OK) {
				cdc_seq_lose_index(&s->seq);
				s->stats.uncounted_events++;
				return BINLOG_OK;
			}
			n++;
		}
	}
	cdc_seq_skip(&s->seq, n);
	return BINLOG_OK;
}

static binlog_errcode_t rows_event(cdc_stream_t *s, const binlog_event_t *ev, binlog_err_t *err)
{
	binlog_rows_t rows = ev->u.rows;
	schema_table_t *st;
	binlog_errcode_t rc = BINLOG_OK;

	if (!s->txn_open)
		begin_anonymous(s, ev);
	if (s->schema) {
		if (s->schema->catalog)
			schema_catalog_set_at(s->schema->catalog, s->seq.ordinal);
		st = schema_table_get_ex(rows.table, s->schema, err);
		if (!st) {
			binlog_err_prefix(err, "%s: at %llu", ev->where.source,
					  (unsigned long long)ev->offset);
			return err->code;
		}
	} else if (!(st = schema_table_get(rows.table))) {
		return binlog_err_set(err, BINLOG_E_NOMEM, "no memory for a table schema");
	}
	if (st->captured < 0)
		st->captured = !s->filter || s->filter(s->filter_ctx, st->qualified);
	if (!st->captured) {
		s->stats.skipped_events++;
		return count_rows(s, &rows);
	}
	if (s->muted) {
		s->stats.muted_events++;
		return BINLOG_OK;
	}
	while (binlog_rows_more(&rows)) {
		switch (rows.kind) {
		case BINLOG_ROWS_WRITE:
			rc = emit(s, st, &rows, BINLOG_IMAGE_AFTER, "+I", ev, err);
			s->stats.inserts++;
			break;
		case BINLOG_ROWS_DELETE:
			rc = emit(s, st, &rows, BINLOG_IMAGE_BEFORE, "-D", ev, err);
			s->stats.deletes++;
			break;
		default:
			rc = emit(s, st, &rows, BINLOG_IMAGE_BEFORE, "-U", ev, err);
			if (rc == BINLOG_OK)
				rc = emit(s, st, &rows, BINLOG_IMAGE_AFTER, "+U", ev, err);
			s->stats.updates++;
		}
		if (rc != BINLOG_OK)
			return rc;
	}
	return BINLOG_OK;
}

binlog_errcode_t cdc_stream_abort_txn(cdc_stream_t *s, binlog_err_t *err)
{
	if (!s->txn_open)
		return BINLOG_OK;
	s->txn_open = 0;
	s->stats.transactions--;
	return cdc_seq_abort_txn(&s->seq, err);
}

binlog_errcode_t cdc_stream_event(cdc_stream_t *s, const binlog_event_t *ev, binlog_err_t *err)
{
	if (ev->ignored)
		return BINLOG_OK;
	if (binlog_event_is_rows(ev->type))
		return rows_event(s, ev, err);
	switch (ev->type) {
	case BINLOG_PREVIOUS_GTIDS_LOG_EVENT:
		return cdc_seq_previous_gtids(&s->seq, ev, err);
	case BINLOG_MARIA_GTID_LIST_EVENT:
		return cdc_seq_gtid_list(&s->seq, ev, err);
	case BINLOG_GTID_LOG_EVENT:
	case BINLOG_ANONYMOUS_GTID_LOG_EVENT:
	case BINLOG_GTID_TAGGED_LOG_EVENT:
	case BINLOG_MARIA_GTID_EVENT:
		return begin_gtid(s, ev, err);
	case BINLOG_QUERY_EVENT:
	case BINLOG_MARIA_QUERY_COMPRESSED_EVENT: {
		const binlog_str_t *q = &ev->u.query.sql;
		if (sql_is(q, "BEGIN")) {
			if (!s->txn_open)
				begin_anonymous(s, ev);
		} else if (sql_is(q, "COMMIT") || sql_is(q, "ROLLBACK")) {
			end_txn(s);
		} else if (sql_changes_rows(q)) {
			s->stats.statement_changes++;
		} else {
			/* DDL (or another statement): its own transaction. */
			s->stats.ddl++;
			end_txn(s);
			if (s->on_ddl)
				return s->on_ddl(s->ddl_ctx, ev, err);
		}
		return BINLOG_OK;
	}
	case BINLOG_XID_EVENT:
	case BINLOG_XA_PREPARE_LOG_EVENT:
		end_txn(s);
		return BINLOG_OK;
	case BINLOG_ROTATE_EVENT:
		if (s->follow_rotate && ev->u.rotate.name.len) {
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)ev->u.rotate.name.len,
				 ev->u.rotate.name.p);
			cdc_stream_set_file(s, name);
		}
		return BINLOG_OK;
	case BINLOG_LOAD_EVENT:
	case BINLOG_CREATE_FILE_EVENT:
	case BINLOG_NEW_LOAD_EVENT:
	case BINLOG_EXECUTE_LOAD_QUERY_EVENT:
		/* LOAD DATA logged as a statement */
		s->stats.statement_changes++;
		return BINLOG_OK;
	case BINLOG_INCIDENT_EVENT:
		return binlog__err_where(err, &ev->where, BINLOG_E_INCIDENT,
					 "incident %u: %.*s; the server may have lost changes "
					 "here, so the stream cannot be trusted past this point",
					 ev->u.incident.number, (int)ev->u.incident.message.len,
					 ev->u.incident.message.p ? ev->u.incident.message.p : "");
	default:
		return BINLOG_OK;
	}
}
