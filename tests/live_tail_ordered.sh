#!/bin/sh
# tests/live_tail_ordered.sh: `sluice tail --ordered` against the local
# broker (build/sluice-broker): records of one key spread over partitions,
# out of order, duplicated, and one far older than the window, produced
# with kcat; what tail prints must be in sequence order per key (and
# overall when the window holds everything), with exactly the expected
# records dropped or marked "late", the right summary line, offsets
# committed only up to what was printed (--group), and usage errors. The
# checks are in live_tail_ordered.py. Needs no MariaDB. SEED=n changes the
# data; LIVE_KEEP=1 keeps the scratch directory. Exit 77 (skip) when
# python3 or kcat is missing.
set -u

BUILD=${BUILD:-build}
if ! command -v kcat >/dev/null 2>&1; then
	echo "SKIP: kcat is not installed"
	exit 77
fi
. "$(dirname "$0")/lib/live_py.sh"
live_py_broker live_tail_ordered sluice-broker
