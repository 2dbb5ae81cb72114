/*
 * fuzz_tail.c: libFuzzer target for what `sluice tail` does with the bytes
 * of a Kafka record, which come from outside: the JSON check that decides
 * whether a value is embedded as is (cdc_tail_json_container), and the
 * escaping of keys and header values (binlog_jw_utf8).
 *
 * Beyond "no crash": an accepted value must start with '{' or '[' and end
 * with the matching bracket (whitespace aside); a value with a NUL byte or
 * an unbalanced bracket count must be refused; the escaped string must be
 * a quoted JSON string with no raw control byte, and valid UTF-8.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_buf.h"
#include "binlog_jsonw.h"
#include "cdc_tail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Is s[0..n) valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF)? */
static int utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t len;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	binlog_buf_t b;
	size_t a = 0, z = size;

	if (cdc_tail_json_container(data, size)) {
		while (a < z && ws(data[a]))
			a++;
		while (z > a && ws(data[z - 1]))
			z--;
		if (z - a < 2 || !((data[a] == '{' && data[z - 1] == '}') ||
				   (data[a] == '[' && data[z - 1] == ']')))
			abort();
		if (memchr(data, 0, size))
			abort();
	}

	binlog_buf_init(&b, 0);
	binlog_jw_utf8(&b, data, size);
	if (!b.failed) {
		if (b.len < 2 || b.data[0] != '"' || b.data[b.len - 1] != '"')
			abort();
		for (size_t i = 0; i < b.len; i++)
			if (b.data[i] < 0x20)
				abort();
		if (!utf8_ok(b.data, b.len))
			abort();
	}
	binlog_buf_free(&b);
	return 0;
}
