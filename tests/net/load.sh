#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Load test of apps/httpd, and the regression test of issue 10's freeze: the image is booted N
# fresh times per mode, and each boot takes `wrk` at -c64 and then at -c256 for D seconds. After
# every wrk run the guest must still answer: curl /healthz (short timeouts, a few tries) and, over
# a tap, ping. A guest that no longer answers is a hang: before it is killed, atoll run is asked
# for a state dump (SIGUSR1: the guest's threads and queues on atoll run's stderr, where that
# exists) and the tail of the guest's log is printed.
#
# Modes:
#   tap   a tap device inside a network namespace of this script's own (tests/net/lib.sh): the
#         tap, QEMU and wrk/curl/ping all inside it, a fresh namespace per boot. Fails on any
#         hang and on any wrk socket error (connect, read, write, timeout) or non-2xx answer.
#   user  QEMU's user network with a port forward, wrk on 127.0.0.1 (inside a namespace too when
#         root, so the forward listens nowhere else). Fails on a hang; socket errors are
#         reported but allowed: QEMU's forwarder accepts only a few connections at once
#         (tests/net/README.md), so those errors are QEMU's.
# Every wait is bounded (boot 90 s, wrk D+30 s, each probe a few seconds), so a frozen guest is
# found at the end of the wrk run it froze in, never waited on forever.
#
# usage: load.sh ATOLL IMAGE [--boots N] [--duration SECONDS] [--modes tap,user]
#                [--connections 64,256] [--threads T] [--machine microvm] [--mem 256M]
# Prints one line per boot and a summary per mode; the last line is "load.sh: PASS" or
# "load.sh: FAIL (...)". Exit status 0 pass, 1 fail, 77 skipped (tap mode without root or
# /dev/net/tun, or no wrk).
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

usage() { sed -n 's/^# usage: //p; s/^#   *\(\[--.*\)/\1/p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
atoll=$1 image=$2
shift 2
boots=2 duration=8 modes=tap conns=64,256 threads=2 machine=microvm mem=256M
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case $1 in
    --boots) boots=$2 ;;
    --duration) duration=$2 ;;
    --modes) modes=$2 ;;
    --connections) conns=$2 ;;
    --threads) threads=$2 ;;
    --machine) machine=$2 ;;
    --mem) mem=$2 ;;
    *) usage ;;
    esac
    shift 2
done
[[ $boots =~ ^[1-9][0-9]*$ && $duration =~ ^[1-9][0-9]*$ && $threads =~ ^[1-9][0-9]*$ ]] || usage
IFS=, read -r -a mode_list <<<"$modes"
IFS=, read -r -a conn_list <<<"$conns"
for m in "${mode_list[@]}"; do [[ $m = tap || $m = user ]] || usage; done
for c in "${conn_list[@]}"; do [[ $c =~ ^[1-9][0-9]*$ ]] || usage; done

[ -f "$image" ] || { echo "load.sh: no image $image" >&2; exit 1; }
if ! command -v wrk >/dev/null; then
    echo "load.sh: SKIPPED: wrk is not installed (toolchain/deps.sh test installs it)"
    exit 77
fi
if [[ ,$modes, == *,tap,* ]] && ! netns_usable; then
    echo "load.sh: SKIPPED: tap mode needs root, ip and /dev/net/tun (a namespace and a tap device)"
    exit 77
fi

tmp=$(mktemp -d -t atoll-load.XXXXXX)
guest="" ns=""
cleanup() {
    local rc=$?
    stop_group "$guest"
    [ -z "$ns" ] || netns_destroy "$ns"
    local j
    for j in $(jobs -p); do kill "$j" 2>/dev/null; done
    rm -rf "$tmp"
    [ $rc -lt 128 ] || echo "load.sh: interrupted (status $rc); guest and namespace removed"
}
netns_traps cleanup

