#!/bin/sh
# run.sh: `make bench`, the decode benchmark (docs/BENCHMARKS.md).
#
# 1. The binlog: generated once by a throwaway MariaDB (tests/lib/mariadb.sh)
#    loading gen_sql.sh's rows, and cached in $BUILD/bench/binlog-ROWS-KEY/,
#    KEY being a checksum of the generator, the server options and the
#    server version; a later run reuses it.
# 2. The timings, on those same files, each command pinned to one core,
#    the commands taking turns (round-robin) for several rounds:
#      sluice decode FILES > /dev/null
#      sluice decode --no-verify-checksum FILES > /dev/null
#      sluice decode FILES | cat > /dev/null      (cat on another core, then
#                                                  on the same one)
#      mariadb-binlog --verbose FILES > /dev/null
#      mariadb-binlog --base64-output=decode-rows --verbose FILES > /dev/null
#    Best and median wall-clock time, as row changes/s, records/s and MB/s
#    of binlog read; sluice's speedup; sluice's peak RSS; and, for scale,
#    what a jansson object tree per record costs (jansson_cost.c).
#
# Environment: BUILD (build dir), BENCH_ROWS (inserts, default 1000000;
# updates and deletes add a tenth and a twentieth), BENCH_RUNS (rounds of
# the sluice commands, default 7), BENCH_REF_RUNS (of mariadb-binlog,
# default 3), BENCH_CPU (the core, default 0), BENCH_FILES (measure these
# binlog files instead of generating any), BENCH_PROFILE=1 (also a perf
# profile of sluice).
set -eu

BUILD=${BUILD:-build}
ROWS=${BENCH_ROWS:-1000000}
RUNS=${BENCH_RUNS:-7}
REF_RUNS=${BENCH_REF_RUNS:-3}
CPU=${BENCH_CPU:-0}

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/mariadb.sh"

# On top of mariadb.sh's (ROW, FULL metadata, no fsync): room for the
# table in memory so the load takes seconds. binlog_row_image (FULL),
# binlog_checksum (CRC32), binlog_annotate_row_events (on) and the 8 KiB
# binlog_row_event_max_size stay at the server's defaults.
SERVER_OPTS="--innodb-buffer-pool-size=512M --binlog-format=ROW --binlog-row-metadata=FULL"

die() {
	echo "bench: $*" >&2
	exit 1
}

[ -x "$BUILD/sluice" ] || die "no $BUILD/sluice; run make first"
sluice=$(cd "$BUILD" && pwd)/sluice
mkdir -p "$BUILD/bench"
benchdir=$(cd "$BUILD/bench" && pwd)
command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin to one core"
command -v mariadb-binlog >/dev/null || die "mariadb-binlog is needed for the comparison"
case $(date +%N) in *[!0-9]*) die "date +%N must print nanoseconds (GNU date)" ;; esac

# The other core, if any, runs the `cat` of the pipe measurement.
other=$CPU
if [ "$(nproc)" -gt 1 ]; then
	[ "$CPU" -eq 0 ] && other=1 || other=0
fi

# ------------------------------------------------------------ the binlog

