#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds Atoll's runtime libraries, libatoll_kernel.a and libatoll_libos.a, for the compiler
# drivers (toolchain/bin/atoll-cc, atoll-c++), which link them into every image.
#
# The result is a read-only directory $ATOLL_CACHE/runtime-<key> (ATOLL_CACHE defaults to
# ~/.cache/atoll) holding the two archives. The key is the sysroot's key plus a hash of every
# file under kernel/, libos/, cmake/ and of toolchain/atoll.cmake and this script, so a link
# always gets the runtime of the sources as they are now. When that directory exists the
# script only hashes the sources (a few milliseconds). Otherwise it re-runs ninja in one build
# directory per sysroot key and checkout (incremental: only what changed is recompiled) and
# copies the archives into a new key directory; the last few key directories are kept.
# A lock serialises concurrent invocations (make -j runs several links at once).
# Progress goes to stderr; the directory is the only thing printed on stdout.
#
# usage: build-runtime.sh [SYSROOT]     (default: the sysroot of toolchain/build-sysroot.sh)
set -euo pipefail
unset LIBRARY_PATH CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH # the machines set these; they leak into links

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
root=$(cd "$here/.." && pwd)
cache=${ATOLL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/atoll}
keep=4 # key directories kept per sysroot

log() { printf '[runtime] %s\n' "$*" >&2; }
die() { printf 'atoll runtime: error: %s\n' "$*" >&2; exit 1; }

sysroot=${1:-${ATOLL_SYSROOT:-}}
[ -n "$sysroot" ] || sysroot=$("$here/build-sysroot.sh") || die "no sysroot (run $root/atoll sysroot)"
[ -f "$sysroot/.complete" ] || die "$sysroot is not a complete sysroot (run $root/atoll sysroot)"
sysroot=$(cd "$sysroot" && pwd)
case $(basename "$sysroot") in
sysroot-*) sysroot_key=${sysroot##*/sysroot-} ;;
*) sysroot_key=$(printf '%s' "$sysroot" | sha256sum | cut -c1-16) ;; # a sysroot outside the cache
esac

source_hash() {
    (cd "$root" && {
        find kernel drivers net libos cmake -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
        sha256sum toolchain/atoll.cmake toolchain/build-runtime.sh
    }) | sha256sum | cut -c1-16
}

hash=$(source_hash)
out="$cache/runtime-$sysroot_key-$hash"
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

command -v cmake >/dev/null && command -v ninja >/dev/null ||
    die "cmake and ninja are needed to build the runtime (run $root/atoll sysroot to install the packages)"

# One build directory per sysroot and checkout: ninja rebuilds only what changed.
checkout=$(printf '%s' "$root" | sha256sum | cut -c1-8)
bdir="$cache/runtime-build-$sysroot_key-$checkout"
mkdir -p "$bdir/src"
exec 9>"$bdir.lock"
if ! flock -n 9; then
    log "another build of the runtime is running; waiting for it"
    flock 9
fi
hash=$(source_hash)
out="$cache/runtime-$sysroot_key-$hash"
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

# The same subdirectories find_package(Atoll) adds (cmake/AtollConfig.cmake), on their own.
project="cmake_minimum_required(VERSION 3.20)
project(atoll_runtime LANGUAGES C CXX ASM)
add_subdirectory(\"\${ATOLL_ROOT}/kernel\" kernel)
add_subdirectory(\"\${ATOLL_ROOT}/drivers\" drivers)
add_subdirectory(\"\${ATOLL_ROOT}/net\" net)
add_subdirectory(\"\${ATOLL_ROOT}/libos\" libos)
"
if [ "$(cat "$bdir/src/CMakeLists.txt" 2>/dev/null)" != "${project%$'\n'}" ]; then
    printf '%s' "$project" >"$bdir/src/CMakeLists.txt"
fi

start=$(date +%s%N)
if [ ! -f "$bdir/build/build.ninja" ]; then
    log "configuring the runtime (kernel, libOS) in $bdir/build"
    rm -rf "$bdir/build"
    cmake -G Ninja -S "$bdir/src" -B "$bdir/build" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_TOOLCHAIN_FILE="$root/toolchain/atoll.cmake" -DATOLL_SYSROOT="$sysroot" \
        >"$bdir/configure.log" 2>&1 || { cat "$bdir/configure.log" >&2; die "configuring the runtime failed"; }
fi
for attempt in 1 2 3; do
    log "building the runtime (kernel, libOS) for sources $hash"
    ninja -C "$bdir/build" atoll_kernel atoll_drivers atoll_lwip atoll_net atoll_libos >&2 || die "building the runtime failed (build directory: $bdir/build)"
    now=$(source_hash)
    [ "$now" != "$hash" ] || break
    log "the sources changed during the build; building again"
    hash=$now
done
out="$cache/runtime-$sysroot_key-$hash"

if [ ! -f "$out/.complete" ]; then
    tmp=$(mktemp -d "$cache/.runtime-tmp.XXXXXX")
    cp "$bdir/build/kernel/libatoll_kernel.a" "$bdir/build/drivers/libatoll_drivers.a" "$bdir/build/net/libatoll_net.a" \
        "$bdir/build/net/libatoll_lwip.a" "$bdir/build/libos/libatoll_libos.a" "$tmp/"
    printf 'root=%s\nsysroot=%s\n' "$root" "$sysroot" >"$tmp/.complete"
    chmod 755 "$tmp"
    rm -rf "$out"
    mv -T "$tmp" "$out" 2>/dev/null || rm -rf "$tmp" # another checkout made the same one first
fi
touch "$out"
# Keep the newest few runtimes of this sysroot (a link that is still reading an older one
# keeps its open files; only runtimes replaced several times over go).
ls -1dt "$cache/runtime-$sysroot_key"-*/ 2>/dev/null | tail -n +$((keep + 1)) | while read -r old; do
    rm -rf "$old"
done
ms=$((($(date +%s%N) - start) / 1000000))
log "runtime ready in $out ($((ms / 1000)).$(printf '%03d' $((ms % 1000))) s)"
echo "$out"
