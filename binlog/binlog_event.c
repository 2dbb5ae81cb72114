/*
 * binlog_event.c: the decoder: framing, checksums, FORMAT_DESCRIPTION, the
 * control events, TRANSACTION_PAYLOAD, and the table-id map.
 *
 * A binlog file is the magic "\xfe" "bin" followed by events. Every event
 * of binlog version 4 starts with a 19-byte header:
 *
 *   timestamp 4 | type 1 | server_id 4 | event_size 4 | log_pos 4 | flags 2
 *
 * then a post-header whose length per type FORMAT_DESCRIPTION announces,
 * the body, and (MySQL 5.6.1+, MariaDB 5.3+, when binlog_checksum=CRC32)
 * a 4-byte CRC32 of everything before it.
 *
 * FORMAT_DESCRIPTION_EVENT body:
 *   binlog_version 2 | server_version 50 (NUL-padded) | create_time 4 |
 *   header_length 1 | post_header_length[number of types] |
 *   [checksum_alg 1 | crc32 4]   (servers that know checksums; the FDE
 *                                 carries its CRC even when alg is OFF)
 *
 * log_pos is the server's end position and is not trusted for anything:
 * MariaDB 11 writes 0 inside transactions, events inside a
 * TRANSACTION_PAYLOAD carry 0, and streams captured mid-file carry the
 * original file's positions. Positions come from the caller's offsets.
 */
#include "binlog_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_gtid.h"

/* More cached table maps than this and the map is emptied at the next
 * transaction start (servers re-send TABLE_MAP in every transaction). */
#define TABLE_CACHE_MAX 16384

typedef struct table_slot {
	uint64_t id;
	binlog_table_t *t; /* NULL: empty */
} table_slot_t;

struct binlog_decoder {
	binlog_opts_t o;
	char source[512];
	binlog_where_t where;

	/* FORMAT_DESCRIPTION */
	int have_fde;
	int flavor;
	int checksum;
	char server_version[51];
	uint8_t ph_len[256];
	unsigned ntypes;

	/* The fed event, not yet delivered. */
	const uint8_t *cur; /* start of the event being decoded */
	const uint8_t *ev;
	size_t ev_len;
	uint64_t ev_off;
	int ev_crc; /* 1 when the last 4 bytes are a checksum */
	int pending;

	/* TRANSACTION_PAYLOAD being delivered. */
	binlog_buf_t payload;
	binlog_cur_t inner;
	uint32_t inner_idx;
	int in_payload;

	binlog_buf_t unz;     /* MariaDB compressed events */
	binlog_buf_t scratch; /* MariaDB compressed columns */

	table_slot_t *slots;
	uint32_t nslots;
	uint32_t ntables;
	uint64_t table_versions;

	binlog_stats_t stats;
};

void binlog_opts_default(binlog_opts_t *o)
{
	o->max_event_size = ((size_t)1 << 30) + 65536;
	o->max_inflated_size = (size_t)1 << 30;
	o->verify_checksum = 1;
	o->initial_checksum = BINLOG_CHECKSUM_UNDEF;
}

/* ------------------------------------------------------------------ */
/* Table-id map: open addressing, linear probing, no deletion.         */

static uint32_t hash_id(uint64_t id, uint32_t mask)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (uint32_t)id & mask;
}

static binlog_table_t *table_get(const binlog_decoder_t *d, uint64_t id)
{
	uint32_t mask, i;

	if (!d->nslots)
		return NULL;
	mask = d->nslots - 1;
	for (i = hash_id(id, mask); d->slots[i].t; i = (i + 1) & mask)
		if (d->slots[i].id == id)
			return d->slots[i].t;
	return NULL;
}

static void tables_clear(binlog_decoder_t *d)
{
	for (uint32_t i = 0; i < d->nslots; i++) {
		binlog__table_free(d->slots[i].t);
		d->slots[i].t = NULL;
	}
	d->ntables = 0;
}

static int table_put(binlog_decoder_t *d, binlog_table_t *t)
{
	uint32_t mask, i;

	if ((d->ntables + 1) * 2 > d->nslots) {
		uint32_t n = d->nslots ? d->nslots * 2 : 64;
		table_slot_t *s = calloc(n, sizeof(*s));
		if (!s)
			return -1;
		for (uint32_t k = 0; k < d->nslots; k++) {
			if (!d->slots[k].t)
				continue;
			for (i = hash_id(d->slots[k].id, n - 1); s[i].t; i = (i + 1) & (n - 1))
				;
			s[i] = d->slots[k];
		}
		free(d->slots);
		d->slots = s;
		d->nslots = n;
	}
	mask = d->nslots - 1;
	for (i = hash_id(t->table_id, mask); d->slots[i].t; i = (i + 1) & mask) {
		if (d->slots[i].id == t->table_id) {
			binlog__table_free(d->slots[i].t);
			d->slots[i].t = t;
			return 0;
		}
	}
	d->slots[i].id = t->table_id;
	d->slots[i].t = t;
	d->ntables++;
	return 0;
}

/* ------------------------------------------------------------------ */

binlog_decoder_t *binlog_decoder_new(const binlog_opts_t *opts)
{
	binlog_decoder_t *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (opts)
		d->o = *opts;
	else
		binlog_opts_default(&d->o);
	snprintf(d->source, sizeof(d->source), "%s", "binlog");
	binlog_buf_init(&d->payload, d->o.max_inflated_size);
	binlog_buf_init(&d->unz, d->o.max_inflated_size);
	binlog_buf_init(&d->scratch, d->o.max_inflated_size);
	d->checksum = d->o.initial_checksum;
	d->where.source = d->source;
	return d;
}

void binlog_decoder_reset(binlog_decoder_t *d)
{
	tables_clear(d);
	d->have_fde = 0;
	d->flavor = BINLOG_FLAVOR_UNKNOWN;
	d->checksum = d->o.initial_checksum;
	d->server_version[0] = 0;
	d->ntypes = 0;
	d->pending = 0;
	d->in_payload = 0;
}

void binlog_decoder_free(binlog_decoder_t *d)
{
	if (!d)
		return;
	tables_clear(d);
	free(d->slots);
	binlog_buf_free(&d->payload);
	binlog_buf_free(&d->unz);
	binlog_buf_free(&d->scratch);
	free(d);
}

