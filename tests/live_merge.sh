#!/bin/sh
# tests/live_merge.sh: `sluice merge` into merge-on-read and Hive tables
# (JSON lines and text) from shuffled topics (random partitions, reordered,
# duplicated) while a workload runs, the mergers are SIGKILLed over and over
# and a reader reads the tables from their files; the tables must converge
# to the topics and to the source, the same again when consumed from offset
# 0, and an idle Hive partition must be committed by heartbeats. The checks
# are in live_merge.py. SEED=n replays a workload. Exit 77 (skip) when the
# server or python3 is missing.
set -eu

BUILD=${BUILD:-build}
. "$(dirname "$0")/lib/live_py.sh"

if [ ! -x "$BUILD/kafka-shuffle" ]; then
	echo "$BUILD/kafka-shuffle not found: build it first (make $BUILD/kafka-shuffle)" >&2
	exit 1
fi
live_py live_merge sluice-broker