gendir=
cleanup() {
	mdb_cleanup
	[ -z "$gendir" ] || rm -rf "$gendir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

generate() {
	# $1: the cache directory to fill
	mdb_available ||
		die "mariadbd, mariadb and mariadb-install-db are needed to generate the binlog"
	gendir=$benchdir/gen.$$
	rm -rf "$gendir" "$1.tmp"
	echo "bench: generating the binlog ($ROWS inserts) with $(mariadbd --version | cut -d' ' -f4)..."
	t0=$(date +%s)
	mdb_start "$gendir" $SERVER_OPTS || die "could not start MariaDB"
	sh "$here/gen_sql.sh" "$ROWS" | mdb_sql || die "loading the rows failed"
	logs=$(mdb_binlogs)
	mdb_stop
	mkdir -p "$1.tmp"
	for f in $logs; do
		mv "$f" "$1.tmp/"
	done
	printf '%s\n' $logs | sed 's,.*/,,' >"$1.tmp/order"
	rm -rf "$gendir"
	gendir=
	mv "$1.tmp" "$1"
	echo "bench: generated in $(($(date +%s) - t0)) s, cached in $1"
}

# $files and $SERVER_OPTS are split into words where they are used: a path
# with white space in it is not supported.
if [ -n "${BENCH_FILES:-}" ]; then
	files=$BENCH_FILES
else
	key=$({ cat "$here/gen_sql.sh"; echo "$ROWS $SERVER_OPTS"; mariadbd --version; } |
	    cksum | cut -d' ' -f1)
	bindir=$benchdir/binlog-$ROWS-$key
	[ -d "$bindir" ] || generate "$bindir"
	files=$(sed "s,^,$bindir/," "$bindir/order")
fi

# ------------------------------------------------------------ what is in it

# Exact counts from sluice itself (--stats), cross-checked below against
# the rows mariadb-binlog prints.
stats=$("$sluice" decode --stats $files 2>&1 >/dev/null) || die "sluice decode failed: $stats"
count() {
	printf '%s\n' "$stats" | sed -n "s/.*[ (]$1 \([0-9]*\).*/\1/p"
}
inserts=$(count insert)
updates=$(count update)
deletes=$(count delete)
records=$(count records)
changes=$((inserts + updates + deletes))
bytes=$(cat $files | wc -c)
outbytes=$("$sluice" decode $files | wc -c)
ref_rows=$(mariadb-binlog --base64-output=decode-rows --verbose $files 2>/dev/null |
    grep -c '^### \(INSERT INTO\|UPDATE\|DELETE FROM\) ') || :
[ "$ref_rows" -eq "$changes" ] ||
	die "sluice counts $changes row changes, mariadb-binlog prints $ref_rows"

# ------------------------------------------------------------ timings

now() { date +%s%N; }

run_sluice_null() { taskset -c "$CPU" "$sluice" decode $files >/dev/null; }
run_sluice_nocrc() {
	taskset -c "$CPU" "$sluice" decode --no-verify-checksum $files >/dev/null
}
# In a pipeline the status is cat's; sluice's own was checked by --stats.
run_sluice_pipe() {
	taskset -c "$CPU" "$sluice" decode $files | taskset -c "$other" cat >/dev/null
}
run_sluice_pipe1() {
	taskset -c "$CPU" "$sluice" decode $files | taskset -c "$CPU" cat >/dev/null
}
run_ref_v() { taskset -c "$CPU" mariadb-binlog --verbose $files >/dev/null 2>&1; }
run_ref_rows() {
	taskset -c "$CPU" mariadb-binlog --base64-output=decode-rows --verbose $files \
	    >/dev/null 2>&1
}

# time_one NAME FUNCTION: run it once, append the wall-clock ns to $tmp/NAME.
time_one() {
	_t0=$(now)
	"$2" || die "$2 failed"
	_t1=$(now)
	echo $((_t1 - _t0)) >>"$tmp/$1"
}

tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT

# Warm the page cache so every command reads from memory.
cat $files >/dev/null
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# Round-robin, so that every command sees the same background load (a
# shared machine drifts; one command timed after another would not).
round=0
while [ $round -lt "$RUNS" ] || [ $round -lt "$REF_RUNS" ]; do
	if [ $round -lt "$RUNS" ]; then
		time_one null run_sluice_null
		time_one nocrc run_sluice_nocrc
		time_one pipe run_sluice_pipe
		time_one pipe1 run_sluice_pipe1
	fi
	if [ $round -lt "$REF_RUNS" ]; then
		time_one ref_v run_ref_v
		time_one ref_rows run_ref_rows
	fi
	round=$((round + 1))
done

rss=
if [ -x /usr/bin/time ]; then
	rss=$(taskset -c "$CPU" /usr/bin/time -v "$sluice" decode $files 2>&1 >/dev/null |
	    sed -n 's/.*Maximum resident set size (kbytes): //p')
fi

best() { sort -n "$tmp/$1" | head -n 1; }
median() { sort -n "$tmp/$1" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'; }

row() {
	# label, name
	awk -v l="$1" -v b="$(best "$2")" -v m="$(median "$2")" -v c="$changes" \
	    -v r="$records" -v by="$bytes" 'BEGIN {
		printf "%-48s %8.3f %8.3f %11.0f %11.0f %7.1f\n", l, b / 1e9, m / 1e9,
		    c / (b / 1e9), r / (b / 1e9), by / 1e6 / (b / 1e9)
	}'
}

rev=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$here" diff --quiet HEAD -- 2>/dev/null || rev="$rev (modified)"
echo
echo "sluice $("$sluice" version | cut -d' ' -f2) at $rev, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "$(nproc) cores, Linux $(uname -r); pinned to core $CPU (cat: core $other);" \
    "load average before: $load0"
echo "input: $(echo $files | wc -w) binlog file(s), $bytes bytes; $changes row changes" \
    "($inserts inserts, $updates updates, $deletes deletes) = $records records"
echo "output: $outbytes bytes of changelog-json; runs: sluice $RUNS, mariadb-binlog $REF_RUNS"
echo
printf '%-48s %8s %8s %11s %11s %7s\n' "" "best s" "median s" "changes/s" "records/s" "MB/s"
row "sluice decode > /dev/null" null
row "sluice decode --no-verify-checksum > /dev/null" nocrc
row "sluice decode | cat > /dev/null (cat: core $other)" pipe
row "sluice decode | cat > /dev/null (cat: core $CPU)" pipe1
row "mariadb-binlog -v > /dev/null" ref_v
row "mariadb-binlog --base64-output=decode-rows -v" ref_rows
echo
awk -v s="$(best null)" -v p="$(best pipe)" -v p1="$(best pipe1)" -v v="$(best ref_v)" \
    -v d="$(best ref_rows)" -v c="$changes" -v rss="$rss" 'BEGIN {
	printf "speedup, best against best: %.1fx mariadb-binlog -v, %.1fx " \
	    "--base64-output=decode-rows -v\n", v / s, d / s
	printf "  through a pipe: %.1fx and %.1fx (cat on another core), %.1fx and %.1fx " \
	    "(same core)\n", v / p, d / p, v / p1, d / p1
	if (rss != "")
		printf "sluice peak RSS: %.1f MB\n", rss / 1024
	printf "targets: 1.5M row changes/s on one core: %s (%.2fM); " \
	    "5x mariadb-binlog -v: %s (%.1fx)\n",
	    c / (s / 1e9) >= 1.5e6 ? "met" : "NOT met", c / (s / 1e9) / 1e6,
	    v / s >= 5 ? "met" : "NOT met", v / s
}'

