/*
 * test_binlog_rows.c: TABLE_MAP metadata and rows events built by hand,
 * for what the real fixtures do not hold: a PARTIAL_UPDATE whose before
 * image has the JSON column, every optional metadata field at once, long
 * CHAR lengths, and malformed events that must be refused with an error
 * naming the table and column.
 */
#include "testutil.h"

#include "binlog_builder.h"
#include "decode_util.h"

/* {"age":24,"name":"Joe"} in MySQL's binary JSON (small object). */
static const uint8_t json_joe[] = {
	0x00, 0x02, 0x00, 0x1d, 0x00,                   /* object, 2 members, 29 bytes */
	0x12, 0x00, 0x03, 0x00, 0x15, 0x00, 0x04, 0x00, /* keys at 18 (3), 21 (4) */
	0x05, 0x18, 0x00,                               /* int16 24, inline */
	0x0c, 0x19, 0x00,                               /* string at 25 */
	'a',  'g',  'e',  'n',  'a',  'm',  'e',  0x03, 'J', 'o', 'e'};

/* REPLACE $.age with int16 26 */
static const uint8_t diff_age26[] = {0x00, 0x05, '$', '.', 'a', 'g', 'e', 0x03, 0x05, 0x1a, 0x00};

static void put_json_col(binlog_buf_t *b, const uint8_t *p, size_t n)
{
	bb_le(b, n, 4); /* JSON length prefix: 4 bytes (meta 4) */
	binlog_buf_put(b, p, n);
}

/* id INT, doc JSON, name VARCHAR(20) with names and a primary key. */
static void table_doc(bb_t *w)
{
	static const uint8_t types[] = {BINLOG_TYPE_LONG, BINLOG_TYPE_JSON, BINLOG_TYPE_VARCHAR};
	static const uint8_t meta[] = {4, 80, 0};
	static const uint8_t opt[] = {
		4, 12, 2,  'i', 'd', 3, 'd', 'o', 'c', 4, 'n', 'a', 'm', 'e', /* COLUMN_NAME */
		8, 1,  0,  /* SIMPLE_PRIMARY_KEY */
		3, 1,  45, /* COLUMN_CHARSET */
	};
	bb_table_map(w, 7, "app", "docs", 3, types, meta, sizeof(meta), opt, sizeof(opt));
}

static void partial_update_applies_to_before_image(void **state)
{
	bb_t w;
	binlog_buf_t rows;
	static const uint8_t all[] = {0x07};
	du_result_t *r;

	(void)state;
	bb_init(&w, 1);
	bb_gtid(&w, NULL, 0, 1718454896123456ULL);
	bb_query(&w, "app", "BEGIN");
	table_doc(&w);
	binlog_buf_init(&rows, 0);
	/* before image: all three columns */
	binlog_buf_putc(&rows, 0x00);
	bb_le(&rows, 1, 4);
	put_json_col(&rows, json_joe, sizeof(json_joe));
	binlog_buf_putc(&rows, 3);
	binlog_buf_put(&rows, "Joe", 3);
	/* after image: value options PARTIAL_JSON, doc is a diff */
	bb_packed(&rows, 1);
	binlog_buf_putc(&rows, 0x01);
	binlog_buf_putc(&rows, 0x00);
	bb_le(&rows, 1, 4);
	put_json_col(&rows, diff_age26, sizeof(diff_age26));
	binlog_buf_putc(&rows, 3);
	binlog_buf_put(&rows, "Joe", 3);
	bb_rows(&w, BINLOG_PARTIAL_UPDATE_ROWS_EVENT, 7, 3, all, all, rows.data, rows.len);
	bb_xid(&w, 9);

	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	if (r->rc)
		fail_msg("%s", r->err.msg);
	assert_int_equal(r->n, 2);
	assert_non_null(strstr(r->rec[0],
			       "\"data\":{\"id\":1,\"doc\":{\"age\":24,\"name\":\"Joe\"},"
			       "\"name\":\"Joe\"},\"op\":\"-U\""));
	assert_non_null(strstr(r->rec[1],
			       "\"data\":{\"id\":1,\"doc\":{\"age\":26,\"name\":\"Joe\"},"
			       "\"name\":\"Joe\"},\"op\":\"+U\""));
	assert_null(strstr(r->rec[1], "json_diff"));
	/* the commit time from the GTID event, in ms */
	assert_non_null(strstr(r->rec[1], "\"ts_ms\":1718454896123,"));
	assert_non_null(strstr(r->rec[1], "\"pk\":[\"id\"]"));
	du_free(r);
	binlog_buf_free(&rows);
	bb_free(&w);
}