void binlog_decoder_set_source(binlog_decoder_t *d, const char *name)
{
	snprintf(d->source, sizeof(d->source), "%s", name ? name : "binlog");
}

int binlog_decoder_flavor(const binlog_decoder_t *d)
{
	return d->flavor;
}

const char *binlog_decoder_server_version(const binlog_decoder_t *d)
{
	return d->server_version;
}

int binlog_decoder_checksum(const binlog_decoder_t *d)
{
	return d->checksum;
}

const binlog_stats_t *binlog_decoder_stats(const binlog_decoder_t *d)
{
	return &d->stats;
}

binlog_errcode_t binlog_check_magic(const uint8_t *buf, size_t len, binlog_err_t *err)
{
	static const uint8_t magic[BINLOG_MAGIC_LEN] = {0xfe, 'b', 'i', 'n'};

	if (len < BINLOG_MAGIC_LEN || memcmp(buf, magic, sizeof(magic)) != 0)
		return binlog_err_set(err, BINLOG_E_BAD_MAGIC,
				      "not a binary log: the file does not start with fe 62 69 6e");
	return BINLOG_OK;
}

binlog_errcode_t binlog_decoder_event_size(binlog_decoder_t *d, const uint8_t *hdr, uint64_t offset,
					   uint32_t *size, binlog_err_t *err)
{
	uint32_t sz = binlog_le32(hdr + 9);
	binlog_where_t w = {d->source, offset, 0, 0, hdr[4]};

	if (sz < BINLOG_HEADER_LEN)
		return binlog__err_where(err, &w, BINLOG_E_BAD_EVENT,
					 "event size %u is smaller than its 19-byte header", sz);
	if (sz > d->o.max_event_size)
		return binlog__err_where(err, &w, BINLOG_E_LIMIT,
					 "event size %u exceeds the limit of %zu bytes", sz,
					 d->o.max_event_size);
	*size = sz;
	return BINLOG_OK;
}

/* "5.7.21-log" -> 5, 7, 21; stops at the first non-digit of each part. */
static void version_split(const char *v, unsigned out[3])
{
	out[0] = out[1] = out[2] = 0;
	for (int i = 0; i < 3 && *v; i++) {
		while (*v >= '0' && *v <= '9') {
			if (out[i] < 100000)
				out[i] = out[i] * 10 + (unsigned)(*v - '0');
			v++;
		}
		if (*v != '.')
			break;
		v++;
	}
}

static int version_ge(const unsigned v[3], unsigned a, unsigned b, unsigned c)
{
	if (v[0] != a)
		return v[0] > a;
	if (v[1] != b)
		return v[1] > b;
	return v[2] >= c;
}

/* Does this FORMAT_DESCRIPTION end with checksum_alg + crc32? Servers
 * that know checksums always write both: MySQL from 5.6.1, MariaDB
 * from 5.3. */
static int fde_has_alg(const char *version)
{
	unsigned v[3];

	version_split(version, v);
	if (strstr(version, "MariaDB") || strstr(version, "mariadb"))
		return version_ge(v, 5, 3, 0);
	return version_ge(v, 5, 6, 1);
}

static binlog_errcode_t fde_parse(binlog_decoder_t *d, const uint8_t *buf, size_t len,
				  binlog_err_t *err)
{
	const uint8_t *body = buf + BINLOG_HEADER_LEN;
	size_t n = len - BINLOG_HEADER_LEN, nph;
	uint16_t bver;
	char ver[51];
	int has_alg, alg = BINLOG_CHECKSUM_OFF;

	if (n < 2 + 50 + 4 + 1)
		return binlog__err_where(err, &d->where, BINLOG_E_TRUNCATED,
					 "FORMAT_DESCRIPTION body is %zu bytes, needs at least 57",
					 n);
	bver = binlog_le16(body);
	if (bver != 4)
		return binlog__err_where(err, &d->where, BINLOG_E_UNSUPPORTED,
					 "binlog format version %u (only version 4, MySQL 5.0+, is "
					 "supported)",
					 bver);
	memcpy(ver, body + 2, 50);
	ver[50] = 0;
	if (body[56] != BINLOG_HEADER_LEN)
		return binlog__err_where(err, &d->where, BINLOG_E_UNSUPPORTED,
					 "event header length %u (expected 19)", body[56]);
	has_alg = fde_has_alg(ver);
	nph = n - 57;
	if (has_alg) {
		if (nph < 5)
			return binlog__err_where(err, &d->where, BINLOG_E_TRUNCATED,
						 "FORMAT_DESCRIPTION lacks its checksum fields");
		nph -= 5;
		alg = body[n - 5];
		if (alg != BINLOG_CHECKSUM_OFF && alg != BINLOG_CHECKSUM_CRC32 &&
		    alg != BINLOG_CHECKSUM_UNDEF)
			return binlog__err_where(err, &d->where, BINLOG_E_UNSUPPORTED,
						 "checksum algorithm %u", alg);
		if (alg == BINLOG_CHECKSUM_UNDEF)
			alg = BINLOG_CHECKSUM_OFF;
	}
	/* A server from before checksums knew at most 35 event types (MySQL
	 * 5.5 lists 27). A longer list means the version text is wrong, most
	 * likely corrupt, and the checksum it hides would go unchecked. */
	if (!has_alg && nph > 35)
		return binlog__err_where(err, &d->where, BINLOG_E_BAD_EVENT,
					 "server version '%s' predates checksums but the event "
					 "lists %zu event types",
					 ver, nph);
	if (nph > 255)
		nph = 255;
	memset(d->ph_len, 0, sizeof(d->ph_len));
	for (size_t i = 0; i < nph; i++)
		d->ph_len[i + 1] = body[57 + i];
	d->ntypes = (unsigned)nph;
	memcpy(d->server_version, ver, sizeof(ver));
	d->flavor = (strstr(ver, "MariaDB") || strstr(ver, "mariadb")) ? BINLOG_FLAVOR_MARIADB
								       : BINLOG_FLAVOR_MYSQL;
	d->checksum = alg;
	/* A new format description starts a new file: table ids restart. */
	tables_clear(d);
	d->have_fde = 1;
	return BINLOG_OK;
}

