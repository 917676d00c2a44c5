#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The in-guest boot phases (atoll.bootstats) of images under QEMU's deterministic instruction
# counting (-icount shift=0,sleep=off: one instruction per virtual ns, the TSC at 1 GHz), where
# they repeat exactly from boot to boot, so a change in the boot shows in the figures and not in
# the noise of a busy machine. Each image boots twice; a difference between the two boots is
# reported. A benchmark: it prints numbers, never fails on them.
# usage: boot-phases.sh IMAGE... (MACHINE=microvm|q35|pc, MEM=16M in the environment)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -gt 0 ] || { echo "usage: boot-phases.sh IMAGE..." >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "boot-phases: qemu-system-x86_64 not found" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/qemu" <<'EOT'
#!/bin/sh
exec qemu-system-x86_64 -icount shift=0,sleep=off "$@"
EOT
chmod +x "$tmp/qemu"

phases() { # IMAGE: the bootstats lines, "atoll: " cut
    ATOLL_QEMU="$tmp/qemu" "$root/atoll" run --machine "${MACHINE:-microvm}" --mem "${MEM:-16M}" --bootstats "$1" \
        2>&1 >/dev/null | sed -n 's/^atoll: bootstats: \(phase .*\|first instruction.*\)$/\1/p'
}

for image in "$@"; do
    echo "== $(basename "$image") ($(stat -c %s "$image") bytes), -M ${MACHINE:-microvm}, -icount shift=0"
    phases "$image" >"$tmp/a"
    phases "$image" >"$tmp/b"
    cat "$tmp/a"
    if ! [ -s "$tmp/a" ]; then
        echo "(no bootstats lines: the image did not boot)"
    elif cmp -s "$tmp/a" "$tmp/b"; then
        echo "(a second boot gave the same figures)"
    else
        echo "(a second boot differed:)"
        diff "$tmp/a" "$tmp/b" | sed 's/^/  /' || true
    fi
done
