// SPDX-License-Identifier: MIT
// Timers that signal: the real-time interval timer (alarm, setitimer/getitimer ITIMER_REAL:
// SIGALRM) and POSIX per-process timers (timer_create ... timer_delete: SIGEV_SIGNAL,
// SIGEV_NONE and SIGEV_THREAD_ID, which musl's SIGEV_THREAD is built on). Each is a kernel
// timer event; its expiry runs in the timer interrupt and queues the signal, which the target
// thread takes at its next system call or interrupt return.
//
// Not supported, and said so: ITIMER_VIRTUAL and ITIMER_PROF, and timers on CPU-time clocks
// (EINVAL, logged once). Overruns count the periods an expiry came late by, not expiries whose
// signal was still queued.

#include <libos/core/syscall.h>
#include <libos/proc/thread_state.h>
#include <libos/signal/signal.h>
#include <libos/time/syscalls.h>

#include <kernel/console.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <sys/time.h>

namespace atl::libos {

namespace {

constexpr u64 k_ns = 1000000000;
constexpr int k_max_timers = 256;
constexpr int k_sigev_thread_id = 4; // SIGEV_THREAD_ID (Linux)

// All zero until timer_create (or itimer_real) fills it in: the table then costs no image bytes.
struct Timer : kernel::TimerEvent {
    bool used = false;
    int id = 0;
    int clock = 0;
    int notify = 0;
    int signo = 0;
    int code = 0;
    int tid = 0; // SIGEV_THREAD_ID's thread
    union sigval value {};
    u64 interval = 0; // ns
    int overrun = 0;  // periods the last expiry was late by
};

Timer s_timers[k_max_timers];
Timer s_itimer_real; // ITIMER_REAL: SIGALRM with SI_KERNEL, as Linux sends it

void fire(kernel::TimerEvent* ev)
{
    auto* t = static_cast<Timer*>(ev);
    t->overrun = 0;
    if (t->interval) {
        u64 missed = 0;
        kernel::timer_start(ev, itimer_next(ev->deadline, t->interval, &missed));
        t->overrun = missed > INT_MAX ? INT_MAX : static_cast<int>(missed);
    }
    if (t->notify == SIGEV_NONE)
        return;
    int pid = t->code == SI_TIMER ? t->id : static_cast<int>(k_pid); // si_timerid shares si_pid's place
    if (t->notify == k_sigev_thread_id) {
        if (kernel::Thread* th = kernel::find_thread(t->tid))
            (void)signal_thread(th, t->signo, t->code, pid, t->value);
        return; // the thread is gone: nobody to tell
    }
    (void)signal_process(t->signo, t->code, pid, t->value);
}

// Arms T to go off VALUE from now (or at VALUE on its clock, absolute), then every INTERVAL;
// VALUE 0 disarms.
void arm(Timer& t, u64 value, u64 interval, bool absolute)
{
    kernel::timer_cancel(&t);
    t.interval = interval;
    t.overrun = 0;
    if (value != 0)
        kernel::timer_start(&t, itimer_deadline(t.clock, value, absolute));
}

// ITIMER_REAL's constant fields, set on each use (a global constructor would run only with
// the C library's, after the kernel could have used it).
Timer& itimer_real()
{
    Timer& t = s_itimer_real;
    t.fire = fire;
    t.notify = SIGEV_SIGNAL;
    t.signo = SIGALRM;
    t.code = SI_KERNEL;
    return t;
}

// An interval timer's time left and period in microseconds, rounded up: a pending timer
// never reads as 0.
void read_itimer(const Timer& t, struct itimerval* out)
{
    auto tv = [](u64 ns) {
        u64 us = (ns + 999) / 1000;
        return timeval { static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000) };
    };
    out->it_value = tv(itimer_left(t));
    out->it_interval = tv(t.interval);
}

Timer* timer_of(long id)
{
    if (id < 0 || id >= k_max_timers || !s_timers[id].used)
        return nullptr;
    return &s_timers[id];
}

bool first_unsupported = true;

long unsupported(const char* what)
{
    if (first_unsupported) {
        first_unsupported = false;
        kernel::log("%s is not supported: returning EINVAL", what);
    }
    return -EINVAL;
}

} // namespace

// ------------------------------------------------------------------ shared arithmetic

long read_itimerspec(long new_value, long old_value, u64* value, u64* interval)
{
    struct itimerspec nv;
    if (long r = read_user(new_value, &nv); r < 0)
        return r;
    // The old value is written after the change: checked now, so that a bad pointer changes
    // nothing (Linux copies the new value in and checks the old one before acting too).
    if (old_value && !user_ok(old_value, sizeof(struct itimerspec)))
        return -EFAULT;
    if (!timespec_ns(nv.it_value, value) || !timespec_ns(nv.it_interval, interval))
        return -EINVAL;
    return 0;
}

u64 itimer_deadline(int clock, u64 value, bool absolute)
{
    u64 now = kernel::monotonic_ns();
    if (!absolute)
        return now + value;
    u64 base = (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_ALARM) ? kernel::realtime_ns() : now;
    return value > base ? now + (value - base) : now;
}

u64 itimer_next(u64 deadline, u64 interval, u64* missed)
{
    u64 now = kernel::monotonic_ns();
    u64 next = deadline + interval;
    *missed = 0;
    if (next <= now) {
        *missed = (now - deadline) / interval;
        next = deadline + (*missed + 1) * interval;
    }
    return next;
}

u64 itimer_left(const kernel::TimerEvent& ev)
{
    if (!ev.armed())
        return 0;
    u64 now = kernel::monotonic_ns();
    return ev.deadline > now ? ev.deadline - now : 1; // due: not yet fired, so not zero
}

