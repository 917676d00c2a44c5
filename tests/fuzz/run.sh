#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs one fuzz target (tests/fuzz/README.md).
#
#   run.sh smoke NAME BINARY SECONDS WORKDIR
#       ctest's fuzz.NAME: replays the committed crash inputs (crashes/NAME/), then fuzzes for
#       SECONDS from the seeds (corpus/NAME/) into a fresh corpus under WORKDIR. Fails on any
#       crash, keeping the input and the log there.
#   run.sh long NAME BINARY SECONDS CORPUS ARTIFACTS
#       atoll fuzz: fuzzes for SECONDS, keeping what it finds in CORPUS (outside the repository)
#       and crash inputs in ARTIFACTS; reports the executions.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mode=${1:?mode}
name=${2:?name}
bin=${3:?binary}
seconds=${4:?seconds}

[ -x "$bin" ] || { echo "fuzz $name: FAIL: $bin is not built" >&2; exit 1; }
seeds=$here/corpus/$name
crashes=$here/crashes/$name
dict=()
[ -f "$here/dict/$name.dict" ] && dict=("-dict=$here/dict/$name.dict")

# libFuzzer's own options: a slow input (10 s) or a large RSS counts as a failure; UBSan and
# ASan reports abort (the targets are built with -fno-sanitize-recover).
common=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}")
# lwip keeps the stack's state (PCBs, timers, ARP, DHCP) from one input to the next, so every
# input ends with more allocations than frees and libFuzzer would run LeakSanitizer after each
# (a tenth of the speed). Leaks are still looked for once, at exit.
[ "$name" = lwip ] && common+=(-detect_leaks=0)
# The targets allocate and free buffers by the thousand: with ASan's default 256 MB quarantine
# every allocation is fresh memory (page faults) filled with a pattern; a 16 MB quarantine
# without the fill makes an input take 1.4 (virtqueue) to 1.8 (lwip) times less.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1:quarantine_size_mb=16:max_malloc_fill_size=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# report LOG SECONDS CORPUS [SUFFIX]: one line with the executions from libFuzzer's final statistics.
report() {
    local execs rate
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$1" | tail -1)
    echo "fuzz $name: ${execs:-?} executions in ${2} s (${rate:-?}/s), corpus of $(ls "$3" 2>/dev/null | wc -l) inputs${4:-}"
}

case $mode in
smoke)
    # A directory of this run's own (two test runs may share a build tree): removed on success,
    # kept with the crash input and the log on failure.
    workdir=${5:?workdir}/run-$$
    rm -rf "$workdir"
    mkdir -p "$workdir/corpus" "$workdir/artifacts"
    if [ -d "$crashes" ] && [ -n "$(ls -A "$crashes")" ]; then
        echo "fuzz $name: replaying $(ls "$crashes" | wc -l) regression inputs from $crashes"
        if ! "$bin" "${common[@]}" "$crashes"/* >"$workdir/replay.log" 2>&1; then
            tail -60 "$workdir/replay.log"
            echo "fuzz $name: FAIL: a regression input crashes again"
            exit 1
        fi
    fi
    dirs=("$workdir/corpus")
    [ -d "$seeds" ] && dirs+=("$seeds")
    "$bin" "${common[@]}" -max_total_time="$seconds" -artifact_prefix="$workdir/artifacts/" \
        "${dirs[@]}" >"$workdir/fuzz.log" 2>&1
    rc=$?
    if [ $rc != 0 ]; then
        tail -80 "$workdir/fuzz.log"
        echo "fuzz $name: FAIL: exit status $rc; crash input(s): $(ls "$workdir/artifacts")"
        exit 1
    fi
    report "$workdir/fuzz.log" "$seconds" "$workdir/corpus"
    rm -rf "$workdir"
    echo "fuzz $name: PASS"
    ;;
long)
    corpus=${5:?corpus}
    artifacts=${6:?artifacts}
    mkdir -p "$corpus" "$artifacts"
    dirs=("$corpus")
    [ -d "$seeds" ] && dirs+=("$seeds")
    log=$artifacts/last-run.log
    echo "fuzz $name: $seconds s; corpus $corpus, crash inputs to $artifacts/, log $log" >&2
    "$bin" "${common[@]}" -max_total_time="$seconds" -artifact_prefix="$artifacts/" "${dirs[@]}" 2>&1 |
        tee "$log" | grep --line-buffered -E 'pulse|DONE|ERROR|SUMMARY|deadly|invariant' | sed -u 's/^/  /' >&2
    rc=${PIPESTATUS[0]}
    report "$log" "$seconds" "$corpus" " in $corpus"
    if [ "$rc" != 0 ]; then
        echo "fuzz $name: crashed (exit status $rc); the input is in $artifacts/ (replay: $bin FILE)"
        exit 1
    fi
    ;;
*)
    echo "run.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
