/*
 * cdc_sequence.c: computing record sequences (see cdc_sequence.h and
 * docs/SEQUENCE.md for the contract and why it holds).
 */
#include "cdc_sequence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Real topologies use a handful of domains; a stream naming more than
 * this is treated as corrupt rather than grown without bound. */
#define MAX_DOMAINS 4096

binlog_errcode_t cdc_seq_init(cdc_seq_t *s)
{
	memset(s, 0, sizeof(*s));
	s->mysql = binlog_gtid_set_new();
	return s->mysql ? BINLOG_OK : BINLOG_E_NOMEM;
}

void cdc_seq_free(cdc_seq_t *s)
{
	binlog_gtid_set_free(s->mysql);
	free(s->domains);
	memset(s, 0, sizeof(*s));
}

binlog_errcode_t cdc_seq_previous_gtids(cdc_seq_t *s, const binlog_event_t *ev, binlog_err_t *err)
{
	binlog_errcode_t rc;

	binlog_gtid_set_t *prev;

	if (!s->merge_history) {
		rc = binlog_gtid_set_decode(s->mysql, ev->u.prev_gtids.p, ev->u.prev_gtids.n, err);
	} else if (!(prev = binlog_gtid_set_new())) {
		rc = binlog_err_set(err, BINLOG_E_NOMEM, NULL);
	} else {
		rc = binlog_gtid_set_decode(prev, ev->u.prev_gtids.p, ev->u.prev_gtids.n, err);
		if (rc == BINLOG_OK)
			rc = binlog_gtid_set_union(s->mysql, prev);
		binlog_gtid_set_free(prev);
	}
	if (rc != BINLOG_OK) {
		binlog_err_prefix(err, "%s: at %llu, PREVIOUS_GTIDS", ev->where.source,
				  (unsigned long long)ev->offset);
		return rc;
	}
	s->mysql_known = 1;
	s->mysql_count = binlog_gtid_set_count(s->mysql);
	return BINLOG_OK;
}

static cdc_maria_domain_t *domain_get(cdc_seq_t *s, uint32_t domain)
{
	for (uint32_t i = 0; i < s->ndomains; i++)
		if (s->domains[i].domain == domain)
			return &s->domains[i];
	if (s->ndomains == MAX_DOMAINS)
		return NULL;
	if (s->ndomains == s->cap_domains) {
		uint32_t n = s->cap_domains ? s->cap_domains * 2 : 4;
		cdc_maria_domain_t *p = realloc(s->domains, n * sizeof(*p));
		if (!p)
			return NULL;
		s->domains = p;
		s->cap_domains = n;
	}
	s->domains[s->ndomains].domain = domain;
	s->domains[s->ndomains].server_id = 0;
	s->domains[s->ndomains].max_seq = 0;
	return &s->domains[s->ndomains++];
}

binlog_errcode_t cdc_seq_gtid_list(cdc_seq_t *s, const binlog_event_t *ev, binlog_err_t *err)
{
	/* The list holds the last GTID of every (domain, server) pair; the
	 * history position of a domain is the highest of its servers'. */
	if (!s->merge_history)
		s->ndomains = 0;
	s->maria_sum = 0;
	for (uint32_t i = 0; i < ev->u.gtid_list.count; i++) {
		binlog_gtid_t g;
		cdc_maria_domain_t *dm;
		binlog_gtid_list_get(ev, i, &g);
		dm = domain_get(s, g.domain);
		if (!dm)
			return binlog_err_set(err, BINLOG_E_SEQUENCE,
					      "no room for replication domain %u (at most %d)",
					      g.domain, MAX_DOMAINS);
		if (g.seq > dm->max_seq) {
			dm->max_seq = g.seq;
			dm->server_id = g.server_id;
		}
	}
	for (uint32_t i = 0; i < s->ndomains; i++) {
		if (s->maria_sum > UINT64_MAX - s->domains[i].max_seq)
			return binlog_err_set(err, BINLOG_E_SEQUENCE,
					      "GTID_LIST sequence numbers overflow 64 bits");
		s->maria_sum += s->domains[i].max_seq;
	}
	return BINLOG_OK;
}

