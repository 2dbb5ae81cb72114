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
set -eu

BUILD=${BUILD:-build}
for c in python3 kcat; do
	if ! command -v "$c" >/dev/null 2>&1; then
		echo "SKIP: $c is not installed"
		exit 77
	fi
done
for p in sluice sluice-broker; do
	if [ ! -x "$BUILD/$p" ]; then
		echo "$BUILD/$p not found: build it first (make)" >&2
		exit 1
	fi
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-live_tail_ordered.XXXXXX")
cleanup() {
	if [ -n "${LIVE_KEEP:-}" ]; then
		echo "kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
BUILD=$BUILD LIVE_DIR=$dir python3 "$(dirname "$0")/live_tail_ordered.py"
