#!/bin/sh
# merge.sh: `make bench`, the merger part (docs/BENCHMARKS.md, "Merger").
#
# How fast `sluice merge` applies change records from Kafka to its tables,
# and what compaction costs. No MariaDB: the input is made up.
#
#  1. The local mock broker (build/sluice-broker: librdkafka's mock
#     cluster, IN MEMORY, a test tool and never a production broker) with
#     one topic of BENCH_MERGE_PARTITIONS partitions (32), filled by
#     `kafka-shuffle --generate` with BENCH_MERGE_RECORDS change records
#     (2,000,000) shaped as sluice's, on BENCH_MERGE_KEYS ids (500,000) in
#     each of BENCH_MERGE_TABLES tables (4), zstd-compressed (the mock keeps
#     only the newest ~5 MiB of each partition: compressed, 2M records fit
#     in 32). Its --expect file gives the number of live rows the merged
#     view must hold.
#  2. `sluice merge --idle-exit 2000 --maintain-interval 0` over the whole
#     topic, each run with a consumer group and a table directory of its
#     own: merge-on-read (--buckets 16) with the default batch (500,000
#     changes or 2 s) and with --batch-rows BENCH_MERGE_SMALL_BATCH (50,000),
#     taking turns, BENCH_MERGE_RUNS times each (3); then once Hive, JSON
#     lines, and once Hive, --format text (both partitioned by the source's
#     commit time, by hour); then two merge-on-read processes in one group
#     (they share the partitions) into one table.
#  3. Compaction: on the table of the first merge-on-read run, `sluice
#     table compact DIR --retain 0`, with the table's size, files and rows
#     and the time of `sluice table read DIR > /dev/null` (the merged view)
#     before and after.
#
# The rate is the merger's own: its last log line `total: N changes in S s
# from the first record to the last commit: R changes/s`. The merger logs
# at debug level here (SLUICE_LOG=debug: one more line a commit, no more)
# for each commit's time: "commit s" is their sum, the part of S spent
# writing files. Wall time is the process's, from exec to exit: on top of
# S, the consumer group's join (about 3 s with the mock) and the idle wait
# before exiting (2 s). CPU time and peak RSS are /usr/bin/time's (all
# threads: librdkafka's decompress the fetched batches); "broker CPU" is
# the mock broker's over the run, "others" the rest of the machine's (a
# shared machine), "busy" all CPU used over cores x wall. A run that
# merges fewer records than were generated is reported (the mock dropped
# some), and so is one whose commits average far below the batch size; a
# merged view without the expected number of rows stops the script.
#
# Two processes: each one's first record is its last commit minus its S
# (the last commit's time is its debug line's); the combined rate is the
# sum of their changes over the time from the later first record to the
# later last commit (as one would add up two consumers' rates), and, more
# strictly, from the earlier first record. Both run with a 6 s session
# timeout: one in ten runs or so, the mock broker's rebalance waited out a
# member's whole session (45 s by default) when the two joined or left
# apart, and that wait counted in S.
#
# Environment: BUILD (build dir), BENCH_MERGE_RECORDS, BENCH_MERGE_KEYS,
# BENCH_MERGE_TABLES, BENCH_MERGE_PARTITIONS, BENCH_MERGE_BUCKETS (16),
# BENCH_MERGE_RUNS, BENCH_MERGE_SMALL_BATCH, BENCH_MERGE_HIVE=0 (skip the
# Hive runs), BENCH_MERGE_TWO=0 (skip the two processes), BENCH_PROFILE=1
# (one more merge-on-read run under `perf record -g`: threads, libraries,
# top functions; the data kept in $BUILD/bench/merge-perf/). The tables are
# written under $BUILD/bench/merge.PID/ (about 70 MB each at the default
# size; each removed after its run) and removed at the end. Takes about
# three minutes at the default size.
set -eu

BUILD=${BUILD:-build}
RECORDS=${BENCH_MERGE_RECORDS:-2000000}
KEYS=${BENCH_MERGE_KEYS:-500000}
TABLES=${BENCH_MERGE_TABLES:-4}
PARTS=${BENCH_MERGE_PARTITIONS:-32}
BUCKETS=${BENCH_MERGE_BUCKETS:-16}
RUNS=${BENCH_MERGE_RUNS:-3}
SMALL=${BENCH_MERGE_SMALL_BATCH:-50000}
HIVE=${BENCH_MERGE_HIVE:-1}
TWO=${BENCH_MERGE_TWO:-1}
PROFILE=${BENCH_PROFILE:-0}
TOPIC=bench.merge

die() {
	echo "bench merge: $*" >&2
	exit 1
}

