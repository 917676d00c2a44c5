// SPDX-License-Identifier: MIT
// Process identity, TLS, randomness, futex and signals for the one process an image runs.

#include "syscalls.h"

#include <kernel/arch.h>
#include <kernel/console.h>
#include <kernel/panic.h>
#include <kernel/platform.h>
#include <kernel/sched.h>
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

long sys_arch_prctl(long code, long addr)
{
    switch (code) {
    case ARCH_SET_FS:
        kernel::set_fs_base(static_cast<u64>(addr));
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

} // namespace atl::libos
