// SPDX-License-Identifier: MIT
#pragma once

// Handlers of the Linux system calls, one file per family. Each takes the raw arguments,
// validates them, and returns a value >= 0 or -errno, as the Linux kernel would.

#include <kernel/types.h>

// The entry point from musl (toolchain/musl/syscall_arch.h).
extern "C" long __atoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

namespace atl::libos {

using ::atl::u64;

// Pointer checks against the page tables: user_ok for memory the libOS writes (results),
// user_in for memory it only reads (arguments).
bool user_ok(const void* p, std::size_t n);
bool user_ok(long p, std::size_t n);
bool user_in(const void* p, std::size_t n);
bool user_in(long p, std::size_t n);

// fs (console descriptors until the VFS lands)
long sys_read(long fd, long buf, long count);
long sys_write(long fd, long buf, long count);
long sys_readv(long fd, long iov, long iovcnt);
long sys_writev(long fd, long iov, long iovcnt);
long sys_close(long fd);
long sys_lseek(long fd, long offset, long whence);
long sys_ioctl(long fd, long request, long arg);
long sys_fcntl(long fd, long cmd, long arg);

// mm
long sys_mmap(long addr, long len, long prot, long flags, long fd, long offset);
long sys_munmap(long addr, long len);
long sys_mprotect(long addr, long len, long prot);
long sys_madvise(long addr, long len, long advice);
long sys_brk(long addr);

// time
long sys_clock_gettime(long clock, long ts);
long sys_clock_getres(long clock, long ts);
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
long sys_prlimit64(long pid, long resource, long new_limit, long old_limit);
long sys_rt_sigaction(long sig, long act, long oldact, long sigsetsize);
long sys_rt_sigprocmask(long how, long set, long oldset, long sigsetsize);
long sys_kill(long pid, long sig);
long sys_tkill(long tid, long sig);
long sys_tgkill(long tgid, long tid, long sig);
long sys_rt_sigreturn();

constexpr long k_pid = 1;

} // namespace atl::libos
