#!/bin/sh
# tests/live_snapshot.sh: the initial snapshot of a 1M-row table while a
# workload writes to it (one reader, SIGKILLs, four readers) and a backfill
# repairing a damaged copy; the checks are in live_snapshot.py. SEED=n
# replays a workload; LIVE_SNAPSHOT_ROWS=n sizes the big table. Exit 77
# (skip) when the server or python3 is missing.
set -eu

BUILD=${BUILD:-build}
. "$(dirname "$0")/lib/live_py.sh"

live_py live_snapshot sluice-broker -- --innodb-buffer-pool-size=256M
