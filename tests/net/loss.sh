#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# apps/httpd over a lossy, slow, reordering link, and on a starved host. These kernels have no
# netem, so tests/net/netrelay.cpp makes the link: inside a network namespace of this script's
# own (tests/net/lib.sh),
#
#   QEMU (atoll run --net tap:tq) == tap tq (no address) == netrelay == tap th (198.18.0.1) == curl, wrk
#
# The relay drops, delays and reorders the frames of both directions with a seeded generator
# (its seed is printed: --seed replays a run's faults). Checks:
#   - a SIZE MiB download arrives intact (sha256) within --download-timeout,
#   - wrk -c64 for D seconds: 0 socket errors and 0 non-2xx answers,
#   - with --hog: the same download and wrk with both host cores kept busy by two bounded
#     busy loops,
#   - the guest still answers afterwards (/healthz and ping).
# With --linux HTTPD the same file is served by Linux instead, for comparison: HTTPD (the host
# build of apps/httpd) in a second namespace behind a veth that takes tq's place, one TCP
# segment per frame (gso_max_segs 1), through the same relay and checks.
# Every wait is bounded, so a guest that freezes is reported at the end of the step it froze
# in, with the relay's counters and the host's socket states, never waited on forever.
#
# usage: loss.sh ATOLL IMAGE NETRELAY [--size MIB] [--duration SECONDS] [--loss P]
#                [--delay MS] [--jitter MS] [--reorder P] [--reorder-gap K] [--hog]
#                [--seed N] [--download-timeout SECONDS] [--connections C] [--machine M]
#                [--mem SIZE] [--linux HTTPD]
# Defaults: 8 MiB, 10 s, loss 0.02, delay 20 ms, jitter 2 ms, reorder 0.02 behind 3 frames,
# no hog, 64 connections. Loss, delay and reordering apply to each direction. Prints ok/FAIL
# per check and "loss.sh: PASS" or "loss.sh: FAIL (...)" last. Exit status 0 pass, 1 fail,
# 77 skipped (not root, no /dev/net/tun, or no wrk).
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

usage() { sed -n 's/^# usage: //p; s/^#   *\(\[--.*\)/\1/p' "$0" >&2; exit 2; }
[ $# -ge 3 ] || usage
atoll=$1 image=$2 relay_bin=$3
shift 3
size=8 duration=10 loss=0.02 delay=20 jitter=2 reorder=0.02 gap=3 hog=0 seed=$(((RANDOM << 15) | RANDOM))
download_timeout="" conns=64 machine=microvm mem="" linux_httpd=""
while [ $# -gt 0 ]; do
    case $1 in
    --hog) hog=1; shift; continue ;;
    esac
    [ $# -ge 2 ] || usage
    case $1 in
    --size) size=$2 ;;
    --duration) duration=$2 ;;
    --loss) loss=$2 ;;
    --delay) delay=$2 ;;
    --jitter) jitter=$2 ;;
    --reorder) reorder=$2 ;;
    --reorder-gap) gap=$2 ;;
    --seed) seed=$2 ;;
    --download-timeout) download_timeout=$2 ;;
    --connections) conns=$2 ;;
    --machine) machine=$2 ;;
    --mem) mem=$2 ;;
    --linux) linux_httpd=$2 ;;
    *) usage ;;
    esac
    shift 2
done
[[ $size =~ ^[1-9][0-9]*$ && $duration =~ ^[1-9][0-9]*$ && $conns =~ ^[1-9][0-9]*$ && $seed =~ ^[0-9]+$ ]] || usage
# The guest holds the file twice (the initrd and its root file system) plus httpd's own needs.
mem=${mem:-$((2 * size + 192))M}
# A generous floor of 40 KiB/s: the time a download may take before it counts as stuck.
download_timeout=${download_timeout:-$((60 + size * 1024 / 40))}
[[ $download_timeout =~ ^[1-9][0-9]*$ ]] || usage

