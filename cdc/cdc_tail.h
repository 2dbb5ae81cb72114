/*
 * cdc_tail.h: `sluice tail`, a Kafka consumer that prints records as JSON
 * lines on standard output, for tests, demos and people debugging topics:
 *
 *   {"topic":"t","partition":3,"offset":17,"timestamp":1718454896123,
 *    "key":"k1","headers":{"sequence":"16777216","op":"+I"},"value":{...}}
 *
 * one record per line, keys in that order. Without --group it reads the
 * partitions it is given by itself (no group, no commits); with --group it
 * subscribes as a member of the group and commits offsets.
 *
 * With --ordered, records pass through a bounded reorder buffer
 * (cdc_tail_order_* below) and come out in `sequence` order, each key's
 * late records and repeats dropped or marked "late":true.
 */
#ifndef SLUICE_CDC_TAIL_H
#define SLUICE_CDC_TAIL_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "binlog_buf.h"
#include "binlog_err.h"
#include "cdc_tail_order.h"

/*
 * Append the JSON line of one consumed record, '\n' included, to out:
 *   - key: the bytes as a JSON string, null when the record has none;
 *   - headers: name -> value as a JSON string (null for a NULL value); of
 *     headers sharing a name, the last one;
 *   - value: embedded as is when it is a JSON object or array
 *     (cdc_tail_json_container), else a JSON string; null for a tombstone;
 *   - timestamp: milliseconds, null when the record has none.
 * Strings are escaped by binlog_jw_utf8: ill-formed UTF-8 becomes U+FFFD.
 * An allocation failure sets out->failed (binlog_buf.h) and nothing else.
 * Reads m only; the caller still owns it. Any thread, one buffer each.
 */
void cdc_tail_format(binlog_buf_t *out, const rd_kafka_message_t *m);

/*
 * 1 when s[0..n) is a JSON object or array (whitespace around it allowed)
 * that cdc_json_valid (cdc_record.h) accepts, else 0: the record writer's
 * own strict check, numbers of any size included (a changelog record
 * carries unsigned 64-bit ones), no allocation, no recursion. Any thread.
 */
int cdc_tail_json_container(const uint8_t *s, size_t n);

/* `sluice tail` (argv[0] is "tail"). Main thread only: it installs
 * SIGINT, SIGTERM and SIGPIPE handlers. Returns the exit status: 0 done
 * (--idle-exit, --max, a signal, or the reader of standard output went
 * away), 1 an error (fatal consumer error, unknown topic, output), 2 bad
 * usage. */
int cdc_tail_main(int argc, char **argv);

#endif
