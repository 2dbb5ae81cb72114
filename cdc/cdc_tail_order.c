/*
 * cdc_tail_order.c: the reorder buffer of `sluice tail --ordered`
 * (cdc_tail_order.h): a min-heap of held records by sequence, a bounded
 * map of each key's last released sequence, and per-partition lanes that
 * say what may be committed.
 */
#include "cdc_tail_order.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdc_log.h"

/* ------------------------------------------------------------------ */
/* The reorder buffer                                                  */
/* ------------------------------------------------------------------ */

/*
 * Held records are a binary min-heap of pointers ordered by (sequence,
 * arrival), and each is also on its lane's list in arrival order, so that
 * the first record of a lane still held is found in O(1) and leaves it in
 * O(1) whatever its place in the heap. One allocation per record holds the
 * record, its key and its line, and that is what max_bytes counts.
 *
 * The key map is a chained hash table plus a list in release order, least
 * recent first: when a bound is reached, the head is forgotten. Its bucket
 * array grows with the keys (load factor at most 1) and counts against
 * the key map's bytes, so max_keys alone never allocates anything.
 */
typedef struct held {
	cdc_tail_order_rec_t rec;   /* key and line point into data */
	uint64_t arrival;           /* equal sequences: first in, first out */
	int64_t since_ms;           /* when it came in */
	size_t cost;                /* what it counts against max_bytes */
	struct held *lprev, *lnext; /* its lane's held records, arrival order */
	uint8_t data[];
} held_t;

typedef struct keynode {
	struct keynode *chain;         /* the next in its bucket */
	struct keynode *older, *newer; /* release order */
	uint64_t hash;
	uint64_t seq; /* the last sequence released in order */
	size_t len;
	uint8_t key[];
} keynode_t;

typedef struct lane {
	held_t *first, *last;
	int64_t next; /* the offset after the last record seen; -1: none */
} lane_t;

struct cdc_tail_order {
	cdc_tail_order_conf_t conf;
	held_t **heap;
	size_t nheap, heap_cap;
	size_t bytes; /* of the held records */
	uint64_t arrivals;
	held_t *popped; /* returned by _next, freed by the next call */

	keynode_t **buckets;
	size_t nbuckets; /* a power of 2, or 0 */
	uint64_t nkeys;
	size_t key_bytes; /* nodes and bucket array */
	keynode_t *oldest, *newest;
	uint64_t seed;

	lane_t *lanes;
	uint32_t nlanes;
};

/* FNV-1a with a per-run seed, then splitmix64's finaliser: FNV's low bits,
 * which pick the bucket, mix poorly on short keys. The seed varies the
 * table's layout from run to run. Keys come from the topic's producer
 * (from sluice: the source's primary keys); keys made to share a bucket
 * cost time, not memory, the map being bounded. */
