/*
 * fuzz_merge.c: libFuzzer target for the merger's decoders of bytes that
 * come from outside: Kafka records (merge_change_parse: key, value and
 * the sequence and type headers) and the lines of table files
 * (merge_line_parse), which another program or a damaged disk may have
 * written.
 *
 * The input is split at its first two 0xFF bytes into key, value and a
 * sequence header. Beyond "no crash":
 *   - an accepted change written as a stored line (merge_line_put) parses
 *     back with the same key, sequence and op: what the merger writes it
 *     can read;
 *   - every span a parser returns lies inside the bytes it was given (or
 *     the scratch buffer, for keys);
 *   - the per-key map keeps, for two offers of one key, the newer by
 *     merge_row_newer, whichever order they come in;
 *   - cdc_json_members, the one-pass check and split of a value, accepts
 *     exactly the objects cdc_json_valid accepts and hands over the
 *     members merge_members_next finds in them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_buf.h"
#include "cdc_record.h"
#include "merge_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(merge_span_t s, const uint8_t *p, size_t n, const binlog_buf_t *scratch)
{
	if (!s.n)
		return;
	if (s.p >= p && s.p + s.n <= p + n)
		return;
	if (scratch->data && s.p >= scratch->data && s.p + s.n <= scratch->data + scratch->len)
		return;
	abort();
}

#define MEMBERS_MAX 64

typedef struct seen_members {
	merge_span_t name[MEMBERS_MAX], val[MEMBERS_MAX];
	size_t n;
} seen_members_t;

static void seen_member(void *ctx, const uint8_t *name, size_t name_len, const uint8_t *val,
			size_t val_len)
{
	seen_members_t *m = ctx;

	if (m->n < MEMBERS_MAX) {
		m->name[m->n] = (merge_span_t){name, name_len};
		m->val[m->n] = (merge_span_t){val, val_len};
	}
	m->n++;
}

/* cdc_json_members against cdc_json_valid and merge_members_next. */
static void check_members(const uint8_t *p, size_t n)
{
	static seen_members_t m;
	merge_members_t it;
	merge_span_t name, v;
	size_t k = 0, i = 0;
	int ok;

	m.n = 0;
	ok = cdc_json_members(p, n, seen_member, &m);
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		i++;
	if (ok != (cdc_json_valid(p, n) && i < n && p[i] == '{'))
		abort();
	if (!ok)
		return;
	merge_members_begin(&it, p, n);
	while (merge_members_next(&it, &name, &v)) {
		if (k < MEMBERS_MAX && (m.name[k].p != name.p || m.name[k].n != name.n ||
					m.val[k].p != v.p || m.val[k].n != v.n))
			abort();
		k++;
	}
	if (k != m.n)
		abort();
}

static const uint8_t *split(const uint8_t **p, size_t *n, size_t *len)
{
	const uint8_t *s = *p, *e = memchr(s, 0xff, *n);

	*len = e ? (size_t)(e - s) : *n;
	*p = e ? e + 1 : s + *n;
	*n -= e ? *len + 1 : *len;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *key, *val, *seq;
	size_t n = size, klen, vlen, slen;
	binlog_buf_t scratch, scratch2, line;
	merge_row_t r, back;
	binlog_err_t err;
	int kind;

	key = split(&p, &n, &klen);
	val = split(&p, &n, &vlen);
	seq = split(&p, &n, &slen);
	binlog_buf_init(&scratch, 1u << 20);
	binlog_buf_init(&scratch2, 1u << 20);
	binlog_buf_init(&line, 1u << 22);

	check_members(val, vlen);
	/* The value alone, as a table file's line. */
	if (merge_line_parse(val, vlen, &scratch, &r, &err) == BINLOG_OK) {
		inside(r.body, val, vlen, &scratch);
		inside(r.db, val, vlen, &scratch);
		inside(r.table, val, vlen, &scratch);
		if (r.op < 0 || r.op > 3)
			abort();
	}
	if (merge_change_parse(key, klen, val, vlen, slen ? (const char *)seq : NULL, slen, NULL, 0,
			       &scratch, &kind, &r, &err) == BINLOG_OK &&
	    kind == MERGE_CHANGE) {
		merge_map_t *m;
		inside(r.body, val, vlen, &scratch);
		inside(r.key, key, klen, &scratch);
		merge_line_put(&line, &r);
		if (!line.failed) {
			if (merge_line_parse(line.data, line.len - 1, &scratch2, &back, &err) !=
			    BINLOG_OK)
				abort();
			if (back.seq != r.seq || back.op != r.op || back.key.n != r.key.n ||
			    memcmp(back.key.p, r.key.p, r.key.n) != 0)
				abort();
			/* Offered in either order, the map keeps the newer. */
			back.seq = r.seq + 1 > r.seq ? r.seq + 1 : r.seq;
			if ((m = merge_map_new())) {
				merge_entry_t *e;
				merge_map_offer(m, &back, line.data, line.len - 1, 2);
				merge_map_offer(m, &r, line.data, line.len - 1, 1);
				e = merge_map_get(m, r.key.p, r.key.n);
				if (!e || merge_map_count(m) != 1 ||
				    (e->aux != 2 && back.seq != r.seq))
					abort();
				merge_map_free(m);
			}
		}
	}
	binlog_buf_free(&scratch);
	binlog_buf_free(&scratch2);
	binlog_buf_free(&line);
	return 0;
}
