#!/bin/sh
# snapshot.sh: `make bench`, the initial-snapshot part (docs/BENCHMARKS.md,
# "Snapshot").
#
# A throwaway MariaDB on this machine (tests/lib/mariadb.sh) with a table of
# BENCH_SNAPSHOT_ROWS rows (default 10,000,000; 10 columns, the shape of
# gen_sql.sh's), and `sluice run` with `scan.startup.mode: initial` reading
# it in primary-key chunks while it follows the binlog (idle unless
# BENCH_SNAPSHOT_TICK_MS is set):
#
#  1. the records on standard output into /dev/null, once per parallelism
#     in BENCH_SNAPSHOT_PAR (default "1 2 4"): this measures sluice and the
#     server, not a sink;
#  2. with BENCH_SNAPSHOT_SINK_PAR readers (default 2): the file sink into a
#     real file on this machine's disk (fsync at each checkpoint), then the
#     local mock broker (build/sluice-broker: librdkafka's mock cluster, IN
#     MEMORY, not a production broker; the run ends when sluice has exited,
#     which it does once Kafka has acknowledged every record).
#
# Each run is timed from sluice's start to its log line "snapshot of
# snap.orders (initial) done" (SLUICE_LOG=info); then rows/s, sluice's peak
# RSS (VmHWM) and CPU time (user+sys, all threads), the server's CPU time
# over the same interval and its VmHWM before and after (it is cumulative:
# the buffer pool holds the table from the warm-up on), and the CPU the rest
# of the machine used meanwhile (other jobs of a shared machine).
#
# With BENCH_SNAPSHOT_TICK_MS=N, a stored procedure updates one row of a
# table that is not captured every N ms while sluice runs (light write
# traffic); by default the server is idle but for sluice.
#
# The table is loaded once (INSERT ... SELECT from the Sequence engine,
# binlog off for the load) and the server's datadir (1.8 GB for 10M rows)
# kept in $BUILD/bench/snapdata-ROWS-KEY/, KEY being a checksum of the SQL,
# the server options and the server version; each later run copies it,
# starts a server on the copy, and reads the whole table once (warm-up:
# every page in the buffer pool) before measuring. Loading 10M rows takes
# about a minute; the rest two to three.
#
# Environment: BUILD (build dir), BENCH_SNAPSHOT_ROWS, BENCH_SNAPSHOT_PAR,
# BENCH_SNAPSHOT_SINK_PAR, BENCH_SNAPSHOT_CHUNK (scan.snapshot.chunk.size,
# default 8192, sluice's default), BENCH_SNAPSHOT_SINKS (default
# "file kafka"; "" for the /dev/null runs only), BENCH_SNAPSHOT_TICK_MS,
# BENCH_SNAPSHOT_REF=0 (skip the reference: `mariadb --quick` reading the
# table into /dev/null), BENCH_PROFILE=1 (one more run, parallelism 2,
# under `perf record -g`: sluice's and the server's threads, libraries and
# top functions; the data kept in $BUILD/bench/snapshot-perf/).
set -eu

BUILD=${BUILD:-build}
ROWS=${BENCH_SNAPSHOT_ROWS:-10000000}
PARS=${BENCH_SNAPSHOT_PAR:-1 2 4}
SINK_PAR=${BENCH_SNAPSHOT_SINK_PAR:-2}
CHUNK=${BENCH_SNAPSHOT_CHUNK:-8192}
SINKS=${BENCH_SNAPSHOT_SINKS-file kafka}
REF=${BENCH_SNAPSHOT_REF:-1}
TICK_MS=${BENCH_SNAPSHOT_TICK_MS:-0}
PROFILE=${BENCH_PROFILE:-0}

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/mariadb.sh"

