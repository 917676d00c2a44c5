#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How well the guest's CLOCK_REALTIME agrees with the host's (issue 11): boots IMAGE (a program
# that sleeps for the seconds given, tests/images/sleeper) BOOTS times through `atoll run` and
# measures the guest's clock NTP-style over the control channel: this script notes the host's
# time t1 and writes `time ID` into the guest's input; the guest answers with its realtime
# clock when the line's first byte arrived (t2) and when it answered (t3); `atoll run`'s relay
# notes the host's time t4 when the answer arrived (the file `times` in the run's directory).
#   offset = ((t2 - t1) + (t3 - t4)) / 2   (guest minus host)
#   round trip = (t4 - t1) - (t3 - t2)
# The true offset is within half the round trip of the figure (whatever the split of the
# delays between the two directions). Each sample is the exchange with the shortest round
# trip of a burst of 5. The first sample, taken as soon as the guest's control
# channel answers (about when main() starts), is the offset at boot; then one every INTERVAL
# seconds for DURATION seconds, and the drift is the slope of a least-squares line through
# those later samples (microseconds per minute); the largest offset is over all of them. Per
# boot and as medians over the boots.
# A benchmark: it fails only when a boot gave no figure at all.
#
# usage: clock-sync.sh ATOLL IMAGE OUTDIR [--boots N] [--duration SECONDS] [--interval SECONDS]
#                      [--jobs N] [--name NAME] [--own-clock]
# --jobs: guests measured at once (default 2: this runs on small machines; each guest is idle).
# --own-clock: the guest does not follow the host's clock (ATOLL_HOST_CLOCK=0): what its TSC
# calibration alone gives.
# Writes OUTDIR/NAME.md (default name clock-sync), OUTDIR/NAME.json (tests/bench/bench-report.sh:
# valid JSON, a missing figure is null with its reason) and OUTDIR/NAME-raw.txt (every exchange).
set -u -o pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

usage() { sed -n 's/^# usage: //p; s/^#                      \(.*\)/    \1/p' "$0" >&2; exit 2; }
[ $# -ge 3 ] || usage
atoll=$1 image=$2 out=$3
shift 3
boots=10 duration=600 interval=10 jobs=2 name=clock-sync
while [ $# -gt 0 ]; do
    if [ "$1" = --own-clock ]; then
        export ATOLL_HOST_CLOCK=0
        shift
        continue
    fi
    [ $# -ge 2 ] || usage
    case $1 in
    --boots) boots=$2 ;;
    --duration) duration=$2 ;;
    --interval) interval=$2 ;;
    --jobs) jobs=$2 ;;
    --name) name=$2 ;;
    *) usage ;;
    esac
    shift 2
