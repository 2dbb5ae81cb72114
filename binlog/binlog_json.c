/*
 * binlog_json.c: binary JSON to JSON text, and JSON diffs applied to it.
 *
 * Rendering streams straight from the binary bytes into the output buffer:
 * no tree is built for a plain row value. Applying PARTIAL_UPDATE_ROWS
 * diffs needs a tree, but only along the diff paths: the before image
 * becomes a root node that still points at its binary bytes, and a
 * container is expanded into child nodes (which again point at their
 * bytes) only when a path walks through it. The final text is then
 * written by the same streaming renderer for every part the diffs did not
 * touch. Nodes live in an arena freed at the end of the call.
 *
 * Hostile bytes are the design constraint. Every offset and length is read
 * through a cursor over the enclosing value, nesting is capped at MySQL's
 * 100 levels (so recursion is bounded), and two budgets derived from the
 * input size stop the one attack the format allows beyond that: value
 * entries that point at the same bytes, which make a small document
 * describe an exponentially large one. MySQL never writes such documents,
 * and legitimate text is at most about 6 bytes per input byte (a control
 * character in a string becomes a six-byte escape), so output is capped at
 * JSON_TEXT_PER_BYTE times the input and tree memory at JSON_DOM_PER_BYTE
 * times the input.
 */
#include "binlog_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binlog_cursor.h"
#include "binlog_decimal.h"
#include "binlog_jsonw.h"
#include "binlog_time.h"
#include "binlog_types.h"

/*
 * The binary format (MySQL sql-common/json_binary.h and json_binary.cc):
 *
 *   doc      ::= type value                 (an empty doc means null, see
 *                                            binlog_json_render)
 *   type     ::= 0x00 small object | 0x01 large object
 *              | 0x02 small array  | 0x03 large array
 *              | 0x04 literal      | 0x05 int16  | 0x06 uint16
 *              | 0x07 int32        | 0x08 uint32 | 0x09 int64
 *              | 0x0a uint64       | 0x0b double | 0x0c string
 *              | 0x0f opaque
 *   object   ::= count size key-entry* value-entry* key* value*
 *   array    ::= count size value-entry* value*
 *   count, size, key-offset, value-offset:
 *                uint16 LE in the small formats, uint32 LE in the large
 *   key-entry   ::= key-offset key-length(uint16 LE)
 *   value-entry ::= type offset-or-inlined-value
 *   literal  ::= 0x00 null | 0x01 true | 0x02 false
 *   number   ::= little-endian integer of the type's width, or an IEEE
 *                double in 8 little-endian bytes
 *   string   ::= var-length utf8mb4-bytes
 *   opaque   ::= field-type(uint8) var-length bytes
 *   var-length: 7 bits per byte, least significant first, high bit set
 *                on every byte but the last; at most 5 bytes, value at
 *                most 2^32-1.
 *
 * Offsets count from the first byte after the type byte (the count
 * field), i.e. from the start of the container's own bytes, and `size`
 * covers those bytes. Keys and out-of-line values must lie after the
 * entries and inside `size`; a nested value may use the rest of its
 * parent (MySQL bounds it the same way). Literals and int16/uint16 are
 * always inlined in the value entry; int32/uint32 only in the large
 * format, where the entry has 4 bytes of room.
 *
 * Opaque payloads that MySQL prints as something other than base64:
 *   NEWDECIMAL (246): precision(1) scale(1) DECIMAL binary
 *   DATE/TIME/DATETIME/TIMESTAMP: MySQL's packed 64-bit form, 8 bytes LE
 */
enum {
	JB_SMALL_OBJECT = 0x00,
	JB_LARGE_OBJECT = 0x01,
	JB_SMALL_ARRAY = 0x02,
	JB_LARGE_ARRAY = 0x03,
	JB_LITERAL = 0x04,
	JB_INT16 = 0x05,
	JB_UINT16 = 0x06,
	JB_INT32 = 0x07,
	JB_UINT32 = 0x08,
	JB_INT64 = 0x09,
	JB_UINT64 = 0x0a,
	JB_DOUBLE = 0x0b,
	JB_STRING = 0x0c,
	JB_OPAQUE = 0x0f,
};

enum { JB_NULL = 0x00, JB_TRUE = 0x01, JB_FALSE = 0x02 };

/*
 * The JSON diff list (MySQL sql/json_diff.cc, Json_diff::write_binary),
 * repeated until the end of the column value:
 *
 *   operation(uint8: 0 REPLACE, 1 INSERT, 2 REMOVE)
 *   path-length(packed integer) path(MySQL JSON path text, e.g. $.a[2]."k y")
 *   unless REMOVE: value-length(packed integer) value(binary JSON doc)
 *
 * The row image holds the list behind the usual 4-byte JSON length, which
 * the row decoder strips before calling here.
 */
enum { DIFF_REPLACE = 0, DIFF_INSERT = 1, DIFF_REMOVE = 2 };

#define JSON_TEXT_PER_BYTE 16
#define JSON_TEXT_SLACK    64
#define JSON_DOM_PER_BYTE  128
#define JSON_DOM_SLACK     ((size_t)64 * 1024)
#define ARENA_BLOCK        ((size_t)16 * 1024)

/* One level of the location shown in error messages: "$.a[3]". */
typedef struct jframe {
	const uint8_t *key; /* member name, or NULL for an array element */
	size_t klen;
	uint32_t idx;
	uint8_t set; /* 0 while the container's own header is read */
} jframe_t;

typedef struct arena_blk {
	struct arena_blk *next;
	size_t used;
	size_t cap;
	max_align_t data[];
} arena_blk_t;

typedef struct jctx {
	binlog_buf_t *b;
	binlog_err_t *err;
	size_t start;   /* b->len on entry: restored on error */
	size_t in;      /* input bytes the bounds derive from */
	size_t out_max; /* b->len must stay at or below this */
	unsigned depth; /* containers open while rendering */
	jframe_t path[BINLOG_JSON_MAX_DEPTH];
	arena_blk_t *blk;
	size_t arena_used;
	size_t arena_max;
} jctx_t;

/* An object or array being read: its bytes, checked header sizes. */
typedef struct jcont {
	binlog_cur_t body; /* exactly `size` bytes, from the count field */
	size_t size;
	size_t hdr; /* end of the key and value entries */
	uint32_t count;
	uint8_t large;
	uint8_t obj;
} jcont_t;

