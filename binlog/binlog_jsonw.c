/*
 * binlog_jsonw.c: integer, string, base64 and hex writers for JSON text.
 */
#include "binlog_jsonw.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const char binlog_digit_pairs[201] = "00010203040506070809"
				     "10111213141516171819"
				     "20212223242526272829"
				     "30313233343536373839"
				     "40414243444546474849"
				     "50515253545556575859"
				     "60616263646566676869"
				     "70717273747576777879"
				     "80818283848586878889"
				     "90919293949596979899";

static const uint64_t pow10_u64[20] = {
	1ull,
	10ull,
	100ull,
	1000ull,
	10000ull,
	100000ull,
	1000000ull,
	10000000ull,
	100000000ull,
	1000000000ull,
	10000000000ull,
	100000000000ull,
	1000000000000ull,
	10000000000000ull,
	100000000000000ull,
	1000000000000000ull,
	10000000000000000ull,
	100000000000000000ull,
	1000000000000000000ull,
	10000000000000000000ull,
};

/* Decimal digits in v, 1..20. The bit length times log10(2) (1233/4096)
 * is the digit count or one less; one comparison settles which. v | 1
 * has the digits of v and keeps clz defined for 0. */
static inline unsigned dec_len(uint64_t v)
{
	uint64_t u = v | 1;
	unsigned t = ((64 - (unsigned)__builtin_clzll(u)) * 1233) >> 12;

	return t + (u >= pow10_u64[t]);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * The 8 digits of v (below 10^8) as ASCII in one word, the first digit in
 * the lowest byte (so a little-endian store writes them in order). Two
 * divisions by constants per lane split v into 4 digits | 4 digits, then
 * 2 | 2 | 2 | 2, then single digits, all lanes at once (Paul Khuong's
 * "SWAR" itoa): x * 10486 >> 20 is x / 100 for x < 10^4, x * 103 >> 10 is
 * x / 10 for x < 100, and no lane overflows into the next.
 */
static inline uint64_t digits8(uint32_t v)
{
	uint64_t merged = (uint64_t)(v / 10000) | ((uint64_t)(v % 10000) << 32);
	uint64_t top = ((merged * 10486) >> 20) & 0x0000007f0000007full;
	uint64_t bot = merged - 100 * top;
	uint64_t hundreds = (bot << 16) + top;
	uint64_t tens = ((hundreds * 103) >> 10) & 0x000f000f000f000full;

	tens += (hundreds - 10 * tens) << 8;
	return tens + 0x3030303030303030ull;
}

/*
 * Cut v into 8-digit blocks, the first one short; each block is one word
 * from digits8. The first block is shifted right to drop its leading
 * zeros. Every store writes a whole word, so the bytes up to out + 8
 * past short numbers are scratch: the stores stay within out[0, max(n, 8)),
 * inside the 20 bytes the caller provides.
 */
static inline size_t u64_to_dec(uint64_t v, char *out)
{
	size_t n = dec_len(v);
	uint64_t w;

	if (n <= 8) {
		w = digits8((uint32_t)v) >> (8 * (8 - n));
		memcpy(out, &w, 8);
	} else if (n <= 16) {
		w = digits8((uint32_t)(v / 100000000)) >> (8 * (16 - n));
		memcpy(out, &w, 8);
		w = digits8((uint32_t)(v % 100000000));
		memcpy(out + n - 8, &w, 8);
	} else {
		uint64_t hi = v / 100000000;

		w = digits8((uint32_t)(hi / 100000000)) >> (8 * (24 - n));
		memcpy(out, &w, 8);
		w = digits8((uint32_t)(hi % 100000000));
		memcpy(out + n - 16, &w, 8);
		w = digits8((uint32_t)(v % 100000000));
		memcpy(out + n - 8, &w, 8);
	}
	return n;
}
#else
/* Two digits of v (0..99) at p. */
static inline void put_pair(char *p, unsigned v)
{
	memcpy(p, binlog_digit_pairs + 2 * v, 2);
}

/* Portable: the digits from the end, two at a time. */
static inline size_t u64_to_dec(uint64_t v, char *out)
{
	size_t n = dec_len(v);
	char *p = out + n;

	while (v >= 100) {
		p -= 2;
		put_pair(p, (unsigned)(v % 100));
		v /= 100;
	}
	if (v >= 10)
		put_pair(p - 2, (unsigned)v);
	else
		p[-1] = (char)('0' + v);
	return n;
}
#endif

size_t binlog_u64_to_dec(uint64_t v, char *out)
{
	return u64_to_dec(v, out);
}

void binlog_jw_u64(binlog_buf_t *b, uint64_t v)
{
	uint8_t *p = binlog_buf_space(b, 20);
	if (p)
		binlog_buf_commit(b, u64_to_dec(v, (char *)p));
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
	n += u64_to_dec(u, (char *)p + n);
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

/*
 * The bytes among the 8 at s that need a look (not class 0: printable
 * ASCII other than '"' and '\\'), as top bits of the word, tested at once:
 *   a byte from 0x80       its top bit, in x itself
 *   a byte below 0x20      (x - 0x2020..) & ~x has its top bit set
 *   a '"' or '\\'          a zero byte in x ^ 0x2222.. or x ^ 0x5c5c..,
 *                          found by (y - 0x0101..) & ~y
 * A borrow can only spread upwards from a byte that is itself a hit, so
 * "none" is exact and so is the lowest flag (the first byte to look at);
 * flags above it may be borrows.
 * The word is read with memcpy: unaligned, and no aliasing question.
 */
static inline uint64_t ascii8_hits(const uint8_t *s)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t x, q, bs;

	memcpy(&x, s, 8);
	q = x ^ (ones * '"');
	bs = x ^ (ones * '\\');
	return (x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) &
	       (ones * 0x80);
}

static inline int ascii8_plain(const uint8_t *s)
{
	return ascii8_hits(s) == 0;
}

#if defined(__SSE2__)
/* The same test on 16 bytes (every x86-64 has SSE2): one signed compare
 * with 0x20 catches the control bytes and, as negative, those from 0x80.
 * One bit a byte, exact. */
static inline __m128i load16(const uint8_t *s)
{
	return _mm_loadu_si128((const __m128i *)(const void *)s);
}

static inline unsigned ascii16_hits(__m128i x)
{
	__m128i hit = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
				   _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
						_mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));

	return (unsigned)_mm_movemask_epi8(hit);
}

