/*
 * binlog.h: the binlog decoder. Bytes in, events and column values out.
 *
 * The decoder is pure code: it never reads a file or a socket. The caller
 * frames events (binlog_event_size() on the 19-byte header tells how many
 * bytes make one), feeds each to binlog_decoder_feed(), then drains the
 * logical events with binlog_decoder_next(). One fed event gives one
 * logical event, except TRANSACTION_PAYLOAD, which gives the events it
 * compresses.
 *
 * Rows events are not decoded eagerly: the event carries a binlog_rows_t,
 * and the consumer walks row images column by column with
 * binlog_rows_image() and binlog_image_next(). That lets the changelog
 * writer format each value straight from the event bytes, with no
 * per-row allocation, and lets a filtered-out table cost nothing.
 *
 * Lifetime: everything an event points to (strings, the table, row data)
 * stays valid until the next binlog_decoder_feed() call, except tables,
 * which live until the decoder drops them (see binlog_table_t).
 *
 * Threading: a decoder belongs to one thread at a time.
 */
#ifndef SLUICE_BINLOG_H
#define SLUICE_BINLOG_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_buf.h"
#include "binlog_cursor.h"
#include "binlog_err.h"
#include "binlog_time.h"
#include "binlog_types.h"

/* ------------------------------------------------------------------ */
/* Options                                                             */

typedef struct binlog_opts {
	/* Events larger than this are rejected before any allocation.
	 * Default 1 GiB + 64 KiB: the server's max_allowed_packet ceiling
	 * plus headers. */
	size_t max_event_size;
	/* Ceiling for what a compressed event may inflate to
	 * (TRANSACTION_PAYLOAD, MariaDB compressed events and columns).
	 * Default 1 GiB. */
	size_t max_inflated_size;
	/* Verify CRC32 checksums (default 1). */
	int verify_checksum;
	/* Checksum algorithm of events that arrive before any FORMAT_
	 * DESCRIPTION (the artificial ROTATE of a replication stream):
	 * BINLOG_CHECKSUM_* or BINLOG_CHECKSUM_UNDEF to detect it. */
	int initial_checksum;
} binlog_opts_t;

void binlog_opts_default(binlog_opts_t *o);

/* ------------------------------------------------------------------ */
/* Server flavour and GTIDs                                            */

enum binlog_flavor {
	BINLOG_FLAVOR_UNKNOWN = 0,
	BINLOG_FLAVOR_MYSQL = 1, /* MySQL, Percona, Aurora MySQL */
	BINLOG_FLAVOR_MARIADB = 2,
};

enum binlog_gtid_kind {
	BINLOG_GTID_NONE = 0,    /* anonymous, or no GTID at all */
	BINLOG_GTID_MYSQL = 1,   /* uuid[:tag]:gno */
	BINLOG_GTID_MARIADB = 2, /* domain-server-seq */
};

#define BINLOG_GTID_TAG_MAX 32 /* MySQL limits tags to 32 characters */

/* One transaction identifier. */
typedef struct binlog_gtid {
	uint8_t kind;
	uint8_t tag_len;
	uint8_t uuid[16];
	char tag[BINLOG_GTID_TAG_MAX + 1]; /* NUL-terminated, lower case */
	uint64_t gno;                      /* MySQL: transaction number */
	uint32_t domain;                   /* MariaDB */
	uint32_t server_id;                /* MariaDB */
	uint64_t seq;                      /* MariaDB: sequence number */
} binlog_gtid_t;

/* Text form: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23",
 * "3e11fa47-...:mytag:3" or "0-1-6". Writes at most cap-1 bytes and a NUL;
 * returns the length it needed (like snprintf). Needs at most 96 bytes. */
size_t binlog_gtid_format(const binlog_gtid_t *g, char *out, size_t cap);
#define BINLOG_GTID_TEXT_MAX 96

/* ------------------------------------------------------------------ */
/* Tables (TABLE_MAP)                                                  */

enum binlog_column_flag {
	BINLOG_COL_UNSIGNED = 1 << 0, /* from SIGNEDNESS metadata */
	BINLOG_COL_NULLABLE = 1 << 1,
	BINLOG_COL_PK = 1 << 2,        /* part of the primary key */
	BINLOG_COL_INVISIBLE = 1 << 3, /* from COLUMN_VISIBILITY */
};

