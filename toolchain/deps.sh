#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages Atoll needs, and the deb-src entries `apt-get source` needs.
# As root it installs (saying what and why); otherwise it prints the exact command and fails.
#
# usage: deps.sh run|build|test|bench
#   run: what booting an existing image needs; build: also the toolchain; test: also the tests
set -euo pipefail

want=${1:-build}
# package            why
build_pkgs=(
    clang-19 "compiles the image, the sysroot and the libOS"
    lld-19 "links the image"
    llvm-19 "llvm-ar, llvm-objdump, llvm-nm, llvm-strip for the sysroot and images"
    libclang-rt-19-dev "compiler-rt builtins linked into every image"
    libboost-context1.74-dev "Boost.Context fcontext, the thread switch"
    linux-libc-dev "Linux UAPI headers (linux/futex.h) for the sysroot"
    dpkg-dev "apt-get source unpacks musl and LLVM with dpkg-source"
    xz-utils "unpacks the LLVM source tarball"
    cmake "builds everything"
    ninja-build "builds everything"
    make "builds musl"
    qemu-system-x86 "runs the images"
    cpio "packs root file systems (add_unikernel ROOTFS, atoll run --rootfs)"
)
bench_pkgs=(
    gnuplot-nox "the benchmark charts (PNG)"
    linux-perf "profiles QEMU's time (tests/bench/qemu-profile.sh)"
    tcpdump "times the guests' ACKs on the tap (tests/bench/tcp-timing.sh)"
)
run_pkgs=(
    qemu-system-x86 "runs the images"
    cpio "packs root file systems (atoll run --rootfs)"
)
test_pkgs=(
    g++ "builds the host unit tests and the test harness"
    libgtest-dev "host unit tests (GoogleTest)"
    curl "the HTTP tests' client"
    wrk "the load tests' and the HTTP benchmark's client (tests/net/load.sh)"
    iproute2 "network namespaces and tap devices for the tap tests (ip netns, ip tuntap)"
    iputils-ping "ping into the guest after a load run (tests/net/load.sh)"
    jq "writes bench.json (tests/bench/bench-report.sh) and checks it"
    python3 "the structure checks' scanners (tests/structure)"
)

missing=()
reasons=()
check() {
    local -n list=$1
    local i
    for ((i = 0; i < ${#list[@]}; i += 2)); do
        if ! dpkg-query -W -f='${Status}' "${list[i]}" 2>/dev/null | grep -q 'ok installed'; then
            missing+=("${list[i]}")
            reasons+=("  ${list[i]}: ${list[i+1]}")
        fi
    done
}
case $want in
run) check run_pkgs ;;
build) check build_pkgs ;;
test) check build_pkgs; check test_pkgs ;;
bench) check build_pkgs; check test_pkgs; check bench_pkgs ;;
*) echo "deps.sh: unknown set '$want'" >&2; exit 2 ;;
esac

# deb-src entries, derived from this machine's own deb entries (never a hard-coded mirror).
have_deb_src() {
    grep -rqsE '^\s*deb-src\s|^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}
need_src=0
[ "$want" = run ] || have_deb_src || need_src=1

if [ ${#missing[@]} = 0 ] && [ $need_src = 0 ]; then exit 0; fi

if [ "$(id -u)" != 0 ]; then
    echo "atoll: these Debian packages are needed:" >&2
    printf '%s\n' "${reasons[@]}" >&2
    echo "atoll: run as root (or with sudo) and try again, or install them yourself:" >&2
    [ $need_src = 1 ] && echo "  (also add deb-src lines matching your deb lines to /etc/apt/sources.list.d/)" >&2
    [ ${#missing[@]} -gt 0 ] && echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

if [ $need_src = 1 ]; then
    out=/etc/apt/sources.list.d/atoll-deb-src.sources
    echo "atoll: adding deb-src entries (derived from the existing deb entries) to $out" >&2
    : >"$out.tmp"
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && [ "$f" != "$out" ] || continue
        # deb822: copy each stanza that has 'Types: deb' and a Debian suite, as deb-src.
        awk 'BEGIN{RS=""; ORS="\n\n"} /(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ && /debian/ {
                 sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f" >>"$out.tmp"
    done
    if [ -f /etc/apt/sources.list ]; then
        grep -E '^\s*deb\s' /etc/apt/sources.list | grep debian |
            sed -E 's/^\s*deb\s/deb-src /' >"/etc/apt/sources.list.d/atoll-deb-src.list" || true
    fi
    if [ -s "$out.tmp" ]; then mv "$out.tmp" "$out"; else rm -f "$out.tmp"; fi
    have_deb_src || { echo "atoll: error: found no Debian deb entries to derive deb-src from" >&2; exit 1; }
fi

echo "atoll: installing Debian packages:" >&2
printf '%s\n' "${reasons[@]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || { echo "atoll: error: apt-get update failed" >&2; exit 1; }
if [ ${#missing[@]} -gt 0 ]; then
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
        { echo "atoll: error: apt-get install ${missing[*]} failed" >&2; exit 1; }
fi
