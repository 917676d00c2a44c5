#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds Atoll's sysroot (musl with syscalls redirected into the libOS, libc++/libc++abi/
# libunwind, Boost.Context fcontext) from Debian source packages with clang-19.
# The result is cached under $ATOLL_CACHE (default ~/.cache/atoll) in a directory named by a
# key over the versions and Atoll's own patch files, so any change to a patch rebuilds it.
# Progress goes to stderr; the sysroot path is the only thing printed on stdout.
#
# usage: build-sysroot.sh [--print-key]
set -euo pipefail
unset LIBRARY_PATH CPATH C_INCLUDE_PATH CPLUS_INCLUDE_PATH # the machines set these; they leak into links

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ATOLL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/atoll}
musl_version=1.2.3
llvm_major=19
llvm_version=19.1.7
lwip_version=2.1.3
boost_version=1.74
# Flags every object in the image is built with (DESIGN.md §4): interrupts at ring 0 push onto
# the current stack, so no red zone; frame pointers make the panic backtrace walk work; frames
# bigger than a page probe each page (no frame jumps a stack's guard), and a canary in the
# frames that hold arrays, read from one global (kernel threads have no thread pointer to read
# a per-thread one through; musl keeps both equal).
target_cflags="-mno-red-zone -fno-omit-frame-pointer -fstack-clash-protection -fstack-protector-strong -mstack-protector-guard=global -O2"

log() { printf '[sysroot] %s\n' "$*" >&2; }
die() { printf 'atoll sysroot: error: %s\n' "$*" >&2; exit 1; }

key_inputs() {
    echo "musl=$musl_version llvm=$llvm_version boost=$boost_version lwip=$lwip_version flags=$target_cflags"
    (cd "$here" && find build-sysroot.sh musl -type f | LC_ALL=C sort | xargs sha256sum)
}
key=$(key_inputs | sha256sum | cut -c1-16)
if [ "${1:-}" = "--print-key" ]; then echo "$key"; exit 0; fi

sysroot="$cache/sysroot-$key"
if [ -f "$sysroot/.complete" ]; then echo "$sysroot"; exit 0; fi

for tool in clang-$llvm_major clang++-$llvm_major ld.lld-$llvm_major llvm-ar-$llvm_major \
            llvm-ranlib-$llvm_major llvm-objdump-$llvm_major cmake ninja make dpkg-source apt-get; do
    command -v "$tool" >/dev/null || die "missing tool '$tool' (run ./atoll sysroot to install the packages)"
done
fcontext_lib=/usr/lib/x86_64-linux-gnu/libboost_context.a
[ -f "$fcontext_lib" ] || die "missing $fcontext_lib (package libboost-context$boost_version-dev)"
[ -d /usr/include/linux ] || die "missing /usr/include/linux (package linux-libc-dev)"

mkdir -p "$cache"
exec 9>"$cache/sysroot.lock"
if ! flock -n 9; then
    log "another build of the sysroot is running; waiting for it"
    flock 9
fi
if [ -f "$sysroot/.complete" ]; then echo "$sysroot"; exit 0; fi

start=$(date +%s)
work="$cache/work-$key"
rm -rf "$work" "$sysroot"
mkdir -p "$work" "$cache/src"

# ---------------------------------------------------------------- sources
fetch_source() { # fetch_source PKG: downloads the Debian source package into $cache/src once
    local pkg=$1
    if ls "$cache/src/${pkg}_"*.dsc >/dev/null 2>&1; then return 0; fi
    log "downloading Debian source package '$pkg'"
    if ! (cd "$cache/src" && apt-get source --download-only "$pkg" >&2); then
        die "apt-get source $pkg failed: are deb-src entries configured? (./atoll sysroot adds them as root)"
    fi
}
fetch_source musl
fetch_source llvm-toolchain-$llvm_major
fetch_source lwip

musl_dsc=$(ls "$cache/src/musl_${musl_version}"*.dsc 2>/dev/null | head -1)
[ -n "$musl_dsc" ] || die "Debian's musl source is not version $musl_version: $(ls "$cache/src"/musl_*.dsc)"
log "unpacking musl"
dpkg-source --no-check -x "$musl_dsc" "$work/musl" >/dev/null

llvm_orig=$(ls "$cache/src/llvm-toolchain-${llvm_major}_${llvm_version}"*.orig.tar.* 2>/dev/null | head -1)
[ -n "$llvm_orig" ] || die "Debian's llvm-toolchain-$llvm_major source is not $llvm_version"
log "unpacking the LLVM runtimes from $(basename "$llvm_orig") (only the parts needed)"
mkdir -p "$work/llvm"
top=$(basename "$llvm_orig"); top=${top%.orig.tar.*}   # the tarball unpacks into this directory
tar -xf "$llvm_orig" -C "$work/llvm" --strip-components=1 \
    "$top/runtimes" "$top/libcxx" "$top/libcxxabi" "$top/libunwind" "$top/cmake" \
    "$top/llvm/cmake" "$top/llvm/utils/llvm-lit" "$top/third-party" ||
    die "unpacking $llvm_orig failed"

