/*
 * binlog_charset.h: character sets of text columns, and their conversion
 * to the UTF-8 body of a JSON string.
 *
 * A row event carries CHAR/VARCHAR/TEXT values (and ENUM/SET labels from
 * the TABLE_MAP) as raw bytes in the column's character set. The TABLE_MAP
 * optional metadata names that set by a collation id. This module maps the
 * id to a character set and converts the bytes to UTF-8 the way the server's
 * CONVERT(x USING utf8mb4) would, so a latin1 0x80 comes out as U+20AC (the
 * server's latin1 is Windows cp1252), not as U+0080.
 *
 * How each kind converts:
 *   utf8mb3/utf8mb4: copied in runs by binlog_jw_utf8_body (the hot path);
 *   single-byte sets: a 128-entry table for 0x80..0xff generated from the
 *     server (binlog_charset_tables.c), ASCII bytes copied in runs;
 *   ucs2/utf16/utf16le/utf32: decoded here;
 *   multi-byte legacy sets (big5, gbk, sjis, ...): glibc iconv, with a
 *     generated list of the characters where glibc and the server disagree.
 *
 * Everything but binlog_csconv_t is static, immutable data: safe to share
 * between threads with no locking.
 */
#ifndef SLUICE_BINLOG_CHARSET_H
#define SLUICE_BINLOG_CHARSET_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_buf.h"

/* binlog_charset_t.kind */
enum {
	BINLOG_CS_UTF8 = 1, /* utf8mb3, utf8mb4 */
	BINLOG_CS_BINARY,   /* collation 63: bytes, not text */
	BINLOG_CS_ASCII,    /* 0x00..0x7f; every other byte is unmapped */
	BINLOG_CS_SBCS,     /* one byte per character, by table */
	BINLOG_CS_UCS2,     /* UCS-2 big-endian */
	BINLOG_CS_UTF16,    /* UTF-16 big-endian */
	BINLOG_CS_UTF16LE,  /* UTF-16 little-endian */
	BINLOG_CS_UTF32,    /* UTF-32 big-endian */
	BINLOG_CS_MBCS      /* multi-byte legacy set, through iconv */
};

/* binlog_mbcs_t.byte_kind: what a byte means at a character boundary. */
enum {
	BINLOG_MB_ASCII = 0, /* a character of its own, same as in ASCII */
	BINLOG_MB_SINGLE,    /* a non-ASCII character of its own (SJIS kana) */
	BINLOG_MB_LEAD2A,    /* starts 2 bytes; the second in trail set A */
	BINLOG_MB_LEAD2B,    /* starts 2 bytes; the second in trail set B */
	BINLOG_MB_LEAD3,     /* starts 3 bytes; both others in trail set A */
	BINLOG_MB_LEAD_GB,   /* gb18030: 2 bytes (set A), or 4 when the
			      * second is 0x30..0x39 */
	BINLOG_MB_INVALID    /* never starts a character */
};

/* One character where the server's mapping differs from glibc iconv's:
 * seq is the byte count << 24 | the bytes big-endian; cp is the server's
 * code point, or 0 when the server has none (written as U+FFFD). */
typedef struct binlog_mbcs_override {
	uint32_t seq;
	uint32_t cp;
} binlog_mbcs_override_t;

/* The shape of a multi-byte legacy set and how to convert it (generated). */
typedef struct binlog_mbcs {
	const char *iconv_name;            /* glibc iconv's name of the source encoding */
	const uint8_t *byte_kind;          /* 256 BINLOG_MB_* */
	const uint8_t *trail;              /* 64 bytes: bitmaps of sets A and B */
	const uint8_t *ovr_first;          /* 32 bytes: bitmap of first bytes of ovr */
	const binlog_mbcs_override_t *ovr; /* sorted by seq */
	uint32_t n_ovr;
} binlog_mbcs_t;

/* A character set as the decoder needs it. Static, immutable. */
typedef struct binlog_charset {
	const char *name;        /* "utf8mb4", "latin1", "cp1250", "binary", ... */
	uint8_t kind;            /* BINLOG_CS_* */
	uint8_t mbmaxlen;        /* bytes per character at most */
	uint8_t mb_slot;         /* MBCS: its iconv handle in binlog_csconv_t */
	const uint16_t *high;    /* SBCS/ASCII: code point of each byte
				  * 0x80..0xff (128 entries), 0 = unmapped */
	const uint16_t *low;     /* SBCS: 0x00..0x7f when that half is not
				  * ASCII (swe7), else NULL */
	const binlog_mbcs_t *mb; /* MBCS only */
} binlog_charset_t;

