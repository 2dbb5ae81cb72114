/*
 * cdc_log.h: the service's log: one line per message on standard error,
 *
 *   2026-11-21T19:40:01.123Z INFO shop: connected to db1:3306 (MariaDB 10.11.6)
 *
 * with UTC time, level and the pipeline's name. SLUICE_LOG (error, warn,
 * info, debug) sets the level; info by default. Secrets are never passed
 * here.
 */
#ifndef SLUICE_CDC_LOG_H
#define SLUICE_CDC_LOG_H

#include <stdint.h>

enum cdc_log_level {
	CDC_LOG_ERROR = 0,
	CDC_LOG_WARN,
	CDC_LOG_INFO,
	CDC_LOG_DEBUG,
};

/* Read SLUICE_LOG; `name` (may be NULL) prefixes every message. */
void cdc_log_init(const char *name);

/* Milliseconds: since the epoch (for records and files), and on a clock
 * that never goes back (for intervals). */
int64_t cdc_wall_ms(void);
int64_t cdc_mono_ms(void);

int cdc_log_enabled(int level);

void cdc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cdc_log_error(...) cdc_log(CDC_LOG_ERROR, __VA_ARGS__)
#define cdc_log_warn(...)  cdc_log(CDC_LOG_WARN, __VA_ARGS__)
#define cdc_log_info(...)  cdc_log(CDC_LOG_INFO, __VA_ARGS__)
#define cdc_log_debug(...)                                                                         \
	do {                                                                                       \
		if (cdc_log_enabled(CDC_LOG_DEBUG))                                                \
			cdc_log(CDC_LOG_DEBUG, __VA_ARGS__);                                       \
	} while (0)

#endif