# On top of mariadb.sh's (binlog on, ROW, no fsync): a buffer pool that
# holds the whole table (10M rows: a 1.4 GB .ibd), a redo log
# large enough that the load does not wait on checkpoints, and no buffer
# pool dump or load (the warm-up reads the table, always the same way).
SERVER_OPTS="--innodb-buffer-pool-size=2G --innodb-log-file-size=256M
 --innodb-buffer-pool-dump-at-shutdown=0 --innodb-buffer-pool-load-at-startup=0
 --max-allowed-packet=64M"

die() {
	echo "bench snapshot: $*" >&2
	exit 1
}

[ -x "$BUILD/sluice" ] || die "no $BUILD/sluice; run make first"
sluice=$(cd "$BUILD" && pwd)/sluice
broker=$(cd "$BUILD" && pwd)/sluice-broker
mkdir -p "$BUILD/bench"
benchdir=$(cd "$BUILD/bench" && pwd)
mdb_available || die "mariadbd, mariadb and mariadb-install-db are needed"
command -v python3 >/dev/null || die "python3 is needed (timing and /proc sampling)"
[ "$ROWS" -ge 1 ] 2>/dev/null || die "BENCH_SNAPSHOT_ROWS must be a positive number"

# ------------------------------------------------------------ the table

# The table and its rows, as a function of the row id (the same data every
# time): name a first name and the id, note NULL one row in ten and 20 to
# 99 characters of text otherwise, ids, SKUs, amounts, times, scores and
# statuses varying row by row. Loaded in transactions of 500,000 rows, the
# binlog off for the load (the snapshot reads the table, not the binlog).
gen_sql() {
	cat <<'EOF'
SET time_zone = '+00:00';
SET SESSION sql_mode = 'STRICT_ALL_TABLES';
SET SESSION sql_log_bin = 0;
CREATE DATABASE snap;
USE snap;
CREATE TABLE snap.orders (
  id          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  sku         BIGINT UNSIGNED NOT NULL,
  name        VARCHAR(64) NOT NULL,
  note        VARCHAR(255),
  amount      DECIMAL(12,2) NOT NULL,
  qty         INT NOT NULL,
  created     DATETIME(3) NOT NULL,
  score       DOUBLE,
  status      ENUM('new','paid','shipped','delivered','cancelled') NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
EOF
	awk -v rows="$1" -v batch=500000 -v q="'" 'BEGIN {
		for (a = 1; a <= rows; a += batch) {
			b = a + batch - 1;
			if (b > rows)
				b = rows;
			printf "INSERT INTO snap.orders SELECT seq, seq * 7919 %% 1000000, " \
			    "seq * 2654435761, " \
			    "CONCAT(ELT(1 + seq %% 8, " q "Ann" q ", " q "Bob" q ", " \
			    q "Müller" q ", " q "Zoë" q ", " q "José" q ", " q "Li" q ", " \
			    q "Smith" q ", " q "Ольга" q "), " q " " q ", seq), " \
			    "IF(seq %% 10 = 0, NULL, SUBSTRING(" q "Lorem ipsum dolor sit " \
			    "amet, consectetur adipiscing elit, sed do eiusmod tempor " \
			    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim " \
			    "veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip " \
			    "ex ea commodo consequat." q ", 1 + seq %% 60, 20 + seq %% 80)), " \
			    "(seq %% 100000) / 100 + 0.99, seq %% 97, " \
			    "TIMESTAMPADD(MICROSECOND, seq * 1371000, " q "2024-01-01 00:00:00" q "), " \
			    "IF(seq %% 4 = 0, (seq * 2654435761 %% 1000003) / CAST(1000003 AS DOUBLE), " \
			    "ROUND((seq * 40503 %% 100000) / 100, 2)), " \
			    "1 + seq %% 5 FROM seq_%d_to_%d;\n", a, b;
		}
	}'
}