static void partial_update_without_before_image(void **state)
{
	bb_t w;
	binlog_buf_t rows;
	static const uint8_t before[] = {0x01}, after[] = {0x02};
	du_result_t *r;

	(void)state;
	bb_init(&w, 1);
	bb_gtid(&w, NULL, 0, 1);
	table_doc(&w);
	binlog_buf_init(&rows, 0);
	binlog_buf_putc(&rows, 0x00);
	bb_le(&rows, 1, 4);
	bb_packed(&rows, 1);
	binlog_buf_putc(&rows, 0x01);
	binlog_buf_putc(&rows, 0x00);
	put_json_col(&rows, diff_age26, sizeof(diff_age26));
	bb_rows(&w, BINLOG_PARTIAL_UPDATE_ROWS_EVENT, 7, 3, before, after, rows.data, rows.len);
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	if (r->rc)
		fail_msg("%s", r->err.msg);
	assert_int_equal(r->n, 2);
	assert_non_null(strstr(r->rec[0], "\"data\":{\"id\":1},\"op\":\"-U\""));
	assert_non_null(strstr(r->rec[1],
			       "\"data\":{\"doc\":[{\"op\":\"replace\",\"path\":\"$.age\","
			       "\"value\":26}]},\"op\":\"+U\""));
	assert_non_null(strstr(r->rec[1], "\"json_diff\":[\"doc\"]"));
	du_free(r);
	binlog_buf_free(&rows);
	bb_free(&w);
}

/* Every optional metadata field, and a CHAR longer than 255 bytes whose
 * length borrows bits of the real-type byte. */
