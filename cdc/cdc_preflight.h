/*
 * cdc_preflight.h: does a server allow capture, and what must change if it
 * does not.
 *
 * cdc_preflight() runs every check against a connected server and collects
 * every problem it finds, so that one run tells a DBA everything to fix:
 * the user's privileges (REPLICATION SLAVE; REPLICATION CLIENT, called
 * BINLOG MONITOR on MariaDB 10.5+; SELECT on the captured databases), the
 * binlog settings (log_bin, binlog_format, binlog_row_image,
 * binlog_row_metadata, binlog_checksum), GTIDs, the server id against the
 * server's own and its replicas', and how long binlogs are kept. Each
 * finding has a severity, a one-line problem and a one-line fix: the exact
 * SQL statement or configuration line to change.
 *
 * Flavour differences come from cdc_conn.h (the statements, privilege and
 * variable names); this file only decides what is a problem.
 */
#ifndef SLUICE_CDC_PREFLIGHT_H
#define SLUICE_CDC_PREFLIGHT_H

#include <stdio.h>

#include "binlog.h"
#include "cdc_config.h"
#include "cdc_conn.h"

enum cdc_preflight_severity {
	CDC_PREFLIGHT_INFO = 0, /* worth knowing, nothing to fix */
	CDC_PREFLIGHT_WARNING,  /* capture works, with a documented loss */
	CDC_PREFLIGHT_ERROR,    /* capture cannot work until it is fixed */
};

#define CDC_PREFLIGHT_LINE_MAX 400

typedef struct cdc_preflight_item {
	int severity;                         /* enum cdc_preflight_severity */
	char check[32];                       /* what was checked: "binlog_format", ... */
	char problem[CDC_PREFLIGHT_LINE_MAX]; /* one line, no final period */
	char fix[CDC_PREFLIGHT_LINE_MAX];     /* one line; "" when there is nothing to do */
} cdc_preflight_item_t;

/* The findings, in the order the checks ran. The report owns `items`;
 * cdc_preflight_report_free releases them. */
typedef struct cdc_preflight_report {
	cdc_preflight_item_t *items;
	size_t n, cap;
	unsigned errors, warnings;
	int failed; /* sticky: an item could not be stored (out of memory) */
} cdc_preflight_report_t;

void cdc_preflight_report_init(cdc_preflight_report_t *rep);
void cdc_preflight_report_free(cdc_preflight_report_t *rep);

/*
 * Append a finding (problem and fix are copied, cut to one line of
 * CDC_PREFLIGHT_LINE_MAX - 1 bytes; fix may be NULL). For callers that add
 * findings of their own, such as the password file's permissions.
 */
void cdc_preflight_add(cdc_preflight_report_t *rep, int severity, const char *check,
		       const char *problem, const char *fix);

/*
 * Run every check on `m` (srv from cdc_server_probe; src gives the
 * configured type, server id and tables) and append the findings to *rep.
 * Returns 0 when every check ran, whatever it found: the findings are in
 * rep->errors and rep->warnings. A check that cannot run (a statement the
 * user may not execute) is itself a finding. Returns an error only when
 * the connection is lost (BINLOG_E_IO) or memory runs out.
 */
binlog_errcode_t cdc_preflight(MYSQL *m, const cdc_server_t *srv, const cdc_source_conf_t *src,
			       cdc_preflight_report_t *rep, binlog_err_t *err);

/*
 * Print the report: errors, then warnings, then notes, one block each,
 *
 *   ERROR binlog_format is MIXED, not ROW: ...
 *     fix: SET GLOBAL binlog_format = 'ROW' (and in my.cnf: binlog_format = ROW)
 *
 * and a last line counting them ("preflight: 1 error, 2 warnings").
 */
void cdc_preflight_print(const cdc_preflight_report_t *rep, FILE *out);

#endif
