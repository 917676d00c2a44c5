#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `./atoll bench`: Atoll against the empty-guest floor and the same programs as host
# processes, in one run, as numbers and ratios (never pass/fail on a timing). Writes
# OUT/bench.md, OUT/bench.json and, when gnuplot is there, OUT/boot.png and OUT/http.png.
# usage: run-all.sh GUEST_BUILD HOST_BUILD OUT [RUNS]
# FIXME(issue 6): the Linux microVM column (Debian cloud kernel + busybox initramfs).
set -u -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
guest=$1 hostb=$2 out=$3 runs=${4:-5}
mkdir -p "$out"
. "$root/tests/net/lib.sh"
atoll=$root/atoll
qemu_version=$(qemu-system-x86_64 --version | head -1 | awk '{print $4}')
accel=tcg
grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && [ -w /dev/kvm ] && accel=kvm
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%s %s %s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
json=()
md=("| measure | Atoll | baseline | ratio | min / max (Atoll) |" "|---|---|---|---|---|")
record() { # record NAME UNIT ATOLL_MEDIAN BASELINE_NAME BASELINE_MEDIAN ATOLL_MIN ATOLL_MAX
    local ratio
    ratio=$(awk -v a="$3" -v b="$5" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    md+=("| $1 ($2) | $3 | $4: $5 | $ratio | $6 / $7 |")
    json+=("{\"measure\":\"$1\",\"unit\":\"$2\",\"atoll\":$3,\"baseline\":\"$4\",\"baseline_value\":$5,\"ratio\":\"$ratio\",\"atoll_min\":$6,\"atoll_max\":$7}")
}

# ------------------------------------------------------------------ boot (launch to exit)
launch_to_exit() { # image: prints RUNS times in ms
    local -a cmd
    mapfile -t cmd < <("$atoll" run --print-qemu --mem 16M "$1")
    for ((i = 0; i < runs; i++)); do
        local t0 t1
        t0=$(date +%s%N)
        "${cmd[@]}" >/dev/null 2>&1
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000000))
    done
}
read -r fmin fmed fmax < <(launch_to_exit "$guest/tests/images/floor.img" | stats)
for img in chello:tests/images/chello.img hello:apps/hello/hello.img; do
    read -r min med max < <(launch_to_exit "$guest/${img#*:}" | stats)
    record "boot ${img%%:*}, launch to exit" ms "$med" "empty-guest floor" "$fmed" "$min" "$max"
done

# ------------------------------------------------------------------ size
for img in chello:tests/images/chello.img hello:apps/hello/hello.img httpd:apps/httpd/httpd.img; do
    s=$(stat -c %s "$guest/${img#*:}")
    record "image size ${img%%:*} (stripped)" bytes "$s" "512 KB goal" 524288 "$s" "$s"
done

# ------------------------------------------------------------------ smallest memory
works_hello() { "$atoll" run --mem "${1}M" --timeout 20 "$guest/apps/hello/hello.img" 2>/dev/null | grep -q "^caught: exceptions work$"; }
lo=1 hi=64
while [ $((hi - lo)) -gt 1 ]; do
    mid=$(((lo + hi) / 2))
    if works_hello $mid; then hi=$mid; else lo=$mid; fi
done
record "smallest --mem for hello" MiB "$hi" "4 MiB goal" 4 "$hi" "$hi"

# ------------------------------------------------------------------ syscall cost
guest_sys=$("$atoll" run --timeout 120 "$guest/tests/images/syscallbench.img" -- 200000 2>/dev/null | grep syscall-bench)
host_sys=$("$hostb/tests/syscallbench-host" 1000000)
gp=$(sed -n 's/.*getppid_ns=\([0-9.]*\).*/\1/p' <<<"$guest_sys")
gc=$(sed -n 's/.*clock_gettime_ns=\([0-9.]*\).*/\1/p' <<<"$guest_sys")
hp=$(sed -n 's/.*getppid_ns=\([0-9.]*\).*/\1/p' <<<"$host_sys")
hc=$(sed -n 's/.*clock_gettime_ns=\([0-9.]*\).*/\1/p' <<<"$host_sys")
record "getppid()" ns "$gp" "host process" "$hp" "$gp" "$gp"
record "clock_gettime()" ns "$gc" "host process" "$hc" "$gc" "$gc"

# ------------------------------------------------------------------ HTTP (wrk)
if command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
    bench_out=$("$root/tests/bench/httpd.sh" "$guest/apps/httpd/httpd.img" "$hostb/tests/httpd-host/httpd" "$runs" 2>&1)
    echo "$bench_out" >"$out/httpd.txt"
    h=$(sed -n 's/^host process: .* median \([0-9.]*\) requests.*/\1/p' <<<"$bench_out")
    a=$(sed -n 's/^Atoll .* median \([0-9.]*\) requests.*/\1/p' <<<"$bench_out")
    [ -n "$a" ] && [ -n "$h" ] && record "HTTP wrk -t2 -c64 /index.html" "req/s" "$a" "host process" "$h" "$a" "$a"
    b=$(sed -n 's/^boot to first response: min \([0-9]*\) ms, median \([0-9]*\) ms, max \([0-9]*\) ms/\1 \2 \3/p' <<<"$bench_out")
    [ -n "$b" ] && record "httpd boot to first response" ms "$(cut -d' ' -f2 <<<"$b")" "empty-guest floor" "$fmed" \
        "$(cut -d' ' -f1 <<<"$b")" "$(cut -d' ' -f3 <<<"$b")"
fi

{
    echo "Atoll benchmarks: QEMU $qemu_version, accelerator $accel, $runs runs each (median; min / max)."
    echo "Linux microVM column: not measured yet."
    echo
    printf '%s\n' "${md[@]}"
} >"$out/bench.md"
{
    printf '{"qemu":"%s","accelerator":"%s","runs":%d,"results":[' "$qemu_version" "$accel" "$runs"
    (IFS=,; printf '%s' "${json[*]}")
    printf ']}\n'
} >"$out/bench.json"
# Charts: boot times against the floor, HTTP throughput against the host process.
charts=""
if command -v gnuplot >/dev/null; then
    {
        echo "empty-guest_floor $fmed"
        grep -E '^\| boot (chello|hello), launch' "$out/bench.md" | awk -F'|' '{ split($2, n, " "); sub(",", "", n[2]); print n[2] " " $3 + 0 }'
        grep -E '^\| httpd boot to first' "$out/bench.md" | awk -F'|' '{ print "httpd_first_response " $3 + 0 }'
    } >"$out/boot.dat"
    grep -E '^\| HTTP wrk' "$out/bench.md" | awk -F'|' '{ split($4, b, ":"); print "host_process " b[2] + 0; print "Atoll " $3 + 0 }' >"$out/http.dat"
    for chart in boot:"Launch to exit / first response (ms, median)" http:"HTTP requests/s (wrk -t2 -c64, median)"; do
        name=${chart%%:*} title=${chart#*:}
        [ -s "$out/$name.dat" ] || continue
        gnuplot <<GP
set terminal png size 800,420
set output "$out/$name.png"
set title "$title (QEMU $qemu_version, $accel)"
set style data histogram
set style fill solid 0.8
set boxwidth 0.6
set yrange [0:*]
set xtics noenhanced
unset key
plot "$out/$name.dat" using 2:xtic(1) lc rgb "#3b7dd8"
GP
        charts+=" $out/$name.png"
    done
fi

cat "$out/bench.md"
echo
echo "bench: wrote $out/bench.md, $out/bench.json${charts:+ and}$charts"
