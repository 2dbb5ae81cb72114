/*
 * binlog_gtid.c: GTID sets (decode from PREVIOUS_GTIDS, add, count, text)
 * and the text form of a single GTID.
 */
#include "binlog_gtid.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gtid_interval {
	uint64_t start; /* first transaction number */
	uint64_t end;   /* one past the last */
} gtid_interval_t;

typedef struct gtid_source {
	uint8_t uuid[16];
	uint8_t tag_len;
	char tag[BINLOG_GTID_TAG_MAX + 1];
	uint32_t n, cap;
	gtid_interval_t *iv;
} gtid_source_t;

struct binlog_gtid_set {
	uint32_t n, cap;
	gtid_source_t *src;
};

binlog_gtid_set_t *binlog_gtid_set_new(void)
{
	return calloc(1, sizeof(binlog_gtid_set_t));
}

void binlog_gtid_set_clear(binlog_gtid_set_t *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		free(s->src[i].iv);
	s->n = 0;
}

void binlog_gtid_set_free(binlog_gtid_set_t *s)
{
	if (!s)
		return;
	binlog_gtid_set_clear(s);
	free(s->src);
	free(s);
}

static int source_cmp(const uint8_t *uuid, const char *tag, const gtid_source_t *x)
{
	int c = memcmp(uuid, x->uuid, 16);
	if (c)
		return c;
	return strcmp(tag, x->tag);
}

/* Index of the source, or the insertion point as -(pos + 1). */
static long source_find(const binlog_gtid_set_t *s, const uint8_t *uuid, const char *tag)
{
	uint32_t lo = 0, hi = s->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = source_cmp(uuid, tag, &s->src[mid]);
		if (c == 0)
			return mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(long)lo - 1;
}

static gtid_source_t *source_get(binlog_gtid_set_t *s, const uint8_t *uuid, const char *tag)
{
	long i = source_find(s, uuid, tag);
	size_t tl = strlen(tag);
	gtid_source_t *x;

	if (i >= 0)
		return &s->src[i];
	if (tl > BINLOG_GTID_TAG_MAX)
		return NULL;
	i = -i - 1;
	if (s->n == s->cap) {
		uint32_t ncap = s->cap ? s->cap * 2 : 4;
		gtid_source_t *p = realloc(s->src, ncap * sizeof(*p));
		if (!p)
			return NULL;
		s->src = p;
		s->cap = ncap;
	}
	memmove(&s->src[i + 1], &s->src[i], (s->n - (uint32_t)i) * sizeof(*s->src));
	s->n++;
	x = &s->src[i];
	memset(x, 0, sizeof(*x));
	memcpy(x->uuid, uuid, 16);
	memcpy(x->tag, tag, tl + 1);
	x->tag_len = (uint8_t)tl;
	return x;
}

/* Add [start, end) to a source, keeping intervals sorted and merged. */
static int source_add(gtid_source_t *x, uint64_t start, uint64_t end)
{
	uint32_t lo = 0, hi = x->n, i, j;

	if (start >= end)
		return 0;
	/* First interval whose end >= start (it may touch or overlap). */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (x->iv[mid].end < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	i = lo;
	/* Merge every interval that overlaps or touches [start, end). */
	j = i;
	while (j < x->n && x->iv[j].start <= end) {
		if (x->iv[j].start < start)
			start = x->iv[j].start;
		if (x->iv[j].end > end)
			end = x->iv[j].end;
		j++;
	}
	if (j > i) {
		x->iv[i].start = start;
		x->iv[i].end = end;
		memmove(&x->iv[i + 1], &x->iv[j], (x->n - j) * sizeof(*x->iv));
		x->n -= j - i - 1;
		return 0;
	}
	if (x->n == x->cap) {
		uint32_t ncap = x->cap ? x->cap * 2 : 4;
		gtid_interval_t *p = realloc(x->iv, ncap * sizeof(*p));
		if (!p)
			return -1;
		x->iv = p;
		x->cap = ncap;
	}
	memmove(&x->iv[i + 1], &x->iv[i], (x->n - i) * sizeof(*x->iv));
	x->iv[i].start = start;
	x->iv[i].end = end;
	x->n++;
	return 0;
}

int binlog_gtid_set_add_range(binlog_gtid_set_t *s, const uint8_t uuid[16], const char *tag,
			      uint64_t first, uint64_t last)
{
	gtid_source_t *x;

	if (last < first || last == UINT64_MAX)
		return -1;
	x = source_get(s, uuid, tag ? tag : "");
	if (!x)
		return -1;
	return source_add(x, first, last + 1);
}

int binlog_gtid_set_contains(const binlog_gtid_set_t *s, const binlog_gtid_t *g)
{
	long i = source_find(s, g->uuid, g->tag);
	const gtid_source_t *x;
	uint32_t lo = 0, hi;

	if (i < 0)
		return 0;
	x = &s->src[i];
	hi = x->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (x->iv[mid].end <= g->gno)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->n && x->iv[lo].start <= g->gno;
}

int binlog_gtid_set_add(binlog_gtid_set_t *s, const binlog_gtid_t *g)
{
	gtid_source_t *x;

	if (g->gno == UINT64_MAX)
		return -1;
	if (binlog_gtid_set_contains(s, g))
		return 0;
	x = source_get(s, g->uuid, g->tag);
	if (!x || source_add(x, g->gno, g->gno + 1))
		return -1;
	return 1;
}

int binlog_gtid_set_remove(binlog_gtid_set_t *s, const binlog_gtid_t *g)
{
	long i = source_find(s, g->uuid, g->tag);
	gtid_source_t *x;
	uint32_t lo = 0, hi;
	gtid_interval_t *iv;

	if (i < 0)
		return 0;
	x = &s->src[i];
	hi = x->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (x->iv[mid].end <= g->gno)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= x->n || x->iv[lo].start > g->gno)
		return 0;
	iv = &x->iv[lo];
	if (iv->start == g->gno && iv->end == g->gno + 1) {
		memmove(iv, iv + 1, (x->n - lo - 1) * sizeof(*iv));
		x->n--;
	} else if (iv->start == g->gno) {
		iv->start++;
	} else if (iv->end == g->gno + 1) {
		iv->end--;
	} else {
		/* inside: split [start, end) into [start, gno) and [gno + 1, end) */
		uint64_t end = iv->end;
		iv->end = g->gno;
		if (source_add(x, g->gno + 1, end))
			return -1;
	}
	return 1;
}

