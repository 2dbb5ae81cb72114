#!/bin/sh
# tests/live_kafka_routes.sh: routing rules (shards merged, a bad pattern),
# heartbeats on every partition of an idle table's topic, headers as kcat
# shows them, and a topic that cannot take writes holding back only itself.
# The checks are in live_kafka_routes.py. Exit 77 (skip) when the server or
# python3 is missing.
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
if [ ! -x "$BUILD/sluice" ] || [ ! -x "$BUILD/sluice-broker" ]; then
	echo "$BUILD/sluice or $BUILD/sluice-broker not found: build them first (make)" >&2
	exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-live-kafka-routes.XXXXXX")
mkdir "$dir/work"
# The sluice processes the test started (their ids, one a line), stopped
# here too in case the Python side could not.
kill_sluices() {
	[ -f "$dir/work/sluice.pids" ] || return 0
	while read -r pid; do
		if [ -r "/proc/$pid/cmdline" ] &&
		   tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'sluice run'; then
			kill -9 "$pid" 2>/dev/null || :
		fi
	done <"$dir/work/sluice.pids"
}
cleanup() {
	trap '' PIPE
	kill_sluices
	mdb_cleanup
	if [ -n "${LIVE_KEEP:-}" ]; then
		echo "kept $dir"
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mdb_start "$dir/server"

BUILD=$BUILD LIVE_DIR="$dir/work" python3 "$here/live_kafka_routes.py"
