#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# clang's thread-safety analysis on the lock types (issue 13) catches what it is there for:
# the layers are built with it as an error (kernel/CMakeLists.txt, atoll_layer_options), and
# small programs against kernel/lock.h compile when they hold the lock and fail to compile
# when they read or write guarded data without it, call a _locked function without it, reach
# Protected<T>'s data outside with(), or leave a function still holding a lock. (The analysis
# does not follow a pointer that escapes with(), nor a lock taken again by its holder:
# RecursiveSpinLock's nesting happens across lwIP's C functions, which it does not see.)
# Exit status 0 when all of that holds, 1 otherwise, 2 on a usage error.
#
# usage: thread_safety.sh SRC_ROOT [CLANG++]
set -u -o pipefail
if [ $# -lt 1 ] || [ ! -d "$1" ]; then
    echo "usage: thread_safety.sh SRC_ROOT [CLANG++]" >&2
    exit 2
fi
root=$(cd "$1" && pwd)
cxx=${2:-clang++-19}
command -v "$cxx" >/dev/null || { echo "thread_safety: $cxx not found" >&2; exit 2; }
tmp=$(mktemp -d -t atoll-thread-safety.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

# The layers' options: the analysis is on, and an error.
if sed -n '/add_library(atoll_layer_options/,/^target_link_libraries/p' "$root/kernel/CMakeLists.txt" |
    grep -q -- '-Werror=thread-safety' &&
    sed -n '/add_library(atoll_layer_options/,/^target_link_libraries/p' "$root/kernel/CMakeLists.txt" |
    grep -q -- '-Wthread-safety'; then
    ok "atoll_layer_options has -Wthread-safety -Werror=thread-safety"
else
    fail "atoll_layer_options has -Wthread-safety -Werror=thread-safety"
fi

compile() { # FILE: compiles as the layers do (the analysis' flags), syntax only
    "$cxx" -std=c++2b -fsyntax-only -ffreestanding -Wthread-safety -Werror=thread-safety \
        -I"$root/kernel/include" -I"$root/kernel/arch/x86_64/include" "$1" 2>&1
}

prelude='#include <kernel/lock.h>
using namespace atl;
using namespace atl::kernel;
SpinLock s_lock; // lock order: a leaf
int s_count ATL_GUARDED_BY(s_lock) = 0;
int* s_table ATL_PT_GUARDED_BY(s_lock) = nullptr;
void bump_locked() ATL_REQUIRES(s_lock) { ++s_count; }
struct Pair { int a = 0, b = 0; };
Protected<Pair> s_pair;
'

# case NAME EXPECT(pass|fail) BODY
check() {
    local f="$tmp/case$((passed + failed)).cpp" out status
    printf '%s\n%s\n' "$prelude" "$3" >"$f"
    out=$(compile "$f")
    status=$?
    if [ "$2" = pass ] && [ $status = 0 ]; then
        ok "$1: compiles"
    elif [ "$2" = fail ] && [ $status != 0 ] && grep -q 'thread-safety' <<<"$out"; then
        ok "$1: rejected ($(grep -m1 -o 'error: .*' <<<"$out"))"
    else
        fail "$1: expected to $2, compiler exit status $status"
        printf '%s\n' "$out" | head -20
    fi
}

check "guard, read and write" pass 'int f() { SpinLockGuard guard(s_lock); bump_locked(); s_table[0] = 1; return s_count; }'
check "explicit lock and unlock" pass 'int f() { IrqState st = s_lock.lock(); int v = s_count; s_lock.unlock(st); return v; }'
check "Protected::with" pass 'int f() { return s_pair.with([](Pair& p) { return p.a + p.b; }); }'
check "InterruptGuard and RecursiveSpinLock" pass 'RecursiveSpinLock s_r; int f() { InterruptGuard off; IrqState a = s_r.lock(); s_r.unlock(a); return 0; }'
check "read without the lock" fail 'int f() { return s_count; }'
check "write without the lock" fail 'void f() { s_count = 2; }'
check "write through a guarded pointer without the lock" fail 'void f() { s_table[0] = 2; }'
check "_locked function called without the lock" fail 'void f() { bump_locked(); }'
check "read after the guard's scope" fail 'int f() { { SpinLockGuard guard(s_lock); } return s_count; }'
check "lock still held at the end" fail 'void f() { IrqState st = s_lock.lock(); (void)st; }'
check "unlock of a lock not held" fail 'void f(IrqState st) { s_lock.unlock(st); }'
check "Protected's data outside with()" fail 'int f() { return s_pair.locked_data().a; }'

echo "thread_safety: $passed passed, $failed failed"
[ "$failed" = 0 ]
