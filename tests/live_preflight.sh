#!/bin/sh
# tests/live_preflight.sh: `sluice source add | check | list | remove`
# against a throwaway MariaDB, provoking each problem preflight knows and
# checking its message and its fix line: missing REPLICATION SLAVE, BINLOG
# MONITOR and SELECT; binlog_format MIXED; binlog_row_image and
# binlog_row_metadata MINIMAL; short binlog retention; a server id equal
# to the server's or to a connected replica's; the binlog off; an
# unreachable address, a wrong password, a missing password file. A clean
# source passes, is registered and listed; no output shows the password.
#
# Two servers: A, the source, and B, started with the binlog off, which
# also replicates from A to occupy a server id. Exit 77 (skip) when MariaDB
# is not installed. Nothing here waits a fixed time: the only wait (for the
# replica to register) polls.
set -u

BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib/mariadb.sh
. "$here/lib/mariadb.sh"

if ! mdb_available; then
	echo "SKIP: MariaDB server not installed (needs mariadbd, mariadb, mariadb-install-db)"
	exit 77
fi
S=$BUILD/sluice
if [ ! -x "$S" ]; then
	echo "$S not found: build it first (make)" >&2
	exit 1
fi
S=$(cd "$(dirname "$S")" && pwd)/sluice

dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-live-preflight.XXXXXX")
A_DIR= A_SOCK= A_PID= A_PORT=
B_DIR= B_SOCK= B_PID= B_PORT=
on_a() { MDB_DIR=$A_DIR MDB_SOCK=$A_SOCK MDB_PID=$A_PID MDB_PORT=$A_PORT; }
on_b() { MDB_DIR=$B_DIR MDB_SOCK=$B_SOCK MDB_PID=$B_PID MDB_PORT=$B_PORT; }
cleanup() {
	trap '' PIPE
	if [ -n "$B_PID" ]; then on_b; mdb_stop; fi
	if [ -n "$A_PID" ]; then on_a; mdb_stop; fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mdb_start "$dir/a" || exit 1
A_DIR=$MDB_DIR A_SOCK=$MDB_SOCK A_PID=$MDB_PID A_PORT=$MDB_PORT
mdb_start "$dir/b" --skip-log-bin --server-id=2 || exit 1
B_DIR=$MDB_DIR B_SOCK=$MDB_SOCK B_PID=$MDB_PID B_PORT=$MDB_PORT

secret='pw-Secret-42'
pw=$dir/pw
printf '%s\n' "$secret" >"$pw"
chmod 600 "$pw"
printf 'not-%s\n' "$secret" >"$dir/wrong"
chmod 600 "$dir/wrong"
H=$dir/home

users="
CREATE USER sluice@'%' IDENTIFIED BY '$secret';
GRANT REPLICATION SLAVE, BINLOG MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO sluice@'%';
"
on_a
mdb_sql "$users
CREATE USER norepl@'%' IDENTIFIED BY '$secret';
GRANT BINLOG MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO norepl@'%';
CREATE USER nomon@'%' IDENTIFIED BY '$secret';
GRANT REPLICATION SLAVE, REPLICATION MASTER ADMIN, SELECT ON *.* TO nomon@'%';
CREATE USER nosel@'%' IDENTIFIED BY '$secret';
GRANT REPLICATION SLAVE, BINLOG MONITOR, REPLICATION MASTER ADMIN ON *.* TO nosel@'%';
GRANT SELECT ON other.* TO nosel@'%';
CREATE USER repl@'%' IDENTIFIED BY '$secret';
GRANT REPLICATION SLAVE ON *.* TO repl@'%';
CREATE DATABASE shop;
CREATE TABLE shop.t (id INT PRIMARY KEY);
INSERT INTO shop.t VALUES (1);" || exit 1
on_b
mdb_sql "$users" || exit 1

fails=0
all_out=

# run STATUS ARGS...: run `sluice source ARGS --home H`; the exit status
# must be STATUS. The output (stdout and stderr) is kept in $out.
run() {
	want=$1
	shift
	out=$("$S" source "$@" --home "$H" 2>&1)
	rc=$?
	all_out="$all_out
$out"
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL: sluice source $* exited $rc, expected $want:"
		printf '%s\n' "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	fi
}

# expect TEXT: the output of the last run contains the line part TEXT.
expect() {
	if ! printf '%s\n' "$out" | grep -qF -- "$1"; then
		echo "FAIL: expected '$1' in:"
		printf '%s\n' "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	fi
}

# reject TEXT: the output of the last run does not contain TEXT.
reject() {
	if printf '%s\n' "$out" | grep -qF -- "$1"; then
		echo "FAIL: did not expect '$1' in:"
		printf '%s\n' "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	fi
}

# run_a STATUS SUBCOMMAND NAME ARGS...: run against server A.
run_a() {
	_st=$1 _sub=$2 _name=$3
	shift 3
	run "$_st" "$_sub" "$_name" --host 127.0.0.1 --port "$A_PORT" "$@"
}

# A clean source passes, is registered and listed; check reruns it.
run_a 0 add clean --password-file "$pw" --user sluice --server-id 5401 --tables 'shop\..*'
expect "source clean: sluice@127.0.0.1:$A_PORT"
expect "server: MariaDB 10."
expect "preflight: 0 errors, 0 warnings"
expect "INFO binlog_checksum is CRC32"
expect "INFO oldest binlog kept: mysql-bin.000001"
expect "registered source clean: $H/sources/clean.yaml"
run 0 list
expect "clean"
expect "127.0.0.1:$A_PORT"
expect "sluice"
expect "5401"
run 0 check clean
expect "preflight: 0 errors, 0 warnings"
run_a 1 add clean --password-file "$pw" --user sluice --server-id 5401
expect "source clean is already registered"
expect "fix: --replace to overwrite it"

# Privileges.
run_a 1 add norepl --password-file "$pw" --user norepl --server-id 5401
expect "ERROR user 'norepl'@'%' lacks the REPLICATION SLAVE privilege"
expect "  fix: GRANT REPLICATION SLAVE ON *.* TO 'norepl'@'%';"
expect "source norepl not registered"
run_a 1 add nomon --password-file "$pw" --user nomon --server-id 5401
expect "ERROR user 'nomon'@'%' lacks the BINLOG MONITOR privilege"
expect "  fix: GRANT BINLOG MONITOR ON *.* TO 'nomon'@'%';"
run_a 1 add nosel --password-file "$pw" --user nosel --server-id 5401 --tables 'shop\..*'
expect "ERROR user 'nosel'@'%' has no SELECT privilege on database shop"
expect "  fix: GRANT SELECT ON \`shop\`.* TO 'nosel'@'%';"
# --force registers even so.
run_a 0 add norepl --password-file "$pw" --user norepl --server-id 5401 --force
expect "registered source norepl despite 1 error (--force)"

# The server's own server id.
run_a 1 add sameid --password-file "$pw" --user sluice --server-id 1
expect "ERROR server-id 1 is the server's own server_id"
expect "  fix: choose a server-id that no server or replica of this topology uses"

# Binlog settings, changed at run time and checked through `check`.
on_a
mdb_sql "SET GLOBAL binlog_format = 'MIXED'"
run 1 check clean
expect "ERROR binlog_format is MIXED, not ROW"
expect "  fix: SET GLOBAL binlog_format = 'ROW' (and in my.cnf: binlog_format = ROW)"
mdb_sql "SET GLOBAL binlog_format = 'ROW'; SET GLOBAL binlog_row_image = 'MINIMAL'"
run 0 check clean
expect "WARNING binlog_row_image is MINIMAL: before images of updates and deletes carry only the primary key"
expect "  fix: SET GLOBAL binlog_row_image = 'FULL' (and in my.cnf: binlog_row_image = FULL)"
mdb_sql "SET GLOBAL binlog_row_image = 'FULL'; SET GLOBAL binlog_row_metadata = 'MINIMAL'"
run 0 check clean
expect "WARNING binlog_row_metadata is MINIMAL: the binlog does not carry column names"
expect "  fix: SET GLOBAL binlog_row_metadata = 'FULL' (and in my.cnf: binlog_row_metadata = FULL)"
mdb_sql "SET GLOBAL binlog_row_metadata = 'FULL'; SET GLOBAL binlog_expire_logs_seconds = 3600"
run 0 check clean
expect "WARNING binlogs are purged after 1 hour (binlog_expire_logs_seconds = 3600)"
expect "  fix: SET GLOBAL binlog_expire_logs_seconds = 604800 (and in my.cnf: binlog_expire_logs_seconds = 604800)"
mdb_sql "SET GLOBAL expire_logs_days = 0.5"
run 0 check clean
expect "WARNING binlogs are purged after 12 hours"
mdb_sql "SET GLOBAL binlog_expire_logs_seconds = 0"
run 0 check clean
expect "preflight: 0 errors, 0 warnings"

# The binlog off (server B).
run 1 add nobin --host 127.0.0.1 --port "$B_PORT" --password-file "$pw" --user sluice \
	--server-id 5401
expect "ERROR the binary log is off (log_bin = OFF)"
expect "  fix: in my.cnf under [mysqld]: log_bin = mysql-bin"

# A replica using server id 2: B replicates from A; wait (polling) until
# A lists it.
on_b
mdb_sql "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $A_PORT,
	MASTER_USER = 'repl', MASTER_PASSWORD = '$secret', MASTER_USE_GTID = slave_pos;
	START SLAVE" || exit 1
on_a
deadline=$(( $(date +%s) + 60 ))
while ! mdb_sql "SHOW SLAVE HOSTS" | cut -f1 | grep -qx 2; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "FAIL: the replica did not register with the source"
		on_b
		mdb_sql "SHOW SLAVE STATUS\G" | grep -E 'Running|Error' | sed 's/^/    /'
		exit 1
	fi
	sleep 0.1 2>/dev/null || sleep 1
done
run_a 1 add collide --password-file "$pw" --user sluice --server-id 2
expect "ERROR server-id 2 is already used by the replica connected from"
expect "  fix: choose a server-id that no server or replica of this topology uses, e.g. --server-id 5401"
run 0 check clean

# Connection failures: a closed port, a wrong password, no password file.
run 1 add closed --host 127.0.0.1 --port 1 --password-file "$pw" --user sluice --server-id 5401
expect "ERROR cannot connect: sluice@127.0.0.1:1: Can't connect to server on '127.0.0.1'"
expect "(client error 2002)"
expect "  fix: check that the server runs and listens on 127.0.0.1:1"
run_a 1 add wrongpw --password-file "$dir/wrong" --user sluice --server-id 5401
expect "ERROR cannot connect: sluice@127.0.0.1:$A_PORT: Access denied for user 'sluice'@'127.0.0.1' (using password: YES) (server error 1045)"
expect "  fix: check the password in $dir/wrong"
reject "not-$secret"
run 1 add nofile --host 127.0.0.1 --port "$A_PORT" --user sluice --server-id 5401 \
	--password-file "$dir/missing"
expect "ERROR password file $dir/missing: does not exist"
expect "  fix: write the password on the first line of $dir/missing"

run_a 1 add noenv --password-env SLUICE_TEST_UNSET_VAR --user sluice --server-id 5401
expect "ERROR password variable SLUICE_TEST_UNSET_VAR: is not set in the environment"
expect "  fix: export SLUICE_TEST_UNSET_VAR"
# TLS demanded from a server without it (the throwaway server has none).
run_a 1 add tls --password-file "$pw" --user sluice --server-id 5401 --ssl-mode required
expect "ERROR cannot connect: sluice@127.0.0.1:$A_PORT: ssl mode required: the server does not offer TLS (client error 2026)"
expect "  fix: enable TLS on the server"
# A password file others may read: a warning, and the source still passes.
cp "$pw" "$dir/pw-open"
chmod 644 "$dir/pw-open"
run_a 0 add open --password-file "$dir/pw-open" --user sluice --server-id 5401
expect "WARNING password file $dir/pw-open is readable by every user (mode 0644)"
expect "  fix: chmod 600 $dir/pw-open"
run 1 check nosuch
expect "no source named nosuch is registered"

# Remove, and the list without it.
run 0 remove clean
expect "removed source clean"
run 0 list
reject "clean"
expect "norepl"
run 1 remove clean
expect "no source named clean is registered"

# The password never appears in any output.
if printf '%s\n' "$all_out" | grep -qF -- "$secret"; then
	echo "FAIL: the password appears in the output"
	fails=$((fails + 1))
fi

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all preflight checks behaved"
