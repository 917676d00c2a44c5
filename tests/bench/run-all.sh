#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `./atoll bench`: Atoll against the empty-guest floor, a Linux microVM (Debian's cloud kernel +
# a busybox initramfs, tests/bench/linux-vm.sh) and the same programs as host processes, all in
# one run, as numbers and ratios. A benchmark: it never passes or fails on a timing; it fails
# only when something could not be measured at all.
# Writes OUT/bench.md, OUT/bench.json, OUT/raw.txt (every sample) and, with gnuplot, OUT/boot.png
# and OUT/http.png.
# usage: run-all.sh GUEST_BUILD HOST_BUILD OUT [RUNS]
set -u -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
guest=$1 hostb=$2 out=$3 runs=${4:-5}
mkdir -p "$out"
. "$root/tests/net/lib.sh"
. "$root/tests/bench/linux-vm.sh"
atoll=$root/atoll
launchtime=$hostb/tests/launchtime
qemu_version=$(qemu-system-x86_64 --version | head -1 | awk '{print $4}')
accel=tcg
grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && [ -w /dev/kvm ] && accel=kvm
raw=$out/raw.txt
: >"$raw"
log() { echo "bench: $*" >&2; }

# stats: numbers on stdin -> "min median max" (median of an even count: the lower middle).
stats() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "- - -"; else printf "%s %s %s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
sample() { echo "$1: ${*:2}" >>"$raw"; } # sample NAME VALUES...: keep every measurement

json=()
md=("| measure | Atoll: median (min-max) | Linux microVM: median (min-max) | Atoll / Linux | other baseline | Atoll / baseline |"
    "|---|---|---|---|---|---|")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }
num() { [ "$1" = - ] && echo null || echo "$1"; }
# record NAME UNIT "A_MIN A_MED A_MAX" "L_MIN L_MED L_MAX" BASELINE_NAME BASELINE_VALUE
record() {
    local name=$1 unit=$2 base=$5 basev=$6 amin amed amax lmin lmed lmax
    read -r amin amed amax <<<"$3"
    read -r lmin lmed lmax <<<"$4"
    local cell_a="$amed ($amin-$amax)" cell_l="$lmed ($lmin-$lmax)"
    [ "$amin" = "$amax" ] && cell_a=$amed
    [ "$lmin" = "$lmax" ] && cell_l=$lmed
    A_MED[$name]=$amed L_MED[$name]=$lmed
    md+=("| $name ($unit) | $cell_a | $cell_l | $(ratio "$amed" "$lmed") | ${base:+$base: $basev} | $(ratio "$amed" "$basev") |")
    json+=("{\"measure\":\"$name\",\"unit\":\"$unit\",\"atoll\":{\"median\":$(num "$amed"),\"min\":$(num "$amin"),\"max\":$(num "$amax")},\"linux_microvm\":{\"median\":$(num "$lmed"),\"min\":$(num "$lmin"),\"max\":$(num "$lmax")},\"baseline\":\"$base\",\"baseline_value\":$(num "$basev"),\"ratio_linux\":\"$(ratio "$amed" "$lmed")\",\"ratio_baseline\":\"$(ratio "$amed" "$basev")\"}")
}
none="- - -"
declare -A A_MED L_MED # medians by measure name, for the charts

# ------------------------------------------------------------------ the Linux microVM
lvm=$out/linux-vm
linux_ok=0
if linux_pkg=$(linux_vm_prepare "$lvm" "$hostb/tests/httpd-host/httpd-static" "$hostb/tests/syscallbench-static" \
    "$root/apps/httpd/rootfs/www"); then
    linux_ok=1
    log "Linux microVM: $linux_pkg + busybox initramfs"
else
    log "Linux microVM: could not be prepared; its column stays empty"
    linux_pkg="not available"
fi
linux_cmd() { mapfile -t lcmd < <(linux_vm_cmd "$lvm" "$@"); }

