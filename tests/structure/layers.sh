#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Layering (issue 12): each layer's code may call only the layers below it. Links every object
# of a layer's archives (--whole-archive) with only the archives of the layers below it and the
# sysroot's libraries, and fails on any undefined symbol, so a call upwards fails here even
# where the image links (lld does not care about archive order).
#
# usage: layers.sh GUEST_BUILD_DIR SYSROOT [SRC_ROOT]
#   GUEST_BUILD_DIR  the image build (build/guest); its archives are those its build.ninja
#                    makes (stale archives of renamed targets are ignored), or every *.a in it
#                    without a build.ninja; an archive belongs to the layer named by the first
#                    folder of its path (kernel/, drivers/, net/, libos/), so moves inside a
#                    layer and splitting a layer into several targets need no change here
#   SYSROOT          Atoll's sysroot (libc.a, libc++.a, ... in SYSROOT/lib)
#   SRC_ROOT         the sources (kernel/linker.ld); default: this script's ../..
#
# Layers, bottom-up: kernel, drivers, net (Atoll's port and lwIP), libos. Weak undefined
# symbols are allowed (they resolve to 0), and so are, in libos only, the symbols every image
# defines on top of it (main, atoll_image_name, atoll_builtin_cmdline). An undefined
# reference of a lower layer is reported (and fails) in that layer's own link only. The sysroot's C library reaches the libOS through
# two hooks (__atoll_syscall: every system call; __atoll_stack_smashed: a failed stack canary);
# a lower layer that pulls a libc member referring to them is listed with the chain of symbols
# that pulled it, as a note, not a failure (--strict makes it one). Any other undefined
# symbol, from the layer's own code or from what it pulls out of the sysroot, is a failure.
set -u -o pipefail
strict=0
if [ "${1:-}" = --strict ]; then
    strict=1
    shift
