/*
 * cdc_source_cmd.h: `sluice source add | check | list | remove`, the
 * commands that register a server as a named source after checking that
 * it allows capture (cdc_preflight.h, cdc_registry.h).
 */
#ifndef SLUICE_CDC_SOURCE_CMD_H
#define SLUICE_CDC_SOURCE_CMD_H

/* `sluice source ...` (argv[0] is "source"). Returns the exit status:
 * 0 done, 1 a check or the operation failed, 2 bad usage. */
int cdc_source_main(int argc, char **argv);

#endif
