/*
 * cdc_route.h: which Kafka topic a table's records go to.
 *
 * An ordered list of rules, each a database regex, a table regex (PCRE2,
 * anchored at both ends) and a topic template; the first rule whose two
 * regexes match gives the topic, and tables no rule matches take the
 * default template (sink.topic). Templates know ${db}, ${table}, ${source},
 * ${db.N} and ${table.N} (capture group N of the rule's regex; 0 is the
 * whole name). Characters Kafka does not allow in
 * a topic name ([A-Za-z0-9._-] are allowed) become '_'.
 *
 *   - database: shop_([0-9]+)        shop_7.order_3  -> ods.orders
 *     table: order_[0-9]+            shop_7.customer -> cdc.shop_7.customer
 *     topic: ods.orders              (default: cdc.${db}.${table})
 *
 * A router remembers each table it was asked about, with its topic: one
 * hash lookup per record, no regex. The entries also carry what the
 * heartbeats need (when the table last changed), and can be walked.
 *
 * Not thread-safe: one router per pipeline thread.
 */
#ifndef SLUICE_CDC_ROUTE_H
#define SLUICE_CDC_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "binlog_err.h"
#include "cdc_config.h"

#define CDC_TOPIC_MAX 249 /* Kafka's limit on a topic name */

typedef struct cdc_route_entry {
	const char *db, *table; /* NUL-terminated */
	const char *topic;      /* NUL-terminated, a valid topic name */
	int rule;               /* index of the rule, -1: the default */
	int64_t changed_ms;     /* monotonic: the last record, or when first seen */
	int64_t beat_ms;        /* monotonic: the last heartbeat, 0: none yet */
	struct cdc_route_entry *next_all;
	struct cdc_route_entry *next_hash;
} cdc_route_entry_t;

typedef struct cdc_router cdc_router_t;

/*
 * Compile the rules. `source` is what ${source} stands for. Errors name
 * the rule (route[N], 1-based) and the field; a regex that does not
 * compile also the offset in the pattern.
 */
binlog_errcode_t cdc_router_new(const cdc_route_conf_t *rules, size_t n, const char *default_topic,
				const char *source, cdc_router_t **out, binlog_err_t *err);
void cdc_router_free(cdc_router_t *r);

/*
 * The entry of db.table, made on first use. NULL with *err set when out of
 * memory or when the topic the rule makes is not a valid name (empty, "."
 * or "..", or longer than CDC_TOPIC_MAX).
 */
cdc_route_entry_t *cdc_router_get(cdc_router_t *r, const char *db, size_t db_len, const char *table,
				  size_t table_len, binlog_err_t *err);

/* Every entry made so far, newest first (NULL: none). */
cdc_route_entry_t *cdc_router_entries(const cdc_router_t *r);

/*
 * For the configuration's check, before any router exists: does this
 * regex compile, does this template use only known names (with `db_groups`
 * and `table_groups` capture groups available)? 0, or -1 with a message
 * in msg ("... at offset 9: missing terminating ] for character class").
 */
int cdc_route_check_regex(const char *re, unsigned *groups, char *msg, size_t cap);
int cdc_route_check_template(const char *tpl, unsigned db_groups, unsigned table_groups, char *msg,
			     size_t cap);

#endif
