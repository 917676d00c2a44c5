// SPDX-License-Identifier: MIT
// The one process an image runs: its exit, identity (uname), TLS (arch_prctl), randomness,
// CPU affinity, resource limits and usage, scheduling parameters and priorities, prctl.
// Threads: thread.cpp; futex: futex.cpp; credentials: credentials.cpp; signals: signal/.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/proc/credentials.h>
#include <libos/proc/syscalls.h>
#include <libos/proc/thread_state.h>
#include <libos/start/start.h>

#include <drivers/entropy.h>

#include <kernel/arch/cpu.h>
#include <kernel/console.h>
#include <kernel/entry.h>
#include <kernel/panic.h>
#include <kernel/platform.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <asm/prctl.h>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <kernel/memory.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>

namespace atl::libos {

void sys_exit_group(long code)
{
    print_bootstats(static_cast<int>(code & 0xff));
    platform::shutdown(static_cast<int>(code & 0xff));
}

long sys_arch_prctl(long code, long addr)
{
    switch (code) {
    case ARCH_SET_FS:
        kernel::set_fs_base(static_cast<u64>(addr));
        return 0;
    case ARCH_GET_FS:
        return write_user(addr, arch::fs_base());
    default:
        return -EINVAL;
    }
}

long sys_uname(long buf)
{
    // The libOS implements Linux's system call interface, so programs that check for Linux
    // see it; the version field says what really runs.
    struct utsname u {};
    std::strcpy(u.sysname, "Linux");
    std::strcpy(u.nodename, "atoll");
    std::strcpy(u.release, "6.1.0-atoll");
    std::strcpy(u.version, "Atoll unikernel");
    std::strcpy(u.machine, "x86_64");
    std::strcpy(u.domainname, "(none)");
    return write_user(buf, u);
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
    // A virtio-rng device, when the VM has one, comes first; the CPU's RDRAND/RDSEED or the
    // seeded generator fill whatever it did not.
    while (len > 0) {
        std::size_t got = drivers::hardware_random(out, len);
        if (got == 0)
            break;
        out += got;
        len -= got;
    }
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
    // Through a kernel buffer, a chunk at a time: the device and the CPU's instruction write
    // into it, and only the copy touches the application's (checked) range.
    unsigned char chunk[256];
    for (long done = 0; done < len;) {
        std::size_t n = static_cast<std::size_t>(len - done) < sizeof(chunk) ? static_cast<std::size_t>(len - done) : sizeof(chunk);
        fill_random(chunk, n);
        if (!copy_checked(reinterpret_cast<void*>(buf + done), chunk, n))
            return done ? done : -EFAULT;
        done += static_cast<long>(n);
    }
    return len;
}

long sys_sched_getaffinity(long pid, long size, long mask)
{
    if (pid != 0 && pid != k_pid)
        return -ESRCH;
    if (size < static_cast<long>(sizeof(unsigned long)) || (size & (sizeof(unsigned long) - 1)))
        return -EINVAL;
    if (long r = write_user(mask, 1ul); r < 0) // one CPU
        return r;
    return sizeof(unsigned long);
}

namespace {

// Limits the program can read back and lower (or raise up to the maximum); enforced for
// RLIMIT_NOFILE by the descriptor table's size.
struct rlimit s_limits[RLIM_NLIMITS];
bool s_limits_ready = false;

void init_limits()
{
    if (s_limits_ready)
        return;
    for (auto& l : s_limits)
        l = { RLIM_INFINITY, RLIM_INFINITY };
    s_limits[RLIMIT_STACK] = { kernel::main_stack_limit(), RLIM_INFINITY };
    s_limits[RLIMIT_NOFILE] = { 1024, 1024 };
    s_limits[RLIMIT_NPROC] = { 1, 1 };
    s_limits[RLIMIT_CORE] = { 0, 0 };
    s_limits[RLIMIT_NICE] = { 0, 0 }; // Linux's defaults: no raising priority without privilege
    s_limits[RLIMIT_RTPRIO] = { 0, 0 };
    s_limits_ready = true;
}

} // namespace

int fd_limit()
{
    init_limits();
    rlim_t n = s_limits[RLIMIT_NOFILE].rlim_cur;
    return n > k_max_fds ? k_max_fds : static_cast<int>(n);
}

long sys_prlimit64(long pid, long resource, long new_limit, long old_limit)
{
    if (pid != 0 && pid != k_pid)
        return -ESRCH;
    if (resource < 0 || resource >= RLIM_NLIMITS)
        return -EINVAL;
    init_limits();
    struct rlimit next {};
    if (new_limit) {
        if (long r = read_user(new_limit, &next); r < 0)
            return r;
        if (next.rlim_cur > next.rlim_max)
            return -EINVAL;
        // Raising a hard limit takes CAP_SYS_RESOURCE; descriptors stop at the table's size
        // (Linux's nr_open).
        if (next.rlim_max > s_limits[resource].rlim_max && !capable(Capability::SysResource))
            return -EPERM;
        if (resource == RLIMIT_NOFILE && next.rlim_max > static_cast<rlim_t>(k_max_fds))
            return -EPERM;
    }
    if (old_limit) {
        if (long r = write_user(old_limit, s_limits[resource]); r < 0)
            return r;
    }
    if (new_limit) {
        s_limits[resource] = next;
        if (resource == RLIMIT_STACK) // how far the main thread's stack may grow from now on
            (void)kernel::set_main_stack_limit(next.rlim_cur);
    }
    return 0;
}

} // namespace atl::libos