for b in sluice sluice-broker kafka-shuffle; do
	[ -x "$BUILD/$b" ] || die "no $BUILD/$b; run make $BUILD/$b first"
done
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is needed: CPU time and peak RSS"
for n in "$RECORDS" "$KEYS" "$TABLES" "$PARTS" "$BUCKETS" "$RUNS" "$SMALL"; do
	[ "$n" -ge 1 ] 2>/dev/null || die "BENCH_MERGE_* must be positive numbers ($n)"
done
here=$(cd "$(dirname "$0")" && pwd)
sluice=$(cd "$BUILD" && pwd)/sluice
mkdir -p "$BUILD/bench"
benchdir=$(cd "$BUILD/bench" && pwd)
work=$benchdir/merge.$$
hz=$(getconf CLK_TCK)
ncpu=$(nproc)

broker_pid=
merge_pids=
cleanup() {
	for p in $merge_pids $broker_pid; do
		kill "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
mkdir -p "$work"

# ------------------------------------------------------------ the input

"$BUILD/sluice-broker" --topic "$TOPIC:$PARTS" --bootstrap-file "$work/bootstrap" \
    </dev/null >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
tries=0
until [ -s "$work/bootstrap" ]; do
	tries=$((tries + 1))
	[ "$tries" -le 100 ] || die "the mock broker did not start: $(cat "$work/broker.err")"
	sleep 0.1
done
bootstrap=$(cat "$work/bootstrap")

t0=$(date +%s%N)
"$BUILD/kafka-shuffle" -b "$bootstrap" --generate "$RECORDS" --to "$TOPIC" --keys "$KEYS" \
    --tables "$TABLES" --expect "$work/expect.jsonl" -X compression.type=zstd \
    >"$work/gen.out" 2>"$work/gen.err" || die "kafka-shuffle failed: $(cat "$work/gen.err")"
t1=$(date +%s%N)
live=$(wc -l <"$work/expect.jsonl")
rm -f "$work/expect.jsonl"
# What the mock holds (it drops a partition's oldest batches past ~5 MiB):
# the high watermarks' sum is what was produced; the merger's count, below,
# is what it kept.
held="?"
if command -v kcat >/dev/null; then
	set --
	p=0
	while [ $p -lt "$PARTS" ]; do
		set -- "$@" -t "$TOPIC:$p:-1"
		p=$((p + 1))
	done
	held=$(kcat -b "$bootstrap" -Q "$@" 2>/dev/null | awk '{ s += $4 } END { print s + 0 }')
fi
brk_gen_kb=$(awk '/VmRSS/ { print $2 }' "/proc/$broker_pid/status")

rev=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$here" diff --quiet HEAD -- 2>/dev/null || rev="$rev (modified)"
# The binary's own time too: make rebuilds it from the working tree.
built=$(date -u -r "$sluice" '+%H:%M:%S UTC' 2>/dev/null || echo '?')
echo "bench merge: sluice $("$sluice" version | cut -d' ' -f2) at $rev (built $built)," \
    "$(date -u '+%Y-%m-%d %H:%M UTC'), $ncpu cores," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1);" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v n="$RECORDS" -v k="$KEYS" -v t="$TABLES" -v p="$PARTS" -v ms="$(((t1 - t0) / 1000000))" \
    -v h="$held" -v l="$live" -v b="$brk_gen_kb" 'BEGIN {
	printf "input: %d change records (kafka-shuffle --generate, %d tables x %d ids, zstd) " \
	    "in %.1f s into the MOCK broker (in memory, on this machine), topic of %d " \
	    "partitions; high watermarks sum %s; mock RSS %.0f MiB; %d live rows expected\n",
	    n, t, k, ms / 1000, p, h, b / 1024, l
}'

# ------------------------------------------------------------ one run

# merge_bg NAME TABLE-DIR GROUP ARGS...: start `sluice merge` in the
# background (its pid appended to merge_pids), log in $work/NAME.log, CPU
# and RSS in $work/NAME.time.
merge_bg() {
	name=$1 path=$2 group=$3
	shift 3
	SLUICE_LOG=debug /usr/bin/time -f '%e %U %S %M' -o "$work/$name.time" \
	    "$sluice" merge -b "$bootstrap" --group "$group" --path "$path" --topic "$TOPIC" \
	    --idle-exit 2000 --maintain-interval 0 "$@" 2>"$work/$name.log" &
	merge_pids="$merge_pids $!"
}