[ -f "$image" ] || { echo "loss.sh: no image $image" >&2; exit 1; }
[ -x "$relay_bin" ] || { echo "loss.sh: no relay $relay_bin" >&2; exit 1; }
[ -z "$linux_httpd" ] || [ -x "$linux_httpd" ] || { echo "loss.sh: no httpd $linux_httpd" >&2; exit 1; }
if ! netns_usable; then
    echo "loss.sh: SKIPPED: needs root, ip and /dev/net/tun (a namespace and two tap devices)"
    exit 77
fi
if ! command -v wrk >/dev/null; then
    echo "loss.sh: SKIPPED: wrk is not installed (toolchain/deps.sh test installs it)"
    exit 77
fi

tmp=$(mktemp -d -t atoll-loss.XXXXXX)
guest="" relay="" ns="" peer_ns="" hogs=()
stop_hogs() {
    local p
    for p in ${hogs[@]+"${hogs[@]}"}; do kill "$p" 2>/dev/null; done
    for p in ${hogs[@]+"${hogs[@]}"}; do wait "$p" 2>/dev/null; done
    hogs=()
}
cleanup() {
    local rc=$?
    stop_hogs
    stop_group "$guest"
    # SIGTERM: the relay prints its final counters into its log.
    stop_group "$relay"
    [ -z "$ns" ] || netns_destroy "$ns"
    [ -z "$peer_ns" ] || netns_destroy "$peer_ns"
    local j
    for j in $(jobs -p); do kill "$j" 2>/dev/null; done
    if [ -f "$tmp/relay.log" ]; then
        echo "---- relay (final)"
        grep -m1 'seed' "$tmp/relay.log"
        grep -E 'from-guest: in|to-guest: in|socket drops' "$tmp/relay.log" | tail -n 3
    fi
    echo "---- guest log (tail)"
    tail -n 20 "$tmp/guest.log" 2>/dev/null
    rm -rf "$tmp"
    [ $rc -lt 128 ] || echo "loss.sh: interrupted (status $rc); guest, relay, hogs and namespace removed"
}
netns_traps cleanup

failures=()
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1${2:+ ($2)}"; failures+=("$1"); }

# The file to download: random bytes, so no compression or caching hides a corrupted range.
mkdir -p "$tmp/rootfs/www"
head -c $((size * 1024 * 1024)) /dev/urandom >"$tmp/rootfs/www/big.bin"
big_sha=$(sha256sum <"$tmp/rootfs/www/big.bin" | cut -d' ' -f1)

# The namespace: tq is QEMU's (no address of its own; the relay's packet socket reads what the
# guest sends), th the clients' side. The namespace's kernel must not answer the guest on tq
# by itself: by default Linux answers ARP for any of its addresses on any interface, and the
# guest would learn tq's MAC for 198.18.0.1 and bypass the relay (arp_ignore 8: never answer
# there). No IPv6 either: router solicitations and DAD on tq would reach the guest unrelayed.
ns=$(netns_create loss) || { echo "loss.sh: SKIPPED: cannot create a network namespace here"; exit 77; }
in_netns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 ||
    { echo "loss.sh: cannot configure $ns" >&2; exit 1; }
if [ -z "$linux_httpd" ]; then
    ip -n "$ns" tuntap add tq mode tap
else
    # Linux's side: tq is a veth whose peer, in a namespace of its own, has the guest's address.
    peer_ns=$(netns_create losspeer) &&
        in_netns "$peer_ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 &&
        ip -n "$ns" link add tq type veth peer name eth0 netns "$peer_ns" &&
        ip -n "$peer_ns" link set eth0 gso_max_segs 1 &&
        ip -n "$peer_ns" addr add "$NETNS_GUEST_IP/24" dev eth0 && ip -n "$peer_ns" link set eth0 up
fi
if [ $? != 0 ] || ! in_netns "$ns" sysctl -qw net.ipv4.conf.tq.arp_ignore=8 ||
    ! ip -n "$ns" link set tq up || ! netns_tap "$ns" th "$NETNS_HOST_IP/24"; then
    echo "loss.sh: cannot make the interfaces in $ns" >&2
    exit 1