/* A node of the diff-application tree. Until `expanded`, a container is
 * just its binary bytes in `val`; scalars always are. */
typedef struct jnode jnode_t;
struct jnode {
	binlog_cur_t val;   /* binary value after the type byte */
	const uint8_t *key; /* member name when the parent is an object */
	size_t klen;
	jnode_t *kids; /* members or elements once expanded */
	uint32_t count;
	uint32_t cap;
	uint8_t type; /* JB_* */
	uint8_t expanded;
};

enum { LEG_MEMBER, LEG_CELL };

/* One leg of a parsed path: .name or [index] / [last] / [last-N]. */
typedef struct jleg {
	const uint8_t *key; /* unescaped member name (LEG_MEMBER) */
	size_t klen;
	uint32_t index;
	uint8_t kind;
	uint8_t from_end; /* [last-N]: index counts from the end */
} jleg_t;

typedef struct jdiff {
	uint8_t op;
	const uint8_t *path;
	size_t plen;
	const uint8_t *val; /* binary JSON doc, type byte first */
	size_t vlen;
	jleg_t *legs;
	size_t nlegs;
} jdiff_t;

static const char *const op_names[] = {"replace", "insert", "remove"};

/* ------------------------------------------------------------------ */
/* Errors                                                              */

static size_t loc_put(char *o, size_t cap, size_t k, const char *s, size_t n)
{
	while (n-- > 0 && k + 1 < cap)
		o[k++] = *s++;
	o[k] = '\0';
	return k;
}

/* Printable ASCII copy of s[0..n) for a message: other bytes become '?',
 * and text beyond `max` bytes is cut with "...". */
static size_t loc_put_text(char *o, size_t cap, size_t k, const uint8_t *s, size_t n, size_t max)
{
	for (size_t i = 0; i < n && i < max; i++) {
		char ch = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
		k = loc_put(o, cap, k, &ch, 1);
	}
	if (n > max)
		k = loc_put(o, cap, k, "...", 3);
	return k;
}

static int is_ident_byte(uint8_t c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80)
		return 1;
	return !first && c >= '0' && c <= '9';
}

/* " at $.a[3]" for the element being rendered, or "" at the top. */
static void fmt_location(const jctx_t *ctx, char *o, size_t cap)
{
	size_t k = 0;
	int any = 0;

	o[0] = '\0';
	for (unsigned d = 0; d < ctx->depth; d++)
		any |= ctx->path[d].set;
	if (!any)
		return;
	k = loc_put(o, cap, k, " at $", 5);
	for (unsigned d = 0; d < ctx->depth; d++) {
		const jframe_t *f = &ctx->path[d];
		char num[16];
		int plain = 1;

		if (!f->set)
			continue;
		if (!f->key) {
			int m = snprintf(num, sizeof(num), "[%u]", f->idx);
			k = loc_put(o, cap, k, num, m > 0 ? (size_t)m : 0);
			continue;
		}
		for (size_t i = 0; i < f->klen; i++)
			plain &= is_ident_byte(f->key[i], i == 0) && f->key[i] < 0x80;
		plain &= f->klen > 0;
		k = loc_put(o, cap, k, plain ? "." : ".\"", plain ? 1 : 2);
		k = loc_put_text(o, cap, k, f->key, f->klen, 32);
		if (!plain)
			k = loc_put(o, cap, k, "\"", 1);
	}
}