static void all_optional_metadata(void **state)
{
	static const uint8_t types[] = {
		BINLOG_TYPE_LONG,     BINLOG_TYPE_STRING, BINLOG_TYPE_STRING, BINLOG_TYPE_STRING,
		BINLOG_TYPE_GEOMETRY, BINLOG_TYPE_VECTOR, BINLOG_TYPE_TINY};
	/* CHAR(100) utf8mb4 = 400 bytes: 0xee 0x90 (400 = 0x190);
	 * ENUM 1 byte; SET 1 byte; geometry 4; vector 4 */
	static const uint8_t meta[] = {0xee, 0x90, 0xf7, 0x01, 0xf8, 0x01, 4, 4};
	static const uint8_t opt[] = {
		1,  1,  0x40,          /* SIGNEDNESS */
		2,  3,  45,   1,   63, /* DEFAULT 45; char col 1 (vector) 63 */
		4,  14, 1,    'a', 1,   'b', 1,   'e',  1, 's', 1, 'g', 1, 'v', 1, 't', /* names */
		5,  6,  2,    1,   'x', 2,   'y', '\'', /* SET labels x, y' */
		6,  6,  2,    1,   'p', 2,   'q', 'r',  /* ENUM labels p, qr */
		7,  1,  1,                              /* GEOMETRY_TYPE: POINT */
		9,  4,  0,    0,   1,   10,             /* PK: a, then b(10) */
		10, 1,  8,                              /* ENUM/SET default latin1 */
		12, 1,  0xfc,                           /* visibility: t invisible */
		13, 1,  3,                              /* VECTOR dims 3 */
	};
	bb_t w;
	binlog_buf_t rows;
	static const uint8_t all[] = {0x7f};
	static const uint8_t wkb[] = {0, 0, 0,    0,    1, 1, 0, 0, 0, 0, 0, 0,   0,
				      0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40};
	static const uint8_t vec[] = {0xcd, 0xcc, 0x8c, 0x3f, 0, 0, 0x80, 0xbf, 0, 0, 0, 0};
	du_result_t *r;
	char big[400];

	(void)state;
	memset(big, 'z', sizeof(big));
	bb_init(&w, 1);
	bb_gtid(&w, NULL, 0, 1);
	bb_table_map(&w, 9, "d", "t", 7, types, meta, sizeof(meta), opt, sizeof(opt));
	binlog_buf_init(&rows, 0);
	binlog_buf_putc(&rows, 0x00);
	bb_le(&rows, (uint32_t)-5, 4);
	bb_le(&rows, 400, 2); /* 2-byte length: CHAR > 255 bytes */
	binlog_buf_put(&rows, big, 400);
	binlog_buf_putc(&rows, 2);    /* ENUM index 2: "qr" */
	binlog_buf_putc(&rows, 0x03); /* SET x,y' */
	bb_le(&rows, sizeof(wkb), 4);
	binlog_buf_put(&rows, wkb, sizeof(wkb));
	bb_le(&rows, sizeof(vec), 4);
	binlog_buf_put(&rows, vec, sizeof(vec));
	binlog_buf_putc(&rows, 200); /* unsigned TINY */
	bb_rows(&w, BINLOG_WRITE_ROWS_EVENT, 9, 7, all, NULL, rows.data, rows.len);
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	if (r->rc)
		fail_msg("%s", r->err.msg);
	assert_int_equal(r->n, 1);
	assert_non_null(strstr(r->rec[0], "\"a\":-5,\"b\":\"zzzz"));
	assert_non_null(strstr(r->rec[0], "zzz\",\"e\":\"qr\",\"s\":\"x,y'\","));
	assert_non_null(
		strstr(r->rec[0], "\"g\":{\"srid\":0,\"wkb\":\"AQEAAAAAAAAAAADwPwAAAAAAAABA\"}"));
	assert_non_null(strstr(r->rec[0], "\"v\":[1.1,-1.0,0.0],\"t\":200}"));
	assert_non_null(strstr(r->rec[0], "\"pk\":[\"a\",\"b\"]"));
	du_free(r);
	binlog_buf_free(&rows);
	bb_free(&w);
}

/* The table as the decoder sees it, straight from the API. */
static void table_map_fields(void **state)
{
	static const uint8_t types[] = {BINLOG_TYPE_LONG, BINLOG_TYPE_VARCHAR, BINLOG_TYPE_STRING,
					BINLOG_TYPE_NEWDECIMAL, BINLOG_TYPE_BIT};
	static const uint8_t meta[] = {0x90, 0x01, 0xfe, 0x10, 10, 2, 2, 1};
	static const uint8_t opt[] = {
		1,  1, 0xc0,                /* LONG unsigned, DECIMAL unsigned */
		3,  4, 0xfc, 0xff, 0x00, 8, /* VARCHAR 255, CHAR latin1 */
		12, 1, 0xe8,                /* visibility: col 3 and 4 ... */
	};
	bb_t w;
	binlog_decoder_t *d = binlog_decoder_new(NULL);
	binlog_event_t ev;
	binlog_err_t err;
	size_t off = 4;
	const binlog_table_t *t = NULL;

	(void)state;
	bb_init(&w, 1);
	bb_table_map(&w, 3, "db", "tb", 5, types, meta, sizeof(meta), opt, sizeof(opt));
	while (off < w.b.len) {
		uint32_t sz = binlog_le32(w.b.data + off + 9);
		assert_int_equal(binlog_decoder_feed(d, w.b.data + off, sz, off, &err), BINLOG_OK);
		while (binlog_decoder_next(d, &ev, &err) > 0)
			if (ev.type == BINLOG_TABLE_MAP_EVENT)
				t = ev.u.table_map;
		off += sz;
	}
	assert_non_null(t);
	assert_int_equal(t->table_id, 3);
	assert_int_equal(t->ncols, 5);
	assert_int_equal(t->cols[1].meta, 400);
	assert_int_equal(t->cols[2].type, BINLOG_TYPE_STRING);
	assert_int_equal(t->cols[2].length, 16);
	assert_int_equal(t->cols[3].meta, (10 << 8) | 2);
	assert_int_equal(t->cols[4].meta, (1 << 8) | 2); /* 2 bits + 1 byte */
	assert_true(t->cols[0].flags & BINLOG_COL_UNSIGNED);
	assert_true(t->cols[3].flags & BINLOG_COL_UNSIGNED);
	assert_int_equal(t->cols[1].collation, 255);
	assert_int_equal(t->cols[2].collation, 8);
	assert_true(t->cols[3].flags & BINLOG_COL_INVISIBLE);
	assert_false(t->cols[0].flags & BINLOG_COL_INVISIBLE);
	assert_int_equal(binlog_decoder_flavor(d), BINLOG_FLAVOR_MYSQL);
	binlog_decoder_free(d);
	bb_free(&w);
}

