// SPDX-License-Identifier: MIT
#pragma once

// The process and its threads: exit, identity, randomness, scheduling, limits, prctl
// (process.cpp); clone, thread exit, set_tid_address, sched_yield (thread.cpp); futex
// (futex.cpp). Credentials: <libos/proc/credentials.h>; per-thread state:
// <libos/proc/thread_state.h>.

#include <cstddef>

namespace atl::libos {

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

// Fills BUF with random bytes (AT_RANDOM, /dev/urandom, getrandom).
void fill_random(void* buf, std::size_t len);

} // namespace atl::libos