# ------------------------------------------------------------------ boot
# launch TIMES_NAME MARKER COMMAND...: RUNS launches; fills first_ms[] and exit_ms[].
launch() {
    local name=$1 marker=$2 line i
    shift 2
    first_ms=() exit_ms=()
    for ((i = 0; i < runs; i++)); do
        line=$("$launchtime" --timeout 60 --marker "$marker" -- "$@")
        first_ms+=("$(sed -n 's/.*first_output_ms=\([-0-9.]*\).*/\1/p' <<<"$line")")
        exit_ms+=("$(sed -n 's/.*exit_ms=\([0-9.]*\).*/\1/p' <<<"$line")")
    done
    sample "$name first output ms" "${first_ms[@]}"
    sample "$name exit ms" "${exit_ms[@]}"
}
atoll_cmd() { mapfile -t acmd < <("$atoll" run --print-qemu "$@"); }

log "boot: empty-guest floor, chello, hello, Linux microVM ($runs runs each)"
atoll_cmd --mem 16M "$guest/tests/images/floor.img"
launch floor "" "${acmd[@]}"
floor=$(printf '%s\n' "${exit_ms[@]}" | stats)
floor_med=$(cut -d' ' -f2 <<<"$floor")
linux_first=$none linux_exit=$none
if [ $linux_ok = 1 ]; then
    linux_cmd 256M boot
    launch linux "$LINUX_VM_MARKER" "${lcmd[@]}"
    linux_first=$(printf '%s\n' "${first_ms[@]}" | stats)
    linux_exit=$(printf '%s\n' "${exit_ms[@]}" | stats)
fi
record "empty-guest floor, launch to exit" ms "$floor" "$none" "" -
for img in "chello:tests/images/chello.img:chello argc=" "hello:apps/hello/hello.img:Hello from Atoll"; do
    IFS=: read -r name path marker <<<"$img"
    atoll_cmd --mem 16M "$guest/$path"
    launch "$name" "$marker" "${acmd[@]}"
    record "boot $name, launch to first output" ms "$(printf '%s\n' "${first_ms[@]}" | stats)" "$linux_first" \
        "empty-guest floor exit" "$floor_med"
    record "boot $name, launch to exit" ms "$(printf '%s\n' "${exit_ms[@]}" | stats)" "$linux_exit" \
        "empty-guest floor exit" "$floor_med"
done
# The guest's own view: kernel entry (first instruction) to main(), from the TSC.
entry=()
for ((i = 0; i < runs; i++)); do
    entry+=("$("$atoll" run --mem 16M --bootstats "$guest/apps/hello/hello.img" 2>&1 >/dev/null |
        sed -n 's/.*first instruction to main() \([0-9]*\) us.*/\1/p' | awk '{ printf "%.2f", $1 / 1000 }')")
done
sample "hello first instruction to main ms" "${entry[@]}"
record "hello, first instruction to main() (in-guest TSC)" ms "$(printf '%s\n' "${entry[@]}" | stats)" "$none" "" -

# ------------------------------------------------------------------ size
linux_size=-
[ $linux_ok = 1 ] && linux_size=$(($(stat -c %s "$lvm/vmlinuz") + $(stat -c %s "$lvm/initrd.gz")))
for img in chello:tests/images/chello.img hello:apps/hello/hello.img httpd:apps/httpd/httpd.img; do
    s=$(stat -c %s "$guest/${img#*:}")
    record "image size ${img%%:*} (stripped)" bytes "$s $s $s" "$linux_size $linux_size $linux_size" "goal" 524288
done

