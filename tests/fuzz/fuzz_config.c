/*
 * fuzz_config.c: libFuzzer target for the files sluice reads that people
 * (or a crash) may have written: a pipeline configuration, a registry
 * entry (YAML) and a checkpoint (JSON), with the snapshot state it holds.
 * Every input goes to all of them. Beyond "no crash": success leaves a
 * configuration whose required settings are present, failure leaves a
 * message naming the file; a snapshot state that loads is written back
 * and that text loads again (key bounds, which go into SQL, are only ever
 * the literal forms sluice writes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_config.h"
#include "cdc_offsets.h"
#include "cdc_registry.h"
#include "cdc_snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A checkpoint's snapshot state, loaded without readers (no connection),
 * written back, loaded again. */
static void snapshot_state(const char *state)
{
	cdc_conn_opts_t conn = {0};
	cdc_snapshot_opts_t so = {.conn = &conn,
				  .readers = 0,
				  .chunk_rows = 1,
				  .chunk_bytes = 1 << 20,
				  .window_keys = 1};
	binlog_err_t err = {0};
	cdc_snapshot_t *s = cdc_snapshot_new(&so, state, &err), *again;
	char *text, *fin = NULL;

	if (!s)
		return;
	text = cdc_snapshot_state(s, &fin);
	free(fin);
	if (!text)
		abort();
	again = cdc_snapshot_new(&so, text, &err);
	if (!again)
		abort();
	cdc_snapshot_free(again);
	cdc_snapshot_free(s);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cdc_config_t c;
	cdc_registry_entry_t e;
	cdc_offsets_t o;
	binlog_err_t err;

	/* no registry: `registered:` must fail cleanly, not read anything */
	setenv("SLUICE_HOME", "/nonexistent/sluice-fuzz", 1);

	cdc_config_init(&c);
	memset(&err, 0, sizeof(err));
	if (cdc_config_parse("f.yaml", (const char *)data, size, &c, &err) == BINLOG_OK) {
		if (!c.source.conn.user || !c.source.server_id || !c.source.name)
			abort();
	} else if (strncmp(err.msg, "f.yaml", 6) != 0 && err.code != BINLOG_E_NOMEM) {
		abort();
	}
	cdc_config_free(&c);

	memset(&e, 0, sizeof(e));
	memset(&err, 0, sizeof(err));
	if (cdc_registry_parse("r.yaml", (const char *)data, size, &e, &err) == BINLOG_OK)
		cdc_registry_entry_free(&e);

	memset(&err, 0, sizeof(err));
	if (cdc_offsets_parse("o.json", (const char *)data, size, &o, &err) == BINLOG_OK) {
		if (!o.source || !o.file || !o.gtid)
			abort();
		if (o.snapshot)
			snapshot_state(o.snapshot);
		cdc_offsets_free(&o);
	} else if (strncmp(err.msg, "o.json", 6) != 0 && err.code != BINLOG_E_NOMEM) {
		abort();
	}
	return 0;
}
