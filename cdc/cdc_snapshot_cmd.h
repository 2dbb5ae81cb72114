/*
 * cdc_snapshot_cmd.h: `sluice snapshot`, a backfill request to a pipeline
 * (docs/SNAPSHOT.md).
 */
#ifndef SLUICE_CDC_SNAPSHOT_CMD_H
#define SLUICE_CDC_SNAPSHOT_CMD_H

/* `sluice snapshot ...` (argv[0] is "snapshot"). 0 done, 1 failed, 2 usage. */
int cdc_snapshot_main(int argc, char **argv);

#endif
