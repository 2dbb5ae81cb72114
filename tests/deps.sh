#!/bin/sh
# Installs the Debian 12 packages sluice needs to build, test and run its
# demo, when they are missing (apt-get; through sudo when not root).
# Safe to run again: it installs nothing when everything is there.
set -eu

pkgs="gcc make libc6-dev pkg-config zlib1g-dev libzstd-dev libcmocka-dev
      libmariadb-dev libyaml-dev libpcre2-dev libjansson-dev
      librdkafka-dev kcat
      mariadb-server mariadb-client python3 time
      clang libclang-rt-14-dev"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "deps: missing packages:$missing; run as root or install sudo" >&2
	exit 1
fi
echo "deps: installing$missing"
$sudo apt-get update -qq
# mariadb-server's package scripts try to start the system service; sluice
# never uses it (tests start their own throwaway servers).
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