/*
 * CRC32 of an event's bytes (binlog_crc32.c). A server sets
 * LOG_EVENT_BINLOG_IN_USE_F in the FORMAT_DESCRIPTION of the file it is
 * writing and clears it in place when it closes the file, without
 * recomputing the checksum: the checksum is defined over the event with
 * that flag clear.
 */
static uint32_t event_crc(const uint8_t *buf, size_t n)
{
	uint32_t c;
	uint8_t flags0;

	if (buf[4] != BINLOG_FORMAT_DESCRIPTION_EVENT)
		return binlog__crc32(0, buf, (uint64_t)n);
	flags0 = buf[17] & (uint8_t)~BINLOG_LOG_EVENT_BINLOG_IN_USE_F;
	c = binlog__crc32(0, buf, 17);
	c = binlog__crc32(c, &flags0, 1);
	return binlog__crc32(c, buf + 18, (uint64_t)(n - 18));
}

binlog_errcode_t binlog_decoder_feed(binlog_decoder_t *d, const uint8_t *buf, size_t len,
				     uint64_t offset, binlog_err_t *err)
{
	uint8_t type;
	int crc = 0;

	d->pending = 0;
	d->in_payload = 0;
	d->where.offset = offset;
	d->where.inner = 0;
	d->where.inner_offset = 0;
	d->where.type = len > 4 ? buf[4] : 0;
	if (len < BINLOG_HEADER_LEN)
		return binlog__err_where(err, &d->where, BINLOG_E_TRUNCATED,
					 "%zu bytes, shorter than an event header", len);
	type = buf[4];
	if (binlog_le32(buf + 9) != len)
		return binlog__err_where(err, &d->where, BINLOG_E_BAD_EVENT,
					 "header says %u bytes, %zu were given",
					 binlog_le32(buf + 9), len);

	if (type == BINLOG_FORMAT_DESCRIPTION_EVENT) {
		char ver[51];
		if (len >= BINLOG_HEADER_LEN + 57) {
			memcpy(ver, buf + BINLOG_HEADER_LEN + 2, 50);
			ver[50] = 0;
			crc = fde_has_alg(ver) && len >= BINLOG_HEADER_LEN + 57 + 5 &&
			      buf[len - 5] != BINLOG_CHECKSUM_UNDEF;
		}
	} else if (d->have_fde) {
		crc = d->checksum == BINLOG_CHECKSUM_CRC32;
	} else if (d->checksum == BINLOG_CHECKSUM_CRC32) {
		crc = 1;
	} else if (d->checksum == BINLOG_CHECKSUM_UNDEF && len >= BINLOG_HEADER_LEN + 4) {
		/* Before any FDE (a replication stream's artificial ROTATE):
		 * the checksum is there if it matches. */
		crc = binlog__crc32(0, buf, (uint64_t)(len - 4)) == binlog_le32(buf + len - 4);
	}
	if (crc) {
		if (len < BINLOG_HEADER_LEN + 4)
			return binlog__err_where(err, &d->where, BINLOG_E_TRUNCATED,
						 "no room for the checksum");
		if (d->o.verify_checksum) {
			uint32_t want = binlog_le32(buf + len - 4);
			uint32_t got = event_crc(buf, len - 4);
			if (want != got)
				return binlog__err_where(err, &d->where, BINLOG_E_CHECKSUM,
							 "CRC32 is 0x%08x, the event says 0x%08x",
							 got, want);
		}
	}
	d->ev = buf;
	d->ev_len = len;
	d->ev_off = offset;
	d->ev_crc = crc;
	d->pending = 1;
	d->stats.events++;
	d->stats.bytes += len;
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Event bodies                                                        */

#define BAD(code, ...) binlog__err_where(err, &d->where, (code), __VA_ARGS__)

static binlog_errcode_t parse_query(binlog_decoder_t *d, binlog_cur_t c, binlog_event_t *ev,
				    int compressed, binlog_err_t *err)
{
	unsigned ph = d->ph_len[BINLOG_QUERY_EVENT] ? d->ph_len[BINLOG_QUERY_EVENT] : 13;
	uint32_t thread, exec;
	uint8_t dbl;
	uint16_t ecode, svlen = 0;
	const uint8_t *db, *sql;
	binlog_cur_t post;

	if (!binlog_cur_take(&c, ph, &post) || !binlog_cur_le32(&post, &thread) ||
	    !binlog_cur_le32(&post, &exec) || !binlog_cur_u8(&post, &dbl) ||
	    !binlog_cur_le16(&post, &ecode))
		return BAD(BINLOG_E_TRUNCATED, "post-header needs %u bytes", ph);
	if (ph >= 13 && !binlog_cur_le16(&post, &svlen))
		return BAD(BINLOG_E_TRUNCATED, "post-header truncated");
	if (!binlog_cur_skip(&c, svlen) || !binlog_cur_bytes(&c, dbl, &db) ||
	    !binlog_cur_skip(&c, 1))
		return BAD(BINLOG_E_TRUNCATED,
			   "status variables (%u bytes) and database name (%u) need more than "
			   "the %zu bytes left",
			   svlen, dbl, binlog_cur_left(&c) + 0);
	sql = c.p;
	ev->u.query.db.p = (const char *)db;
	ev->u.query.db.len = dbl;
	ev->u.query.thread_id = thread;
	ev->u.query.exec_time = exec;
	ev->u.query.error_code = ecode;
	if (compressed) {
		binlog_errcode_t rc;
		binlog_buf_reset(&d->unz);
		rc = binlog__maria_inflate(sql, binlog_cur_left(&c), d->o.max_inflated_size,
					   &d->unz, err);
		if (rc != BINLOG_OK) {
			char m[BINLOG_ERR_MSG_MAX];
			snprintf(m, sizeof(m), "%s", err ? err->msg : "");
			return BAD(rc, "query text: %s", m);
		}
		ev->u.query.sql.p = (const char *)d->unz.data;
		ev->u.query.sql.len = (uint32_t)d->unz.len;
	} else {
		ev->u.query.sql.p = (const char *)sql;
		ev->u.query.sql.len = (uint32_t)binlog_cur_left(&c);
	}
	return BINLOG_OK;
}

/* MySQL GTID_LOG_EVENT / ANONYMOUS_GTID_LOG_EVENT:
 *   flags 1 | sid 16 | gno 8 | [lt_type 1 (=2) | last_committed 8 |
 *   sequence_number 8] | [immediate_commit_ts 7 (bit 55: original follows)
 *   | [original_commit_ts 7]] | [transaction_length packed] |
 *   [immediate_server_version 4 (bit 31: original follows) | [original 4]]
 *   | [commit_group_ticket 8]
 * Each optional part exists from some server version on; a shorter body
 * from an older server simply ends earlier. */
static binlog_errcode_t parse_gtid(binlog_decoder_t *d, binlog_cur_t c, binlog_event_t *ev,
				   binlog_err_t *err)
{
	const uint8_t *sid;
	uint8_t flags;
	uint64_t gno, v;

	memset(&ev->u.gtid, 0, sizeof(ev->u.gtid));
	if (!binlog_cur_u8(&c, &flags) || !binlog_cur_bytes(&c, 16, &sid) ||
	    !binlog_cur_le64(&c, &gno))
		return BAD(BINLOG_E_TRUNCATED, "needs 25 bytes, has %zu", binlog_cur_left(&c));
	ev->u.gtid.flags = flags;
	if (ev->type == BINLOG_GTID_LOG_EVENT) {
		if (gno < 1 || gno >= ((uint64_t)1 << 63))
			return BAD(BINLOG_E_BAD_EVENT, "transaction number %llu out of range",
				   (unsigned long long)gno);
		ev->u.gtid.gtid.kind = BINLOG_GTID_MYSQL;
		memcpy(ev->u.gtid.gtid.uuid, sid, 16);
		ev->u.gtid.gtid.gno = gno;
	}
	if (binlog_cur_left(&c) && c.p[0] == 2) {
		binlog_cur_skip(&c, 1);
		if (!binlog_cur_le64(&c, &ev->u.gtid.last_committed) ||
		    !binlog_cur_le64(&c, &ev->u.gtid.sequence_number))
			return BAD(BINLOG_E_TRUNCATED, "logical clock truncated");
		if (binlog_cur_left(&c) >= 7) {
			binlog_cur_le(&c, 7, &v);
			ev->u.gtid.commit_us = v & ~((uint64_t)1 << 55);
			if ((v >> 55) & 1 && !binlog_cur_skip(&c, 7))
				return BAD(BINLOG_E_TRUNCATED,
					   "original commit timestamp truncated");
		}
		if (binlog_cur_left(&c) && !binlog_cur_packed(&c, &ev->u.gtid.trx_length))
			return BAD(BINLOG_E_TRUNCATED, "transaction length truncated");
		/* Server versions and the commit ticket follow; nothing
		 * downstream needs them. */
	}
	return BINLOG_OK;
}

/* MySQL 8.3+ GTID_TAGGED_LOG_EVENT, in the serialization library's format:
 *   version 1 (=2) | payload_size varlen | last_non_ignorable_field varlen
 *   | { field_id varlen | value } ...
 * Fields: 0 flags, 1 sid (16 varlen bytes), 2 gno (zigzag varlen), 3 tag
 * (varlen length + text), 4 last_committed, 5 sequence_number (zigzag),
 * 6 immediate_commit_ts, 7 original_commit_ts, 8 transaction_length,
 * 9 immediate_server_version, 10 original_server_version,
 * 11 commit_group_ticket (varlen). Unknown fields above the last
 * non-ignorable one end the parse (their size is unknowable); unknown
 * non-ignorable fields are an error. */
static binlog_errcode_t parse_gtid_tagged(binlog_decoder_t *d, binlog_cur_t c, binlog_event_t *ev,
					  binlog_err_t *err)
{
	uint8_t ver;
	uint64_t psize, lnif, fid, v;
	const uint8_t *start = c.p;
	binlog_gtid_t *g = &ev->u.gtid.gtid;
	int have_tag = 0, have_gno = 0;

	memset(&ev->u.gtid, 0, sizeof(ev->u.gtid));
	if (!binlog_cur_u8(&c, &ver))
		return BAD(BINLOG_E_TRUNCATED, "empty body");
	if (ver != 2)
		return BAD(BINLOG_E_UNSUPPORTED, "serialization format version %u", ver);
	if (!binlog_cur_varlen(&c, &psize) || !binlog_cur_varlen(&c, &lnif))
		return BAD(BINLOG_E_TRUNCATED, "header truncated");
	if (psize < (uint64_t)(c.p - start) ||
	    psize - (uint64_t)(c.p - start) > binlog_cur_left(&c))
		return BAD(BINLOG_E_BAD_EVENT, "payload size %llu does not fit the %zu-byte body",
			   (unsigned long long)psize, (size_t)(c.end - start));
	c.end = start + psize;
	g->kind = BINLOG_GTID_MYSQL;
	while (binlog_cur_left(&c)) {
		if (!binlog_cur_varlen(&c, &fid))
			goto trunc;
		switch (fid) {
		case 0:
			if (!binlog_cur_varlen(&c, &v))
				goto trunc;
			ev->u.gtid.flags = (uint8_t)v;
			break;
		case 1:
			for (int i = 0; i < 16; i++) {
				if (!binlog_cur_varlen(&c, &v) || v > 255)
					return BAD(BINLOG_E_BAD_EVENT, "bad source UUID byte %d",
						   i);
				g->uuid[i] = (uint8_t)v;
			}
			break;
		case 2:
		case 4:
		case 5:
			if (!binlog_cur_varlen(&c, &v))
				goto trunc;
			if (v & 1)
				return BAD(BINLOG_E_BAD_EVENT, "negative value in field %llu",
					   (unsigned long long)fid);
			v >>= 1;
			if (fid == 2) {
				g->gno = v;
				have_gno = 1;
			} else if (fid == 4) {
				ev->u.gtid.last_committed = v;
			} else {
				ev->u.gtid.sequence_number = v;
			}
			break;
		case 3: {
			const uint8_t *t;
			if (!binlog_cur_varlen(&c, &v) || v > BINLOG_GTID_TAG_MAX ||
			    !binlog_cur_bytes(&c, (size_t)v, &t))
				return BAD(BINLOG_E_BAD_EVENT, "bad tag");
			for (uint64_t i = 0; i < v; i++) {
				char ch = (char)t[i];
				if (ch >= 'A' && ch <= 'Z')
					ch = (char)(ch - 'A' + 'a');
				if (!((ch >= 'a' && ch <= 'z') || ch == '_' ||
				      (i && ch >= '0' && ch <= '9')))
					return BAD(BINLOG_E_BAD_EVENT, "invalid character in tag");
				g->tag[i] = ch;
			}
			g->tag[v] = 0;
			g->tag_len = (uint8_t)v;
			have_tag = 1;
			break;
		}
		case 6:
			if (!binlog_cur_varlen(&c, &ev->u.gtid.commit_us))
				goto trunc;
			break;
		case 7:
		case 9:
		case 10:
		case 11:
			if (!binlog_cur_varlen(&c, &v))
				goto trunc;
			break;
		case 8:
			if (!binlog_cur_varlen(&c, &ev->u.gtid.trx_length))
				goto trunc;
			break;
		default:
			if (fid <= lnif)
				return BAD(BINLOG_E_UNSUPPORTED, "unknown non-ignorable field %llu",
					   (unsigned long long)fid);
			c.p = c.end; /* ignorable, size unknown: stop here */
		}
	}
	if (!have_tag || !have_gno || g->gno < 1)
		return BAD(BINLOG_E_BAD_EVENT, "tagged GTID without %s",
			   have_tag ? "a valid transaction number" : "a tag");
	return BINLOG_OK;
trunc:
	return BAD(BINLOG_E_TRUNCATED, "field truncated");
}

static binlog_errcode_t parse_maria_gtid(binlog_decoder_t *d, binlog_cur_t c, binlog_event_t *ev,
					 binlog_err_t *err)
{
	uint64_t seq;
	uint32_t domain;
	uint8_t flags;

	memset(&ev->u.gtid, 0, sizeof(ev->u.gtid));
	if (!binlog_cur_le64(&c, &seq) || !binlog_cur_le32(&c, &domain) ||
	    !binlog_cur_u8(&c, &flags))
		return BAD(BINLOG_E_TRUNCATED, "needs 13 bytes, has %zu", binlog_cur_left(&c));
	ev->u.gtid.gtid.kind = BINLOG_GTID_MARIADB;
	ev->u.gtid.gtid.seq = seq;
	ev->u.gtid.gtid.domain = domain;
	ev->u.gtid.gtid.server_id = ev->server_id;
	ev->u.gtid.flags = flags;
	if ((flags & BINLOG_MARIA_FL_GROUP_COMMIT) && binlog_cur_left(&c) >= 8)
		binlog_cur_le64(&c, &ev->u.gtid.commit_id);
	/* The MariaDB GTID event carries no commit time of its own; the
	 * header timestamp is the time the transaction was written. */
	ev->u.gtid.commit_us = (uint64_t)ev->timestamp * 1000000;
	return BINLOG_OK;
}

static binlog_errcode_t parse_rows(binlog_decoder_t *d, binlog_cur_t c, binlog_event_t *ev,
				   binlog_err_t *err)
{
	unsigned ph = d->ph_len[ev->type];
	int v2 = 0, compressed = 0;
	uint64_t id = 0, ncols = 0;
	uint16_t flags = 0;
	binlog_rows_t *r = &ev->u.rows;
	size_t bm;
	const uint8_t *b0 = NULL, *b1 = NULL;

	memset(r, 0, sizeof(*r));
	switch (ev->type) {
	case BINLOG_WRITE_ROWS_EVENT_V1:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED_EVENT_V1:
		r->kind = BINLOG_ROWS_WRITE;
		break;
	case BINLOG_UPDATE_ROWS_EVENT_V1:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_EVENT_V1:
		r->kind = BINLOG_ROWS_UPDATE;
		break;
	case BINLOG_DELETE_ROWS_EVENT_V1:
	case BINLOG_MARIA_DELETE_ROWS_COMPRESSED_EVENT_V1:
		r->kind = BINLOG_ROWS_DELETE;
		break;
	case BINLOG_WRITE_ROWS_EVENT:
	case BINLOG_MARIA_WRITE_ROWS_COMPRESSED_EVENT:
		r->kind = BINLOG_ROWS_WRITE;
		v2 = 1;
		break;
	case BINLOG_UPDATE_ROWS_EVENT:
	case BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_EVENT:
		r->kind = BINLOG_ROWS_UPDATE;
		v2 = 1;
		break;
	case BINLOG_DELETE_ROWS_EVENT:
	case BINLOG_MARIA_DELETE_ROWS_COMPRESSED_EVENT:
		r->kind = BINLOG_ROWS_DELETE;
		v2 = 1;
		break;
	case BINLOG_PARTIAL_UPDATE_ROWS_EVENT:
		r->kind = BINLOG_ROWS_PARTIAL_UPDATE;
		v2 = 1;
		break;
	}
	compressed = ev->type >= BINLOG_MARIA_WRITE_ROWS_COMPRESSED_EVENT_V1 &&
		     ev->type <= BINLOG_MARIA_DELETE_ROWS_COMPRESSED_EVENT;
	r->version = (uint8_t)(v2 ? 2 : 1);
	if (!binlog_cur_le(&c, ph == 6 ? 4 : 6, &id) || !binlog_cur_le16(&c, &flags))
		return BAD(BINLOG_E_TRUNCATED, "post-header truncated");
	r->flags = flags;
	if (v2) {
		uint16_t xlen;
		if (!binlog_cur_le16(&c, &xlen) || xlen < 2 || !binlog_cur_skip(&c, xlen - 2u))
			return BAD(BINLOG_E_BAD_EVENT,
				   "extra row data length is invalid or truncated");
	}
	r->table = table_get(d, id);
	if (!r->table) {
		if (id == 0x00ffffff && (flags & BINLOG_ROWS_STMT_END_F)) {
			/* A dummy "end of statement" event with no rows. */
			ev->ignored = 1;
			return BINLOG_OK;
		}
		return BAD(BINLOG_E_NO_TABLE_MAP,
			   "table id %llu has no TABLE_MAP before it (a stream that starts "
			   "inside a transaction?)",
			   (unsigned long long)id);
	}
	if (!binlog_cur_packed(&c, &ncols) || ncols == 0 || ncols > r->table->ncols)
		return BAD(BINLOG_E_BAD_EVENT,
			   "table %.*s.%.*s: %llu columns, its TABLE_MAP has %u",
			   (int)r->table->db.len, r->table->db.p, (int)r->table->name.len,
			   r->table->name.p, (unsigned long long)ncols, r->table->ncols);
	r->ncols = (uint32_t)ncols;
	bm = (size_t)(ncols + 7) / 8;
	if ((r->kind != BINLOG_ROWS_WRITE && !binlog_cur_bytes(&c, bm, &b0)) ||
	    (r->kind != BINLOG_ROWS_DELETE && !binlog_cur_bytes(&c, bm, &b1)))
		return BAD(BINLOG_E_TRUNCATED, "column bitmaps truncated");
	r->present[0] = b0;
	r->present[1] = b1;
	for (int k = 0; k < 2; k++) {
		const uint8_t *m = r->present[k];
		uint32_t cnt = 0;
		if (!m)
			continue;
		for (uint32_t i = 0; i < r->ncols; i++)
			cnt += (m[i >> 3] >> (i & 7)) & 1;
		/* Servers always log at least one column per image. An empty
		 * image would also be zero bytes long, and a row loop over
		 * zero-byte rows would never end. */
		if (cnt == 0)
			return BAD(BINLOG_E_BAD_EVENT,
				   "table %.*s.%.*s: the %s image lists no columns",
				   (int)r->table->db.len, r->table->db.p, (int)r->table->name.len,
				   r->table->name.p, k ? "after" : "before");
		r->npresent[k] = cnt;
	}
	if (compressed) {
		binlog_errcode_t rc;
		binlog_buf_reset(&d->unz);
		rc = binlog__maria_inflate(c.p, binlog_cur_left(&c), d->o.max_inflated_size,
					   &d->unz, err);
		if (rc != BINLOG_OK) {
			char m[BINLOG_ERR_MSG_MAX];
			snprintf(m, sizeof(m), "%s", err ? err->msg : "");
			return BAD(rc, "row data: %s", m);
		}
		r->data = binlog_cur_make(d->unz.data, d->unz.len);
		r->data_pos = ev->offset;
		r->compressed = 1;
	} else if (d->where.inner) {
		/* Inside a TRANSACTION_PAYLOAD: no file offset exists. */
		r->data = c;
		r->data_pos = ev->offset;
		r->compressed = 1;
	} else {
		r->data = c;
		r->data_pos = ev->offset + (uint64_t)(c.p - d->cur);
	}
	r->data_start = r->data.p;
	r->where = &d->where;
	r->scratch = &d->scratch;
	r->max_inflated = d->o.max_inflated_size;
	d->stats.rows_events++;
	return BINLOG_OK;
}

static binlog_errcode_t parse_table_map(binlog_decoder_t *d, binlog_cur_t c, binlog_event_t *ev,
					binlog_err_t *err)
{
	unsigned id_len = d->ph_len[BINLOG_TABLE_MAP_EVENT] == 6 ? 4 : 6;
	uint64_t id;
	binlog_table_t *old, *t;
	binlog_errcode_t rc;

	if (binlog_cur_left(&c) < id_len)
		return BAD(BINLOG_E_TRUNCATED, "post-header truncated");
	id = binlog_le(c.p, id_len);
	old = table_get(d, id);
	if (old) {
		size_t rn;
		const uint8_t *raw = binlog__table_raw(old, &rn);
		if (rn == binlog_cur_left(&c) && memcmp(raw, c.p, rn) == 0) {
			ev->u.table_map = old;
			return BINLOG_OK;
		}
	}
	rc = binlog__table_parse(c.p, binlog_cur_left(&c), id_len, d->flavor, &t, err);
	if (rc != BINLOG_OK) {
		char m[BINLOG_ERR_MSG_MAX];
		snprintf(m, sizeof(m), "%s", err ? err->msg : "");
		return BAD(rc, "%s", m);
	}
	t->version = ++d->table_versions;
	if (table_put(d, t)) {
		binlog__table_free(t);
		return BAD(BINLOG_E_NOMEM, "no memory for the table map");
	}
	d->stats.table_maps_parsed++;
	ev->u.table_map = t;
	return BINLOG_OK;
}

static binlog_errcode_t parse_payload(binlog_decoder_t *d, binlog_cur_t c, binlog_err_t *err)
{
	uint64_t ftype, flen, v, comp = 0, usize = 0, psize = 0;
	int have_comp = 0;
	binlog_errcode_t rc;

	/* Header fields: type (packed), length (packed), value (a packed
	 * integer in `length` bytes), until type 0. 1 payload size,
	 * 2 compression type (0 zstd, 255 none), 3 uncompressed size. */
	for (;;) {
		binlog_cur_t fv;
		if (!binlog_cur_packed(&c, &ftype))
			return BAD(BINLOG_E_TRUNCATED, "header fields truncated");
		if (ftype == 0)
			break;
		if (!binlog_cur_packed(&c, &flen) || !binlog_cur_take(&c, (size_t)flen, &fv) ||
		    !binlog_cur_packed(&fv, &v))
			return BAD(BINLOG_E_TRUNCATED, "header field %llu truncated",
				   (unsigned long long)ftype);
		if (ftype == 1)
			psize = v;
		else if (ftype == 2) {
			comp = v;
			have_comp = 1;
		} else if (ftype == 3)
			usize = v;
	}
	if (!have_comp)
		return BAD(BINLOG_E_BAD_EVENT, "no compression type field");
	if (psize && psize != binlog_cur_left(&c))
		return BAD(BINLOG_E_BAD_EVENT, "payload size field says %llu, %zu bytes follow",
			   (unsigned long long)psize, binlog_cur_left(&c));
	binlog_buf_reset(&d->payload);
	if (comp == 0) {
		if (usize > d->o.max_inflated_size)
			return BAD(BINLOG_E_LIMIT, "payload inflates to %llu bytes, limit %zu",
				   (unsigned long long)usize, d->o.max_inflated_size);
		rc = binlog__zstd_inflate(c.p, binlog_cur_left(&c), (size_t)usize,
					  d->o.max_inflated_size, &d->payload, err);
		if (rc != BINLOG_OK) {
			char m[BINLOG_ERR_MSG_MAX];
			snprintf(m, sizeof(m), "%s", err ? err->msg : "");
			return BAD(rc, "%s", m);
		}
	} else if (comp == 255) {
		binlog_buf_put(&d->payload, c.p, binlog_cur_left(&c));
		if (d->payload.failed)
			return BAD(BINLOG_E_NOMEM, "no memory for the payload");
	} else {
		return BAD(BINLOG_E_UNSUPPORTED, "compression type %llu", (unsigned long long)comp);
	}
	d->inner = binlog_cur_make(d->payload.data, d->payload.len);
	d->inner_idx = 0;
	d->in_payload = 1;
	return BINLOG_OK;
}

/* Decode one event (whole, checksum excluded by `crc`) into *ev. */
static binlog_errcode_t decode(binlog_decoder_t *d, const uint8_t *buf, size_t len, int crc,
			       uint64_t offset, binlog_event_t *ev, binlog_err_t *err)
{
	binlog_cur_t c;
	uint8_t type = buf[4];

	/* All of it: a field a short event does not set must read as empty,
	 * never as what the previous event left in the union. */
	memset(ev, 0, sizeof(*ev));
	ev->timestamp = binlog_le32(buf);
	ev->type = type;
	ev->server_id = binlog_le32(buf + 5);
	ev->size = binlog_le32(buf + 9);
	ev->log_pos = binlog_le32(buf + 13);
	ev->flags = binlog_le16(buf + 17);
	ev->offset = offset;
	d->where.type = type;
	d->cur = buf;
	c = binlog_cur_make(buf + BINLOG_HEADER_LEN, len - BINLOG_HEADER_LEN - (crc ? 4 : 0));

	if (!d->have_fde && type != BINLOG_FORMAT_DESCRIPTION_EVENT &&
	    type != BINLOG_ROTATE_EVENT && type != BINLOG_HEARTBEAT_LOG_EVENT &&
	    type != BINLOG_HEARTBEAT_LOG_EVENT_V2) {
		if (type == BINLOG_START_EVENT_V3)
			return BAD(BINLOG_E_UNSUPPORTED,
				   "binlog format version 1 or 3 (MySQL before 5.0)");
		return BAD(BINLOG_E_NO_FORMAT, "no FORMAT_DESCRIPTION_EVENT before this event");
	}

	/* At a transaction start, a table map grown past its bound is
	 * emptied: every transaction maps the tables it uses again. */
	if (d->ntables > TABLE_CACHE_MAX &&
	    (type == BINLOG_GTID_LOG_EVENT || type == BINLOG_ANONYMOUS_GTID_LOG_EVENT ||
	     type == BINLOG_GTID_TAGGED_LOG_EVENT || type == BINLOG_MARIA_GTID_EVENT))
		tables_clear(d);

	if (binlog_event_is_rows(type))
		return parse_rows(d, c, ev, err);
	switch (type) {
	case BINLOG_FORMAT_DESCRIPTION_EVENT:
		return fde_parse(d, buf, len, err);
	case BINLOG_QUERY_EVENT:
		return parse_query(d, c, ev, 0, err);
	case BINLOG_MARIA_QUERY_COMPRESSED_EVENT:
		return parse_query(d, c, ev, 1, err);
	case BINLOG_XID_EVENT:
		if (!binlog_cur_le64(&c, &ev->u.xid.xid))
			return BAD(BINLOG_E_TRUNCATED, "needs 8 bytes");
		return BINLOG_OK;
	case BINLOG_ROTATE_EVENT: {
		unsigned ph = d->have_fde ? d->ph_len[type] : 8;
		if (ph >= 8 && !binlog_cur_le64(&c, &ev->u.rotate.position))
			return BAD(BINLOG_E_TRUNCATED, "needs 8 bytes");
		if (ph > 8 && !binlog_cur_skip(&c, ph - 8))
			return BAD(BINLOG_E_TRUNCATED, "post-header truncated");
		if (binlog_cur_left(&c) > 512)
			return BAD(BINLOG_E_BAD_EVENT, "file name of %zu bytes",
				   binlog_cur_left(&c));
		ev->u.rotate.name.p = (const char *)c.p;
		ev->u.rotate.name.len = (uint32_t)binlog_cur_left(&c);
		/* Some servers pad the name with NULs. */
		while (ev->u.rotate.name.len && ev->u.rotate.name.p[ev->u.rotate.name.len - 1] == 0)
			ev->u.rotate.name.len--;
		return BINLOG_OK;
	}
	case BINLOG_TABLE_MAP_EVENT:
		return parse_table_map(d, c, ev, err);
	case BINLOG_PRE_GA_WRITE_ROWS_EVENT:
	case BINLOG_PRE_GA_UPDATE_ROWS_EVENT:
	case BINLOG_PRE_GA_DELETE_ROWS_EVENT:
		return BAD(BINLOG_E_UNSUPPORTED, "pre-GA rows event (MySQL 5.1.0 to 5.1.15)");
	case BINLOG_GTID_LOG_EVENT:
	case BINLOG_ANONYMOUS_GTID_LOG_EVENT:
		return parse_gtid(d, c, ev, err);
	case BINLOG_GTID_TAGGED_LOG_EVENT:
		return parse_gtid_tagged(d, c, ev, err);
	case BINLOG_PREVIOUS_GTIDS_LOG_EVENT:
		ev->u.prev_gtids.p = c.p;
		ev->u.prev_gtids.n = binlog_cur_left(&c);
		return BINLOG_OK;
	case BINLOG_MARIA_GTID_EVENT:
		return parse_maria_gtid(d, c, ev, err);
	case BINLOG_MARIA_GTID_LIST_EVENT: {
		uint32_t cnt;
		if (!binlog_cur_le32(&c, &cnt))
			return BAD(BINLOG_E_TRUNCATED, "needs 4 bytes");
		cnt &= 0x0fffffff; /* the top 4 bits are flags */
		if ((uint64_t)cnt * 16 > binlog_cur_left(&c))
			return BAD(BINLOG_E_BAD_EVENT, "%u entries cannot fit in %zu bytes", cnt,
				   binlog_cur_left(&c));
		ev->u.gtid_list.count = cnt;
		ev->u.gtid_list.p = c.p;
		return BINLOG_OK;
	}
	case BINLOG_MARIA_BINLOG_CHECKPOINT_EVENT: {
		uint32_t n;
		const uint8_t *p;
		if (!binlog_cur_le32(&c, &n) || !binlog_cur_bytes(&c, n, &p))
			return BAD(BINLOG_E_TRUNCATED, "file name truncated");
		ev->u.checkpoint.file.p = (const char *)p;
		ev->u.checkpoint.file.len = n;
		return BINLOG_OK;
	}
	case BINLOG_MARIA_ANNOTATE_ROWS_EVENT:
		ev->u.annotate.text.p = (const char *)c.p;
		ev->u.annotate.text.len = (uint32_t)binlog_cur_left(&c);
		return BINLOG_OK;
	case BINLOG_ROWS_QUERY_LOG_EVENT:
		/* A 1-byte length that truncates at 255: the text is the rest. */
		if (!binlog_cur_skip(&c, 1))
			return BAD(BINLOG_E_TRUNCATED, "empty body");
		ev->u.annotate.text.p = (const char *)c.p;
		ev->u.annotate.text.len = (uint32_t)binlog_cur_left(&c);
		return BINLOG_OK;
	case BINLOG_INCIDENT_EVENT: {
		uint8_t ml;
		const uint8_t *m = NULL;
		if (!binlog_cur_le16(&c, &ev->u.incident.number))
			return BAD(BINLOG_E_TRUNCATED, "needs 2 bytes");
		if (binlog_cur_u8(&c, &ml) && binlog_cur_bytes(&c, ml, &m)) {
			ev->u.incident.message.p = (const char *)m;
			ev->u.incident.message.len = ml;
		}
		return BINLOG_OK;
	}
	case BINLOG_XA_PREPARE_LOG_EVENT:
		if (!binlog_cur_u8(&c, &ev->u.xa.one_phase))
			return BAD(BINLOG_E_TRUNCATED, "empty body");
		return BINLOG_OK;
	case BINLOG_TRANSACTION_PAYLOAD_EVENT:
		if (d->where.inner)
			return BAD(BINLOG_E_BAD_EVENT, "TRANSACTION_PAYLOAD inside a payload");
		return parse_payload(d, c, err);
	case BINLOG_MARIA_START_ENCRYPTION_EVENT:
		return BAD(BINLOG_E_UNSUPPORTED,
			   "encrypted binlog file: it can only be read through the server "
			   "(live capture), which decrypts it");
	case BINLOG_START_EVENT_V3:
		return BAD(BINLOG_E_UNSUPPORTED, "binlog format version 1 or 3 (MySQL before 5.0)");
	case BINLOG_STOP_EVENT:
	case BINLOG_HEARTBEAT_LOG_EVENT:
	case BINLOG_HEARTBEAT_LOG_EVENT_V2:
	case BINLOG_INTVAR_EVENT:
	case BINLOG_RAND_EVENT:
	case BINLOG_USER_VAR_EVENT:
	case BINLOG_LOAD_EVENT:
	case BINLOG_SLAVE_EVENT:
	case BINLOG_CREATE_FILE_EVENT:
	case BINLOG_APPEND_BLOCK_EVENT:
	case BINLOG_EXEC_LOAD_EVENT:
	case BINLOG_DELETE_FILE_EVENT:
	case BINLOG_NEW_LOAD_EVENT:
	case BINLOG_BEGIN_LOAD_QUERY_EVENT:
	case BINLOG_EXECUTE_LOAD_QUERY_EVENT:
	case BINLOG_IGNORABLE_LOG_EVENT:
	case BINLOG_TRANSACTION_CONTEXT_EVENT:
	case BINLOG_VIEW_CHANGE_EVENT:
		/* Known, and carrying nothing a row-based capture needs. */
		return BINLOG_OK;
	default:
		if (ev->flags & BINLOG_LOG_EVENT_IGNORABLE_F) {
			ev->ignored = 1;
			d->stats.ignored++;
			return BINLOG_OK;
		}
		return BAD(BINLOG_E_UNKNOWN_EVENT,
			   "event type %u is unknown to this decoder and not flagged ignorable",
			   type);
	}
}

int binlog_decoder_next(binlog_decoder_t *d, binlog_event_t *ev, binlog_err_t *err)
{
	binlog_errcode_t rc;

	if (d->in_payload) {
		const uint8_t *p;
		uint32_t sz;
		uint64_t inner_off;

		if (!binlog_cur_left(&d->inner)) {
			d->in_payload = 0;
			return 0;
		}
		inner_off = (uint64_t)(d->inner.p - d->payload.data);
		d->where.inner = ++d->inner_idx;
		d->where.inner_offset = (uint32_t)inner_off;
		d->where.type = binlog_cur_left(&d->inner) > 4 ? d->inner.p[4] : 0;
		if (binlog_cur_left(&d->inner) < BINLOG_HEADER_LEN) {
			binlog__err_where(
				err, &d->where, BINLOG_E_TRUNCATED,
				"%zu bytes left in the payload, less than an event header",
				binlog_cur_left(&d->inner));
			return -1;
		}
		sz = binlog_le32(d->inner.p + 9);
		if (sz < BINLOG_HEADER_LEN || sz > binlog_cur_left(&d->inner)) {
			binlog__err_where(err, &d->where, BINLOG_E_BAD_EVENT,
					  "inner event size %u, %zu bytes left in the payload", sz,
					  binlog_cur_left(&d->inner));
			return -1;
		}
		binlog_cur_bytes(&d->inner, sz, &p);
		d->stats.events++;
		/* Inner events carry no checksum of their own. */
		rc = decode(d, p, sz, 0, d->ev_off, ev, err);
		if (rc != BINLOG_OK)
			return -1;
		ev->where = d->where;
		return 1;
	}
	if (!d->pending)
		return 0;
	d->pending = 0;
	rc = decode(d, d->ev, d->ev_len, d->ev_crc, d->ev_off, ev, err);
	if (rc != BINLOG_OK)
		return -1;
	/* A TRANSACTION_PAYLOAD is delivered itself; the events it holds
	 * follow on the next calls. */
	ev->where = d->where;
	return 1;
}

void binlog_gtid_list_get(const binlog_event_t *ev, uint32_t i, binlog_gtid_t *out)
{
	const uint8_t *p = ev->u.gtid_list.p + (size_t)i * 16;

	memset(out, 0, sizeof(*out));
	out->kind = BINLOG_GTID_MARIADB;
	out->domain = binlog_le32(p);
	out->server_id = binlog_le32(p + 4);
	out->seq = binlog_le64(p + 8);
}