static inline int ascii16_plain(__m128i x)
{
	return ascii16_hits(x) == 0;
}
#endif

/*
 * The usual case, text that is plain ASCII from start to end, in one pass:
 * each 16-byte block (SSE2) or 8-byte word is tested and stored straight
 * into the buffer, the tail as the text's last 16 or 8 bytes (overlapping
 * the block before). Returns
 * how many leading bytes were appended that way: n when done, less when a
 * byte needs a look (the caller goes on from there). Text shorter than a
 * word is tested byte by byte and appended whole, or not at all. The
 * output is never shorter than the input, so reserving n bytes fails only
 * where appending the text would.
 */
static size_t ascii_prefix(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	size_t i = 0;
	uint8_t *o;

	if (n < 8) {
		/* Short text (a name, a label): byte by byte, then one
		 * small copy. */
		for (; i < n; i++)
			if (byte_class[s[i]])
				return 0;
		binlog_jw_put(b, s, n);
		return n;
	}
	if (!binlog_buf_reserve(b, n))
		return 0;
	o = b->data + b->len;
#if defined(__SSE2__)
	for (; i + 16 <= n; i += 16) {
		__m128i x = load16(s + i);

		if (!ascii16_plain(x))
			break; /* the 8-byte steps below narrow it down */
		_mm_storeu_si128((__m128i *)(void *)(o + i), x);
	}
	if (i < n && i + 16 > n && n >= 16) {
		__m128i x = load16(s + n - 16);

		if (ascii16_plain(x)) {
			_mm_storeu_si128((__m128i *)(void *)(o + n - 16), x);
			i = n;
			goto out;
		}
	}
#endif
	for (; i + 8 <= n; i += 8) {
		if (!ascii8_plain(s + i))
			goto out;
		memcpy(o + i, s + i, 8);
	}
	if (i < n && ascii8_plain(s + n - 8)) {
		memcpy(o + n - 8, s + n - 8, 8);
		i = n;
	}
out:
	b->len += i;
	return i;
}

size_t binlog_jw_utf8_body(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	size_t done = ascii_prefix(b, s, n);
	const uint8_t *end = s + n;
	const uint8_t *run;
	size_t bad = 0;
	int tail_tried = 0;

	s += done;
	run = s;

	while (s < end) {
		const uint8_t *stop;
		uint8_t c;
		size_t len;

		/* Text is mostly plain ASCII: skip it a word at a time, and
		 * byte by byte only within a word that holds something else.
		 * A short tail is tested once as the text's last 8 bytes
		 * (those before s were dealt with already). */
		if (end - s >= 8) {
			if (ascii8_plain(s)) {
				s += 8;
				continue;
			}
			stop = s + 8;
		} else {
			if (!tail_tried && n >= 8 && ascii8_plain(end - 8)) {
				s = end;
				break;
			}
			tail_tried = 1;
			stop = end;
		}
		while (s < stop && byte_class[*s] == 0)
			s++;
		if (s == stop)
			continue;
		c = byte_class[*s];
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

size_t binlog_json_plain_run(const uint8_t *s, size_t n)
{
	size_t i = 0;

#if defined(__SSE2__)
	for (; i + 16 <= n; i += 16) {
		unsigned m = ascii16_hits(load16(s + i));
		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	for (; i + 8 <= n; i += 8) {
		uint64_t hit = ascii8_hits(s + i);
		if (hit)
			return i + (size_t)__builtin_ctzll(hit) / 8;
	}
	while (i < n && byte_class[s[i]] == 0)
		i++;
	return i;
}

int binlog_utf8_valid(const uint8_t *s, size_t n)
{
	const uint8_t *end = s + n;

	while (s < end) {
		uint8_t c;
		size_t len;

		/* ASCII, 8 bytes a step */
		while (end - s >= 8) {
			uint64_t x;

			memcpy(&x, s, 8);
			if (x & 0x8080808080808080ull)
				break;
			s += 8;
		}
		if (s == end)
			break;
		c = byte_class[*s];
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
