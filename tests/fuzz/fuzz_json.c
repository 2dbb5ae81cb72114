/*
 * fuzz_json.c: libFuzzer target for binlog_json.c.
 *
 * The same input goes to all three entry points: rendered as one binary
 * JSON document, as a diff list, and split in two (a 2-byte length, the
 * before image, the diff list) for diff application. Beyond "no crash",
 * each result is checked: success must produce well-formed JSON text in
 * valid UTF-8, failure must append nothing and report its code in the
 * error, and applying an empty diff list must equal rendering the before
 * image.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_buf.h"
#include "binlog_err.h"
#include "binlog_json.h"
#include "binlog_jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A strict JSON syntax check (RFC 8259) of s[*i..n), recursive but
 * bounded: the renderer nests at most 100 levels and render_diffs adds
 * two. */
static int check_value(const uint8_t *s, size_t n, size_t *i, int depth);

static int digits(const uint8_t *s, size_t n, size_t *i)
{
	size_t start = *i;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i > start;
}

static int check_number(const uint8_t *s, size_t n, size_t *i)
{
	if (*i < n && s[*i] == '-')
		(*i)++;
	if (*i < n && s[*i] == '0')
		(*i)++;
	else if (!digits(s, n, i))
		return 0;
	if (*i < n && s[*i] == '.') {
		(*i)++;
		if (!digits(s, n, i))
			return 0;
	}
	if (*i < n && (s[*i] == 'e' || s[*i] == 'E')) {
		(*i)++;
		if (*i < n && (s[*i] == '+' || s[*i] == '-'))
			(*i)++;
		if (!digits(s, n, i))
			return 0;
	}
	return 1;
}

static int check_string(const uint8_t *s, size_t n, size_t *i)
{
	(*i)++; /* the opening quote */
	while (*i < n) {
		uint8_t c = s[(*i)++];

		if (c == '"')
			return 1;
		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (*i >= n)
			return 0;
		c = s[(*i)++];
		if (c == 'u') {
			for (int k = 0; k < 4; k++, (*i)++) {
				uint8_t h = *i < n ? (uint8_t)(s[*i] | 0x20) : 0;
				if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f')))
					return 0;
			}
		} else if (!strchr("\"\\/bfnrt", c) || c == 0) {
			return 0;
		}
	}
	return 0;
}

static int check_literal(const uint8_t *s, size_t n, size_t *i, const char *lit)
{
	size_t len = strlen(lit);

	if (n - *i < len || memcmp(s + *i, lit, len) != 0)
		return 0;
	*i += len;
	return 1;
}

static int check_container(const uint8_t *s, size_t n, size_t *i, int depth)
{
	uint8_t close = s[*i] == '{' ? '}' : ']';
	int obj = close == '}';

	if (depth > BINLOG_JSON_MAX_DEPTH + 2)
		return 0;
	(*i)++;
	if (*i < n && s[*i] == close) {
		(*i)++;
		return 1;
	}
	for (;;) {
		if (obj) {
			if (*i >= n || s[*i] != '"' || !check_string(s, n, i))
				return 0;
			if (*i >= n || s[(*i)++] != ':')
				return 0;
		}
		if (!check_value(s, n, i, depth + 1))
			return 0;
		if (*i >= n)
			return 0;
		if (s[*i] == close) {
			(*i)++;
			return 1;
		}
		if (s[(*i)++] != ',')
			return 0;
	}
}

static int check_value(const uint8_t *s, size_t n, size_t *i, int depth)
{
	if (*i >= n)
		return 0;
	switch (s[*i]) {
	case '{':
	case '[':
		return check_container(s, n, i, depth);
	case '"':
		return check_string(s, n, i);
	case 't':
		return check_literal(s, n, i, "true");
	case 'f':
		return check_literal(s, n, i, "false");
	case 'n':
		return check_literal(s, n, i, "null");
	default:
		return check_number(s, n, i);
	}
}

/* After a call: either well-formed JSON was appended after `mark`, or
 * nothing was and the error carries the code. */
static void check_result(binlog_errcode_t rc, const binlog_err_t *err, const binlog_buf_t *b,
			 size_t mark)
{
	size_t i = 0;

	if (rc != BINLOG_OK) {
		if (b->len != mark || err->code != rc || !memchr(err->msg, 0, sizeof(err->msg)))
			abort();
		return;
	}
	if (b->failed || b->len <= mark)
		abort();
	if (!check_value(b->data + mark, b->len - mark, &i, 0) || i != b->len - mark)
		abort();
	if (!binlog_utf8_valid(b->data + mark, b->len - mark))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	binlog_buf_t b, r;
	binlog_err_t err;
	binlog_errcode_t rc, rc2;
	size_t bn = 0;
	const uint8_t *before = data, *diff = data;

	/* A 1 MiB output limit keeps hostile inputs fast; the "x" prefix
	 * checks that failures leave earlier text alone. */
	binlog_buf_init(&b, 1 << 20);
	binlog_buf_init(&r, 1 << 20);

	binlog_buf_putc(&b, 'x');
	memset(&err, 0, sizeof(err));
	rc = binlog_json_render(&b, data, size, &err);
	check_result(rc, &err, &b, 1);

	binlog_buf_reset(&b);
	binlog_buf_putc(&b, 'x');
	memset(&err, 0, sizeof(err));
	rc = binlog_json_render_diffs(&b, data, size, &err);
	check_result(rc, &err, &b, 1);

	if (size >= 2) {
		bn = (size_t)data[0] | ((size_t)data[1] << 8);
		if (bn > size - 2)
			bn = size - 2;
		before = data + 2;
		diff = before + bn;
		binlog_buf_reset(&b);
		binlog_buf_putc(&b, 'x');
		memset(&err, 0, sizeof(err));
		rc = binlog_json_apply_diffs(&b, before, bn, diff, size - 2 - bn, &err);
		check_result(rc, &err, &b, 1);

		/* No diffs: the before image exactly as render() writes it. */
		binlog_buf_reset(&b);
		rc = binlog_json_apply_diffs(&b, before, bn, NULL, 0, &err);
		rc2 = binlog_json_render(&r, before, bn, &err);
		if (rc != rc2 ||
		    (rc == BINLOG_OK && (b.len != r.len || memcmp(b.data, r.data, b.len) != 0)))
			abort();
	}
	binlog_buf_free(&b);
	binlog_buf_free(&r);
	return 0;
}
