/*
 * binlog_cursor.h: the bounded reader every decoder reads through.
 *
 * A cursor is a window [p, end) over bytes it does not own. Every read
 * checks what remains and fails (returns 0) instead of reading past `end`;
 * nothing here trusts a length that came from the wire. Decoders narrow a
 * cursor to the part they are entitled to (the event minus its checksum,
 * one row image, one JSON document) with binlog_cur_take(), so a corrupt
 * length inside one part cannot reach bytes of the next.
 *
 * Integers in the binlog are little-endian unless a format says otherwise
 * (DECIMAL, the temporal *2 types and MariaDB's compression header are
 * big-endian); both families are here.
 */
#ifndef SLUICE_BINLOG_CURSOR_H
#define SLUICE_BINLOG_CURSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct binlog_cur {
	const uint8_t *p;
	const uint8_t *end;
} binlog_cur_t;

static inline binlog_cur_t binlog_cur_make(const void *p, size_t n)
{
	binlog_cur_t c;
	c.p = (const uint8_t *)p;
	c.end = c.p + n;
	return c;
}

static inline size_t binlog_cur_left(const binlog_cur_t *c)
{
	return (size_t)(c->end - c->p);
}

static inline int binlog_cur_skip(binlog_cur_t *c, size_t n)
{
	if (binlog_cur_left(c) < n)
		return 0;
	c->p += n;
	return 1;
}

/* Point *out at the next n bytes and advance. */
static inline int binlog_cur_bytes(binlog_cur_t *c, size_t n, const uint8_t **out)
{
	if (binlog_cur_left(c) < n)
		return 0;
	*out = c->p;
	c->p += n;
	return 1;
}

/* Split off the next n bytes as their own cursor and advance past them. */
static inline int binlog_cur_take(binlog_cur_t *c, size_t n, binlog_cur_t *sub)
{
	if (binlog_cur_left(c) < n)
		return 0;
	sub->p = c->p;
	sub->end = c->p + n;
	c->p += n;
	return 1;
}

static inline uint64_t binlog_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64_t binlog_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline uint16_t binlog_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t binlog_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t binlog_le64(const uint8_t *p)
{
	return (uint64_t)binlog_le32(p) | ((uint64_t)binlog_le32(p + 4) << 32);
}

static inline int binlog_cur_u8(binlog_cur_t *c, uint8_t *v)
{
	if (c->p >= c->end)
		return 0;
	*v = *c->p++;
	return 1;
}

/* Little-endian unsigned integer of n (1..8) bytes. */
static inline int binlog_cur_le(binlog_cur_t *c, unsigned n, uint64_t *v)
{
	if (binlog_cur_left(c) < n)
		return 0;
	*v = binlog_le(c->p, n);
	c->p += n;
	return 1;
}

static inline int binlog_cur_le16(binlog_cur_t *c, uint16_t *v)
{
	if (binlog_cur_left(c) < 2)
		return 0;
	*v = binlog_le16(c->p);
	c->p += 2;
	return 1;
}

static inline int binlog_cur_le32(binlog_cur_t *c, uint32_t *v)
{
	if (binlog_cur_left(c) < 4)
		return 0;
	*v = binlog_le32(c->p);
	c->p += 4;
	return 1;
}

static inline int binlog_cur_le64(binlog_cur_t *c, uint64_t *v)
{
	if (binlog_cur_left(c) < 8)
		return 0;
	*v = binlog_le64(c->p);
	c->p += 8;
	return 1;
}

static inline int binlog_cur_be(binlog_cur_t *c, unsigned n, uint64_t *v)
{
	if (binlog_cur_left(c) < n)
		return 0;
	*v = binlog_be(c->p, n);
	c->p += n;
	return 1;
}

/*
 * The "packed integer" (net_field_length) used inside events:
 *   < 0xfb: the byte itself; 0xfc: 2 bytes follow; 0xfd: 3; 0xfe: 8.
 * 0xfb (NULL in the client protocol) and 0xff never occur in binlog
 * structures and are rejected.
 */
static inline int binlog_cur_packed(binlog_cur_t *c, uint64_t *v)
{
	uint8_t b;
	if (!binlog_cur_u8(c, &b))
		return 0;
	if (b < 0xfb) {
		*v = b;
		return 1;
	}
	switch (b) {
	case 0xfc:
		return binlog_cur_le(c, 2, v);
	case 0xfd:
		return binlog_cur_le(c, 3, v);
	case 0xfe:
		return binlog_cur_le(c, 8, v);
	default:
		return 0;
	}
}

#endif
