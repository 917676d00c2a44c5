#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Where a guest's launch-to-exit time goes on the host, from `perf` samples of the whole QEMU
# process (all its threads, 20 kHz CPU-clock sampling): QEMU's start-up (dynamic loading,
# libraries, the host kernel setting up the process), TCG generating code, the translated
# guest code running, and the rest of QEMU. Debian's QEMU binary keeps only its exported
# symbols, so its static functions (the x86 decoder, helpers, device models) are one bucket. Prints
# milliseconds of CPU per category, the mean over RUNS runs, one column per image, Markdown.
# Needs perf (linux-perf) and permission to use it (root, or kernel.perf_event_paranoid <= 1).
# usage: qemu-profile.sh RUNS IMAGE... (each image booted the way `atoll run --mem 16M` does)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:?usage: qemu-profile.sh RUNS IMAGE...}
shift
command -v perf >/dev/null || { echo "qemu-profile: perf not installed (apt-get install linux-perf)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hz=20000
categories=("QEMU process start-up: loader, libraries, host kernel" "TCG code generation (named tcg_*, tb_* functions)" "translated guest code running" "other QEMU code (unnamed static functions: x86 decoding, helpers, devices)")
header="| category (ms of host CPU, mean of $runs) |"
sep="|---|"
declare -A ms
for image in "$@"; do
    name=$(basename "$image" .img)
    header+=" $name |"
    sep+="---|"
    mapfile -t cmd < <("$root/atoll" run --print-qemu --mem 16M "$image")
    for ((i = 0; i < runs; i++)); do
        rm -f "$tmp/perf.data"
        # perf's status is the guest's (isa-debug-exit codes are odd numbers): check its output.
        perf record -q -F $hz -o "$tmp/perf.data" -- "${cmd[@]}" >/dev/null 2>"$tmp/perf.err" || true
        [ -s "$tmp/perf.data" ] ||
            { echo "qemu-profile: perf record failed (permissions? kernel.perf_event_paranoid): $(cat "$tmp/perf.err")" >&2; exit 1; }
        perf script -i "$tmp/perf.data" -F ip,sym,dso 2>/dev/null
    done | awk -v hz=$hz -v runs="$runs" -v name="$name" '
        {
            # "  ADDRESS SYMBOL (DSO)"; JIT code shows as "[unknown] ([JIT] tid N)"
            line = $0
            dso = line; sub(/^.* \(/, "", dso); sub(/\)[ \t]*$/, "", dso)
            sym = line; sub(/ \([^(]*\)[ \t]*$/, "", sym); sub(/^[ \t]*[0-9a-f]+ /, "", sym)
            if (dso ~ /\[JIT\]|perf-[0-9]+\.map|\[unknown\]/ && dso !~ /kernel/) c = 3
            else if (dso ~ /qemu-system/) {
                if (sym ~ /^(tcg_|tb_gen_code|tb_link|tb_htable|gen_intermediate_code|translator_|i386_tr_|disas_insn|gen_|qht_|tb_lookup|cpu_restore_state|page_collection|tb_invalidate)/) c = 2
                else c = 4
            } else c = 1
            n[c]++
        }
        END { for (c = 1; c <= 4; c++) printf "%s\t%d\t%.1f\n", name, c, n[c] * 1000 / hz / runs }' >"$tmp/$name.tsv"
    while IFS=$'\t' read -r n c v; do ms[$n,$c]=$v; done <"$tmp/$name.tsv"
done
echo "$header"
echo "$sep"
for c in 1 2 3 4; do
    line="| ${categories[$((c - 1))]} |"
    for image in "$@"; do line+=" ${ms[$(basename "$image" .img),$c]:-0} |"; done
    echo "$line"
done