void write_itimerspec(const kernel::TimerEvent& ev, u64 interval, struct itimerspec* out)
{
    ns_timespec(itimer_left(ev), &out->it_value);
    ns_timespec(interval, &out->it_interval);
}

// ------------------------------------------------------------------ interval timers

long sys_setitimer(long which, long new_value, long old_value)
{
    if (which != ITIMER_REAL && which != ITIMER_VIRTUAL && which != ITIMER_PROF)
        return -EINVAL;
    struct itimerval nv {};
    if (new_value) {
        if (long r = read_user(new_value, &nv); r < 0)
            return r;
    }
    if (old_value && !user_ok(old_value, sizeof(struct itimerval)))
        return -EFAULT; // checked before anything changes
    for (const struct timeval* tv : { &nv.it_value, &nv.it_interval }) {
        if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
            return -EINVAL;
    }
    u64 value = static_cast<u64>(nv.it_value.tv_sec) * k_ns + static_cast<u64>(nv.it_value.tv_usec) * 1000;
    u64 interval = static_cast<u64>(nv.it_interval.tv_sec) * k_ns + static_cast<u64>(nv.it_interval.tv_usec) * 1000;
    if (which != ITIMER_REAL) {
        // CPU-time timers are not kept; disarming one (what a program does on exit) is true.
        if (old_value) {
            if (long r = write_user(old_value, itimerval {}); r < 0)
                return r;
        }
        return value ? unsupported("setitimer(ITIMER_VIRTUAL / ITIMER_PROF)") : 0;
    }
    struct itimerval old {};
    read_itimer(itimer_real(), &old);
    arm(itimer_real(), value, interval, false);
    return old_value ? write_user(old_value, old) : 0;
}

long sys_getitimer(long which, long cur)
{
    if (which != ITIMER_REAL && which != ITIMER_VIRTUAL && which != ITIMER_PROF)
        return -EINVAL;
    struct itimerval out {};
    if (which == ITIMER_REAL) // the others are never armed (setitimer refuses to)
        read_itimer(itimer_real(), &out);
    return write_user(cur, out);
}

long sys_alarm(long seconds)
{
    u64 left = itimer_left(itimer_real());
    arm(itimer_real(), static_cast<u64>(static_cast<unsigned>(seconds)) * k_ns, 0, false);
    // Whole seconds left, rounded to nearest, at least 1 if one was pending (as Linux).
    u64 secs = (left + k_ns / 2) / k_ns;
    return left && !secs ? 1 : static_cast<long>(secs);
}

// ------------------------------------------------------------------ POSIX timers

long sys_timer_create(long clock, long sevp, long idp)
{
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME:
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM:
        break;
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
        return unsupported("timer_create on a CPU-time clock");
    default:
        return -EINVAL;
    }
    if (!user_ok(idp, sizeof(int)))
        return -EFAULT;
    struct sigevent ev {};
    if (sevp) {
        if (long r = read_user(sevp, &ev); r < 0)
            return r;
    } else {
        ev.sigev_notify = SIGEV_SIGNAL;
        ev.sigev_signo = SIGALRM;
    }
    int tid = 0;
    switch (ev.sigev_notify) {
    case SIGEV_NONE:
        break;
    case k_sigev_thread_id:
        std::memcpy(&tid, reinterpret_cast<const char*>(&ev) + offsetof(struct sigevent, sigev_notify) + sizeof(int), sizeof(int));
        if (!kernel::find_thread(tid))
            return -EINVAL;
        [[fallthrough]];
    case SIGEV_SIGNAL:
        if (ev.sigev_signo < 1 || ev.sigev_signo > 64)
            return -EINVAL;
        break;
    default:
        return -EINVAL; // SIGEV_THREAD is the C library's (a thread + SIGEV_THREAD_ID)
    }
    int id = 0;
    while (id < k_max_timers && s_timers[id].used)
        ++id;
    if (id == k_max_timers)
        return -EAGAIN;
    Timer& t = s_timers[id];
    t = Timer {};
    t.used = true;
    t.id = id;
    t.fire = fire;
    t.clock = static_cast<int>(clock);
    t.notify = ev.sigev_notify;
    t.signo = ev.sigev_signo;
    t.code = SI_TIMER;
    t.tid = tid;
    t.value = sevp ? ev.sigev_value : sigval { .sival_int = id };
    if (long r = write_user(idp, id); r < 0) {
        t.used = false; // Linux deletes the timer again when the id cannot be written
        return r;
    }
    return 0;
}

long sys_timer_settime(long id, long flags, long new_value, long old_value)
{
    Timer* t = timer_of(id);
    if (!t)
        return -EINVAL;
    // Other flag bits are ignored, as Linux does.
    u64 value = 0, interval = 0;
    if (long r = read_itimerspec(new_value, old_value, &value, &interval); r < 0)
        return r;
    struct itimerspec old {};
    write_itimerspec(*t, t->interval, &old);
    arm(*t, value, interval, flags & TIMER_ABSTIME);
    return old_value ? write_user(old_value, old) : 0;
}

long sys_timer_gettime(long id, long cur)
{
    Timer* t = timer_of(id);
    if (!t)
        return -EINVAL;
    struct itimerspec out {};
    write_itimerspec(*t, t->interval, &out);
    return write_user(cur, out);
}

long sys_timer_getoverrun(long id)
{
    Timer* t = timer_of(id);
    return t ? t->overrun : -EINVAL;
}

long sys_timer_delete(long id)
{
    Timer* t = timer_of(id);
    if (!t)
        return -EINVAL;
    kernel::timer_cancel(t);
    t->used = false;
    return 0;
}

} // namespace atl::libos
