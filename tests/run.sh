#!/bin/sh
# Runs the suite: every compiled tests/test_* binary, then every tests/*.sh
# script. With an argument, only the test of that name. Tests that need a
# component that is absent print SKIP and a reason; they never pass silently.
set -u
BUILD=${BUILD:-build}
only=${1:-}
pass=0 fail=0 skip=0
failed=""

run_one() {
	name=$1; shift
	start=$(date +%s)
	out=$("$@" 2>&1); rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); printf 'PASS  %-28s %3ss\n' "$name" "$secs"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); printf 'SKIP  %-28s %s\n' "$name" "$(printf '%s\n' "$out" | tail -n 1)"
	else
		fail=$((fail + 1)); failed="$failed $name"
		printf 'FAIL  %-28s %3ss\n' "$name" "$secs"
		printf '%s\n' "$out" | tail -n 60 | sed 's/^/      /'
	fi
}

for bin in "$BUILD"/tests/test_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/test_}
	[ -n "$only" ] && [ "$only" != "$name" ] && continue
	run_one "$name" "$bin"
done
for script in tests/*.sh; do
	name=${script##*/}; name=${name%.sh}
	case $name in run|deps|demo) continue ;; esac
	[ -n "$only" ] && [ "$only" != "$name" ] && continue
	run_one "$name" env BUILD="$BUILD" sh "$script"
done

echo "passed $pass, failed $fail, skipped $skip"
[ $fail -eq 0 ] || { echo "failed:$failed"; exit 1; }
if [ $((pass + fail + skip)) -eq 0 ]; then echo "no test named '$only'"; exit 1; fi
