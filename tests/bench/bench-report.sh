#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The writer of bench.json and of bench.md's results table, from the samples run-all.sh keeps.
# jq does the escaping and the number parsing, so the JSON is valid whatever a measurement gave:
# a sample that is not a number ("-", empty, an error message) is a missing sample, a column
# with no sample at all is null with its reason, and the table shows that reason.
#
# usage: bench-report.sh json RESULTS [KEY=VALUE | KEY:=NUMBER]...   JSON on stdout
#        bench-report.sh table RESULTS                                  markdown table on stdout
# RESULTS has one measure per line, fields separated by tabs:
#   measure, unit, Atoll's samples, why Atoll's are missing, the Linux microVM's samples, why
#   those are missing, baseline name, baseline value
# Samples are separated by spaces; "-" stands for a run that gave no figure. A reason is used
# when at least one sample is missing (empty: "no figure", or "not measured" with no run at all).
# In bench.json each column is {median, min, max, samples, missing, reason}: min/median/max over
# the samples that are numbers (median: the lower middle of an even count), null when none;
# ratios are Atoll's median over the other's, rounded to 2 decimals, null when either is missing.
set -euo pipefail
command -v jq >/dev/null || { echo "bench-report.sh: needs jq (toolchain/deps.sh bench installs it)" >&2; exit 1; }
[ $# -ge 2 ] || { sed -n 's/^# usage: //p; s/^#        \(bench-report.*\)/\1/p' "$0" >&2; exit 2; }
what=$1 results=$2
shift 2

# Shared jq definitions: parse a line, summarise one column, format numbers and cells.
defs='
def number_re: "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$";
def column($text; $reason):
    ($text | split(" ") | map(select(length > 0))) as $all
  | ($all | map(select(test(number_re)) | tonumber)) as $nums
  | ($nums | sort) as $v
  | ($all | length) as $runs
  | ($runs - ($v | length)) as $missing
  | { median: (if ($v | length) > 0 then $v[((($v | length) + 1) / 2 | floor) - 1] else null end),
      min: $v[0], max: $v[-1],
      samples: [$all[] | if test(number_re) then tonumber else null end],
      missing: $missing,
      reason: (if $missing > 0 or $runs == 0 then
                   (if $reason != "" then $reason elif $runs == 0 then "not measured" else "no figure" end)
               else null end) };
def ratio($a; $b): if $a == null or $b == null or $b <= 0 then null else ($a / $b * 100 | round) / 100 end;
def parse:
    split("\t") as $f
  | column($f[2] // ""; $f[3] // "") as $atoll
  | column($f[4] // ""; $f[5] // "") as $linux
  | ($f[7] // "" | if test(number_re) then tonumber else null end) as $basev
  | { measure: $f[0], unit: ($f[1] // ""),
      atoll: $atoll, linux_microvm: $linux,
      baseline: ($f[6] // ""), baseline_value: $basev,
      ratio_linux: ratio($atoll.median; $linux.median),
      ratio_baseline: ratio($atoll.median; $basev) };
def num: if . == null then "-" else tostring end;
def md: gsub("\\|"; "\\|");
def cell:
    if .median == null then "- (\(.reason | md))"
    else (if .min == .max then (.median | num) else "\(.median | num) (\(.min | num)-\(.max | num))" end)
       + (if .missing > 0 then " [\(.missing) of \(.samples | length) runs: \(.reason | md)]" else "" end)
    end;
'

case $what in
json)
    args=()
    for kv in "$@"; do
        case $kv in
        *:=*) args+=(--argjson "${kv%%:=*}" "${kv#*:=}") ;;
        *=*) args+=(--arg "${kv%%=*}" "${kv#*=}") ;;
        *) echo "bench-report.sh: KEY=VALUE or KEY:=NUMBER expected, got '$kv'" >&2; exit 2 ;;
        esac
    done
    jq -R -n "${args[@]}" "$defs"'$ARGS.named + { results: [inputs | select(length > 0) | parse] }' "$results"
    ;;
table)
    echo "| measure | Atoll: median (min-max) | Linux microVM: median (min-max) | Atoll / Linux | other baseline | Atoll / baseline |"
    echo "|---|---|---|---|---|---|"
    jq -R -r "$defs"'select(length > 0) | parse
        | "| \(.measure | md) (\(.unit | md)) | \(.atoll | cell) | \(.linux_microvm | cell) | \(.ratio_linux | num) | "
          + (if .baseline == "" then "" else "\(.baseline | md): \(.baseline_value | num)" end)
          + " | \(.ratio_baseline | num) |"' "$results"
    ;;
*)
    echo "bench-report.sh: json or table, not '$what'" >&2
    exit 2
    ;;
esac
