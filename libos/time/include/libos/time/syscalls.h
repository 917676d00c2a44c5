// SPDX-License-Identifier: MIT
#pragma once

// Clocks and timers: reading and setting the clocks, sleeping (clock.cpp), the timers that
// signal (timer.cpp), and the time arithmetic timerfd shares with them.

#include <kernel/sched.h>
#include <kernel/types.h>

struct timespec;
struct itimerspec;

namespace atl::libos {

using ::atl::u64;

// timespec <-> ns (clock.cpp): false for a negative time or tv_nsec out of [0, 10^9).
bool timespec_ns(const struct timespec& ts, u64* ns);
void ns_timespec(u64 ns, struct timespec* ts);

// Interval-timer arithmetic shared by timerfd and the signalling timers (timer.cpp).
// Reads a new itimerspec and checks the old one's buffer: 0, -EFAULT or -EINVAL.
long read_itimerspec(long new_value, long old_value, u64* value, u64* interval);
// The monotonic deadline of a timer set to VALUE, relative or absolute on CLOCK.
u64 itimer_deadline(int clock, u64 value, bool absolute);
// After an expiry due at DEADLINE: the next one, and the whole periods already missed.
u64 itimer_next(u64 deadline, u64 interval, u64* missed);
// The time left before EV (0: disarmed; a due timer reads as 1 ns, never 0) and the period.
u64 itimer_left(const kernel::TimerEvent& ev);
void write_itimerspec(const kernel::TimerEvent& ev, u64 interval, struct itimerspec* out);

// timers that signal (timer.cpp)
long sys_setitimer(long which, long new_value, long old_value);
long sys_getitimer(long which, long cur);
long sys_alarm(long seconds);
long sys_timer_create(long clock, long sevp, long idp);
long sys_timer_settime(long id, long flags, long new_value, long old_value);
long sys_timer_gettime(long id, long cur);
long sys_timer_getoverrun(long id);
long sys_timer_delete(long id);

// clocks (clock.cpp)
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

} // namespace atl::libos
