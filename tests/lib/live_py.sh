# tests/lib/live_py.sh: the frame of the live tests whose checks are in
# Python (tests/NAME.py): skip when python3 or the server is missing, a
# scratch directory, a throwaway MariaDB, and at the end the sluice
# processes the test started (listed in work/sluice.pids), the server and
# the directory gone (LIVE_KEEP=1 keeps the directory).
#
#   . "$here/lib/live_py.sh"
#   live_py NAME [PROGRAM...] -- [mdb_start options]
#   live_py_broker NAME [PROGRAM...]   the same without a server, for
#                                      the tests that need only the broker
#
# PROGRAM: what $BUILD must hold besides sluice (e.g. sluice-broker). Runs
# tests/NAME.py with BUILD and LIVE_DIR (the scratch work directory) set,
# and the MDB_* variables of tests/lib/mariadb.sh exported.

# shellcheck source=SCRIPTDIR/mariadb.sh
. "$(dirname "$0")/lib/mariadb.sh"

live_py() {
	live_name=$1
	shift
	live_progs=sluice
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		live_progs="$live_progs $1"
		shift
	done
	[ $# -gt 0 ] && shift
	if ! command -v python3 >/dev/null 2>&1; then
		echo "SKIP: python3 is not installed"
		exit 77
	fi
	if [ "${live_server:-1}" = 1 ] && ! mdb_available; then
		echo "SKIP: MariaDB server not installed (needs mariadbd, mariadb, mariadb-install-db)"
		exit 77
	fi
	for p in $live_progs; do
		if [ ! -x "$BUILD/$p" ]; then
			echo "$BUILD/$p not found: build it first (make)" >&2
			exit 1
		fi
	done
	live_dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-$live_name.XXXXXX")
	mkdir "$live_dir/work"
	trap live_cleanup EXIT
	trap 'exit 130' INT TERM
	if [ "${live_server:-1}" = 1 ]; then
		mdb_start "$live_dir/server" "$@"
	fi
	BUILD=$BUILD LIVE_DIR="$live_dir/work" python3 "$(dirname "$0")/$live_name.py"
}

live_py_broker() {
	live_server=0
	live_py "$@"
}

# The sluice processes the test started, stopped here too in case the
# Python side could not.
live_kill_sluices() {
	[ -f "$live_dir/work/sluice.pids" ] || return 0
	while read -r pid; do
		if [ -r "/proc/$pid/cmdline" ] &&
		   tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'sluice run'; then
			kill -9 "$pid" 2>/dev/null || :
		fi
	done <"$live_dir/work/sluice.pids"
}

live_cleanup() {
	trap '' PIPE
	live_kill_sluices
	mdb_cleanup
	if [ -n "${LIVE_KEEP:-}" ]; then
		echo "kept $live_dir"
	else
		rm -rf "$live_dir"
	fi
}
