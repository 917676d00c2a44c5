#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `./atoll bench`: Atoll against the empty-guest floor, a Linux microVM (Debian's cloud kernel +
# a busybox initramfs, tests/bench/linux-vm.sh) and the same programs as host processes, all in
# one run, as numbers and ratios. A benchmark: it never passes or fails on a timing; it fails
# only when something could not be measured at all.
# Writes OUT/bench.md, OUT/bench.json (always valid JSON: tests/bench/bench-report.sh writes both
# from the samples; a missing figure is null with its reason), OUT/raw.txt (every sample) and,
# with gnuplot, OUT/boot.png and OUT/http.png. The HTTP load over a tap runs inside a network
# namespace of its own (tests/net/lib.sh), removed on every exit path.
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

# stats: samples on stdin -> "min median max" over those that are numbers (median of an even
# count: the lower middle); "- - -" when none is.
stats() { grep -E '^-?[0-9]+([.][0-9]+)?$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "- - -"; else printf "%s %s %s", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
median() { stats | cut -d' ' -f2; } # the median of the samples on stdin, or -
sample() { echo "$1: ${*:2}" >>"$raw"; } # sample NAME VALUES...: keep every measurement
# samples VALUE...: one word per run, "-" for a run that gave no figure (an empty value).
samples() { local v out=(); for v in "$@"; do out+=("${v:--}"); done; echo "${out[*]}"; }

# record NAME UNIT "ATOLL_SAMPLES" "LINUX_SAMPLES" BASELINE_NAME BASELINE_VALUE [ATOLL_WHY [LINUX_WHY]]
# One measure for bench.json and bench.md's table (tests/bench/bench-report.sh writes both):
# samples separated by spaces, "-" for a run without a figure; *_WHY says why samples are missing.
results=$out/results.tsv
: >"$results"
record() {
    local f
    for f in "$@"; do [[ $f != *$'\t'* && $f != *$'\n'* ]] || { log "record: tab or newline in '$f'"; return 1; }; done
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${7:-}" "$4" "${8:-}" "$5" "$6" >>"$results"
}
none="" no_linux="Linux microVM not available" no_counterpart="no Linux counterpart"

# Whatever is running when the script ends (guests, the host httpd, the namespace of the tap
# runs) is stopped on every exit path, interrupted runs included. Guests started in the
# background (in a session of their own, often from a $(...) subshell) are listed in a file.
groups=$out/.running-groups
: >"$groups"
host_pid="" bns=""
cleanup() {
    local pid
    while read -r pid; do stop_group "$pid"; done <"$groups"
    rm -f "$groups"
    [ -z "$host_pid" ] || kill "$host_pid" 2>/dev/null
    [ -z "$bns" ] || netns_destroy "$bns"
}
netns_traps cleanup
# spawn NS COMMAND...: COMMAND in the background in a session of its own, inside namespace NS
# (on the host when NS is empty), output discarded; sets spawned_pid. unspawn PID stops it.
spawn() { netns_spawn "$1" /dev/null "${@:2}"; echo "$spawned_pid" >>"$groups"; }
unspawn() { stop_group "$1"; sed -i "/^$1\$/d" "$groups"; }

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
        # A marker never seen (-1) or a launch that timed out gives no figure ("").
        first_ms+=("$(sed -n 's/.*first_output_ms=\([0-9.][0-9.]*\) .*/\1/p' <<<"$line")")
        exit_ms+=("$(grep -v 'timeout=1' <<<"$line" | sed -n 's/.*exit_ms=\([0-9.]*\).*/\1/p')")
    done
    sample "$name first output ms" "${first_ms[@]}"
    sample "$name exit ms" "${exit_ms[@]}"
}
atoll_cmd() { mapfile -t acmd < <("$atoll" run --print-qemu "$@"); }

