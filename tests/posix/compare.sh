#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one conformance program as a host Linux executable and as an Atoll image and compares
# the two outputs byte for byte; prints a unified diff when they differ.
# usage: compare.sh HOST_EXECUTABLE IMAGE
set -euo pipefail
host_bin=$1 image=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d -t atoll-posix.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/scratch"
POSIX_SCRATCH="$work/scratch" "$host_bin" </dev/null >"$work/host.txt" 2>"$work/host.err" || {
    echo "compare: the host run failed ($?)"; cat "$work/host.err" "$work/host.txt"; exit 1; }
# stdout against stdout: the guest's stderr goes to atoll's stderr, with atoll's own notes.
rc=0
"$root/atoll" run --mem 128M --timeout 120 "$image" </dev/null >"$work/atoll.txt" 2>"$work/atoll.err" || rc=$?
if [ $rc != 0 ]; then
    echo "compare: the image exited with $rc"
    cat "$work/atoll.err" "$work/atoll.txt"
    exit 1
fi
if ! diff -u --label host "$work/host.txt" --label atoll "$work/atoll.txt"; then
    echo "compare: outputs differ ($(wc -l <"$work/host.txt") host lines)"
    exit 1
fi
echo "compare: identical ($(tail -n 1 "$work/host.txt"))"
