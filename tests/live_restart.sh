#!/bin/sh
# tests/live_restart.sh: `sluice run` against a throwaway MariaDB that goes
# away under it.
#   1. The server is shut down cleanly, then killed (SIGKILL), each time
#      with rows written before and after: sluice reconnects on its own and
#      the file sink ends with every row exactly once, in sequence order.
#   2. The binlog sluice would resume from is purged while it is stopped:
#      it exits 1 with an error naming the checkpoint and the ways out, and
#      leaves the checkpoint and the sink untouched.
# Exit 77 (skip) when the server is missing.
set -eu

BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib/mariadb.sh
. "$here/lib/mariadb.sh"

if ! mdb_available; then
	echo "SKIP: MariaDB server not installed (needs mariadbd, mariadb, mariadb-install-db)"
	exit 77
fi
sluice=$(cd "$(dirname "$BUILD/sluice")" && pwd)/sluice
[ -x "$sluice" ] || { echo "$BUILD/sluice not found: build it first (make)" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-live-restart.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || :
	mdb_cleanup
	if [ -n "${LIVE_KEEP:-}" ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	[ -f "$dir/sluice.log" ] && tail -n 30 "$dir/sluice.log" | sed 's/^/    /' >&2
	exit 1
}

# Durable commits, so that a killed server keeps what it acknowledged.
mdb_start "$dir/server" --sync-binlog=1 --innodb-flush-log-at-trx-commit=1
mdb_sql "CREATE DATABASE rs; CREATE TABLE rs.t (id INT PRIMARY KEY, v VARCHAR(40))"

cat >"$dir/sluice.yaml" <<EOF
source:
  type: mariadb
  socket: $MDB_SOCK
  username: root
  server-id: 4242
  tables: rs\..*
  scan.startup.mode: earliest-offset
  heartbeat.interval: 1s
  connect.backoff.max: 1s
sink:
  type: file
  path: $dir/out.jsonl
pipeline:
  name: restart
  state-dir: $dir/state
  checkpoint.interval: 100ms
EOF

# insert FROM TO: one transaction per 10 rows
insert() {
	i=$1
	while [ "$i" -le "$2" ]; do
		sql="INSERT INTO rs.t VALUES"
		j=$i
		while [ "$j" -lt $((i + 10)) ] && [ "$j" -le "$2" ]; do
			[ "$j" -gt "$i" ] && sql="$sql,"
			sql="$sql ($j, 'row $j')"
			j=$((j + 1))
		done
		mdb_sql "$sql"
		i=$j
	done
}

# wait_rows N: until the sink has N records (30 s at most)
wait_rows() {
	n=0
	while [ "$n" -lt 300 ]; do
		have=$(grep -c '"op":"+I"' "$dir/out.jsonl" 2>/dev/null || :)
		[ "${have:-0}" -ge "$1" ] && return 0
		kill -0 "$pid" 2>/dev/null || fail "sluice exited while waiting for $1 records"
		sleep 0.1
		n=$((n + 1))
	done
	fail "the sink has ${have:-0} records after 30 s, want $1"
}

# --- 1. restarts under a running capture ---------------------------------
"$sluice" run -c "$dir/sluice.yaml" 2>"$dir/sluice.log" &
pid=$!
insert 1 300
wait_rows 300
mdb_restart
insert 301 600
wait_rows 600
# rows written while the capture is mid-reconnect
mdb_restart --crash
insert 601 900
wait_rows 900
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
[ $rc -eq 0 ] || fail "sluice exited $rc after SIGTERM"
reconnects=$(grep -c 'retrying in' "$dir/sluice.log" || :)
connects=$(grep -c 'connected to' "$dir/sluice.log" || :)
[ "$connects" -ge 3 ] || fail "sluice connected $connects times, want 3 (start and two restarts)"

# Every row exactly once, sequences strictly increasing.
python3 - "$dir/out.jsonl" <<'EOF' || fail "the sink's records are wrong"
import json, sys
seqs, ids = [], []
for line in open(sys.argv[1], encoding='utf-8'):
    r = json.loads(line)
    seqs.append(int(r['headers']['sequence']))
    if r['value']['op'] == '+I':
        ids.append(r['value']['data']['id'])
if sorted(ids) != list(range(1, 901)):
    dup = len(ids) - len(set(ids))
    miss = sorted(set(range(1, 901)) - set(ids))[:10]
    sys.exit('ids: %d records, %d repeated, missing %s' % (len(ids), dup, miss))
bad = [k for k in range(1, len(seqs)) if seqs[k] <= seqs[k - 1]]
if bad:
    sys.exit('sequence not increasing at record %d' % bad[0])
EOF
echo "restarts: 900 rows through a clean shutdown and a SIGKILL of the server;" \
	"$connects connections, $reconnects retries logged; each row once, in order"

# --- 2. the binlog to resume from is purged ------------------------------
insert 901 910
mdb_sql "FLUSH BINARY LOGS; FLUSH BINARY LOGS"
last=$(mdb_sql "SHOW BINARY LOGS" | tail -n 1 | cut -f1)
# The server keeps a file until its binlog checkpoint has passed it (InnoDB
# has flushed): a purge can leave it, with only a warning.
n=0
while :; do
	mdb_sql "PURGE BINARY LOGS TO '$last'"
	[ "$(mdb_sql "SHOW BINARY LOGS" | wc -l)" -eq 1 ] && break
	n=$((n + 1))
	[ $n -lt 100 ] || fail "PURGE BINARY LOGS left $(mdb_sql "SHOW BINARY LOGS" | wc -l) files after 20 s"
	mdb_sql "FLUSH LOGS"
	last=$(mdb_sql "SHOW BINARY LOGS" | tail -n 1 | cut -f1)
	sleep 0.2
done
cp "$dir/state/restart.offsets.json" "$dir/offsets.before"
cp "$dir/out.jsonl" "$dir/out.before"
rc=0
timeout 60 "$sluice" run -c "$dir/sluice.yaml" 2>"$dir/sluice.log" || rc=$?
[ $rc -eq 1 ] || fail "sluice exited $rc on a purged binlog, want 1"
msg=$(grep -i 'error' "$dir/sluice.log" | tail -n 1)
for want in "cannot resume from" "no longer has the binlog" "re-snapshot" \
	"$dir/state/restart.offsets.json"; do
	case $msg in
	*"$want"*) ;;
	*) fail "the purged-binlog error does not say '$want': $msg" ;;
	esac
done
cmp -s "$dir/offsets.before" "$dir/state/restart.offsets.json" ||
	fail "the checkpoint changed on a purged binlog"
cmp -s "$dir/out.before" "$dir/out.jsonl" || fail "the sink changed on a purged binlog"
echo "purged: exit 1, checkpoint and sink unchanged; $msg"
