#!/bin/sh
# tests/live_replay.sh: `sluice run` captures a seeded random workload (DML,
# DDL, binlog rotations) into a file; `sluice replay` of the archived binlog
# files must give the same records, byte for byte and in order, into a file
# and into the local broker, with GTID, time and table ranges selecting
# exactly the live records of those transactions; empty, missing, corrupt
# and cut archives fail naming the file. The checks are in live_replay.py.
# SEED=n replays a workload; LIVE_REPLAY_SECONDS sets its length (12);
# LIVE_REPLAY_FAULT=alter|drop|order|extra damages the replay's output
# before the comparison, to see it fail. Exit 77 (skip) when the server or
# python3 is missing.
set -eu

BUILD=${BUILD:-build}
. "$(dirname "$0")/lib/live_py.sh"

live_py live_replay sluice-broker -- --default-time-zone=+03:00
