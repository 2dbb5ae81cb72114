# tests/lib/mariadb.sh: a throwaway MariaDB server for tests, the demo and
# the benchmarks. POSIX sh; source it, then:
#
#   trap 'mdb_cleanup; rm -rf "$dir"' EXIT; trap 'exit 130' INT TERM
#   mdb_start "$dir" [extra mariadbd options...]
#   mdb_sql "CREATE TABLE ..."          # batch, raw, no column names, as root
#   mdb_binlogs                         # binlog file paths, in binlog order
#   mdb_stop
#
# mdb_start creates DIR/data with mariadb-install-db and starts mariadbd on
# a socket in DIR and a free TCP port on 127.0.0.1, with the binlog on in
# ROW format with full metadata. Exports MDB_DIR, MDB_DATADIR, MDB_SOCK,
# MDB_PORT, MDB_PID. Extra options go to mariadbd (not to the bootstrap)
# after the defaults, so they override them (e.g. --binlog-row-image=MINIMAL,
# --max-allowed-packet=64M). Works as root (--user=root) and as any user.
# The server stays small: InnoDB with a 16 MiB redo log, no fsync, so it
# starts in a second or two. Nothing survives mdb_cleanup or mdb_stop.
#
# Set MDB_START_TIMEOUT (seconds, default 30) to wait longer on slow hosts.

MDB_DIR=${MDB_DIR:-}
MDB_DATADIR=${MDB_DATADIR:-}
MDB_SOCK=${MDB_SOCK:-}
MDB_PORT=${MDB_PORT:-}
MDB_PID=${MDB_PID:-}

_mdb_log() { printf 'mariadb.sh: %s\n' "$*" >&2; }

# Find the server (MDB_MARIADBD: on PATH, or in /usr/sbin, which is not on
# every user's PATH) and check for the client and mariadb-install-db.
_mdb_find() {
	MDB_MARIADBD=
	for _mdb_c in "$(command -v mariadbd 2>/dev/null)" /usr/sbin/mariadbd \
		/usr/libexec/mariadbd; do
		if [ -n "$_mdb_c" ] && [ -x "$_mdb_c" ]; then
			MDB_MARIADBD=$_mdb_c
			break
		fi
	done
	if [ -z "$MDB_MARIADBD" ]; then
		_mdb_log "mariadbd not found"
		return 1
	fi
	for _mdb_c in mariadb mariadb-install-db; do
		if ! command -v "$_mdb_c" >/dev/null 2>&1; then
			_mdb_log "$_mdb_c not found"
			return 1
		fi
	done
}

# mdb_available: true when a server can be started here (for skip checks).
mdb_available() {
	_mdb_find 2>/dev/null
}