static binlog_errcode_t jfail(jctx_t *ctx, binlog_errcode_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set *err to the message plus where in the document it happened. */
static binlog_errcode_t jfail(jctx_t *ctx, binlog_errcode_t code, const char *fmt, ...)
{
	char msg[BINLOG_ERR_MSG_MAX];
	char where[256];
	va_list ap;

	if (!ctx->err)
		return code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fmt_location(ctx, where, sizeof(where));
	return binlog_err_set(ctx->err, code, "%s%s", msg, where);
}

/* a * m + add, or SIZE_MAX when that does not fit. */
static size_t sat_mul_add(size_t a, size_t m, size_t add)
{
	if (a > (SIZE_MAX - add) / m)
		return SIZE_MAX;
	return a * m + add;
}

/*
 * After appending: the buffer's sticky failure, or the expansion budget.
 * A failed buffer cannot say whether it hit its limit or malloc failed;
 * no single append here asks for more than about twice the input (a
 * string's run, base64), so a failure with that much room left below the
 * limit was the allocator.
 */
static binlog_errcode_t out_check(jctx_t *ctx)
{
	binlog_buf_t *b = ctx->b;

	if (b->failed) {
		if (b->max - b->len <= sat_mul_add(ctx->in, 2, 64))
			return jfail(ctx, BINLOG_E_LIMIT,
				     "JSON text does not fit the output buffer (limit %zu bytes)",
				     b->max);
		return jfail(ctx, BINLOG_E_NOMEM, "out of memory writing JSON text");
	}
	if (b->len > ctx->out_max)
		return jfail(ctx, BINLOG_E_LIMIT,
			     "JSON text of a %zu-byte binary value passes %zu bytes "
			     "(entries sharing bytes?)",
			     ctx->in, ctx->out_max - ctx->start);
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Context and arena                                                   */

static void ctx_init(jctx_t *ctx, binlog_buf_t *b, binlog_err_t *err, size_t in)
{
	size_t budget = sat_mul_add(in, JSON_TEXT_PER_BYTE, JSON_TEXT_SLACK);

	ctx->b = b;
	ctx->err = err;
	ctx->start = b->len;
	ctx->in = in;
	ctx->out_max = budget > SIZE_MAX - b->len ? SIZE_MAX : b->len + budget;
	ctx->depth = 0;
	ctx->blk = NULL;
	ctx->arena_used = 0;
	ctx->arena_max = sat_mul_add(in, JSON_DOM_PER_BYTE, JSON_DOM_SLACK);
}

/* Free the arena; on error, take back whatever was appended. */
static binlog_errcode_t ctx_done(jctx_t *ctx, binlog_errcode_t rc)
{
	arena_blk_t *blk = ctx->blk;

	while (blk) {
		arena_blk_t *next = blk->next;
		free(blk);
		blk = next;
	}
	ctx->blk = NULL;
	if (rc != BINLOG_OK)
		ctx->b->len = ctx->start;
	return rc;
}

/* Room for `count` items of `size` bytes, aligned for any of them. */
/* Inputs may be NULL when empty; a cursor must not do arithmetic on NULL,
 * so those become an empty array. NULL with a length is a caller bug. */
static binlog_errcode_t check_input(jctx_t *ctx, const uint8_t **p, size_t n, const char *what)
{
	static const uint8_t none[1];

	if (*p)
		return BINLOG_OK;
	if (n)
		return jfail(ctx, BINLOG_E_USAGE, "%s is NULL but %zu bytes long", what, n);
	*p = none;
	return BINLOG_OK;
}

static binlog_errcode_t arena_alloc(jctx_t *ctx, size_t count, size_t size, void **out)
{
	const size_t align = _Alignof(max_align_t);
	arena_blk_t *blk = ctx->blk;
	size_t n, cap;

	*out = NULL;
	if (size && count > SIZE_MAX / 2 / size)
		return jfail(ctx, BINLOG_E_LIMIT, "JSON tree allocation of %zu x %zu bytes", count,
			     size);
	n = (count * size + align - 1) & ~(align - 1);
	if (blk && blk->cap - blk->used >= n) {
		*out = (uint8_t *)blk->data + blk->used;
		blk->used += n;
		return BINLOG_OK;
	}
	cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
	if (cap > ctx->arena_max - ctx->arena_used)
		return jfail(ctx, BINLOG_E_LIMIT,
			     "applying JSON diffs to %zu input bytes needs more than %zu "
			     "bytes of memory (entries sharing bytes?)",
			     ctx->in, ctx->arena_max);
	blk = malloc(sizeof(*blk) + cap);
	if (!blk)
		return jfail(ctx, BINLOG_E_NOMEM, "out of memory building a JSON tree");
	blk->next = ctx->blk;
	blk->used = n;
	blk->cap = cap;
	ctx->blk = blk;
	ctx->arena_used += cap;
	*out = blk->data;
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Reading the binary format                                           */

static const char *type_name(uint8_t type)
{
	static const char *const names[] = {
		"small object", "large object", "small array", "large array",  "literal", "int16",
		"uint16",       "int32",        "uint32",      "int64",        "uint64",  "double",
		"string",       "type 0x0d",    "type 0x0e",   "opaque value",
	};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "value";
}

static int inlined_type(uint8_t type, int large)
{
	switch (type) {
	case JB_LITERAL:
	case JB_INT16:
	case JB_UINT16:
		return 1;
	case JB_INT32:
	case JB_UINT32:
		return large;
	default:
		return 0;
	}
}

/* Two's complement without implementation-defined conversions. */
static int64_t to_i64(uint64_t u)
{
	return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(UINT64_MAX - u) - 1;
}

static int64_t sign_extend(uint64_t u, unsigned bits)
{
	uint64_t sign = (uint64_t)1 << (bits - 1);

	u &= (sign << 1) - 1;
	return to_i64((u ^ sign) - sign);
}

/* The 1..5-byte length in front of strings and opaque payloads. */
static binlog_errcode_t read_varlen(jctx_t *ctx, binlog_cur_t *c, const char *what, uint32_t *len)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 5; i++) {
		uint8_t byte;

		if (!binlog_cur_u8(c, &byte))
			return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON %s length truncated", what);
		v |= (uint64_t)(byte & 0x7f) << (7 * i);
		if (!(byte & 0x80)) {
			if (v > UINT32_MAX)
				return jfail(ctx, BINLOG_E_BAD_VALUE,
					     "JSON %s length %llu is above 2^32-1", what,
					     (unsigned long long)v);
			*len = (uint32_t)v;
			return BINLOG_OK;
		}
	}
	return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON %s length takes more than 5 bytes", what);
}

/* Check the header of the object or array whose bytes start at v. */
static binlog_errcode_t cont_open(jctx_t *ctx, uint8_t type, binlog_cur_t v, jcont_t *c)
{
	binlog_cur_t r = v;
	unsigned osz;
	uint64_t count, size, hdr;
	const char *name;

	c->large = type & 1;
	c->obj = type <= JB_LARGE_OBJECT;
	name = c->obj ? "object" : "array";
	osz = c->large ? 4 : 2;
	if (!binlog_cur_le(&r, osz, &count) || !binlog_cur_le(&r, osz, &size))
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON %s header truncated (%zu bytes, needs %u)", name,
			     binlog_cur_left(&v), 2 * osz);
	if (size > binlog_cur_left(&v))
		return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON %s of %llu bytes, only %zu bytes left",
			     name, (unsigned long long)size, binlog_cur_left(&v));
	/* count < 2^32 and entries are at most 11 bytes: no overflow. */
	hdr = 2 * (uint64_t)osz + count * ((c->obj ? osz + 2u : 0u) + 1u + osz);
	if (hdr > size)
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON %s of %llu elements needs %llu header bytes, more than "
			     "its %llu bytes",
			     name, (unsigned long long)count, (unsigned long long)hdr,
			     (unsigned long long)size);
	if (!binlog_cur_take(&v, (size_t)size, &c->body))
		return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON %s truncated", name);
	c->size = (size_t)size;
	c->hdr = (size_t)hdr;
	c->count = (uint32_t)count;
	return BINLOG_OK;
}

static binlog_errcode_t cont_key(jctx_t *ctx, const jcont_t *c, uint32_t i, const uint8_t **key,
				 size_t *klen)
{
	binlog_cur_t r = c->body;
	unsigned osz = c->large ? 4 : 2;
	uint64_t off;
	uint16_t len;

	if (!binlog_cur_skip(&r, 2 * (size_t)osz + (size_t)i * (osz + 2)) ||
	    !binlog_cur_le(&r, osz, &off) || !binlog_cur_le16(&r, &len))
		return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON object key entry %u truncated", i);
	if (off < c->hdr)
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON object key %u offset %llu inside the %zu-byte header of "
			     "the %zu-byte object",
			     i, (unsigned long long)off, c->hdr, c->size);
	if (off > c->size)
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON object key %u offset %llu beyond the %zu-byte object", i,
			     (unsigned long long)off, c->size);
	r = c->body;
	if (!binlog_cur_skip(&r, (size_t)off) || !binlog_cur_bytes(&r, len, key))
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON object key %u (%u bytes at offset %llu) runs past the "
			     "end of the %zu-byte object",
			     i, len, (unsigned long long)off, c->size);
	*klen = len;
	return BINLOG_OK;
}

/* Type and bytes of element i: the entry's own bytes when inlined, else
 * from its offset to the end of the container. */