# ------------------------------------------------------------------ smallest memory
# smallest LO HI WORKS_FN: bisection to 1 MiB for the smallest MiB count at which WORKS_FN
# succeeds, given that it fails at LO; "-" when it does not work even at HI.
smallest() {
    local lo=$1 hi=$2 fn=$3 mid
    $fn "$hi" || { echo -; return; }
    while [ $((hi - lo)) -gt 1 ]; do
        mid=$(((lo + hi) / 2))
        if $fn $mid; then hi=$mid; else lo=$mid; fi
    done
    echo "$hi"
}
# serves URL SECONDS COMMAND...: starts COMMAND in a process group of its own, true when URL
# answers 200 within SECONDS; the group is killed either way.
serves() {
    local url=$1 secs=$2 pid ok=1 t0
    shift 2
    setsid "$@" >/dev/null 2>&1 &
    pid=$!
    t0=$(date +%s)
    while [ $(($(date +%s) - t0)) -lt "$secs" ] && kill -0 $pid 2>/dev/null; do
        if curl -s -o /dev/null -f --max-time 0.5 "$url"; then ok=0; break; fi
        sleep 0.05
    done
    kill -- -$pid 2>/dev/null
    wait $pid 2>/dev/null
    return $ok
}
hello_works() { "$atoll" run --mem "${1}M" --timeout 20 "$guest/apps/hello/hello.img" 2>/dev/null | grep -q "^caught: exceptions work$"; }
httpd_works() {
    local port
    port=$(free_port)
    serves "http://127.0.0.1:$port/index.html" 20 "$atoll" run --mem "${1}M" --port "$port:80" "$guest/apps/httpd/httpd.img" -- --no-access-log
}
linux_boot_works() {
    linux_cmd "${1}M" boot
    "$launchtime" --timeout 30 --marker "$LINUX_VM_MARKER" -- "${lcmd[@]}" | grep -q 'first_output_ms=[0-9]'
}
linux_httpd_works() {
    local port
    port=$(free_port)
    linux_cmd "${1}M" httpd atoll_ip=10.0.2.15/24 atoll_gw=10.0.2.2 -- \
        -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80" -device virtio-net-device,netdev=n0
    serves "http://127.0.0.1:$port/index.html" 40 "${lcmd[@]}"
}
log "smallest memory: bisection for hello and httpd, Atoll and Linux"
mh=$(smallest 1 64 hello_works)
md_=$(smallest 1 128 httpd_works)
lh=- lhd=-
if [ $linux_ok = 1 ]; then
    lh=$(smallest 16 512 linux_boot_works)
    lhd=$(smallest 16 512 linux_httpd_works)
fi
record "smallest --mem, hello" MiB "$mh $mh $mh" "$lh $lh $lh" "goal" 4
record "smallest --mem, httpd" MiB "$md_ $md_ $md_" "$lhd $lhd $lhd" "goal" 4

# ------------------------------------------------------------------ syscall cost
log "syscall cost: in Atoll, in the Linux microVM, as a host process"
syscall_runs() { # syscall_runs NAME COMMAND...: fills gp[] gc[] from RUNS runs
    local name=$1 line i
    shift
    gp=() gc=()
    for ((i = 0; i < runs; i++)); do
        line=$("$@" 2>/dev/null | grep syscall-bench)
        gp+=("$(sed -n 's/.*getppid_ns=\([0-9.]*\).*/\1/p' <<<"$line")")
        gc+=("$(sed -n 's/.*clock_gettime_ns=\([0-9.]*\).*/\1/p' <<<"$line")")
    done
    sample "$name getppid ns" "${gp[@]}"
    sample "$name clock_gettime ns" "${gc[@]}"
}
calls=200000
syscall_runs atoll "$atoll" run --timeout 120 "$guest/tests/images/syscallbench.img" -- $calls
a_gp=$(printf '%s\n' "${gp[@]}" | stats) a_gc=$(printf '%s\n' "${gc[@]}" | stats)
l_gp=$none l_gc=$none
if [ $linux_ok = 1 ]; then
    linux_cmd 256M syscall atoll_arg=$calls
    syscall_runs linux timeout 120 "${lcmd[@]}"
    l_gp=$(printf '%s\n' "${gp[@]}" | stats) l_gc=$(printf '%s\n' "${gc[@]}" | stats)