int binlog_gtid_set_has_source(const binlog_gtid_set_t *s, const uint8_t uuid[16], const char *tag)
{
	long i = source_find(s, uuid, tag ? tag : "");
	return i >= 0 && s->src[i].n > 0;
}

uint64_t binlog_gtid_set_count(const binlog_gtid_set_t *s)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < s->n; i++)
		for (uint32_t k = 0; k < s->src[i].n; k++) {
			uint64_t len = s->src[i].iv[k].end - s->src[i].iv[k].start;
			if (total > UINT64_MAX - len)
				return UINT64_MAX;
			total += len;
		}
	return total;
}

binlog_errcode_t binlog_gtid_set_copy(binlog_gtid_set_t *dst, const binlog_gtid_set_t *src)
{
	binlog_gtid_set_clear(dst);
	return binlog_gtid_set_union(dst, src);
}

binlog_errcode_t binlog_gtid_set_union(binlog_gtid_set_t *dst, const binlog_gtid_set_t *src)
{
	for (uint32_t i = 0; i < src->n; i++) {
		const gtid_source_t *x = &src->src[i];
		for (uint32_t k = 0; k < x->n; k++)
			if (binlog_gtid_set_add_range(dst, x->uuid, x->tag, x->iv[k].start,
						      x->iv[k].end - 1))
				return BINLOG_E_NOMEM;
	}
	return BINLOG_OK;
}

int binlog_cur_varlen(binlog_cur_t *c, uint64_t *v)
{
	uint8_t b0;
	unsigned n;

	if (c->p >= c->end)
		return 0;
	b0 = c->p[0];
	n = 1;
	while (n < 9 && (b0 >> (n - 1)) & 1)
		n++;
	if (binlog_cur_left(c) < n)
		return 0;
	if (n == 9)
		*v = binlog_le64(c->p + 1);
	else
		*v = binlog_le(c->p, n) >> n;
	c->p += n;
	return 1;
}

/* Tags are [a-z_][a-z0-9_]* up to 32 characters; MySQL folds case. */
static int tag_valid(const char *t, size_t n)
{
	if (n == 0 || n > BINLOG_GTID_TAG_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t[i];
		if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (i > 0 && ch >= '0' && ch <= '9')))
			return 0;
	}
	return 1;
}