static binlog_errcode_t cont_elem(jctx_t *ctx, const jcont_t *c, uint32_t i, uint8_t *type,
				  binlog_cur_t *val)
{
	binlog_cur_t r = c->body;
	unsigned osz = c->large ? 4 : 2;
	size_t at = 2 * (size_t)osz + (c->obj ? (size_t)c->count * (osz + 2) : 0) +
		    (size_t)i * (1 + osz);
	const char *name = c->obj ? "object" : "array";
	uint64_t off;

	if (!binlog_cur_skip(&r, at) || !binlog_cur_u8(&r, type))
		return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON %s value entry %u truncated", name, i);
	if (inlined_type(*type, c->large)) {
		if (!binlog_cur_take(&r, osz, val))
			return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON %s value entry %u truncated",
				     name, i);
		return BINLOG_OK;
	}
	if (!binlog_cur_le(&r, osz, &off))
		return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON %s value entry %u truncated", name, i);
	if (off < c->hdr)
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON %s value %u offset %llu inside the %zu-byte header of "
			     "the %zu-byte %s",
			     name, i, (unsigned long long)off, c->hdr, c->size, name);
	if (off >= c->size)
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON %s value %u offset %llu beyond the %zu-byte %s", name, i,
			     (unsigned long long)off, c->size, name);
	*val = c->body;
	binlog_cur_skip(val, (size_t)off);
	return BINLOG_OK;
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */

static binlog_errcode_t enter(jctx_t *ctx)
{
	if (ctx->depth >= BINLOG_JSON_MAX_DEPTH)
		return jfail(ctx, BINLOG_E_LIMIT, "JSON nested deeper than %d levels",
			     BINLOG_JSON_MAX_DEPTH);
	ctx->path[ctx->depth].set = 0;
	ctx->depth++;
	return BINLOG_OK;
}

static void frame_set(jctx_t *ctx, const uint8_t *key, size_t klen, uint32_t idx)
{
	jframe_t *f = &ctx->path[ctx->depth - 1];

	f->key = key;
	f->klen = klen;
	f->idx = idx;
	f->set = 1;
}

static binlog_errcode_t render_decimal(jctx_t *ctx, const uint8_t *p, size_t n)
{
	unsigned prec, scale;
	size_t need;

	if (n < 2)
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON DECIMAL of %zu bytes has no precision and scale", n);
	prec = p[0];
	scale = p[1];
	need = binlog_decimal_size(prec, scale);
	if (!need)
		return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON DECIMAL(%u,%u) is not a valid type",
			     prec, scale);
	if (n - 2 != need)
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON DECIMAL(%u,%u) needs %zu bytes, the value has %zu", prec, scale,
			     need, n - 2);
	if (binlog_decimal_format(ctx->b, p + 2, prec, scale))
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON DECIMAL(%u,%u) has a digit group above 999999999", prec, scale);
	return BINLOG_OK;
}

/* Opaque values as MySQL prints them (Json_wrapper::to_string). */
static binlog_errcode_t render_opaque(jctx_t *ctx, uint8_t ft, const uint8_t *p, size_t n)
{
	binlog_buf_t *b = ctx->b;
	binlog_time_t t;
	size_t pos;

	switch (ft) {
	case BINLOG_TYPE_NEWDECIMAL:
		return render_decimal(ctx, p, n);
	case BINLOG_TYPE_DATE:
	case BINLOG_TYPE_NEWDATE:
	case BINLOG_TYPE_TIME:
	case BINLOG_TYPE_TIME2:
	case BINLOG_TYPE_DATETIME:
	case BINLOG_TYPE_DATETIME2:
	case BINLOG_TYPE_TIMESTAMP:
	case BINLOG_TYPE_TIMESTAMP2:
		if (n != 8)
			return jfail(ctx, BINLOG_E_BAD_VALUE,
				     "JSON %s value of %zu bytes, expected 8",
				     binlog_column_type_name(ft), n);
		binlog_buf_putc(b, '"');
		if (ft == BINLOG_TYPE_TIME || ft == BINLOG_TYPE_TIME2) {
			binlog_time_from_packed_time(to_i64(binlog_le64(p)), &t);
			binlog_time_put_time(b, &t, 6);
		} else {
			binlog_time_from_packed_datetime(to_i64(binlog_le64(p)), &t);
			if (ft == BINLOG_TYPE_DATE || ft == BINLOG_TYPE_NEWDATE)
				binlog_time_put_date(b, &t);
			else
				binlog_time_put_datetime(b, &t, 6);
		}
		binlog_buf_putc(b, '"');
		return BINLOG_OK;
	default:
		binlog_buf_lit(b, "\"base64:type");
		binlog_jw_u64(b, ft);
		binlog_buf_putc(b, ':');
		/* binlog_jw_base64 writes its own opening quote; ours is
		 * already out, so slide the digits over it. */
		pos = b->len;
		binlog_jw_base64(b, p, n);
		if (!b->failed && b->len > pos) {
			memmove(b->data + pos, b->data + pos + 1, b->len - pos - 1);
			b->len--;
		}
		return BINLOG_OK;
	}
}

