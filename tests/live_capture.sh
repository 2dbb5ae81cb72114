#!/bin/sh
# tests/live_capture.sh: `sluice run` follows a throwaway MariaDB through a
# seeded random workload with DDL while it is killed (SIGKILL) and
# restarted at random moments, with a standard-output sink and a file
# sink; what it wrote must equal `sluice decode` of the binlog, and applied
# to an empty copy it must rebuild the source exactly. The checks are in
# live_capture.py. SEED=n replays a workload; LIVE_CAPTURE_SECONDS sets
# its length (35). Exit 77 (skip) when the server or python3 is missing.
set -eu

BUILD=${BUILD:-build}
. "$(dirname "$0")/lib/live_py.sh"

# A non-UTC server time zone, so nothing leans on the server being in UTC.
live_py live_capture -- --default-time-zone=+03:00
