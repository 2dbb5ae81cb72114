#!/bin/sh
# tests/merge_group.sh: two `sluice merge` processes in one consumer group,
# one table, against the local broker (build/sluice-broker) and records
# made by build/kafka-shuffle --generate (no MariaDB). The second member
# joins while the first is mid-stream, with a commit running: the first
# must finish it and commit what else it holds before giving partitions
# up; one member is stopped with SIGTERM mid-stream and started again. The
# table must end equal to the generator's final state, row for row. The
# checks are in merge_group.py. SEED=n changes the data; LIVE_KEEP=1 keeps
# the scratch directory. Exit 77 (skip) when python3 is missing.
set -u

BUILD=${BUILD:-build}
. "$(dirname "$0")/lib/live_py.sh"
live_py_broker merge_group sluice-broker kafka-shuffle