fi
syscall_runs host "$hostb/tests/syscallbench-host" 1000000
h_gp=$(printf '%s\n' "${gp[@]}" | stats) h_gc=$(printf '%s\n' "${gc[@]}" | stats)
record "getppid()" ns "$a_gp" "$l_gp" "host process" "$(cut -d' ' -f2 <<<"$h_gp")"
record "clock_gettime(CLOCK_MONOTONIC)" ns "$a_gc" "$l_gc" "host process" "$(cut -d' ' -f2 <<<"$h_gc")"

# ------------------------------------------------------------------ HTTP
# Boot to first response: QEMU launch until curl gets 200 from /healthz through the user-network
# forward. Short attempts: a connection made before the guest listens waits on the forwarder's
# retry timer (about 1 s), so each attempt gives up after 50 ms and a new one starts.
first_response() { # first_response NAME PORT COMMAND...: one sample in ms on stdout
    local port=$2 pid t0 t1
    shift 2
    t0=$(date +%s%N)
    setsid "$@" >/dev/null 2>&1 &
    pid=$!
    until curl -s -o /dev/null --max-time 0.05 "http://127.0.0.1:$port/healthz"; do
        kill -0 $pid 2>/dev/null || { echo -; return; }
        [ $((($(date +%s%N) - t0) / 1000000000)) -lt 60 ] || { kill -- -$pid; echo -; return; }
        sleep 0.005
    done
    t1=$(date +%s%N)
    kill -- -$pid 2>/dev/null
    wait $pid 2>/dev/null
    echo $(((t1 - t0) / 1000000))
}
log "httpd: boot to first response"
a_fr=() l_fr=()
for ((i = 0; i < runs; i++)); do
    port=$(free_port)
    atoll_cmd --port "$port:80" "$guest/apps/httpd/httpd.img" -- --no-access-log
    a_fr+=("$(first_response atoll "$port" "${acmd[@]}")")
    if [ $linux_ok = 1 ]; then
        port=$(free_port)
        linux_cmd 256M httpd atoll_ip=10.0.2.15/24 atoll_gw=10.0.2.2 -- \
            -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:80" -device virtio-net-device,netdev=n0
        l_fr+=("$(first_response linux "$port" "${lcmd[@]}")")
    fi
