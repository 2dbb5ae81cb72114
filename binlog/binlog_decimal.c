/*
 * binlog_decimal.c: binary DECIMAL to exact text.
 *
 * Layout of DECIMAL(p,s) (MySQL decimal2bin, identical in MariaDB):
 *
 *   intg = p - s digits before the point, s after it.
 *   [intg % 9 leftover digits][intg / 9 words][s / 9 words][s % 9 leftover]
 *   a word is 4 bytes big-endian holding 9 digits (0..999999999);
 *   a leftover of d digits takes dig2bytes[d] bytes, big-endian.
 *   Negative numbers have every byte inverted; then the top bit of the first
 *   byte is flipped (set means non-negative).
 *
 * Example: DECIMAL(10,5) 0.1 is intg 5 -> 3 bytes, frac 5 -> 3 bytes:
 *   80 00 00 | 00 27 10   (10000 in the 5 fraction digits)
 */
#include "binlog_decimal.h"

#include "binlog_jsonw.h"

static const uint8_t dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t pow10_9[10] = {1,      10,      100,      1000,      10000,
				     100000, 1000000, 10000000, 100000000, 1000000000};

size_t binlog_decimal_size(unsigned prec, unsigned scale)
{
	unsigned intg;

	if (prec < 1 || prec > BINLOG_DECIMAL_MAX_PRECISION || scale > prec ||
	    scale > BINLOG_DECIMAL_MAX_SCALE)
		return 0;
	intg = prec - scale;
	return (size_t)(intg / 9) * 4 + dig2bytes[intg % 9] + (size_t)(scale / 9) * 4 +
	       dig2bytes[scale % 9];
}

/* Read n (1..4) big-endian bytes, undoing the sign inversion. */
static inline uint32_t read_be(const uint8_t *p, unsigned n, uint8_t mask)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | (uint8_t)(p[i] ^ mask);
	return v;
}

/* Write v (below 10^width) as exactly `width` digits, zero-padded, two
 * digits at a time from the end. */
static void put_digits(char *out, uint32_t v, unsigned width)
{
	unsigned i = width;

	while (i >= 2) {
		i -= 2;
		memcpy(out + i, binlog_digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (i)
		out[0] = (char)('0' + v % 10);
}

/*
 * DECIMAL(p,s) with at most 18 integer digits and 9 decimals (money and
 * most other columns): the integer groups add up to one 64-bit number,
 * printed in one go, and the decimals are one group. Same groups, checks
 * and text as the general code below.
 */
static int format_small(binlog_buf_t *b, const uint8_t *p, unsigned intg, unsigned scale)
{
	char text[48];
	unsigned lead = intg % 9, words = intg / 9, nb;
	uint8_t mask = (p[0] & 0x80) ? 0 : 0xff;
	uint32_t sign = 0x80, g, frac = 0; /* sign: the bit to flip back in the first group */
	uint64_t ipart = 0;
	size_t n = 1;

	if (lead) {
		nb = dig2bytes[lead];
		g = read_be(p, nb, mask) ^ (sign << (8 * (nb - 1)));
		sign = 0;
		if (g >= pow10_9[lead])
			return -1;
		ipart = g;
		p += nb;
	}
	for (unsigned w = 0; w < words; w++) {
		g = read_be(p, 4, mask) ^ (sign << 24);
		sign = 0;
		if (g > 999999999u)
			return -1;
		ipart = ipart * 1000000000u + g;
		p += 4;
	}
	if (scale) {
		nb = dig2bytes[scale];
		frac = read_be(p, nb, mask) ^ (sign << (8 * (nb - 1)));
		if (frac >= pow10_9[scale])
			return -1;
	}
	/* text[0] is kept for the sign; a negative zero is printed as zero. */
	n += binlog_u64_to_dec(ipart, text + n);
	if (scale) {
		text[n++] = '.';
		put_digits(text + n, frac, scale);
		n += scale;
	}
	if (mask && (ipart || frac)) {
		text[0] = '-';
		binlog_buf_put(b, text, n);
	} else {
		binlog_buf_put(b, text + 1, n - 1);
	}
	return 0;
}

/*
 * The groups are read in storage order: [leftover] [words] of the integer
 * part, then [words] [leftover] of the fraction, each checked against its
 * digit count. The integer part is written from its first non-zero group,
 * that one without leading zeros; every later group is zero-padded to its
 * width. Text goes to a local buffer first so nothing is appended on error.
 */
int binlog_decimal_format(binlog_buf_t *b, const uint8_t *p, unsigned prec, unsigned scale)
{
	/* 65 digits, a sign, a point and a leading zero fit in 72 bytes. */
	char text[80];
	unsigned intg, ngroups, k;
	uint32_t g[(BINLOG_DECIMAL_MAX_PRECISION + 8) / 9 + 2];
	uint8_t width[(BINLOG_DECIMAL_MAX_PRECISION + 8) / 9 + 2];
	unsigned nint, w;
	size_t n = 1;
	uint32_t any = 0;
	uint8_t mask;
	const uint8_t *q = p;

	if (!binlog_decimal_size(prec, scale))
		return -1;
	intg = prec - scale;
	if (intg <= 18 && scale <= 9)
		return format_small(b, p, intg, scale);

	/* Group widths in storage order; nint of them make the integer part. */
	ngroups = 0;
	if (intg % 9)
		width[ngroups++] = (uint8_t)(intg % 9);
	for (k = 0; k < intg / 9; k++)
		width[ngroups++] = 9;
	nint = ngroups;
	for (k = 0; k < scale / 9; k++)
		width[ngroups++] = 9;
	if (scale % 9)
		width[ngroups++] = (uint8_t)(scale % 9);

	mask = (p[0] & 0x80) ? 0 : 0xff;
	for (k = 0; k < ngroups; k++) {
		unsigned nb = dig2bytes[width[k]];

		g[k] = read_be(q, nb, mask);
		if (k == 0) /* the sign bit, flipped back */
			g[k] ^= (uint32_t)0x80 << (8 * (nb - 1));
		if (g[k] >= pow10_9[width[k]])
			return -1;
		any |= g[k];
		q += nb;
	}

	/* text[0] is kept for the sign. */
	for (k = 0; k < nint && g[k] == 0; k++)
		;
	if (k == nint) {
		text[n++] = '0';
	} else {
		/* The first non-zero group, without its leading zeros. */
		for (w = 1; w < width[k] && g[k] >= pow10_9[w]; w++)
			;
		put_digits(text + n, g[k], w);
		n += w;
		for (k++; k < nint; k++) {
			put_digits(text + n, g[k], width[k]);
			n += width[k];
		}
	}
	if (scale) {
		text[n++] = '.';
		for (k = nint; k < ngroups; k++) {
			put_digits(text + n, g[k], width[k]);
			n += width[k];
		}
	}
	/* A negative zero is printed as zero, as the server does. */
	if (mask && any) {
		text[0] = '-';
		binlog_buf_put(b, text, n);
	} else {
		binlog_buf_put(b, text + 1, n - 1);
	}
	return 0;
}