namespace atl::libos {

long sys_sched_setaffinity(long pid, long size, long mask)
{
    if (pid != 0 && pid != k_pid && !kernel::find_thread(static_cast<int>(pid)))
        return -ESRCH;
    if (size <= 0)
        return -EINVAL;
    unsigned char first = 0;
    if (long r = read_user(mask, &first); r < 0)
        return r;
    // One CPU: any mask that contains it is what we already do.
    return (first & 1) ? 0 : -EINVAL;
}

long sys_getrlimit(long resource, long rlim) { return sys_prlimit64(0, resource, 0, rlim); }

long sys_setrlimit(long resource, long rlim)
{
    if (resource < 0 || resource >= RLIM_NLIMITS)
        return -EINVAL;
    struct rlimit lim;
    if (long r = read_user(rlim, &lim); r < 0)
        return r;
    if (lim.rlim_cur > lim.rlim_max)
        return -EINVAL;
    return sys_prlimit64(0, resource, rlim, 0);
}

long sys_sysinfo(long info)
{
    struct sysinfo s {};
    s.uptime = static_cast<long>(kernel::monotonic_ns() / 1000000000u);
    s.totalram = kernel::memory_total();
    s.freeram = kernel::memory_free();
    s.sharedram = 0;
    s.bufferram = 0;
    s.procs = static_cast<unsigned short>(kernel::thread_count());
    s.mem_unit = 1;
    return write_user(info, s);
}

long sys_getrusage(long who, long usage)
{
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
        return -EINVAL;
    struct rusage r {};
    if (who != RUSAGE_CHILDREN) {
        u64 ns = who == RUSAGE_THREAD ? kernel::thread_cpu_ns(kernel::current()) : kernel::process_cpu_ns();
        // All of it is "system" and "user" at once in ring 0: reported as user time.
        r.ru_utime.tv_sec = static_cast<time_t>(ns / 1000000000u);
        r.ru_utime.tv_usec = static_cast<suseconds_t>((ns % 1000000000u) / 1000);
        r.ru_maxrss = static_cast<long>((kernel::memory_total() - kernel::memory_free()) >> 10);
        r.ru_nvcsw = static_cast<long>(kernel::context_switches());
    }
    return write_user(usage, r);
}

long sys_times(long buf)
{
    constexpr u64 k_ticks_per_s = 100;
    u64 cpu = kernel::process_cpu_ns() / (1000000000u / k_ticks_per_s);
    if (buf) {
        struct tms t {};
        t.tms_utime = static_cast<clock_t>(cpu);
        if (long r = write_user(buf, t); r < 0)
            return r;
    }
    return static_cast<long>(kernel::monotonic_ns() / (1000000000u / k_ticks_per_s));
}

long sys_sched_query(long n, long a1, long a2)
{
    switch (n) {
    case SYS_sched_get_priority_max:
    case SYS_sched_get_priority_min:
        if (a1 == SCHED_OTHER || a1 == SCHED_BATCH || a1 == SCHED_IDLE)
            return 0;
        if (a1 == SCHED_FIFO || a1 == SCHED_RR)
            return n == SYS_sched_get_priority_max ? 99 : 1;
        return -EINVAL;
    case SYS_sched_getscheduler:
        if (a1 < 0)
            return -EINVAL;
        return a1 == 0 || kernel::find_thread(static_cast<int>(a1)) ? SCHED_OTHER : -ESRCH;
    case SYS_sched_getparam:
        if (a1 < 0 || !a2)
            return -EINVAL;
        return write_user(a2, sched_param {}); // priority 0
    case SYS_sched_setparam:
    case SYS_sched_setscheduler:
        return -EPERM; // one policy: SCHED_OTHER, round robin in 10 ms slices
    case SYS_sched_rr_get_interval:
        return write_user(a2, timespec { 0, 10000000 });
    default:
        return -ENOSYS;
    }
}

// Nice values are stored per thread and reported, as Linux keeps them; the scheduler has one
// round-robin class and does not weigh them (every runnable thread gets the same slices).
namespace {

// The application's threads that WHICH/WHO name, through visit(t); ESRCH when none, EINVAL
// for an unknown WHICH.
template <typename Visit>
long for_each_target(long which, long who, Visit visit)
{
    auto app = [](kernel::Thread* t) { return t->state != kernel::ThreadState::Dead && !t->kernel_thread; };
    bool all = false;
    switch (which) {
    case PRIO_PROCESS: {
        if (who == 0) {
            visit(kernel::current());
            return 0;
        }
        // A thread id: Linux's PRIO_PROCESS names one task, the thread itself.
        kernel::Thread* t = who > 0 && who <= INT_MAX ? kernel::find_thread(static_cast<int>(who)) : nullptr;
        if (!t || !app(t))
            return -ESRCH;
        visit(t);
        return 0;
    }
    case PRIO_PGRP: all = who == 0 || who == k_pid; break;
    case PRIO_USER: all = who == 0 || static_cast<u32>(who) == creds().ruid; break;
    default: return -EINVAL;
    }
    if (!all)
        return -ESRCH;
    for (kernel::Thread* t = kernel::first_thread(); t; t = kernel::next_thread(t)) {
        if (app(t))
            visit(t);
    }
    return 0;
}

} // namespace

long sys_getpriority(long which, long who)
{
    long best = -1;
    long r = for_each_target(which, who, [&](kernel::Thread* t) {
        long v = 20 - proc(t).nice; // the system call's encoding: 1 (nice 19) .. 40 (nice -20)
        if (v > best)
            best = v;
    });
    return r < 0 ? r : best;
}

long sys_setpriority(long which, long who, long niceval)
{
    int nice = niceval < -20 ? -20 : niceval > 19 ? 19 : static_cast<int>(niceval);
    init_limits();
    // Lowering a nice value needs CAP_SYS_NICE or room under RLIMIT_NICE (20 - nice).
    bool may_lower = capable(Capability::SysNice) || static_cast<rlim_t>(20 - nice) <= s_limits[RLIMIT_NICE].rlim_cur;
    long error = 0;
    long r = for_each_target(which, who, [&](kernel::Thread* t) {
        if (nice < proc(t).nice && !may_lower)
            error = -EACCES;
        else
            proc(t).nice = nice;
    });
    return r < 0 ? r : error;
}

long sys_prctl(long option, long a2, long a3, long a4, long a5)
{
    switch (option) {
    case PR_SET_NAME: {
        char name[256];
        long r = user_string(a2, name, sizeof(name));
        if (r == -EFAULT)
            return r;
        name[15] = '\0';
        kernel::set_thread_name(kernel::current(), name);
        return 0;
    }
    case PR_GET_NAME: {
        struct {
            char name[16];
        } out;
        std::strncpy(out.name, kernel::current()->name, sizeof(out.name));
        return write_user(a2, out);
    }
    // Stored and reported; nothing here dumps core, execs or has a parent that could die.
    case PR_SET_DUMPABLE:
        if (a2 != 0 && a2 != 1)
            return -EINVAL;
        g_process_flags.dumpable = static_cast<int>(a2);
        return 0;
    case PR_GET_DUMPABLE:
        return g_process_flags.dumpable;
    case PR_SET_PDEATHSIG:
        if (a2 < 0 || a2 > 64)
            return -EINVAL;
        self().pdeathsig = static_cast<int>(a2);
        return 0;
    case PR_GET_PDEATHSIG:
        return write_user(a2, self().pdeathsig);
    case PR_SET_NO_NEW_PRIVS:
        if (a2 != 1 || a3 || a4 || a5)
            return -EINVAL;
        g_process_flags.no_new_privs = true;
        return 0;
    case PR_GET_NO_NEW_PRIVS:
        if (a2 || a3 || a4 || a5)
            return -EINVAL;
        return g_process_flags.no_new_privs ? 1 : 0;
    default:
        return -EINVAL;
    }
}

} // namespace atl::libos
