# SPDX-License-Identifier: MIT
# What the structure scanners' self-tests share (hw_access_selftest.sh, locks_selftest.sh):
# sourced after the caller sets `scanner` (the script under test) and defines
# `clean_tree ROOT` (a fake tree the scanner must pass). Then `check_clean` runs the clean
# tree, `plant` adds one violation to a fresh clean tree and expects the scanner to name it,
# and `finish NAME` prints the tally and sets the exit status.
tmp=$(mktemp -d -t atoll-selftest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

# put ROOT PATH TEXT: write a file (the line that matters is the last one of TEXT).
put() { mkdir -p "$(dirname "$1/$2")" && printf '%s\n' "$3" >"$1/$2"; }

check_clean() {
    mkdir -p "$tmp/clean"
    clean_tree "$tmp/clean"
    local out
    out=$("$scanner" "$tmp/clean" 2>&1)
    if [ $? = 0 ]; then ok "clean tree passes"; else fail "clean tree passes"; printf '%s\n' "$out"; fi
}

n=0
# plant DESCRIPTION PATH TEXT [WHAT]: the clean tree plus PATH must fail, naming PATH:<last line>
# (and WHAT on that line when given).
plant() {
    n=$((n + 1))
    local r="$tmp/case$n"
    mkdir -p "$r"
    clean_tree "$r"
    put "$r" "$2" "$3"
    local line out status want
    line=$(wc -l <"$r/$2")
    want="^$2:$line: .*${4:-}"
    out=$("$scanner" "$r" 2>&1)
    status=$?
    if [ $status = 1 ] && grep -q "$want" <<<"$out"; then
        ok "$1 ($(grep -m1 "$want" <<<"$out" | cut -d' ' -f2-))"
    else
        fail "$1: exit status $status, expected 1 and a line $2:$line: ${4:-}"
        printf '%s\n' "$out"
    fi
}

finish() {
    echo "$1 selftest: $passed passed, $failed failed"
    [ "$failed" = 0 ]
}
