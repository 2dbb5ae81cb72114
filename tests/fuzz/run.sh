#!/bin/sh
# Runs every libFuzzer target in build-fuzz/ for FUZZ_SECONDS (default 20)
# each, FUZZ_JOBS (default: the number of cores) at a time. Corpora live in
# build-fuzz/corpus/<target>/ and grow from run to run; fuzz_binlog is
# seeded with the shared binlog fixtures when present, other targets with
# tests/fuzz/seeds/<target>/.
# A crash leaves its input in build-fuzz/crash-* and fails the run.
set -eu
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
fixtures=${SLUICE_FIXTURES:-../shared/fixtures/binlog}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
status=0

# One target, its verdict in build-fuzz/NAME.rc: libFuzzer uses one core,
# so JOBS targets run side by side, each for the full time.
run_target() {
	name=$1
	if "build-fuzz/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix=build-fuzz/ \
		"build-fuzz/corpus/$name" >"build-fuzz/$name.log" 2>&1; then
		echo 0 >"build-fuzz/$name.rc"
	else
		echo 1 >"build-fuzz/$name.rc"
	fi
}

names=""
running=0
for bin in build-fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/}
	names="$names $name"
	corpus=build-fuzz/corpus/$name
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/seeds/$name" ]; then
		cp -n tests/fuzz/seeds/"$name"/* "$corpus/" 2>/dev/null || true
	fi
	if [ "$name" = fuzz_binlog ] && [ -d "$fixtures" ]; then
		for f in "$fixtures"/*; do
			case $f in
			*.txt | *.md) ;;
			*.gz) ;; # the one large fixture: too big a seed
			*) cp -n "$f" "$corpus/" 2>/dev/null || true ;;
			esac
		done
	fi
	echo "fuzz: $name for ${secs}s"
	rm -f "build-fuzz/$name.rc"
	run_target "$name" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait
for name in $names; do
	if [ "$(cat "build-fuzz/$name.rc" 2>/dev/null)" != 0 ]; then
		echo "fuzz: $name FAILED; see build-fuzz/$name.log"
		tail -n 40 "build-fuzz/$name.log"
		status=1
	else
		printf '%s: ' "$name"
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' \
			"build-fuzz/$name.log" | tr '\n' ' '
		echo
	fi
done
exit $status
