#!/bin/sh
# tests/live_mariadb_types.sh: every MariaDB column type through a live
# binlog (the checks are in live_mariadb_types.py). Starts a throwaway
# MariaDB with tests/lib/mariadb.sh, runs the Python test against it, and
# stops it. Exit 77 (skip) when the server or python3 is not installed.
set -eu

BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib/mariadb.sh
. "$here/lib/mariadb.sh"

if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is not installed"
	exit 77
fi
if ! mdb_available; then
	echo "SKIP: MariaDB server not installed (needs mariadbd, mariadb, mariadb-install-db)"
	exit 77
fi
if [ ! -x "$BUILD/sluice" ]; then
	echo "$BUILD/sluice not found: build it first (make)" >&2
	exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-live-types.XXXXXX")
cleanup() {
	trap '' PIPE	# a reader that went away must not stop the cleanup
	mdb_cleanup
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 64M packets for the > 16 MiB blob; a non-UTC server time zone, so
# nothing can lean on the server being in UTC.
mdb_start "$dir" --max-allowed-packet=64M --default-time-zone=+03:00

BUILD=$BUILD python3 "$here/live_mariadb_types.py"
