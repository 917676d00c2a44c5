#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checks tests/structure/locks.sh against a tiny fake tree: a clean tree (irq_save in comments,
# in strings and in the lock types' own files; _locked functions with ATL_REQUIRES; calls of
# them; names that only end in "locked") must pass, and the clean tree plus any one planted
# violation must fail naming the planted file and line.
set -u -o pipefail
scanner=$(cd "$(dirname "$0")" && pwd)/locks.sh
clean_tree() {
    local r=$1
    put "$r" kernel/include/kernel/lock.h '#pragma once
class SpinLock { IrqState lock() { IrqState s = irq_save(); return s; } void unlock(IrqState s) { irq_restore(s); } };'
    put "$r" kernel/include/kernel/interrupts.h 'IrqState irq_save();
void irq_restore(IrqState s);'
    put "$r" kernel/arch/x86_64/apic.cpp 'IrqState irq_save() { return {}; }
void irq_restore(IrqState) { }'
    put "$r" kernel/src/clean.cpp '// Before issue 13: IrqState s = irq_save(); ... irq_restore(s);
/* irq_save(); irq_restore(s); void foo_locked(int); */
namespace atl::kernel {
const char* k_text = "irq_save() irq_restore(s) void bar_locked(int);";
SpinLock s_lock;
int s_count ATL_GUARDED_BY(s_lock);
void add_locked(int n) ATL_REQUIRES(s_lock);
void add_locked(int n) ATL_REQUIRES(s_lock) { s_count += n; }
static bool take_locked(Box* b,
    int n) ATL_REQUIRES(b->lock)
{
    return n > 0;
}
struct Box {
    void drain_locked() const ATL_REQUIRES(lock);
    bool full_locked() const ATL_REQUIRES(lock) { return n == 4; }
    void Box::refill_locked() ATL_REQUIRES(lock);
};
void Box::drain_locked() const ATL_REQUIRES(lock) { }
void add(int n)
{
    SpinLockGuard guard(s_lock);
    add_locked(n);
    (void)take_locked(nullptr, n);
    bool f = box->full_locked() || box.full_locked();
    if (!take_locked(nullptr, 1))
        return add_locked(2);
    int v = x * 2;
    bool unlocked = is_unlocked(v); // a name that only ends in "locked"
    interlocked(v);
}
} // namespace atl::kernel'
    put "$r" libos/tests/fake.cpp 'void f() { irq_save(); }'
}

# shellcheck source=selftest_lib.sh
. "$(dirname "$0")/selftest_lib.sh"
check_clean

plant "irq_save in the kernel" kernel/src/p1.cpp 'void f() {
    IrqState s = kernel::irq_save();' irq_save
plant "irq_restore in a driver" drivers/virtio/net/p2.cpp 'void f(IrqState s) { atl::kernel::irq_restore(s); }' irq_restore
plant "discarded irq_save in the libOS" libos/proc/p3.cpp '    kernel::irq_save();' irq_save
plant "irq_save in lwIP's port" net/lwip_port/p4.cpp 'sys_prot_t sys_arch_protect(void) { return kernel::irq_save().flags; }' irq_save
plant "irq_save in a header outside the lock types" kernel/include/kernel/p5.h 'inline void f() { (void)irq_save(); }' irq_save
plant "_locked definition without ATL_REQUIRES" kernel/src/p6.cpp 'void add_locked(int n) { s_count += n; }' add_locked
plant "_locked declaration without ATL_REQUIRES" kernel/src/p7.h 'void* kmalloc_locked(std::size_t size);' kmalloc_locked
plant "_locked member without ATL_REQUIRES" drivers/p8.cpp 'struct Q {
    void reclaim_tx_locked() { }' reclaim_tx_locked
plant "static _locked, its lock named only in a comment" net/p9.cpp '// ATL_REQUIRES(m->lock)
static void put_locked(Box* m, void* msg) /* ATL_REQUIRES(m->lock) */ { }' put_locked
plant "out-of-class _locked definition" libos/net/p10.cpp 'void Socket::drain_locked() const { }' drain_locked

finish locks
