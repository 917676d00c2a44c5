#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The soak benchmark (issue 10): 10^6 HTTP requests from 256 connections at once against
# apps/httpd (--no-access-log) over a tap, inside a network namespace of this script's own
# (tests/net/lib.sh: the tap, QEMU and loadgen all inside it, removed on every exit path).
# Part of the requests go over keep-alive connections, the rest over a new connection each
# ("Connection: close"). Both alternate in ROUNDS rounds; after each round the guest is left to
# close its connections (TIME_WAIT lasts 2 s: TCP_MSL is 1 s) and its state dump is read
# (`atoll dump PID`: kernel/src/dump.cpp, net/lwip_port/dump.cpp) for the memory in use, the
# kernel heap in use and the TCP PCBs by state. One more dump is read in the middle of the last
# new-connection run, under load. loadgen reports each part's rate, its latencies (request sent
# to response received) and the time its connections took to be established.
#
# The split, measured on the 2-core machine this was written on (QEMU 7.2 TCG, another guest
# running alongside): keep-alive ~7,500 req/s, a new connection per request ~1,200 req/s. The
# default is 750,000 keep-alive + 250,000 new-connection requests, i.e. ~100 s + ~210 s of load,
# plus boot and the dumps: ~6 minutes, so that a machine twice as busy still finishes within
# ~10 minutes. The new-connection share is the largest that fits that budget, because each of
# those requests is a whole TCP life cycle in the guest (accept, close, TIME_WAIT, the PCB and
# its pbufs freed): 250,000 of them is where a leak per connection shows.
#
# Fails (exit 1) on:
#  - any request error (loadgen: connect, read, timeout, malformed or non-200 answer), or httpd's
#    own request count (/api/info requests_served) differing from the requests answered;
#  - kernel heap growth (end minus start) above HEAP_MARGIN (32 KiB). The heap is exact: every
#    kmalloc'd object counted at its size class, lwIP's pools come from it with no cache of their
#    own (MEMP_MEM_MALLOC), so once the connections are gone it returns to its idle value (it did
#    to the byte in the runs this was written with). The margin covers what may be in flight at
#    the moment of a dump (a few 2 KiB pbufs: ARP, a late segment); a leak of a single 16-byte
#    object per connection would be 4 MB here, one 256-byte PCB per 2,000 connections 32 KiB;
#  - growth of the memory in use (pages: kernel, stacks, the application's own heap) above
#    MEM_MARGIN (256 KiB): the application's allocator may keep some freed memory for reuse
#    (64 pages), but nothing that scales with 10^6 requests;
#  - more than MAX_STUCK (2) TCP PCBs in states other than LISTEN/TIME_WAIT once the guest was
#    given up to 30 s to close them after the last round (or httpd still holding more than that
#    many connections besides the one asking), every such PCB printed;
#  - a state dump that could not be read at start or end (memory cannot be shown not to grow),
#    a guest that did not come up, a panic in its log.
#
# Writes OUTDIR/soak.md (a small table) and OUTDIR/soak.json (tests/bench/bench-report.sh, the
# bench.json writer: always valid JSON, a missing figure is null with its reason), prints the
# figures. Exit status 0 pass, 1 fail, 77 skipped (not root or no /dev/net/tun).
#
# usage: soak.sh ATOLL IMAGE LOADGEN OUTDIR [--keepalive N] [--new-connection N] [--rounds R]
#                [--connections C] [--mem 256M]
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../net/lib.sh"

usage() { sed -n 's/^# usage: //p; s/^#   *\(\[--.*\)/\1/p' "$0" >&2; exit 2; }
[ $# -ge 4 ] || usage
atoll=$1 image=$2 loadgen=$3 outdir=$4
shift 4
ka_total=750000 nc_total=250000 rounds=5 conns=256 mem=256M
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || usage
    case $1 in
    --keepalive) ka_total=$2 ;;
    --new-connection) nc_total=$2 ;;
    --rounds) rounds=$2 ;;
    --connections) conns=$2 ;;
    --mem) mem=$2 ;;
    *) usage ;;
    esac
    shift 2