work=$benchdir/snapshot.$$
broker_pid=
tick_pid=
cleanup() {
	mdb_cleanup
	if [ -n "$tick_pid" ]; then
		kill "$tick_pid" 2>/dev/null || :
		wait "$tick_pid" 2>/dev/null || :
	fi
	if [ -n "$broker_pid" ]; then
		kill "$broker_pid" 2>/dev/null || :
		wait "$broker_pid" 2>/dev/null || :
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
mkdir -p "$work"

version=$("$MDB_MARIADBD" --version | cut -d' ' -f4)
key=$({ gen_sql "$ROWS"; echo "$SERVER_OPTS"; "$MDB_MARIADBD" --version; } | cksum |
    cut -d' ' -f1)
cache=$benchdir/snapdata-$ROWS-$key

if [ ! -d "$cache" ]; then
	echo "bench snapshot: loading $ROWS rows into a new server (once; cached in $cache)..."
	t0=$(date +%s)
	# shellcheck disable=SC2086
	mdb_start "$work/gen" $SERVER_OPTS || die "could not start MariaDB"
	gen_sql "$ROWS" | mdb_sql || die "loading the table failed"
	mdb_stop
	# The binlog index names its files by absolute path: a server on a
	# copy starts a binlog of its own (this one holds nothing but DDL).
	rm -f "$MDB_DATADIR"/mysql-bin.*
	rm -rf "$cache.tmp"
	mv "$MDB_DATADIR" "$cache.tmp"
	mv "$cache.tmp" "$cache"
	rm -rf "$work/gen"
	echo "bench snapshot: loaded in $(($(date +%s) - t0)) s"
fi

# A server on a copy of the cached datadir: mdb_start makes and starts a
# fresh one (its port, socket, options), which is then swapped for the copy.
t0=$(date +%s)
# shellcheck disable=SC2086
mdb_start "$work/server" $SERVER_OPTS || die "could not start MariaDB"
mdb_stop
rm -rf "$MDB_DATADIR"
cp -a "$cache" "$MDB_DATADIR"
mdb_restart || die "could not start MariaDB on the copy of $cache"
mdb_sql "CREATE USER cdc@'%' IDENTIFIED BY 'bench';
  GRANT REPLICATION SLAVE, BINLOG MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO cdc@'%'" ||
	die "creating the cdc user failed"
printf 'bench\n' >"$work/pw"
count=$(mdb_sql "SELECT COUNT(*) FROM snap.orders") || die "no table snap.orders"
[ "$count" -eq "$ROWS" ] || die "snap.orders has $count rows, not $ROWS"
setup_s=$(($(date +%s) - t0))

# The rest is timed and sampled by this helper (python3: sub-second
# timing, /proc). measure NAME CONFIG STATE-DIR [SINK-FILE]: start sluice
# with CONFIG (standard output to /dev/null), wait for the "done" line,
# sample, stop it with SIGTERM and wait for it to exit; with SNAP_PERF set,
# under `perf record` (sluice, and the server, in that directory). Prints
# shell assignments. A sluice stopped by a signal from outside (another job
# on a shared machine) is run again from scratch, twice at most.
measure() {
	python3 - "$@" <<'EOF'
import os, re, shutil, signal, subprocess, sys, time

name, cfg, state, sink = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
perf = os.environ.get('SNAP_PERF')
srv = int(os.environ['MDB_PID'])
log_path = os.path.join(os.environ['SNAP_WORK'], name + '.log')
tck = os.sysconf('SC_CLK_TCK')
done_re = re.compile(rb'snapshot of \S+ \(initial\) done: (\d+) rows in ([0-9.]+) s')


def hwm(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return 0


def cpu(pid):
    with open('/proc/%d/stat' % pid) as f:
        s = f.read()
    fl = s[s.rindex(')') + 2:].split()
    return (int(fl[11]) + int(fl[12])) / tck


def machine_busy():
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / tck


def fail(msg):
    try:
        with open(log_path, 'rb') as f:
            tail = f.read().decode('utf-8', 'replace').splitlines()[-15:]
    except OSError:
        tail = []
    sys.exit('bench snapshot: %s: %s\n%s' % (name, msg, '\n'.join('    ' + l for l in tail)))


def attempt():
    """One run; None when sluice was stopped from outside."""
    shutil.rmtree(state, ignore_errors=True)
    for f in sink:
        if os.path.exists(f):
            os.unlink(f)
    srv_hwm0, srv_cpu0, busy0 = hwm(srv), cpu(srv), machine_busy()
    t0 = time.monotonic()
    with open(os.devnull, 'wb') as o, open(log_path, 'wb') as e:
        p = subprocess.Popen([os.environ['SNAP_SLUICE'], 'run', '-c', cfg], stdout=o, stderr=e,
                             env=dict(os.environ, SLUICE_LOG='info'))
    profs = []
    for i, target in enumerate(perf and [p.pid, srv] or []):
        profs.append(subprocess.Popen(['perf', 'record', '-q', '-g', '-F', '999', '-p',
                                       str(target), '-o',
                                       os.path.join(perf, 'perf.%d.data' % i)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    m = None
    with open(log_path, 'rb') as lf:
        buf = b''
        while m is None:
            chunk = lf.read()
            if chunk:
                buf += chunk
                m = done_re.search(buf)
                if m is None and b' ERROR ' in buf:
                    p.kill()
                    p.wait()
                    fail('sluice logged an error')
                continue
            if p.poll() is not None:
                for q in profs:
                    q.send_signal(signal.SIGINT)
                    q.wait()
                if b'stopped (signal' in buf:
                    return None
                fail('sluice exited (%d) before the snapshot was done' % p.returncode)
            if time.monotonic() - t0 > 1800:
                p.kill()
                fail('no "done" line after 30 minutes')
            time.sleep(0.01)
    t_done = time.monotonic() - t0
    hwm_s, cpu_s = hwm(p.pid), cpu(p.pid)
    srv_hwm1, srv_cpu1, busy1 = hwm(srv), cpu(srv), machine_busy()
    for q in profs:
        q.send_signal(signal.SIGINT)
    for q in profs:
        q.wait()
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(300)
    except subprocess.TimeoutExpired:
        p.kill()
        fail('did not stop on SIGTERM')
    t_exit = time.monotonic() - t0
    if rc != 0:
        fail('exit %d after SIGTERM' % rc)
    return ('pid=%d rows=%d wall=%.3f exit=%.3f hwm=%d cpu=%.2f srv_hwm0=%d srv_hwm1=%d '
            'srv_cpu=%.2f others=%.2f' % (p.pid, int(m.group(1)), t_done, t_exit, hwm_s, cpu_s,
                                          srv_hwm0, srv_hwm1, srv_cpu1 - srv_cpu0,
                                          max(0.0, busy1 - busy0 - cpu_s -
                                              (srv_cpu1 - srv_cpu0))))


for n in range(3):
    r = attempt()
    if r is not None:
        print(r)
        break
    sys.stderr.write('bench snapshot: %s: sluice was stopped by a signal from outside '
                     'this script; %s\n' % (name, 'running it again' if n < 2 else 'giving up'))
else:
    fail('stopped from outside three times')
EOF
}
export SNAP_WORK="$work" SNAP_SLUICE="$sluice"
# What measure sets (through eval).
pid='' rows='' wall='' exit='' hwm='' cpu='' srv_hwm0='' srv_hwm1='' srv_cpu='' others=''

# config NAME PARALLELISM SINK-BLOCK (each run a server-id of its own)
server_id=7100
config() {
	server_id=$((server_id + 1))
	rm -rf "$work/state-$1"
	cat >"$work/$1.yaml" <<EOF
source:
  type: mariadb
  hostname: 127.0.0.1
  port: $MDB_PORT
  username: cdc
  password-file: $work/pw
  server-id: $server_id
  tables: snap\\.orders
  scan.startup.mode: initial
  scan.snapshot.parallelism: $2
  scan.snapshot.chunk.size: $CHUNK
sink:
$3
pipeline:
  name: $1
  state-dir: $work/state-$1
  checkpoint.interval: 1s
EOF
}

# row LABEL: the line of the table for the last measure's variables:
# wall time, rows/s; sluice's peak RSS, CPU time and CPU per row; the
# server's CPU time and CPU per row, its VmHWM before and after; the CPU
# time of everything else on the machine; all CPU used over the cores x
# the wall time.
results=$work/results
row() {
	awk -v l="$1" -v n="$rows" -v w="$wall" -v m="$hwm" -v c="$cpu" -v h0="$srv_hwm0" \
	    -v h1="$srv_hwm1" -v sc="$srv_cpu" -v o="$others" -v ncpu="$(nproc)" \
	    -v rows="$ROWS" 'BEGIN {
		if (n != rows)
			printf "bench snapshot: %s: %d rows, not %d\n", l, n, rows > "/dev/stderr"
		printf "%-36s %6.2f %8.0f %6.1f %6.1f %5.2f %6.1f %5.2f %5.0f>%-5.0f %6.1f %4.0f%%\n",
		    l, w, n / w, m / 1024, c, c * 1e6 / n, sc, sc * 1e6 / n, h0 / 1024, h1 / 1024,
		    o, 100 * (c + sc + o) / (ncpu * w)
	}' | tee -a "$results"
}

echo "bench snapshot: MariaDB $version, $(nproc) cores," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM;" \
    "$ROWS rows, chunk $CHUNK; server ready in $setup_s s (datadir copied from $cache)"
# shellcheck disable=SC2086,SC2116
echo "server: $(echo $SERVER_OPTS) (and tests/lib/mariadb.sh's: binlog ROW, no fsync)"
mdb_sql "SELECT CONCAT('table: ', ROUND(DATA_LENGTH / 1048576), ' MiB of data, ',
  ROUND(DATA_LENGTH / TABLE_ROWS), ' bytes a row (InnoDB, estimate)')
  FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'snap' AND TABLE_NAME = 'orders'"

# Warm-up: the whole table into the buffer pool (a full scan of the
# clustered index), timed: the server's own scan rate, for scale.
ts=$(date +%s%N)
mdb_sql "SELECT COUNT(*), MAX(note) FROM snap.orders" >/dev/null
te=$(date +%s%N)
awk -v t="$(((te - ts) / 1000000))" -v n="$ROWS" 'BEGIN {
	printf "warm-up scan (SELECT COUNT(*), MAX(note), one thread): %.2f s, %.0f rows/s\n",
	    t / 1000, n / (t / 1000)
}'
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# Reference: the server sending every row as text to one client that
# writes them to /dev/null (mariadb --quick: rows printed as they come).
if [ "$REF" = 1 ]; then
	ref=$(python3 - "$MDB_PORT" <<'EOF'
import os, resource, subprocess, sys, time
tck = os.sysconf('SC_CLK_TCK')
srv = int(os.environ['MDB_PID'])
def cpu(pid):
    with open('/proc/%d/stat' % pid) as f:
        s = f.read()
    fl = s[s.rindex(')') + 2:].split()
    return (int(fl[11]) + int(fl[12])) / tck
c0, t0 = cpu(srv), time.monotonic()
subprocess.check_call(['mariadb', '--no-defaults', '--host=127.0.0.1', '--port=' + sys.argv[1],
                       '--user=cdc', '--password=bench', '--quick', '--batch', '--raw',
                       '--skip-column-names', '-e', 'SELECT * FROM snap.orders'],
                      stdout=subprocess.DEVNULL)
t, c1 = time.monotonic() - t0, cpu(srv)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print('%.3f %.2f %.2f' % (t, ru.ru_utime + ru.ru_stime, c1 - c0))
EOF
	) || die "the reference read failed"
	# shellcheck disable=SC2086
	set -- $ref
	awk -v t="$1" -v c="$2" -v s="$3" -v n="$ROWS" 'BEGIN {
		printf "reference: mariadb --quick -e \"SELECT * FROM snap.orders\" > /dev/null " \
		    "(TCP): %.2f s, %.0f rows/s; client CPU %.1f s, server CPU %.1f s\n",
		    t, n / t, c, s
	}'
fi

# The ticker (BENCH_SNAPSHOT_TICK_MS, off by default): one small
# transaction on a table that is not captured every TICK_MS (a stored
# procedure, so no client wakes up for it), to measure with light write
# traffic on the server, as production has.
if [ "$TICK_MS" -gt 0 ]; then
mdb_sql <<'EOF' || die "creating the ticker failed"
CREATE TABLE snap.tick (id INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB;
INSERT INTO snap.tick VALUES (1, 0);
DELIMITER //
CREATE PROCEDURE snap.tick_every(ms INT)
BEGIN
  LOOP
    UPDATE snap.tick SET n = n + 1 WHERE id = 1;
    DO SLEEP(ms / 1000);
  END LOOP;
END//
DELIMITER ;
EOF
mdb_sql "CALL snap.tick_every($TICK_MS)" >/dev/null 2>&1 &
tick_pid=$!
tick_cpu0=$(awk '{ print $14 + $15 }' "/proc/$MDB_PID/stat")
sleep 2
tick_cpu1=$(awk '{ print $14 + $15 }' "/proc/$MDB_PID/stat")
awk -v c="$((tick_cpu1 - tick_cpu0))" -v hz="$(getconf CLK_TCK)" -v ms="$TICK_MS" 'BEGIN {
	printf "ticker: a one-row UPDATE on snap.tick every %d ms; the server idle with it: " \
	    "%.1f%% of a core\n", ms, 100 * c / hz / 2
}'
fi

: >"$results"
rev=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$here" diff --quiet HEAD -- 2>/dev/null || rev="$rev (modified)"
echo
echo "sluice $("$sluice" version | cut -d' ' -f2) at $rev, $(date -u '+%Y-%m-%d %H:%M UTC')," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1);" \
    "load average before: $load0"
