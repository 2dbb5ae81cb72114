/*
 * binlog_jsonw.c: integer, string, base64 and hex writers for JSON text.
 */
#include "binlog_jsonw.h"

static const char digit_pairs[201] =
	"00010203040506070809"
	"10111213141516171819"
	"20212223242526272829"
	"30313233343536373839"
	"40414243444546474849"
	"50515253545556575859"
	"60616263646566676869"
	"70717273747576777879"
	"80818283848586878889"
	"90919293949596979899";

size_t binlog_u64_to_dec(uint64_t v, char *out)
{
	char tmp[20];
	char *p = tmp + sizeof(tmp);
	size_t n;

	while (v >= 100) {
		unsigned i = (unsigned)(v % 100) * 2;
		v /= 100;
		p -= 2;
		p[0] = digit_pairs[i];
		p[1] = digit_pairs[i + 1];
	}
	if (v >= 10) {
		unsigned i = (unsigned)v * 2;
		p -= 2;
		p[0] = digit_pairs[i];
		p[1] = digit_pairs[i + 1];
	} else {
		*--p = (char)('0' + v);
	}
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(out, p, n);
	return n;
}

void binlog_jw_u64(binlog_buf_t *b, uint64_t v)
{
	uint8_t *p = binlog_buf_space(b, 20);
	if (p)
		binlog_buf_commit(b, binlog_u64_to_dec(v, (char *)p));
}

void binlog_jw_i64(binlog_buf_t *b, int64_t v)
{
	uint8_t *p = binlog_buf_space(b, 21);
	uint64_t u;
	size_t n = 0;

	if (!p)
		return;
	if (v < 0) {
		p[n++] = '-';
		u = (uint64_t)0 - (uint64_t)v;
	} else {
		u = (uint64_t)v;
	}
	n += binlog_u64_to_dec(u, (char *)p + n);
	binlog_buf_commit(b, n);
}

/*
 * Byte classes for the string scanner: 0 copies as is, 1 needs a JSON
 * escape, 2..4 starts a UTF-8 sequence of that length, 5 can never start
 * one (continuation bytes, 0xc0/0xc1 overlong leads, 0xf5..0xff).
 */
static const uint8_t byte_class[256] = {
	/* 0x00 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x10 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x20 */ 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x30 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	/* 0x60 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x70 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x80 */ 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
	/* 0x90 */ 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
	/* 0xa0 */ 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
	/* 0xb0 */ 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
	/* 0xc0 */ 5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	/* 0xd0 */ 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	/* 0xe0 */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	/* 0xf0 */ 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
};