done
for v in "$ka_total" "$nc_total"; do [[ $v =~ ^[0-9]+$ ]] || usage; done
[[ $rounds =~ ^[1-9][0-9]*$ && $conns =~ ^[1-9][0-9]*$ ]] || usage
# The limits (see above); the environment may change them (SOAK_HEAP_MARGIN=-1 makes a run fail,
# to see that it can).
HEAP_MARGIN=${SOAK_HEAP_MARGIN:-$((32 * 1024))} MEM_MARGIN=${SOAK_MEM_MARGIN:-$((256 * 1024))}
MAX_STUCK=${SOAK_MAX_STUCK:-2} DRAIN_S=30
for v in "$HEAP_MARGIN" "$MEM_MARGIN" "$MAX_STUCK"; do [[ $v =~ ^-?[0-9]+$ ]] || usage; done

[ -f "$image" ] || { echo "soak.sh: no image $image" >&2; exit 1; }
[ -x "$loadgen" ] || { echo "soak.sh: no loadgen $loadgen" >&2; exit 1; }
command -v jq >/dev/null || { echo "soak.sh: needs jq (toolchain/deps.sh bench installs it)" >&2; exit 1; }
if ! netns_usable; then
    echo "soak.sh: SKIPPED: needs root, ip and /dev/net/tun (a namespace and a tap device)"
    exit 77
fi
mkdir -p "$outdir" || exit 1

tmp=$(mktemp -d -t atoll-soak.XXXXXX)
guest="" ns="" lg=""
cleanup() {
    local rc=$?
    [ -z "$lg" ] || kill "$lg" 2>/dev/null
    stop_group "$guest"
    [ -z "$ns" ] || netns_destroy "$ns"
    rm -rf "$tmp"
    [ $rc -lt 128 ] || echo "soak.sh: interrupted (status $rc); guest and namespace removed"
}
netns_traps cleanup
t_start=$SECONDS
failures=()
fail() { failures+=("$1"); echo "soak: FAIL: $1"; }