fi
url=http://$NETNS_GUEST_IP

netns_spawn "$ns" "$tmp/relay.log" "$relay_bin" --guest-if tq --host-tap th --seed "$seed" --both --drop "$loss" \
    --delay "$delay" --jitter "$jitter" --reorder "$reorder" --reorder-gap "$gap"
relay=$spawned_pid
wait_for "$tmp/relay.log" "^netrelay: ready" 10 || { echo "loss.sh: the relay did not start"; exit 1; }
echo "loss.sh: $([ -z "$linux_httpd" ] && basename "$image" || echo "Linux ($(basename "$linux_httpd"))") behind netrelay: loss $loss, delay $delay ms (jitter $jitter ms), reorder $reorder" \
    "behind $gap frames, each direction; seed $seed (--seed $seed replays it); ${size} MiB, wrk -c$conns ${duration}s$(
    [ $hog = 0 ] || echo ", then both again with both cores busy")"

if [ -z "$linux_httpd" ]; then
    netns_spawn "$ns" "$tmp/guest.log" "$atoll" run --machine "$machine" --mem "$mem" --rootfs "$tmp/rootfs" --net tap:tq \
        --param "atoll.ip=$NETNS_GUEST_IP/24" "$image" -- --no-access-log
else
    # The image's own files as well (wrk asks for /index.html).
    cp -r "$(dirname "$here")/../apps/httpd/rootfs/www/." "$tmp/rootfs/www/"
    netns_spawn "$peer_ns" "$tmp/guest.log" "$linux_httpd" --listen 80 --root "$tmp/rootfs/www" --no-access-log
fi
guest=$spawned_pid

curl_bin=$(type -P curl)
# probe: /healthz answers "ok" within 3 tries of 5 s each (a lossy link loses a SYN now and then).
probe() {
    local i
    for i in 1 2 3; do
        [ "$(in_netns "$ns" "$curl_bin" -sS --max-time 5 "$url/healthz" 2>/dev/null)" = ok ] && return 0
        sleep 1
    done
    return 1
}
relay_counters() {
    kill -USR1 "$relay" 2>/dev/null
    sleep 0.3
    grep -E 'from-guest: in|to-guest: in|socket drops' "$tmp/relay.log" | tail -n 3 | sed 's/^/    | /'
}
# hung WHAT: the guest stopped answering; what there is to know, then a failure.
hung() {
    fail "the guest still answers after $1" "no answer on /healthz; $(in_netns "$ns" timeout 10 ping -n -q -c 3 -i 0.3 -W 1 \
        "$NETNS_GUEST_IP" 2>&1 | sed -n 's/.* \([0-9]*\) received.*/ping \1\/3/p')"
    echo "    host's TCP sockets in the namespace, by state:"
    in_netns "$ns" ss -Htan 2>/dev/null | awk '{ print $1 }' | sort | uniq -c | sed 's/^/    | /'
    echo "    relay counters:"
    relay_counters
    # The state dump, where atoll run has one (SIGUSR1 would otherwise end it).
    if [ -z "$linux_httpd" ] && grep -q USR1 "$atoll"; then
        kill -USR1 "$guest" 2>/dev/null
        sleep 3
    fi
    echo "    guest log (tail):"
    tail -n 150 "$tmp/guest.log" | sed 's/^/    | /'
    (IFS=';'; echo "loss.sh: FAIL (${failures[*]})")
    exit 1
}

t0=$SECONDS
until grep -q "httpd: listening on port 80" "$tmp/guest.log" 2>/dev/null; do
    if ! kill -0 "$guest" 2>/dev/null || [ $((SECONDS - t0)) -ge 120 ]; then break; fi
    sleep 0.2
done
if ! probe; then
    fail "the guest comes up" "no answer on /healthz $((SECONDS - t0)) s after launch"
    tail -n 30 "$tmp/guest.log" | sed 's/^/    | /'
    (IFS=';'; echo "loss.sh: FAIL (${failures[*]})")
    exit 1
fi
pass "the guest answers through the relay ($((SECONDS - t0)) s after launch)"