/* Length of the well-formed UTF-8 sequence at s (class c >= 2), or 0. */
static size_t utf8_seq_len(const uint8_t *s, size_t left, uint8_t c)
{
	uint8_t b0 = s[0], b1;

	if (c > 4 || left < c)
		return 0;
	b1 = s[1];
	if ((b1 & 0xc0) != 0x80)
		return 0;
	switch (c) {
	case 2:
		return 2;
	case 3:
		if ((b0 == 0xe0 && b1 < 0xa0) || (b0 == 0xed && b1 >= 0xa0))
			return 0; /* overlong, or a surrogate */
		if ((s[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	default:
		if ((b0 == 0xf0 && b1 < 0x90) || (b0 == 0xf4 && b1 >= 0x90))
			return 0; /* overlong, or beyond U+10FFFF */
		if ((s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
}

static void put_escape(binlog_buf_t *b, uint8_t ch)
{
	static const char hex[] = "0123456789abcdef";
	char e[6];

	switch (ch) {
	case '"':
		binlog_buf_lit(b, "\\\"");
		return;
	case '\\':
		binlog_buf_lit(b, "\\\\");
		return;
	case '\n':
		binlog_buf_lit(b, "\\n");
		return;
	case '\r':
		binlog_buf_lit(b, "\\r");
		return;
	case '\t':
		binlog_buf_lit(b, "\\t");
		return;
	case '\b':
		binlog_buf_lit(b, "\\b");
		return;
	case '\f':
		binlog_buf_lit(b, "\\f");
		return;
	default:
		e[0] = '\\';
		e[1] = 'u';
		e[2] = '0';
		e[3] = '0';
		e[4] = hex[ch >> 4];
		e[5] = hex[ch & 15];
		binlog_buf_put(b, e, 6);
	}
}

size_t binlog_jw_utf8_body(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	const uint8_t *end = s + n;
	const uint8_t *run = s;
	size_t bad = 0;

	while (s < end) {
		uint8_t c = byte_class[*s];
		size_t len;

		if (c == 0) {
			s++;
			continue;
		}
		binlog_buf_put(b, run, (size_t)(s - run));
		if (c == 1) {
			put_escape(b, *s);
			s++;
		} else if ((len = utf8_seq_len(s, (size_t)(end - s), c)) != 0) {
			binlog_buf_put(b, s, len);
			s += len;
		} else {
			binlog_buf_lit(b, "\xef\xbf\xbd");
			bad++;
			s++;
		}
		run = s;
	}
	binlog_buf_put(b, run, (size_t)(s - run));
	return bad;
}

size_t binlog_jw_utf8(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	size_t bad;

	binlog_buf_putc(b, '"');
	bad = binlog_jw_utf8_body(b, s, n);
	binlog_buf_putc(b, '"');
	return bad;
}

int binlog_utf8_valid(const uint8_t *s, size_t n)
{
	const uint8_t *end = s + n;

	while (s < end) {
		uint8_t c = byte_class[*s];
		size_t len;

		if (c <= 1) {
			s++;
			continue;
		}
		len = utf8_seq_len(s, (size_t)(end - s), c);
		if (!len)
			return 0;
		s += len;
	}
	return 1;
}

void binlog_jw_codepoint(binlog_buf_t *b, uint32_t cp)
{
	uint8_t u[4];

	if (cp < 0x80) {
		if (byte_class[cp])
			put_escape(b, (uint8_t)cp);
		else
			binlog_buf_putc(b, (uint8_t)cp);
		return;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | (cp >> 6));
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		binlog_buf_put(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | (cp >> 12));
		u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		binlog_buf_put(b, u, 3);
	} else {
		u[0] = (uint8_t)(0xf0 | (cp >> 18));
		u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		binlog_buf_put(b, u, 4);
	}
}

void binlog_jw_base64_body(binlog_buf_t *b, const uint8_t *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t out_len, i = 0, k = 0;
	uint8_t *o;

	if (n > SIZE_MAX / 2) {
		b->failed = 1;
		return;
	}
	out_len = (n + 2) / 3 * 4;
	o = binlog_buf_space(b, out_len);
	if (!o)
		return;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
		o[k++] = (uint8_t)tab[v >> 18];
		o[k++] = (uint8_t)tab[(v >> 12) & 63];
		o[k++] = (uint8_t)tab[(v >> 6) & 63];
		o[k++] = (uint8_t)tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		o[k++] = (uint8_t)tab[v >> 18];
		o[k++] = (uint8_t)tab[(v >> 12) & 63];
		o[k++] = '=';
		o[k++] = '=';
	} else if (n - i == 2) {
		uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);
		o[k++] = (uint8_t)tab[v >> 18];
		o[k++] = (uint8_t)tab[(v >> 12) & 63];
		o[k++] = (uint8_t)tab[(v >> 6) & 63];
		o[k++] = '=';
	}
	binlog_buf_commit(b, k);
}

void binlog_jw_base64(binlog_buf_t *b, const uint8_t *p, size_t n)
{
	binlog_buf_putc(b, '"');
	binlog_jw_base64_body(b, p, n);
	binlog_buf_putc(b, '"');
}

void binlog_jw_hex(binlog_buf_t *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t *o;

	if (n > SIZE_MAX / 2) {
		b->failed = 1;
		return;
	}
	o = binlog_buf_space(b, n * 2);
	if (!o)
		return;
	for (size_t i = 0; i < n; i++) {
		o[2 * i] = (uint8_t)hex[p[i] >> 4];
		o[2 * i + 1] = (uint8_t)hex[p[i] & 15];
	}
	binlog_buf_commit(b, n * 2);
}
