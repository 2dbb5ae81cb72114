#!/bin/sh
# tests/live_kafka.sh: `sluice run` into the local broker (build/sluice-broker)
# through broker faults and SIGKILLs, at-least-once and exactly-once; the
# topics read back and merged per key by sequence must rebuild the source,
# and the stored checkpoint must never pass what Kafka acknowledged. The
# checks are in live_kafka.py. SEED=n replays a workload. Exit 77 (skip)
# when the server or python3 is missing.
set -eu

BUILD=${BUILD:-build}
. "$(dirname "$0")/lib/live_py.sh"

live_py live_kafka sluice-broker
