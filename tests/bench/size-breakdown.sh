#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What an image's bytes are made of, from its link map (add_unikernel writes NAME.map next to
# NAME.dbg): bytes per library (or the application's own objects) and per output section, for
# the sections that are stored in the image (not .bss). Largest first, Markdown.
# usage: size-breakdown.sh IMAGE.map [ROWS]
set -euo pipefail
map=${1:?usage: size-breakdown.sh IMAGE.map [ROWS]}
rows=${2:-12}
[ -r "$map" ] || { echo "size-breakdown: cannot read $map" >&2; exit 1; }
awk -v rows="$rows" '
# lld map columns: VMA LMA Size Align Out In Symbol; an output section line has text in
# column 5 position (8 leading spaces less than input sections), an input section line names
# "file(member):(section)" or "file:(section)".
function component(s,    c) {
    c = s
    sub(/:\(.*$/, "", c)            # drop ":(.text.foo)"
    if (c ~ /\.a\(/) { sub(/\(.*$/, "", c) }  # archive(member) -> archive
    n = split(c, parts, "/")
    c = parts[n]
    if (c ~ /symtab/) return "panic symbol table"
    if (c ~ /\.o$/ || c ~ /\.obj$/) c = "application objects"
    if (c == "<internal>") c = "linker-made (" out ")"
    return c
}
function hex(h,    i, v) {
    v = 0
    h = tolower(h)
    for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
    return v
}
NR == 1 { next }
{
    size = hex($3)
}
# The indentation after the four numbers tells the kind of line: 0 an output section, 8 an
# input section, 16 a symbol.
{
    rest = $0
    sub(/^ *[0-9a-fA-F]+ +[0-9a-fA-F]+ +[0-9a-fA-F]+ +[0-9]+ /, "", rest)
    indent = match(rest, /[^ ]/) - 1
    name = substr(rest, indent + 1)
}
indent == 0 { out = name; next }
indent == 8 {
    # only what the stripped image stores
    if (out == "" || out ~ /^\.(bss|tbss|symtab|strtab|shstrtab|comment)$/ || out ~ /^\.debug/) next
    key = component(name)
    total[key] += size
    bysec[key, out] += size
    secs[out] = 1
    all += size
}
END {
    printf "| component | bytes | share |"
    for (s in secs) nsec++
    printf " by section |\n|---|---|---|---|\n"
    n = 0
    for (k in total) keys[++n] = k
    # sort by size, largest first
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (total[keys[j]] > total[keys[i]]) { t = keys[i]; keys[i] = keys[j]; keys[j] = t }
    for (i = 1; i <= n && i <= rows; i++) {
        k = keys[i]
        detail = ""
        for (s in secs) if (bysec[k, s] >= 1024) detail = detail sprintf("%s %d K, ", s, bysec[k, s] / 1024)
        sub(/, $/, "", detail)
        printf "| %s | %d | %.1f%% | %s |\n", k, total[k], 100 * total[k] / all, detail
    }
    rest = 0
    for (i = rows + 1; i <= n; i++) rest += total[keys[i]]
    if (rest) printf "| (%d more) | %d | %.1f%% | |\n", n - rows, rest, 100 * rest / all
    printf "| **all stored sections** | %d | 100%% | |\n", all
}' "$map"
