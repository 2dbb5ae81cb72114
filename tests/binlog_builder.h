/*
 * binlog_builder.h: writes small binlogs in tests, for cases no real
 * fixture holds (a PARTIAL_UPDATE with a full before image, a table with
 * every optional metadata field, hostile lengths).
 *
 * The format description is a MySQL 8.4 one (its post-header lengths are
 * copied from a real 8.4.8 server's); events get a correct log_pos and, when
 * asked, a CRC32.
 */
#ifndef SLUICE_BINLOG_BUILDER_H
#define SLUICE_BINLOG_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "binlog_buf.h"
#include "binlog_types.h"

typedef struct bb {
	binlog_buf_t b;
	int crc;
	uint32_t server_id;
	uint32_t ts;
} bb_t;

static const uint8_t bb_mysql84_post_header[42] = {
	0, 13, 0, 8, 0, 0, 0, 0, 4,  0,  4,  0,  0,  0, 99, 0,  4, 26, 8,  0, 0,
	0, 0,  0, 0, 2, 0, 0, 0, 10, 10, 10, 42, 42, 0, 18, 52, 0, 10, 40, 0, 0};

static inline void bb_le(binlog_buf_t *b, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		binlog_buf_putc(b, (uint8_t)(v >> (8 * i)));
}

static inline void bb_packed(binlog_buf_t *b, uint64_t v)
{
	if (v < 251) {
		binlog_buf_putc(b, (uint8_t)v);
	} else if (v < 65536) {
		binlog_buf_putc(b, 0xfc);
		bb_le(b, v, 2);
	} else if (v < 16777216) {
		binlog_buf_putc(b, 0xfd);
		bb_le(b, v, 3);
	} else {
		binlog_buf_putc(b, 0xfe);
		bb_le(b, v, 8);
	}
}

/* Append an event with header flags and this body; fills in size,
 * log_pos and the CRC. */
static inline void bb_event_flags(bb_t *w, uint8_t type, uint16_t flags, const void *body, size_t n)
{
	size_t start = w->b.len;
	uint32_t size = (uint32_t)(19 + n + (w->crc ? 4 : 0));

	bb_le(&w->b, w->ts, 4);
	binlog_buf_putc(&w->b, type);
	bb_le(&w->b, w->server_id, 4);
	bb_le(&w->b, size, 4);
	bb_le(&w->b, start + size, 4);
	bb_le(&w->b, flags, 2);
	binlog_buf_put(&w->b, body, n);
	if (w->crc) {
		uLong c = crc32(0, w->b.data + start, (uInt)(w->b.len - start));
		bb_le(&w->b, c, 4);
	}
}

static inline void bb_event(bb_t *w, uint8_t type, const void *body, size_t n)
{
	bb_event_flags(w, type, 0, body, n);
}

/* Start a binlog: magic and a FORMAT_DESCRIPTION of this server version
 * and post-header table. The FDE always carries its own CRC once it has
 * the algorithm byte; `crc` says whether the events after it do. */
static inline void bb_init_fde(bb_t *w, const char *version, const uint8_t *post_header,
			       size_t ntypes, int crc)
{
	binlog_buf_t body;
	char ver[50] = {0};

	memcpy(ver, version, strlen(version));
	binlog_buf_init(&w->b, 0);
	w->crc = 1;
	w->server_id = 1;
	w->ts = 1718454896;
	binlog_buf_put(&w->b, "\xfe\x62\x69\x6e", 4); /* \xfe "bin" */
	binlog_buf_init(&body, 0);
	bb_le(&body, 4, 2);
	binlog_buf_put(&body, ver, 50);
	bb_le(&body, w->ts, 4);
	binlog_buf_putc(&body, 19);
	binlog_buf_put(&body, post_header, ntypes);
	binlog_buf_putc(&body, crc ? 1 : 0);
	bb_event(w, BINLOG_FORMAT_DESCRIPTION_EVENT, body.data, body.len);
	w->crc = crc;
	binlog_buf_free(&body);
}

/* A MySQL 8.4 binlog. */
static inline void bb_init(bb_t *w, int crc)
{
	bb_init_fde(w, "8.4.8", bb_mysql84_post_header, sizeof(bb_mysql84_post_header), crc);
}

/* MariaDB 10.5's post-header lengths (copied from a real 10.5.15 server's
 * FORMAT_DESCRIPTION): types 1..171. */
static const uint8_t bb_maria105_post_header[171] = {56,
						     13,
						     0,
						     8,
						     0,
						     18,
						     0,
						     4,
						     4,
						     4,
						     4,
						     18,
						     0,
						     0,
						     228,
						     0,
						     4,
						     26,
						     8,
						     0,
						     0,
						     0,
						     8,
						     8,
						     8,
						     2,
						     0,
						     0,
						     0,
						     10,
						     10,
						     10,
						     [160 - 1] = 4,
						     [161 - 1] = 19,
						     [162 - 1] = 4,
						     [163 - 1] = 0,
						     [164 - 1] = 13,
						     [165 - 1] = 8,
						     [166 - 1] = 8,
						     [167 - 1] = 8,
						     [168 - 1] = 10,
						     [169 - 1] = 10,
						     [170 - 1] = 10};

/* A MariaDB 10.5 binlog (CRC32). */
static inline void bb_init_mariadb(bb_t *w)
{
	bb_init_fde(w, "10.5.15-MariaDB-log", bb_maria105_post_header,
		    sizeof(bb_maria105_post_header), 1);
}

