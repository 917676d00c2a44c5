// SPDX-License-Identifier: MIT
// Threads for musl's pthreads: clone (thread flags only), exit, set_tid_address, futex,
// sched_yield, and the detached-thread exit that frees its own stack.

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

// ---------------------------------------------------------------------------------- futex
// Waiters hash by the futex word's address (one address space: private and shared futexes
// are the same thing here).
constexpr std::size_t k_buckets = 256;
kernel::WaitQueue s_buckets[k_buckets];

kernel::WaitQueue& bucket(u64 addr) { return s_buckets[(addr >> 2) % k_buckets]; }

long futex_wake(u64 addr, long count, u32 bits)
{
    if (count <= 0)
        return 0;
    kernel::WaitQueue& q = bucket(addr);
    long woken = 0;
    for (kernel::Thread* t = q.front(); t && woken < count;) {
        kernel::Thread* next = q.next(t);
        if (t->wait_key == addr && (t->wait_bits & bits)) {
            kernel::wake(t);
            ++woken;
        }
        t = next;
    }
    return woken;
}

long futex_wait(u64 addr, int expected, u64 deadline, u32 bits)
{
    if (*reinterpret_cast<volatile int*>(addr) != expected)
        return -EAGAIN;
    kernel::Thread* self = kernel::current();
    self->wait_key = addr;
    self->wait_bits = bits;
    kernel::WakeReason r = kernel::block(&bucket(addr), deadline, true);
    self->wait_key = 0;
    switch (r) {
    case kernel::WakeReason::Woken: return 0;
    case kernel::WakeReason::TimedOut: return -ETIMEDOUT;
    default: return -EINTR;
    }
}

long futex_requeue(u64 addr, long wake_count, long requeue_count, u64 addr2)
{
    long woken = futex_wake(addr, wake_count, FUTEX_BITSET_MATCH_ANY);
    if (requeue_count <= 0)
        return woken;
    kernel::WaitQueue& from = bucket(addr);
    kernel::WaitQueue& to = bucket(addr2);
    long moved = 0;
    for (kernel::Thread* t = from.front(); t && moved < requeue_count;) {
        kernel::Thread* next = from.next(t);
        if (t->wait_key == addr) {
            from.remove(t);
            to.push_back(t);
            t->waiting_on = &to;
            t->wait_key = addr2;
            ++moved;
        }
        t = next;
    }
    return woken + moved;
}

bool read_timeout(long p, u64* ns)
{
    auto* ts = reinterpret_cast<const struct timespec*>(p);
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
        return false;
    *ns = static_cast<u64>(ts->tv_sec) * 1000000000u + static_cast<u64>(ts->tv_nsec);
    return true;
}

// ---------------------------------------------------------------------------------- threads

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
    if (pt.clear_child_tid && user_ok(pt.clear_child_tid, sizeof(int))) {
        *pt.clear_child_tid = 0;
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

long sys_futex(long uaddr, long op, long val, long timeout, long uaddr2, long val3)
{
    int cmd = static_cast<int>(op) & FUTEX_CMD_MASK;
    if ((uaddr & 3) != 0)
        return -EINVAL;
    if (!user_ok(uaddr, sizeof(int)))
        return -EFAULT;
    u64 addr = static_cast<u64>(uaddr);
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        u32 bits = cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : static_cast<u32>(val3);
        if (bits == 0)
            return -EINVAL;
        u64 deadline = 0;
        if (timeout) {
            if (!user_in(timeout, sizeof(struct timespec)))
                return -EFAULT;
            u64 ns = 0;
            if (!read_timeout(timeout, &ns))
                return -EINVAL;
            u64 now = kernel::monotonic_ns();
            if (cmd == FUTEX_WAIT) { // relative
                deadline = now + ns;
            } else if (op & FUTEX_CLOCK_REALTIME) { // absolute, wall clock
                u64 real = kernel::realtime_ns();
                deadline = ns > real ? now + (ns - real) : now;
            } else { // absolute, monotonic
                deadline = ns > now ? ns : now;
            }
            if (deadline == 0)
                deadline = 1;
        }
        return futex_wait(addr, static_cast<int>(val), deadline, bits);
    }
    case FUTEX_WAKE:
        return futex_wake(addr, val, FUTEX_BITSET_MATCH_ANY);
    case FUTEX_WAKE_BITSET:
        if (val3 == 0)
            return -EINVAL;
        return futex_wake(addr, val, static_cast<u32>(val3));
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
        if ((uaddr2 & 3) != 0)
            return -EINVAL;
        if (!user_ok(uaddr2, sizeof(int)))
            return -EFAULT;
        if (val < 0 || timeout < 0) // timeout carries the requeue count
            return -EINVAL;
        if (cmd == FUTEX_CMP_REQUEUE && *reinterpret_cast<volatile int*>(uaddr) != static_cast<int>(val3))
            return -EAGAIN;
        return futex_requeue(addr, val, timeout, static_cast<u64>(uaddr2));
    default:
        return -ENOSYS; // FUTEX_WAKE_OP, PI futexes: musl does not use them
    }
}

} // namespace atl::libos

// Thread creation from musl's __clone (toolchain/musl/clone.s):
//   __clone(fn, stack, flags, arg, ptid, tls, ctid)
extern "C" int __atoll_clone(int (*fn)(void*), void* stack, int flags, void* arg, int* ptid, void* tls, int* ctid)
{
    using namespace atl;
    using namespace atl::libos;
    kernel::IrqState irq = kernel::irq_save();
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
            if (flags & CLONE_PARENT_SETTID)
                *ptid = t->tid;
            if (flags & CLONE_CHILD_SETTID)
                *ctid = t->tid;
            result = t->tid;
        }
    }
    kernel::irq_restore(irq);
    return static_cast<int>(result);
}

// A detached thread's last act (musl's __unmapself): free its own stack and exit. The unmap
// runs on the next thread, once this stack is no longer in use.
extern "C" [[noreturn]] void __atoll_unmapself(void* base, unsigned long size)
{
    using namespace atl;
    using namespace atl::libos;
    kernel::irq_save();
    if (kernel::thread_count() == 1)
        sys_exit_group(0);
    // Like every thread exit: clear and wake the child-tid word. musl points it at its thread
    // list lock, which an exiting thread holds until this very store releases it.
    clear_child_tid(self());
    drop_pending_signals(kernel::current());
    s_unmap = Unmap { reinterpret_cast<u64>(base), size };
    kernel::exit_thread(unmap_after_exit, nullptr);
}
