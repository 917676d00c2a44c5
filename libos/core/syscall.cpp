// SPDX-License-Identifier: MIT
// The one place that maps x86_64 Linux system call numbers to handlers.

#include <libos/core/syscall.h>
#include <libos/event/syscalls.h>
#include <libos/fs/syscalls.h>
#include <libos/fs/vfs.h>
#include <libos/ipc/syscalls.h>
#include <libos/mm/syscalls.h>
#include <libos/net/socket_layer.h>
#include <libos/proc/credentials.h>
#include <libos/proc/syscalls.h>
#include <libos/proc/thread_state.h>
#include <libos/signal/signal.h>
#include <libos/time/syscalls.h>

#include <kernel/interrupts.h>

#include <kernel/console.h>
#include <kernel/stack.h>

#include <cerrno>
#include <fcntl.h>
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

// Numbers outside the table's range that were already logged (a program probing for new
// system calls tries a handful, not thousands).
long s_logged_other[32];
std::size_t s_logged_other_count = 0;

bool first_time(long n)
{
    if (n >= 0 && n < k_max_logged) {
        bool first = !s_logged[n];
        s_logged[n] = true;
        return first;
    }
    for (std::size_t i = 0; i < s_logged_other_count; ++i) {
        if (s_logged_other[i] == n)
            return false;
    }
    if (s_logged_other_count < sizeof(s_logged_other) / sizeof(s_logged_other[0]))
        s_logged_other[s_logged_other_count++] = n;
    return true;
}

// Socket calls go to the socket layer when the image has one (socket_layer.h). Without it no
// descriptor can be a socket: calls on a descriptor say so, socket() and socketpair() are
// ENOSYS (the program reached them without musl's functions, e.g. through syscall()).
long socket_call(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    if (atoll_socket_syscall)
        return atoll_socket_syscall(n, a1, a2, a3, a4, a5, a6);
    if (n == SYS_socket || n == SYS_socketpair) {
        if (first_time(n))
            kernel::log("system call %s: this image has no socket layer (it is linked in when the program "
                        "calls socket() or socketpair()): returning ENOSYS", syscall_name(n));
        return -ENOSYS;
    }
    return fd_get(static_cast<int>(a1)) ? -ENOTSOCK : -EBADF;
}

