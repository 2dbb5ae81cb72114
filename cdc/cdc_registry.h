/*
 * cdc_registry.h: the sources sluice knows by name, one YAML file each.
 *
 * `sluice source add NAME ...` checks a server and writes its connection
 * settings here; a pipeline file then says `source: {registered: NAME}`
 * (keys given next to `registered` override the registered ones) instead
 * of repeating the address, user and password file in every pipeline.
 *
 * Layout: HOME/sources/NAME.yaml, where HOME is --home DIR, else
 * $SLUICE_HOME, else $HOME/.local/share/sluice. Directories are created
 * 0700 and files 0600. NAME is 1 to 64 of [A-Za-z0-9_-].
 *
 * File format: a `source:` block with the keys (and spellings) of the
 * pipeline configuration's source block (cdc_config.c), and a `registry:`
 * block that only the registry reads.
 * Strings are single-quoted (double-quoted with escapes if they hold
 * control characters); the password itself is never written, only where
 * to read it from:
 *
 *   # sluice source "db1", written by `sluice source add`.
 *   # A pipeline uses it with: source: {registered: db1}
 *   source:
 *     name: 'db1'
 *     type: 'mariadb'
 *     hostname: 'db1.internal'
 *     port: 3306
 *     socket: '/run/mysqld/mysqld.sock'          (only when set)
 *     username: 'sluice'
 *     password-file: '/etc/sluice/db1.password'  (or password-env: 'VAR')
 *     server-id: 5401
 *     ssl.mode: 'preferred'    (disabled, preferred, required, verify-ca,
 *                               verify-identity)
 *     ssl.ca: '/etc/ssl/db-ca.pem'               (ssl.ca, ssl.cert, ssl.key:
 *                                                 only when set)
 *     tables: ['shop\..*', 'crm\.customers']     (only when set)
 *   registry:
 *     added-at: '2024-06-15T12:34:56Z'
 *
 * Writes are atomic: the file is written under a temporary name in the same
 * directory, fsynced, then renamed over (or, without replace, linked to)
 * its name, and the directory is fsynced; a crash leaves the old file or
 * the new one, never half of one. Adding a name that exists fails without
 * replace, also when two adds race.
 *
 * Errors: BINLOG_E_USAGE for a bad name, a name that exists or does not,
 * or a file that does not parse (naming file, line and key); BINLOG_E_IO
 * for the file system (naming the path and the reason).
 */
#ifndef SLUICE_CDC_REGISTRY_H
#define SLUICE_CDC_REGISTRY_H

#include <stdint.h>

#include "binlog.h"
#include "cdc_config.h"

#define CDC_REGISTRY_NAME_MAX 64

/* One registered source. Owns every string of src. */
typedef struct cdc_registry_entry {
	char name[CDC_REGISTRY_NAME_MAX + 1];
	cdc_source_conf_t src; /* name, type, conn (without the password),
				* server_id, tables */
	int64_t added_at;      /* Unix seconds, UTC; 0 when the file has none */
} cdc_registry_entry_t;

/* 1 when name is 1 to 64 of [A-Za-z0-9_-]. */
int cdc_registry_name_valid(const char *name);

/* The registry directory: override (--home) if not NULL or empty, else
 * $SLUICE_HOME, else $HOME/.local/share/sluice. */
binlog_errcode_t cdc_registry_home(const char *override, char *buf, size_t cap, binlog_err_t *err);

/* HOME/sources/NAME.yaml, after checking the name. For the configuration
 * loader's `registered: NAME`. */
binlog_errcode_t cdc_registry_path(const char *home, const char *name, char *buf, size_t cap,
				   binlog_err_t *err);

/* 1 when NAME is registered in home, 0 when not (or the name is invalid). */
int cdc_registry_exists(const char *home, const char *name);

/* Append the file text for src under name (the format above) to *out. */
void cdc_registry_format(const char *name, const cdc_source_conf_t *src, int64_t added_at,
			 binlog_buf_t *out);

/*
 * Register src as name (atomically, see above). Without replace, an
 * existing name is an error that says so. added_at: Unix seconds to record
 * (the caller passes time(NULL); tests pass a fixed time).
 */
binlog_errcode_t cdc_registry_add(const char *home, const char *name, const cdc_source_conf_t *src,
				  int64_t added_at, int replace, binlog_err_t *err);

/* Delete a registered source; an unknown name is an error. */
binlog_errcode_t cdc_registry_remove(const char *home, const char *name, binlog_err_t *err);

/*
 * Read a registered source into *e (zeroed first; free it with
 * cdc_registry_entry_free, also after an error). Unknown keys are errors
 * naming the file, line and key.
 */
binlog_errcode_t cdc_registry_load(const char *home, const char *name, cdc_registry_entry_t *e,
				   binlog_err_t *err);

/* The same from text; `path` names it in messages, and the name is taken
 * from the file's `name:`. On error *e holds nothing (freeing it is
 * harmless). */
binlog_errcode_t cdc_registry_parse(const char *path, const char *text, size_t len,
				    cdc_registry_entry_t *e, binlog_err_t *err);

void cdc_registry_entry_free(cdc_registry_entry_t *e);

/*
 * The registered names, sorted. *names is an array of *n strings the
 * caller frees with cdc_registry_names_free. A home without a sources
 * directory has none (not an error).
 */
binlog_errcode_t cdc_registry_names(const char *home, char ***names, size_t *n, binlog_err_t *err);
void cdc_registry_names_free(char **names, size_t n);

#endif
