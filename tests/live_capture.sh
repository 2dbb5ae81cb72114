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

dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-live-capture.XXXXXX")
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

# A non-UTC server time zone, so nothing leans on the server being in UTC.
mdb_start "$dir/server" --default-time-zone=+03:00

BUILD=$BUILD LIVE_DIR="$dir/work" python3 "$here/live_capture.py"
