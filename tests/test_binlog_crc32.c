/*
 * test_binlog_crc32.c: the carry-less-multiplication CRC32 gives zlib's
 * result for every length and alignment, and continues a running CRC.
 */
#include "testutil.h"

#include <zlib.h>

#include "binlog_int.h"

static void matches_zlib(void **state)
{
	enum { N = 1 << 16 };
	uint8_t *b = malloc(N + 64);
	uint64_t x = 0x243f6a8885a308d3ULL;

	(void)state;
	for (size_t i = 0; i < N + 64; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		b[i] = (uint8_t)x;
	}
	/* every length up to 1 KiB at every alignment mod 16, then larger */
	for (size_t off = 0; off < 16; off++)
		for (size_t n = 0; n <= 1024; n++)
			assert_int_equal(binlog__crc32(0, b + off, n),
					 (uint32_t)crc32(0, b + off, (uInt)n));
	for (size_t n = 1025; n <= N; n = n * 3 / 2 + 7)
		assert_int_equal(binlog__crc32(0, b + 3, n), (uint32_t)crc32(0, b + 3, (uInt)n));
	/* continuing a CRC, as the format description's flag-masked
	 * checksum does */
	for (size_t cut = 0; cut <= 4096; cut += 61) {
		uint32_t c = binlog__crc32(0, b, cut);
		assert_int_equal(binlog__crc32(c, b + cut, 4096 - cut),
				 (uint32_t)crc32(0, b, 4096));
	}
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_zlib),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