/* Run one TABLE_MAP + WRITE_ROWS through the decoder, expect an error. */
static void expect_error(const uint8_t *types, unsigned ncols, const uint8_t *meta, size_t ml,
			 const uint8_t *opt, size_t ol, const uint8_t *bm, const uint8_t *row,
			 size_t rl, binlog_errcode_t code, const char *needle)
{
	bb_t w;
	du_result_t *r;

	bb_init(&w, 1);
	bb_gtid(&w, NULL, 0, 1);
	bb_table_map(&w, 5, "db", "bad", ncols, types, meta, ml, opt, ol);
	bb_rows(&w, BINLOG_WRITE_ROWS_EVENT, 5, ncols, bm, NULL, row, rl);
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	if (r->rc != code)
		fail_msg("expected %s, got %s: %s", binlog_errname(code), binlog_errname(r->rc),
			 r->err.msg);
	if (!strstr(r->err.msg, needle))
		fail_msg("expected \"%s\" in: %s", needle, r->err.msg);
	du_free(r);
	bb_free(&w);
}

static void malformed(void **state)
{
	static const uint8_t t_vc[] = {BINLOG_TYPE_VARCHAR};
	static const uint8_t m_vc[] = {20, 0};
	static const uint8_t one[] = {0x01}, none[] = {0x00};
	static const uint8_t long_len[] = {0x00, 200, 'a'};
	static const uint8_t t2[] = {BINLOG_TYPE_VARCHAR, BINLOG_TYPE_VARCHAR};
	static const uint8_t m2[] = {20, 0, 20, 0};
	static const uint8_t bad_cs[] = {3, 1, 45}; /* 1 charset for 2 columns */
	static const uint8_t t_dec[] = {BINLOG_TYPE_NEWDECIMAL};
	static const uint8_t m_dec[] = {70, 2};
	static const uint8_t t_unk[] = {200};
	static const uint8_t dec_row[] = {0x00, 0x80, 0x00, 0x01, 0x00, 0x00};

	(void)state;
	/* a length that runs past the event */
	expect_error(t_vc, 1, m_vc, 2, NULL, 0, one, long_len, sizeof(long_len), BINLOG_E_BAD_VALUE,
		     "table db.bad, column 1 (VARCHAR), after image at");
	/* an image without columns (would never advance) */
	expect_error(t_vc, 1, m_vc, 2, NULL, 0, none, long_len, sizeof(long_len),
		     BINLOG_E_BAD_EVENT, "the after image lists no columns");
	/* a charset list that does not match the character columns */
	expect_error(t2, 2, m2, 4, bad_cs, sizeof(bad_cs), one, long_len, sizeof(long_len),
		     BINLOG_E_BAD_EVENT, "COLUMN_CHARSET: 1 entries for 2 columns");
	/* DECIMAL(70,2) does not exist */
	expect_error(t_dec, 1, m_dec, 2, NULL, 0, one, dec_row, sizeof(dec_row), BINLOG_E_BAD_EVENT,
		     "invalid metadata");
	/* a type code no server writes */
	expect_error(t_unk, 1, NULL, 0, NULL, 0, one, dec_row, sizeof(dec_row),
		     BINLOG_E_UNSUPPORTED, "unknown type code 200");
}

