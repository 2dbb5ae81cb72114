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
 *
 * The same bytes, read as a program, also drive the reorder buffer of
 * --ordered (cdc_tail_order_*): records of 8 keys on 4 lanes, time going
 * on, lanes reset, a flush at the end. With a byte budget too large to
 * matter, every answer must be the one of a model that scans arrays (the
 * smallest sequence held, ties by arrival; verdicts against the last
 * sequence of each key, least recently released forgotten beyond
 * max_keys; what each lane may commit; when the smallest falls due); with
 * a small one, the bounds must hold after every drain.
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

#define OPS_MAX 2048 /* the model scans: keep a run short */
#define KEYS    8
#define LANES   4

typedef struct mrec {
	uint32_t id;
	uint64_t seq;
	int key, hb, lane, held;
	int64_t pos, since;
} mrec_t;

typedef struct model {
	cdc_tail_order_conf_t conf;
	int exact; /* the byte budget never binds */
	mrec_t rec[OPS_MAX];
	uint32_t n;
	int has_last[KEYS];
	uint64_t last[KEYS];
	uint64_t stamp[KEYS]; /* when released last: the LRU order */
	uint64_t clock;
	int64_t next[LANES];
} model_t;

static void key_bytes(int k, uint8_t *buf, size_t *len)
{
	/* Key 0 is no key; the others differ in length and bytes. */
	*len = (size_t)k;
	memset(buf, 'a' + k, *len);
}

static cdc_tail_verdict_t model_judge(const model_t *m, const mrec_t *r)
{
	if (r->hb || !m->has_last[r->key] || r->seq > m->last[r->key])
		return CDC_TAIL_IN_ORDER;
	return r->seq == m->last[r->key] ? CDC_TAIL_DUPLICATE : CDC_TAIL_LATE;
}

static void model_remember(model_t *m, const mrec_t *r)
{
	int count = 0, oldest = -1;

	if (r->hb)
		return;
	if (!m->has_last[r->key]) {
		for (int k = 0; k < KEYS; k++) {
			if (!m->has_last[k])
				continue;
			count++;
			if (oldest < 0 || m->stamp[k] < m->stamp[oldest])
				oldest = k;
		}
		if ((uint64_t)count >= m->conf.max_keys)
			m->has_last[oldest] = 0;
	}
	m->has_last[r->key] = 1;
	m->last[r->key] = r->seq;
	m->stamp[r->key] = ++m->clock;
}

/* The held record with the smallest (sequence, arrival), or NULL. */
static mrec_t *model_min(model_t *m, uint32_t *count)
{
	mrec_t *best = NULL;

	*count = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		if (!m->rec[i].held)
			continue;
		(*count)++;
		if (!best || m->rec[i].seq < best->seq)
			best = &m->rec[i];
	}
	return best;
}

static void check_committable(const model_t *m, const cdc_tail_order_t *o)
{
	for (int lane = 0; lane < LANES; lane++) {
		int64_t want = m->next[lane], got = 0;
		int have = cdc_tail_order_committable(o, (uint32_t)lane, &got);

		for (uint32_t i = 0; i < m->n; i++)
			if (m->rec[i].held && m->rec[i].lane == lane) {
				want = m->rec[i].pos;
				break;
			}
		if (have != (want >= 0) || (have && got != want))
			abort();
	}
}