# download WHEN: the file, checked; fails past download_timeout.
download() {
    local what=$1 out rc got
    # In the background and waited for, so that a signal to this script is handled at once.
    in_netns "$ns" "$curl_bin" -sS --max-time "$download_timeout" -o "$tmp/got.bin" \
        -w '%{http_code} %{size_download} %{time_total} %{speed_download}' "$url/big.bin" >"$tmp/curl.out" 2>"$tmp/curl.err" &
    wait $!
    rc=$?
    out=$(cat "$tmp/curl.out")
    got=$(sha256sum <"$tmp/got.bin" 2>/dev/null | cut -d' ' -f1)
    rm -f "$tmp/got.bin"
    local code bytes secs speed
    read -r code bytes secs speed <<<"$out"
    local figures="${bytes:-0} bytes in ${secs:-?} s, $(awk -v s="${speed:-0}" 'BEGIN { printf "%.0f KiB/s", s / 1024 }')"
    if [ $rc = 0 ] && [ "$code" = 200 ] && [ "$got" = "$big_sha" ]; then
        pass "$size MiB download$what: sha256 matches, $figures"
    else
        fail "$size MiB download$what" "curl status $rc, HTTP ${code:-none}, $figures, limit $download_timeout s: $(tail -n 1 "$tmp/curl.err")"
    fi
    relay_counters
    probe || hung "the download$what"
}

# load WHEN: wrk -c$conns for $duration s; 0 socket errors, 0 non-2xx. A request that waits
# for two retransmission timeouts must not count as an error: --timeout 10s (wrk's default,
# 2 s, is shorter than one of lwIP's back-offs); a frozen guest still shows as timeouts.
load() {
    local what=$1 out=$tmp/wrk.txt fig conn=0 rd=0 wr=0 to=0 n2=0 e lat
    # In the background and waited for, so that a signal to this script is handled at once.
    in_netns "$ns" timeout -k 5 $((duration + 30)) wrk -t2 -c "$conns" -d "${duration}s" --timeout 10s --latency \
        "$url/index.html" >"$out" 2>&1 &
    wait $!
    fig=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$out")
    read -r conn rd wr to < <(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$out")
    n2=$(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' "$out")
    conn=${conn:-0} rd=${rd:-0} wr=${wr:-0} to=${to:-0} n2=${n2:-0}
    e=$((conn + rd + wr + to + n2))
    lat=$(awk '$1 == "50%" || $1 == "99%" { printf "%s%s %s", sep, $1, $2; sep = ", " }' "$out")
    if [ -z "$fig" ]; then
        fail "wrk -c$conns ${duration}s$what" "no figure: $(tail -n 2 "$out" | tr '\n' ' ')"
    elif [ $e = 0 ]; then
        pass "wrk -c$conns ${duration}s$what: $fig req/s, 0 errors, latency $lat"
    else
        fail "wrk -c$conns ${duration}s$what" "$fig req/s, $e errors: connect $conn, read $rd, write $wr, timeout $to, non-2xx $n2; latency $lat"
    fi
    relay_counters
    probe || hung "wrk$what"
}

download ""
load ""
if [ $hog = 1 ]; then
    # Two busy loops, one per core, bounded by timeout even if this script is SIGKILLed.
    for _ in 1 2; do
        timeout $((download_timeout + duration + 120)) sh -c 'while :; do :; done' &
        hogs+=($!)
    done
    download " (both cores busy)"
    load " (both cores busy)"
    stop_hogs
fi

# Still alive at the end: HTTP and ICMP.
received=$(in_netns "$ns" timeout 15 ping -n -q -c 5 -i 0.3 -W 2 "$NETNS_GUEST_IP" 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
if probe && [ "${received:-0}" -gt 0 ]; then
    pass "the guest still answers afterwards (/healthz, ping ${received}/5)"
else
    hung "everything"
fi

if [ ${#failures[@]} = 0 ]; then
    echo "loss.sh: PASS"
else
    (IFS=';'; echo "loss.sh: FAIL (${failures[*]})")
    exit 1
fi
