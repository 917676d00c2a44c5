// SPDX-License-Identifier: MIT
// The one place that maps x86_64 Linux system call numbers to handlers.

#include "syscalls.h"
#include "thread_state.h"

#include <kernel/interrupts.h>

#include <kernel/console.h>

#include <cerrno>
#include <sys/syscall.h>

namespace atl::libos {

namespace {

struct SyscallName {
    long number;
    const char* name;
};

// Generated from the sysroot's <bits/syscall.h> by libos/CMakeLists.txt.
constexpr SyscallName k_syscall_names[] = {
#include "syscall_names.inc"
};

constexpr long k_max_logged = 1024;
bool s_logged[k_max_logged];

const char* syscall_name(long n)
{
    for (const auto& entry : k_syscall_names) {
        if (entry.number == n)
            return entry.name;
    }
    return "unknown";
}

long unimplemented(long n)
{
    if (n < 0 || n >= k_max_logged || !s_logged[n]) {
        if (n >= 0 && n < k_max_logged)
            s_logged[n] = true;
        kernel::log("system call %s (%ld) is not implemented: returning ENOSYS", syscall_name(n), n);
    }
    return -ENOSYS;
}

} // namespace

} // namespace atl::libos

namespace atl::libos {

namespace {

long dispatch(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    switch (n) {
    case SYS_read: return sys_read(a1, a2, a3);
    case SYS_write: return sys_write(a1, a2, a3);
    case SYS_readv: return sys_readv(a1, a2, a3);
    case SYS_writev: return sys_writev(a1, a2, a3);
    case SYS_close: return sys_close(a1);
    case SYS_lseek: return sys_lseek(a1, a2, a3);
    case SYS_ioctl: return sys_ioctl(a1, a2, a3);
    case SYS_fcntl: return sys_fcntl(a1, a2, a3);

    case SYS_mmap: return sys_mmap(a1, a2, a3, a4, a5, a6);
    case SYS_munmap: return sys_munmap(a1, a2);
    case SYS_mprotect: return sys_mprotect(a1, a2, a3);
    case SYS_madvise: return sys_madvise(a1, a2, a3);
    case SYS_brk: return sys_brk(a1);

    case SYS_clock_gettime: return sys_clock_gettime(a1, a2);
    case SYS_clock_getres: return sys_clock_getres(a1, a2);
    case SYS_gettimeofday: return sys_gettimeofday(a1, a2);
    case SYS_time: return sys_time(a1);
    case SYS_nanosleep: return sys_nanosleep(a1, a2);
    case SYS_clock_nanosleep: return sys_clock_nanosleep(a1, a2, a3, a4);

    case SYS_exit: sys_exit(a1);
    case SYS_exit_group: sys_exit_group(a1);
    case SYS_set_tid_address: return sys_set_tid_address(a1);
    case SYS_arch_prctl: return sys_arch_prctl(a1, a2);
    case SYS_getpid: return k_pid;
    case SYS_gettid: return sys_gettid();
    case SYS_getppid: return 0;
    case SYS_getuid:
    case SYS_geteuid:
    case SYS_getgid:
    case SYS_getegid: return 0;
    case SYS_uname: return sys_uname(a1);
    case SYS_getrandom: return sys_getrandom(a1, a2, a3);
    case SYS_futex: return sys_futex(a1, a2, a3, a4, a5, a6);
    case SYS_sched_yield: return sys_sched_yield();
    case SYS_sched_getaffinity: return sys_sched_getaffinity(a1, a2, a3);
    case SYS_prlimit64: return sys_prlimit64(a1, a2, a3, a4);
    case SYS_rt_sigaction: return sys_rt_sigaction(a1, a2, a3, a4);
    case SYS_rt_sigprocmask: return sys_rt_sigprocmask(a1, a2, a3, a4);
    case SYS_kill: return sys_kill(a1, a2);
    case SYS_tkill: return sys_tkill(a1, a2);
    case SYS_tgkill: return sys_tgkill(a1, a2, a3);
    case SYS_rt_sigreturn: return sys_rt_sigreturn();
    default: return unimplemented(n);
    }
}

} // namespace

} // namespace atl::libos

// Every system call of the application arrives here as a function call. The libOS runs with
// interrupts off (one CPU: that is its lock); signals for the thread are delivered on the way
// back, with the application's interrupt state restored.
extern "C" long __atoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    using namespace atl;
    kernel::IrqState irq = kernel::irq_save();
    long r = libos::dispatch(n, a1, a2, a3, a4, a5, a6);
    bool signals = libos::has_deliverable_signal() || kernel::current()->interrupt_pending;
    kernel::irq_restore(irq);
    if (signals)
        libos::deliver_pending_signals();
    return r;
}