static uint64_t order_hash(uint64_t seed, const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static int held_before(const held_t *a, const held_t *b)
{
	return a->rec.seq < b->rec.seq || (a->rec.seq == b->rec.seq && a->arrival < b->arrival);
}

static void heap_up(held_t **h, size_t i)
{
	held_t *x = h[i];

	while (i > 0 && held_before(x, h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

static void heap_down(held_t **h, size_t n, size_t i)
{
	held_t *x = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && held_before(h[c + 1], h[c]))
			c++;
		if (!held_before(h[c], x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static keynode_t *key_find(const cdc_tail_order_t *o, const uint8_t *key, size_t len, uint64_t hash)
{
	keynode_t *k;

	if (!o->nbuckets)
		return NULL;
	for (k = o->buckets[hash & (o->nbuckets - 1)]; k; k = k->chain)
		if (k->hash == hash && k->len == len && (len == 0 || memcmp(k->key, key, len) == 0))
			return k;
	return NULL;
}

static void key_lru_unlink(cdc_tail_order_t *o, keynode_t *k)
{
	if (k->older)
		k->older->newer = k->newer;
	else
		o->oldest = k->newer;
	if (k->newer)
		k->newer->older = k->older;
	else
		o->newest = k->older;
	k->older = k->newer = NULL;
}

static void key_lru_append(cdc_tail_order_t *o, keynode_t *k)
{
	k->older = o->newest;
	k->newer = NULL;
	if (o->newest)
		o->newest->newer = k;
	else
		o->oldest = k;
	o->newest = k;
}

static void key_forget_oldest(cdc_tail_order_t *o)
{
	keynode_t *k = o->oldest, **pp = &o->buckets[k->hash & (o->nbuckets - 1)];

	while (*pp != k)
		pp = &(*pp)->chain;
	*pp = k->chain;
	key_lru_unlink(o, k);
	o->nkeys--;
	o->key_bytes -= sizeof(*k) + k->len;
	free(k);
}

/* Doubles the bucket array when the keys outnumber it, within the key
 * map's bytes. Returns -1 only when there is no array and none could be
 * allocated; a failed growth of one is not an error: chains get longer. */
static int key_buckets_grow(cdc_tail_order_t *o)
{
	size_t nb = o->nbuckets ? 2 * o->nbuckets : 64;
	keynode_t **b;

	if (o->nbuckets && o->nkeys < o->nbuckets)
		return 0;
	if (nb > SIZE_MAX / sizeof(*b) ||
	    o->key_bytes + (nb - o->nbuckets) * sizeof(*b) > o->conf.max_bytes)
		return 0;
	b = calloc(nb, sizeof(*b));
	if (!b)
		return o->nbuckets ? 0 : -1;
	for (size_t i = 0; i < o->nbuckets; i++) {
		keynode_t *k = o->buckets[i], *next;

		for (; k; k = next) {
			next = k->chain;
			k->chain = b[k->hash & (nb - 1)];
			b[k->hash & (nb - 1)] = k;
		}
	}
	free(o->buckets);
	o->key_bytes += (nb - o->nbuckets) * sizeof(*b);
	o->buckets = b;
	o->nbuckets = nb;
	return 0;
}

/* seq becomes the key's last sequence, and the key the most recent. A key
 * that cannot fit the key map's bytes even alone is not remembered: its
 * late records pass as in order, as those of a forgotten key do. */
static binlog_errcode_t key_remember(cdc_tail_order_t *o, const uint8_t *key, size_t len,
				     uint64_t seq)
{
	uint64_t hash = order_hash(o->seed, key, len);
	keynode_t *k = key_find(o, key, len, hash);
	size_t need = sizeof(*k) + len, room;

	if (k) {
		k->seq = seq;
		key_lru_unlink(o, k);
		key_lru_append(o, k);
		return BINLOG_OK;
	}
	if (key_buckets_grow(o) != 0)
		return BINLOG_E_NOMEM;
	room = o->conf.max_bytes - o->nbuckets * sizeof(*o->buckets);
	if (!o->nbuckets || len > SIZE_MAX / 2 || need > room)
		return BINLOG_OK;
	while (o->nkeys >= o->conf.max_keys || o->key_bytes + need > o->conf.max_bytes)
		key_forget_oldest(o);
	k = malloc(need);
	if (!k)
		return BINLOG_E_NOMEM;
	k->hash = hash;
	k->seq = seq;
	k->len = len;
	if (len)
		memcpy(k->key, key, len);
	k->chain = o->buckets[hash & (o->nbuckets - 1)];
	o->buckets[hash & (o->nbuckets - 1)] = k;
	key_lru_append(o, k);
	o->nkeys++;
	o->key_bytes += need;
	return BINLOG_OK;
}

/* Where r stands against its key: in order, late or a duplicate. */
static cdc_tail_verdict_t order_judge(const cdc_tail_order_t *o, const cdc_tail_order_rec_t *r)
{
	const keynode_t *k;
	const uint8_t *key = r->key ? r->key : (const uint8_t *)"";

	if (r->heartbeat)
		return CDC_TAIL_IN_ORDER;
	k = key_find(o, key, r->key_len, order_hash(o->seed, key, r->key_len));
	if (!k || r->seq > k->seq)
		return CDC_TAIL_IN_ORDER;
	return r->seq == k->seq ? CDC_TAIL_DUPLICATE : CDC_TAIL_LATE;
}

static lane_t *order_lane(const cdc_tail_order_t *o, uint32_t lane)
{
	return lane < o->nlanes ? &o->lanes[lane] : NULL;
}

static binlog_errcode_t order_lane_grow(cdc_tail_order_t *o, uint32_t lane)
{
	uint32_t n;
	lane_t *l;

	if (lane == CDC_TAIL_NO_LANE || lane < o->nlanes)
		return BINLOG_OK;
	if (lane >= CDC_TAIL_LANE_MAX)
		return BINLOG_E_LIMIT;
	n = lane < 8 ? 16 : 2 * lane;
	if (n > CDC_TAIL_LANE_MAX)
		n = CDC_TAIL_LANE_MAX;
	l = realloc(o->lanes, n * sizeof(*l));
	if (!l)
		return BINLOG_E_NOMEM;
	for (uint32_t i = o->nlanes; i < n; i++)
		l[i] = (lane_t){NULL, NULL, -1};
	o->lanes = l;
	o->nlanes = n;
	return BINLOG_OK;
}

static void order_lane_unlink(cdc_tail_order_t *o, held_t *h)
{
	lane_t *l = order_lane(o, h->rec.lane);

	if (!l)
		return;
	if (h->lprev)
		h->lprev->lnext = h->lnext;
	else
		l->first = h->lnext;
	if (h->lnext)
		h->lnext->lprev = h->lprev;
	else
		l->last = h->lprev;
	h->lprev = h->lnext = NULL;
}

static void order_drop_popped(cdc_tail_order_t *o)
{
	free(o->popped);
	o->popped = NULL;
}

cdc_tail_order_t *cdc_tail_order_new(const cdc_tail_order_conf_t *conf)
{
	cdc_tail_order_t *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->conf = *conf;
	/* Bounds of 0 would hold nothing, or loop forgetting keys. */
	if (o->conf.window < 1)
		o->conf.window = 1;
	if (o->conf.max_keys < 1)
		o->conf.max_keys = 1;
	if (o->conf.max_bytes < 1)
		o->conf.max_bytes = 1;
	o->seed = (uint64_t)cdc_mono_ms() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)o;
	return o;
}

void cdc_tail_order_free(cdc_tail_order_t *o)
{
	if (!o)
		return;
	order_drop_popped(o);
	for (size_t i = 0; i < o->nheap; i++)
		free(o->heap[i]);
	free(o->heap);
	while (o->oldest) {
		keynode_t *k = o->oldest;

		o->oldest = k->newer;
		free(k);
	}
	free(o->buckets);
	free(o->lanes);
	free(o);
}

binlog_errcode_t cdc_tail_order_add(cdc_tail_order_t *o, const cdc_tail_order_rec_t *r,
				    int64_t now_ms, cdc_tail_verdict_t *verdict)
{
	binlog_errcode_t rc;
	lane_t *l;
	held_t *h;

	order_drop_popped(o);
	if ((rc = order_lane_grow(o, r->lane)) != BINLOG_OK)
		return rc;
	*verdict = order_judge(o, r);
	if (*verdict != CDC_TAIL_IN_ORDER) {
		cdc_tail_order_skip(o, r->lane, r->pos);
		return BINLOG_OK;
	}
	if (o->nheap == o->heap_cap) {
		size_t cap = o->heap_cap ? 2 * o->heap_cap : 64;
		held_t **nh =
			cap <= SIZE_MAX / sizeof(*nh) ? realloc(o->heap, cap * sizeof(*nh)) : NULL;

		if (!nh)
			return BINLOG_E_NOMEM;
		o->heap = nh;
		o->heap_cap = cap;
	}
	if (r->key_len > SIZE_MAX / 4 || r->line_len > SIZE_MAX / 4)
		return BINLOG_E_NOMEM;
	h = malloc(sizeof(*h) + r->key_len + r->line_len);
	if (!h)
		return BINLOG_E_NOMEM;
	h->rec = *r;
	if (r->key_len)
		memcpy(h->data, r->key, r->key_len);
	h->rec.key = r->key ? h->data : NULL;
	if (r->line_len)
		memcpy(h->data + r->key_len, r->line, r->line_len);
	h->rec.line = h->data + r->key_len;
	h->arrival = o->arrivals++;
	h->since_ms = now_ms;
	h->cost = sizeof(*h) + r->key_len + r->line_len + sizeof(h);
	h->lprev = h->lnext = NULL;
	if ((l = order_lane(o, r->lane)) != NULL) {
		h->lprev = l->last;
		if (l->last)
			l->last->lnext = h;
		else
			l->first = h;
		l->last = h;
		l->next = r->pos + 1;
	}
	o->heap[o->nheap++] = h;
	heap_up(o->heap, o->nheap - 1);
	o->bytes += h->cost;
	*verdict = CDC_TAIL_HELD;
	return BINLOG_OK;
}

binlog_errcode_t cdc_tail_order_next(cdc_tail_order_t *o, int64_t now_ms, int flush,
				     const cdc_tail_order_rec_t **out, cdc_tail_verdict_t *verdict)
{
	held_t *h;

	order_drop_popped(o);
	*out = NULL;
	*verdict = CDC_TAIL_HELD;
	if (!o->nheap)
		return BINLOG_OK;
	h = o->heap[0];
	if (!flush && o->nheap <= o->conf.window && o->bytes <= o->conf.max_bytes &&
	    now_ms - h->since_ms < o->conf.hold_ms)
		return BINLOG_OK;
	*verdict = order_judge(o, &h->rec);
	if (*verdict == CDC_TAIL_IN_ORDER && !h->rec.heartbeat &&
	    key_remember(o, h->rec.key ? h->rec.key : (const uint8_t *)"", h->rec.key_len,
			 h->rec.seq) != BINLOG_OK) {
		*verdict = CDC_TAIL_HELD;
		return BINLOG_E_NOMEM;
	}
	o->heap[0] = o->heap[--o->nheap];
	if (o->nheap)
		heap_down(o->heap, o->nheap, 0);
	order_lane_unlink(o, h);
	o->bytes -= h->cost;
	o->popped = h;
	*out = &h->rec;
	return BINLOG_OK;
}

int64_t cdc_tail_order_due_ms(const cdc_tail_order_t *o)
{
	if (!o->nheap)
		return INT64_MAX;
	return o->heap[0]->since_ms + o->conf.hold_ms;
}

void cdc_tail_order_skip(cdc_tail_order_t *o, uint32_t lane, int64_t pos)
{
	lane_t *l;

	if (order_lane_grow(o, lane) == BINLOG_OK && (l = order_lane(o, lane)) != NULL)
		l->next = pos + 1;
}

int cdc_tail_order_committable(const cdc_tail_order_t *o, uint32_t lane, int64_t *pos)
{
	const lane_t *l = order_lane(o, lane);

	if (!l || (!l->first && l->next < 0))
		return 0;
	*pos = l->first ? l->first->rec.pos : l->next;
	return 1;
}

void cdc_tail_order_lane_reset(cdc_tail_order_t *o, uint32_t lane)
{
	lane_t *l = order_lane(o, lane);
	held_t *h, *next;

	if (!l)
		return;
	for (h = l->first; h; h = next) {
		next = h->lnext;
		h->lprev = h->lnext = NULL;
		h->rec.lane = CDC_TAIL_NO_LANE;
	}
	*l = (lane_t){NULL, NULL, -1};
}

void cdc_tail_order_stats(const cdc_tail_order_t *o, uint64_t *held, size_t *bytes, uint64_t *keys,
			  size_t *key_bytes)
{
	if (held)
		*held = o->nheap;
	if (bytes)
		*bytes = o->bytes;
	if (keys)
		*keys = o->nkeys;
	if (key_bytes)
		*key_bytes = o->key_bytes;
}