log "boot: empty-guest floor, chello, hello, Linux microVM ($runs runs each)"
atoll_cmd --mem 16M "$guest/tests/images/floor.img"
launch floor "" "${acmd[@]}"
floor=$(samples "${exit_ms[@]}")
floor_med=$(printf '%s\n' "${exit_ms[@]}" | median)
linux_first=$none linux_exit=$none
if [ $linux_ok = 1 ]; then
    linux_cmd 256M boot
    launch linux "$LINUX_VM_MARKER" "${lcmd[@]}"
    linux_first=$(samples "${first_ms[@]}")
    linux_exit=$(samples "${exit_ms[@]}")
fi
record "empty-guest floor, launch to exit" ms "$floor" "$none" "" - "" "$no_counterpart"
for img in "chello:tests/images/chello.img:chello argc=" "hello:apps/hello/hello.img:Hello from Atoll"; do
    IFS=: read -r name path marker <<<"$img"
    atoll_cmd --mem 16M "$guest/$path"
    launch "$name" "$marker" "${acmd[@]}"
    record "boot $name, launch to first output" ms "$(samples "${first_ms[@]}")" "$linux_first" \
        "empty-guest floor exit" "$floor_med" "no marker within 60 s" "$no_linux"
    record "boot $name, launch to exit" ms "$(samples "${exit_ms[@]}")" "$linux_exit" \
        "empty-guest floor exit" "$floor_med" "did not exit within 60 s" "$no_linux"
done
# The guest's own view: kernel entry (first instruction) to main(), from the TSC.
entry=()
for ((i = 0; i < runs; i++)); do
    entry+=("$("$atoll" run --mem 16M --bootstats "$guest/apps/hello/hello.img" 2>&1 >/dev/null |
        sed -n 's/.*first instruction to main() \([0-9]*\) us.*/\1/p' | awk '{ printf "%.2f", $1 / 1000 }')")
done
sample "hello first instruction to main ms" "${entry[@]}"
record "hello, first instruction to main() (in-guest TSC)" ms "$(samples "${entry[@]}")" "$none" "" - \
    "no bootstats line" "$no_counterpart"

# ------------------------------------------------------------------ size
linux_size=-
[ $linux_ok = 1 ] && linux_size=$(($(stat -c %s "$lvm/vmlinuz") + $(stat -c %s "$lvm/initrd.gz")))
for img in chello:tests/images/chello.img hello:apps/hello/hello.img httpd:apps/httpd/httpd.img; do
    s=$(stat -c %s "$guest/${img#*:}")
    record "image size ${img%%:*} (stripped)" bytes "$s" "$linux_size" "goal" 524288 "" "$no_linux"
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
    spawn "" "$@"
    pid=$spawned_pid
    t0=$(date +%s)
    while [ $(($(date +%s) - t0)) -lt "$secs" ] && kill -0 $pid 2>/dev/null; do
        if curl -s -o /dev/null -f --max-time 0.5 "$url"; then ok=0; break; fi
        sleep 0.05
    done
    unspawn $pid
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
lwhy=$no_linux
[ $linux_ok = 0 ] || lwhy="did not work even at 512 MiB"
record "smallest --mem, hello" MiB "$mh" "$lh" "goal" 4 "did not work even at 64 MiB" "$lwhy"
record "smallest --mem, httpd" MiB "$md_" "$lhd" "goal" 4 "did not work even at 128 MiB" "$lwhy"

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
a_gp=$(samples "${gp[@]}") a_gc=$(samples "${gc[@]}")
l_gp=$none l_gc=$none
if [ $linux_ok = 1 ]; then
    linux_cmd 256M syscall atoll_arg=$calls
    syscall_runs linux timeout 120 "${lcmd[@]}"
    l_gp=$(samples "${gp[@]}") l_gc=$(samples "${gc[@]}")
fi
syscall_runs host "$hostb/tests/syscallbench-host" 1000000
h_gp=$(printf '%s\n' "${gp[@]}" | median) h_gc=$(printf '%s\n' "${gc[@]}" | median)
no_line="no syscall-bench line"
record "getppid()" ns "$a_gp" "$l_gp" "host process" "$h_gp" "$no_line" "${l_gp:+$no_line}"
record "clock_gettime(CLOCK_MONOTONIC)" ns "$a_gc" "$l_gc" "host process" "$h_gc" "$no_line" "${l_gc:+$no_line}"