# For scale: the same records as a jansson object tree each (the tree
# alone, without decoding), where jansson is installed.
if [ -f /usr/include/jansson.h ] || pkg-config --exists jansson 2>/dev/null; then
	jc=$benchdir/jansson_cost
	if [ ! -x "$jc" ] || [ "$here/jansson_cost.c" -nt "$jc" ]; then
		${CC:-cc} -O2 -std=c11 -D_GNU_SOURCE -o "$jc" "$here/jansson_cost.c" -ljansson ||
			jc=
	fi
	if [ -n "$jc" ]; then
		echo
		taskset -c "$CPU" "$jc" "$records"
		awk -v s="$(best null)" -v r="$records" 'BEGIN {
			printf "sluice, whole decode: %.0f ns/record\n", s / r
		}'
	fi
fi

# BENCH_PROFILE=1: where sluice's time goes (perf, sampling on CPU time).
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
	command -v perf >/dev/null || die "BENCH_PROFILE=1 needs perf"
	echo
	echo "profile of sluice decode > /dev/null (perf, self time, top 25):"
	perf record -q -F 20000 -o "$tmp/perf.data" taskset -c "$CPU" "$sluice" decode $files \
	    >/dev/null 2>&1 || die "perf record failed"
	perf report -i "$tmp/perf.data" --no-children --stdio --sort symbol 2>/dev/null |
	    grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -n 25
fi
