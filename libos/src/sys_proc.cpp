// SPDX-License-Identifier: MIT
// Process identity, TLS, randomness, futex and signals for the one process an image runs.

#include "syscalls.h"

#include <kernel/arch.h>
#include <kernel/console.h>
#include <kernel/panic.h>
#include <kernel/platform.h>
#include <kernel/time.h>

#include <asm/prctl.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/utsname.h>

namespace atl::libos {

void print_bootstats(int code);

void sys_exit_group(long code)
{
    print_bootstats(static_cast<int>(code & 0xff));
    kernel::shutdown(static_cast<int>(code & 0xff));
}

long sys_set_tid_address(long) { return k_pid; } // FIXME(issue 3): clear and wake on thread exit

long sys_arch_prctl(long code, long addr)
{
    switch (code) {
    case ARCH_SET_FS:
        arch::set_fs_base(static_cast<u64>(addr));
        return 0;
    case ARCH_GET_FS:
        if (!user_ok(addr, sizeof(u64)))
            return -EFAULT;
        *reinterpret_cast<u64*>(addr) = arch::fs_base();
        return 0;
    default:
        return -EINVAL;
    }
}

long sys_uname(long buf)
{
    if (!user_ok(buf, sizeof(struct utsname)))
        return -EFAULT;
    // The libOS implements Linux's system call interface, so programs that check for Linux
    // see it; the version field says what really runs.
    struct utsname u {};
    std::strcpy(u.sysname, "Linux");
    std::strcpy(u.nodename, "atoll");
    std::strcpy(u.release, "6.1.0-atoll");
    std::strcpy(u.version, "Atoll unikernel");
    std::strcpy(u.machine, "x86_64");
    std::strcpy(u.domainname, "(none)");
    std::memcpy(reinterpret_cast<void*>(buf), &u, sizeof(u));
    return 0;
}

namespace {

u64 s_prng_state = 0;

// splitmix64: the fallback when the CPU has no RDRAND/RDSEED, seeded from the TSC.
u64 prng_next()
{
    if (s_prng_state == 0)
        s_prng_state = arch::read_tsc() ^ 0x9e3779b97f4a7c15ull;
    u64 z = (s_prng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

} // namespace

void fill_random(void* buf, std::size_t len)
{
    auto* out = static_cast<unsigned char*>(buf);
    while (len > 0) {
        u64 v;
        if (!arch::random_u64(&v))
            v = prng_next();
        std::size_t n = len < sizeof(v) ? len : sizeof(v);
        std::memcpy(out, &v, n);
        out += n;
        len -= n;
    }
}

long sys_getrandom(long buf, long len, long flags)
{
    constexpr long k_known = 0x1 | 0x2 | 0x4; // GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE
    if (flags & ~k_known)
        return -EINVAL;
    if (len < 0)
        return -EINVAL;
    if (len > 33554431) // Linux caps one call at 32 MiB - 1
        len = 33554431;
    if (!user_ok(buf, static_cast<std::size_t>(len)))
        return -EFAULT;
    fill_random(reinterpret_cast<void*>(buf), static_cast<std::size_t>(len));
    return len;
}

long sys_futex(long uaddr, long op, long val, long timeout, long, long)
{
    int cmd = static_cast<int>(op) & FUTEX_CMD_MASK;
    if ((uaddr & 3) != 0)
        return -EINVAL;
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        if (!user_ok(uaddr, sizeof(int)))
            return -EFAULT;
        if (*reinterpret_cast<volatile int*>(uaddr) != static_cast<int>(val))
            return -EAGAIN;
        if (timeout) {
            if (!user_ok(timeout, sizeof(struct timespec)))
                return -EFAULT;
            auto* ts = reinterpret_cast<const struct timespec*>(timeout);
            if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)
                return -EINVAL;
            u64 ns = static_cast<u64>(ts->tv_sec) * 1000000000u + static_cast<u64>(ts->tv_nsec);
            if (cmd == FUTEX_WAIT_BITSET) { // absolute
                u64 now = (op & FUTEX_CLOCK_REALTIME) ? kernel::realtime_ns() : kernel::monotonic_ns();
                ns = ns > now ? ns - now : 0;
            }
            kernel::spin_for_ns(ns);
            return -ETIMEDOUT;
        }
        // One thread (FIXME(issue 3)): nobody can ever wake it.
        kernel::panic("futex wait on 0x%lx with no other thread to wake it: deadlock", uaddr);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
        return user_ok(uaddr, sizeof(int)) ? 0 : -EFAULT;
    default:
        return -ENOSYS;
    }
}

long sys_sched_getaffinity(long pid, long size, long mask)
{
    if (pid != 0 && pid != k_pid)
        return -ESRCH;
    if (size < static_cast<long>(sizeof(unsigned long)) || (size & (sizeof(unsigned long) - 1)))
        return -EINVAL;
    if (!user_ok(mask, sizeof(unsigned long)))
        return -EFAULT;
    *reinterpret_cast<unsigned long*>(mask) = 1; // one CPU
    return sizeof(unsigned long);
}

long sys_prlimit64(long pid, long resource, long new_limit, long old_limit)
{
    if (pid != 0 && pid != k_pid)
        return -ESRCH;
    if (resource < 0 || resource >= RLIM_NLIMITS)
        return -EINVAL;
    if (new_limit)
        return -EPERM; // FIXME(issue 4): settable limits
    if (old_limit) {
        if (!user_ok(old_limit, sizeof(struct rlimit)))
            return -EFAULT;
        auto* r = reinterpret_cast<struct rlimit*>(old_limit);
        r->rlim_cur = r->rlim_max = RLIM_INFINITY;
        if (resource == RLIMIT_STACK)
            r->rlim_cur = r->rlim_max = 8 << 20;
        else if (resource == RLIMIT_NOFILE)
            r->rlim_cur = r->rlim_max = 1024;
    }
    return 0;
}

// ------------------------------------------------------------------------------- signals
// Enough for runtimes: handlers are recorded, a signal sent to ourselves runs its handler
// (or its default action) as a call, blocked signals stay pending until unblocked.

namespace {

constexpr int k_nsig = 65;

struct KernelSigaction { // the layout of struct k_sigaction that musl passes
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    unsigned long mask;
};

KernelSigaction s_actions[k_nsig];
unsigned long s_blocked = 0;
unsigned long s_pending = 0;

unsigned long bit(int sig) { return 1ul << (sig - 1); }

const char* signal_name(int sig)
{
    switch (sig) {
    case SIGABRT: return "SIGABRT";
    case SIGSEGV: return "SIGSEGV";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGTERM: return "SIGTERM";
    case SIGKILL: return "SIGKILL";
    case SIGINT: return "SIGINT";
    case SIGBUS: return "SIGBUS";
    default: return "signal";
    }
}

bool ignored_by_default(int sig)
{
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

void deliver(int sig)
{
    KernelSigaction act = s_actions[sig];
    if (act.handler == SIG_IGN || (act.handler == SIG_DFL && ignored_by_default(sig)))
        return;
    if (act.handler == SIG_DFL || sig == SIGKILL || sig == SIGSTOP) {
        kernel::log("terminated by %s (%d)", signal_name(sig), sig);
        kernel::shutdown(128 + sig);
    }
    unsigned long saved = s_blocked;
    s_blocked |= act.mask;
    if (!(act.flags & SA_NODEFER))
        s_blocked |= bit(sig);
    if (act.flags & SA_RESETHAND)
        s_actions[sig].handler = SIG_DFL;
    if (act.flags & SA_SIGINFO) {
        siginfo_t info {};
        info.si_signo = sig;
        info.si_code = SI_TKILL;
        info.si_pid = k_pid;
        reinterpret_cast<void (*)(int, siginfo_t*, void*)>(reinterpret_cast<void*>(act.handler))(sig, &info, nullptr);
    } else {
        act.handler(sig);
    }
    s_blocked = saved;
}

void deliver_pending()
{
    while (unsigned long ready = s_pending & ~s_blocked) {
        int sig = __builtin_ctzl(ready) + 1;
        s_pending &= ~bit(sig);
        deliver(sig);
    }
}

long send_to_self(long sig)
{
    if (sig < 0 || sig >= k_nsig)
        return -EINVAL;
    if (sig == 0)
        return 0;
    s_pending |= bit(static_cast<int>(sig));
    deliver_pending();
    return 0;
}

} // namespace

long sys_rt_sigaction(long sig, long act, long oldact, long sigsetsize)
{
    if (sigsetsize != sizeof(unsigned long))
        return -EINVAL;
    if (sig < 1 || sig >= k_nsig)
        return -EINVAL;
    if (act && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    if (act && !user_ok(act, sizeof(KernelSigaction)))
        return -EFAULT;
    if (oldact && !user_ok(oldact, sizeof(KernelSigaction)))
        return -EFAULT;
    KernelSigaction old = s_actions[sig];
    if (act) {
        s_actions[sig] = *reinterpret_cast<const KernelSigaction*>(act);
        s_actions[sig].mask &= ~(bit(SIGKILL) | bit(SIGSTOP));
    }
    if (oldact)
        *reinterpret_cast<KernelSigaction*>(oldact) = old;
    return 0;
}

long sys_rt_sigprocmask(long how, long set, long oldset, long sigsetsize)
{
    if (sigsetsize != sizeof(unsigned long))
        return -EINVAL;
    if (set && !user_ok(set, sizeof(unsigned long)))
        return -EFAULT;
    if (oldset && !user_ok(oldset, sizeof(unsigned long)))
        return -EFAULT;
    unsigned long old = s_blocked;
    if (set) {
        unsigned long s = *reinterpret_cast<const unsigned long*>(set);
        switch (how) {
        case SIG_BLOCK: s_blocked |= s; break;
        case SIG_UNBLOCK: s_blocked &= ~s; break;
        case SIG_SETMASK: s_blocked = s; break;
        default: return -EINVAL;
        }
        s_blocked &= ~(bit(SIGKILL) | bit(SIGSTOP));
    }
    if (oldset)
        *reinterpret_cast<unsigned long*>(oldset) = old;
    deliver_pending();
    return 0;
}

long sys_kill(long pid, long sig)
{
    if (pid != k_pid && pid != 0 && pid != -1)
        return -ESRCH;
    return send_to_self(sig);
}

long sys_tkill(long tid, long sig)
{
    if (tid <= 0)
        return -EINVAL;
    if (tid != k_pid)
        return -ESRCH;
    return send_to_self(sig);
}

long sys_tgkill(long tgid, long tid, long sig)
{
    if (tgid <= 0 || tid <= 0)
        return -EINVAL;
    if (tgid != k_pid || tid != k_pid)
        return -ESRCH;
    return send_to_self(sig);
}

long sys_rt_sigreturn()
{
    kernel::panic("rt_sigreturn called: Atoll runs signal handlers as calls, nothing to return to");
}

} // namespace atl::libos