curl_bin=$(type -P curl)
# probe URL: the guest's /healthz answers "ok" within 3 tries of 4 s each.
probe() {
    local i
    for i in 1 2 3; do
        [ "$(in_netns "$ns" "$curl_bin" -sS --max-time 4 "$1/healthz" 2>/dev/null)" = ok ] && return 0
        sleep 1
    done
    return 1
}
# median_etc: numbers on stdin -> "median (min-max)", or "-" for none.
median_etc() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else printf "%d (%d-%d)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

declare -A rps_by    # "mode c" -> requests/s figures, one per line
declare -A total     # "mode what" -> count; what: boots hangs nostart crashes connect read write timeout non2xx nofigure
add() { total[$1 $2]=$((${total[$1 $2]:-0} + $3)); }

# one_boot MODE I: boots the guest, loads it at each connection count, checks it after each.
one_boot() {
    local mode=$1 i=$2 log=$tmp/guest-$1-$2.log url line c out fig e hung=0 t0
    add "$mode" boots 1
    if [ "$mode" = tap ]; then
        ns=$(netns_create load) && netns_tap "$ns" tap0 "$NETNS_HOST_IP/24" || { echo "load.sh: cannot make the namespace"; exit 1; }
        netns_spawn "$ns" "$log" "$atoll" run --machine "$machine" --mem "$mem" --net tap:tap0 \
            --param "atoll.ip=$NETNS_GUEST_IP/24" "$image" -- --no-access-log
        url=http://$NETNS_GUEST_IP
    else
        local port=8080
        if netns_usable; then
            ns=$(netns_create loaduser) || { echo "load.sh: cannot make the namespace"; exit 1; }
        else
            ns="" port=$(free_port)
        fi
        netns_spawn "$ns" "$log" "$atoll" run --machine "$machine" --mem "$mem" --port "$port:80" \
            "$image" -- --no-access-log
        url=http://127.0.0.1:$port
    fi
    guest=$spawned_pid
    line="load: $mode boot $i/$boots:"
    t0=$SECONDS
    until grep -q "httpd: listening on port 80" "$log" 2>/dev/null; do
        if ! kill -0 "$guest" 2>/dev/null || [ $((SECONDS - t0)) -ge 90 ]; then break; fi
        sleep 0.2
    done
    if ! probe "$url"; then
        add "$mode" nostart 1
        echo "$line did not come up (no answer on /healthz $((SECONDS - t0)) s after launch)"
        tail -n 30 "$log" | sed 's/^/    | /'
        finish_boot
        return
    fi
    for c in "${conn_list[@]}"; do
        out=$tmp/wrk-$mode-$i-$c.txt
        # In the background and waited for, so that a signal to this script is handled at once.
        in_netns "$ns" timeout -k 5 $((duration + 30)) wrk -t "$threads" -c "$c" -d "${duration}s" "$url/index.html" \
            >"$out" 2>&1 &
        wait $!
        fig=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' "$out")
        local conn=0 rd=0 wr=0 to=0 n2=0
        read -r conn rd wr to < <(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$out")
        n2=$(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' "$out")
        conn=${conn:-0} rd=${rd:-0} wr=${wr:-0} to=${to:-0} n2=${n2:-0}
        add "$mode" connect "$conn"; add "$mode" read "$rd"; add "$mode" write "$wr"; add "$mode" timeout "$to"
        add "$mode" non2xx "$n2"
        e=$((conn + rd + wr + to + n2))
        if [ -n "$fig" ]; then
            rps_by[$mode $c]+="$fig"$'\n'
            line+=" c$c $fig req/s, errors $e"
            [ $e = 0 ] || line+=" (connect $conn, read $rd, write $wr, timeout $to, non-2xx $n2)"
        else
            add "$mode" nofigure 1
            line+=" c$c: wrk gave no figure ($(tail -n 1 "$out"))"
        fi
        # Still alive? HTTP first (the verdict), then ICMP over the tap (to tell a dead stack
        # from a dead HTTP server).
        local ping_res=""
        if [ "$mode" = tap ]; then
            ping_res=$(in_netns "$ns" timeout 10 ping -n -q -c 3 -i 0.3 -W 1 "$NETNS_GUEST_IP" 2>&1 |
                sed -n 's/.* \([0-9]*\) received.*/ping \1\/3/p')
            ping_res=${ping_res:-ping failed}
        fi
        if ! probe "$url"; then
            hung=1
            line+=" | HANG after c$c: no answer on /healthz${ping_res:+, $ping_res}"
            break
        fi
        line+="${ping_res:+ ($ping_res)} |"
    done
    if [ $hung = 1 ]; then
        add "$mode" hangs 1
        echo "$line"
        if [ -n "$ns" ]; then
            echo "    host's TCP sockets in the namespace, by state:"
            in_netns "$ns" ss -Htan 2>/dev/null | awk '{ print $1 }' | sort | uniq -c | sed 's/^/    | /'
        fi
        # The state dump (atoll run prints it on its stderr, i.e. into the log); harmless where
        # atoll run does not have it yet.
        kill -USR1 "$guest" 2>/dev/null
        sleep 3
        local from
        from=$(grep -n 'atoll-dump-begin' "$log" | tail -n 1 | cut -d: -f1)
        if [ -n "$from" ]; then
            echo "    guest log: the last lines before the state dump, and the dump (SIGUSR1 to atoll run):"
            tail -n "+$((from > 20 ? from - 20 : 1))" "$log" | head -n 600 | sed 's/^/    | /'
        else
            echo "    guest log (tail; atoll run printed no state dump after SIGUSR1):"
            tail -n 40 "$log" | sed 's/^/    | /'
        fi
    else
        echo "${line% |} | healthy"
    fi
    if grep -qiE 'panic|triple fault' "$log"; then
        add "$mode" crashes 1
        echo "    the guest log reports a crash:"
        grep -iE -m 5 'panic|triple fault' "$log" | sed 's/^/    | /'
    fi
    finish_boot
}
finish_boot() {
    stop_group "$guest"
    guest=""
    [ -z "$ns" ] || netns_destroy "$ns"
    ns=""
}

echo "load.sh: $(basename "$image"), $boots boots per mode, wrk -t$threads -c{${conns}} -d${duration}s /index.html, modes $modes"
verdict=()
for mode in "${mode_list[@]}"; do
    for ((b = 1; b <= boots; b++)); do one_boot "$mode" "$b"; done
    g() { echo "${total[$mode $1]:-0}"; }
    errs=$(($(g connect) + $(g read) + $(g write) + $(g timeout) + $(g non2xx)))
    s="load: $mode summary: $(g boots) boots, $(g hangs) hangs, $(g nostart) did not come up, $(g crashes) crashed;"
    s+=" socket errors $errs (connect $(g connect), read $(g read), write $(g write), timeout $(g timeout), non-2xx $(g non2xx))"
    [ "$(g nofigure)" = 0 ] || s+=", $(g nofigure) wrk runs without a figure"
    for c in "${conn_list[@]}"; do s+="; c$c req/s $(printf '%s' "${rps_by[$mode $c]:-}" | grep . | median_etc)"; done
    echo "$s"
    [ "$(g hangs)" = 0 ] || verdict+=("$mode: $(g hangs) hangs in $(g boots) boots")
    [ "$(g nostart)" = 0 ] || verdict+=("$mode: $(g nostart) boots did not come up")
    [ "$(g crashes)" = 0 ] || verdict+=("$mode: $(g crashes) crashes")
    [ "$(g nofigure)" = 0 ] || verdict+=("$mode: $(g nofigure) wrk runs without a figure")
    if [ "$mode" = tap ] && [ $errs != 0 ]; then verdict+=("tap: $errs socket errors"); fi
    if [ "$mode" = user ] && [ $errs != 0 ]; then
        echo "load: user-network socket errors are reported, not failed on (QEMU's forwarder accepts few connections at once)"
    fi
done
if [ ${#verdict[@]} = 0 ]; then
    echo "load.sh: PASS"
else
    (IFS=';'; echo "load.sh: FAIL (${verdict[*]})")
    exit 1
fi