static binlog_errcode_t render_scalar(jctx_t *ctx, uint8_t type, binlog_cur_t v)
{
	binlog_buf_t *b = ctx->b;
	static const uint8_t widths[] = {
		[JB_INT16] = 2, [JB_UINT16] = 2, [JB_INT32] = 4,  [JB_UINT32] = 4,
		[JB_INT64] = 8, [JB_UINT64] = 8, [JB_DOUBLE] = 8,
	};
	const uint8_t *s;
	uint64_t u;
	uint32_t len;
	uint8_t byte;
	double d;
	binlog_errcode_t rc;

	switch (type) {
	case JB_LITERAL:
		if (!binlog_cur_u8(&v, &byte))
			return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON literal truncated");
		if (byte == JB_NULL)
			binlog_buf_lit(b, "null");
		else if (byte == JB_TRUE)
			binlog_buf_lit(b, "true");
		else if (byte == JB_FALSE)
			binlog_buf_lit(b, "false");
		else
			return jfail(ctx, BINLOG_E_BAD_VALUE,
				     "JSON literal 0x%02x is not null, true or false", byte);
		return BINLOG_OK;
	case JB_INT16:
	case JB_UINT16:
	case JB_INT32:
	case JB_UINT32:
	case JB_INT64:
	case JB_UINT64:
	case JB_DOUBLE:
		if (!binlog_cur_le(&v, widths[type], &u))
			return jfail(ctx, BINLOG_E_BAD_VALUE,
				     "JSON %s truncated (%zu bytes, needs %u)", type_name(type),
				     binlog_cur_left(&v), widths[type]);
		if (type == JB_DOUBLE) {
			memcpy(&d, &u, sizeof(d));
			binlog_jw_double(b, d, 0);
		} else if (type == JB_UINT16 || type == JB_UINT32 || type == JB_UINT64) {
			binlog_jw_u64(b, u);
		} else {
			binlog_jw_i64(b, sign_extend(u, 8u * widths[type]));
		}
		return BINLOG_OK;
	case JB_STRING:
		rc = read_varlen(ctx, &v, "string", &len);
		if (rc)
			return rc;
		if (!binlog_cur_bytes(&v, len, &s))
			return jfail(ctx, BINLOG_E_BAD_VALUE,
				     "JSON string of %u bytes, only %zu left", len,
				     binlog_cur_left(&v));
		binlog_jw_utf8(b, s, len);
		return BINLOG_OK;
	case JB_OPAQUE:
		if (!binlog_cur_u8(&v, &byte))
			return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON opaque value truncated");
		rc = read_varlen(ctx, &v, "opaque value", &len);
		if (rc)
			return rc;
		if (!binlog_cur_bytes(&v, len, &s))
			return jfail(ctx, BINLOG_E_BAD_VALUE,
				     "JSON opaque value of %u bytes, only %zu left", len,
				     binlog_cur_left(&v));
		return render_opaque(ctx, byte, s, len);
	default:
		return jfail(ctx, BINLOG_E_BAD_VALUE, "unknown JSON value type 0x%02x", type);
	}
}

static binlog_errcode_t render_value(jctx_t *ctx, uint8_t type, binlog_cur_t v);

static binlog_errcode_t render_container(jctx_t *ctx, uint8_t type, binlog_cur_t v)
{
	binlog_buf_t *b = ctx->b;
	jcont_t c;
	binlog_cur_t ev;
	const uint8_t *key = NULL;
	size_t klen = 0;
	uint8_t et = 0;
	binlog_errcode_t rc;

	rc = enter(ctx);
	if (rc)
		return rc;
	rc = cont_open(ctx, type, v, &c);
	if (rc)
		return rc;
	binlog_buf_putc(b, c.obj ? '{' : '[');
	for (uint32_t i = 0; i < c.count; i++) {
		if (i)
			binlog_buf_putc(b, ',');
		if (c.obj) {
			rc = cont_key(ctx, &c, i, &key, &klen);
			if (rc)
				return rc;
			binlog_jw_utf8(b, key, klen);
			binlog_buf_putc(b, ':');
		}
		frame_set(ctx, key, klen, i);
		rc = cont_elem(ctx, &c, i, &et, &ev);
		if (rc)
			return rc;
		rc = render_value(ctx, et, ev);
		if (rc)
			return rc;
		rc = out_check(ctx);
		if (rc)
			return rc;
	}
	binlog_buf_putc(b, c.obj ? '}' : ']');
	ctx->depth--;
	return BINLOG_OK;
}

static binlog_errcode_t render_value(jctx_t *ctx, uint8_t type, binlog_cur_t v)
{
	if (type <= JB_LARGE_ARRAY)
		return render_container(ctx, type, v);
	return render_scalar(ctx, type, v);
}

/* A whole document: type byte, then the value; empty means null. */
static binlog_errcode_t render_doc(jctx_t *ctx, const uint8_t *p, size_t n)
{
	binlog_cur_t c = binlog_cur_make(p, n);
	uint8_t type;
	binlog_errcode_t rc;

	if (!binlog_cur_u8(&c, &type))
		binlog_buf_lit(ctx->b, "null");
	else if ((rc = render_value(ctx, type, c)) != BINLOG_OK)
		return rc;
	return out_check(ctx);
}

binlog_errcode_t binlog_json_render(binlog_buf_t *b, const uint8_t *p, size_t n, binlog_err_t *err)
{
	jctx_t ctx;
	binlog_errcode_t rc;

	ctx_init(&ctx, b, err, n);
	rc = check_input(&ctx, &p, n, "JSON value");
	if (!rc)
		rc = render_doc(&ctx, p, n);
	return ctx_done(&ctx, rc);
}

/* ------------------------------------------------------------------ */
/* JSON paths                                                          */

/* my_isspace() of utf8mb4, which MySQL's path parser skips. */
static int is_ws(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static void skip_ws(binlog_cur_t *c)
{
	while (c->p < c->end && is_ws(*c->p))
		c->p++;
}

static int peek(const binlog_cur_t *c)
{
	return c->p < c->end ? *c->p : -1;
}

static int hex4(binlog_cur_t *c, uint32_t *v)
{
	uint8_t ch;

	*v = 0;
	for (int i = 0; i < 4; i++) {
		if (!binlog_cur_u8(c, &ch))
			return 0;
		if (ch >= '0' && ch <= '9')
			*v = *v * 16 + (uint32_t)(ch - '0');
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			*v = *v * 16 + (uint32_t)((ch | 0x20) - 'a' + 10);
		else
			return 0;
	}
	return 1;
}

static size_t put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | (cp >> 6));
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | (cp >> 12));
		o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | (cp >> 18));
	o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the body of a JSON string (no quotes) into o, which has room for
 * as many bytes as the input (an escape is never shorter than what it
 * stands for). MySQL runs member names through its JSON parser, so the
 * same escapes are accepted and raw control characters, raw quotes and
 * unpaired surrogates are not. Returns 1 and the length in *olen, or 0.
 */