# ------------------------------------------------------------------ HTTP
# Boot to first response: QEMU launch until curl gets 200 from /healthz through the user-network
# forward. Short attempts: a connection made before the guest listens waits on the forwarder's
# retry timer (about 1 s), so each attempt gives up after 50 ms and a new one starts.
first_response() { # first_response NAME PORT COMMAND...: one sample in ms on stdout
    local port=$2 pid t0 t1
    shift 2
    t0=$(date +%s%N)
    spawn "" "$@"
    pid=$spawned_pid
    until curl -s -o /dev/null --max-time 0.05 "http://127.0.0.1:$port/healthz"; do
        kill -0 $pid 2>/dev/null || { unspawn $pid; echo -; return; }
        [ $((($(date +%s%N) - t0) / 1000000000)) -lt 60 ] || { unspawn $pid; echo -; return; }
        sleep 0.005
    done
    t1=$(date +%s%N)
    unspawn $pid
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
record "httpd, launch to first response" ms "$(samples "${a_fr[@]}")" "$(samples ${l_fr[@]+"${l_fr[@]}"})" \
    "empty-guest floor exit" "$floor_med" "no answer within 60 s" "$([ $linux_ok = 1 ] && echo "no answer within 60 s" || echo "$no_linux")"

# wrk over a tap device (the user-network forwarder accepts too few connections at once to
# load a server: tests/net/README.md); needs root. The tap, the guests' QEMU and wrk/curl all run
# inside a network namespace of this run's own (tests/net/lib.sh); the host process is measured
# on 127.0.0.1. Same wrk flags for all three.
wrk_flags=(-t 2 -c 64 -d 10s --latency)
wrk_runs() { # wrk_runs NS NAME URL: fills rps[] and p99[] (ms), "-" for a run without a figure
    local ns=$1 name=$2 url=$3 i o missing=0
    rps=() p99=() wrk_why=""
    for ((i = 0; i < runs; i++)); do
        o=$(in_netns "$ns" timeout -k 5 60 wrk "${wrk_flags[@]}" "$url" 2>&1)
        rps+=("$(awk '/Requests\/sec/ { print $2 }' <<<"$o")")
        p99+=("$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub("us", "", v); v /= 1000 } else if (v ~ /ms$/) { sub("ms", "", v) } else if (v ~ /s$/) { sub("s", "", v); v *= 1000 } print v }' <<<"$o")")
        [ -n "${rps[-1]}" ] || missing=$((missing + 1))
    done
    [ $missing = 0 ] || wrk_why="wrk printed no figure"
    rps=($(samples "${rps[@]}")) p99=($(samples "${p99[@]}"))
    sample "$name requests/s" "${rps[@]}"
    sample "$name p99 ms" "${p99[@]}"
}
wait_http() { # wait_http NS URL SECONDS
    local t0
    t0=$(date +%s)
    until in_netns "$1" curl -s -o /dev/null -f --max-time 1 "$2"; do
        [ $(($(date +%s) - t0)) -lt "$3" ] || return 1
        sleep 0.05
    done
}
wrk_name="HTTP wrk -t2 -c64 /index.html"
if command -v wrk >/dev/null && netns_usable; then
    log "HTTP: wrk ${wrk_flags[*]} against the host process, Atoll and the Linux microVM"
    port=$(free_port)
    www=$(mktemp -d)
    cp -r "$root/apps/httpd/rootfs/www/." "$www/"
    "$hostb/tests/httpd-host/httpd" --listen "$port" --root "$www" --no-access-log >/dev/null 2>&1 &
    host_pid=$!
    wait_http "" "http://127.0.0.1:$port/healthz" 10
    wrk_runs "" host "http://127.0.0.1:$port/index.html"
    h_rps=$(printf '%s\n' "${rps[@]}" | median) h_p99=$(printf '%s\n' "${p99[@]}" | median)
    kill $host_pid
    host_pid=""
    rm -rf "$www"

    bns=$(netns_create bench) && netns_tap "$bns" tap0 "$NETNS_HOST_IP/24" || bns=""
    # guest_wrk NAME IP SECONDS COMMAND...: starts a guest serving httpd at IP inside the
    # namespace, in a process group of its own, runs wrk against it, stops it; sets g_rps and
    # g_p99 (sample lists) and g_why (why samples are missing).
    guest_wrk() {
        local name=$1 ip=$2 secs=$3 pid
        shift 3
        g_rps=$none g_p99=$none g_why=""
        if [ -z "$bns" ]; then
            g_why="no network namespace with a tap device"
            return
        fi
        spawn "$bns" "$@"
        pid=$spawned_pid
        if wait_http "$bns" "http://$ip/healthz" "$secs"; then
            wrk_runs "$bns" "$name" "http://$ip/index.html"
            g_rps=${rps[*]} g_p99=${p99[*]} g_why=$wrk_why
        else
            g_why="httpd did not answer over the tap within $secs s"
            log "$name: $g_why"
        fi
        unspawn "$pid"
    }
    guest_wrk atoll "$NETNS_GUEST_IP" 60 "$atoll" run --mem 256M --net tap:tap0 --param "atoll.ip=$NETNS_GUEST_IP/24" \
        "$guest/apps/httpd/httpd.img" -- --no-access-log
    a_rps=$g_rps a_p99=$g_p99 a_why=$g_why
    l_rps=$none l_p99=$none l_why=$no_linux
    if [ $linux_ok = 1 ]; then
        linux_cmd 256M httpd "atoll_ip=$NETNS_GUEST2_IP/24" -- \
            -netdev "tap,id=n0,ifname=tap0,script=no,downscript=no" -device virtio-net-device,netdev=n0
        guest_wrk linux "$NETNS_GUEST2_IP" 90 "${lcmd[@]}"
        l_rps=$g_rps l_p99=$g_p99 l_why=$g_why
    fi
    netns_destroy "$bns"
    bns=""
    record "$wrk_name" "req/s" "$a_rps" "$l_rps" "host process" "$h_rps" "$a_why" "$l_why"
    record "$wrk_name, p99 latency" ms "$a_p99" "$l_p99" "host process" "$h_p99" "$a_why" "$l_why"
else
    why="skipped: needs wrk, root and /dev/net/tun (a network namespace with a tap device)"
    log "HTTP throughput: $why"
    record "$wrk_name" "req/s" "" "" "host process" - "$why" "$why"
    record "$wrk_name, p99 latency" ms "" "" "host process" - "$why" "$why"
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
    "$root/tests/bench/bench-report.sh" table "$results"
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
"$root/tests/bench/bench-report.sh" json "$results" "qemu=$qemu_version" "accelerator=$accel" "runs:=$runs" \
    "linux_microvm=$linux_pkg" >"$out/bench.json" || { log "writing bench.json failed"; exit 1; }
# med MEASURE atoll|linux_microvm: a median from bench.json, "-" when there is none (charts).
med() { jq -r --arg m "$1" --arg c "$2" '.results[] | select(.measure == $m) | .[$c].median // "-"' "$out/bench.json"; }

# Charts: boot against the floor and Linux; HTTP throughput against Linux and the host process.
charts=""
if command -v gnuplot >/dev/null; then
    bar() { [ "${2:--}" != - ] && echo "\"$1\" $2"; }
    {
        bar "floor (empty)" "$floor_med"
        bar "Atoll C hello" "$(med "boot chello, launch to exit" atoll)"
        bar "Atoll C++ hello" "$(med "boot hello, launch to exit" atoll)"
        bar "Linux /init" "$(med "boot hello, launch to exit" linux_microvm)"
        bar "Atoll httpd" "$(med "httpd, launch to first response" atoll)"
        bar "Linux httpd" "$(med "httpd, launch to first response" linux_microvm)"
    } >"$out/boot.dat"
    {
        bar "host process" "${h_rps:--}"
        bar "Atoll" "$(med "$wrk_name" atoll)"
        bar "Linux microVM" "$(med "$wrk_name" linux_microvm)"
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
