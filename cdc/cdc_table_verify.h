/*
 * cdc_table_verify.h: `sluice table verify`, a merged table checked against
 * the live source tables it is made from.
 *
 *   sluice table verify DIR --source NAME [--home DIR]
 *                           [--tables DB.TABLE,...] [--json]
 *
 * Each side is reduced, per source table (db.table: the rows' _sluice_db
 * and _sluice_table) and, for a Hive table partitioned by a column, per
 * partition, to a row count and an order-independent checksum; the two
 * must be equal. The merged side is the table's merged view (live rows
 * only, merge_table_read); the source side is every row of the table read
 * with SELECT inside one consistent-snapshot transaction and formatted by
 * the snapshot path (cdc_snaprow.h, cdc_writer_values), which writes the
 * "data" object byte for byte as the binlog path does. Column rules
 * (exclude, mask) are those of the registered source, which today holds
 * none: a pipeline that excludes or masks columns of a table makes it
 * differ here.
 * A Hive table partitioned by commit time is compared per table only:
 * the source has no commit time of a row to partition it by.
 *
 * The row checksum, computed the same way on both sides:
 *
 *   1. Take the members (name, value) of the row's data object. A name is
 *      its unescaped bytes. A value becomes text: a JSON string its
 *      unescaped content, anything else but null (numbers, true, false,
 *      objects, arrays) its JSON text as is. Rendering strings by content
 *      is what makes JSON-lines tables and Hive text tables, which give
 *      every value back as a string, comparable.
 *   2. Leave out the members whose value is null: null is the absence of
 *      a member, and so differs from every string ("" included). Absent
 *      and null must be one because a Hive text table holds every column
 *      it has ever seen, a row of one source table reading null for the
 *      columns of another (a topic of several tables, or a column added
 *      since the row was written); and a JSON-lines row written before
 *      `ALTER TABLE ... ADD c` (NULL) has no "c" while the source now has
 *      c = NULL: the same row to any reader.
 *   3. Sort the members by name (bytes, a shorter prefix first).
 *   4. Build the canonical bytes: for each member in that order
 *        u64le(name length) name u64le(text length) text
 *   5. row hash = fmix64(FNV-1a 64 of the canonical bytes), fmix64 being
 *      MurmurHash3's 64-bit finalizer (FNV alone mixes its last bytes
 *      poorly, and the hashes are summed).
 *   6. checksum = the sum of the row hashes mod 2^64; with the row count.
 *
 * Exit status: 0 every table (and partition) matches, 1 a difference or
 * an error, 2 bad usage.
 */
#ifndef SLUICE_CDC_TABLE_VERIFY_H
#define SLUICE_CDC_TABLE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "binlog.h"

/* `sluice table verify ...` (argv[0] is "verify"). Main thread. */
int cdc_table_verify_main(int argc, char **argv);

/* Reusable scratch for row hashes: one per thread. */
typedef struct cdc_verify_hasher cdc_verify_hasher_t;

/* A new hasher the caller frees with cdc_verify_hasher_free; NULL when out
 * of memory. */
cdc_verify_hasher_t *cdc_verify_hasher_new(void);
void cdc_verify_hasher_free(cdc_verify_hasher_t *h); /* NULL is a no-op */

/*
 * The row hash (above) of a data object given as its members without the
 * braces (`"id":7,"name":"a"`, what merge_row_t.body holds; empty: no
 * members). 0, or BINLOG_E_BAD_VALUE when a name or string is not a
 * well-formed JSON string body, BINLOG_E_NOMEM.
 */
binlog_errcode_t cdc_verify_row_hash(cdc_verify_hasher_t *h, const uint8_t *body, size_t n,
				     uint64_t *out, binlog_err_t *err);

#endif