/* Release what is due, as tail_release does, and compare. */
static void drain(model_t *m, cdc_tail_order_t *o, int64_t now, int flush)
{
	const cdc_tail_order_rec_t *r;
	cdc_tail_verdict_t v;
	uint64_t held;
	size_t bytes, kbytes;

	for (;;) {
		uint32_t count;
		mrec_t *want = model_min(m, &count);
		int due = want &&
			  (flush || count > m->conf.window || now - want->since >= m->conf.hold_ms);
		uint32_t id;

		if (cdc_tail_order_next(o, now, flush, &r, &v) != BINLOG_OK)
			abort();
		if (!r)
			break;
		if (r->line_len != sizeof(id))
			abort();
		memcpy(&id, r->line, sizeof(id));
		if (id >= m->n || !m->rec[id].held)
			abort();
		if (m->exact && (!due || id != want->id || v != model_judge(m, want)))
			abort();
		if (!m->exact)
			want = &m->rec[id];
		if (v == CDC_TAIL_IN_ORDER)
			model_remember(m, want);
		else if (want->hb)
			abort();
		want->held = 0;
	}
	cdc_tail_order_stats(o, &held, &bytes, NULL, &kbytes);
	if (held > m->conf.window || bytes > m->conf.max_bytes || kbytes > m->conf.max_bytes)
		abort();
	if (m->exact) {
		uint32_t count;
		mrec_t *top = model_min(m, &count);

		if (held != count || (top && now - top->since >= m->conf.hold_ms))
			abort();
		if (cdc_tail_order_due_ms(o) != (top ? top->since + m->conf.hold_ms : INT64_MAX))
			abort();
		check_committable(m, o);
	}
}

static void fuzz_order(const uint8_t *data, size_t size)
{
	static model_t m;
	cdc_tail_order_t *o;
	int64_t now = 1000;
	size_t i = 4;

	if (size < 4)
		return;
	memset(&m, 0, sizeof(m));
	m.conf.window = 1 + data[0] % 8;
	m.conf.max_keys = 1 + data[1] % 10;
	m.conf.hold_ms = 1 + data[2] % 32;
	m.exact = !(data[3] & 1);
	m.conf.max_bytes = m.exact ? (size_t)1 << 30 : 100 + (size_t)data[3] * 8;
	for (int l = 0; l < LANES; l++)
		m.next[l] = -1;
	o = cdc_tail_order_new(&m.conf);
	if (!o)
		return;
	while (i < size && m.n < OPS_MAX) {
		uint8_t op = data[i++];

		if (op < 0xc0) {
			/* A record: key, lane and heartbeat from op, sequence from
			 * the next byte (small, so that they repeat). */
			mrec_t *r = &m.rec[m.n];
			cdc_tail_order_rec_t in = {0};
			cdc_tail_verdict_t v;
			uint8_t kb[KEYS];
			size_t klen;

			r->id = m.n;
			r->key = op & 7;
			r->lane = (op >> 3) & 3;
			r->hb = (op >> 5) == 5;
			r->seq = i < size ? data[i++] % 64 : 0;
			r->pos = m.next[r->lane] < 0 ? 0 : m.next[r->lane];
			r->since = now;
			key_bytes(r->key, kb, &klen);
			in.key = r->key ? kb : NULL;
			in.key_len = klen;
			in.line = (const uint8_t *)&r->id;
			in.line_len = sizeof(r->id);
			in.seq = r->seq;
			in.heartbeat = r->hb;
			in.lane = (uint32_t)r->lane;
			in.pos = r->pos;
			if (cdc_tail_order_add(o, &in, now, &v) != BINLOG_OK)
				abort();
			m.next[r->lane] = r->pos + 1;
			if (m.exact &&
			    v != (model_judge(&m, r) == CDC_TAIL_IN_ORDER ? CDC_TAIL_HELD
									  : model_judge(&m, r)))
				abort();
			r->held = v == CDC_TAIL_HELD;
			if (r->hb && v != CDC_TAIL_HELD)
				abort();
			m.n++;
			drain(&m, o, now, 0);
		} else if (op < 0xf0) {
			now += op & 0x3f;
			drain(&m, o, now, 0);
		} else {
			/* Reset a lane: its held records no longer bound it. */
			int lane = op & 3;

			cdc_tail_order_lane_reset(o, (uint32_t)lane);
			for (uint32_t k = 0; k < m.n; k++)
				if (m.rec[k].lane == lane)
					m.rec[k].lane = -1;
			m.next[lane] = -1;
			drain(&m, o, now, 0);
		}
	}
	drain(&m, o, now, 1);
	cdc_tail_order_free(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_order(data, size);

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
