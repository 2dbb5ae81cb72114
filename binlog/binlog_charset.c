/*
 * binlog_charset.c: collation id -> charset, and charset text -> the UTF-8
 * body of a JSON string.
 *
 * The data (which id is which charset, the single-byte tables, the shapes
 * of the multi-byte sets) is generated from a MariaDB server into
 * binlog_charset_tables.c; this file holds only the lookups and the
 * converters. Every converter appends to a binlog_buf_t through the
 * binlog_jw_* writers, so escaping is the same whatever the charset.
 */
#include "binlog_charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>

#include "binlog_jsonw.h"

/* ------------------------------------------------------------ lookups */

const binlog_charset_t *binlog_charset_of_collation(uint32_t collation_id)
{
	uint8_t k = 0;

	if (collation_id < binlog_collation_map_size)
		k = binlog_collation_map[collation_id];
	else if (collation_id >= BINLOG_UCA1400_FIRST &&
		 collation_id < BINLOG_UCA1400_FIRST + 256 * BINLOG_UCA1400_BLOCKS)
		/* MariaDB numbers the UCA 14.0.0 family 2048 + 256 * charset +
		 * 8 * tailoring + flags, so an id a later MariaDB adds to a
		 * block still names that block's charset. */
		k = binlog_uca1400_block[(collation_id - BINLOG_UCA1400_FIRST) >> 8];
	return k ? &binlog_charsets[k - 1] : NULL;
}

const char *binlog_collation_name(uint32_t collation_id)
{
	size_t lo = 0, hi = binlog_collations_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (binlog_collations[mid].id < collation_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < binlog_collations_count && binlog_collations[lo].id == collation_id)
		return binlog_collations[lo].name;
	return NULL;
}

/* ASCII case-insensitive equality; charset names are ASCII. */
static int name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + ('a' - 'A'));
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + ('a' - 'A'));
		if (x != y)
			return 0;
		if (!x)
			return 1;
	}
}

const binlog_charset_t *binlog_charset_by_name(const char *name)
{
	if (!name)
		return NULL;
	/* MySQL 5.x..8.0 and MariaDB before 10.6 spell utf8mb3 "utf8". */
	if (name_eq(name, "utf8"))
		name = "utf8mb3";
	for (size_t i = 0; i < binlog_charsets_count; i++)
		if (name_eq(name, binlog_charsets[i].name))
			return &binlog_charsets[i];
	return NULL;
}

const binlog_charset_t *binlog_charset_utf8mb4(void)
{
	return &binlog_charsets[binlog_charset_utf8mb4_index];
}

/* ------------------------------------------------------------ iconv cache */

enum { SLOT_UNTRIED = 0, SLOT_OPEN, SLOT_FAILED };

struct csconv_slot {
	iconv_t cd;
	int state;
};

struct binlog_csconv {
	size_t n;
	struct csconv_slot slot[];
};

binlog_csconv_t *binlog_csconv_new(void)
{
	binlog_csconv_t *c;

	c = calloc(1, sizeof(*c) + binlog_mbcs_count * sizeof(c->slot[0]));
	if (c)
		c->n = binlog_mbcs_count;
	return c;
}

void binlog_csconv_free(binlog_csconv_t *conv)
{
	if (!conv)
		return;
	for (size_t i = 0; i < conv->n; i++)
		if (conv->slot[i].state == SLOT_OPEN)
			iconv_close(conv->slot[i].cd);
	free(conv);
}

/* The converter of cs, opened on first use; (iconv_t)-1 when there is none
 * (no conv, or glibc lacks the encoding: a failure is remembered, so a
 * missing gconv module costs one iconv_open per thread, not one per value). */
static iconv_t csconv_get(binlog_csconv_t *conv, const binlog_charset_t *cs)
{
	struct csconv_slot *sl;

	if (!conv || cs->mb_slot >= conv->n)
		return (iconv_t)-1;
	sl = &conv->slot[cs->mb_slot];
	if (sl->state == SLOT_UNTRIED) {
		sl->cd = iconv_open("UTF-8", cs->mb->iconv_name);
		sl->state = sl->cd == (iconv_t)-1 ? SLOT_FAILED : SLOT_OPEN;
	}
	return sl->state == SLOT_OPEN ? sl->cd : (iconv_t)-1;
}

