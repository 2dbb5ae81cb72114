/*
 * fuzz_config.c: libFuzzer target for the files sluice reads that people
 * (or a crash) may have written: a pipeline configuration, a registry
 * entry (YAML) and a checkpoint (JSON). Every input goes to all three.
 * Beyond "no crash": success leaves a configuration whose required
 * settings are present, failure leaves a message naming the file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdc_config.h"
#include "cdc_offsets.h"
#include "cdc_registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		cdc_offsets_free(&o);
	} else if (strncmp(err.msg, "o.json", 6) != 0 && err.code != BINLOG_E_NOMEM) {
		abort();
	}
	return 0;
}