static void rows_without_table_map(void **state)
{
	bb_t w;
	du_result_t *r;
	static const uint8_t one[] = {0x01}, row[] = {0x00, 1, 0, 0, 0};

	(void)state;
	bb_init(&w, 1);
	bb_rows(&w, BINLOG_WRITE_ROWS_EVENT, 77, 1, one, NULL, row, sizeof(row));
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	assert_int_equal(r->rc, BINLOG_E_NO_TABLE_MAP);
	assert_non_null(strstr(r->err.msg, "table id 77 has no TABLE_MAP"));
	du_free(r);
	bb_free(&w);
}

/* binlog_checksum=NONE: the FDE says so and events carry no CRC. */
static void no_checksum(void **state)
{
	bb_t w;
	du_result_t *r;
	static const uint8_t types[] = {BINLOG_TYPE_LONG};
	static const uint8_t one[] = {0x01}, row[] = {0x00, 7, 0, 0, 0};

	(void)state;
	bb_init(&w, 0);
	bb_gtid(&w, NULL, 0, 1);
	bb_table_map(&w, 1, "d", "t", 1, types, NULL, 0, NULL, 0);
	bb_rows(&w, BINLOG_WRITE_ROWS_EVENT, 1, 1, one, NULL, row, sizeof(row));
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	if (r->rc)
		fail_msg("%s", r->err.msg);
	assert_int_equal(r->n, 1);
	assert_non_null(strstr(r->rec[0], "\"data\":{\"@1\":7}"));
	du_free(r);
	bb_free(&w);
}

/* Under a GTID, rows of a table that is not captured still count in the
 * transaction's index: the next record's sequence does not move. */
static void filter_does_not_move_sequences(void **state)
{
	bb_t w;
	du_result_t *all, *some;
	static const uint8_t types[] = {BINLOG_TYPE_LONG};
	static const uint8_t one[] = {0x01};
	static const uint8_t row2[] = {0x00, 1, 0, 0, 0, 0x00, 2, 0, 0, 0};
	static const uint8_t uuid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

	(void)state;
	bb_init(&w, 1);
	bb_gtid(&w, uuid, 5, 1);
	bb_table_map(&w, 1, "d", "skipped", 1, types, NULL, 0, NULL, 0);
	bb_table_map(&w, 2, "d", "kept", 1, types, NULL, 0, NULL, 0);
	bb_rows(&w, BINLOG_WRITE_ROWS_EVENT, 1, 1, one, NULL, row2, sizeof(row2));
	bb_rows(&w, BINLOG_WRITE_ROWS_EVENT, 2, 1, one, NULL, row2, sizeof(row2));
	all = du_decode_bytes(w.b.data, w.b.len, NULL);
	some = du_decode_bytes(w.b.data, w.b.len, "d.skipped");
	assert_int_equal(all->rc, 0);
	assert_int_equal(some->rc, 0);
	assert_int_equal(all->n, 4);
	assert_int_equal(some->n, 2);
	assert_string_equal(all->rec[2], some->rec[0]);
	assert_string_equal(all->rec[3], some->rec[1]);
	/* no history before the stream: uuid:1-5 assumed, ordinal 5 */
	assert_int_equal(du_seq(some->rec[0]), ((uint64_t)5 << 24) | 2);
	du_free(all);
	du_free(some);
	bb_free(&w);
}

/* An INCIDENT stops the stream with its message; one too short to hold a
 * message must not print what an earlier event left behind. */
static void incident(void **state)
{
	bb_t w;
	du_result_t *r;
	static const uint8_t full[] = {1,   0,   11,  'L', 'O', 'S', 'T',
				       '_', 'E', 'V', 'E', 'N', 'T', 'S'};
	static const uint8_t cut[] = {1, 0, 200};

	(void)state;
	bb_init(&w, 1);
	bb_query(&w, "d", "a long statement that fills the union with text");
	bb_event(&w, BINLOG_INCIDENT_EVENT, full, sizeof(full));
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	assert_int_equal(r->rc, BINLOG_E_INCIDENT);
	assert_non_null(strstr(r->err.msg, "incident 1: LOST_EVENTS"));
	du_free(r);
	bb_free(&w);

	bb_init(&w, 1);
	bb_query(&w, "d", "a long statement that fills the union with text");
	bb_event(&w, BINLOG_INCIDENT_EVENT, cut, sizeof(cut));
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	assert_int_equal(r->rc, BINLOG_E_INCIDENT);
	assert_non_null(strstr(r->err.msg, "incident 1: ;"));
	du_free(r);
	bb_free(&w);
}

