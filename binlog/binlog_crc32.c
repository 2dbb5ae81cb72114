/*
 * binlog_crc32.c: the CRC32 of binlog events (the gzip/zlib polynomial),
 * fast.
 *
 * Every byte of a binlog is checksummed, and zlib's table-driven CRC was
 * 7% of a whole decode. On x86-64 with carry-less multiplication
 * (PCLMULQDQ, every x86-64 CPU since 2010) the bulk is folded 64 bytes at
 * a time, as Intel's "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ" describes: four 128-bit lanes are each multiplied by x^512
 * mod P and added to the next 64 bytes, then folded into one lane, reduced
 * to 64 and 32 bits, and a Barrett reduction gives the remainder. The
 * constants are those powers of x modulo P, bit-reflected:
 *
 *   k1 = x^(4*128+32) mod P, k2 = x^(4*128-32) mod P    (fold by 512 bits)
 *   k3 = x^(128+32) mod P,   k4 = x^(128-32) mod P      (fold by 128 bits)
 *   k5 = x^64 mod P                                      (128 -> 64 bits)
 *   P' = P, mu = floor(x^64 / P)                         (Barrett)
 *
 * It deliberately stays with 128-bit instructions: a 512-bit (VPCLMULQDQ)
 * version is faster on its own, but on CPUs that lower their clock for
 * AVX-512 it made the rest of the decode slower than it saved.
 *
 * Elsewhere, and for the last bytes, zlib's crc32(). tests/test_binlog_crc32.c
 * checks both paths against zlib.
 */
#include "binlog_int.h"

#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define CLMUL_TARGET __attribute__((target("pclmul,sse4.1")))

/* Fold a multiple of 16 bytes (at least 64) into the CRC state `crc`
 * (pre-inverted, as the polynomial arithmetic wants it). */
static CLMUL_TARGET uint32_t crc32_clmul(uint32_t crc, const uint8_t *p, size_t n)
{
	const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596LL, 0x154442bd4LL);
	const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009eLL, 0x1751997d0LL);
	const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124LL);
	const __m128i poly = _mm_set_epi64x(0x1f7011641LL, 0x1db710641LL);
	const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
	__m128i x0, x1, x2, x3, t;

	x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)crc));
	x1 = _mm_loadu_si128((const __m128i *)(p + 16));
	x2 = _mm_loadu_si128((const __m128i *)(p + 32));
	x3 = _mm_loadu_si128((const __m128i *)(p + 48));
	p += 64;
	n -= 64;

#define FOLD(x, k, next)                                                                           \
	_mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128((x), (k), 0x00),                          \
				    _mm_clmulepi64_si128((x), (k), 0x11)),                         \
		      (next))

	while (n >= 64) {
		x0 = FOLD(x0, k1k2, _mm_loadu_si128((const __m128i *)p));
		x1 = FOLD(x1, k1k2, _mm_loadu_si128((const __m128i *)(p + 16)));
		x2 = FOLD(x2, k1k2, _mm_loadu_si128((const __m128i *)(p + 32)));
		x3 = FOLD(x3, k1k2, _mm_loadu_si128((const __m128i *)(p + 48)));
		p += 64;
		n -= 64;
	}
	/* four lanes into one */
	x0 = FOLD(x0, k3k4, x1);
	x0 = FOLD(x0, k3k4, x2);
	x0 = FOLD(x0, k3k4, x3);
	while (n >= 16) {
		x0 = FOLD(x0, k3k4, _mm_loadu_si128((const __m128i *)p));
		p += 16;
		n -= 16;
	}
#undef FOLD
	/* 128 -> 64 bits (this also appends the 32 zero bits of the CRC) */
	t = _mm_clmulepi64_si128(k3k4, x0, 0x01);
	x0 = _mm_xor_si128(_mm_srli_si128(x0, 8), t);
	/* 64 -> 32 bits */
	t = _mm_clmulepi64_si128(_mm_and_si128(x0, mask32), k5, 0x00);
	x0 = _mm_xor_si128(_mm_srli_si128(x0, 4), t);
	/* Barrett reduction */
	t = _mm_clmulepi64_si128(_mm_and_si128(x0, mask32), poly, 0x10);
	t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly, 0x00);
	x0 = _mm_xor_si128(x0, t);
	return (uint32_t)_mm_extract_epi32(x0, 1);
}

uint32_t binlog__crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	if (n >= 64 && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
		size_t bulk = n & ~(size_t)15;
		crc = ~crc32_clmul(~crc, p, bulk);
		p += bulk;
		n -= bulk;
	}
	return (uint32_t)crc32(crc, p, (uInt)n);
}

#else

uint32_t binlog__crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(crc, p, (uInt)n);
}

#endif
