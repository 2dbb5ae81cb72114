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
static uint32_t read_be(const uint8_t *p, unsigned n, uint8_t mask)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | (uint8_t)(p[i] ^ mask);
	return v;
}

/* Write v as exactly `width` digits (zero-padded) into out. */
static void put_digits(char *out, uint32_t v, unsigned width)
{
	for (unsigned i = width; i-- > 0;) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

int binlog_decimal_format(binlog_buf_t *b, const uint8_t *p, unsigned prec,
			  unsigned scale)
{
	/* 65 digits, a sign, a point and a leading zero fit in 72 bytes. */
	char text[80];
	uint8_t first[1];
	unsigned intg, intg0, intg0x, frac0, frac0x;
	size_t n = 0, start;
	uint8_t mask;
	const uint8_t *q;
	int nonzero = 0;

	if (!binlog_decimal_size(prec, scale))
		return -1;
	intg = prec - scale;
	intg0 = intg / 9;
	intg0x = intg % 9;
	frac0 = scale / 9;
	frac0x = scale % 9;

	mask = (p[0] & 0x80) ? 0 : 0xff;
	/* Work on a copy of the first byte with the sign bit flipped back so
	 * the generic reader sees plain digits. */
	first[0] = p[0] ^ 0x80;

	text[n++] = '-';
	start = n;
	q = p;

	/* Integer part: digits are emitted zero-padded, leading zeros are
	 * trimmed at the end. */
	if (intg0x) {
		unsigned nb = dig2bytes[intg0x];
		uint32_t v;
		uint8_t tmp[4];
		for (unsigned i = 0; i < nb; i++)
			tmp[i] = q[i];
		tmp[0] = first[0];
		v = read_be(tmp, nb, mask);
		if (v >= pow10_9[intg0x])
			return -1;
		put_digits(text + n, v, intg0x);
		n += intg0x;
		q += nb;
	}
	for (unsigned w = 0; w < intg0; w++) {
		uint8_t tmp[4] = {q[0], q[1], q[2], q[3]};
		uint32_t v;
		if (q == p)
			tmp[0] = first[0];
		v = read_be(tmp, 4, mask);
		if (v > 999999999u)
			return -1;
		put_digits(text + n, v, 9);
		n += 9;
		q += 4;
	}
	/* Trim leading zeros of the integer part, keeping one digit. */
	{
		size_t z = start;
		while (z < n && text[z] == '0')
			z++;
		if (z == n) {
			n = start;
			text[n++] = '0';
		} else if (z > start) {
			memmove(text + start, text + z, n - z);
			n -= z - start;
		}
		for (size_t i = start; i < n; i++)
			nonzero |= text[i] != '0';
	}
	if (scale) {
		text[n++] = '.';
		for (unsigned w = 0; w < frac0; w++) {
			uint8_t tmp[4] = {q[0], q[1], q[2], q[3]};
			uint32_t v;
			if (q == p)
				tmp[0] = first[0];
			v = read_be(tmp, 4, mask);
			if (v > 999999999u)
				return -1;
			put_digits(text + n, v, 9);
			nonzero |= v != 0;
			n += 9;
			q += 4;
		}
		if (frac0x) {
			unsigned nb = dig2bytes[frac0x];
			uint8_t tmp[4];
			uint32_t v;
			for (unsigned i = 0; i < nb; i++)
				tmp[i] = q[i];
			if (q == p)
				tmp[0] = first[0];
			v = read_be(tmp, nb, mask);
			if (v >= pow10_9[frac0x])
				return -1;
			put_digits(text + n, v, frac0x);
			nonzero |= v != 0;
			n += frac0x;
		}
	}
	/* A negative zero is printed as zero, as the server does. */
	if (mask && nonzero)
		binlog_buf_put(b, text, n);
	else
		binlog_buf_put(b, text + 1, n - 1);
	return 0;
}