done
sample "atoll httpd first response ms" "${a_fr[@]}"
sample "linux httpd first response ms" "${l_fr[@]}"
l_frs=$none
[ ${#l_fr[@]} -gt 0 ] && l_frs=$(printf '%s\n' "${l_fr[@]}" | grep -v '^-$' | stats)
record "httpd, launch to first response" ms "$(printf '%s\n' "${a_fr[@]}" | grep -v '^-$' | stats)" "$l_frs" \
    "empty-guest floor exit" "$floor_med"

# wrk over a tap device (the user-network forwarder accepts too few connections at once to
# load a server: tests/net/README.md); needs root. Same wrk flags for all three.
wrk_flags=(-t 2 -c 64 -d 10s --latency)
wrk_runs() { # wrk_runs NAME URL: fills rps[] and p99[] (ms)
    local name=$1 url=$2 i o
    rps=() p99=()
    for ((i = 0; i < runs; i++)); do
        o=$(wrk "${wrk_flags[@]}" "$url")
        rps+=("$(awk '/Requests\/sec/ { print $2 }' <<<"$o")")
        p99+=("$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub("us", "", v); v /= 1000 } else if (v ~ /ms$/) { sub("ms", "", v) } else if (v ~ /s$/) { sub("s", "", v); v *= 1000 } print v }' <<<"$o")")
    done
    sample "$name requests/s" "${rps[@]}"
    sample "$name p99 ms" "${p99[@]}"
}
wait_http() { # wait_http URL SECONDS
    local t0
    t0=$(date +%s)
    until curl -s -o /dev/null -f --max-time 1 "$1"; do
        [ $(($(date +%s) - t0)) -lt "$2" ] || return 1
        sleep 0.05
    done
}
if command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
    log "HTTP: wrk ${wrk_flags[*]} against the host process, Atoll and the Linux microVM"
    port=$(free_port)
    www=$(mktemp -d)
    cp -r "$root/apps/httpd/rootfs/www/." "$www/"
    "$hostb/tests/httpd-host/httpd" --listen "$port" --root "$www" --no-access-log >/dev/null 2>&1 &
    host_pid=$!
    wait_http "http://127.0.0.1:$port/healthz" 10
    wrk_runs host "http://127.0.0.1:$port/index.html"
    h_rps=$(printf '%s\n' "${rps[@]}" | stats) h_p99=$(printf '%s\n' "${p99[@]}" | stats)
    h_rps_med=$(cut -d' ' -f2 <<<"$h_rps")
    kill $host_pid
    rm -rf "$www"

    tap=atlb$$
    ip tuntap add "$tap" mode tap && ip addr add 192.168.211.1/24 dev "$tap" && ip link set "$tap" up
    # guest_wrk NAME IP SECONDS COMMAND...: starts a guest serving httpd at IP in a process
    # group of its own, runs wrk against it, stops it; sets g_rps and g_p99 ("- - -" if it never
    # answered within SECONDS).
    guest_wrk() {
        local name=$1 ip=$2 secs=$3 pid
        shift 3
        g_rps=$none g_p99=$none
        setsid "$@" >/dev/null 2>&1 &
        pid=$!
        if wait_http "http://$ip/healthz" "$secs"; then
            wrk_runs "$name" "http://$ip/index.html"
            g_rps=$(printf '%s\n' "${rps[@]}" | stats) g_p99=$(printf '%s\n' "${p99[@]}" | stats)
        else
            log "$name httpd did not answer over $tap"
        fi
        kill -- -$pid
        wait $pid 2>/dev/null
    }
    guest_wrk atoll 192.168.211.2 60 "$atoll" run --mem 256M --net "tap:$tap" --param atoll.ip=192.168.211.2/24 \
        "$guest/apps/httpd/httpd.img" -- --no-access-log
    a_rps=$g_rps a_p99=$g_p99
    l_rps=$none l_p99=$none
    if [ $linux_ok = 1 ]; then
        linux_cmd 256M httpd atoll_ip=192.168.211.3/24 -- \
            -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" -device virtio-net-device,netdev=n0
        guest_wrk linux 192.168.211.3 90 "${lcmd[@]}"
        l_rps=$g_rps l_p99=$g_p99
    fi
    ip link del "$tap"
    record "HTTP wrk -t2 -c64 /index.html" "req/s" "$a_rps" "$l_rps" "host process" "$(cut -d' ' -f2 <<<"$h_rps")"
    record "HTTP wrk -t2 -c64 /index.html, p99 latency" ms "$a_p99" "$l_p99" "host process" "$(cut -d' ' -f2 <<<"$h_p99")"
else
    log "HTTP throughput: skipped (needs wrk, root and /dev/net/tun for a tap device)"
fi

# ------------------------------------------------------------------ profiles
# Where the time and bytes go, for the goals Atoll misses: the boot phases of hello (in-guest
# TSC marks, atoll.bootstats), the steps of a system call (tests/images/costbench) and what
# each library adds to the image (its link map).
log "profiles: boot phases, system call steps, image composition"
phases=$("$atoll" run --mem 16M --bootstats "$guest/apps/hello/hello.img" 2>&1 >/dev/null | sed -n 's/.*bootstats: phase \(.*[^ ]\)  *\([0-9][0-9]*\) us$/| \1 | \2 |/p')
costs=$("$atoll" run --timeout 120 "$guest/tests/images/costbench.img" -- $calls 2>/dev/null | sed -n 's/^cost: \(.*[^ ]\)  *\([0-9.][0-9.]*\) ns$/| \1 | \2 |/p')
sizes=$("$root/tests/bench/size-breakdown.sh" "$guest/apps/hello/hello.map" 12 2>&1)
qprof=$("$root/tests/bench/qemu-profile.sh" "$runs" "$guest/tests/images/floor.img" "$guest/tests/images/chello.img" \
    "$guest/apps/hello/hello.img" 2>&1) || qprof="not measured: $qprof"
echo "$phases" >>"$raw"
echo "$costs" >>"$raw"

# ------------------------------------------------------------------ report
{
    echo "Atoll benchmarks: QEMU $qemu_version, accelerator $accel, $runs runs each (median, min-max);"
    echo "Linux microVM: $linux_pkg with a busybox initramfs, -M microvm, same QEMU and accelerator."
    echo "Ratios are Atoll's median over the other's median. Every sample: raw.txt."
    echo
    printf '%s\n' "${md[@]}"
    echo
    echo "### hello's boot phases (one boot, -m 16M, in-guest TSC: atoll.bootstats)"
    echo
    echo "| phase | us |"
    echo "|---|---|"
    echo "$phases"
    echo
    echo "### Steps of a system call in Atoll (tests/images/costbench, $calls iterations each, in-guest TSC)"
    echo
    echo "| step | ns per operation |"
    echo "|---|---|"
    echo "$costs"
    echo
    echo "### Where launch-to-exit goes on the host (perf on the QEMU process: tests/bench/qemu-profile.sh)"
    echo
    echo "$qprof"
    echo
    echo "### What hello.img is made of (its link map; stored sections only)"
    echo
    echo "$sizes"
} >"$out/bench.md"
{
    printf '{"qemu":"%s","accelerator":"%s","runs":%d,"linux_microvm":"%s","results":[' "$qemu_version" "$accel" "$runs" "$linux_pkg"
    (IFS=,; printf '%s' "${json[*]}")
    printf ']}\n'
} >"$out/bench.json"

# Charts: boot against the floor and Linux; HTTP throughput against Linux and the host process.
charts=""
if command -v gnuplot >/dev/null; then
    bar() { [ "${2:--}" != - ] && echo "\"$1\" $2"; }
    {
        bar "floor (empty)" "$floor_med"
        bar "Atoll C hello" "${A_MED[boot chello, launch to exit]:--}"
        bar "Atoll C++ hello" "${A_MED[boot hello, launch to exit]:--}"
        bar "Linux /init" "${L_MED[boot hello, launch to exit]:--}"
        bar "Atoll httpd" "${A_MED[httpd, launch to first response]:--}"
        bar "Linux httpd" "${L_MED[httpd, launch to first response]:--}"
    } >"$out/boot.dat"
    {
        bar "host process" "${h_rps_med:--}"
        bar "Atoll" "${A_MED[HTTP wrk -t2 -c64 /index.html]:--}"
        bar "Linux microVM" "${L_MED[HTTP wrk -t2 -c64 /index.html]:--}"
    } >"$out/http.dat"
    for chart in boot:"Launch to exit; httpd: to first response (ms, median)" http:"HTTP requests/s (wrk -t2 -c64, median)"; do
        name=${chart%%:*} title=${chart#*:}
        [ -s "$out/$name.dat" ] || continue
        gnuplot <<GP
set terminal png size 1100,460
set output "$out/$name.png"
set title "$title (QEMU $qemu_version, $accel)"
set style data histogram
set style fill solid 0.8
set boxwidth 0.6
set yrange [1:*]
set logscale y
set xtics noenhanced
unset key
plot "$out/$name.dat" using 2:xtic(1) lc rgb "#3b7dd8", '' using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,0.7 notitle
GP
        charts+=" $out/$name.png"
    done
fi

cat "$out/bench.md"
echo
echo "bench: wrote $out/bench.md, $out/bench.json, $out/raw.txt${charts:+ and}$charts"