done
for v in "$boots" "$duration" "$interval" "$jobs"; do [[ $v =~ ^[1-9][0-9]*$ ]] || usage; done
[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || usage
[ -f "$image" ] || { echo "clock-sync.sh: no image $image" >&2; exit 1; }
command -v jq >/dev/null || { echo "clock-sync.sh: needs jq (toolchain/deps.sh bench installs it)" >&2; exit 1; }
mkdir -p "$out"
export LC_ALL=C # a decimal point in $EPOCHREALTIME
work=$(mktemp -d -t clock-sync.XXXXXX)
log() { echo "clock-sync: $*" >&2; }

# Every guest still running when the script ends is stopped (atoll run passes SIGTERM on as
# signal 15; its QEMU dies with it).
cleanup() {
    local f pid
    for f in "$work"/*.pid; do
        [ -f "$f" ] || continue
        read -r pid <"$f" && kill -TERM "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The runtime directory `atoll run` makes for its control channel (README, "The control channel").
if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ] && [ -w "$XDG_RUNTIME_DIR" ]; then
    run_base=$XDG_RUNTIME_DIR/atoll
elif [ "$EUID" = 0 ]; then
    run_base=/run/atoll
else
    run_base=${TMPDIR:-/tmp}/atoll-$EUID
fi

# ns_of S.F: REPLY = the time in ns (no subshell: each costs a fork, and the machine is busy).
ns_of() { local f=${1#*.}000000000; REPLY=$((10#${1%.*} * 1000000000 + 10#${f:0:9})); }

# measure_boot N: one guest; writes $work/boot-N.samples ("MS_SINCE_FIRST OFFSET_US RTT_US"
# per sample) and appends every exchange to $work/boot-N.raw.
measure_boot() {
    local n=$1 pid dir i pause_fifo pause fd tf="" line pending=""
    local samples=$work/boot-$n.samples raw=$work/boot-$n.raw
    : >"$samples"
    : >"$raw"
    pause_fifo=$work/pause-$n
    mkfifo "$pause_fifo"
    exec {pause}<>"$pause_fifo" # never written: a read on it with -t is a sleep without a process
    nap() { read -r -t "$1" -u "$pause" _ || true; }
    "$atoll" run --timeout $((duration + 120)) "$image" -- $((duration + 60)) >"$work/boot-$n.out" 2>&1 &
    pid=$!
    echo "$pid" >"$work/boot-$n.pid"
    dir=$run_base/$pid
    # The channel is ready when the guest's control thread says so (in the relay's log).
    local lf="" ready=0
    for ((i = 0; i < 60000 && ready == 0; i++)); do
        if [ -z "$lf" ] && [ -f "$dir/log" ]; then exec {lf}<"$dir/log"; fi
        if [ -n "$lf" ]; then
            while IFS= read -r line <&"$lf"; do [[ $line != "atoll-ctl ready"* ]] || { ready=1; break; }; done
        fi
        [ $ready = 1 ] || kill -0 "$pid" 2>/dev/null || break
        [ $ready = 1 ] || nap 0.001
    done
    [ -z "$lf" ] || exec {lf}<&-
    line=""
    if [ $ready = 0 ]; then
        echo "boot $n: the guest's control channel never answered" >>"$raw"
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return 0
    fi
    exec {fd}<>"$dir/ctl.in"
    local seq=0 first_t1=""
    # exchange: one `time` request, its answer waited for (5 s at most); sets ex_t1, ex_offset,
    # ex_rtt (ns) or returns 1.
    exchange() {
        local id=b$n-$seq t1 t2 t3 t4 want rest
        seq=$((seq + 1))
        t1=$EPOCHREALTIME
        printf 'time %s\n' "$id" >&"$fd" || return 1
        for ((i = 0; i < 10000; i++)); do
            if [ -z "$tf" ] && [ -f "$dir/times" ]; then exec {tf}<"$dir/times"; fi
            if [ -n "$tf" ]; then
                while IFS= read -r line <&"$tf"; do
                    line=$pending$line
                    pending=""
                    [[ $line == "$id "* ]] || continue
                    echo "$t1 $line" >>"$raw"
                    read -r _ t2 t3 _ t4 rest <<<"$line"
                    [[ $t2 =~ ^[0-9]+\.[0-9]+$ && $t3 =~ ^[0-9]+\.[0-9]+$ && $t4 =~ ^[0-9]+\.[0-9]+$ ]] || return 1
                    ns_of "$t1"; t1=$REPLY
                    ns_of "$t2"; t2=$REPLY
                    ns_of "$t3"; t3=$REPLY
                    ns_of "$t4"; t4=$REPLY
                    ex_t1=$t1
                    ex_offset=$((((t2 - t1) + (t3 - t4)) / 2))
                    ex_rtt=$(((t4 - t1) - (t3 - t2)))
                    return 0
                done
                pending+=$line # a line being written as we read
            fi
            kill -0 "$pid" 2>/dev/null || return 1
            nap 0.0005
        done
        return 1
    }
    # burst COUNT: the exchange with the shortest round trip of COUNT, appended to the samples.
    burst() {
        local k best_rtt="" best_off best_t
        for ((k = 0; k < $1; k++)); do
            exchange || continue
            if [ -z "$best_rtt" ] || [ "$ex_rtt" -lt "$best_rtt" ]; then
                best_rtt=$ex_rtt best_off=$ex_offset best_t=$ex_t1
            fi
        done
        [ -n "$best_rtt" ] || return 1
        [ -n "$first_t1" ] || first_t1=$best_t
        echo "$(((best_t - first_t1) / 1000000)) $((best_off / 1000)) $((best_rtt / 1000))" >>"$samples"
    }
    burst 5
    local start=$SECONDS next
    for ((next = interval; next <= duration; next += interval)); do
        while [ $((SECONDS - start)) -lt "$next" ]; do
            kill -0 "$pid" 2>/dev/null || break 2
            nap 0.2
        done
        burst 5 || break
    done
    exec {fd}>&-
    [ -z "$tf" ] || exec {tf}<&-
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$work/boot-$n.pid"
    return 0
}

qemu_version=$(qemu-system-x86_64 --version | head -1 | awk '{print $4}')
log "$boots boots of $(basename "$image"), $duration s each, a sample every $interval s, $jobs at a time"
running=0
for ((b = 1; b <= boots; b++)); do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    measure_boot "$b" &
    running=$((running + 1))
done
wait

# Per boot: offset at boot and its bound, drift (least squares, us per minute), the largest
# offset seen, the median round trip.
raw_out=$out/$name-raw.txt
: >"$raw_out"
declare -a s_boot s_bound s_drift s_max s_beyond s_rtt s_count
printf '%-5s %14s %12s %16s %14s %16s %12s %8s\n' boot "offset_us" "+-_us" "drift_us/min" "max|off|_us" "beyond_bound_us" "rtt_med_us" samples
for ((b = 1; b <= boots; b++)); do
    { echo "# boot $b: t1 ID t2 t3 monotonic t4 (host seconds, guest seconds)"; cat "$work/boot-$b.raw" 2>/dev/null
      echo "# boot $b samples: ms offset_us rtt_us"; cat "$work/boot-$b.samples" 2>/dev/null; } >>"$raw_out"
    read -r boot bound drift maxoff rtt count beyond < <(awk '
        { t[NR] = $1; o[NR] = $2; r[NR] = $3 }
        END {
            if (NR == 0) { print "- - - - - 0 -"; exit }
            n = NR
            # The drift from the samples after the one at boot (the boot offset is its own figure).
            k = 0; sx = sy = sxx = sxy = 0
            for (i = 2; i <= n; i++) { x = t[i] / 60000; k++; sx += x; sy += o[i]; sxx += x * x; sxy += x * o[i] }
            d = k * sxx - sx * sx
            slope = (k >= 2 && d > 0) ? sprintf("%.1f", (k * sxy - sx * sy) / d) : "-"
            # The largest offset as measured, and the largest by which the guest was certainly
            # off (the offset less the error bound of its sample, half the round trip).
            m = 0; mb = 0
            for (i = 1; i <= n; i++) {
                a = o[i] < 0 ? -o[i] : o[i]; if (a > m) m = a
                a -= r[i] / 2; if (a > mb) mb = a
            }
            bound = int(r[1] / 2)
            for (i = 2; i <= n; i++) { v = r[i]; for (j = i - 1; j >= 1 && r[j] > v; j--) r[j + 1] = r[j]; r[j + 1] = v }
            printf "%d %d %s %d %d %d %d\n", o[1], bound, slope, m, r[int((n + 1) / 2)], n, mb
        }' "$work/boot-$b.samples" 2>/dev/null || echo "- - - - - 0 -")
    printf '%-5s %14s %12s %16s %14s %16s %12s %8s\n' "$b" "$boot" "${bound:--}" "$drift" "$maxoff" "$beyond" "$rtt" "$count"
    s_boot+=("$boot") s_bound+=("${bound:--}") s_drift+=("$drift") s_max+=("$maxoff") s_beyond+=("$beyond")
    s_rtt+=("$rtt") s_count+=("$count")
done

results=$work/results.tsv
: >"$results"
none_why="no figure (the guest's control channel did not answer)"
no_linux="no Linux counterpart (this measures Atoll's clock against its host over Atoll's control channel)"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$none_why" "" "$no_linux" "$4" "$5" >>"$results"; }
record "realtime offset at boot, guest - host" us "${s_boot[*]}" "goal (either sign)" 1000
record "bound on that offset (half the round trip)" us "${s_bound[*]}" "" -
record "drift, least squares over ${duration} s after boot" "us/min" "${s_drift[*]}" "goal (either sign)" 1000
record "largest offset over the run" us "${s_max[*]}" "" -
record "largest offset beyond its sample's error bound" us "${s_beyond[*]}" "" -
record "round trip of a sample (median per boot)" us "${s_rtt[*]}" "" -
record "samples per boot" count "${s_count[*]}" "" -
"$root/tests/bench/bench-report.sh" json "$results" "qemu=$qemu_version" "accelerator=tcg" "boots:=$boots" \
    "follows_host_clock:=$([ "${ATOLL_HOST_CLOCK:-1}" = 0 ] && echo false || echo true)" \
    "duration_s:=$duration" "interval_s:=$interval" "image=$(basename "$image")" >"$out/$name.json" ||
    { log "writing $name.json failed"; exit 1; }
{
    echo "# Guest clock against the host ($boots boots, $duration s each, a sample every $interval s${ATOLL_HOST_CLOCK:+, the guest on its own clock})"
    echo
    echo "QEMU $qemu_version; offsets are guest minus host, NTP-style over the control channel"
    echo "(tests/bench/clock-sync.sh); medians over the boots."
    echo
    "$root/tests/bench/bench-report.sh" table "$results"
} >"$out/$name.md"
jq -r '.results[] | "clock-sync: \(.measure): median \(.atoll.median // "-") \(.unit) (\(.atoll.min // "-") to \(.atoll.max // "-"), \(.atoll.samples | length) boots)"' "$out/$name.json"
log "wrote $out/$name.md, $out/$name.json, $out/$name-raw.txt"
measured=$(jq '[.results[0].atoll.samples[] | select(. != null)] | length' "$out/$name.json")
[ "$measured" -gt 0 ] || { log "no boot gave a figure"; exit 1; }
exit 0