static binlog_errcode_t seed_maria(cdc_seq_t *s, const char *text, binlog_err_t *err)
{
	const char *p = text;

	s->ndomains = 0;
	s->maria_sum = 0;
	while (*p) {
		unsigned long long d, srv, seq;
		char *end;
		cdc_maria_domain_t *dm;

		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		d = strtoull(p, &end, 10);
		if (end == p || *end != '-')
			goto bad;
		p = end + 1;
		srv = strtoull(p, &end, 10);
		if (end == p || *end != '-')
			goto bad;
		p = end + 1;
		seq = strtoull(p, &end, 10);
		if (end == p || d > UINT32_MAX || srv > UINT32_MAX)
			goto bad;
		p = end;
		dm = domain_get(s, (uint32_t)d);
		if (!dm)
			return binlog_err_set(err, BINLOG_E_SEQUENCE,
					      "too many replication domains");
		if (seq > dm->max_seq) {
			dm->max_seq = seq;
			dm->server_id = (uint32_t)srv;
		}
	}
	for (uint32_t i = 0; i < s->ndomains; i++) {
		if (s->maria_sum > UINT64_MAX - s->domains[i].max_seq)
			return binlog_err_set(err, BINLOG_E_SEQUENCE,
					      "GTID state overflows 64 bits");
		s->maria_sum += s->domains[i].max_seq;
	}
	return BINLOG_OK;
bad:
	return binlog_err_set(
		err, BINLOG_E_USAGE,
		"MariaDB GTID state: expected domain-server-seq at offset %zu of '%s'",
		(size_t)(p - text), text);
}

binlog_errcode_t cdc_seq_seed_text(cdc_seq_t *s, const char *text, binlog_err_t *err)
{
	binlog_errcode_t rc;

	if (strchr(text, ':')) {
		rc = binlog_gtid_set_parse(s->mysql, text, err);
		if (rc != BINLOG_OK)
			return rc;
		s->mysql_known = 1;
		s->mysql_count = binlog_gtid_set_count(s->mysql);
		return BINLOG_OK;
	}
	return seed_maria(s, text, err);
}

void cdc_seq_format_state(const cdc_seq_t *s, binlog_buf_t *b)
{
	if (binlog_gtid_set_count(s->mysql)) {
		binlog_gtid_set_format(s->mysql, b);
		return;
	}
	for (uint32_t i = 0; i < s->ndomains; i++) {
		char t[48];
		int n = snprintf(t, sizeof(t), "%s%u-%u-%llu", i ? "," : "", s->domains[i].domain,
				 s->domains[i].server_id,
				 (unsigned long long)s->domains[i].max_seq);
		binlog_buf_put(b, t, (size_t)n);
	}
}

/* What a transaction start changed, so that cdc_seq_abort_txn can put it
 * back. */
static void undo_save(cdc_seq_t *s, const binlog_gtid_t *g)
{
	s->undo.valid = 1;
	s->undo.gtid = g ? *g : (binlog_gtid_t){0};
	s->undo.last = s->last;
	s->undo.mysql_added = 0;
	s->undo.maria_prev_max = 0;
	s->undo.maria_prev_server = 0;
	s->undo.maria_prev_sum = s->maria_sum;
	if (g && g->kind == BINLOG_GTID_MARIADB) {
		for (uint32_t i = 0; i < s->ndomains; i++)
			if (s->domains[i].domain == g->domain) {
				s->undo.maria_prev_max = s->domains[i].max_seq;
				s->undo.maria_prev_server = s->domains[i].server_id;
			}
	}
}