/* ------------------------------------------------------------ converters */

static void put_fffd(binlog_buf_t *b)
{
	binlog_buf_lit(b, "\xef\xbf\xbd");
}

/* Code point from a decoder: surrogates and values past U+10FFFF (which
 * binlog_jw_codepoint would also replace) are counted here. */
static void put_cp(binlog_buf_t *b, uint32_t cp, size_t *bad)
{
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		put_fffd(b);
		(*bad)++;
		return;
	}
	binlog_jw_codepoint(b, cp);
}

/*
 * Single-byte sets whose 0x00..0x7f half is ASCII (all but swe7): ASCII
 * runs go through binlog_jw_utf8_body (pure ASCII is valid UTF-8, and that
 * is where the escaping lives), the other bytes through the table.
 */
static size_t sbcs_to_json(binlog_buf_t *b, const binlog_charset_t *cs, const uint8_t *s, size_t n)
{
	const uint8_t *end = s + n;
	const uint8_t *run = s;
	size_t bad = 0;

	while (s < end) {
		uint16_t cp;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if (s > run)
			binlog_jw_utf8_body(b, run, (size_t)(s - run));
		cp = cs->high[*s - 0x80];
		if (cp) {
			binlog_jw_codepoint(b, cp);
		} else {
			put_fffd(b);
			bad++;
		}
		run = ++s;
	}
	binlog_jw_utf8_body(b, run, (size_t)(s - run));
	return bad;
}

/* Single-byte sets with their own low half (swe7: 0x5b is 'Ä'). */
static size_t sbcs_low_to_json(binlog_buf_t *b, const binlog_charset_t *cs, const uint8_t *s,
			       size_t n)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		uint16_t cp = c < 0x80 ? cs->low[c] : cs->high[c - 0x80];

		if (cp || !c) {
			binlog_jw_codepoint(b, cp);
		} else {
			put_fffd(b);
			bad++;
		}
	}
	return bad;
}

static size_t ucs2_to_json(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	size_t bad = 0, i;

	for (i = 0; i + 1 < n; i += 2)
		put_cp(b, (uint32_t)s[i] << 8 | s[i + 1], &bad);
	if (i < n) {
		put_fffd(b);
		bad++;
	}
	return bad;
}

static size_t utf16_to_json(binlog_buf_t *b, const uint8_t *s, size_t n, int le)
{
	size_t bad = 0, i = 0;
	int hi = le ? 1 : 0, lo = le ? 0 : 1;

	while (i + 1 < n) {
		uint32_t u = (uint32_t)s[i + hi] << 8 | s[i + lo];

		i += 2;
		if (u >= 0xd800 && u <= 0xdbff && i + 1 < n) {
			uint32_t v = (uint32_t)s[i + hi] << 8 | s[i + lo];

			if (v >= 0xdc00 && v <= 0xdfff) {
				i += 2;
				binlog_jw_codepoint(b,
						    0x10000 + ((u - 0xd800) << 10) + (v - 0xdc00));
				continue;
			}
		}
		/* A lone surrogate lands in put_cp's replacement; the unit
		 * after a lone high surrogate is read on its own. (MariaDB
		 * 10.11 instead skips one byte and reads on out of step; a
		 * column cannot hold such a value, the server checks on
		 * insert, so only a corrupt event differs.) */
		put_cp(b, u, &bad);
	}
	if (i < n) {
		put_fffd(b);
		bad++;
	}
	return bad;
}

static size_t utf32_to_json(binlog_buf_t *b, const uint8_t *s, size_t n)
{
	size_t bad = 0, i;

	for (i = 0; i + 3 < n; i += 4)
		put_cp(b,
		       (uint32_t)s[i] << 24 | (uint32_t)s[i + 1] << 16 | (uint32_t)s[i + 2] << 8 |
			       s[i + 3],
		       &bad);
	if (i < n) {
		put_fffd(b);
		bad++;
	}
	return bad;
}

static int bit_set(const uint8_t *bm, uint8_t c)
{
	return (bm[c >> 3] >> (c & 7)) & 1;
}