binlog_errcode_t binlog_gtid_set_decode(binlog_gtid_set_t *s, const uint8_t *p, size_t n,
					binlog_err_t *err)
{
	binlog_cur_t c = binlog_cur_make(p, n);
	uint64_t head, nsids;
	int tagged;

	binlog_gtid_set_clear(s);
	if (!binlog_cur_le64(&c, &head))
		return binlog_err_set(err, BINLOG_E_TRUNCATED,
				      "GTID set: %zu bytes, need 8 for the source count", n);
	tagged = (head >> 56) == 1;
	if (tagged) {
		if ((head & 0xff) != 1)
			return binlog_err_set(err, BINLOG_E_BAD_EVENT,
					      "GTID set: tagged format bytes disagree (0x%016llx)",
					      (unsigned long long)head);
		nsids = (head >> 8) & 0xffffffffffffULL;
	} else if ((head >> 56) == 0) {
		nsids = head;
	} else {
		return binlog_err_set(err, BINLOG_E_UNSUPPORTED,
				      "GTID set: unknown encoding format %u",
				      (unsigned)(head >> 56));
	}
	/* Each source takes at least 24 bytes; refuse counts the bytes cannot
	 * hold before looping on them. */
	if (nsids > binlog_cur_left(&c) / 24)
		return binlog_err_set(err, BINLOG_E_BAD_EVENT,
				      "GTID set: %llu sources cannot fit in %zu bytes",
				      (unsigned long long)nsids, binlog_cur_left(&c));
	for (uint64_t i = 0; i < nsids; i++) {
		const uint8_t *uuid;
		char tag[BINLOG_GTID_TAG_MAX + 1] = "";
		uint64_t niv;

		if (!binlog_cur_bytes(&c, 16, &uuid))
			goto truncated;
		if (tagged) {
			uint64_t tl;
			const uint8_t *tp;
			if (!binlog_cur_varlen(&c, &tl) || tl > BINLOG_GTID_TAG_MAX ||
			    !binlog_cur_bytes(&c, (size_t)tl, &tp))
				return binlog_err_set(err, BINLOG_E_BAD_EVENT,
						      "GTID set: source %llu: bad tag",
						      (unsigned long long)i);
			if (tl && !tag_valid((const char *)tp, (size_t)tl))
				return binlog_err_set(err, BINLOG_E_BAD_EVENT,
						      "GTID set: source %llu: invalid tag",
						      (unsigned long long)i);
			for (size_t k = 0; k < tl; k++)
				tag[k] = (char)tolower(tp[k]);
			tag[tl] = 0;
		}
		if (!binlog_cur_le64(&c, &niv))
			goto truncated;
		if (niv > binlog_cur_left(&c) / 16)
			return binlog_err_set(
				err, BINLOG_E_BAD_EVENT,
				"GTID set: source %llu claims %llu intervals, %zu bytes left",
				(unsigned long long)i, (unsigned long long)niv,
				binlog_cur_left(&c));
		for (uint64_t k = 0; k < niv; k++) {
			uint64_t a = 0, b = 0;
			binlog_cur_le64(&c, &a);
			binlog_cur_le64(&c, &b);
			if (a < 1 || b <= a)
				return binlog_err_set(
					err, BINLOG_E_BAD_EVENT,
					"GTID set: source %llu interval %llu is [%llu, %llu)",
					(unsigned long long)i, (unsigned long long)k,
					(unsigned long long)a, (unsigned long long)b);
			if (binlog_gtid_set_add_range(s, uuid, tag, a, b - 1))
				return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
	}
	if (binlog_cur_left(&c))
		return binlog_err_set(err, BINLOG_E_BAD_EVENT,
				      "GTID set: %zu unexpected bytes after the last source",
				      binlog_cur_left(&c));
	return BINLOG_OK;
truncated:
	return binlog_err_set(err, BINLOG_E_TRUNCATED, "GTID set: truncated");
}

static void put_le64(binlog_buf_t *b, uint64_t v)
{
	uint8_t t[8];

	for (int i = 0; i < 8; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	binlog_buf_put(b, t, 8);
}

void binlog_gtid_set_encode(const binlog_gtid_set_t *s, binlog_buf_t *b)
{
	int tagged = 0;

	for (uint32_t i = 0; i < s->n; i++)
		tagged |= s->src[i].tag_len != 0;
	put_le64(b, tagged ? (uint64_t)1 << 56 | (uint64_t)s->n << 8 | 1 : s->n);
	for (uint32_t i = 0; i < s->n; i++) {
		const gtid_source_t *x = &s->src[i];
		binlog_buf_put(b, x->uuid, 16);
		if (tagged) {
			/* a tag is at most 32 bytes: a one-byte varlen */
			binlog_buf_putc(b, (uint8_t)(x->tag_len << 1));
			binlog_buf_put(b, x->tag, x->tag_len);
		}
		put_le64(b, x->n);
		for (uint32_t k = 0; k < x->n; k++) {
			put_le64(b, x->iv[k].start);
			put_le64(b, x->iv[k].end);
		}
	}
}

void binlog_uuid_format(const uint8_t u[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[u[i] >> 4];
		out[k++] = hex[u[i] & 15];
	}
	out[k] = 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int binlog_uuid_parse(const char *t, uint8_t out[16])
{
	int k = 0;

	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (t[i] != '-')
				return -1;
			continue;
		}
		int hi = hexval(t[i]), lo;
		if (hi < 0)
			return -1;
		i++;
		lo = hexval(t[i]);
		if (lo < 0)
			return -1;
		out[k++] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

size_t binlog_gtid_format(const binlog_gtid_t *g, char *out, size_t cap)
{
	char uuid[37];
	int n;

	switch (g->kind) {
	case BINLOG_GTID_MYSQL:
		binlog_uuid_format(g->uuid, uuid);
		if (g->tag_len)
			n = snprintf(out, cap, "%s:%s:%llu", uuid, g->tag,
				     (unsigned long long)g->gno);
		else
			n = snprintf(out, cap, "%s:%llu", uuid, (unsigned long long)g->gno);
		break;
	case BINLOG_GTID_MARIADB:
		n = snprintf(out, cap, "%u-%u-%llu", g->domain, g->server_id,
			     (unsigned long long)g->seq);
		break;
	default:
		n = snprintf(out, cap, "%s", "");
	}
	return n < 0 ? 0 : (size_t)n;
}

void binlog_gtid_set_format(const binlog_gtid_set_t *s, binlog_buf_t *b)
{
	char uuid[37];
	int first = 1;

	for (uint32_t i = 0; i < s->n; i++) {
		const gtid_source_t *x = &s->src[i];
		if (!x->n)
			continue;
		/* Untagged intervals of a UUID come first, then its tags; the
		 * sort order (uuid, tag) with "" lowest gives exactly that. */
		if (!first)
			binlog_buf_putc(b, ',');
		first = 0;
		binlog_uuid_format(x->uuid, uuid);
		binlog_buf_put(b, uuid, 36);
		if (x->tag_len) {
			binlog_buf_putc(b, ':');
			binlog_buf_put(b, x->tag, x->tag_len);
		}
		for (uint32_t k = 0; k < x->n; k++) {
			char num[48];
			int len;
			if (x->iv[k].end - x->iv[k].start == 1)
				len = snprintf(num, sizeof(num), ":%llu",
					       (unsigned long long)x->iv[k].start);
			else
				len = snprintf(num, sizeof(num), ":%llu-%llu",
					       (unsigned long long)x->iv[k].start,
					       (unsigned long long)(x->iv[k].end - 1));
			binlog_buf_put(b, num, (size_t)len);
		}
	}
}

static int parse_u64(const char **pp, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;

	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
		p++;
	}
	*pp = p;
	*v = x;
	return 0;
}

binlog_errcode_t binlog_gtid_set_parse(binlog_gtid_set_t *s, const char *text, binlog_err_t *err)
{
	const char *p = text;

	binlog_gtid_set_clear(s);
	while (*p == ' ' || *p == '\n' || *p == '\t')
		p++;
	while (*p) {
		uint8_t uuid[16];
		char tag[BINLOG_GTID_TAG_MAX + 1] = "";

		if (strlen(p) < 36 || binlog_uuid_parse(p, uuid))
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "GTID set: expected a UUID at offset %zu",
					      (size_t)(p - text));
		p += 36;
		while (*p == ':') {
			uint64_t a = 0, b = 0;
			p++;
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_') {
				size_t n = 0;
				while (p[n] && p[n] != ':' && p[n] != ',' &&
				       !isspace((unsigned char)p[n]))
					n++;
				if (!tag_valid(p, n))
					return binlog_err_set(err, BINLOG_E_USAGE,
							      "GTID set: invalid tag at offset %zu",
							      (size_t)(p - text));
				for (size_t k = 0; k < n; k++)
					tag[k] = (char)tolower((unsigned char)p[k]);
				tag[n] = 0;
				p += n;
				continue;
			}
			if (parse_u64(&p, &a))
				return binlog_err_set(err, BINLOG_E_USAGE,
						      "GTID set: expected a number at offset %zu",
						      (size_t)(p - text));
			b = a;
			if (*p == '-') {
				p++;
				if (parse_u64(&p, &b))
					return binlog_err_set(
						err, BINLOG_E_USAGE,
						"GTID set: expected a number at offset %zu",
						(size_t)(p - text));
			}
			if (a < 1 || b < a)
				return binlog_err_set(
					err, BINLOG_E_USAGE,
					"GTID set: bad interval %llu-%llu before offset %zu",
					(unsigned long long)a, (unsigned long long)b,
					(size_t)(p - text));
			if (binlog_gtid_set_add_range(s, uuid, tag, a, b))
				return binlog_err_set(err, BINLOG_E_NOMEM, NULL);
		}
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (*p == ',') {
			p++;
			while (*p == ' ' || *p == '\n' || *p == '\t')
				p++;
		} else if (*p) {
			return binlog_err_set(err, BINLOG_E_USAGE,
					      "GTID set: unexpected '%c' at offset %zu", *p,
					      (size_t)(p - text));
		}
	}
	return BINLOG_OK;
}