/* MariaDB with log_bin_compress: QUERY_COMPRESSED, and compressed rows
 * events v1 and v2 (the row data zlib-compressed after the bitmaps). */
static void mariadb_compressed_events(void **state)
{
	static const uint8_t types[] = {BINLOG_TYPE_LONG, BINLOG_TYPE_VARCHAR};
	static const uint8_t meta[] = {200, 0};
	static const uint8_t opt[] = {4, 8, 2, 'i', 'd', 4, 'n', 'o', 't', 'e', 3, 1, 45};
	static const uint8_t both[] = {0x03};
	bb_t w;
	binlog_buf_t rows, z, body;
	du_result_t *r;
	const char *sql = "CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(50))";

	(void)state;
	bb_init_mariadb(&w);
	/* QUERY_COMPRESSED: the query text compressed */
	bb_maria_gtid(&w, 0, 1, 0x21);
	binlog_buf_init(&body, 0);
	bb_le(&body, 1, 4);
	bb_le(&body, 0, 4);
	binlog_buf_putc(&body, 1);
	bb_le(&body, 0, 2);
	bb_le(&body, 0, 2);
	binlog_buf_put(&body, "d", 1);
	binlog_buf_putc(&body, 0);
	bb_maria_compress(&body, (const uint8_t *)sql, strlen(sql));
	bb_event(&w, BINLOG_MARIA_QUERY_COMPRESSED_EVENT, body.data, body.len);

	bb_maria_gtid(&w, 0, 2, 0);
	bb_table_map(&w, 4, "d", "t", 2, types, meta, sizeof(meta), opt, sizeof(opt));
	/* WRITE_ROWS_COMPRESSED (v2): two rows */
	binlog_buf_init(&rows, 0);
	for (int i = 1; i <= 2; i++) {
		binlog_buf_putc(&rows, 0x00);
		bb_le(&rows, (uint64_t)i, 4);
		binlog_buf_putc(&rows, 3);
		binlog_buf_put(&rows, i == 1 ? "one" : "two", 3);
	}
	binlog_buf_init(&z, 0);
	bb_maria_compress(&z, rows.data, rows.len);
	bb_rows(&w, BINLOG_MARIA_WRITE_ROWS_COMPRESSED_EVENT, 4, 2, both, NULL, z.data, z.len);
	/* UPDATE_ROWS_COMPRESSED_V1 (no extra data field) */
	binlog_buf_reset(&rows);
	binlog_buf_putc(&rows, 0x00);
	bb_le(&rows, 1, 4);
	binlog_buf_putc(&rows, 3);
	binlog_buf_put(&rows, "one", 3);
	binlog_buf_putc(&rows, 0x02); /* note is NULL */
	bb_le(&rows, 1, 4);
	binlog_buf_reset(&z);
	bb_maria_compress(&z, rows.data, rows.len);
	binlog_buf_reset(&body);
	bb_le(&body, 4, 6);
	bb_le(&body, 1, 2);
	bb_packed(&body, 2);
	binlog_buf_putc(&body, 0x03);
	binlog_buf_putc(&body, 0x03);
	binlog_buf_put(&body, z.data, z.len);
	bb_event(&w, BINLOG_MARIA_UPDATE_ROWS_COMPRESSED_EVENT_V1, body.data, body.len);
	bb_xid(&w, 3);

	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	if (r->rc)
		fail_msg("%s", r->err.msg);
	assert_int_equal(r->stats.ddl, 1);
	assert_int_equal(r->n, 4);
	assert_non_null(strstr(r->rec[0], "\"data\":{\"id\":1,\"note\":\"one\"},\"op\":\"+I\""));
	assert_non_null(strstr(r->rec[1], "\"data\":{\"id\":2,\"note\":\"two\"}"));
	assert_non_null(strstr(r->rec[3], "\"data\":{\"id\":1,\"note\":null},\"op\":\"+U\""));
	assert_non_null(strstr(r->rec[3], "\"gtid\":\"0-1-2\""));
	du_free(r);

	/* A compressed event whose header promises more than it holds */
	{
		size_t at = w.b.len;
		bb_maria_gtid(&w, 0, 3, 0);
		binlog_buf_reset(&z);
		bb_maria_compress(&z, rows.data, rows.len);
		z.data[4] = 0x7f; /* announced length: 127 + ... */
		bb_rows(&w, BINLOG_MARIA_WRITE_ROWS_COMPRESSED_EVENT, 4, 2, both, NULL, z.data,
			z.len);
		r = du_decode_bytes(w.b.data, w.b.len, NULL);
		assert_int_equal(r->rc, BINLOG_E_DECOMPRESS);
		assert_non_null(strstr(r->err.msg, "WRITE_ROWS_COMPRESSED_EVENT (type 169)"));
		(void)at;
		du_free(r);
	}
	binlog_buf_free(&rows);
	binlog_buf_free(&z);
	binlog_buf_free(&body);
	bb_free(&w);
}

