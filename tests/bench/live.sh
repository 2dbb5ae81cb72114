#!/bin/sh
# live.sh: `make bench`, the live-capture part (docs/BENCHMARKS.md).
#
# A throwaway MariaDB on this machine (tests/lib/mariadb.sh), then:
#  1. catch-up: BENCH_LIVE_ROWS (default 1000000) rows inserted 1,000 per
#     transaction, plus a tenth of them updated and a twentieth deleted,
#     while sluice is not running; then `sluice run --stop-at-end` from the
#     earliest binlog, timed, once with standard output to /dev/null, once
#     with the file sink (fsync'd checkpoints), and once into the local
#     broker (build/sluice-broker, 3 brokers, a topic of 8 partitions; the
#     run ends when Kafka has acknowledged every record). Row changes/s,
#     and the peak RSS of sluice (and of the broker).
#  2. latency: 20,000 single-row autocommit INSERTs at 1,000 a second while
#     sluice follows (bench_latency.c): p50/p90/p99/max from sending the
#     INSERT to reading its record on sluice's standard output.
#  3. one transaction of BENCH_LIVE_ROWS rows (a single INSERT ... SELECT,
#     ~200 bytes a row): sluice's peak RSS while it streams it.
# Every sluice run reads over the replication protocol from the server,
# which shares the machine's cores.
set -eu

BUILD=${BUILD:-build}
ROWS=${BENCH_LIVE_ROWS:-1000000}
LAT_ROWS=${BENCH_LAT_ROWS:-20000}
LAT_RATE=${BENCH_LAT_RATE:-1000}

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/mariadb.sh"

die() {
	echo "bench live: $*" >&2
	exit 1
}

[ -x "$BUILD/sluice" ] || die "no $BUILD/sluice; run make first"
sluice=$(cd "$BUILD" && pwd)/sluice
mkdir -p "$BUILD/bench"
benchdir=$(cd "$BUILD/bench" && pwd)
mdb_available || die "mariadbd, mariadb and mariadb-install-db are needed"

