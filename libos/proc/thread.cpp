// SPDX-License-Identifier: MIT
// Threads for musl's pthreads: clone (thread flags only), exit, set_tid_address, sched_yield,
// and the detached-thread exit that frees its own stack. futex: futex.cpp.

#include "futex.h"

#include <libos/core/lock.h>
#include <libos/core/syscall.h>
#include <libos/mm/syscalls.h>
#include <libos/proc/syscalls.h>
#include <libos/proc/thread_state.h>
#include <libos/signal/signal.h>

#include <kernel/console.h>
#include <kernel/interrupts.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <cerrno>
#include <ctime>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>

namespace atl::libos {

namespace {

void clone_start(void* arg)
{
    auto* t = static_cast<kernel::Thread*>(arg);
    ProcThread& pt = proc(t);
    int code = pt.clone_fn(pt.clone_arg);
    // musl's threads leave through SYS_exit; a plain return ends the thread the same way.
    __atoll_syscall(SYS_exit, code, 0, 0, 0, 0, 0);
}

void unmap_after_exit(void* arg);
struct Unmap {
    u64 base;
    u64 size;
};
Unmap s_unmap;

void unmap_after_exit(void*) { (void)sys_munmap(static_cast<long>(s_unmap.base), static_cast<long>(s_unmap.size)); }

// Clears and wakes the child-tid word (pthread_join waits on it), as Linux does at exit.
void clear_child_tid(ProcThread& pt)
{
    // Linux ignores a word the thread can no longer write (it may have unmapped it).
    if (pt.clear_child_tid && write_user(pt.clear_child_tid, 0) == 0) {
        futex_wake(reinterpret_cast<u64>(pt.clear_child_tid), 1, FUTEX_BITSET_MATCH_ANY);
    }
}

} // namespace

long sys_set_tid_address(long ptr)
{
    self().clear_child_tid = reinterpret_cast<int*>(ptr);
    return kernel::current()->tid;
}

long sys_gettid() { return kernel::current()->tid; }

long sys_sched_yield()
{
    kernel::yield();
    return 0;
}

long sys_exit(long code)
{
    if (kernel::thread_count() == 1)
        sys_exit_group(code); // the last thread: the process ends with its status
    clear_child_tid(self());
    drop_pending_signals(kernel::current());
    kernel::exit_thread(nullptr, nullptr);
}

} // namespace atl::libos

// Thread creation from musl's __clone (toolchain/musl/clone.s):
//   __clone(fn, stack, flags, arg, ptid, tls, ctid)
extern "C" int __atoll_clone(int (*fn)(void*), void* stack, int flags, void* arg, int* ptid, void* tls, int* ctid)
{
    using namespace atl;
    using namespace atl::libos;
    kernel::SpinLockGuard guard(g_libos_lock);
    constexpr int k_required = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
    constexpr int k_supported = k_required | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SETTLS |
                                CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED;
    long result;
    if ((flags & k_required) != k_required) {
        static bool logged = false;
        if (!logged) {
            logged = true;
            kernel::log("clone without CLONE_VM|CLONE_THREAD (fork, vfork, spawn) is not supported: "
                        "one address space, one process; returning ENOSYS");
        }
        result = -ENOSYS;
    } else if ((flags & ~(k_supported | 0xff)) != 0 || !fn || !stack) {
        result = -EINVAL;
    } else if (((flags & CLONE_PARENT_SETTID) && !user_ok(ptid, sizeof(int))) ||
               ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) && !user_ok(ctid, sizeof(int)))) {
        result = -EFAULT;
    } else {
        kernel::Thread* parent = kernel::current();
        u64 fs = (flags & CLONE_SETTLS) ? reinterpret_cast<u64>(tls) : parent->fs_base;
        kernel::Thread* t = kernel::create_thread(clone_start, nullptr, reinterpret_cast<u64>(stack), fs, parent->name);
        if (!t) {
            result = -EAGAIN;
        } else {
            t->arg = t;
            ProcThread& pt = proc_init(t);
            pt.clone_fn = fn;
            pt.clone_arg = arg;
            pt.sig_blocked = proc(parent).sig_blocked;
            pt.nice = proc(parent).nice;
            if (flags & CLONE_CHILD_CLEARTID)
                pt.clear_child_tid = ctid;
            // Both checked above, with interrupts off since: nothing can have unmapped them.
            if (flags & CLONE_PARENT_SETTID)
                (void)write_user(ptid, t->tid);
            if (flags & CLONE_CHILD_SETTID)
                (void)write_user(ctid, t->tid);
            result = t->tid;
        }
    }
    return static_cast<int>(result);
}

// A detached thread's last act (musl's __unmapself): free its own stack and exit. The unmap
// runs on the next thread, once this stack is no longer in use.
extern "C" [[noreturn]] void __atoll_unmapself(void* base, unsigned long size)
{
    using namespace atl;
    using namespace atl::libos;
    // Held to the end: the thread exits with it (exit_thread switches away for good, and the
    // next thread runs in the interrupt state it saved itself), so nothing restores the state
    // saved here. FIXME: a second CPU needs exit_thread to let the lock go after the switch.
    [[maybe_unused]] kernel::IrqState held_for_good = g_libos_lock.lock();
    if (kernel::thread_count() == 1)
        sys_exit_group(0);
    // Like every thread exit: clear and wake the child-tid word. musl points it at its thread
    // list lock, which an exiting thread holds until this very store releases it.
    clear_child_tid(self());
    drop_pending_signals(kernel::current());
    s_unmap = Unmap { reinterpret_cast<u64>(base), size };
    kernel::exit_thread(unmap_after_exit, nullptr);
}