# ---------------------------------------------------------------- musl
log "patching musl: system calls become calls to __atoll_syscall()"
m="$work/musl"
cp "$here/musl/syscall_arch.h" "$m/arch/x86_64/syscall_arch.h"
cp "$here/musl/syscall_cp.s" "$m/src/thread/x86_64/syscall_cp.s"
cp "$here/musl/__set_thread_area.s" "$m/src/thread/x86_64/__set_thread_area.s"
cp "$here/musl/clone.s" "$m/src/thread/x86_64/clone.s"
cp "$here/musl/__unmapself.s" "$m/src/thread/x86_64/__unmapself.s"
cp "$here/musl/restore.s" "$m/src/signal/x86_64/restore.s"
rm -f "$m/src/process/x86_64/vfork.s"
# In ring 0 `hlt` does not fault: it waits for the next interrupt and then runs on past a
# detected heap corruption. ud2 raises #UD, which the kernel reports as a panic.
grep -q '"hlt"' "$m/arch/x86_64/atomic_arch.h" || die "musl's a_crash() no longer uses hlt: recheck the patch"
sed -i 's/__asm__ __volatile__( "hlt" : : : "memory" );/__asm__ __volatile__( "ud2" : : : "memory" );/' \
    "$m/arch/x86_64/atomic_arch.h"
grep -q '"ud2"' "$m/arch/x86_64/atomic_arch.h" || die "patching a_crash() failed"
# A smashed stack canary is reported by the libOS (a panic that says so, status 134 as for
# abort), not by a bare ud2.
ssp="$m/src/env/__stack_chk_fail.c"
grep -q '^	a_crash();$' "$ssp" || die "musl's __stack_chk_fail() changed: recheck the patch"
sed -i -e 's/^uintptr_t __stack_chk_guard;$/uintptr_t __stack_chk_guard;\nvoid __atoll_stack_smashed(void);/' \
    -e 's/^	a_crash();$/	__atoll_stack_smashed();\n	a_crash();/' "$ssp"
grep -q '__atoll_stack_smashed();' "$ssp" || die "patching __stack_chk_fail() failed"

log "configuring musl"
(cd "$m" && CC=clang-$llvm_major AR=llvm-ar-$llvm_major RANLIB=llvm-ranlib-$llvm_major \
    CFLAGS="--target=x86_64-linux-musl $target_cflags" \
    ./configure --target=x86_64-linux-musl --prefix="$sysroot" --syslibdir="$sysroot/lib" \
    --disable-shared >"$work/musl-configure.log" 2>&1) || { tail -30 "$work/musl-configure.log" >&2; die "musl configure failed"; }
log "building musl (about 80 s on 2 cores)"
make -C "$m" -j"$(nproc)" AR=llvm-ar-$llvm_major RANLIB=llvm-ranlib-$llvm_major >"$work/musl-build.log" 2>&1 ||
    { tail -30 "$work/musl-build.log" >&2; die "musl build failed (log: $work/musl-build.log)"; }
make -C "$m" install >"$work/musl-install.log" 2>&1 || die "musl install failed"

# libc++ includes linux/futex.h; the kernel UAPI headers come from linux-libc-dev.
cp -r /usr/include/linux /usr/include/asm-generic "$sysroot/include/"
cp -r /usr/include/x86_64-linux-gnu/asm "$sysroot/include/asm"

count=$(llvm-objdump-$llvm_major -d --no-show-raw-insn "$sysroot/lib/libc.a" | grep -cE '^\s+[0-9a-f]+:\s+syscall\b' || true)
[ "$count" = 0 ] || die "libc.a still contains $count syscall instructions"