# merge_wait: wait for every merge_bg process; stop on a failure.
merge_wait() {
	for p in $merge_pids; do
		wait "$p" || die "sluice merge failed (pid $p): see the logs below
$(tail -n 5 "$work"/*.log)"
	done
	merge_pids=
}

# figures NAME: "changes secs rate commits commit_s done_s wall cpu rss_kib"
# from the log and the time file (done_s: the last commit's time of day).
figures() {
	awk '
	FNR == 1 { f++ }
	f == 1 && / ERROR / { print "ERROR" > "/dev/stderr"; err = 1 }
	f == 1 && /committed [0-9]+ rows/ {
		for (i = 1; i < NF; i++)
			if ($i == "in" && $(i + 2) == "ms,")
				ms += $(i + 1)
		commits++
		split($1, a, "T")
		split(a[2], b, ":")
		done = b[1] * 3600 + b[2] * 60 + b[3]
	}
	f == 1 && /total: [0-9]+ changes in/ {
		for (i = 1; i < NF; i++) {
			if ($i == "total:")
				n = $(i + 1)
			if ($i == "in" && $(i + 2) == "s")
				s = $(i + 1)
		}
		r = $(NF - 1)
	}
	f == 2 { wall = $1; cpu = $2 + $3; rss = $4 }
	END {
		if (err || n == "")
			exit 1
		printf "%d %.3f %.0f %d %.3f %.3f %.2f %.2f %d\n", n, s, r, commits, ms / 1000, done,
		    wall, cpu, rss
	}' "$work/$1.log" "$work/$1.time"
}

cpu_of() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}
busy() {
	awk 'NR == 1 { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# rows DIR: the merged view's rows; stops if not the expected number.
rows() {
	r=$("$sluice" table read "$1" | wc -l) || die "sluice table read $1 failed"
	[ "$r" -eq "$live" ] || die "$1: the merged view has $r rows, not $live"
	echo "$r"
}

echo
echo "S: from the first record to the last commit (the merger's rate: changes / S); commit s:" \
    "the commits' time within S; wall: exec to exit;"
echo "CPU: user+sys, all threads; us/chg: CPU a change; broker: the mock's CPU; others: the" \
    "rest of the machine; busy: all CPU over $ncpu cores x wall"
printf '%-30s %8s %6s %9s %6s %7s %7s %6s %6s %7s %6s %6s %6s %5s\n' "" "changes" "S s" \
    "changes/s" "wall s" "commits" "commit" "CPU s" "us/chg" "RSS" "table" "broker" "others" \
    "busy"
printf '%-30s %8s %6s %9s %6s %7s %7s %6s %6s %7s %6s %6s %6s %5s\n' "" "" "" "" "" "" "s" \
    "" "" "MiB" "MiB" "CPU s" "CPU s" ""

# run LABEL NAME ARGS...: one merger into $work/NAME; prints its line.
# The table is kept when NAME is mor1 (compaction, below).
: >"$work/results"
run() {
	label=$1 name=$2
	shift 2
	b0=$(busy)
	k0=$(cpu_of "$broker_pid")
	merge_bg "$name" "$work/$name" "bench-merge-$$-$name" "$@"
	merge_wait
	k1=$(cpu_of "$broker_pid")
	b1=$(busy)
	f=$(figures "$name") || die "$name: no total line or an error in the log:
$(tail -n 5 "$work/$name.log")"
	rows "$work/$name/$TOPIC" >/dev/null
	size=$(du -sk "$work/$name/$TOPIC" | cut -f1)
	# shellcheck disable=SC2086
	set -- $f
	[ "$1" -eq "$RECORDS" ] || echo "bench merge: $label: merged $1 changes of the" \
	    "$RECORDS generated: the mock did not keep them all (lower BENCH_MERGE_RECORDS or" \
	    "raise BENCH_MERGE_PARTITIONS)" >&2
	# A batch closes at --batch-rows, --batch-bytes or 2 s; far smaller
	# commits than that mean the merger commits for another reason (each
	# one writes a file a bucket): say so, the rate is not the batch's.
	[ "$4" -eq 0 ] || [ $(($1 / $4)) -ge $((SMALL / 5)) ] || echo "bench merge: $label: $4 commits," \
	    "$(($1 / $4)) changes a commit on average: far below the batch size" >&2
	echo "$name $f" >>"$work/results"
	awk -v l="$label" -v n="$1" -v s="$2" -v r="$3" -v c="$4" -v cs="$5" -v w="$7" \
	    -v cpu="$8" -v rss="$9" -v sz="$size" -v k="$((k1 - k0))" -v b="$((b1 - b0))" \
	    -v hz="$hz" -v ncpu="$ncpu" 'BEGIN {
		o = b / hz - cpu - k / hz
		printf "%-30s %8d %6.2f %9.0f %6.2f %7d %7.2f %6.2f %6.2f %7.0f %6.1f %6.2f %6.2f %4.0f%%\n",
		    l, n, s, r, w, c, cs, cpu, cpu * 1e6 / n, rss / 1024, sz / 1024, k / hz,
		    o < 0 ? 0 : o, 100 * b / hz / (ncpu * w)
	}'
	[ "$name" = mor1 ] || rm -rf "${work:?}/$name"
}

i=1
while [ "$i" -le "$RUNS" ]; do
	run "mor, batch 500000 (default), $i" "mor$i" --kind mor --buckets "$BUCKETS"
	run "mor, --batch-rows $SMALL, $i" "small$i" --kind mor --buckets "$BUCKETS" \
	    --batch-rows "$SMALL"
	i=$((i + 1))
done
if [ "$HIVE" = 1 ]; then
	run "hive, jsonl" hive --kind hive
	run "hive, --format text" hivetext --kind hive --format text
fi

# Two processes, one group, one table: each gets half the partitions.
if [ "$TWO" = 1 ]; then
	b0=$(busy)
	k0=$(cpu_of "$broker_pid")
	# The mock's rebalance can wait out a member's session (45 s by
	# default) when the two join or leave apart; 6 s bounds that stall.
	set -- --kind mor --buckets "$BUCKETS" -X session.timeout.ms=6000 \
	    -X heartbeat.interval.ms=300
	merge_bg two_a "$work/two" "bench-merge-$$-two" "$@"
	merge_bg two_b "$work/two" "bench-merge-$$-two" "$@"
	merge_wait
	k1=$(cpu_of "$broker_pid")
	b1=$(busy)
	fa=$(figures two_a) || die "two_a: no total line or an error in its log"
	fb=$(figures two_b) || die "two_b: no total line or an error in its log"
	rows "$work/two/$TOPIC" >/dev/null
	size=$(du -sk "$work/two/$TOPIC" | cut -f1)
	echo "two_a $fa" >>"$work/results"
	echo "two_b $fb" >>"$work/results"
	# shellcheck disable=SC2086
	echo $fa $fb | awk -v k="$((k1 - k0))" -v b="$((b1 - b0))" -v hz="$hz" -v ncpu="$ncpu" \
	    -v sz="$size" -v total="$RECORDS" '{
		for (j = 0; j < 2; j++) {
			n[j] = $(1 + 9 * j); s[j] = $(2 + 9 * j); r[j] = $(3 + 9 * j)
			c[j] = $(4 + 9 * j); cs[j] = $(5 + 9 * j); d[j] = $(6 + 9 * j)
			w[j] = $(7 + 9 * j); cpu[j] = $(8 + 9 * j); rss[j] = $(9 + 9 * j)
			first[j] = d[j] - s[j]
			printf "%-30s %8d %6.2f %9.0f %6.2f %7d %7.2f %6.2f %6.2f %7.0f\n",
			    "two processes, process " (j + 1), n[j], s[j], r[j], w[j], c[j], cs[j],
			    cpu[j], cpu[j] * 1e6 / n[j], rss[j] / 1024
		}
		end = d[0] > d[1] ? d[0] : d[1]
		late = first[0] > first[1] ? first[0] : first[1]
		early = first[0] < first[1] ? first[0] : first[1]
		wall = w[0] > w[1] ? w[0] : w[1]
		o = b / hz - cpu[0] - cpu[1] - k / hz
		printf "%-30s %8d %6.2f %9.0f %6.2f %7d %7.2f %6.2f %6.2f %7.0f %6.1f %6.2f %6.2f %4.0f%%\n",
		    "two processes, combined", n[0] + n[1], end - late, (n[0] + n[1]) / (end - late),
		    wall, c[0] + c[1], cs[0] + cs[1], cpu[0] + cpu[1],
		    (cpu[0] + cpu[1]) * 1e6 / (n[0] + n[1]), (rss[0] + rss[1]) / 1024, sz / 1024,
		    k / hz, o < 0 ? 0 : o, 100 * b / hz / (ncpu * wall)
		printf "  (combined: from the later first record; from the earlier one, %.1f s " \
		    "before it: %.0f changes/s%s)\n", late - early, (n[0] + n[1]) / (end - early),
		    (n[0] + n[1] > total ? "; some records merged twice, after a rebalance" : "")
	}'
	rm -rf "${work:?}/two"
fi

echo
awk -v runs="$RUNS" 'function med(a, k,   i, j, t) {
		for (i = 1; i <= k; i++)
			for (j = i + 1; j <= k; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	$1 ~ /^mor/ { m[++nm] = $4; if ($4 > bm) bm = $4 }
	$1 ~ /^small/ { s[++ns] = $4; if ($4 > bs) bs = $4 }
	END {
		printf "merge-on-read, default batch: best %.0f, median %.0f changes/s; " \
		    "--batch-rows small: best %.0f, median %.0f (%d runs each)\n",
		    bm, med(m, nm), bs, med(s, ns), runs
		printf "target 300,000 changes/s (merge-on-read, default settings): %s\n",
		    bm >= 300000 ? "met" : "NOT met"
	}' "$work/results"

# ------------------------------------------------------------ compaction

# read_view DIR: "wall cpu rss_kib" of reading the merged view into /dev/null
read_view() {
	/usr/bin/time -f '%e %U %S %M' -o "$work/read.time" "$sluice" table read "$1" \
	    >/dev/null || die "sluice table read $1 failed"
	awk '{ printf "%.2f %.2f %d\n", $1, $2 + $3, $4 }' "$work/read.time"
}

dir=$work/mor1/$TOPIC
sz0=$(du -sk "$dir" | cut -f1)
files0=$("$sluice" table files "$dir" | wc -l)
rows0=$(rows "$dir")
read0=$(read_view "$dir")
/usr/bin/time -f '%e %U %S %M' -o "$work/compact.time" "$sluice" table compact "$dir" \
    --retain 0 >"$work/compact.out" 2>&1 || die "compaction failed: $(cat "$work/compact.out")"
sz1=$(du -sk "$dir" | cut -f1)
files1=$("$sluice" table files "$dir" | wc -l)
rows1=$(rows "$dir")
read1=$(read_view "$dir")
echo
echo "compaction, the table of the first merge-on-read run ($BUCKETS buckets):" \
    "sluice table compact DIR --retain 0"
printf '%-20s %9s %6s %9s %8s %10s %9s\n' "" "table MiB" "files" "rows" "read s" \
    "read CPU s" "read MiB"
for st in "before $sz0 $files0 $rows0 $read0" "after $sz1 $files1 $rows1 $read1"; do
	echo "$st" | awk '{
		printf "%-20s %9.1f %6d %9d %8.2f %10.2f %9.0f\n", $1, $2 / 1024, $3, $4, $5, $6,
		    $7 / 1024
	}'
done
awk -v rows="$rows1" '{
	printf "compact: %.2f s wall, %.2f s CPU (%.2f us a row), peak RSS %.0f MiB; ",
	    $1, $2 + $3, ($2 + $3) * 1e6 / rows, $4 / 1024
}' "$work/compact.time"
tail -n 1 "$work/compact.out"
rm -rf "${work:?}/mor1"

echo "mock broker: peak RSS $(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' \
    "/proc/$broker_pid/status"), CPU $(awk -v t="$(cpu_of "$broker_pid")" -v hz="$hz" \
    'BEGIN { printf "%.1f s", t / hz }') in all"

# ------------------------------------------------------------ profile

if [ "$PROFILE" = 1 ]; then
	command -v perf >/dev/null || die "BENCH_PROFILE=1 needs perf"
	rm -rf "$benchdir/merge-perf"
	mkdir -p "$benchdir/merge-perf"
	d=$benchdir/merge-perf/perf.data
	SLUICE_LOG=info perf record -q -g -F 999 -o "$d" -- "$sluice" merge -b "$bootstrap" \
	    --group "bench-merge-$$-perf" --path "$work/perf" --topic "$TOPIC" --kind mor \
	    --buckets "$BUCKETS" --idle-exit 2000 --maintain-interval 0 2>"$work/perf.log" ||
		die "the profiled run failed: $(tail -n 5 "$work/perf.log")"
	echo
	echo "profile: merge-on-read, default batch, under perf" \
	    "($(sed -n 's/.*total: \(.*\)/\1/p' "$work/perf.log"); kept in $benchdir/merge-perf)"
	echo "by thread (sluice: the main thread, which parses, merges and writes;" \
	    "rdk:broker*: librdkafka's fetchers, which decompress):"
	perf report -i "$d" --no-children --stdio -g none --sort comm 2>/dev/null |
	    grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -n 6
	echo "by thread and library:"
	perf report -i "$d" --no-children --stdio -g none --sort comm,dso 2>/dev/null |
	    grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -n 10
	echo "by function (self time, top 25):"
	perf report -i "$d" --no-children --stdio -g none --sort dso,symbol 2>/dev/null |
	    grep -E '^ +[0-9]' | sed 's/[ -]*$//' | head -n 25
	rm -rf "${work:?}/perf"
fi