binlog_errcode_t cdc_seq_begin_gtid(cdc_seq_t *s, const binlog_gtid_t *g, binlog_err_t *err)
{
	undo_save(s, g);
	s->gtid_mode = 1;
	s->index = 0;
	if (g->kind == BINLOG_GTID_MYSQL) {
		int r;
		if (!s->mysql_known && !binlog_gtid_set_has_source(s->mysql, g->uuid, g->tag)) {
			/* A stream that starts without PREVIOUS_GTIDS: assume the
			 * history of this source is 1..gno, as a server that has
			 * never purged or skipped a GTID would have it. */
			if (binlog_gtid_set_add_range(s->mysql, g->uuid, g->tag, 1, g->gno))
				return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			s->mysql_count = binlog_gtid_set_count(s->mysql);
		} else {
			r = binlog_gtid_set_add(s->mysql, g);
			if (r < 0)
				return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
			if (r > 0) {
				s->mysql_count++;
				s->undo.mysql_added = 1;
			} else {
				s->duplicates++;
			}
		}
		s->ordinal = s->mysql_count;
	} else if (g->kind == BINLOG_GTID_MARIADB) {
		cdc_maria_domain_t *dm = domain_get(s, g->domain);
		if (!dm)
			return binlog_err_set(err, BINLOG_E_SEQUENCE,
					      "no room for replication domain %u (at most %d)",
					      g->domain, MAX_DOMAINS);
		if (g->seq > dm->max_seq) {
			uint64_t step = g->seq - dm->max_seq;
			if (s->maria_sum > UINT64_MAX - step)
				return binlog_err_set(err, BINLOG_E_SEQUENCE,
						      "MariaDB sequence numbers overflow 64 bits");
			s->maria_sum += step;
			dm->max_seq = g->seq;
			dm->server_id = g->server_id;
		}
		s->ordinal = s->maria_sum;
	} else {
		s->gtid_mode = 0;
		return BINLOG_OK;
	}
	if (s->ordinal >> CDC_SEQ_ORDINAL_BITS) {
		char t[BINLOG_GTID_TEXT_MAX];
		binlog_gtid_format(g, t, sizeof(t));
		return binlog_err_set(err, BINLOG_E_SEQUENCE,
				      "transaction %s has history position %llu, beyond the 2^40 "
				      "the sequence can number (docs/SEQUENCE.md)",
				      t, (unsigned long long)s->ordinal);
	}
	return BINLOG_OK;
}

void cdc_seq_begin_anonymous(cdc_seq_t *s, uint64_t file_no)
{
	undo_save(s, NULL);
	s->gtid_mode = 0;
	s->index = 0;
	s->file_no = file_no;
}

binlog_errcode_t cdc_seq_next(cdc_seq_t *s, uint64_t pos, int pos_exact, uint64_t *out,
			      binlog_err_t *err)
{
	uint64_t natural = 0, seq;

	if (s->gtid_mode) {
		if (s->index < ((uint64_t)1 << CDC_SEQ_INDEX_BITS))
			natural = s->ordinal << CDC_SEQ_INDEX_BITS | s->index;
	} else if (pos_exact && pos <= UINT32_MAX && s->file_no <= UINT32_MAX) {
		natural = s->file_no << 32 | pos;
	}
	s->index++;
	if (natural > s->last) {
		seq = natural;
	} else {
		if (s->last == UINT64_MAX)
			return binlog_err_set(err, BINLOG_E_SEQUENCE,
					      "sequence space exhausted (2^64 - 1 reached)");
		seq = s->last + 1;
		s->borrowed++;
	}
	s->last = seq;
	*out = seq;
	return BINLOG_OK;
}

void cdc_seq_end_txn(cdc_seq_t *s)
{
	s->undo.valid = 0;
}

binlog_errcode_t cdc_seq_abort_txn(cdc_seq_t *s, binlog_err_t *err)
{
	const binlog_gtid_t *g = &s->undo.gtid;

	if (!s->undo.valid)
		return BINLOG_OK;
	s->undo.valid = 0;
	s->last = s->undo.last;
	s->index = 0;
	if (g->kind == BINLOG_GTID_MYSQL && s->undo.mysql_added) {
		if (binlog_gtid_set_remove(s->mysql, g) < 0)
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		s->mysql_count--;
	} else if (g->kind == BINLOG_GTID_MARIADB) {
		for (uint32_t i = 0; i < s->ndomains; i++)
			if (s->domains[i].domain == g->domain) {
				s->domains[i].max_seq = s->undo.maria_prev_max;
				s->domains[i].server_id = s->undo.maria_prev_server;
			}
		s->maria_sum = s->undo.maria_prev_sum;
	}
	return BINLOG_OK;
}

uint64_t cdc_binlog_file_number(const char *name)
{
	const char *dot = strrchr(name, '.');
	uint64_t v = 0;

	if (!dot || !dot[1])
		return 0;
	for (const char *p = dot + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return v;
}