/* Bytes in the character starting at s (1..4), or 0 when s does not start
 * a well-formed one: the shapes are the server's (generated), so a lead
 * byte followed by a non-trail byte is one bad byte, and the next byte
 * starts over, as the server reads it. */
static size_t mb_unit(const binlog_mbcs_t *mb, const uint8_t *s, size_t left)
{
	const uint8_t *ta = mb->trail, *tb = mb->trail + 32;

	switch (mb->byte_kind[s[0]]) {
	case BINLOG_MB_ASCII:
	case BINLOG_MB_SINGLE:
		return 1;
	case BINLOG_MB_LEAD2A:
		return left >= 2 && bit_set(ta, s[1]) ? 2 : 0;
	case BINLOG_MB_LEAD2B:
		return left >= 2 && bit_set(tb, s[1]) ? 2 : 0;
	case BINLOG_MB_LEAD3:
		return left >= 3 && bit_set(ta, s[1]) && bit_set(ta, s[2]) ? 3 : 0;
	case BINLOG_MB_LEAD_GB:
		/* GB 18030: a digit second byte makes a 4-byte character. */
		if (left >= 2 && s[1] >= 0x30 && s[1] <= 0x39)
			return left >= 4 && s[2] >= 0x81 && s[2] <= 0xfe && s[3] >= 0x30 &&
					       s[3] <= 0x39
				       ? 4
				       : 0;
		return left >= 2 && bit_set(ta, s[1]) ? 2 : 0;
	default:
		return 0;
	}
}

/* 1 and the server's code point (0: none) when the character s[0..len)
 * is one where glibc and the server disagree. */
static int mb_override(const binlog_mbcs_t *mb, const uint8_t *s, size_t len, uint32_t *cp)
{
	uint32_t key;
	size_t lo = 0, hi = mb->n_ovr;

	if (len > 3 || !bit_set(mb->ovr_first, s[0]))
		return 0;
	key = (uint32_t)len << 24;
	for (size_t i = 0; i < len; i++)
		key |= (uint32_t)s[i] << (8 * (len - 1 - i));
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mb->ovr[mid].seq < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < mb->n_ovr && mb->ovr[lo].seq == key) {
		*cp = mb->ovr[lo].cp;
		return 1;
	}
	return 0;
}

/* mb_unit, but a byte that starts no character counts as one (left > 0). */
static size_t mb_step(const binlog_mbcs_t *mb, const uint8_t *s, size_t left)
{
	size_t u = mb_unit(mb, s, left);

	return u ? u : 1;
}

/* Code points in the well-formed UTF-8 p[0..n). */
static size_t utf8_count(const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((uint8_t)p[i] & 0xc0) != 0x80;
	return k;
}

/*
 * Convert p[0..n), a run of well-formed non-ASCII characters, with iconv
 * into a bounded stack buffer, appending each chunk through
 * binlog_jw_utf8_body. A character glibc rejects (one the server has no
 * mapping for either) becomes U+FFFD and the conversion goes on after it.
 */
static size_t mb_iconv(binlog_buf_t *b, iconv_t cd, const binlog_mbcs_t *mb, const uint8_t *p,
		       size_t n)
{
	char out[256];
	/* iconv's prototype is not const-correct; it never writes the input. */
	char *in = (char *)(uintptr_t)p;
	size_t left = n, bad = 0;

	if (cd == (iconv_t)-1) {
		while (left) {
			size_t u = mb_step(mb, (const uint8_t *)in, left);

			put_fffd(b);
			bad++;
			in += u;
			left -= u;
		}
		return bad;
	}
	iconv(cd, NULL, NULL, NULL, NULL);
	while (left) {
		char *start = in, *o = out;
		size_t before = left, ol = sizeof(out), r, done, pos = 0, units = 0;
		int err;

		r = iconv(cd, &in, &left, &o, &ol);
		err = errno;
		bad += binlog_jw_utf8_body(b, (const uint8_t *)out, (size_t)(o - out));
		if (r != (size_t)-1 || (err == E2BIG && o != out))
			continue;
		/*
		 * glibc rejected a character. POSIX leaves `in` at it, but
		 * some modules step over it first (glibc 2.36's CP949 does,
		 * for a2 e8), and one could stop inside it. Every character
		 * of a run converts to exactly one code point (the generator
		 * puts any other on the override list), so counting the
		 * characters consumed against the code points written tells
		 * where the rejected one is.
		 */
		done = (size_t)(in - start);
		while (pos < done) {
			pos += mb_step(mb, (const uint8_t *)start + pos, before - pos);
			units++;
		}
		put_fffd(b);
		bad++;
		if (pos == done && pos < before && utf8_count(out, (size_t)(o - out)) == units)
			pos += mb_step(mb, (const uint8_t *)start + pos, before - pos);
		in = start + pos;
		left = before - pos;
	}
	return bad;
}