typedef struct binlog_str {
	const char *p;
	uint32_t len;
} binlog_str_t;

typedef struct binlog_column {
	uint8_t type;        /* resolved: STRING with an ENUM/SET real type
			      * becomes ENUM/SET; DATE stays DATE */
	uint8_t wire_type;   /* as written in TABLE_MAP */
	uint8_t flags;       /* BINLOG_COL_* */
	uint8_t geom_type;   /* GEOMETRY_TYPE metadata, 0 when absent */
	uint16_t meta;       /* type metadata, decoded (see binlog_table.c) */
	uint16_t length;     /* STRING/ENUM/SET: declared byte length;
			      * NEWDECIMAL: storage bytes */
	uint32_t collation;  /* 0 when the binlog does not say */
	uint32_t vector_dim; /* VECTOR_DIMENSIONALITY, 0 when absent */
	uint16_t pk_prefix;  /* PRIMARY_KEY_WITH_PREFIX length, 0 = whole */
	uint16_t json_index; /* ordinal among JSON columns (partial bits) */
	binlog_str_t name;   /* COLUMN_NAME, len 0 when absent */
	uint32_t nlabels;    /* ENUM/SET strings, 0 when absent */
	const binlog_str_t *labels;
	uint32_t labels_collation; /* charset of the labels, 0 unknown */
} binlog_column_t;

enum binlog_table_has {
	BINLOG_HAS_SIGNEDNESS = 1 << 0,
	BINLOG_HAS_CHARSETS = 1 << 1,
	BINLOG_HAS_NAMES = 1 << 2,
	BINLOG_HAS_LABELS = 1 << 3,
	BINLOG_HAS_PK = 1 << 4,
	BINLOG_HAS_VISIBILITY = 1 << 5,
};

/*
 * A table as its TABLE_MAP describes it. Owned by the decoder and kept in
 * its table-id map; a TABLE_MAP with identical bytes for the same id reuses
 * the existing table (version unchanged), one with different bytes
 * replaces it (version + 1). A consumer may attach derived data with
 * `user`/`user_free`; the decoder calls user_free when it drops the table.
 */
typedef struct binlog_table {
	uint64_t table_id;
	uint64_t version;
	binlog_str_t db;
	binlog_str_t name;
	uint16_t map_flags;
	uint32_t has; /* BINLOG_HAS_* */
	uint32_t ncols;
	binlog_column_t *cols;
	uint32_t npk;
	uint32_t *pk;   /* column indexes, in key order */
	uint32_t njson; /* number of JSON columns */
	void *user;
	void (*user_free)(void *user);
} binlog_table_t;

/* ------------------------------------------------------------------ */
/* Values                                                              */

enum binlog_value_kind {
	BINLOG_V_NULL = 0,
	BINLOG_V_INT,       /* i: TINY..LONGLONG signed */
	BINLOG_V_UINT,      /* u: unsigned integers */
	BINLOG_V_FLOAT,     /* d: FLOAT (float32 widened) */
	BINLOG_V_DOUBLE,    /* d */
	BINLOG_V_DECIMAL,   /* s: the binary decimal; prec, scale */
	BINLOG_V_STRING,    /* s: raw bytes in the column's charset (or
			     * binary); CHAR/VARCHAR/TEXT/BLOB/BINARY */
	BINLOG_V_YEAR,      /* u */
	BINLOG_V_DATE,      /* t */
	BINLOG_V_DATETIME,  /* t, fsp */
	BINLOG_V_TIMESTAMP, /* ts_sec, t.usec, fsp */
	BINLOG_V_TIME,      /* t, fsp */
	BINLOG_V_ENUM,      /* u: 1-based index, 0 for the '' error value */
	BINLOG_V_SET,       /* u: bitmask */
	BINLOG_V_BIT,       /* u: up to 64 bits */
	BINLOG_V_JSON,      /* s: MySQL binary JSON */
	BINLOG_V_JSON_DIFF, /* s: PARTIAL_UPDATE JSON diff list */
	BINLOG_V_GEOMETRY,  /* s: 4-byte SRID (LE) + WKB */
	BINLOG_V_VECTOR,    /* s: float32 LE elements */
};

