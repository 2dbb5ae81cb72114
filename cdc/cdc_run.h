/*
 * cdc_run.h: `sluice run -c FILE`, the long-running service.
 *
 * It follows one source as a replica and writes every captured row change
 * to the sink, checkpointing as it goes (cdc_offsets.h). Restarted, it
 * resumes from the checkpoint; a dropped connection or a restarting server
 * is retried with backoff, from the last complete transaction. SIGTERM or
 * SIGINT stop it cleanly: what is complete is made durable and
 * checkpointed first.
 *
 * Exit status: 0 stopped as asked (or, with --stop-at-end, caught up),
 * 1 an error that retrying cannot mend (the message says what and where,
 * and the checkpoint holds everything accepted until then), 2 usage.
 */
#ifndef SLUICE_CDC_RUN_H
#define SLUICE_CDC_RUN_H

int cdc_run_main(int argc, char **argv);

#endif