static int unescape(binlog_cur_t in, uint8_t *o, size_t *olen)
{
	size_t k = 0;
	uint8_t ch;
	uint32_t cp, lo;

	while (binlog_cur_u8(&in, &ch)) {
		if (ch < 0x20 || ch == '"')
			return 0;
		if (ch != '\\') {
			o[k++] = ch;
			continue;
		}
		if (!binlog_cur_u8(&in, &ch))
			return 0;
		switch (ch) {
		case '"':
		case '\\':
		case '/':
			o[k++] = ch;
			break;
		case 'b':
			o[k++] = '\b';
			break;
		case 'f':
			o[k++] = '\f';
			break;
		case 'n':
			o[k++] = '\n';
			break;
		case 'r':
			o[k++] = '\r';
			break;
		case 't':
			o[k++] = '\t';
			break;
		case 'u':
			if (!hex4(&in, &cp))
				return 0;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return 0;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* A high surrogate takes the following \uDCxx
				 * with it; 12 input bytes become 4. */
				if (!binlog_cur_u8(&in, &ch) || ch != '\\' ||
				    !binlog_cur_u8(&in, &ch) || ch != 'u' || !hex4(&in, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					return 0;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			k += put_utf8(o + k, cp);
			break;
		default:
			return 0;
		}
	}
	*olen = k;
	return 1;
}

/* The name after '.': "quoted" with JSON escapes, or a bare identifier
 * (which may also hold escapes). Bare names are checked for the ASCII part
 * of ECMAScript's identifier rule only; MySQL's own to_string() quotes
 * every name that is not an identifier, so logged paths pass either way. */
static int parse_member(binlog_cur_t *c, uint8_t *keys, size_t *kused, jleg_t *leg)
{
	binlog_cur_t name = *c;
	size_t n;

	if (peek(c) == '"') {
		c->p++;
		name.p = c->p;
		for (;;) {
			int ch = peek(c);
			if (ch < 0)
				return 0;
			c->p++;
			if (ch == '"')
				break;
			if (ch == '\\') {
				if (peek(c) < 0)
					return 0;
				c->p++;
			}
		}
		name.end = c->p - 1;
	} else {
		while (c->p < c->end && !is_ws(*c->p) && *c->p != '[' && *c->p != '.' &&
		       *c->p != '*')
			c->p++;
		name.end = c->p;
		if (name.p == name.end)
			return 0;
		for (const uint8_t *q = name.p; q < name.end; q++)
			if (*q != '\\' && !is_ident_byte(*q, q == name.p))
				return 0;
	}
	if (!unescape(name, keys + *kused, &n))
		return 0;
	leg->kind = LEG_MEMBER;
	leg->key = keys + *kused;
	leg->klen = n;
	*kused += n;
	return 1;
}

/* [N], [last], [last-N], with blanks allowed around the parts. */
static int parse_cell(binlog_cur_t *c, jleg_t *leg)
{
	uint64_t v = 0;
	int digits = 0;

	leg->kind = LEG_CELL;
	leg->from_end = 0;
	skip_ws(c);
	if (binlog_cur_left(c) >= 4 && memcmp(c->p, "last", 4) == 0) {
		c->p += 4;
		leg->from_end = 1;
		skip_ws(c);
		if (peek(c) != '-') {
			leg->index = 0;
			goto close;
		}
		c->p++;
		skip_ws(c);
	}
	while (peek(c) >= '0' && peek(c) <= '9') {
		v = v * 10 + (uint64_t)(*c->p - '0');
		if (v > UINT32_MAX)
			return 0;
		c->p++;
		digits++;
	}
	if (!digits)
		return 0;
	leg->index = (uint32_t)v;
close:
	skip_ws(c);
	if (peek(c) != ']')
		return 0;
	c->p++;
	return 1;
}

/*
 * Parse a logged path ($, then .member and [index] legs) into legs and
 * unescaped names allocated in the arena. Wildcards (.*, [*], **) and
 * ranges ([1 to 3]) are valid MySQL paths but can match many values, and
 * MySQL only logs diffs for paths that cannot, so they are refused here.
 */
static binlog_errcode_t parse_path(jctx_t *ctx, unsigned di, jdiff_t *d)
{
	binlog_cur_t c = binlog_cur_make(d->path, d->plen);
	uint8_t *keys;
	size_t kused = 0, max_legs = d->plen / 2 + 1;
	void *mem;
	binlog_errcode_t rc;
	char txt[160];

	d->nlegs = 0;
	rc = arena_alloc(ctx, 1, max_legs * sizeof(jleg_t) + d->plen + 1, &mem);
	if (rc)
		return rc;
	d->legs = mem;
	keys = (uint8_t *)mem + max_legs * sizeof(jleg_t);

	skip_ws(&c);
	if (peek(&c) != '$')
		goto bad;
	c.p++;
	skip_ws(&c);
	while (c.p < c.end) {
		jleg_t *leg = &d->legs[d->nlegs];
		int ch = peek(&c);

		/* Each leg takes at least two bytes, so max_legs holds. */
		memset(leg, 0, sizeof(*leg));
		c.p++;
		if (ch == '.') {
			skip_ws(&c);
			if (peek(&c) == '*' || !parse_member(&c, keys, &kused, leg))
				goto bad;
		} else if (ch == '[') {
			skip_ws(&c);
			if (peek(&c) == '*' || !parse_cell(&c, leg))
				goto bad;
		} else {
			goto bad;
		}
		d->nlegs++;
		skip_ws(&c);
	}
	return BINLOG_OK;
bad:
	loc_put_text(txt, sizeof(txt), 0, d->path, d->plen, 120);
	return jfail(ctx, BINLOG_E_BAD_VALUE,
		     "JSON diff %u: malformed or multi-valued path '%s' (at byte %zu)", di, txt,
		     (size_t)(c.p - d->path));
}

/* ------------------------------------------------------------------ */
/* Diff list                                                           */

static binlog_errcode_t read_diff(jctx_t *ctx, binlog_cur_t *c, unsigned di, jdiff_t *d)
{
	uint64_t n;

	memset(d, 0, sizeof(*d));
	if (!binlog_cur_u8(c, &d->op))
		return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON diff %u truncated", di);
	if (d->op > DIFF_REMOVE)
		return jfail(ctx, BINLOG_E_BAD_VALUE, "JSON diff %u: unknown operation %u", di,
			     d->op);
	if (!binlog_cur_packed(c, &n))
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON diff %u: path length truncated or malformed", di);
	if (n > binlog_cur_left(c))
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON diff %u: path of %llu bytes, only %zu left", di,
			     (unsigned long long)n, binlog_cur_left(c));
	binlog_cur_bytes(c, (size_t)n, &d->path);
	d->plen = (size_t)n;
	if (d->op == DIFF_REMOVE)
		return parse_path(ctx, di, d);
	if (!binlog_cur_packed(c, &n))
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON diff %u: value length truncated or malformed", di);
	if (n > binlog_cur_left(c))
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "JSON diff %u: value of %llu bytes, only %zu left", di,
			     (unsigned long long)n, binlog_cur_left(c));
	binlog_cur_bytes(c, (size_t)n, &d->val);
	d->vlen = (size_t)n;
	return parse_path(ctx, di, d);
}