/* MariaDB GTID event: seq_no, domain, flags (standalone or not). */
static inline void bb_maria_gtid(bb_t *w, uint32_t domain, uint64_t seq, uint8_t flags)
{
	binlog_buf_t b;

	binlog_buf_init(&b, 0);
	bb_le(&b, seq, 8);
	bb_le(&b, domain, 4);
	binlog_buf_putc(&b, flags);
	bb_le(&b, 0, 6);
	bb_event(w, BINLOG_MARIA_GTID_EVENT, b.data, b.len);
	binlog_buf_free(&b);
}

/* MariaDB's compressed form: 0x80|L, L bytes of length (BE), zlib. */
static inline void bb_maria_compress(binlog_buf_t *out, const uint8_t *p, size_t n)
{
	uLongf zlen = compressBound((uLong)n);
	uint8_t *z = malloc(zlen);

	compress(z, &zlen, p, (uLong)n);
	binlog_buf_putc(out, 0x80 | 4);
	for (int i = 3; i >= 0; i--)
		binlog_buf_putc(out, (uint8_t)(n >> (8 * i)));
	binlog_buf_put(out, z, zlen);
	free(z);
}

/* An ANONYMOUS_GTID (gno 0) or GTID event with a commit timestamp. */
static inline void bb_gtid(bb_t *w, const uint8_t *uuid, uint64_t gno, uint64_t commit_us)
{
	binlog_buf_t b;
	static const uint8_t zero[16];

	binlog_buf_init(&b, 0);
	binlog_buf_putc(&b, 0);
	binlog_buf_put(&b, uuid ? uuid : zero, 16);
	bb_le(&b, gno, 8);
	binlog_buf_putc(&b, 2);
	bb_le(&b, 0, 8);
	bb_le(&b, 1, 8);
	bb_le(&b, commit_us, 7);
	bb_packed(&b, 100);
	bb_event(w, uuid ? BINLOG_GTID_LOG_EVENT : BINLOG_ANONYMOUS_GTID_LOG_EVENT, b.data, b.len);
	binlog_buf_free(&b);
}

static inline void bb_query(bb_t *w, const char *db, const char *sql)
{
	binlog_buf_t b;
	size_t dl = strlen(db);

	binlog_buf_init(&b, 0);
	bb_le(&b, 1, 4); /* thread id */
	bb_le(&b, 0, 4); /* exec time */
	binlog_buf_putc(&b, (uint8_t)dl);
	bb_le(&b, 0, 2); /* error code */
	bb_le(&b, 0, 2); /* status vars length */
	binlog_buf_put(&b, db, dl);
	binlog_buf_putc(&b, 0);
	binlog_buf_puts(&b, sql);
	bb_event(w, BINLOG_QUERY_EVENT, b.data, b.len);
	binlog_buf_free(&b);
}

static inline void bb_xid(bb_t *w, uint64_t xid)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(xid >> (8 * i));
	bb_event(w, BINLOG_XID_EVENT, b, 8);
}

/*
 * TABLE_MAP: `types` and `meta` (already encoded per column, as the server
 * writes them), every column nullable, then optional metadata bytes
 * (TLVs, may be NULL).
 */
static inline void bb_table_map(bb_t *w, uint64_t id, const char *db, const char *table,
				unsigned ncols, const uint8_t *types, const uint8_t *meta,
				size_t meta_len, const uint8_t *opt, size_t opt_len)
{
	binlog_buf_t b;

	binlog_buf_init(&b, 0);
	bb_le(&b, id, 6);
	bb_le(&b, 1, 2);
	binlog_buf_putc(&b, (uint8_t)strlen(db));
	binlog_buf_puts(&b, db);
	binlog_buf_putc(&b, 0);
	binlog_buf_putc(&b, (uint8_t)strlen(table));
	binlog_buf_puts(&b, table);
	binlog_buf_putc(&b, 0);
	bb_packed(&b, ncols);
	binlog_buf_put(&b, types, ncols);
	bb_packed(&b, meta_len);
	binlog_buf_put(&b, meta, meta_len);
	for (unsigned i = 0; i < (ncols + 7) / 8; i++)
		binlog_buf_putc(&b, 0xff);
	if (opt)
		binlog_buf_put(&b, opt, opt_len);
	bb_event(w, BINLOG_TABLE_MAP_EVENT, b.data, b.len);
	binlog_buf_free(&b);
}

/* A v2 rows event; `bm1`/`bm2` the column bitmaps it has (bm2 NULL for
 * WRITE/DELETE), `rows` the encoded images. */
static inline void bb_rows(bb_t *w, uint8_t type, uint64_t id, unsigned ncols, const uint8_t *bm1,
			   const uint8_t *bm2, const uint8_t *rows, size_t rows_len)
{
	binlog_buf_t b;
	size_t bml = (ncols + 7) / 8;

	binlog_buf_init(&b, 0);
	bb_le(&b, id, 6);
	bb_le(&b, 1, 2); /* STMT_END_F */
	bb_le(&b, 2, 2); /* no extra row data */
	bb_packed(&b, ncols);
	binlog_buf_put(&b, bm1, bml);
	if (bm2)
		binlog_buf_put(&b, bm2, bml);
	binlog_buf_put(&b, rows, rows_len);
	bb_event(w, type, b.data, b.len);
	binlog_buf_free(&b);
}

static inline void bb_free(bb_t *w)
{
	binlog_buf_free(&w->b);
}

#endif
