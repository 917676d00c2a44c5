#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TCP timing where clients notice (issue 10): apps/httpd on Atoll against the same httpd in the
# Linux microVM (tests/bench/linux-vm.sh), each booted over a tap inside a network namespace of
# this script's own (tests/net/lib.sh; the tap, QEMU, tcpdump and curl all inside it, removed on
# every exit path). Measured:
#   - ACK delay: a client connects, sends a partial request line (no blank line, so httpd does
#     not answer) and waits; tcpdump on the tap gives the time from that segment to the guest's
#     first ACK covering it. Linux acknowledges within its delayed-ACK bound (40 ms) or at once
#     (quick ACK); a guest slower than the client's minimum retransmission timeout (200 ms) gets
#     the request sent twice, so retransmissions are counted too. The SYN to SYN-ACK time of the
#     same connections (an immediate reply) shows what the guest's round trip costs under this
#     accelerator, and the guest's first ACK its advertised receive window.
#   - Bulk: a 64 MiB file (DIR/www/big.bin, given to Atoll with --rootfs and packed into the
#     microVM's initramfs) downloaded with curl, MB/s (10^6 bytes per second); and in one more
#     download, under tcpdump, the largest segment the guest sends (segmentation offload or not).
# A benchmark: no verdict on a timing. It fails only when Atoll gave no figure at all; the Linux
# column is null with its reason when the microVM cannot be built or booted.
# Writes OUTDIR/tcp-timing.md (the table), OUTDIR/tcp-timing.json (tests/bench/bench-report.sh:
# always valid JSON, a missing figure is null with its reason), OUTDIR/tcp-timing-raw.txt (every
# sample) and OUTDIR/tcp-timing-NAME.pcap.txt (the ACK-delay captures, as tcpdump prints them).
#
# usage: tcp-timing.sh ATOLL IMAGE OUTDIR [LINUX_VM_DIR|none] [--samples N] [--runs N]
# LINUX_VM_DIR: where the microVM's kernel and initramfs are written (default OUTDIR/linux-vm);
# "none" measures Atoll alone. The microVM needs the host build's httpd-static and
# syscallbench-static: $ATOLL_HOST_BUILD (default build/host). --samples: ACK-delay connections
# per guest (default 20); --runs: downloads per guest (default 5).
# Exit status 0 measured, 1 Atoll could not be measured, 2 usage, 77 skipped (not root, no
# /dev/net/tun, no tcpdump, curl or jq).
set -u -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/net/lib.sh"
. "$root/tests/bench/linux-vm.sh"

usage() { sed -n 's/^# usage: //p' "$0" >&2; exit 2; }
[ $# -ge 3 ] || usage
atoll=$1 image=$2 out=$3
shift 3
lvm=$out/linux-vm
if [ $# -gt 0 ] && [[ $1 != --* ]]; then lvm=$1; shift; fi
samples=20 runs=5
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case $1 in
    --samples) samples=$2 ;;
    --runs) runs=$2 ;;
    *) usage ;;
    esac
    shift 2