fi
if [ $# -lt 2 ] || [ $# -gt 3 ] || [ ! -d "$1" ] || [ ! -d "$2/lib" ]; then
    echo "usage: layers.sh [--strict] GUEST_BUILD_DIR SYSROOT [SRC_ROOT]" >&2
    exit 2
fi
guest=$(cd "$1" && pwd)
sysroot=$(cd "$2" && pwd)
src=${3:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -f "$src/kernel/linker.ld" ] || { echo "layers: FAIL: no linker script $src/kernel/linker.ld" >&2; exit 2; }
lld=$(command -v ld.lld-19 || command -v /usr/lib/llvm-19/bin/ld.lld) ||
    { echo "layers: FAIL: ld.lld-19 not found (Debian package lld-19)" >&2; exit 2; }

layers=(kernel drivers net libos)
sysroot_libs=()
for lib in libc++.a libc++abi.a libunwind.a libc.a libfcontext.a libclang_rt.builtins.a; do
    [ -f "$sysroot/lib/$lib" ] || { echo "layers: FAIL: no $sysroot/lib/$lib" >&2; exit 2; }
    sysroot_libs+=("$sysroot/lib/$lib")
done

# The archives of the image build, relative to it.
if [ -f "$guest/build.ninja" ] && command -v ninja >/dev/null; then
    archives=$(ninja -C "$guest" -t targets all 2>/dev/null | sed -n 's/^\([^ ]*\.a\): .*STATIC_LIBRARY_LINKER.*/\1/p')
else
    archives=$(cd "$guest" && find . -name '*.a' -not -path '*/CMakeFiles/*' | sed 's|^\./||')
fi
declare -A members
for layer in "${layers[@]}"; do
    members[$layer]=""
done
for a in $archives; do
    layer=${a%%/*}
    [ -n "${members[$layer]+set}" ] || continue
    [ -f "$guest/$a" ] || { echo "layers: FAIL: $guest/$a is not built (build the images first)"; exit 1; }
    members[$layer]+=" $guest/$a"
done
for layer in "${layers[@]}"; do
    [ -n "${members[$layer]}" ] || { echo "layers: FAIL: no archive of layer $layer in $guest"; exit 1; }
done

tmp=$(mktemp -d -t atoll-layers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# The image's linker script without its whole-image checks (one image, one libOS registered):
# a single layer registers neither.
script="$tmp/linker.ld"
grep -v '^ *ASSERT(__atl_reg_' "$src/kernel/linker.ld" >"$script"
failed=0
below=()
for layer in "${layers[@]}"; do
    # shellcheck disable=SC2206 # archive paths have no spaces (CMake build trees)
    own=(${members[$layer]})
    echo "== $layer: ${members[$layer]//"$guest/"/} over: ${below[*]:-the sysroot only}"
    link=("$lld" -static --no-demangle --error-limit=0 -T "$script" -e 0 -o /dev/null
        --why-extract="$tmp/$layer.why" --whole-archive "${own[@]}" --no-whole-archive)
    for b in "${below[@]}"; do
        # shellcheck disable=SC2206
        link+=(${members[$b]})
    done
    link+=("${sysroot_libs[@]}")
    "${link[@]}" >"$tmp/$layer.out" 2>&1
    status=$?
    undefined=$(sed -n 's/.*error: undefined symbol: //p' "$tmp/$layer.out" | sort -u)
    traces=()
    for sym in $undefined; do
        traces+=(-y "$sym")
    done
    if [ -n "$undefined" ]; then
        "${link[@]}" "${traces[@]}" 2>&1 | grep ': reference to ' >"$tmp/$layer.refs"
    else
        : >"$tmp/$layer.refs"
    fi
    top=0
    [ "$layer" = "${layers[-1]}" ] && top=1
    lower=""
    for b in "${below[@]}"; do
        lower+=" ${members[$b]}"
    done
    LOWER=$lower python3 - "$layer" "$tmp/$layer.why" "$tmp/$layer.refs" "$guest" "$sysroot" "$strict" "$status" \
        "$tmp/$layer.out" "$top" <<'PY'
import os
import re
import subprocess
import sys

layer, why_file, refs_file, guest, sysroot, strict, status, out_file, top = sys.argv[1:10]
lower = os.environ.get("LOWER", "").split()
hooks = {"__atoll_syscall", "__atoll_stack_smashed"}
# What every image defines above the libOS: the program's main and the image's name and
# built-in command line (cmake/AtollImage.cmake, the image-info file).
image_symbols = {"main", "atoll_image_name", "atoll_builtin_cmdline"}


def in_lower(member):
    return any(member.startswith(a + "(") for a in lower)


def short(path):
    return path.replace(guest + "/", "").replace(sysroot + "/lib/", "")


def demangle(sym):
    try:
        return subprocess.run(["llvm-cxxfilt-19", sym], capture_output=True, text=True).stdout.strip() or sym
    except OSError:
        return sym


# Which member pulled which: extracted member -> (referencing member, symbol).
pulled_by = {}
if not os.path.exists(why_file):  # lld writes it only when the link got that far
    open(why_file, "w").close()
with open(why_file) as f:
    for line in f.read().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 3:
            pulled_by.setdefault(parts[1], (parts[0], parts[2]))


def chain(member):
    steps, seen = [short(member)], set()
    while member in pulled_by and member not in seen:
        seen.add(member)
        member, sym = pulled_by[member]
        steps += [sym, short(member)]
    return " <- ".join(steps)


refs = {}
with open(refs_file) as f:
    for line in f:
        m = re.match(r"(.*): reference to (\S+)$", line.strip())
        if m:
            refs.setdefault(m.group(2), []).append(m.group(1))

def chain_through_lower(member):
    seen = set()
    while member in pulled_by and member not in seen:
        seen.add(member)
        member = pulled_by[member][0]
        if in_lower(member):
            return True
    return False


failures, notes, lower_failures = [], [], 0
for sym in sorted(refs):
    for member in refs[sym]:
        from_sysroot = member.startswith(sysroot + "/")
        what = f"{demangle(sym)}" + (f" ({sym})" if demangle(sym) != sym else "")
        if in_lower(member) or (from_sysroot and chain_through_lower(member)):
            # A lower layer's own reference (or what it pulled from the sysroot): every member
            # of that layer was in its own link, so it is reported there.
            lower_failures += 0 if sym in hooks else 1
        elif from_sysroot and sym in hooks and strict != "1":
            notes.append(f"  note: {what}: {chain(member)}")
        elif sym in image_symbols and top == "1" and not from_sysroot:
            notes.append(f"  note: {what} (defined by each image): referenced by {short(member)}")
        elif from_sysroot:
            failures.append(f"  undefined: {what}: {chain(member)}")
        else:
            failures.append(f"  undefined: {what}: referenced by {short(member)}")
if lower_failures:
    notes.append(f"  note: {lower_failures} undefined reference(s) of the layers below, reported there")

with open(out_file) as f:
    other = [l for l in f.read().splitlines() if "error:" in l and "undefined symbol:" not in l]
for l in other:
    failures.append("  " + l.replace(guest + "/", "").replace(sysroot + "/lib/", ""))
if status != "0" and not failures and not notes:
    failures.append(f"  the link failed (exit status {status}) without an undefined symbol; see above")
for n in notes:
    print(n)
for l in failures:
    print(l)
if failures:
    print(f"{layer}: FAIL: {len(failures)} undefined reference(s) or link errors")
    sys.exit(1)
print(f"{layer}: ok" + (f" ({len(notes)} note(s))" if notes else ""))
PY
    [ $? = 0 ] || failed=$((failed + 1))
    below=("$layer" "${below[@]}")
done
if [ "$failed" != 0 ]; then
    echo "layers: FAIL: $failed layer(s) call upwards or do not link"
    exit 1
fi
echo "layers: PASS"
