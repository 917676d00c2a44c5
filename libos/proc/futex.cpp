// SPDX-License-Identifier: MIT
// futex: waits and wakes on a word of the application's memory (musl's locks, condition
// variables, thread joins), with bitsets and requeue.

#include "futex.h"

#include <libos/core/syscall.h>
#include <libos/proc/syscalls.h>
#include <libos/proc/thread_state.h>

#include <kernel/sched.h>
#include <kernel/time.h>

#include <cerrno>
#include <ctime>
#include <linux/futex.h>

namespace atl::libos {

namespace {

// Waiters hash by the futex word's address (one address space: private and shared futexes
// are the same thing here).
constexpr std::size_t k_buckets = 256;
kernel::WaitQueue s_buckets[k_buckets];

kernel::WaitQueue& bucket(u64 addr) { return s_buckets[(addr >> 2) % k_buckets]; }

} // namespace

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

namespace {

long futex_wait(u64 addr, int expected, u64 deadline, u32 bits)
{
    // The word was checked on entry (sys_futex, interrupts off since): the fault-safe load alone.
    int now = 0;
    if (!UserPtr<int>(addr).read_checked(&now))
        return -EFAULT;
    if (now != expected)
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

// The timeout at P in ns: 0, -EFAULT or -EINVAL.
long read_timeout(long p, u64* ns)
{
    struct timespec ts;
    if (long r = read_user(p, &ts); r < 0)
        return r;
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
        return -EINVAL;
    *ns = static_cast<u64>(ts.tv_sec) * 1000000000u + static_cast<u64>(ts.tv_nsec);
    return 0;
}

} // namespace

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
            u64 ns = 0;
            if (long r = read_timeout(timeout, &ns); r < 0)
                return r;
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
        if (cmd == FUTEX_CMP_REQUEUE) {
            Result<int> now = UserPtr<int>(addr).read();
            if (!now)
                return -EFAULT;
            if (*now != static_cast<int>(val3))
                return -EAGAIN;
        }
        return futex_requeue(addr, val, timeout, static_cast<u64>(uaddr2));
    default:
        return -ENOSYS; // FUTEX_WAKE_OP, PI futexes: musl does not use them
    }
}

} // namespace atl::libos