done
[[ $samples =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] || usage
[ -f "$image" ] || { echo "tcp-timing.sh: no image $image" >&2; exit 1; }
for tool in tcpdump curl jq; do
    if ! command -v $tool >/dev/null; then
        echo "tcp-timing.sh: SKIPPED: $tool is not installed (toolchain/deps.sh bench installs it)"
        exit 77
    fi
done
if ! netns_usable; then
    echo "tcp-timing.sh: SKIPPED: needs root, ip and /dev/net/tun (a namespace and a tap device)"
    exit 77
fi
log() { echo "tcp-timing: $*" >&2; }

mkdir -p "$out"
tmp=$(mktemp -d -t atoll-tcp-timing.XXXXXX)
raw=$out/tcp-timing-raw.txt results=$tmp/results.tsv
: >"$raw"
: >"$results"
ns="" guest="" capture=""
cleanup() {
    local rc=$?
    stop_group "$capture"
    stop_group "$guest"
    [ -z "$ns" ] || netns_destroy "$ns"
    rm -rf "$tmp"
    [ $rc -lt 128 ] || echo "tcp-timing.sh: interrupted (status $rc); guest and namespace removed" >&2
}
netns_traps cleanup

big_mib=64
big_bytes=$((big_mib * 1048576))
# The big file: pseudo-random bytes (nothing on the way compresses them), the same file for both.
mkdir -p "$tmp/rootfs/www"
head -c "$big_bytes" /dev/urandom >"$tmp/rootfs/www/big.bin"

# ------------------------------------------------------------------ the Linux microVM
linux_ok=0 linux_pkg="not available" linux_why=""
host_build=${ATOLL_HOST_BUILD:-$root/build/host}
if [ "$lvm" = none ]; then
    linux_why="not measured (LINUX_VM_DIR=none)"
elif [ ! -x "$host_build/tests/httpd-host/httpd-static" ]; then
    linux_why="no $host_build/tests/httpd-host/httpd-static (build the host tree, or set ATOLL_HOST_BUILD)"
else
    mkdir -p "$tmp/linux-www"
    cp -r "$root/apps/httpd/rootfs/www/." "$tmp/linux-www/"
    ln "$tmp/rootfs/www/big.bin" "$tmp/linux-www/big.bin"
    if linux_pkg=$(linux_vm_prepare "$lvm" "$host_build/tests/httpd-host/httpd-static" \
        "$host_build/tests/syscallbench-static" "$tmp/linux-www"); then
        linux_ok=1
        rm -rf "$lvm/initramfs" # the unpacked tree (64 MiB more); initrd.gz holds it
        log "Linux microVM: $linux_pkg + busybox initramfs with httpd-static and big.bin"
    else
        linux_pkg="not available"
        linux_why="the Linux microVM could not be prepared (tests/bench/linux-vm.sh; see its messages)"
        log "$linux_why"
    fi
fi
[ $linux_ok = 1 ] || log "Linux microVM: $linux_why"

# ------------------------------------------------------------------ measuring one guest
ns=$(netns_create tcpt) && netns_tap "$ns" tap0 "$NETNS_HOST_IP/24" || { echo "tcp-timing.sh: cannot make the namespace"; exit 1; }
# Every connection starts like a client's first one: the namespace's kernel keeps no RTT from
# earlier connections (tcp_metrics), which would otherwise raise the client's first RTO above
# 200 ms after a few slow ACKs and hide the retransmissions counted here.
in_netns "$ns" sysctl -qw net.ipv4.tcp_no_metrics_save=1 || log "cannot turn tcp_metrics off in the namespace"

# healthy IP: /healthz answers "ok" (one short try).
healthy() { [ "$(in_netns "$ns" curl -sS --max-time 2 "http://$1/healthz" 2>/dev/null)" = ok ]; }

# ack_samples NAME IP: the partial-request connections under tcpdump; one line per connection
# on stdout: "ACK_DELAY_MS SYN_SYNACK_MS RETRANSMISSIONS WINDOW_BYTES", "-" for a figure not seen.
ack_samples() {
    local name=$1 ip=$2 pcap=$tmp/$1.pcap clog=$tmp/$1.tcpdump.log
    netns_spawn "$ns" "$clog" tcpdump -i tap0 -n -U -Z root -w "$pcap" "tcp and host $ip and port 80"
    capture=$spawned_pid
    wait_for "$clog" "listening on" 10 >&2 || { stop_group "$capture"; capture=""; return 1; }
    # Each connection: the handshake, a pause of 300-549 ms (so the partial line falls at a
    # different phase of the guest's timers each time), the request line without its CRLF (one
    # write, one segment: httpd waits for the rest), 1 s for its ACK (and
    # the client's retransmissions, which begin at 200 ms), then close. Bounded as a whole.
    in_netns "$ns" timeout -k 5 $((samples * 4 + 30)) bash -c '
        for ((i = 0; i < $2; i++)); do
            exec 3<>"/dev/tcp/$1/80" || { echo "tcp-timing: connection $i failed" >&2; sleep 1; continue; }
            sleep "0.$((300 + RANDOM % 250))"
            printf "%s" "GET /index.html HTTP/1.1" >&3
            sleep 1
            exec 3>&-
            sleep 0.1
        done' _ "$ip" "$samples" &
    wait $!
    sleep 0.3
    stop_group "$capture"
    capture=""
    tcpdump -n -tt -S -r "$pcap" 2>/dev/null >"$out/tcp-timing-$name.pcap.txt"
    # Per client port: the SYN, the guest's SYN-ACK (its window scale), the first data segment
    # (its end sequence number), retransmissions of it, the guest's first ACK covering it.
    awk -v g="$ip.80" '
        function port(a) { sub(/.*\./, "", a); return a }
        function field(re, off,   s) { if (!match($0, re)) return ""; return substr($0, RSTART + off, RLENGTH - off) }
        $2 == "IP" {
            t = $1; src = $3; dst = $5; sub(/:$/, "", dst)
            flags = field("Flags \\[[^]]*\\]", 7); sub(/\]$/, "", flags)
            len = field("length [0-9]+", 7) + 0
            if (dst == g) {
                p = port(src)
                if (flags == "S" && !(p in syn)) syn[p] = t
                if (len > 0) {
                    split(field("seq [0-9]+:[0-9]+", 4), s, ":")
                    if (!(p in first)) { first[p] = t; start[p] = s[1]; end[p] = s[2]; order[++n] = p; retx[p] = 0 }
                    else if (s[1] == start[p] && !(p in acked)) retx[p]++
                }
            } else if (src == g) {
                p = port(dst)
                if (flags ~ /S/ && (p in syn) && !(p in synack)) {
                    synack[p] = t; ws = field("wscale [0-9]+", 7); scale[p] = (ws == "" ? 0 : ws + 0)
                }
                a = field("ack [0-9]+", 4)
                if ((p in end) && !(p in acked) && a != "" && a + 0 >= end[p] + 0) {
                    acked[p] = t; win[p] = field("win [0-9]+", 4) * 2 ^ scale[p]
                }
            }
        }
        END {
            for (i = 1; i <= n; i++) {
                p = order[i]
                d = (p in acked) ? sprintf("%.2f", (acked[p] - first[p]) * 1000) : "-"
                h = (p in synack) ? sprintf("%.2f", (synack[p] - syn[p]) * 1000) : "-"
                w = (p in acked) ? win[p] : "-"
                print d, h, retx[p], w
            }
        }' "$out/tcp-timing-$name.pcap.txt"
}

# measure NAME IP BOOT_SECONDS COMMAND...: boots the guest in the namespace, measures it, stops
# it. Sets m_ack m_syn m_retx m_win m_mbs m_seg (sample lists), m_why (why figures are
# missing) and m_segwhy (why m_seg is).
measure() {
    local name=$1 ip=$2 secs=$3 glog=$tmp/$1.guest.log t0 i got=0 o code size speed
    shift 3
    m_ack="" m_syn="" m_retx="" m_win="" m_mbs="" m_seg="" m_why="" m_segwhy=""
    netns_spawn "$ns" "$glog" "$@"
    guest=$spawned_pid
    t0=$SECONDS
    until healthy "$ip"; do
        if ! kill -0 "$guest" 2>/dev/null || [ $((SECONDS - t0)) -ge "$secs" ]; then
            m_why="httpd did not answer over the tap within $secs s"
            log "$name: $m_why; the guest's log (tail):"
            tail -n 20 "$glog" | sed 's/^/    | /' >&2
            stop_group "$guest"
            guest=""
            return
        fi
        sleep 0.2
    done
    log "$name: up after $((SECONDS - t0)) s; ACK delay, $samples connections"
    ack_samples "$name" "$ip" >"$tmp/$name.samples"
    local d h r w
    while read -r d h r w; do
        got=$((got + 1))
        m_ack+="$d " m_syn+="$h " m_retx+="$r " m_win+="$w "
    done <"$tmp/$name.samples"
    [ $got = "$samples" ] || m_why="$got of $samples connections seen by tcpdump"
    echo "$name ACK delay ms: $m_ack" >>"$raw"
    echo "$name SYN to SYN-ACK ms: $m_syn" >>"$raw"
    echo "$name retransmissions of the partial request: $m_retx" >>"$raw"
    echo "$name receive window in the first ACK, bytes: $m_win" >>"$raw"
    log "$name: download of big.bin ($big_mib MiB), $runs runs"
    for ((i = 0; i < runs; i++)); do
        o=$(in_netns "$ns" curl -s -o /dev/null --max-time 120 -w '%{http_code} %{size_download} %{speed_download}' \
            "http://$ip/big.bin")
        read -r code size speed <<<"$o"
        if [ "${code:-}" = 200 ] && [ "${size:-}" = "$big_bytes" ]; then
            m_mbs+="$(awk -v s="$speed" 'BEGIN { printf "%.1f", s / 1e6 }') "
        else
            m_mbs+="- "
            log "$name: download $((i + 1)) incomplete (status ${code:-none}, ${size:-0} bytes)"
        fi
    done
    echo "$name download MB/s: $m_mbs" >>"$raw"
    # One more download, not timed, under tcpdump (headers only): the largest segment the guest
    # hands the tap. Above the MSS means segmentation offload (TSO: the host splits it).
    netns_spawn "$ns" "$tmp/$name.seg.log" tcpdump -i tap0 -n -U -Z root -s 128 -w "$tmp/$name.seg.pcap" \
        "tcp and src host $ip and src port 80"
    capture=$spawned_pid
    m_seg=-
    if wait_for "$tmp/$name.seg.log" "listening on" 10 >&2; then
        o=$(in_netns "$ns" curl -s -o /dev/null --max-time 120 -w '%{http_code} %{size_download}' "http://$ip/big.bin")
        sleep 0.3
        stop_group "$capture"
        m_seg=$(tcpdump -n -r "$tmp/$name.seg.pcap" 2>/dev/null |
            awk 'match($0, /length [0-9]+/) { l = substr($0, RSTART + 7, RLENGTH - 7) + 0; if (l > m) m = l } END { print m + 0 }')
        if [ "$m_seg" = 0 ]; then
            m_seg=- m_segwhy="no segment captured (curl: ${o:-nothing}; tcpdump: $(tail -n 3 "$tmp/$name.seg.log" | tr '\t\n' '  '))"
            log "$name: $m_segwhy"
        fi
    else
        m_segwhy="tcpdump did not start"
    fi
    stop_group "$capture"
    capture=""
    echo "$name largest segment in a download, bytes: $m_seg" >>"$raw"
    healthy "$ip" || log "$name: no answer on /healthz after the downloads"
    stop_group "$guest"
    guest=""
}

qemu_version=$(qemu-system-x86_64 --version | head -1 | awk '{print $4}')
accel=tcg
grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && [ -w /dev/kvm ] && accel=kvm

measure atoll "$NETNS_GUEST_IP" 90 "$atoll" run --mem 256M --net tap:tap0 --param "atoll.ip=$NETNS_GUEST_IP/24" \
    --rootfs "$tmp/rootfs" "$image" -- --no-access-log
a_ack=$m_ack a_syn=$m_syn a_retx=$m_retx a_win=$m_win a_mbs=$m_mbs a_seg=$m_seg a_why=$m_why
a_segwhy=${m_why:-$m_segwhy}
l_ack="" l_syn="" l_retx="" l_win="" l_mbs="" l_seg="" l_why=$linux_why l_segwhy=$linux_why
if [ $linux_ok = 1 ]; then
    mapfile -t lcmd < <(linux_vm_cmd "$lvm" 512M httpd "atoll_ip=$NETNS_GUEST2_IP/24" -- \
        -netdev "tap,id=n0,ifname=tap0,script=no,downscript=no" -device virtio-net-device,netdev=n0)
    measure linux "$NETNS_GUEST2_IP" 120 "${lcmd[@]}"
    l_ack=$m_ack l_syn=$m_syn l_retx=$m_retx l_win=$m_win l_mbs=$m_mbs l_seg=$m_seg l_why=$m_why
    l_segwhy=${m_why:-$m_segwhy}
fi
netns_destroy "$ns"
ns=""

# ------------------------------------------------------------------ report
# record NAME UNIT ATOLL_SAMPLES LINUX_SAMPLES BASELINE_NAME BASELINE_VALUE [ATOLL_WHY LINUX_WHY]:
# one row of bench-report.sh's input; the reasons default to those of measure().
record() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${7-$a_why}" "$4" "${8-$l_why}" "$5" "$6" >>"$results"
}
record "ACK delay, partial request without a reply" ms "$a_ack" "$l_ack" "goal (Linux's delayed-ACK bound)" 40
record "client retransmissions of that request, per connection" count "$a_retx" "$l_retx" "goal" 0
record "SYN to SYN-ACK (an immediate reply, for scale)" ms "$a_syn" "$l_syn" "" -
record "receive window in the guest's first ACK" bytes "$a_win" "$l_win" "" -
record "download of a $big_mib MiB file, curl" "MB/s" "$a_mbs" "$l_mbs" "" -
record "largest segment the guest sends in a download (above the MSS: TSO)" bytes "$a_seg" "$l_seg" "MSS" 1460 \
    "$a_segwhy" "$l_segwhy"

"$root/tests/bench/bench-report.sh" json "$results" "qemu=$qemu_version" "accelerator=$accel" \
    "linux_microvm=$linux_pkg" "image=$(basename "$image")" "ack_connections:=$samples" "download_runs:=$runs" \
    "download_bytes:=$big_bytes" >"$out/tcp-timing.json" || { log "writing tcp-timing.json failed"; exit 1; }
jq -e . "$out/tcp-timing.json" >/dev/null || { log "tcp-timing.json is not valid JSON"; exit 1; }
{
    echo "TCP timing, apps/httpd: QEMU $qemu_version, accelerator $accel, over a tap in a network namespace;"
    echo "Linux microVM: $linux_pkg with a busybox initramfs, -M microvm, same QEMU and accelerator."
    echo "ACK delay: $samples connections per guest, each sending a partial request line, timed by tcpdump on"
    echo "the tap from that segment to the guest's first ACK covering it. Download: $runs runs of $big_mib MiB"
    echo "(pseudo-random bytes) with curl, MB/s = 10^6 bytes/s. median (min-max); every sample: tcp-timing-raw.txt."
    echo
    "$root/tests/bench/bench-report.sh" table "$results"
} >"$out/tcp-timing.md"
cat "$out/tcp-timing.md"
echo
echo "tcp-timing.sh: wrote $out/tcp-timing.md, $out/tcp-timing.json, $out/tcp-timing-raw.txt"
med() { jq -r --arg m "$1" '.results[] | select(.measure == $m) | .atoll.median // "-"' "$out/tcp-timing.json"; }
if [ "$(med "ACK delay, partial request without a reply")" = - ] || [ "$(med "download of a $big_mib MiB file, curl")" = - ]; then
    echo "tcp-timing.sh: FAIL (no figure for Atoll: ${a_why:-see above})"
    exit 1
fi
echo "tcp-timing.sh: done"