# True when something listens on 127.0.0.1:PORT or any address:PORT.
_mdb_port_busy() {
	_mdb_hex=$(printf ':%04X ' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q "$_mdb_hex"
}

# A port number in 20000..59999 that nothing listens on (the server's own
# bind is the final word: mdb_start retries on a bind failure).
_mdb_free_port() {
	_mdb_seed=$(( ($$ * 7919 + $(date +%s) % 10007 * 31 + ${1:-0} * 104729) % 40000 ))
	_mdb_n=0
	while [ $_mdb_n -lt 200 ]; do
		_mdb_p=$(( 20000 + (_mdb_seed + _mdb_n * 997) % 40000 ))
		if ! _mdb_port_busy "$_mdb_p"; then
			echo "$_mdb_p"
			return 0
		fi
		_mdb_n=$((_mdb_n + 1))
	done
	_mdb_log "no free TCP port found"
	return 1
}

# The client, as root over the socket.
_mdb_client() {
	mariadb --no-defaults --socket="$MDB_SOCK" --user=root "$@"
}

# mdb_sql "SQL": run SQL (several statements allowed) in batch mode, raw,
# without column names; results on stdout, tab-separated. Without an
# argument the SQL is read from standard input.
mdb_sql() {
	if [ $# -gt 0 ]; then
		_mdb_client --batch --raw --skip-column-names -e "$1"
	else
		_mdb_client --batch --raw --skip-column-names
	fi
}

# Dump the end of the error log to stderr (after a failure).
_mdb_error_tail() {
	if [ -f "$MDB_DIR/error.log" ]; then
		_mdb_log "last lines of $MDB_DIR/error.log:"
		tail -n 25 "$MDB_DIR/error.log" | sed 's/^/    /' >&2
	fi
}

# True while the server process exists and has not exited (an exited child
# of this shell stays a zombie, which kill -0 still reports, until reaped).
_mdb_alive() {
	[ -n "$MDB_PID" ] && kill -0 "$MDB_PID" 2>/dev/null || return 1
	if [ -r "/proc/$MDB_PID/stat" ]; then
		# pid (comm) state ...: mariadbd's comm has no spaces
		_mdb_state=$(cut -d' ' -f3 "/proc/$MDB_PID/stat" 2>/dev/null)
		[ "$_mdb_state" != Z ] || return 1
	fi
	return 0
}

# mdb_start DIR [mariadbd options...]
mdb_start() {
	if [ $# -lt 1 ]; then
		_mdb_log "usage: mdb_start DIR [mariadbd options...]"
		return 2
	fi
	_mdb_find || return 1
	mkdir -p "$1" || return 1
	MDB_DIR=$(cd "$1" && pwd) || return 1
	shift
	MDB_DATADIR=$MDB_DIR/data
	MDB_SOCK=$MDB_DIR/sock
	MDB_PID=
	export MDB_DIR MDB_DATADIR MDB_SOCK
	if [ -e "$MDB_DATADIR" ]; then
		_mdb_log "$MDB_DATADIR already exists"
		return 1
	fi
	mkdir -p "$MDB_DIR/tmp" || return 1

	# The server refuses to run as root unless told to; as anyone else
	# --user is not needed (and would fail).
	_mdb_user=
	if [ "$(id -u)" -eq 0 ]; then
		_mdb_user=--user=root
	fi
	# For the bootstrap and the server: a small InnoDB that never syncs
	# (a 16 MiB redo log still takes a > 16 MiB blob).
	_mdb_innodb="--innodb-log-file-size=16M --innodb-buffer-pool-size=32M
		--innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0
		--innodb-flush-method=nosync --innodb-use-native-aio=0"

	# root@localhost without a password (not unix_socket), so the client
	# connects as root whoever runs the test. ($_mdb_innodb is split on
	# purpose.)
	# shellcheck disable=SC2086
	if ! mariadb-install-db --no-defaults $_mdb_user \
		--datadir="$MDB_DATADIR" --tmpdir="$MDB_DIR/tmp" \
		--auth-root-authentication-method=normal --skip-test-db \
		$_mdb_innodb >"$MDB_DIR/install.log" 2>&1; then
		_mdb_log "mariadb-install-db failed:"
		tail -n 25 "$MDB_DIR/install.log" | sed 's/^/    /' >&2
		return 1
	fi

	# Kept for mdb_restart (options with no spaces in them).
	MDB_EXTRA="$*"
	export MDB_EXTRA
	_mdb_try=0
	while :; do
		MDB_PORT=$(_mdb_free_port "$_mdb_try") || return 1
		export MDB_PORT
		: >"$MDB_DIR/error.log"
		_mdb_launch
		if _mdb_wait_up; then
			return 0
		fi
		# Lost a race for the port: pick another one.
		if grep -q 'Bind on TCP/IP port\|Address already in use' \
			"$MDB_DIR/error.log" 2>/dev/null && [ $_mdb_try -lt 5 ]; then
			_mdb_try=$((_mdb_try + 1))
			wait "$MDB_PID" 2>/dev/null || :
			MDB_PID=
			continue
		fi
		_mdb_log "mariadbd did not start (pid $MDB_PID, port $MDB_PORT)"
		_mdb_error_tail
		mdb_cleanup
		return 1
	done
}

# Start mariadbd on MDB_DATADIR and MDB_PORT, with MDB_EXTRA; sets MDB_PID.
_mdb_launch() {
	# shellcheck disable=SC2086
	"$MDB_MARIADBD" --no-defaults $_mdb_user \
		--datadir="$MDB_DATADIR" --tmpdir="$MDB_DIR/tmp" \
		--socket="$MDB_SOCK" --port="$MDB_PORT" \
		--bind-address=127.0.0.1 --skip-name-resolve \
		--pid-file="$MDB_DIR/mariadbd.pid" \
		--log-error="$MDB_DIR/error.log" \
		--log-bin="$MDB_DATADIR/mysql-bin" --server-id=1 \
		--binlog-format=ROW --binlog-row-metadata=FULL \
		--sync-binlog=0 --skip-slave-start $_mdb_innodb \
		$MDB_EXTRA </dev/null >/dev/null 2>&1 &
	MDB_PID=$!
	export MDB_PID
}

# mdb_restart [--crash]: stop the server (cleanly, or with SIGKILL) and
# start it again on the same data, port and options.
mdb_restart() {
	if [ "${1:-}" = --crash ]; then
		kill -9 "$MDB_PID" 2>/dev/null || :
		wait "$MDB_PID" 2>/dev/null || :
		MDB_PID=
	else
		mdb_stop
	fi
	_mdb_try=0
	while :; do
		_mdb_launch
		if _mdb_wait_up; then
			return 0
		fi
		# the old process's port may take a moment to be free
		if grep -q 'Bind on TCP/IP port\|Address already in use' \
			"$MDB_DIR/error.log" 2>/dev/null && [ $_mdb_try -lt 20 ]; then
			_mdb_try=$((_mdb_try + 1))
			wait "$MDB_PID" 2>/dev/null || :
			sleep 0.5
			continue
		fi
		_mdb_log "mariadbd did not restart (pid $MDB_PID, port $MDB_PORT)"
		_mdb_error_tail
		return 1
	done
}

# Wait until the server answers on its socket, or dies, or times out.
_mdb_wait_up() {
	_mdb_deadline=$(( $(date +%s) + ${MDB_START_TIMEOUT:-30} ))
	while :; do
		if ! _mdb_alive; then
			return 1
		fi
		if [ -S "$MDB_SOCK" ] &&
		   _mdb_client --connect-timeout=2 -e 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		if [ "$(date +%s)" -ge "$_mdb_deadline" ]; then
			_mdb_log "timed out after ${MDB_START_TIMEOUT:-30}s"
			return 1
		fi
		sleep 0.1 2>/dev/null || sleep 1
	done
}

# mdb_stop: clean shutdown, and wait for the process to be gone.
mdb_stop() {
	_mdb_alive || { MDB_PID=; return 0; }
	_mdb_client -e "SHUTDOWN" >/dev/null 2>&1 || kill "$MDB_PID" 2>/dev/null || :
	_mdb_deadline=$(( $(date +%s) + 30 ))
	while _mdb_alive; do
		if [ "$(date +%s)" -ge "$_mdb_deadline" ]; then
			_mdb_log "mariadbd (pid $MDB_PID) did not stop; killing it"
			kill -9 "$MDB_PID" 2>/dev/null || :
			break
		fi
		sleep 0.1 2>/dev/null || sleep 1
	done
	wait "$MDB_PID" 2>/dev/null || :
	MDB_PID=
}

# mdb_cleanup: for traps. Stops the server if it runs; keeps MDB_DIR (the
# caller owns it and usually removes it right after).
mdb_cleanup() {
	mdb_stop
}

# mdb_binlogs: the binlog files, full paths, in binlog order (the order of
# SHOW BINARY LOGS, which is the server's index).
mdb_binlogs() {
	mdb_sql 'SHOW BINARY LOGS' | while IFS='	' read -r _mdb_name _mdb_rest; do
		printf '%s/%s\n' "$MDB_DATADIR" "$_mdb_name"
	done
}