lat=$benchdir/bench_latency
if [ ! -x "$lat" ] || [ "$here/bench_latency.c" -nt "$lat" ]; then
	${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -I/usr/include/mariadb -o "$lat" \
		"$here/bench_latency.c" -lmariadb -lpthread || die "building bench_latency failed"
fi

work=$benchdir/live.$$
broker_pid=
cleanup() {
	[ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
	mdb_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work"

mdb_start "$work/server" --innodb-buffer-pool-size=512M --max-allowed-packet=1G ||
	die "could not start MariaDB"

# config NAME TABLES SINK-PATH
config() {
	cat >"$work/$1.yaml" <<EOF
source:
  type: mariadb
  socket: $MDB_SOCK
  username: root
  server-id: 7001
  tables: $2
  scan.startup.mode: earliest-offset
sink:
  type: file
  path: "$3"
pipeline:
  name: $1
  state-dir: $work/state
  checkpoint.interval: 1s
EOF
}

# timed OUT CMD...: run CMD, stdout to OUT; prints "seconds maxrss_kib"
timed() {
	python3 - "$@" <<'EOF'
import resource, subprocess, sys, time
out = open(sys.argv[1], 'wb')
t = time.monotonic()
rc = subprocess.call(sys.argv[2:], stdout=out)
dt = time.monotonic() - t
if rc != 0:
    sys.exit('exit %d' % rc)
print('%.3f %d' % (dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
EOF
}

server_rss() {
	awk '/VmHWM/ {print $2}' "/proc/$MDB_PID/status"
}

export SLUICE_LOG=warn
echo "bench live: MariaDB $(mariadbd --version | cut -d' ' -f4), $(nproc) cores"

# ------------------------------------------------------------ 1. catch-up
mdb_sql "CREATE DATABASE b; CREATE TABLE b.t (id INT PRIMARY KEY, k INT, name VARCHAR(64),
  price DECIMAL(12,2), qty SMALLINT, at DATETIME(6), note TEXT, flag TINYINT, score DOUBLE,
  tag CHAR(8));
  CREATE TABLE b.big (id INT PRIMARY KEY, a VARCHAR(100), b VARCHAR(100));
  CREATE TABLE b.lat (id INT PRIMARY KEY, v VARCHAR(64))"
t0=$(date +%s)
{
	echo "USE b;"
	i=0
	while [ $i -lt "$ROWS" ]; do
		echo "INSERT INTO b.t SELECT seq, seq % 1000, CONCAT('name ', seq), seq / 100,
		  seq % 300, '2026-11-21 10:00:00' + INTERVAL seq SECOND, REPEAT('n', seq % 40),
		  seq % 2, seq * 1.25, 'tag' FROM seq_$((i + 1))_to_$((i + 1000));"
		i=$((i + 1000))
	done
	i=0
	while [ $i -lt "$ROWS" ]; do
		echo "UPDATE b.t SET qty = qty + 1, note = 'updated' WHERE id > $i AND id <= $((i + 10000)) AND id % 10 = 0;"
		i=$((i + 10000))
	done
	i=0
	while [ $i -lt "$ROWS" ]; do
		echo "DELETE FROM b.t WHERE id > $i AND id <= $((i + 10000)) AND id % 20 = 7;"
		i=$((i + 10000))
	done
} | mdb_sql || die "loading the backlog failed"
echo "bench live: backlog loaded in $(($(date +%s) - t0)) s ($(mdb_sql "SELECT COUNT(*) FROM b.t") rows left)"

config catchup_stdout 'b\.t' -
rm -rf "$work/state"
set -- $(timed /dev/null "$sluice" run -c "$work/catchup_stdout.yaml" --stop-at-end) ||
	die "sluice run failed"
secs_out=$1 rss_out=$2
records=$(sed -n 's/.*"records": *\([0-9]*\).*/\1/p' "$work/state/catchup_stdout.offsets.json")
[ -n "$records" ] || die "no record count in the checkpoint"
changes=$(awk -v r="$records" -v u="$((ROWS / 10))" 'BEGIN { print r - u }')

config catchup_file 'b\.t' "$work/out.jsonl"
set -- $(timed /dev/null "$sluice" run -c "$work/catchup_file.yaml" --stop-at-end) ||
	die "sluice run failed"
secs_file=$1 rss_file=$2
lines=$(wc -l <"$work/out.jsonl")
[ "$lines" -eq "$records" ] || die "the file sink has $lines lines, the checkpoint says $records"
rm -f "$work/out.jsonl"

"$BUILD/sluice-broker" --topic bench.t:8 </dev/null >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
tries=0
until grep -q '^bootstrap.servers=' "$work/broker.out" 2>/dev/null; do
	tries=$((tries + 1))
	[ "$tries" -le 100 ] || die "the local broker did not start: $(cat "$work/broker.err")"
	sleep 0.1
done
bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$work/broker.out")
cat >"$work/catchup_kafka.yaml" <<EOF
source:
  type: mariadb
  socket: $MDB_SOCK
  username: root
  server-id: 7001
  tables: b\\.t
  scan.startup.mode: earliest-offset
sink:
  type: kafka
  bootstrap.servers: $bootstrap
  topic: bench.t
pipeline:
  name: catchup_kafka
  state-dir: $work/state
  checkpoint.interval: 1s
EOF
set -- $(timed /dev/null "$sluice" run -c "$work/catchup_kafka.yaml" --stop-at-end) ||
	die "sluice run (kafka) failed"
secs_kafka=$1 rss_kafka=$2
acked=$(sed -n 's/.*"records": *\([0-9]*\).*/\1/p' "$work/state/catchup_kafka.offsets.json")
[ "$acked" = "$records" ] || die "the kafka run checkpointed $acked records, not $records"
rss_broker=$(awk '/VmHWM/ {print $2}' "/proc/$broker_pid/status")
kill "$broker_pid" && wait "$broker_pid" 2>/dev/null
broker_pid=

awk -v c="$changes" -v r="$records" -v s="$secs_out" -v m="$rss_out" \
    -v sf="$secs_file" -v mf="$rss_file" -v sk="$secs_kafka" -v mk="$rss_kafka" \
    -v mb="$rss_broker" 'BEGIN {
	printf "catch-up: %d row changes (%d records)\n", c, r
	printf "  stdout > /dev/null: %.2f s, %.0f row changes/s, peak RSS %.1f MiB\n", s, c / s, m / 1024
	printf "  file sink (fsync):  %.2f s, %.0f row changes/s, peak RSS %.1f MiB\n", sf, c / sf, mf / 1024
	printf "  kafka (local broker, 8 partitions, every record acknowledged): %.2f s, %.0f row changes/s, peak RSS %.1f MiB (broker %.0f MiB)\n", sk, c / sk, mk / 1024, mb / 1024
}'

# ------------------------------------------------------------ 2. latency
config latency 'b\.lat' -
"$lat" "$MDB_SOCK" b.lat "$LAT_ROWS" "$LAT_RATE" -- "$sluice" run -c "$work/latency.yaml" \
	2>"$work/latency.log" >"$work/latency.out" || { cat "$work/latency.log" >&2; die "latency run failed"; }
sed 's/^/latency: /' "$work/latency.out"

# ------------------------------------------------------------ 3. one big transaction
mdb_sql "USE b; INSERT INTO b.big SELECT seq, REPEAT(CHAR(97 + seq % 26), 100), REPEAT('b', 90)
  FROM seq_1_to_$ROWS" || die "the big transaction failed"
config big 'b\.big' -
set -- $(timed /dev/null "$sluice" run -c "$work/big.yaml" --stop-at-end) || die "sluice run failed"
echo "one transaction of $ROWS rows: $1 s, sluice peak RSS $(awk -v m="$2" 'BEGIN { printf "%.1f", m / 1024 }') MiB;" \
	"server peak RSS $(awk -v m="$(server_rss)" 'BEGIN { printf "%.0f", m / 1024 }') MiB"