binlog_errcode_t binlog_json_render_diffs(binlog_buf_t *b, const uint8_t *diff, size_t dn,
					  binlog_err_t *err)
{
	jctx_t ctx;
	binlog_cur_t c;
	binlog_errcode_t rc;
	jdiff_t d;

	ctx_init(&ctx, b, err, dn);
	rc = check_input(&ctx, &diff, dn, "JSON diff list");
	if (rc)
		return ctx_done(&ctx, rc);
	c = binlog_cur_make(diff, dn);
	binlog_buf_putc(b, '[');
	for (unsigned i = 0; binlog_cur_left(&c) > 0; i++) {
		rc = read_diff(&ctx, &c, i, &d);
		if (rc)
			break;
		if (i)
			binlog_buf_putc(b, ',');
		binlog_buf_lit(b, "{\"op\":\"");
		binlog_buf_puts(b, op_names[d.op]);
		binlog_buf_lit(b, "\",\"path\":");
		binlog_jw_utf8(b, d.path, d.plen);
		if (d.op != DIFF_REMOVE) {
			binlog_buf_lit(b, ",\"value\":");
			rc = render_doc(&ctx, d.val, d.vlen);
			if (rc) {
				binlog_err_prefix(err, "JSON diff %u value", i);
				break;
			}
		}
		binlog_buf_putc(b, '}');
		rc = out_check(&ctx);
		if (rc)
			break;
	}
	if (!rc) {
		binlog_buf_putc(b, ']');
		rc = out_check(&ctx);
	}
	return ctx_done(&ctx, rc);
}

/* ------------------------------------------------------------------ */
/* Applying diffs                                                      */

static int is_obj(uint8_t type)
{
	return type == JB_SMALL_OBJECT || type == JB_LARGE_OBJECT;
}

static int is_arr(uint8_t type)
{
	return type == JB_SMALL_ARRAY || type == JB_LARGE_ARRAY;
}

/* A node for a whole document; an empty one is null. */
static void node_from_doc(jnode_t *nd, const uint8_t *p, size_t n)
{
	static const uint8_t null_doc[2] = {JB_LITERAL, JB_NULL};

	memset(nd, 0, sizeof(*nd));
	if (n == 0) {
		p = null_doc;
		n = sizeof(null_doc);
	}
	nd->type = p[0];
	nd->val = binlog_cur_make(p + 1, n - 1);
}

static binlog_errcode_t expand(jctx_t *ctx, jnode_t *nd)
{
	jcont_t c;
	jnode_t *kids = NULL;
	void *mem;
	binlog_errcode_t rc;

	if (nd->expanded)
		return BINLOG_OK;
	rc = cont_open(ctx, nd->type, nd->val, &c);
	if (rc)
		return rc;
	if (c.count) {
		rc = arena_alloc(ctx, c.count, sizeof(jnode_t), &mem);
		if (rc)
			return rc;
		kids = mem;
	}
	for (uint32_t i = 0; i < c.count; i++) {
		memset(&kids[i], 0, sizeof(kids[i]));
		if (c.obj) {
			rc = cont_key(ctx, &c, i, &kids[i].key, &kids[i].klen);
			if (rc)
				return rc;
		}
		rc = cont_elem(ctx, &c, i, &kids[i].type, &kids[i].val);
		if (rc)
			return rc;
	}
	nd->kids = kids;
	nd->count = nd->cap = c.count;
	nd->expanded = 1;
	return BINLOG_OK;
}

/* MySQL's key order (Json_key_comparator): by length, then bytes. */
static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn)
		return an < bn ? -1 : 1;
	return an ? memcmp(a, b, an) : 0;
}

static uint32_t find_key(const jnode_t *obj, const uint8_t *key, size_t klen)
{
	uint32_t i;

	for (i = 0; i < obj->count; i++)
		if (key_cmp(obj->kids[i].key, obj->kids[i].klen, key, klen) == 0)
			break;
	return i;
}

/* MySQL's Json_array_index: the position a cell leg names in an array of
 * `size` elements, and whether an element is there. Positions past the
 * end clamp to the end (an INSERT appends), [last-N] before the start to
 * 0 (an INSERT prepends). */
static int cell_pos(const jleg_t *leg, uint32_t size, uint32_t *pos)
{
	if (leg->from_end) {
		*pos = leg->index < size ? size - 1 - leg->index : 0;
		return leg->index < size;
	}
	*pos = leg->index < size ? leg->index : size;
	return leg->index < size;
}

/* Walk legs[0..n) from nd without auto-wrapping (as MySQL's
 * seek_exact_path); *out is NULL when the path is not there. */
static binlog_errcode_t seek(jctx_t *ctx, jnode_t *nd, const jleg_t *legs, size_t n, jnode_t **out)
{
	binlog_errcode_t rc;
	uint32_t pos;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		if (is_obj(nd->type) && legs[i].kind == LEG_MEMBER) {
			rc = expand(ctx, nd);
			if (rc)
				return rc;
			pos = find_key(nd, legs[i].key, legs[i].klen);
			if (pos == nd->count)
				return BINLOG_OK;
		} else if (is_arr(nd->type) && legs[i].kind == LEG_CELL) {
			rc = expand(ctx, nd);
			if (rc)
				return rc;
			if (!cell_pos(&legs[i], nd->count, &pos))
				return BINLOG_OK;
		} else {
			return BINLOG_OK;
		}
		nd = &nd->kids[pos];
	}
	*out = nd;
	return BINLOG_OK;
}

static binlog_errcode_t kids_insert(jctx_t *ctx, jnode_t *parent, uint32_t pos, const jnode_t *kid)
{
	binlog_errcode_t rc;
	void *mem;

	if (parent->count == UINT32_MAX)
		return jfail(ctx, BINLOG_E_LIMIT, "JSON container too large to insert into");
	if (parent->count == parent->cap) {
		uint32_t ncap = parent->cap < 4                ? 4
				: parent->cap > UINT32_MAX / 2 ? UINT32_MAX
							       : parent->cap * 2;
		rc = arena_alloc(ctx, ncap, sizeof(jnode_t), &mem);
		if (rc)
			return rc;
		if (parent->count)
			memcpy(mem, parent->kids, (size_t)parent->count * sizeof(jnode_t));
		parent->kids = mem;
		parent->cap = ncap;
	}
	memmove(&parent->kids[pos + 1], &parent->kids[pos],
		(size_t)(parent->count - pos) * sizeof(jnode_t));
	parent->kids[pos] = *kid;
	parent->count++;
	return BINLOG_OK;
}