/* Statement-based changes cannot become records: they are counted, and
 * DDL is not mistaken for them. */
static void statement_changes_are_counted(void **state)
{
	bb_t w;
	du_result_t *r;

	(void)state;
	bb_init(&w, 1);
	bb_gtid(&w, NULL, 0, 1);
	bb_query(&w, "d", "BEGIN");
	bb_query(&w, "d", "INSERT INTO t VALUES (1)");
	bb_query(&w, "d", "/* app */ update t set a = 2");
	bb_query(&w, "d", "REPLACE\tINTO t VALUES (3)");
	bb_query(&w, "d", "COMMIT");
	bb_gtid(&w, NULL, 0, 1);
	bb_query(&w, "d", "CREATE TABLE inserts (a INT)");
	bb_gtid(&w, NULL, 0, 1);
	bb_query(&w, "d", "DELETEME");
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	if (r->rc)
		fail_msg("%s", r->err.msg);
	assert_int_equal(r->n, 0);
	assert_int_equal(r->stats.statement_changes, 3);
	assert_int_equal(r->stats.ddl, 2);
	du_free(r);
	bb_free(&w);
}

/* An event type this decoder does not know: skipped when the server
 * flagged it ignorable (as Aurora's padding is), an error otherwise. */
static void unknown_events(void **state)
{
	static const uint8_t body[] = {1, 2, 3, 4, 5};
	bb_t w;
	du_result_t *r;

	(void)state;
	bb_init(&w, 1);
	bb_event_flags(&w, 120, BINLOG_LOG_EVENT_IGNORABLE_F, body, sizeof(body));
	bb_query(&w, "d", "BEGIN");
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	assert_int_equal(r->rc, BINLOG_OK);
	assert_int_equal(r->ignored, 1);
	assert_int_equal(r->top_events, 3);
	du_free(r);
	bb_free(&w);

	bb_init(&w, 1);
	bb_event_flags(&w, 120, 0, body, sizeof(body));
	r = du_decode_bytes(w.b.data, w.b.len, NULL);
	assert_int_equal(r->rc, BINLOG_E_UNKNOWN_EVENT);
	assert_non_null(strstr(r->err.msg, "at 127, unknown event (type 120): event type 120 is "
					   "unknown to this decoder and not flagged ignorable"));
	du_free(r);
	bb_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(partial_update_applies_to_before_image),
		cmocka_unit_test(partial_update_without_before_image),
		cmocka_unit_test(all_optional_metadata),
		cmocka_unit_test(table_map_fields),
		cmocka_unit_test(malformed),
		cmocka_unit_test(rows_without_table_map),
		cmocka_unit_test(no_checksum),
		cmocka_unit_test(filter_does_not_move_sequences),
		cmocka_unit_test(incident),
		cmocka_unit_test(mariadb_compressed_events),
		cmocka_unit_test(statement_changes_are_counted),
		cmocka_unit_test(unknown_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
