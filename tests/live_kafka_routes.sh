#!/bin/sh
# tests/live_kafka_routes.sh: routing rules (shards merged, a bad pattern),
# heartbeats on every partition of an idle table's topic, headers as kcat
# shows them, and a topic that cannot take writes holding back only itself.
# The checks are in live_kafka_routes.py. Exit 77 (skip) when the server or
# python3 is missing.
set -eu

BUILD=${BUILD:-build}
. "$(dirname "$0")/lib/live_py.sh"

live_py live_kafka_routes sluice-broker
