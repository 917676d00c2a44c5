// SPDX-License-Identifier: MIT
#pragma once

// Handlers of the Linux system calls, one file per family. Each takes the raw arguments,
// validates them, and returns a value >= 0 or -errno, as the Linux kernel would.

#include <kernel/paging.h>
#include <kernel/sched.h>
#include <kernel/types.h>

#include <cerrno>
#include <cstddef>

// The entry point from musl (toolchain/musl/syscall_arch.h).
extern "C" long __atoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

namespace atl::libos {
// A system call's result as a C library function returns it: -errno becomes errno and -1
// (for the libc functions the libOS defines in musl's place: socket, clock_gettime...).
inline long syscall_result(long r)
{
    if (r < 0) {
        errno = static_cast<int>(-r);
        return -1;
    }
    return r;
}
}

struct timespec;
struct itimerspec;

namespace atl::libos {

using ::atl::u64;

// Pointer checks against the page tables: user_ok for memory the libOS writes (results),
// user_in for memory it only reads (arguments).
inline bool user_ok(const void* p, std::size_t n) { return kernel::access_ok(reinterpret_cast<u64>(p), n, true); }
inline bool user_ok(long p, std::size_t n) { return kernel::access_ok(static_cast<u64>(p), n, true); }
inline bool user_in(const void* p, std::size_t n) { return kernel::access_ok(reinterpret_cast<u64>(p), n, false); }
inline bool user_in(long p, std::size_t n) { return kernel::access_ok(static_cast<u64>(p), n, false); }

// fs (sys_fs.cpp, pipe.cpp)
long user_string(long p, char* out, std::size_t cap); // copies a path in: its length or -errno
// Validates an iovec array (into: the libOS writes the buffers); the total length or -errno.
long check_iov(long iov, long iovcnt, bool into);
long sys_openat(long dirfd, long path, long flags, long mode);
long sys_open(long path, long flags, long mode);
long sys_creat(long path, long mode);
long sys_close(long fd);
long sys_read(long fd, long buf, long count);
long sys_write(long fd, long buf, long count);
long sys_readv(long fd, long iov, long iovcnt);
long sys_writev(long fd, long iov, long iovcnt);
long sys_pread64(long fd, long buf, long count, long offset);
long sys_pwrite64(long fd, long buf, long count, long offset);
long sys_preadv(long fd, long iov, long iovcnt, long offset);
long sys_pwritev(long fd, long iov, long iovcnt, long offset);
long sys_lseek(long fd, long offset, long whence);
long sys_fstat(long fd, long st);
long sys_newfstatat(long dirfd, long path, long st, long flags);
long sys_stat(long path, long st);
long sys_lstat(long path, long st);
long sys_statx(long dirfd, long path, long flags, long mask, long buf);
long sys_getdents64(long fd, long buf, long count);
long sys_mkdirat(long dirfd, long path, long mode);
long sys_mkdir(long path, long mode);
long sys_unlinkat(long dirfd, long path, long flags);
long sys_unlink(long path);
long sys_rmdir(long path);
long sys_renameat2(long olddirfd, long oldpath, long newdirfd, long newpath, long flags);
long sys_renameat(long od, long op, long nd, long np);
long sys_rename(long op, long np);
long sys_linkat(long olddirfd, long oldpath, long newdirfd, long newpath, long flags);
long sys_link(long op, long np);
long sys_symlinkat(long target, long newdirfd, long linkpath);
long sys_symlink(long target, long linkpath);
long sys_readlinkat(long dirfd, long path, long buf, long bufsiz);
long sys_readlink(long path, long buf, long bufsiz);
long sys_faccessat(long dirfd, long path, long mode, long flags);
long sys_access(long path, long mode);
long sys_getcwd(long buf, long size);
long sys_chdir(long path);
long sys_fchdir(long fd);
long sys_umask(long mask);
long sys_utimensat(long dirfd, long path, long times, long flags);
long sys_ftruncate(long fd, long length);
long sys_truncate(long path, long length);
long sys_fsync(long fd);
long sys_fchmodat(long dirfd, long path, long mode);
long sys_chmod(long path, long mode);
long sys_fchmod(long fd, long mode);
long sys_fchownat(long dirfd, long path, long uid, long gid, long flags);
long sys_fchown(long fd, long uid, long gid);
long sys_statfs(long path, long buf);
long sys_fstatfs(long fd, long buf);
long sys_dup(long fd);
long sys_dup2(long oldfd, long newfd);
long sys_dup3(long oldfd, long newfd, long flags);
long sys_fcntl(long fd, long cmd, long arg);
long sys_ioctl(long fd, long request, long arg);
long sys_flock(long fd, long op);
long sys_sendfile(long out_fd, long in_fd, long offset, long count);
long sys_copy_file_range(long fd_in, long off_in, long fd_out, long off_out, long len, long flags);
long sys_pipe2(long fds, long flags);
long sys_pipe(long fds);

// polling (sys_poll.cpp)
long sys_poll(long fds, long nfds, long timeout_ms);
long sys_ppoll(long fds, long nfds, long ts, long mask, long masksize);
long sys_select(long nfds, long readfds, long writefds, long exceptfds, long tv);
long sys_pselect6(long nfds, long readfds, long writefds, long exceptfds, long ts, long sigdata);
long sys_epoll_create(long size);
long sys_epoll_create1(long flags);
long sys_epoll_ctl(long epfd, long op, long fd, long event);
long sys_epoll_wait(long epfd, long events, long maxevents, long timeout_ms);
long sys_epoll_pwait(long epfd, long events, long maxevents, long timeout_ms, long mask, long masksize);
long sys_eventfd(long initval);
long sys_eventfd2(long initval, long flags);
long sys_timerfd_create(long clock, long flags);
long sys_timerfd_settime(long fd, long flags, long new_value, long old_value);
long sys_timerfd_gettime(long fd, long cur);

// timespec <-> ns (sys_time.cpp): false for a negative time or tv_nsec out of [0, 10^9).
bool timespec_ns(const struct timespec& ts, u64* ns);
void ns_timespec(u64 ns, struct timespec* ts);

// Interval-timer arithmetic shared by timerfd and the signalling timers (sys_timer.cpp).
// Reads a new itimerspec and checks the old one's buffer: 0, -EFAULT or -EINVAL.
long read_itimerspec(long new_value, long old_value, u64* value, u64* interval);
// The monotonic deadline of a timer set to VALUE, relative or absolute on CLOCK.
u64 itimer_deadline(int clock, u64 value, bool absolute);
// After an expiry due at DEADLINE: the next one, and the whole periods already missed.
u64 itimer_next(u64 deadline, u64 interval, u64* missed);
// The time left before EV (0: disarmed; a due timer reads as 1 ns, never 0) and the period.
u64 itimer_left(const kernel::TimerEvent& ev);
void write_itimerspec(const kernel::TimerEvent& ev, u64 interval, struct itimerspec* out);

// signalfd (signalfd.cpp)
long sys_signalfd4(long fd, long maskp, long size, long flags);

// timers that signal (sys_timer.cpp)
long sys_setitimer(long which, long new_value, long old_value);
long sys_getitimer(long which, long cur);
long sys_alarm(long seconds);
long sys_timer_create(long clock, long sevp, long idp);
long sys_timer_settime(long id, long flags, long new_value, long old_value);
long sys_timer_gettime(long id, long cur);
long sys_timer_getoverrun(long id);
long sys_timer_delete(long id);

// sockets: socket.cpp, reached through socket_layer.h

// mm
long sys_mmap(long addr, long len, long prot, long flags, long fd, long offset);
long sys_munmap(long addr, long len);
long sys_msync(long addr, long len, long flags);
long sys_mremap(long old_addr, long old_len, long new_len, long flags, long new_addr);
long sys_mprotect(long addr, long len, long prot);
long sys_madvise(long addr, long len, long advice);
long sys_brk(long addr);
long sys_mlock(long addr, long len, long flags);
long sys_munlock(long addr, long len);
long sys_mlockall(long flags);
long sys_fallocate(long fd, long mode, long offset, long len);

// time
// clock_gettime without the libOS lock, for the clocks whose reading is free of side effects;
// false: take the locked path.
bool clock_gettime_unlocked(long clock, long ts, long* result);
long sys_clock_gettime(long clock, long ts);
long sys_clock_getres(long clock, long ts);
long sys_clock_settime(long clock, long ts);
long sys_settimeofday(long tv, long tz);
long sys_adjtimex(long tx);
long sys_clock_adjtime(long clock, long tx);
long sys_gettimeofday(long tv, long tz);
long sys_time(long t);
long sys_nanosleep(long req, long rem);
long sys_clock_nanosleep(long clock, long flags, long req, long rem);

// process, signals, misc
[[noreturn]] void sys_exit_group(long code);
[[noreturn]] long sys_exit(long code);
long sys_set_tid_address(long ptr);
long sys_gettid();
long sys_sched_yield();
long sys_arch_prctl(long code, long addr);
long sys_uname(long buf);
long sys_getrandom(long buf, long len, long flags);
long sys_futex(long uaddr, long op, long val, long timeout, long uaddr2, long val3);
long sys_sched_getaffinity(long pid, long size, long mask);
long sys_sched_setaffinity(long pid, long size, long mask);
long sys_prlimit64(long pid, long resource, long new_limit, long old_limit);
long sys_getrlimit(long resource, long rlim);
long sys_setrlimit(long resource, long rlim);
long sys_sysinfo(long info);
long sys_getrusage(long who, long usage);
long sys_times(long buf);
long sys_sched_query(long n, long a1, long a2); // sched_getparam & co.
long sys_getpriority(long which, long who);
long sys_setpriority(long which, long who, long niceval);
long sys_prctl(long option, long a2, long a3, long a4, long a5);
long sys_sigaltstack(long ss, long old);
long sys_rt_sigpending(long set, long size);
long sys_rt_sigtimedwait(long set, long info, long timeout, long size);
long sys_rt_sigqueueinfo(long pid, long sig, long info);
long sys_rt_tgsigqueueinfo(long tgid, long tid, long sig, long info);
long sys_rt_sigsuspend(long mask, long size);
long sys_rt_sigaction(long sig, long act, long oldact, long sigsetsize);
long sys_rt_sigprocmask(long how, long set, long oldset, long sigsetsize);
long sys_kill(long pid, long sig);
long sys_tkill(long tid, long sig);
long sys_tgkill(long tgid, long tid, long sig);
long sys_rt_sigreturn();

constexpr long k_pid = 1;

// Credentials (sys_cred.cpp): the process's ids and what root's capabilities are left.
struct Credentials {
    u32 ruid = 0, euid = 0, suid = 0, fsuid = 0;
    u32 rgid = 0, egid = 0, sgid = 0, fsgid = 0;
    bool cap_permitted = true;    // root's capabilities can be (re)gained
    bool cap_effective = true;    // in force: CAP_SETUID, CAP_SETGID, CAP_SYS_NICE, ...
    bool cap_fs_effective = true; // in force: CAP_CHOWN, CAP_FOWNER, CAP_FSETID (follow fsuid)
};
enum class Capability { SetUid, SetGid, SysNice, SysResource, NetAdmin, Chown, Fowner, Fsetid, SysTime };
const Credentials& creds();
bool capable(Capability cap);
bool in_group(u32 gid); // the file-system gid or a supplementary group
std::size_t group_count();
u32 group_at(std::size_t i);
long sys_getresuid(long r, long e, long s);
long sys_getresgid(long r, long e, long s);
long sys_setuid(long uid);
long sys_setreuid(long ruid, long euid);
long sys_setresuid(long ruid, long euid, long suid);
long sys_setfsuid(long uid);
long sys_setgid(long gid);
long sys_setregid(long rgid, long egid);
long sys_setresgid(long rgid, long egid, long sgid);
long sys_setfsgid(long gid);
long sys_getgroups(long size, long list);
long sys_setgroups(long size, long list);
// Ownership rules for files: chown and chmod by their owner or a capable caller (-EPERM),
// the bits they drop, and the owner of a new inode in DIR.
struct Inode;
long check_chown(const Inode* i, long uid, long gid);
void apply_chown(Inode* i, long uid, long gid);
long check_chmod(const Inode* i, u32* mode);
void init_owner(Inode* i, const Inode* dir);
// Permission checks (Linux's DAC, no ACLs): 0 or -EACCES/-EPERM. Masks: k_may_*.
constexpr int k_may_exec = 1, k_may_write = 2, k_may_read = 4;
long inode_permission(const Inode* i, int mask);
long may_delete(const Inode* dir, const Inode* victim);
bool is_owner_or_capable(const Inode* i);
// While on, checks are made for the real ids (access(), faccessat without AT_EACCESS).
void check_access_with_real_ids(bool on);

// The main thread's stack limit (start.cpp): what RLIMIT_STACK reports; setting it moves
// how far the stack may grow and returns the limit in force.
u64 main_stack_limit();
u64 set_main_stack_limit(u64 limit);

} // namespace atl::libos