typedef struct binlog_value {
	uint8_t kind;
	uint8_t fsp;   /* fractional seconds precision, temporal */
	uint8_t prec;  /* DECIMAL */
	uint8_t scale; /* DECIMAL */
	union {
		int64_t i;
		uint64_t u;
		double d;
		int64_t ts_sec;
	};
	const uint8_t *s; /* STRING/DECIMAL/JSON/GEOMETRY/VECTOR bytes */
	size_t n;
	binlog_time_t t;
} binlog_value_t;

/* ------------------------------------------------------------------ */
/* Rows                                                                */

enum binlog_rows_kind {
	BINLOG_ROWS_WRITE = 1,
	BINLOG_ROWS_UPDATE = 2,
	BINLOG_ROWS_DELETE = 3,
	BINLOG_ROWS_PARTIAL_UPDATE = 4, /* MySQL PARTIAL_UPDATE_ROWS_EVENT */
};

/* Where an error happened, for messages. */
typedef struct binlog_where {
	const char *source;    /* file or stream name */
	uint64_t offset;       /* event position in the source */
	uint32_t inner;        /* 0, or index inside a TRANSACTION_PAYLOAD */
	uint32_t inner_offset; /* position inside the uncompressed payload */
	uint8_t type;          /* event type */
} binlog_where_t;

typedef struct binlog_rows {
	binlog_table_t *table;
	uint8_t kind;
	uint8_t version;           /* 1 or 2 */
	uint16_t flags;            /* BINLOG_ROWS_*_F */
	uint32_t ncols;            /* columns in the event (<= table->ncols) */
	const uint8_t *present[2]; /* [0] before, [1] after image bitmaps;
				    * NULL when that image does not exist */
	uint32_t npresent[2];
	binlog_cur_t data; /* row images not yet consumed */
	const uint8_t *data_start;
	uint64_t data_pos; /* source position of data_start; when the
			    * rows are compressed, the event position */
	int compressed;    /* positions are not file offsets */
	const binlog_where_t *where;
	size_t max_inflated;   /* for compressed columns */
	binlog_buf_t *scratch; /* decoder-owned, for inflated columns */
} binlog_rows_t;

enum { BINLOG_IMAGE_BEFORE = 0, BINLOG_IMAGE_AFTER = 1 };

typedef struct binlog_image {
	binlog_rows_t *rows;
	const binlog_table_t *table;
	const uint8_t *present;
	const uint8_t *nulls;
	const uint8_t *partial; /* PARTIAL_UPDATE after image: one bit per
				 * JSON column of the table, or NULL */
	binlog_cur_t cur;
	uint64_t pos; /* source position where the image starts */
	uint32_t col; /* next column index to look at */
	uint32_t k;   /* index of that column among present ones */
	uint8_t which;
} binlog_image_t;

/* 1 when another row change is left in the event. */
static inline int binlog_rows_more(const binlog_rows_t *r)
{
	return r->data.p < r->data.end;
}

/*
 * Start reading the next image of the current row change: for WRITE the
 * after image, for DELETE the before image, for UPDATE the before image
 * and, once that one is consumed, the after image. Returns 0 or an error.
 */
binlog_errcode_t binlog_rows_image(binlog_rows_t *rows, int which, binlog_image_t *img,
				   binlog_err_t *err);

/*
 * Read one value of column `c` from `cur`, the way it is packed in a row
 * image (not NULL; the caller has checked the null bit). `scratch` receives
 * inflated bytes of MariaDB compressed columns (the value then points into
 * it); may be NULL when the table has none.
 *
 * binlog__value_read reads every type; binlog_value_read, inline because
 * it runs for every column of every row, reads the commonest ones (INT,
 * BIGINT, VARCHAR) itself and hands the rest, and every error, to it.
 */
binlog_errcode_t binlog__value_read(const binlog_column_t *c, binlog_cur_t *cur, int partial_json,
				    binlog_buf_t *scratch, size_t max_inflated, binlog_value_t *v,
				    binlog_err_t *err);