long unimplemented(long n)
{
    if (first_time(n))
        kernel::log("system call %s (%ld) is not implemented: returning ENOSYS", syscall_name(n), n);
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
    case SYS_open: return sys_open(a1, a2, a3);
    case SYS_openat: return sys_openat(a1, a2, a3, a4);
    case SYS_creat: return sys_creat(a1, a2);
    case SYS_close: return sys_close(a1);
    case SYS_readv: return sys_readv(a1, a2, a3);
    case SYS_writev: return sys_writev(a1, a2, a3);
    case SYS_pread64: return sys_pread64(a1, a2, a3, a4);
    case SYS_pwrite64: return sys_pwrite64(a1, a2, a3, a4);
    case SYS_preadv: return sys_preadv(a1, a2, a3, a4);
    case SYS_pwritev: return sys_pwritev(a1, a2, a3, a4);
    case SYS_lseek: return sys_lseek(a1, a2, a3);
    case SYS_fstat: return sys_fstat(a1, a2);
    case SYS_stat: return sys_stat(a1, a2);
    case SYS_lstat: return sys_lstat(a1, a2);
    case SYS_newfstatat: return sys_newfstatat(a1, a2, a3, a4);
    case SYS_statx: return sys_statx(a1, a2, a3, a4, a5);
    case SYS_getdents64: return sys_getdents64(a1, a2, a3);
    case SYS_mkdir: return sys_mkdir(a1, a2);
    case SYS_mkdirat: return sys_mkdirat(a1, a2, a3);
    case SYS_rmdir: return sys_rmdir(a1);
    case SYS_unlink: return sys_unlink(a1);
    case SYS_unlinkat: return sys_unlinkat(a1, a2, a3);
    case SYS_rename: return sys_rename(a1, a2);
    case SYS_renameat: return sys_renameat(a1, a2, a3, a4);
    case SYS_renameat2: return sys_renameat2(a1, a2, a3, a4, a5);
    case SYS_link: return sys_link(a1, a2);
    case SYS_linkat: return sys_linkat(a1, a2, a3, a4, a5);
    case SYS_symlink: return sys_symlink(a1, a2);
    case SYS_symlinkat: return sys_symlinkat(a1, a2, a3);
    case SYS_readlink: return sys_readlink(a1, a2, a3);
    case SYS_readlinkat: return sys_readlinkat(a1, a2, a3, a4);
    case SYS_access: return sys_access(a1, a2);
    case SYS_faccessat: return sys_faccessat(a1, a2, a3, 0);
    case SYS_faccessat2: return sys_faccessat(a1, a2, a3, a4);
    case SYS_getcwd: return sys_getcwd(a1, a2);
    case SYS_chdir: return sys_chdir(a1);
    case SYS_fchdir: return sys_fchdir(a1);
    case SYS_umask: return sys_umask(a1);
    case SYS_utimensat: return sys_utimensat(a1, a2, a3, a4);
    case SYS_ftruncate: return sys_ftruncate(a1, a2);
    case SYS_truncate: return sys_truncate(a1, a2);
    case SYS_fsync:
    case SYS_fdatasync:
    case SYS_syncfs: return sys_fsync(a1);
    case SYS_sync: return 0;
    case SYS_chmod: return sys_chmod(a1, a2);
    case SYS_fchmod: return sys_fchmod(a1, a2);
    case SYS_fchmodat: return sys_fchmodat(a1, a2, a3);
    case SYS_chown: return sys_fchownat(AT_FDCWD, a1, a2, a3, 0);
    case SYS_lchown: return sys_fchownat(AT_FDCWD, a1, a2, a3, AT_SYMLINK_NOFOLLOW);
    case SYS_fchown: return sys_fchown(a1, a2, a3);
    case SYS_fchownat: return sys_fchownat(a1, a2, a3, a4, a5);
    case SYS_statfs: return sys_statfs(a1, a2);
    case SYS_fstatfs: return sys_fstatfs(a1, a2);
    case SYS_dup: return sys_dup(a1);
    case SYS_dup2: return sys_dup2(a1, a2);
    case SYS_dup3: return sys_dup3(a1, a2, a3);
    case SYS_fcntl: return sys_fcntl(a1, a2, a3);
    case SYS_ioctl: return sys_ioctl(a1, a2, a3);
    case SYS_flock: return sys_flock(a1, a2);
    case SYS_sendfile: return sys_sendfile(a1, a2, a3, a4);
    case SYS_copy_file_range: return sys_copy_file_range(a1, a2, a3, a4, a5, a6);
    case SYS_pipe: return sys_pipe(a1);
    case SYS_pipe2: return sys_pipe2(a1, a2);

    case SYS_socket:
    case SYS_socketpair:
    case SYS_bind:
    case SYS_listen:
    case SYS_accept:
    case SYS_accept4:
    case SYS_connect:
    case SYS_sendto:
    case SYS_recvfrom:
    case SYS_sendmsg:
    case SYS_recvmsg:
    case SYS_shutdown:
    case SYS_setsockopt:
    case SYS_getsockopt:
    case SYS_getsockname:
    case SYS_getpeername:
        return socket_call(n, a1, a2, a3, a4, a5, a6);

    case SYS_poll: return sys_poll(a1, a2, a3);
    case SYS_ppoll: return sys_ppoll(a1, a2, a3, a4, a5);
    case SYS_select: return sys_select(a1, a2, a3, a4, a5);
    case SYS_pselect6: return sys_pselect6(a1, a2, a3, a4, a5, a6);
    case SYS_epoll_create: return sys_epoll_create(a1);
    case SYS_epoll_create1: return sys_epoll_create1(a1);
    case SYS_epoll_ctl: return sys_epoll_ctl(a1, a2, a3, a4);
    case SYS_epoll_wait: return sys_epoll_wait(a1, a2, a3, a4);
    case SYS_epoll_pwait: return sys_epoll_pwait(a1, a2, a3, a4, a5, a6);
    case SYS_eventfd: return sys_eventfd(a1);
    case SYS_eventfd2: return sys_eventfd2(a1, a2);
    case SYS_timerfd_create: return sys_timerfd_create(a1, a2);
    case SYS_timerfd_settime: return sys_timerfd_settime(a1, a2, a3, a4);
    case SYS_timerfd_gettime: return sys_timerfd_gettime(a1, a2);

    case SYS_mmap: return sys_mmap(a1, a2, a3, a4, a5, a6);
    case SYS_munmap: return sys_munmap(a1, a2);
    case SYS_mremap: return sys_mremap(a1, a2, a3, a4, a5);
    case SYS_msync: return sys_msync(a1, a2, a3);
    case SYS_mprotect: return sys_mprotect(a1, a2, a3);
    case SYS_madvise: return sys_madvise(a1, a2, a3);
    case SYS_mlock: return sys_mlock(a1, a2, 0);
    case SYS_mlock2: return sys_mlock(a1, a2, a3);
    case SYS_munlock: return sys_munlock(a1, a2);
    case SYS_mlockall: return sys_mlockall(a1);
    case SYS_munlockall: return 0;
    case SYS_fallocate: return sys_fallocate(a1, a2, a3, a4);
    case SYS_brk: return sys_brk(a1);

    case SYS_clock_gettime: return sys_clock_gettime(a1, a2);
    case SYS_signalfd: return sys_signalfd4(a1, a2, a3, 0);
    case SYS_signalfd4: return sys_signalfd4(a1, a2, a3, a4);
    case SYS_setitimer: return sys_setitimer(a1, a2, a3);
    case SYS_getitimer: return sys_getitimer(a1, a2);
    case SYS_alarm: return sys_alarm(a1);
    case SYS_timer_create: return sys_timer_create(a1, a2, a3);
    case SYS_timer_settime: return sys_timer_settime(a1, a2, a3, a4);
    case SYS_timer_gettime: return sys_timer_gettime(a1, a2);
    case SYS_timer_getoverrun: return sys_timer_getoverrun(a1);
    case SYS_timer_delete: return sys_timer_delete(a1);
    case SYS_clock_getres: return sys_clock_getres(a1, a2);
    case SYS_clock_settime: return sys_clock_settime(a1, a2);
    case SYS_settimeofday: return sys_settimeofday(a1, a2);
    case SYS_adjtimex: return sys_adjtimex(a1);
    case SYS_clock_adjtime: return sys_clock_adjtime(a1, a2);
    case SYS_gettimeofday: return sys_gettimeofday(a1, a2);
    case SYS_time: return sys_time(a1);
    case SYS_nanosleep: return sys_nanosleep(a1, a2);
    case SYS_clock_nanosleep: return sys_clock_nanosleep(a1, a2, a3, a4);

    case SYS_exit: sys_exit(a1);
    case SYS_exit_group: sys_exit_group(a1);
    case SYS_set_tid_address: return sys_set_tid_address(a1);
    case SYS_arch_prctl: return sys_arch_prctl(a1, a2);
    // getpid, gettid, getppid: unlocked_call, below.
    case SYS_getuid: return creds().ruid;
    case SYS_geteuid: return creds().euid;
    case SYS_getgid: return creds().rgid;
    case SYS_getegid: return creds().egid;
    case SYS_uname: return sys_uname(a1);
    case SYS_getrandom: return sys_getrandom(a1, a2, a3);
    case SYS_futex: return sys_futex(a1, a2, a3, a4, a5, a6);
    case SYS_sched_yield: return sys_sched_yield();
    case SYS_sched_getaffinity: return sys_sched_getaffinity(a1, a2, a3);
    case SYS_sched_setaffinity: return sys_sched_setaffinity(a1, a2, a3);
    case SYS_sched_getparam:
    case SYS_sched_setparam:
    case SYS_sched_getscheduler:
    case SYS_sched_setscheduler:
    case SYS_sched_get_priority_max:
    case SYS_sched_get_priority_min:
    case SYS_sched_rr_get_interval: return sys_sched_query(n, a1, a2);
    case SYS_getpriority: return sys_getpriority(a1, a2);
    case SYS_setpriority: return sys_setpriority(a1, a2, a3);
    case SYS_prlimit64: return sys_prlimit64(a1, a2, a3, a4);
    case SYS_getrlimit: return sys_getrlimit(a1, a2);
    case SYS_setrlimit: return sys_setrlimit(a1, a2);
    case SYS_sysinfo: return sys_sysinfo(a1);
    case SYS_getrusage: return sys_getrusage(a1, a2);
    case SYS_times: return sys_times(a1);
    case SYS_prctl: return sys_prctl(a1, a2, a3, a4, a5);
    case SYS_sigaltstack: return sys_sigaltstack(a1, a2);
    case SYS_rt_sigpending: return sys_rt_sigpending(a1, a2);
    case SYS_rt_sigtimedwait: return sys_rt_sigtimedwait(a1, a2, a3, a4);
    case SYS_rt_sigqueueinfo: return sys_rt_sigqueueinfo(a1, a2, a3);
    case SYS_rt_tgsigqueueinfo: return sys_rt_tgsigqueueinfo(a1, a2, a3, a4);
    case SYS_rt_sigsuspend: return sys_rt_sigsuspend(a1, a2);
    case SYS_getpgid:
    case SYS_getsid: return a1 == 0 || a1 == k_pid ? k_pid : -ESRCH;
    case SYS_getpgrp: return k_pid;
    case SYS_setsid: return -EPERM; // already a session leader
    case SYS_setpgid: return (a1 == 0 || a1 == k_pid) && (a2 == 0 || a2 == k_pid) ? 0 : -EPERM;
    case SYS_getgroups: return sys_getgroups(a1, a2);
    case SYS_setgroups: return sys_setgroups(a1, a2);
    case SYS_setuid: return sys_setuid(a1);
    case SYS_setgid: return sys_setgid(a1);
    case SYS_setfsuid: return sys_setfsuid(a1);
    case SYS_setfsgid: return sys_setfsgid(a1);
    case SYS_setresuid: return sys_setresuid(a1, a2, a3);
    case SYS_setresgid: return sys_setresgid(a1, a2, a3);
    case SYS_setreuid: return sys_setreuid(a1, a2);
    case SYS_setregid: return sys_setregid(a1, a2);
    case SYS_getresuid: return sys_getresuid(a1, a2, a3);
    case SYS_getresgid: return sys_getresgid(a1, a2, a3);
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

namespace atl::libos {

namespace {

// Calls that only read state written in one store (or before the application started) run
// without masking interrupts: under TCG the mask and unmask alone cost ~110 ns, against a
// 5 ns goal for a whole call. True when handled; *r is the result.
bool unlocked_call(long n, long a1, long a2, long* r)
{
    switch (n) {
    case SYS_clock_gettime: return clock_gettime_unlocked(a1, a2, r);
    case SYS_getpid: *r = k_pid; return true;
    case SYS_gettid: *r = sys_gettid(); return true;
    case SYS_getppid: *r = 0; return true;
    default: return false;
    }
}

} // namespace

} // namespace atl::libos

// Stack kept committed below a system call's entry on growable stacks: generous against the
// libOS's deepest paths (a send through lwIP, a formatted log line).
constexpr atl::u64 k_syscall_stack = 64 * 1024;

// Every system call of the application arrives here as a function call. The libOS runs with
// interrupts off (one CPU: that is its lock); signals for the thread are delivered on the way
// back, with the application's interrupt state restored.
extern "C" long __atoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    using namespace atl;
    long r = 0;
    if (libos::unlocked_call(n, a1, a2, &r)) {
        libos::deliver_signals_after_unlocked_call();
        return r;
    }
    kernel::IrqState irq = kernel::irq_save();
    // The libOS runs on the caller's stack: if that is a growable one, the pages its deepest
    // paths need are committed now, not by a fault inside the page allocator (kernel/stack.h).
    kernel::stack_ensure(reinterpret_cast<u64>(__builtin_frame_address(0)), k_syscall_stack);
    r = libos::dispatch(n, a1, a2, a3, a4, a5, a6);
    bool signals = libos::has_deliverable_signal() || kernel::current()->interrupt_pending;
    kernel::irq_restore(irq);
    if (signals)
        libos::deliver_pending_signals();
    return r;
}