static void kids_remove(jnode_t *parent, uint32_t pos)
{
	memmove(&parent->kids[pos], &parent->kids[pos + 1],
		(size_t)(parent->count - pos - 1) * sizeof(jnode_t));
	parent->count--;
}

/* One diff, with MySQL's semantics (apply_json_diffs in sql/json_diff.cc):
 * REPLACE needs the value to exist; INSERT needs the parent, and adds a
 * member that must not exist yet or an element at a clamped index;
 * REMOVE needs the member or element. */
static binlog_errcode_t apply_one(jctx_t *ctx, jnode_t *root, const jdiff_t *d)
{
	const jleg_t *last;
	jnode_t *target, val;
	uint32_t pos;
	binlog_errcode_t rc;

	if (d->nlegs == 0)
		return jfail(ctx, BINLOG_E_BAD_VALUE, "a JSON diff cannot %s the whole document",
			     op_names[d->op]);
	last = &d->legs[d->nlegs - 1];
	if (d->op == DIFF_REPLACE) {
		rc = seek(ctx, root, d->legs, d->nlegs, &target);
		if (rc)
			return rc;
		if (!target)
			return jfail(ctx, BINLOG_E_BAD_VALUE,
				     "the path is not in the before image");
		node_from_doc(&val, d->val, d->vlen);
		val.key = target->key;
		val.klen = target->klen;
		*target = val;
		return BINLOG_OK;
	}
	rc = seek(ctx, root, d->legs, d->nlegs - 1, &target);
	if (rc)
		return rc;
	if (!target || !((is_obj(target->type) && last->kind == LEG_MEMBER) ||
			 (is_arr(target->type) && last->kind == LEG_CELL)))
		return jfail(ctx, BINLOG_E_BAD_VALUE,
			     "the path's parent is not in the before image as an %s",
			     last->kind == LEG_MEMBER ? "object" : "array");
	rc = expand(ctx, target);
	if (rc)
		return rc;
	if (d->op == DIFF_INSERT) {
		node_from_doc(&val, d->val, d->vlen);
		if (last->kind == LEG_CELL) {
			cell_pos(last, target->count, &pos);
			return kids_insert(ctx, target, pos, &val);
		}
		if (find_key(target, last->key, last->klen) != target->count)
			return jfail(ctx, BINLOG_E_BAD_VALUE,
				     "the member to insert is already in the before image");
		/* Where MySQL's sorted object map puts it. */
		for (pos = 0; pos < target->count; pos++)
			if (key_cmp(target->kids[pos].key, target->kids[pos].klen, last->key,
				    last->klen) > 0)
				break;
		val.key = last->key;
		val.klen = last->klen;
		return kids_insert(ctx, target, pos, &val);
	}
	if (last->kind == LEG_CELL) {
		if (!cell_pos(last, target->count, &pos))
			return jfail(ctx, BINLOG_E_BAD_VALUE,
				     "the element to remove is not in the before image");
	} else {
		pos = find_key(target, last->key, last->klen);
		if (pos == target->count)
			return jfail(ctx, BINLOG_E_BAD_VALUE,
				     "the member to remove is not in the before image");
	}
	kids_remove(target, pos);
	return BINLOG_OK;
}

static binlog_errcode_t render_node(jctx_t *ctx, const jnode_t *nd)
{
	binlog_buf_t *b = ctx->b;
	int obj = is_obj(nd->type);
	binlog_errcode_t rc;

	if (!nd->expanded)
		return render_value(ctx, nd->type, nd->val);
	rc = enter(ctx);
	if (rc)
		return rc;
	binlog_buf_putc(b, obj ? '{' : '[');
	for (uint32_t i = 0; i < nd->count; i++) {
		const jnode_t *kid = &nd->kids[i];

		if (i)
			binlog_buf_putc(b, ',');
		if (obj) {
			binlog_jw_utf8(b, kid->key, kid->klen);
			binlog_buf_putc(b, ':');
		}
		frame_set(ctx, obj ? kid->key : NULL, kid->klen, i);
		rc = render_node(ctx, kid);
		if (rc)
			return rc;
		rc = out_check(ctx);
		if (rc)
			return rc;
	}
	binlog_buf_putc(b, obj ? '}' : ']');
	ctx->depth--;
	return BINLOG_OK;
}

/* Render a diff's value and take the text back: a corrupt value is an
 * error even when a later diff replaces or removes it, as in MySQL,
 * which decodes every value when it reads the event. */
static binlog_errcode_t check_value(jctx_t *ctx, const jdiff_t *d)
{
	size_t mark = ctx->b->len;
	binlog_errcode_t rc = render_doc(ctx, d->val, d->vlen);

	ctx->b->len = mark;
	return rc;
}

binlog_errcode_t binlog_json_apply_diffs(binlog_buf_t *b, const uint8_t *before, size_t bn,
					 const uint8_t *diff, size_t dn, binlog_err_t *err)
{
	jctx_t ctx;
	binlog_cur_t c;
	binlog_errcode_t rc;
	jnode_t root;
	jdiff_t d;
	char txt[160];

	ctx_init(&ctx, b, err, bn > SIZE_MAX - dn ? SIZE_MAX : bn + dn);
	rc = check_input(&ctx, &before, bn, "JSON before image");
	if (!rc)
		rc = check_input(&ctx, &diff, dn, "JSON diff list");
	if (rc)
		return ctx_done(&ctx, rc);
	c = binlog_cur_make(diff, dn);
	node_from_doc(&root, before, bn);
	for (unsigned i = 0; binlog_cur_left(&c) > 0; i++) {
		rc = read_diff(&ctx, &c, i, &d);
		if (rc)
			break;
		if (d.op != DIFF_REMOVE) {
			rc = check_value(&ctx, &d);
			if (rc) {
				binlog_err_prefix(err, "JSON diff %u value", i);
				break;
			}
		}
		rc = apply_one(&ctx, &root, &d);
		if (rc) {
			loc_put_text(txt, sizeof(txt), 0, d.path, d.plen, 120);
			binlog_err_prefix(err, "JSON diff %u (%s %s)", i, op_names[d.op], txt);
			break;
		}
	}
	if (!rc)
		rc = render_node(&ctx, &root);
	if (!rc)
		rc = out_check(&ctx);
	return ctx_done(&ctx, rc);
}