static inline binlog_errcode_t binlog_value_read(const binlog_column_t *c, binlog_cur_t *cur,
						 int partial_json, binlog_buf_t *scratch,
						 size_t max_inflated, binlog_value_t *v,
						 binlog_err_t *err)
{
	size_t left = binlog_cur_left(cur);
	uint64_t x, len;

	switch (c->type) {
	case BINLOG_TYPE_LONG:
		if (left < 4)
			break;
		x = binlog_le32(cur->p);
		cur->p += 4;
		if (c->flags & BINLOG_COL_UNSIGNED) {
			v->kind = BINLOG_V_UINT;
			v->u = x;
		} else {
			v->kind = BINLOG_V_INT;
			v->i = (int32_t)(uint32_t)x;
		}
		return BINLOG_OK;
	case BINLOG_TYPE_LONGLONG:
		if (left < 8)
			break;
		x = binlog_le64(cur->p);
		cur->p += 8;
		if (c->flags & BINLOG_COL_UNSIGNED) {
			v->kind = BINLOG_V_UINT;
			v->u = x;
		} else {
			v->kind = BINLOG_V_INT;
			v->i = (int64_t)x;
		}
		return BINLOG_OK;
	case BINLOG_TYPE_VARCHAR:
	case BINLOG_TYPE_VAR_STRING:
		if (c->meta < 256) {
			if (left < 1 || (len = cur->p[0]) > left - 1)
				break;
			v->s = cur->p + 1;
		} else {
			if (left < 2 || (len = binlog_le16(cur->p)) > left - 2)
				break;
			v->s = cur->p + 2;
		}
		v->kind = BINLOG_V_STRING;
		v->n = (size_t)len;
		cur->p = v->s + len;
		return BINLOG_OK;
	default:
		break;
	}
	return binlog__value_read(c, cur, partial_json, scratch, max_inflated, v, err);
}

/* Internal: the error of a value that did not read, with its table,
 * column and image. Returns -1. */
int binlog__image_error(const binlog_image_t *img, uint32_t i, binlog_errcode_t rc,
			binlog_err_t *err) __attribute__((cold));

static inline int binlog__bit(const uint8_t *map, uint32_t i)
{
	return (map[i >> 3] >> (i & 7)) & 1;
}

/*
 * Next column present in the image: sets *col (its index in the table)
 * and *v. Returns 1, 0 when the image is done (the rows cursor then points
 * past it), or -1 with *err filled. Inline: it runs once per column of
 * every row, and is only the bitmap tests around binlog_value_read.
 */
static inline int binlog_image_next(binlog_image_t *img, uint32_t *col, binlog_value_t *v,
				    binlog_err_t *err)
{
	const binlog_rows_t *rows = img->rows;
	uint32_t i = img->col, ncols = rows->ncols, k;
	const binlog_column_t *c;
	binlog_errcode_t rc;
	int partial;

	while (i < ncols && !binlog__bit(img->present, i))
		i++;
	if (i >= ncols) {
		img->col = i;
		img->rows->data.p = img->cur.p;
		return 0;
	}
	img->col = i + 1;
	*col = i;
	k = img->k++;
	if (binlog__bit(img->nulls, k)) {
		v->kind = BINLOG_V_NULL;
		return 1;
	}
	c = &img->table->cols[i];
	partial = img->partial && c->type == BINLOG_TYPE_JSON &&
		  binlog__bit(img->partial, c->json_index);
	rc = binlog_value_read(c, &img->cur, partial, rows->scratch, rows->max_inflated, v, err);
	if (rc != BINLOG_OK)
		return binlog__image_error(img, i, rc, err);
	return 1;
}

/* Consume what is left of an image without looking at the values.
 * Returns 0 or an error code. */
binlog_errcode_t binlog_image_skip(binlog_image_t *img, binlog_err_t *err);

/* ------------------------------------------------------------------ */
/* Events                                                              */

typedef struct binlog_event {
	/* Common header. */
	uint32_t timestamp;
	uint8_t type;
	uint32_t server_id;
	uint32_t size;    /* whole event, header and checksum included */
	uint32_t log_pos; /* end position as the server wrote it; 0 for
			   * MariaDB 11 events inside a transaction and
			   * for events inside a TRANSACTION_PAYLOAD */
	uint16_t flags;
	uint64_t offset; /* where the event starts in the source */
	binlog_where_t where;
	int ignored; /* unknown type flagged LOG_EVENT_IGNORABLE_F */

	union {
		struct {
			binlog_str_t db;
			binlog_str_t sql;
			uint32_t thread_id;
			uint32_t exec_time;
			uint16_t error_code;
		} query;
		struct {
			uint64_t xid;
		} xid;
		struct {
			binlog_gtid_t gtid;
			uint8_t flags;
			uint64_t commit_us; /* immediate commit time, µs
					     * since the epoch; 0 unknown */
			uint64_t last_committed;
			uint64_t sequence_number;
			uint64_t trx_length;
			uint64_t commit_id; /* MariaDB group commit id */
		} gtid;
		struct {
			binlog_str_t name;
			uint64_t position;
		} rotate;
		struct {
			const uint8_t *p; /* encoded set: binlog_gtid_set_decode */
			size_t n;
		} prev_gtids;
		struct {
			uint32_t count;
			const uint8_t *p; /* count * (domain 4, server 4, seq 8) */
		} gtid_list;
		binlog_table_t *table_map;
		binlog_rows_t rows;
		struct {
			binlog_str_t text; /* ROWS_QUERY / ANNOTATE_ROWS */
		} annotate;
		struct {
			uint16_t number;
			binlog_str_t message;
		} incident;
		struct {
			binlog_str_t file; /* MariaDB BINLOG_CHECKPOINT */
		} checkpoint;
		struct {
			uint8_t one_phase; /* XA_PREPARE */
		} xa;
	} u;
} binlog_event_t;