/*
 * Multi-byte legacy sets. The text is cut into characters by the server's
 * shapes; ASCII runs are copied, runs of other characters go to iconv in
 * one call, and the characters on the generated override list (where glibc
 * maps differently from the server) are written from the list. Bytes below
 * 0x80 are ASCII at a character boundary in every one of these sets (the
 * generator checks it); inside a character they are consumed as trail
 * bytes and never seen here.
 */
static size_t mbcs_to_json(binlog_buf_t *b, binlog_csconv_t *conv, const binlog_charset_t *cs,
			   const uint8_t *s, size_t n)
{
	const binlog_mbcs_t *mb = cs->mb;
	const uint8_t *end = s + n;
	const uint8_t *run = s; /* pending span: ASCII, or run_mb */
	int run_mb = 0;
	iconv_t cd = csconv_get(conv, cs);
	size_t bad = 0;

	while (s < end) {
		size_t len;
		uint32_t cp = 0;

		if (*s < 0x80) {
			if (run_mb) {
				bad += mb_iconv(b, cd, mb, run, (size_t)(s - run));
				run = s;
				run_mb = 0;
			}
			s++;
			continue;
		}
		len = mb_unit(mb, s, (size_t)(end - s));
		if (len && !mb_override(mb, s, len, &cp)) {
			if (!run_mb) {
				binlog_jw_utf8_body(b, run, (size_t)(s - run));
				run = s;
				run_mb = 1;
			}
			s += len;
			continue;
		}
		if (run_mb)
			bad += mb_iconv(b, cd, mb, run, (size_t)(s - run));
		else
			binlog_jw_utf8_body(b, run, (size_t)(s - run));
		if (!len) {
			put_fffd(b);
			bad++;
			s++;
		} else {
			/* The server's own U+FFFD (big5 has a few) is its
			 * mapping, not a replacement, so it is not counted. */
			if (cp)
				binlog_jw_codepoint(b, cp);
			else {
				put_fffd(b);
				bad++;
			}
			s += len;
		}
		run = s;
		run_mb = 0;
	}
	if (run_mb)
		bad += mb_iconv(b, cd, mb, run, (size_t)(s - run));
	else
		binlog_jw_utf8_body(b, run, (size_t)(s - run));
	return bad;
}

size_t binlog_charset_to_json(binlog_buf_t *b, binlog_csconv_t *conv, const binlog_charset_t *cs,
			      const uint8_t *s, size_t n)
{
	switch (cs->kind) {
	case BINLOG_CS_UTF8:
		/* utf8mb3 shares this: a 4-byte sequence cannot be stored in
		 * a utf8mb3 column, and checking for one would cost the hot
		 * path a second test per byte. */
		return binlog_jw_utf8_body(b, s, n);
	case BINLOG_CS_ASCII:
	case BINLOG_CS_SBCS:
		if (cs->low)
			return sbcs_low_to_json(b, cs, s, n);
		return sbcs_to_json(b, cs, s, n);
	case BINLOG_CS_UCS2:
		return ucs2_to_json(b, s, n);
	case BINLOG_CS_UTF16:
		return utf16_to_json(b, s, n, 0);
	case BINLOG_CS_UTF16LE:
		return utf16_to_json(b, s, n, 1);
	case BINLOG_CS_UTF32:
		return utf32_to_json(b, s, n);
	case BINLOG_CS_MBCS:
		return mbcs_to_json(b, conv, cs, s, n);
	default:
		/* binary, which the caller should not send here. */
		return binlog_jw_utf8_body(b, s, n);
	}
}