echo "initial snapshot of snap.orders ($ROWS rows), timed from sluice's start to its" \
    "\"done\" line; sluice MiB: its peak RSS (VmHWM);"
echo "CPU: user+sys; the server's includes the ticker's, when on; others: the rest of the machine" \
    "meanwhile; busy: all CPU over $(nproc) cores x wall"
echo
printf '%-36s %6s %8s %6s %6s %5s %6s %5s %11s %6s %5s\n' "" "" "" "sluice" "sluice" \
    "sluice" "server" "server" "server MiB" "others" ""
printf '%-36s %6s %8s %6s %6s %5s %6s %5s %11s %6s %5s\n' "" "wall s" "rows/s" "MiB" \
    "CPU s" "us/row" "CPU s" "us/row" "HWM before>after" "CPU s" "busy"

stdout_sink='  type: file
  path: "-"'
for par in $PARS; do
	config "null_p$par" "$par" "$stdout_sink"
	m=$(measure "null_p$par" "$work/null_p$par.yaml" "$work/state-null_p$par") ||
		die "run null_p$par failed"
	eval "$m"
	row "stdout > /dev/null, parallelism $par"
done

for s in $SINKS; do
	case $s in
	file)
		# about 500 bytes a record with its headers
		avail=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
		[ "$avail" -gt $((ROWS / 2 + 1048576)) ] ||
			die "the file sink needs about $((ROWS / 2 / 1024)) MiB free in $work"
		config file "$SINK_PAR" "  type: file
  path: \"$work/out.jsonl\""
		m=$(measure file "$work/file.yaml" "$work/state-file" "$work/out.jsonl") ||
			die "run file failed"
		eval "$m"
		row "file sink (disk), parallelism $SINK_PAR"
		lines=$(wc -l <"$work/out.jsonl")
		echo "file sink: $(du -m "$work/out.jsonl" | cut -f1) MiB, $lines records" |
		    tee -a "$work/notes"
		[ "$lines" -eq "$ROWS" ] || die "the file sink has $lines lines, not $ROWS"
		rm -f "$work/out.jsonl"
		;;
	kafka)
		[ -x "$broker" ] || die "no $broker; run make first"
		"$broker" --topic snap.orders:8 </dev/null >"$work/broker.out" \
		    2>"$work/broker.err" &
		broker_pid=$!
		tries=0
		until grep -q '^bootstrap.servers=' "$work/broker.out" 2>/dev/null; do
			tries=$((tries + 1))
			[ "$tries" -le 100 ] ||
				die "the local broker did not start: $(cat "$work/broker.err")"
			sleep 0.1
		done
		config kafka "$SINK_PAR" "  type: kafka
  bootstrap.servers: $(sed -n 's/^bootstrap.servers=//p' "$work/broker.out")
  topic: snap.orders"
		m=$(measure kafka "$work/kafka.yaml" "$work/state-kafka") || die "run kafka failed"
		eval "$m"
		row "mock Kafka (in memory), par. $SINK_PAR"
		acked=$(sed -n 's/.*"records": *\([0-9]*\).*/\1/p' "$work/state-kafka/kafka.offsets.json")
		bhwm=$(awk '/VmHWM/ { print $2 }' "/proc/$broker_pid/status")
		kill "$broker_pid" 2>/dev/null || :
		wait "$broker_pid" 2>/dev/null || :
		broker_pid=
		awk -v x="$exit" -v w="$wall" -v n="$rows" -v a="$acked" -v b="$bhwm" 'BEGIN {
			printf "mock Kafka: done line at %.2f s, every record acknowledged and " \
			    "sluice exited at %.2f s (%.0f rows/s); checkpoint: %s records; " \
			    "broker peak RSS %.0f MiB\n", w, x, n / x, a, b / 1024
		}' | tee -a "$work/notes"
		;;
	*) die "BENCH_SNAPSHOT_SINKS: unknown sink $s (file, kafka)" ;;
	esac
