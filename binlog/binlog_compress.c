/*
 * binlog_compress.c: the three compressed forms a binlog can hold.
 *
 *   MySQL TRANSACTION_PAYLOAD    zstd frame(s) holding whole events
 *   MariaDB compressed events    0x80|L, L bytes BE length, zlib stream
 *                                (QUERY_COMPRESSED and *_ROWS_COMPRESSED)
 *   MariaDB compressed columns   0x00 then raw bytes, or 0x80|L (|0x08 for
 *                                raw deflate), L bytes BE length, stream
 *
 * Every inflated size is bounded twice: by what the header claims (checked
 * against the caller's limit before allocating) and by the output actually
 * produced, so a small input cannot become a large allocation.
 */
#include "binlog_int.h"

#include <zlib.h>
#include <zstd.h>

/* Inflate a zlib (wbits 15) or raw deflate (wbits -15) stream into exactly
 * `expect` bytes appended to out. */
static binlog_errcode_t zlib_inflate(const uint8_t *p, size_t n, size_t expect, int wbits,
				     binlog_buf_t *out, binlog_err_t *err)
{
	z_stream zs;
	uint8_t *dst;
	int zrc;
	binlog_errcode_t rc = BINLOG_OK;

	if (n > UINT32_MAX || expect > UINT32_MAX)
		return binlog_err_set(err, BINLOG_E_LIMIT, "compressed data too large");
	dst = binlog_buf_space(out, expect ? expect : 1);
	if (!dst)
		return binlog_err_set(err, BINLOG_E_NOMEM, "cannot allocate %zu bytes to inflate",
				      expect);
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, wbits) != Z_OK)
		return binlog_err_set(err, BINLOG_E_NOMEM, "zlib: inflateInit failed");
	zs.next_in = (Bytef *)(uintptr_t)p;
	zs.avail_in = (uInt)n;
	zs.next_out = dst;
	zs.avail_out = (uInt)expect;
	zrc = inflate(&zs, Z_FINISH);
	if (zrc != Z_STREAM_END) {
		rc = binlog_err_set(err, BINLOG_E_DECOMPRESS, "zlib: %s after %lu of %zu bytes",
				    zrc == Z_BUF_ERROR ? "more data than the header announced"
						       : (zs.msg ? zs.msg : "stream error"),
				    (unsigned long)zs.total_out, expect);
	} else if (zs.total_out != expect) {
		rc = binlog_err_set(err, BINLOG_E_DECOMPRESS,
				    "zlib: inflated to %lu bytes, header announced %zu",
				    (unsigned long)zs.total_out, expect);
	} else {
		binlog_buf_commit(out, expect);
	}
	inflateEnd(&zs);
	return rc;
}

/* Both MariaDB forms start 0x8L: L (1..4) bytes of inflated length,
 * big-endian, then the stream. `what` names the form in messages. */
static binlog_errcode_t maria_header(const uint8_t *p, size_t n, size_t max, const char *what,
				     size_t *len, size_t *hdr, binlog_err_t *err)
{
	unsigned lenlen = p[0] & 0x07;
	uint64_t v;

	if (lenlen < 1 || lenlen > 4 || n < 1 + lenlen)
		return binlog_err_set(err, BINLOG_E_DECOMPRESS,
				      "compressed %s: bad length-of-length %u", what, lenlen);
	v = binlog_be(p + 1, lenlen);
	if (v > max)
		return binlog_err_set(err, BINLOG_E_LIMIT,
				      "compressed %s announces %llu bytes, limit %zu", what,
				      (unsigned long long)v, max);
	*len = (size_t)v;
	*hdr = 1 + lenlen;
	return BINLOG_OK;
}

binlog_errcode_t binlog__maria_inflate(const uint8_t *p, size_t n, size_t max, binlog_buf_t *out,
				       binlog_err_t *err)
{
	size_t len = 0, hdr = 0;
	binlog_errcode_t rc;

	if (n < 1 || (p[0] & 0xe0) != 0x80)
		return binlog_err_set(err, BINLOG_E_DECOMPRESS,
				      "compressed event: header byte 0x%02x is not 0x8L",
				      n ? p[0] : 0);
	if ((rc = maria_header(p, n, max, "event", &len, &hdr, err)) != BINLOG_OK)
		return rc;
	return zlib_inflate(p + hdr, n - hdr, len, 15, out, err);
}

binlog_errcode_t binlog__maria_column_inflate(const uint8_t *p, size_t n, size_t max,
					      binlog_buf_t *out, binlog_err_t *err)
{
	unsigned method;
	size_t len = 0, hdr = 0;
	binlog_errcode_t rc;

	if (n == 0)
		return BINLOG_OK; /* the empty string is stored as nothing */
	method = p[0] >> 4;
	if (method == 0) {
		binlog_buf_put(out, p + 1, n - 1);
		if (out->failed)
			return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		return BINLOG_OK;
	}
	if (method != 8)
		return binlog_err_set(err, BINLOG_E_UNSUPPORTED,
				      "compressed column: method %u (only zlib, 8, exists)",
				      method);
	if ((rc = maria_header(p, n, max, "column", &len, &hdr, err)) != BINLOG_OK)
		return rc;
	return zlib_inflate(p + hdr, n - hdr, len, (p[0] & 0x08) ? -15 : 15, out, err);
}

binlog_errcode_t binlog__zstd_inflate(const uint8_t *p, size_t n, size_t expect, size_t max,
				      binlog_buf_t *out, binlog_err_t *err)
{
	unsigned long long content = ZSTD_getFrameContentSize(p, n);
	size_t cap, r;
	uint8_t *dst;

	/* The event header says how big the payload is; the frame may say so
	 * too. Trust neither beyond the limit, and require them to agree. */
	if (content == ZSTD_CONTENTSIZE_ERROR)
		return binlog_err_set(err, BINLOG_E_DECOMPRESS, "zstd: not a zstd frame");
	if (content != ZSTD_CONTENTSIZE_UNKNOWN && expect && content != expect)
		return binlog_err_set(err, BINLOG_E_DECOMPRESS,
				      "zstd: frame holds %llu bytes, event header says %zu",
				      content, expect);
	cap = expect ? expect : (content != ZSTD_CONTENTSIZE_UNKNOWN ? (size_t)content : (size_t)0);
	if (cap > max || (content != ZSTD_CONTENTSIZE_UNKNOWN && content > max))
		return binlog_err_set(err, BINLOG_E_LIMIT,
				      "zstd payload of %zu bytes exceeds the limit %zu", cap, max);
	if (cap == 0)
		return binlog_err_set(err, BINLOG_E_DECOMPRESS,
				      "zstd: payload size unknown (no uncompressed size field)");
	dst = binlog_buf_space(out, cap);
	if (!dst)
		return binlog_err_set(err, BINLOG_E_NOMEM,
				      "cannot allocate %zu bytes for a payload", cap);
	r = ZSTD_decompress(dst, cap, p, n);
	if (ZSTD_isError(r))
		return binlog_err_set(err, BINLOG_E_DECOMPRESS, "zstd: %s", ZSTD_getErrorName(r));
	if (r != cap)
		return binlog_err_set(err, BINLOG_E_DECOMPRESS,
				      "zstd: inflated to %zu bytes, expected %zu", r, cap);
	binlog_buf_commit(out, r);
	return BINLOG_OK;
}