/* MariaDB GTID flags (u.gtid.flags). */
#define BINLOG_MARIA_FL_STANDALONE    0x01
#define BINLOG_MARIA_FL_GROUP_COMMIT  0x02
#define BINLOG_MARIA_FL_TRANSACTIONAL 0x04
#define BINLOG_MARIA_FL_DDL           0x20
#define BINLOG_MARIA_FL_PREPARED_XA   0x40
#define BINLOG_MARIA_FL_COMPLETED_XA  0x80

/* One MariaDB GTID_LIST entry. */
void binlog_gtid_list_get(const binlog_event_t *ev, uint32_t i, binlog_gtid_t *out);

/* ------------------------------------------------------------------ */
/* Decoder                                                             */

typedef struct binlog_decoder binlog_decoder_t;

typedef struct binlog_stats {
	uint64_t events;  /* fed, plus inner payload events */
	uint64_t ignored; /* ignorable unknown events skipped */
	uint64_t rows_events;
	uint64_t bytes;
	uint64_t table_maps_parsed;
	uint64_t invalid_text; /* text bytes replaced by U+FFFD */
} binlog_stats_t;

/* New decoder; opts may be NULL for defaults. NULL when out of memory.
 * The caller owns it and frees it with binlog_decoder_free(). */
binlog_decoder_t *binlog_decoder_new(const binlog_opts_t *opts);
void binlog_decoder_free(binlog_decoder_t *d);

/* Name used in error messages (a file name); copied. */
void binlog_decoder_set_source(binlog_decoder_t *d, const char *name);

/* Forget format and tables, as at the start of a new file or stream. */
void binlog_decoder_reset(binlog_decoder_t *d);

/* 0 when buf starts with the binlog magic "\xfe" "bin", else BAD_MAGIC. */
binlog_errcode_t binlog_check_magic(const uint8_t *buf, size_t len, binlog_err_t *err);

/* Size of the event whose 19-byte header is at hdr, validated against the
 * decoder's limits: returns 0 and sets *size, or an error. */
binlog_errcode_t binlog_decoder_event_size(binlog_decoder_t *d, const uint8_t *hdr, uint64_t offset,
					   uint32_t *size, binlog_err_t *err);

/*
 * Feed one whole event (header, body, checksum) that starts at `offset`
 * in the source. The bytes must stay valid and unchanged until the next
 * feed. Returns 0 or an error (the event is then not delivered).
 */
binlog_errcode_t binlog_decoder_feed(binlog_decoder_t *d, const uint8_t *buf, size_t len,
				     uint64_t offset, binlog_err_t *err);

/* Next logical event of what was fed: returns 1 and fills *ev, 0 when the
 * fed event is exhausted, -1 on error (*err filled). */
int binlog_decoder_next(binlog_decoder_t *d, binlog_event_t *ev, binlog_err_t *err);

/* What FORMAT_DESCRIPTION said. */
int binlog_decoder_flavor(const binlog_decoder_t *d);
const char *binlog_decoder_server_version(const binlog_decoder_t *d);
int binlog_decoder_checksum(const binlog_decoder_t *d);
const binlog_stats_t *binlog_decoder_stats(const binlog_decoder_t *d);

/* Internal: fill *err with "source: at OFFSET, TYPE: " + message. */
binlog_errcode_t binlog__err_where(binlog_err_t *err, const binlog_where_t *w,
				   binlog_errcode_t code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