/* Charset of a collation id (MySQL 5.5..9.x ids and MariaDB 10.x/11.x ids),
 * or NULL when unknown. The two servers agree on every id both define, so
 * no flavour is needed (see binlog_charset_tables.c). Returns static data. */
const binlog_charset_t *binlog_charset_of_collation(uint32_t collation_id);

/* Name of a collation id ("utf8mb4_uca1400_ai_ci", "latin1_swedish_ci"),
 * for messages; NULL when unknown. Static string. */
const char *binlog_collation_name(uint32_t collation_id);

/* Charset by name as the server's catalog spells it ("utf8mb4", "utf8" =
 * utf8mb3, "utf8mb3", "latin1", ...; ASCII case ignored), or NULL. Returns
 * static data. */
const binlog_charset_t *binlog_charset_by_name(const char *name);

/* The utf8mb4 charset (used when the binlog does not say). Static data. */
const binlog_charset_t *binlog_charset_utf8mb4(void);

/*
 * Conversion state: caches iconv handles for the multi-byte legacy sets,
 * opened on first use. One per thread; not shared. Owned by the caller:
 * free with binlog_csconv_free. binlog_csconv_new returns NULL when out of
 * memory.
 */
typedef struct binlog_csconv binlog_csconv_t;
binlog_csconv_t *binlog_csconv_new(void);
void binlog_csconv_free(binlog_csconv_t *conv); /* NULL is a no-op */

/*
 * Append the text s[0..n) in charset cs as the BODY of a JSON string (no
 * quotes): UTF-8, with '"', '\\' and control characters escaped exactly as
 * binlog_jw_utf8_body does. Bytes that cannot be converted become U+FFFD
 * (one per malformed or unmapped character; a lone surrogate or a code
 * point the server itself would pass through ill-formed also becomes
 * U+FFFD, since JSON text must be valid UTF-8). Returns the number of such
 * replacements.
 *
 * conv is needed only for BINLOG_CS_MBCS; without it (NULL, or a set glibc
 * lacks) every non-ASCII character of such a set becomes U+FFFD.
 * cs must not be the binary charset (the caller base64-encodes binary);
 * given it anyway, the bytes are treated as UTF-8.
 * Errors of b (growth failure) are sticky in b, as with every writer.
 */
size_t binlog_charset_to_json(binlog_buf_t *b, binlog_csconv_t *conv, const binlog_charset_t *cs,
			      const uint8_t *s, size_t n);

/*
 * Generated data (binlog_charset_tables.c, by tests/tools/gen_charset_tables.py).
 * Internal to binlog_charset.c and its test.
 */
enum {
	BINLOG_COLL_MARIADB = 1, /* id listed by the MariaDB server generated from */
	BINLOG_COLL_MYSQL = 2    /* id of MySQL 5.5..9.x */
};

typedef struct binlog_collation {
	uint16_t id;
	uint8_t cs;     /* index in binlog_charsets */
	uint8_t origin; /* BINLOG_COLL_* bits */
	const char *name;
} binlog_collation_t;

extern const binlog_charset_t binlog_charsets[];
extern const size_t binlog_charsets_count;
extern const size_t binlog_charset_utf8mb4_index;
extern const size_t binlog_mbcs_count; /* slots for binlog_csconv_t */

/* Every known collation, sorted by id. */
extern const binlog_collation_t binlog_collations[];
extern const size_t binlog_collations_count;

/* Ids below binlog_collation_map_size: 1 + index in binlog_charsets, or 0.
 * Ids from BINLOG_UCA1400_FIRST up: MariaDB's UCA 14.0.0 family, whose id
 * encodes the charset in blocks of 256 (binlog_uca1400_block). */
extern const uint8_t binlog_collation_map[];
extern const size_t binlog_collation_map_size;

#define BINLOG_UCA1400_FIRST  2048u
#define BINLOG_UCA1400_BLOCKS 5u
/* 1 + index in binlog_charsets of block (id - 2048) / 256. */
extern const uint8_t binlog_uca1400_block[BINLOG_UCA1400_BLOCKS];

#endif