# ---------------------------------------------------------------- libc++ stack
# Feature checks cannot link against the redirected libc (try-compiles only compile), so a
# check for a glibc-only function "succeeds": __cxa_thread_atexit_impl is turned off by hand
# (libc++abi then runs thread_local destructors through pthread keys).
log "configuring libc++, libc++abi, libunwind $llvm_version"
rt="$work/build-runtimes"
cmake -G Ninja -S "$work/llvm/runtimes" -B "$rt" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$sysroot" \
    -DCMAKE_C_COMPILER=clang-$llvm_major -DCMAKE_CXX_COMPILER=clang++-$llvm_major \
    -DCMAKE_ASM_COMPILER=clang-$llvm_major \
    -DCMAKE_AR=/usr/bin/llvm-ar-$llvm_major -DCMAKE_RANLIB=/usr/bin/llvm-ranlib-$llvm_major \
    -DCMAKE_C_COMPILER_TARGET=x86_64-linux-musl -DCMAKE_CXX_COMPILER_TARGET=x86_64-linux-musl \
    -DCMAKE_ASM_COMPILER_TARGET=x86_64-linux-musl \
    -DCMAKE_SYSROOT="$sysroot" -DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY \
    -DCMAKE_C_FLAGS="$target_cflags" -DCMAKE_CXX_FLAGS="$target_cflags" \
    -DLLVM_ENABLE_RUNTIMES="libcxx;libcxxabi;libunwind" \
    -DLLVM_INCLUDE_TESTS=OFF -DLLVM_INCLUDE_DOCS=OFF \
    -DLIBCXX_HAS_MUSL_LIBC=ON -DLIBCXX_ENABLE_SHARED=OFF -DLIBCXX_ENABLE_STATIC=ON \
    -DLIBCXX_CXX_ABI=libcxxabi -DLIBCXX_USE_COMPILER_RT=ON \
    -DLIBCXX_INCLUDE_TESTS=OFF -DLIBCXX_INCLUDE_BENCHMARKS=OFF -DLIBCXX_INCLUDE_DOCS=OFF \
    -DLIBCXX_ENABLE_THREADS=ON -DLIBCXX_HAS_PTHREAD_API=ON \
    -DLIBCXXABI_ENABLE_SHARED=OFF -DLIBCXXABI_ENABLE_STATIC=ON -DLIBCXXABI_USE_LLVM_UNWINDER=ON \
    -DLIBCXXABI_USE_COMPILER_RT=ON -DLIBCXXABI_INCLUDE_TESTS=OFF -DLIBCXXABI_ENABLE_THREADS=ON \
    -DLIBCXXABI_HAS_CXA_THREAD_ATEXIT_IMPL=OFF \
    -DLIBUNWIND_ENABLE_SHARED=OFF -DLIBUNWIND_ENABLE_STATIC=ON -DLIBUNWIND_USE_COMPILER_RT=ON \
    -DLIBUNWIND_INCLUDE_TESTS=OFF -DLIBUNWIND_INCLUDE_DOCS=OFF \
    >"$work/runtimes-configure.log" 2>&1 ||
    { tail -40 "$work/runtimes-configure.log" >&2; die "runtimes configure failed (log: $work/runtimes-configure.log)"; }
log "building libc++, libc++abi, libunwind (about 2 minutes on 2 cores)"
if [ -t 2 ]; then
    ninja -C "$rt" install-cxx install-cxxabi install-unwind >&2 ||
        die "runtimes build failed"
else
    ninja -C "$rt" install-cxx install-cxxabi install-unwind 2>&1 |
        awk '/^\[[0-9]+\/[0-9]+\]/ { n++; if (n % 100 == 0) { print "[sysroot]   " $1 > "/dev/stderr" } next }
             /^-- (Install|Up-to-date)/ { next }
             { print > "/dev/stderr" }'
    [ "${PIPESTATUS[0]}" = 0 ] || die "runtimes build failed"
fi

# ---------------------------------------------------------------- lwIP
# The TCP/IP stack's sources, compiled by net/ with Atoll's own lwipopts.h and port.
lwip_dsc=$(ls "$cache/src/lwip_${lwip_version}"*.dsc 2>/dev/null | head -1)
[ -n "$lwip_dsc" ] || die "Debian's lwip source is not version $lwip_version"
log "unpacking lwIP $lwip_version"
dpkg-source --no-check -x "$lwip_dsc" "$work/lwip" >/dev/null
[ -d "$work/lwip/src/core" ] && [ -d "$work/lwip/src/include/lwip" ] || die "the lwip source has no src/core"
mkdir -p "$sysroot/src/lwip"
cp -r "$work/lwip/src/core" "$work/lwip/src/api" "$work/lwip/src/netif" "$work/lwip/src/include" "$sysroot/src/lwip/"

# ---------------------------------------------------------------- Boost.Context
log "taking Boost.Context fcontext from $fcontext_lib"
(cd "$work" && llvm-ar-$llvm_major x "$fcontext_lib" make_x86_64_sysv_elf_gas.o \
    jump_x86_64_sysv_elf_gas.o ontop_x86_64_sysv_elf_gas.o &&
 llvm-ar-$llvm_major rcs "$sysroot/lib/libfcontext.a" make_x86_64_sysv_elf_gas.o \
    jump_x86_64_sysv_elf_gas.o ontop_x86_64_sysv_elf_gas.o)

cp /usr/lib/llvm-$llvm_major/lib/clang/$llvm_major/lib/linux/libclang_rt.builtins-x86_64.a \
    "$sysroot/lib/libclang_rt.builtins.a"
key_inputs >"$sysroot/.inputs"
touch "$sysroot/.complete"
rm -rf "$work"
log "done in $(( $(date +%s) - start )) s: $sysroot"
echo "$sysroot"
