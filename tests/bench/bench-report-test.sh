#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bench.json writer (tests/bench/bench-report.sh) fed a normal measure, a measure with one
# run missing its figure (the case that once wrote `"max":}`), one with no figure at all and a
# name that needs escaping: the JSON must parse, missing figures must be null with their reason,
# and bench.md's table must show the reason.
set -u -o pipefail
writer=$(dirname "$0")/bench-report.sh
tmp=$(mktemp -d -t atoll-bench-report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
    if "${@:2}" >/dev/null 2>&1; then echo "ok   $1"; passed=$((passed + 1)); else echo "FAIL $1"; failed=$((failed + 1)); fi
}
t=$'\t'
{
    echo "boot hello, launch to exit${t}ms${t}120.5 118 130${t}${t}300 310 305${t}${t}empty-guest floor exit${t}95"
    echo "HTTP wrk -t2 -c64 /index.html${t}req/s${t}955 -${t}wrk printed no figure${t}${t}Linux microVM not available${t}host process${t}65368"
    echo "HTTP wrk -t2 -c64 /index.html, p99 latency${t}ms${t}- -${t}httpd did not answer | over the tap${t}${t}${t}host process${t}-"
    echo "a \"quoted\" \\ name${t}ms${t}1${t}${t}2${t}${t}${t}"
} >"$tmp/results.tsv"

"$writer" json "$tmp/results.tsv" "qemu=7.2 \"x\"" "runs:=2" >"$tmp/bench.json"
echo "writer exit status: $?"
"$writer" table "$tmp/results.tsv" >"$tmp/table.md"
cat "$tmp/bench.json" "$tmp/table.md"

q() { jq -e "$1" "$tmp/bench.json"; } # true when the expression holds
check "bench.json parses (jq)" jq -e . "$tmp/bench.json"
if python3 -c 'import json' 2>/dev/null; then
    check "bench.json parses (python3 -m json.tool)" python3 -m json.tool "$tmp/bench.json"
fi
check "4 results, metadata kept" q '(.results | length) == 4 and .runs == 2 and .qemu == "7.2 \"x\""'
check "normal measure: median 120.5, min 118, max 130, no reason" \
    q '.results[0].atoll | .median == 120.5 and .min == 118 and .max == 130 and .reason == null and .missing == 0'
check "normal measure: ratio to Linux 0.4, to baseline 1.27" \
    q '.results[0] | .ratio_linux == 0.4 and .ratio_baseline == 1.27'
check "one of two runs without a figure: 955 from the other, the missing sample null, reason kept" \
    q '.results[1].atoll | .median == 955 and .max == 955 and .samples == [955, null] and .missing == 1 and .reason == "wrk printed no figure"'
check "a column never measured: null with its reason" \
    q '.results[1].linux_microvm | .median == null and .min == null and .max == null and .reason == "Linux microVM not available"'
check "no figure at all: null, with the reason; ratios null" \
    q '.results[2] | .atoll.median == null and .atoll.reason == "httpd did not answer | over the tap" and .ratio_linux == null and .ratio_baseline == null and .baseline_value == null'
check "a name with quotes and a backslash survives" q '.results[3].measure == "a \"quoted\" \\ name"'
check "table: the missing run's reason" grep -qF '955 [1 of 2 runs: wrk printed no figure]' "$tmp/table.md"
check "table: the reason of an empty column" grep -qF -- '- (Linux microVM not available)' "$tmp/table.md"
check "table: a | in a reason is escaped" grep -qF -- '- (httpd did not answer \| over the tap)' "$tmp/table.md"
check "table: header and 4 rows" test "$(grep -c '^|' "$tmp/table.md")" = 6
echo "$passed passed, $failed failed"
[ $failed = 0 ]
