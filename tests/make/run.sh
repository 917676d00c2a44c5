#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Makefile project in this directory with `make CC=atoll-cc` in a fresh temporary
# copy, boots the image with `atoll run ./hello -- world` and exits with its status (1 when it
# exits 0 without printing the greeting).
# usage: run.sh [atoll run options]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d -t atoll-make.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$here/Makefile" "$here/main.c" "$here/greet.c" "$here/greet.h" "$tmp/"
cd "$tmp"
make CC="$repo/toolchain/bin/atoll-cc"
[ -f hello ] && [ -f hello.dbg ] || { echo "run.sh: make did not produce hello and hello.dbg" >&2; exit 1; }
rc=0
"$repo/atoll" run ./hello "$@" -- world | tee output.txt || rc=$?
if [ $rc = 0 ] && ! grep -q '^greet: hello, world' output.txt; then
    echo "run.sh: the image exited 0 but did not print 'greet: hello, world'" >&2
    exit 1
fi
exit $rc
