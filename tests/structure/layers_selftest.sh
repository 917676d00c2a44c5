#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checks tests/structure/layers.sh against a fake image build of tiny archives: the layers
# calling only downwards (plus a weak undefined symbol, a libc call that reaches the libOS's
# system call hook, main called from libos) pass; a call upwards, a call to nothing, and main
# called from below libos each fail in the right layer.
#
# usage: layers_selftest.sh SYSROOT
set -u -o pipefail
[ $# = 1 ] && [ -d "$1/lib" ] || { echo "usage: layers_selftest.sh SYSROOT" >&2; exit 2; }
sysroot=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d -t atoll-layers-selftest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

# archive BUILD PATH.a C-SOURCE...: one object per source.
archive() {
    local build=$1 lib=$2 i=0 objs=()
    shift 2
    mkdir -p "$(dirname "$build/$lib")"
    for text in "$@"; do
        i=$((i + 1))
        printf '%s\n' "$text" >"$tmp/src$i.c"
        clang-19 --target=x86_64-linux-musl -ffreestanding -fno-pic -O1 -c "$tmp/src$i.c" \
            -o "$tmp/$(basename "$lib" .a)_$i.o" || exit 2
        objs+=("$tmp/$(basename "$lib" .a)_$i.o")
    done
    rm -f "$build/$lib"
    llvm-ar-19 rcs "$build/$lib" "${objs[@]}"
}

# fake BUILD [KERNEL-EXTRA] [DRIVERS-EXTRA]: the clean fake image build, with an optional extra
# object in the kernel's or the drivers' archive.
fake() {
    local b=$1 k_extra='int kernel_other(void) { return 1; }' d_extra='int driver_other(void) { return 2; }'
    [ -n "${2:-}" ] && k_extra=$2
    [ -n "${3:-}" ] && d_extra=$3
    archive "$b" kernel/libatoll_kernel.a \
        'void* memcpy(void*, const void*, unsigned long); char k_buf[8];
         void kernel_fn(const char* s) { memcpy(k_buf, s, 4); }' \
        "$k_extra"
    archive "$b" drivers/virtio/libatoll_drivers.a \
        'void kernel_fn(const char*); void driver_fn(void) { kernel_fn("drv"); }' \
        "$d_extra"
    archive "$b" net/libatoll_net.a \
        'void driver_fn(void); int lwip_fn(void); int net_port_cb(void) { return 3; }
         int net_fn(void) { driver_fn(); return lwip_fn(); }'
    archive "$b" net/lwip/libatoll_lwip.a 'int net_port_cb(void); int lwip_fn(void) { return net_port_cb(); }'
    archive "$b" libos/libatoll_libos.a \
        'int net_fn(void); int main(int, char**); extern const char atoll_image_name[];
         __attribute__((weak)) void optional_hook(void);
         int libos_fn(void) { if (optional_hook) optional_hook(); return net_fn() + main(0, 0) + atoll_image_name[0]; }'
}

# expect DESCRIPTION STATUS PATTERN [layers.sh options] -- extra objects for fake
expect() {
    local what=$1 want=$2 pattern=$3 opts=()
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    local b="$tmp/build$passed$failed"
    rm -rf "$b"
    fake "$b" "$@"
    local out status
    out=$("$here/layers.sh" "${opts[@]}" "$b" "$sysroot" 2>&1)
    status=$?
    if [ "$status" = "$want" ] && grep -qE "$pattern" <<<"$out"; then
        ok "$what"
    else
        fail "$what: exit status $status (expected $want), looked for /$pattern/"
        printf '%s\n' "$out"
    fi
}

expect "clean layers pass" 0 '^layers: PASS' --
expect "kernel calling libos fails" 1 'undefined: libos_fn: referenced by kernel/' -- \
    'int libos_fn(void); int k_up(void) { return libos_fn(); }'
expect "... and only in the kernel layer" 1 '^drivers: ok' -- \
    'int libos_fn(void); int k_up(void) { return libos_fn(); }'
expect "drivers calling net fails" 1 '^drivers: FAIL' -- '' \
    'int net_fn(void); int d_up(void) { return net_fn(); }'
expect "a symbol defined nowhere fails" 1 'undefined: nowhere_fn' -- \
    'int nowhere_fn(void); int k_x(void) { return nowhere_fn(); }'
expect "main called from the kernel fails" 1 'undefined: main: referenced by kernel/' -- \
    'int main(int, char**); int k_main(void) { return main(0, 0); }'
expect "a weak undefined symbol passes" 0 '^kernel: ok' -- \
    '__attribute__((weak)) int maybe(void); int k_w(void) { return maybe ? maybe() : 0; }'
expect "libc's system call hook is a note" 0 'note: __atoll_syscall: libc.a\(.*<- kernel/libatoll_kernel.a' -- \
    'long write(int, const void*, unsigned long); long k_write(void) { return write(1, "x", 1); }'
expect "... and a failure with --strict" 1 'undefined: __atoll_syscall' --strict -- \
    'long write(int, const void*, unsigned long); long k_write(void) { return write(1, "x", 1); }'

echo "layers selftest: $passed passed, $failed failed"
[ "$failed" = 0 ]
