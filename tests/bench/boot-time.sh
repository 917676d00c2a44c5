#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Launch-to-exit time of images against the empty-guest floor, on the exact QEMU command
# `atoll run` uses (same machine, flags and memory). Prints min / median / max over RUNS runs
# and the ratio of each median to the floor's. A benchmark: it prints numbers, never fails on them.
# usage: boot-time.sh GUEST_BUILD_DIR [RUNS] [MEM] [MACHINE]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
guest=$1
runs=${2:-10}
mem=${3:-16M}
machine=${4:-microvm}
images=("$guest/tests/images/floor.img" "$guest/apps/hello/hello.img" "$guest/tests/images/chello.img")

measure() { # measure IMAGE: prints sorted launch-to-exit times in microseconds
    local image=$1 i t0 t1
    local -a cmd
    mapfile -t cmd < <("$root/atoll" run --print-qemu --machine "$machine" --mem "$mem" "$image")
    for ((i = 0; i < runs; i++)); do
        t0=$(date +%s%N)
        "${cmd[@]}" >/dev/null 2>&1 || true
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000))
    done | sort -n
}

qemu_version=$("$(command -v qemu-system-x86_64)" --version | head -1)
echo "boot: launch-to-exit, $runs runs each, -M $machine, -m $mem, $qemu_version"
printf '%-12s %10s %10s %10s %8s %10s\n' image min_ms median_ms max_ms ratio bytes
floor_median=""
for image in "${images[@]}"; do
    mapfile -t t < <(measure "$image")
    min=${t[0]} max=${t[$((runs - 1))]} median=${t[$((runs / 2))]}
    [ -n "$floor_median" ] || floor_median=$median
    awk -v n="$(basename "$image" .img)" -v a="$min" -v m="$median" -v b="$max" -v f="$floor_median" \
        -v s="$(stat -c %s "$image")" 'BEGIN { printf "%-12s %10.1f %10.1f %10.1f %8.2f %10d\n", n, a / 1000, m / 1000, b / 1000, m / f, s }'
done