# ---------------------------------------------------------------- the guest's state dump
# dump FILE: the guest's state dump into FILE; false (the reason in dump_why) when none came.
dump_why=""
dump() {
    local err
    if err=$("$atoll" dump "$guest" --wait 20 2>&1 >"$1"); then
        [ -s "$1" ] && grep -q '^memory-in-use-bytes ' "$1" && return 0
        dump_why="the state dump had no memory line"
    else
        dump_why="no state dump: ${err##*error: }"
    fi
    dump_why=${dump_why//$'\n'/ }
    return 1
}
# Figures of a dump FILE ("" when absent).
dump_mem() { sed -n 's/^memory-in-use-bytes \([0-9]*\)$/\1/p' "$1" 2>/dev/null | head -n1; }
dump_heap() { sed -n 's/^memory: .*kernel heap \([0-9]*\) bytes in use.*/\1/p' "$1" 2>/dev/null | head -n1; }
# "LISTENING ACTIVE TIME_WAIT" from the dump's summary line.
dump_pcbs() { sed -n 's/^tcp pcbs: \([0-9]*\) listening, \([0-9]*\) active, \([0-9]*\) in TIME_WAIT$/\1 \2 \3/p' "$1" 2>/dev/null | head -n1; }
# PCB lines by state: "STATE COUNT" lines, and "not_listed COUNT" for those beyond the dump's
# list (it lists 2048 PCBs at most; its "tcp pcbs:" line counts them all).
dump_states() {
    awk '/^  tcp / { s = ($3 ~ /^LISTEN/) ? "LISTEN" : $4; sub(/,$/, "", s); n[s]++ }
         /^  [.][.][.] [0-9]+ more PCBs not shown/ { n["not_listed"] += $2 }
         END { for (s in n) print s, n[s] }' "$1" 2>/dev/null | sort
}
# "L listening, A active, W in TIME_WAIT" as the dump counts them, or "-".
pcb_totals() {
    local l a w
    read -r l a w <<<"$(dump_pcbs "$1")"
    [ -n "$w" ] && echo "$l listening, $a active, $w in TIME_WAIT" || echo -
}
# PCB lines in states other than LISTEN and TIME_WAIT.
dump_stuck() { awk '/^  tcp / && $3 !~ /^LISTEN/ && $4 != "TIME_WAIT," { print }' "$1" 2>/dev/null; }

# settle_dump FILE: waits (up to DRAIN_S) for the guest to have no connection left but its
# listener, then leaves its last dump in FILE. False when no dump could be read at all.
settle_dump() {
    local file=$1 t0=$SECONDS got=1 a w
    while :; do
        if dump "$file.try"; then
            mv -f "$file.try" "$file"
            got=0
            read -r _ a w <<<"$(dump_pcbs "$file")"
            [ "${a:-1}" != 0 ] || [ "${w:-1}" != 0 ] || break
        fi
        [ $((SECONDS - t0)) -lt $DRAIN_S ] || break
        sleep 1
    done
    return $got
}

# ---------------------------------------------------------------- figures
# fmt_mib BYTES: "2.2 MiB"
fmt_mib() { [ -n "$1" ] && awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }' || echo -; }
# median, maximum of the numbers on stdin ("-" for none)
med() { grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
maxof() { grep -E '^[0-9.]+$' | sort -g | tail -n1 | grep . || echo -; }

# Per part (ka, nc): sums and per-round samples.
declare -A ok=([ka]=0 [nc]=0) want=([ka]=0 [nc]=0) secs=([ka]=0 [nc]=0) rps p50 p99 pmax cp50 cp99 cmax
mem_rounds="" heap_rounds=""

part_name() { [ "$1" = ka ] && echo "keep-alive" || echo "new connection per request"; }

# run_part PART REQUESTS ROUND: one loadgen run, its figures added to PART's.
run_part() {
    local part=$1 n=$2 round=$3 out=$tmp/loadgen-$1-$3.txt args=() limit line rc
    [ "$n" -gt 0 ] || return 0
    if [ "$part" = nc ]; then
        args=(--new-connection --path /index.html)
        limit=$((n / 200 + 60)) # a floor of 200 req/s: a stall ends as errors, not as a hang
    else
        args=(--path /index.html)
        limit=$((n / 1000 + 60))
    fi
    in_netns "$ns" timeout -k 5 $((limit + 30)) "$loadgen" --host "$NETNS_GUEST_IP" --port 80 --concurrency "$conns" \
        --total "$n" --timeout "$limit" --progress 30 "${args[@]}" >"$out" 2>&1 &
    lg=$!
    # The dump under load: 5 s into the last round's new-connection run.
    if [ "$part" = nc ] && [ "$round" = "$rounds" ]; then
        for _ in $(seq 5); do kill -0 "$lg" 2>/dev/null || break; sleep 1; done
        if kill -0 "$lg" 2>/dev/null; then
            dump "$tmp/dump-load.txt" || load_why=$dump_why
        else
            load_why="the run ended within 5 s"
        fi
    fi
    wait "$lg"
    rc=$?
    lg=""
    want[$part]=$((${want[$part]} + n))
    line=$(grep '^loadgen: [0-9]*/[0-9]* ok' "$out" | tail -n1)
    grep -v '^loadgen: [0-9]*/[0-9]* ok' "$out" | grep -v '^loadgen: progress' | head -n 12 | sed 's/^/    | /'
    if [ -z "$line" ]; then
        echo "soak: round $round $part: loadgen gave no result (status $rc): $(tail -n1 "$out")"
        rps[$part]+="- " p50[$part]+="- " p99[$part]+="- " pmax[$part]+="- " cp50[$part]+="- " cp99[$part]+="- " cmax[$part]+="- "
        return
    fi
    echo "soak: round $round/$rounds $(part_name "$part"): ${line#loadgen: }"
    local good s r a b c
    good=$(sed -n 's/^loadgen: \([0-9]*\)\/.*/\1/p' <<<"$line")
    s=$(sed -n 's/.*, \([0-9.]*\) s, .*/\1/p' <<<"$line")
    r=$(sed -n 's/.* \([0-9.]*\) requests\/s.*/\1/p' <<<"$line")
    read -r a b c < <(sed -n 's/.*latency ms p50 \([0-9.]*\) p99 \([0-9.]*\) max \([0-9.]*\).*/\1 \2 \3/p' <<<"$line")
    ok[$part]=$((${ok[$part]} + ${good:-0}))
    secs[$part]=$(awk -v x="${secs[$part]}" -v y="${s:-0}" 'BEGIN { print x + y }')
    rps[$part]+="${r:--} " p50[$part]+="${a:--} " p99[$part]+="${b:--} " pmax[$part]+="${c:--} "
    # The time connections took to be established (loadgen's "N connects, ms p50 A p99 B max C").
    read -r a b c < <(sed -n 's/.* connects, ms p50 \([0-9.]*\) p99 \([0-9.]*\) max \([0-9.]*\).*/\1 \2 \3/p' <<<"$line")
    cp50[$part]+="${a:--} " cp99[$part]+="${b:--} " cmax[$part]+="${c:--} "
}

# ---------------------------------------------------------------- the run
total=$((ka_total + nc_total))
echo "soak.sh: $(basename "$image"), $total requests from $conns connections at once: $ka_total keep-alive," \
    "$nc_total with a new connection each, in $rounds rounds; memory and TCP PCBs from the guest's state dump"
ns=$(netns_create soak) && netns_tap "$ns" tap0 "$NETNS_HOST_IP/24" || { echo "soak.sh: cannot make the namespace"; exit 1; }
log=$tmp/guest.log
netns_spawn "$ns" "$log" "$atoll" run --machine microvm --mem "$mem" --net tap:tap0 \
    --param "atoll.ip=$NETNS_GUEST_IP/24" "$image" -- --no-access-log
guest=$spawned_pid
url=http://$NETNS_GUEST_IP
curl_bin=$(type -P curl)
# get PATH: one request of this script's own (counted: httpd's request count must add up).
probes=0
get() { in_netns "$ns" "$curl_bin" -sS --max-time 10 "$url$1"; }
probes=$((probes + 1))
if ! wait_for "$log" "httpd: listening on port 80" 90 >/dev/null 2>&1 || [ "$(get /healthz)" != ok ]; then
    echo "soak.sh: FAIL (the guest did not come up)"
    tail -n 30 "$log" | sed 's/^/    | /'
    exit 1
fi

start_why="" end_why="" load_why=""
settle_dump "$tmp/dump-start.txt" || start_why=$dump_why
mem_start=$(dump_mem "$tmp/dump-start.txt") heap_start=$(dump_heap "$tmp/dump-start.txt")
echo "soak: start: memory in use $(fmt_mib "$mem_start") (${mem_start:-$start_why}), kernel heap ${heap_start:--} bytes"

t_load=$SECONDS
for ((r = 1; r <= rounds; r++)); do
    # This round's share: the remainder goes to the first rounds.
    ka=$((ka_total / rounds + (r <= ka_total % rounds))) nc=$((nc_total / rounds + (r <= nc_total % rounds)))
    run_part ka "$ka" "$r"
    run_part nc "$nc" "$r"
    if settle_dump "$tmp/dump-round.txt"; then
        m=$(dump_mem "$tmp/dump-round.txt") h=$(dump_heap "$tmp/dump-round.txt")
        read -r pl pa pw <<<"$(dump_pcbs "$tmp/dump-round.txt")"
        echo "soak: after round $r: memory in use $m bytes, kernel heap $h bytes, tcp pcbs: $pl listening, $pa active, $pw in TIME_WAIT"
        cp "$tmp/dump-round.txt" "$tmp/dump-end.txt"
        end_why=""
    else
        m=- h=-
        end_why=$dump_why
        echo "soak: after round $r: $dump_why"
    fi
    mem_rounds+="$m " heap_rounds+="$h "
done
load_s=$((SECONDS - t_load))

# ---------------------------------------------------------------- verdict
probes=$((probes + 1))
info=$(get /api/info)
served=$(jq -r '.requests_served // empty' <<<"$info" 2>/dev/null)
open_conns=$(jq -r '.connections_open // empty' <<<"$info" 2>/dev/null)
answered=$((ok[ka] + ok[nc]))
errors=$((want[ka] + want[nc] - answered))
mem_end=$(dump_mem "$tmp/dump-end.txt") heap_end=$(dump_heap "$tmp/dump-end.txt")
[ -n "$mem_end" ] || end_why=${end_why:-no state dump after the last round}
[ $errors = 0 ] || fail "$errors of $total requests failed"
if [ -z "$served" ]; then
    fail "no answer from /api/info after the load: $info"
elif [ "$served" != $((answered + probes)) ]; then
    # Every request httpd handled is one loadgen saw answered, or one of this script's probes.
    fail "httpd counted $served requests, loadgen saw $answered answered (+ $probes probes)"
fi
mem_growth="" heap_growth=""
if [ -n "$mem_start" ] && [ -n "$mem_end" ]; then
    mem_growth=$((mem_end - mem_start)) heap_growth=$((heap_end - heap_start))
    [ $heap_growth -le $HEAP_MARGIN ] || fail "kernel heap grew by $heap_growth bytes (allowed $HEAP_MARGIN)"
    [ $mem_growth -le $MEM_MARGIN ] || fail "memory in use grew by $mem_growth bytes (allowed $MEM_MARGIN)"
else
    fail "memory cannot be compared: ${start_why:+start: $start_why; }${end_why:+end: $end_why}"
fi
stuck=$(dump_stuck "$tmp/dump-end.txt")
# The dump's own count of active PCBs (every state but LISTEN and TIME_WAIT), which does not
# stop at the length of its list; the lines listed otherwise.
read -r _ n_stuck _ <<<"$(dump_pcbs "$tmp/dump-end.txt")"
[ -n "$n_stuck" ] || n_stuck=$(grep -c . <<<"$stuck")
states_end=$(dump_states "$tmp/dump-end.txt")
[ "$n_stuck" -le $MAX_STUCK ] || fail "$n_stuck TCP PCBs neither LISTEN nor TIME_WAIT $DRAIN_S s after the load"
if [ -n "$open_conns" ] && [ $((open_conns - 1)) -gt $MAX_STUCK ]; then
    fail "httpd still holds $((open_conns - 1)) connections after the load"
fi
if grep -qiE 'panic|triple fault' "$log"; then
    fail "the guest log reports a crash: $(grep -iE -m1 'panic|triple fault' "$log")"
fi
duration=$((SECONDS - t_start))

# ---------------------------------------------------------------- figures out
# Overall rate of a part: its answered requests over the seconds loadgen ran.
overall() { awk -v n="${ok[$1]}" -v s="${secs[$1]}" 'BEGIN { if (s > 0 && n > 0) printf "%.0f", n / s; else print "-" }'; }
words() { tr ' ' '\n' <<<"$1" | grep .; }
pcb_line() { # "1 LISTEN, 3 TIME_WAIT" from "STATE COUNT" lines
    [ -n "$1" ] && awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }' <<<"$1" || echo "-"
}
load_pcbs=$(dump_states "$tmp/dump-load.txt" 2>/dev/null)
mem_load=$(dump_mem "$tmp/dump-load.txt" 2>/dev/null) heap_load=$(dump_heap "$tmp/dump-load.txt" 2>/dev/null)
[ -n "$mem_load" ] || load_why=${load_why:-no dump under load}

echo
echo "soak: figures"
for part in ka nc; do
    name=$(part_name $part)
    echo "  $name: ${ok[$part]}/${want[$part]} answered in ${secs[$part]} s, $(overall $part) requests/s" \
        "(per round $(words "${rps[$part]}" | paste -sd' ')); latency ms p50 $(words "${p50[$part]}" | med)" \
        "(median of rounds), p99 $(words "${p99[$part]}" | maxof), max $(words "${pmax[$part]}" | maxof) (worst round);" \
        "connect ms p50 $(words "${cp50[$part]}" | med), p99 $(words "${cp99[$part]}" | maxof), max $(words "${cmax[$part]}" | maxof)"
done
echo "  errors: $errors"
echo "  memory in use (pages): start $mem_start, end $mem_end, growth ${mem_growth:--} bytes (allowed $MEM_MARGIN); after each round: $mem_rounds"
echo "  kernel heap in use: start $heap_start, end $heap_end, growth ${heap_growth:--} bytes (allowed $HEAP_MARGIN); after each round: $heap_rounds"
echo "  under load (last round, new connections): memory in use ${mem_load:-- ($load_why)}, kernel heap ${heap_load:--}," \
    "tcp pcbs $(pcb_totals "$tmp/dump-load.txt") (listed: $(pcb_line "$load_pcbs"))"
echo "  tcp pcbs at the end: $(pcb_line "$states_end"); neither LISTEN nor TIME_WAIT: $n_stuck (allowed $MAX_STUCK)"
[ -z "$stuck" ] || sed 's/^/    | /' <<<"$stuck"
echo "  httpd: $served requests served (loadgen answered $answered + $probes probes), ${open_conns:--} connections open (the one asking included)"
echo "  time: $duration s in all, $load_s s of rounds"

# soak.json through the bench.json writer: one measure per line, samples per round.
t=$'\t'
only="soak runs Atoll only"
results=$tmp/results.tsv
{
    for part in ka nc; do
        name=$(part_name $part)
        why="no figure from loadgen"
        echo "soak $name, $conns connections, per round${t}req/s${t}${rps[$part]% }${t}$why${t}${t}$only${t}${t}"
        echo "soak $name, p50 latency per round${t}ms${t}${p50[$part]% }${t}$why${t}${t}$only${t}${t}"
        echo "soak $name, p99 latency per round${t}ms${t}${p99[$part]% }${t}$why${t}${t}$only${t}${t}"
        echo "soak $name, max latency per round${t}ms${t}${pmax[$part]% }${t}$why${t}${t}$only${t}${t}"
        echo "soak $name, p50 connect time per round${t}ms${t}${cp50[$part]% }${t}$why${t}${t}$only${t}${t}"
        echo "soak $name, p99 connect time per round${t}ms${t}${cp99[$part]% }${t}$why${t}${t}$only${t}${t}"
        echo "soak $name, max connect time per round${t}ms${t}${cmax[$part]% }${t}$why${t}${t}$only${t}${t}"
        echo "soak $name, overall${t}req/s${t}$(overall $part)${t}no request answered${t}${t}$only${t}${t}"
    done
    echo "soak errors${t}requests${t}$errors${t}${t}${t}$only${t}${t}"
    echo "soak memory in use, start${t}bytes${t}${mem_start:--}${t}$start_why${t}${t}$only${t}${t}"
    echo "soak memory in use, end${t}bytes${t}${mem_end:--}${t}$end_why${t}${t}$only${t}${t}"
    echo "soak memory in use, growth${t}bytes${t}${mem_growth:--}${t}no dump at start or end${t}${t}$only${t}${t}"
    echo "soak memory in use, after each round${t}bytes${t}${mem_rounds% }${t}no state dump${t}${t}$only${t}${t}"
    echo "soak memory in use, under load${t}bytes${t}${mem_load:--}${t}$load_why${t}${t}$only${t}${t}"
    echo "soak kernel heap in use, start${t}bytes${t}${heap_start:--}${t}$start_why${t}${t}$only${t}${t}"
    echo "soak kernel heap in use, end${t}bytes${t}${heap_end:--}${t}$end_why${t}${t}$only${t}${t}"
    echo "soak kernel heap in use, growth${t}bytes${t}${heap_growth:--}${t}no dump at start or end${t}${t}$only${t}${t}"
    echo "soak kernel heap in use, after each round${t}bytes${t}${heap_rounds% }${t}no state dump${t}${t}$only${t}${t}"
    echo "soak TCP PCBs neither LISTEN nor TIME_WAIT at the end${t}PCBs${t}$([ -n "$mem_end" ] && echo "$n_stuck" || echo -)${t}$end_why${t}${t}$only${t}${t}"
} >"$results"
# states_json STATES HAVE_DUMP: TCP PCBs by state as a JSON object; null when there was no dump
# (the reason is in the results).
states_json() {
    [ -n "$2" ] || { echo null; return; }
    jq -R -n '[inputs | select(length > 0) | split(" ") | { (.[0]): (.[1] | tonumber) }] | add // {}' <<<"$1"
}
# totals_json DUMP: the dump's own PCB counts, {listening, active, time_wait}, or null.
totals_json() {
    local l a w
    read -r l a w <<<"$(dump_pcbs "$1")"
    [ -n "$w" ] && echo "{\"listening\":$l,\"active\":$a,\"time_wait\":$w}" || echo null
}
failures_json=$(printf '%s\n' ${failures[@]+"${failures[@]}"} | jq -R -n '[inputs | select(length > 0)]')
verdict=pass
[ ${#failures[@]} = 0 ] || verdict=fail
if ! "$here/bench-report.sh" json "$results" benchmark=soak verdict="$verdict" "failures:=$failures_json" \
    "requests:=$total" "keepalive_requests:=$ka_total" "new_connection_requests:=$nc_total" "connections:=$conns" \
    "rounds:=$rounds" "errors:=$errors" "duration_s:=$duration" "rounds_s:=$load_s" \
    "heap_margin_bytes:=$HEAP_MARGIN" "memory_margin_bytes:=$MEM_MARGIN" "max_stuck_pcbs:=$MAX_STUCK" \
    "tcp_pcbs_end:=$(states_json "$states_end" "$mem_end")" "tcp_pcbs_end_counted:=$(totals_json "$tmp/dump-end.txt")" \
    "tcp_pcbs_under_load:=$(states_json "$load_pcbs" "$mem_load")" \
    "tcp_pcbs_under_load_counted:=$(totals_json "$tmp/dump-load.txt")" \
    "httpd_requests_served:=${served:-null}" \
    date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" qemu="$(qemu-system-x86_64 --version 2>/dev/null | head -n1)" \
    >"$tmp/soak.json"; then
    fail "the JSON writer failed"
    verdict=fail
    rm -f "$outdir/soak.json"
else
    mv -f "$tmp/soak.json" "$outdir/soak.json"
fi

# soak.md
cell() { [ -n "$1" ] && [ "$1" != - ] && echo "$1" || echo "- ($2)"; }
{
    echo "### Soak: $total HTTP requests, $conns connections at once, apps/httpd over a tap ($rounds rounds, $duration s)"
    echo
    echo "| part | requests answered | errors | requests/s | latency p50 / p99 / max (ms) | connect time p50 / p99 / max (ms) |"
    echo "|---|---|---|---|---|---|"
    for part in ka nc; do
        name=$(part_name $part)
        echo "| $name | ${ok[$part]} of ${want[$part]} | $((${want[$part]} - ${ok[$part]})) | $(overall $part) (rounds $(words "${rps[$part]}" | paste -sd' ')) |" \
            "$(words "${p50[$part]}" | med) / $(words "${p99[$part]}" | maxof) / $(words "${pmax[$part]}" | maxof) |" \
            "$(words "${cp50[$part]}" | med) / $(words "${cp99[$part]}" | maxof) / $(words "${cmax[$part]}" | maxof) |"
    done
    echo
    echo "Requests/s: all the part's requests over loadgen's time; per round in brackets. Latency: from a request's first" \
        "byte sent to its response's last byte; connect time: connect() to established (a dropped SYN costs 1 s, then 2 s);" \
        "p50 is the median of the rounds' p50s, p99 and max the worst round's."
    echo
    echo "| guest's state dump | start | end | growth | allowed | after each round |"
    echo "|---|---|---|---|---|---|"
    echo "| memory in use (bytes) | $(cell "$mem_start" "$start_why") | $(cell "$mem_end" "$end_why") | $(cell "$mem_growth" "no dump") | $MEM_MARGIN | ${mem_rounds% } |"
    echo "| kernel heap in use (bytes) | $(cell "$heap_start" "$start_why") | $(cell "$heap_end" "$end_why") | $(cell "$heap_growth" "no dump") | $HEAP_MARGIN | ${heap_rounds% } |"
    echo
    echo "TCP PCBs in the guest at the end: $(pcb_line "$states_end") (neither LISTEN nor TIME_WAIT: $n_stuck, allowed $MAX_STUCK)." \
        "Under load (5 s into the last new-connection run): memory in use $(cell "$mem_load" "$load_why") bytes, kernel heap" \
        "${heap_load:--} bytes, TCP PCBs $(pcb_totals "$tmp/dump-load.txt") (listed: $(pcb_line "$load_pcbs"))." \
        "httpd served $served requests (loadgen's $answered + $probes probes). Verdict: **$verdict**${failures[0]:+ (${failures[*]})}."
} >"$outdir/soak.md"
echo "soak: wrote $outdir/soak.md and $outdir/soak.json"

if [ $verdict = pass ]; then
    echo "soak.sh: PASS"
else
    (IFS=';'; echo "soak.sh: FAIL (${failures[*]})")
    echo "guest log (tail):"
    tail -n 30 "$log" | sed 's/^/    | /'
    exit 1
fi
