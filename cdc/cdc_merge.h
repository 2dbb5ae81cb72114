/*
 * cdc_merge.h: `sluice merge` (Kafka change records into tables that
 * converge to the source) and `sluice table` (read, verify, compact and
 * list the files of such a table). docs/MERGER.md.
 */
#ifndef SLUICE_CDC_MERGE_H
#define SLUICE_CDC_MERGE_H

/* `sluice merge` (argv[0] is "merge"). Main thread only: installs SIGINT
 * and SIGTERM handlers. Returns the exit status. */
int cdc_merge_main(int argc, char **argv);

/* `sluice table read|files|compact|verify` (argv[0] is "table"). */
int cdc_table_main(int argc, char **argv);

#endif
