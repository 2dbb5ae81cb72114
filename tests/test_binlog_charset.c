/*
 * test_binlog_charset.c: collation ids -> charsets, and every kind of
 * charset conversion to a JSON string body.
 *
 * Expected bytes marked "server:" were obtained from MariaDB 10.11.19 with
 * SELECT HEX(CONVERT(CAST(X'..' AS CHAR CHARACTER SET cs) USING utf8mb4)),
 * where the server's '?' (no mapping) is our U+FFFD.
 */
#include "testutil.h"

#include "binlog_charset.h"

#define FFFD "\xef\xbf\xbd"

/* Convert in charset `name` and compare with the expected body and count. */
static void check(binlog_csconv_t *conv, const char *name, const char *in, size_t n,
		  const char *want, size_t want_bad)
{
	const binlog_charset_t *cs = binlog_charset_by_name(name);
	binlog_buf_t b;
	size_t bad;

	assert_non_null(cs);
	binlog_buf_init(&b, 0);
	bad = binlog_charset_to_json(&b, conv, cs, (const uint8_t *)in, n);
	assert_false(b.failed);
	if (strcmp(tu_str(&b), want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", name, tu_str(&b), want);
	assert_int_equal(bad, want_bad);
	binlog_buf_free(&b);
}

/* A string literal with its length (it may hold NUL bytes). */
#define CHECK(conv, name, lit, want, bad)                                                          \
	check((conv), (name), (lit), sizeof(lit) - 1, (want), (bad))

static int setup(void **state)
{
	*state = binlog_csconv_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	binlog_csconv_free(*state);
	return 0;
}

static void test_latin1(void **state)
{
	binlog_csconv_t *c = *state;

	CHECK(c, "latin1", "\x63\x61\x66\xe9\x20\xf1", "caf\xc3\xa9 \xc3\xb1", 0);
	/* server: 9F8020736566F16F72 -> C5B8E282AC20736566C3B16F72 */
	CHECK(c, "latin1", "\x9f\x80\x20\x73\x65\xf1\x6f\x72", "\xc5\xb8\xe2\x82\xac se\xc3\xb1or",
	      0);
	/* cp1252 leaves 81 8d 8f 90 9d undefined; the server maps them to
	 * the C1 controls of the same value. */
	CHECK(c, "latin1", "\x81\x8d\x8f\x90\x9d", "\xc2\x81\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d", 0);
	CHECK(c, "latin1", "", "", 0);
}

static void test_sbcs(void **state)
{
	binlog_csconv_t *c = *state;

	/* server values, as above */
	CHECK(c, "cp1250", "\x8a\x8e\x9a", "\xc5\xa0\xc5\xbd\xc5\xa1", 0);
	CHECK(c, "cp1250", "a\x81z", "a" FFFD "z", 1); /* unmapped in cp1250 */
	CHECK(c, "koi8r", "\xc1\xc2", "\xd0\xb0\xd0\xb1", 0);
	CHECK(c, "cp1251", "\xc0", "\xd0\x90", 0);
	CHECK(c, "greek", "\xe1", "\xce\xb1", 0);
	CHECK(c, "hebrew", "\xe0", "\xd7\x90", 0);
	/* swe7 redefines part of the ASCII half: server 5B5C5D7B -> ÄÖÅä */
	CHECK(c, "swe7", "\x5b\x5c\x5d\x7b", "\xc3\x84\xc3\x96\xc3\x85\xc3\xa4", 0);
	CHECK(c, "swe7", "a\x80", "a" FFFD, 1);
	CHECK(c, "ascii", "caf\xc3\xa9", "caf" FFFD FFFD, 2);
}

static void test_ucs2(void **state)
{
	binlog_csconv_t *c = *state;

	CHECK(c, "ucs2", "\x00\x68\x00\xe9\x00\x6c\x00\x6c\x00\x6f", "h\xc3\xa9llo", 0);
	CHECK(c, "ucs2", "\x20\xac", "\xe2\x82\xac", 0);
	/* The server passes a surrogate through as ill-formed UTF-8; JSON
	 * cannot carry that. */
	CHECK(c, "ucs2", "\xd8\x00\x00\x41", FFFD "A", 1);
	CHECK(c, "ucs2", "\x00\x41\x00", "A" FFFD, 1); /* odd trailing byte */
}

static void test_utf16(void **state)
{
	binlog_csconv_t *c = *state;

	/* U+1F600 as a surrogate pair */
	CHECK(c, "utf16", "\xd8\x3d\xde\x00", "\xf0\x9f\x98\x80", 0);
	CHECK(c, "utf16le", "\x3d\xd8\x00\xde", "\xf0\x9f\x98\x80", 0);
	CHECK(c, "utf16", "\x00\x68\x00\xe9", "h\xc3\xa9", 0);
	CHECK(c, "utf16le", "\x68\x00\xe9\x00", "h\xc3\xa9", 0);
	/* lone low, lone high followed by a plain unit, high at the end */
	CHECK(c, "utf16", "\xdc\x00\x00\x41", FFFD "A", 1);
	CHECK(c, "utf16", "\xd8\x3d\x00\x41", FFFD "A", 1);
	CHECK(c, "utf16", "\x00\x41\xd8\x3d", "A" FFFD, 1);
	CHECK(c, "utf16le", "\x41\x00\x3d", "A" FFFD, 1); /* odd byte */
}

static void test_utf32(void **state)
{
	binlog_csconv_t *c = *state;

	CHECK(c, "utf32", "\x00\x01\xf6\x00\x00\x00\x00\xe9", "\xf0\x9f\x98\x80\xc3\xa9", 0);
	CHECK(c, "utf32", "\x00\x11\x00\x00", FFFD, 1);
	CHECK(c, "utf32", "\x00\x00\xd8\x00", FFFD, 1);
	CHECK(c, "utf32", "\x00\x00\x00\x41\x00\x00", "A" FFFD, 1);
}

static void test_utf8(void **state)
{
	binlog_csconv_t *c = *state;

	CHECK(c, "utf8mb4", "caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80", 0);
	CHECK(c, "utf8mb3", "caf\xc3\xa9", "caf\xc3\xa9", 0);
	CHECK(c, "utf8", "caf\xc3\xa9", "caf\xc3\xa9", 0);
	/* stray continuation, overlong, truncated sequence, surrogate */
	CHECK(c, "utf8mb4", "a\x80z", "a" FFFD "z", 1);
	CHECK(c, "utf8mb4", "\xc0\xaf", FFFD FFFD, 2);
	CHECK(c, "utf8mb4", "x\xe2\x82", "x" FFFD FFFD, 2);
	CHECK(c, "utf8mb4", "\xed\xa0\x80", FFFD FFFD FFFD, 3);
}

/* '"', '\\', '\n' and 0x01 come out escaped in every kind of charset. */
static void test_escapes(void **state)
{
	binlog_csconv_t *c = *state;
	static const char *const ascii_based[] = {
		"utf8mb4", "utf8mb3", "latin1",  "latin2", "cp1251",  "koi8r",
		"ascii",   "big5",    "gbk",     "gb2312", "gb18030", "sjis",
		"cp932",   "ujis",    "eucjpms", "euckr",  "binary"};
	const char *want = "a\\\"\\\\\\n\\u0001z";

	for (size_t i = 0; i < sizeof(ascii_based) / sizeof(ascii_based[0]); i++)
		check(c, ascii_based[i], "a\"\\\n\x01z", 6, want, 0);
	CHECK(c, "ucs2",
	      "\x00"
	      "a\x00\"\x00\\\x00\n\x00\x01\x00z",
	      want, 0);
	CHECK(c, "utf16",
	      "\x00"
	      "a\x00\"\x00\\\x00\n\x00\x01\x00z",
	      want, 0);
	CHECK(c, "utf16le", "a\x00\"\x00\\\x00\n\x00\x01\x00z\x00", want, 0);
	CHECK(c, "utf32",
	      "\x00\x00\x00"
	      "a\x00\x00\x00\"\x00\x00\x00\\\x00\x00\x00\n"
	      "\x00\x00\x00\x01\x00\x00\x00z",
	      want, 0);
	/* swe7 has no backslash (0x5c is Ö) */
	CHECK(c, "swe7", "a\"\n\x01z", "a\\\"\\n\\u0001z", 0);
	/* A multi-byte character the server maps to a backslash is escaped
	 * too (server: sjis 815F -> 5C, ujis A1C0 -> 5C). */
	CHECK(c, "sjis", "\x81\x5f", "\\\\", 0);
	CHECK(c, "ujis", "\xa1\xc0", "\\\\", 0);
	/* DEL is no control character to JSON: it stays as it is, as in
	 * binlog_jw_utf8_body. */
	CHECK(c, "latin1", "\x7f", "\x7f", 0);
}

static void test_mbcs(void **state)
{
	binlog_csconv_t *c = *state;

	/* server: gbk D6D0CEC4 -> E4B8ADE69687 (中文) */
	CHECK(c, "gbk", "\xd6\xd0\xce\xc4", "\xe4\xb8\xad\xe6\x96\x87", 0);
	/* server: gbk 81408180FE4F -> E4B882E4BA90EFA8A9 (trail < 0x80) */
	CHECK(c, "gbk", "\x81\x40\x81\x80\xfe\x4f", "\xe4\xb8\x82\xe4\xba\x90\xef\xa8\xa9", 0);
	CHECK(c, "gb2312", "\xd6\xd0\xce\xc4", "\xe4\xb8\xad\xe6\x96\x87", 0);
	/* server: big5 A4A4A4E5 -> E4B8ADE69687; A441 -> E4B999 */
	CHECK(c, "big5", "\xa4\xa4\xa4\xe5", "\xe4\xb8\xad\xe6\x96\x87", 0);
	CHECK(c, "big5", "\xa4\x41", "\xe4\xb9\x99", 0);
	/* overrides: server big5 C740 -> E382A8 (glibc: private use),
	 * A145 -> E280A2 (glibc: U+2027), C840 -> '?' (glibc maps it) */
	CHECK(c, "big5", "\xc7\x40", "\xe3\x82\xa8", 0);
	CHECK(c, "big5", "\xa1\x45", "\xe2\x80\xa2", 0);
	CHECK(c, "big5", "x\xc8\x40y", "x" FFFD "y", 1);
	/* server: sjis 93FA967B -> 日本, B1DF -> half-width ｱﾟ, 5C7E stays
	 * ASCII (glibc SJIS would say ¥ and ‾), 8160 -> E3809C */
	CHECK(c, "sjis", "\x93\xfa\x96\x7b", "\xe6\x97\xa5\xe6\x9c\xac", 0);
	CHECK(c, "sjis", "\xb1\xdf", "\xef\xbd\xb1\xef\xbe\x9f", 0);
	CHECK(c, "sjis", "\x5c\x7e", "\\\\~", 0);
	CHECK(c, "sjis", "\x81\x60", "\xe3\x80\x9c", 0);
	/* server: cp932 8740 -> ①, 8160 -> EFBD9E */
	CHECK(c, "cp932", "\x87\x40\x81\x60", "\xe2\x91\xa0\xef\xbd\x9e", 0);
	/* server: euckr C7D1B1B9 -> 한국; 8141 -> 갂 (UHC extension) */
	CHECK(c, "euckr", "\xc7\xd1\xb1\xb9", "\xed\x95\x9c\xea\xb5\xad", 0);
	CHECK(c, "euckr", "\x81\x41", "\xea\xb0\x82", 0);
	/* server: ujis C6FCCBDC -> 日本, 8FB0A1 -> U+4E02 (JIS X 0212),
	 * 8EB1 -> ｱ, ADA1 -> '?' (eucjpms: ①) */
	CHECK(c, "ujis", "\xc6\xfc\xcb\xdc", "\xe6\x97\xa5\xe6\x9c\xac", 0);
	CHECK(c, "ujis", "\x8f\xb0\xa1\x8e\xb1", "\xe4\xb8\x82\xef\xbd\xb1", 0);
	CHECK(c, "ujis", "\xad\xa1", FFFD, 1);
	CHECK(c, "eucjpms", "\xad\xa1", "\xe2\x91\xa0", 0);
	/* Mixed ASCII and multi-byte runs. */
	CHECK(c, "gbk", "a\xd6\xd0-b\xce\xc4.", "a\xe4\xb8\xad-b\xe6\x96\x87.", 0);
	/* GB 18030 (MySQL only; no server here to ask): standard mappings. */
	CHECK(c, "gb18030", "\xd6\xd0", "\xe4\xb8\xad", 0);
	/* four-byte forms: 81308130 = U+0080, 90308130 = U+10000,
	 * 95328236 = U+20000 */
	CHECK(c, "gb18030", "\x81\x30\x81\x30\x90\x30\x81\x30\x95\x32\x82\x36",
	      "\xc2\x80\xf0\x90\x80\x80\xf0\xa0\x80\x80", 0);
	CHECK(c, "gb18030", "\x81\x30\x41", FFFD "0A", 1);
}

static void test_mbcs_invalid(void **state)
{
	binlog_csconv_t *c = *state;

	/* server: gbk 80 -> '?' (glibc GBK would say €); D6 alone -> '?' */
	CHECK(c, "gbk", "\x80", FFFD, 1);
	CHECK(c, "gbk", "ab\xd6", "ab" FFFD, 1);
	/* server: big5 A420 -> 3F20, sjis 8120 -> 3F20: the bad lead is one
	 * character, the next byte starts over */
	CHECK(c, "big5", "\xa4\x20", FFFD " ", 1);
	CHECK(c, "sjis", "\x81\x20", FFFD " ", 1);
	CHECK(c, "ujis", "\x8f\xb0", FFFD FFFD, 2);
	/* A character neither the server nor glibc maps, inside a run that
	 * goes to iconv in one call (server: gbk A140 -> '?', euckr A2E8 ->
	 * '?'; glibc's CP949 steps over a2 e8 before failing, GBK does not). */
	CHECK(c, "gbk", "\xd6\xd0\xa1\x40\xce\xc4", "\xe4\xb8\xad" FFFD "\xe6\x96\x87", 1);
	CHECK(c, "euckr", "\xc7\xd1\xa2\xe8\xb1\xb9", "\xed\x95\x9c" FFFD "\xea\xb5\xad", 1);
	CHECK(c, "euckr", "\xa2\xe8\xa2\xe8", FFFD FFFD, 2);
	/* Without a converter, every non-ASCII character is replaced. */
	{
		const binlog_charset_t *cs = binlog_charset_by_name("gbk");
		binlog_buf_t b;

		binlog_buf_init(&b, 0);
		assert_int_equal(binlog_charset_to_json(&b, NULL, cs,
							(const uint8_t *)"a\xd6\xd0\xce\xc4z", 6),
				 2);
		assert_string_equal(tu_str(&b), "a" FFFD FFFD "z");
		binlog_buf_free(&b);
	}
}

/* A value longer than mb_iconv's stack buffer. */
static void test_mbcs_long(void **state)
{
	binlog_csconv_t *c = *state;
	enum { N = 1000 };
	char in[2 * N], want[3 * N + 1];

	for (size_t i = 0; i < N; i++) {
		memcpy(in + 2 * i, "\xd6\xd0", 2);
		memcpy(want + 3 * i, "\xe4\xb8\xad", 3);
	}
	want[3 * N] = 0;
	check(c, "gbk", in, sizeof(in), want, 0);
}

static void test_collations_all(void **state)
{
	(void)state;
	assert_true(binlog_collations_count > 1000);
	for (size_t i = 0; i < binlog_collations_count; i++) {
		const binlog_collation_t *co = &binlog_collations[i];
		const binlog_charset_t *cs = binlog_charset_of_collation(co->id);
		size_t len;

		if (!cs)
			fail_msg("collation %u (%s) does not resolve", co->id, co->name);
		assert_ptr_equal(cs, &binlog_charsets[co->cs]);
		assert_string_equal(binlog_collation_name(co->id), co->name);
		if (i)
			assert_true(binlog_collations[i - 1].id < co->id);
		/* Every collation name starts with its charset's name. */
		len = strlen(cs->name);
		if (strcmp(co->name, "binary") != 0 &&
		    (strncmp(co->name, cs->name, len) != 0 || co->name[len] != '_'))
			fail_msg("collation %u %s is not %s", co->id, co->name, cs->name);
		assert_int_not_equal(cs->kind, 0);
		if (cs->kind == BINLOG_CS_SBCS || cs->kind == BINLOG_CS_ASCII)
			assert_non_null(cs->high);
		if (cs->kind == BINLOG_CS_MBCS)
			assert_non_null(cs->mb);
	}
}

static void expect_cs(uint32_t id, const char *name)
{
	const binlog_charset_t *cs = binlog_charset_of_collation(id);

	if (!cs)
		fail_msg("collation %u does not resolve", id);
	if (strcmp(cs->name, name) != 0)
		fail_msg("collation %u: %s, want %s", id, cs->name, name);
}

static void test_collations_sample(void **state)
{
	(void)state;
	/* MariaDB */
	expect_cs(8, "latin1");
	expect_cs(33, "utf8mb3");
	expect_cs(45, "utf8mb4");
	expect_cs(63, "binary");
	assert_int_equal(binlog_charset_of_collation(63)->kind, BINLOG_CS_BINARY);
	expect_cs(224, "utf8mb4");
	expect_cs(1032, "latin1");  /* latin1_swedish_nopad_ci */
	expect_cs(576, "utf8mb3");  /* utf8mb3_croatian_ci */
	expect_cs(2048, "utf8mb3"); /* utf8mb3_uca1400_ai_ci */
	expect_cs(2304, "utf8mb4"); /* utf8mb4_uca1400_ai_ci */
	expect_cs(2560, "ucs2");
	expect_cs(2816, "utf16");
	expect_cs(3072, "utf32");
	assert_string_equal(binlog_collation_name(2304), "utf8mb4_uca1400_ai_ci");
	/* A tailoring slot MariaDB 10.11 leaves free still names its block. */
	expect_cs(2300, "utf8mb3");
	/* MySQL */
	expect_cs(255, "utf8mb4");
	assert_string_equal(binlog_collation_name(255), "utf8mb4_0900_ai_ci");
	expect_cs(309, "utf8mb4");
	expect_cs(323, "utf8mb4");
	expect_cs(248, "gb18030");
	expect_cs(76, "utf8mb3");
	expect_cs(35, "ucs2");
	expect_cs(54, "utf16");
	expect_cs(56, "utf16le");
	expect_cs(60, "utf32");
	expect_cs(83, "utf8mb3");
	/* unknown */
	assert_null(binlog_charset_of_collation(0));
	assert_null(binlog_charset_of_collation(17));
	assert_null(binlog_charset_of_collation(100));
	assert_null(binlog_charset_of_collation(272));
	assert_null(binlog_charset_of_collation(2047));
	assert_null(binlog_charset_of_collation(3328));
	assert_null(binlog_charset_of_collation(0xffffffffu));
	assert_null(binlog_collation_name(17));
}

static void test_by_name(void **state)
{
	(void)state;
	assert_string_equal(binlog_charset_by_name("utf8")->name, "utf8mb3");
	assert_string_equal(binlog_charset_by_name("UTF8MB4")->name, "utf8mb4");
	assert_ptr_equal(binlog_charset_by_name("utf8mb4"), binlog_charset_utf8mb4());
	assert_int_equal(binlog_charset_utf8mb4()->kind, BINLOG_CS_UTF8);
	assert_int_equal(binlog_charset_utf8mb4()->mbmaxlen, 4);
	assert_int_equal(binlog_charset_by_name("utf8mb3")->mbmaxlen, 3);
	assert_int_equal(binlog_charset_by_name("latin1")->mbmaxlen, 1);
	assert_int_equal(binlog_charset_by_name("latin1")->kind, BINLOG_CS_SBCS);
	assert_int_equal(binlog_charset_by_name("sjis")->kind, BINLOG_CS_MBCS);
	assert_null(binlog_charset_by_name("klingon"));
	assert_null(binlog_charset_by_name("utf8mb"));
	assert_null(binlog_charset_by_name(NULL));
	/* Every single-byte charset named in the design is table-driven. */
	static const char *const sb[] = {"latin1",   "latin2",  "latin5",  "latin7", "cp1250",
					 "cp1251",   "cp1256",  "cp1257",  "cp850",  "cp852",
					 "cp866",    "koi8r",   "koi8u",   "greek",  "hebrew",
					 "armscii8", "geostd8", "keybcs2", "macce",  "macroman",
					 "dec8",     "hp8",     "swe7",    "tis620"};
	for (size_t i = 0; i < sizeof(sb) / sizeof(sb[0]); i++) {
		const binlog_charset_t *cs = binlog_charset_by_name(sb[i]);

		assert_non_null(cs);
		assert_int_equal(cs->kind, BINLOG_CS_SBCS);
		assert_non_null(cs->high);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latin1),         cmocka_unit_test(test_sbcs),
		cmocka_unit_test(test_ucs2),           cmocka_unit_test(test_utf16),
		cmocka_unit_test(test_utf32),          cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_escapes),        cmocka_unit_test(test_mbcs),
		cmocka_unit_test(test_mbcs_invalid),   cmocka_unit_test(test_mbcs_long),
		cmocka_unit_test(test_collations_all), cmocka_unit_test(test_collations_sample),
		cmocka_unit_test(test_by_name),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