done

awk -v best="$(awk '/^stdout/ { print $(NF - 8) }' "$results" | sort -n | tail -n 1)" 'BEGIN {
	printf "target 300,000 rows/s: %s (best %.0f rows/s)\n",
	    best >= 300000 ? "met" : "NOT met", best
}'

# BENCH_PROFILE=1: where the time goes, sluice and the server.
if [ "$PROFILE" = 1 ]; then
	command -v perf >/dev/null || die "BENCH_PROFILE=1 needs perf"
	config prof 2 "$stdout_sink"
	mkdir -p "$work/perf"
	m=$(export SNAP_PERF="$work/perf"; measure prof "$work/prof.yaml" "$work/state-prof") ||
		die "profile run failed"
	eval "$m"
	echo
	echo "profile, parallelism 2, stdout > /dev/null, under perf ($wall s; kept in $benchdir/snapshot-perf):"
	rm -rf "$benchdir/snapshot-perf"
	mv "$work/perf" "$benchdir/snapshot-perf"
	for i in 0 1; do
		d=$benchdir/snapshot-perf/perf.$i.data
		if [ $i = 0 ]; then
			echo "sluice: by thread ($pid:sluice: the main thread, which reads the binlog" \
			    "and writes the records to the sink; the others: the snapshot readers):"
		else
			echo "mariadbd: by thread:"
		fi
		perf report -i "$d" --no-children --stdio -g none --sort pid 2>/dev/null |
		    grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -n 8
		echo "  by library:"
		perf report -i "$d" --no-children --stdio -g none --sort dso 2>/dev/null |
		    grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -n 8
		echo "  by function (self time, top 25):"
		perf report -i "$d" --no-children --stdio -g none --sort dso,symbol 2>/dev/null |
		    grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -n 25
	done
fi
