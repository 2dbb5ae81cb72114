/*
 * cdc_filter.h: which tables are captured, and which columns are left out
 * or masked.
 *
 * Patterns are PCRE2 regular expressions matched against the whole name
 * (anchored at both ends): "db.table" for tables, "db.table.column" for
 * columns, the dots literal in the names and escaped (\.) in patterns, as
 * Flink CDC writes them. A table is captured when it matches an include
 * pattern (or there are none) and no exclude pattern. A pattern that does
 * not compile is an error naming the setting, the pattern and the offset
 * in it where compilation failed.
 *
 * A masked column keeps its key; its value becomes the string "****" (a
 * NULL stays null), so consumers see that a value exists without seeing it.
 *
 * Immutable once built: safe to share between threads.
 */
#ifndef SLUICE_CDC_FILTER_H
#define SLUICE_CDC_FILTER_H

#include "binlog.h"
#include "cdc_config.h"

typedef struct cdc_filter cdc_filter_t;

enum cdc_column_action {
	CDC_COLUMN_KEEP = 0,
	CDC_COLUMN_EXCLUDE,
	CDC_COLUMN_MASK,
};

/* Build from the source settings (the lists may be empty). Returns 0 and
 * *out (free with cdc_filter_free), or an error naming the bad pattern. */
binlog_errcode_t cdc_filter_new(const cdc_source_conf_t *src, cdc_filter_t **out,
				binlog_err_t *err);
void cdc_filter_free(cdc_filter_t *f);

/* 1 when "db.table" is captured. */
int cdc_filter_table(const cdc_filter_t *f, const char *db, const char *table);

/* What to do with db.table.column (enum cdc_column_action). */
int cdc_filter_column(const cdc_filter_t *f, const char *db, const char *table, const char *column);

#endif
