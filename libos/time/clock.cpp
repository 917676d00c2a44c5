// SPDX-License-Identifier: MIT
// Clocks: reading them (clock_gettime without the lock where it is free of side effects),
// setting and adjusting the real-time clock, and sleeping on them. Timers: timer.cpp.

#include <libos/core/syscall.h>
#include <libos/proc/credentials.h>
#include <libos/proc/thread_state.h>
#include <libos/signal/signal.h>
#include <libos/time/syscalls.h>

#include <kernel/sched.h>
#include <kernel/time.h>

#include <cerrno>
#include <climits>
#include <ctime>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>

namespace atl::libos {

namespace {

constexpr long k_ns = 1000000000;

// The clocks by what they read: every Linux clock id Atoll knows is one of these.
enum class ClockKind { Realtime, Monotonic, ProcessCpu, ThreadCpu, Unknown };

ClockKind clock_kind(long clock)
{
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_TAI:
        return ClockKind::Realtime;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        return ClockKind::Monotonic;
    case CLOCK_PROCESS_CPUTIME_ID:
        return ClockKind::ProcessCpu;
    case CLOCK_THREAD_CPUTIME_ID:
        return ClockKind::ThreadCpu;
    default:
        return ClockKind::Unknown;
    }
}

u64 tai_ns(u64 real) { return real + static_cast<u64>(kernel::clock_tai_offset_s()) * static_cast<u64>(k_ns); }

bool valid_clock(long clock, u64* now)
{
    switch (clock_kind(clock)) {
    case ClockKind::Realtime:
        kernel::clock_wait_for_host();
        *now = clock == CLOCK_TAI ? tai_ns(kernel::realtime_ns()) : kernel::realtime_ns();
        return true;
    case ClockKind::Monotonic: *now = kernel::monotonic_ns(); return true;
    case ClockKind::ProcessCpu: *now = kernel::process_cpu_ns(); return true;
    case ClockKind::ThreadCpu: *now = kernel::thread_cpu_ns(kernel::current()); return true;
    default: return false;
    }
}

// The application's timespec at P in ns: 0, -EFAULT or -EINVAL.
long read_timespec(long p, u64* ns)
{
    struct timespec ts;
    if (long r = read_user(p, &ts); r < 0)
        return r;
    return timespec_ns(ts, ns) ? 0 : -EINVAL;
}


// Sleeps on the scheduler's timer (the CPU halts if nothing else runs). A signal ends the
// sleep early with EINTR and the time left in *rem.
long sleep_ns(u64 ns, long rem)
{
    u64 start = kernel::monotonic_ns();
    u64 deadline = start + (ns ? ns : 1);
    kernel::WakeReason r = kernel::block(nullptr, deadline, true);
    if (r != kernel::WakeReason::Interrupted)
        return 0;
    if (rem) {
        u64 now = kernel::monotonic_ns();
        struct timespec left;
        ns_timespec(deadline > now ? deadline - now : 0, &left);
        if (long w = write_user(rem, left); w < 0)
            return w; // Linux too: the remainder's EFAULT replaces EINTR
    }
    return -EINTR;
}

} // namespace

bool timespec_ns(const struct timespec& ts, u64* ns)
{
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= k_ns)
        return false;
    *ns = static_cast<u64>(ts.tv_sec) * k_ns + static_cast<u64>(ts.tv_nsec);
    return true;
}

void ns_timespec(u64 ns, struct timespec* ts)
{
    ts->tv_sec = static_cast<time_t>(ns / k_ns);
    ts->tv_nsec = static_cast<long>(ns % k_ns);
}

long sys_clock_gettime(long clock, long ts)
{
    u64 now = 0;
    if (!valid_clock(clock, &now))
        return -EINVAL;
    struct timespec out;
    ns_timespec(now, &out);
    return write_user(ts, out);
}

bool clock_gettime_unlocked(long clock, long ts, long* result)
{
    u64 now = 0;
    ClockKind kind = clock_kind(clock);
    bool ready = (kind == ClockKind::Realtime && clock != CLOCK_TAI && kernel::realtime_ns_ready(&now)) ||
                 (kind == ClockKind::Monotonic && kernel::monotonic_ns_ready(&now));
    if (!ready)
        return false; // the CPU clocks, TAI, an unknown id, or a first read still to do
    // Without the lock the tables may be mid-change, or another thread may unmap TS before the
    // store: the fault-safe store fails then, and the locked path reports EFAULT.
    UserPtr<struct timespec> out(ts);
    if (!out.writable())
        return false;
    struct timespec v;
    ns_timespec(now, &v);
    if (!out.write_checked(v))
        return false;
    *result = 0;
    return true;
}

// Linux's limit for a settable time (TIME_SETTOD_SEC_MAX): KTIME_SEC_MAX less 30 years of uptime.
constexpr long k_settod_sec_max = 9223372036L - 946080000L;

long sys_clock_settime(long clock, long ts)
{
    // Linux's order (kernel/time/posix-timers.c): a clock that cannot be set (all but the
    // wall clock, CLOCK_PROCESS/THREAD_CPUTIME_ID included) is EINVAL before the pointer is
    // read.
    if (clock != CLOCK_REALTIME)
        return -EINVAL;
    struct timespec t;
    if (long r = read_user(ts, &t); r < 0)
        return r;
    u64 ns = 0;
    if (!timespec_ns(t, &ns) || t.tv_sec >= k_settod_sec_max)
        return -EINVAL;
    if (!capable(Capability::SysTime))
        return -EPERM;
    kernel::clock_set_realtime(ns);
    return 0;
}

namespace {
struct TimeZone {
    int minuteswest = 0;
    int dsttime = 0;
};
TimeZone s_timezone; // settimeofday's, reported back by gettimeofday (Linux's sys_tz)
}

long sys_settimeofday(long tv, long tz)
{
    struct timeval t {};
    struct timezone z {};
    if (tv) {
        if (long r = read_user(tv, &t); r < 0)
            return r;
        if (t.tv_usec > 1000000 || t.tv_usec < 0)
            return -EINVAL;
    }
    if (tz) {
        if (long r = read_user(tz, &z); r < 0)
            return r;
    }
    u64 ns = 0;
    if (tv && (t.tv_sec < 0 || t.tv_sec >= k_settod_sec_max || t.tv_usec >= 1000000))
        return -EINVAL;
    if (tv)
        ns = static_cast<u64>(t.tv_sec) * k_ns + static_cast<u64>(t.tv_usec) * 1000;
    if (!capable(Capability::SysTime))
        return -EPERM;
    if (tz) {
        if (z.tz_minuteswest > 15 * 60 || z.tz_minuteswest < -15 * 60)
            return -EINVAL;
        s_timezone = TimeZone { z.tz_minuteswest, z.tz_dsttime };
    }
    if (tv)
        kernel::clock_set_realtime(ns);
    return 0;
}

namespace {

// adjtimex(2)'s checks before anything changes (kernel/time/timekeeping.c,
// timekeeping_validate_timex).
long validate_timex(const struct timex& tx)
{
    using namespace kernel;
    bool cap = capable(Capability::SysTime);
    if (tx.modes & k_adj_adjtime) {
        if (!(tx.modes & k_adj_offset_readonly) && !cap)
            return -EPERM;
    } else {
        if (tx.modes && !cap)
            return -EPERM;
        if ((tx.modes & k_adj_tick) && (tx.tick < 900000 / 100 || tx.tick > 1100000 / 100))
            return -EINVAL;
    }
    if (tx.modes & k_adj_setoffset) {
        if (!cap)
            return -EPERM;
        if (tx.time.tv_usec < 0)
            return -EINVAL;
        if ((tx.modes & k_adj_nano) ? tx.time.tv_usec >= k_ns : tx.time.tv_usec >= 1000000)
            return -EINVAL;
    }
    constexpr long k_ppm_scale = 1000L << 16;
    if ((tx.modes & k_adj_frequency) && (tx.freq < LLONG_MIN / k_ppm_scale || tx.freq > LLONG_MAX / k_ppm_scale))
        return -EINVAL;
    return 0;
}

} // namespace

long sys_clock_adjtime(long clock, long txp)
{
    struct timex tx;
    if (long r = read_user(txp, &tx); r < 0)
        return r;
    if (!user_ok(txp, sizeof(struct timex)))
        return -EFAULT; // written back below: checked before anything changes
    if (clock_kind(clock) == ClockKind::Unknown && clock != CLOCK_REALTIME_ALARM && clock != CLOCK_BOOTTIME_ALARM)
        return -EINVAL;
    if (clock != CLOCK_REALTIME)
        return -EOPNOTSUPP; // only the wall clock is adjustable, as on Linux
    if (long err = validate_timex(tx))
        return err;
    if (tx.modes & kernel::k_adj_setoffset) {
        i64 delta = static_cast<i64>(tx.time.tv_sec) * k_ns +
                    static_cast<i64>(tx.time.tv_usec) * ((tx.modes & kernel::k_adj_nano) ? 1 : 1000);
        if (!kernel::clock_shift_realtime(delta))
            return -EINVAL;
    }
    kernel::TimexRequest r;
    r.modes = tx.modes;
    r.offset = tx.offset;
    r.freq = tx.freq;
    r.maxerror = tx.maxerror;
    r.esterror = tx.esterror;
    r.status = tx.status;
    r.constant = tx.constant;
    r.tick = tx.tick;
    kernel::TimexState st;
    kernel::clock_adjust(r, &st);
    u64 real = kernel::realtime_ns();
    tx.offset = st.offset;
    tx.freq = st.freq;
    tx.maxerror = st.maxerror;
    tx.esterror = st.esterror;
    tx.status = st.status;
    tx.constant = st.constant;
    tx.precision = st.precision;
    tx.tolerance = st.tolerance;
    tx.tick = st.tick;
    tx.tai = static_cast<int>(st.tai);
    tx.ppsfreq = tx.jitter = tx.stabil = tx.jitcnt = tx.calcnt = tx.errcnt = tx.stbcnt = 0;
    tx.shift = 0;
    tx.time.tv_sec = static_cast<time_t>(real / k_ns);
    tx.time.tv_usec = static_cast<suseconds_t>((st.status & kernel::k_sta_nano) ? real % k_ns : real % k_ns / 1000);
    if (long w = write_user(txp, tx); w < 0)
        return w;
    return st.result;
}

long sys_adjtimex(long txp) { return sys_clock_adjtime(CLOCK_REALTIME, txp); }

long sys_clock_getres(long clock, long ts)
{
    u64 now = 0;
    if (!valid_clock(clock, &now))
        return -EINVAL;
    if (ts == 0)
        return 0;
    struct timespec res;
    ns_timespec(1, &res);
    return write_user(ts, res);
}

long sys_gettimeofday(long tv, long tz)
{
    if (tv) {
        if (!user_ok(tv, sizeof(struct timeval)))
            return -EFAULT; // before the wait for the host's clock
        kernel::clock_wait_for_host();
        u64 now = kernel::realtime_ns();
        struct timeval t { static_cast<time_t>(now / k_ns), static_cast<suseconds_t>((now % k_ns) / 1000) };
        if (long r = write_user(tv, t); r < 0)
            return r;
    }
    if (tz) {
        struct timezone z { s_timezone.minuteswest, s_timezone.dsttime };
        if (long r = write_user(tz, z); r < 0)
            return r;
    }
    return 0;
}

long sys_time(long t)
{
    kernel::clock_wait_for_host();
    long now = static_cast<long>(kernel::realtime_ns() / k_ns);
    if (t) {
        if (long r = write_user(t, static_cast<time_t>(now)); r < 0)
            return r;
    }
    return now;
}

long sys_nanosleep(long req, long rem)
{
    u64 ns = 0;
    if (long r = read_timespec(req, &ns); r < 0)
        return r;
    if (rem && !user_ok(rem, sizeof(struct timespec)))
        return -EFAULT; // before sleeping (written only if a signal ends the sleep)
    return sleep_ns(ns, rem);
}

long sys_clock_nanosleep(long clock, long flags, long req, long rem)
{
    u64 now = 0;
    if (clock == CLOCK_THREAD_CPUTIME_ID || !valid_clock(clock, &now))
        return -EINVAL;
    if (flags & ~static_cast<long>(TIMER_ABSTIME))
        return -EINVAL;
    u64 ns = 0;
    if (long r = read_timespec(req, &ns); r < 0)
        return r;
    if (flags & TIMER_ABSTIME) {
        ns = ns > now ? ns - now : 0;
        rem = 0; // an absolute sleep has no remainder to report
    } else if (rem && !user_ok(rem, sizeof(struct timespec))) {
        return -EFAULT;
    }
    return sleep_ns(ns, rem);
}

} // namespace atl::libos

// musl's clock_gettime(), replaced (musl's is a weak alias; its own callers keep its
// __clock_gettime): the clocks that read without side effects are served here, without the
// system-call path or the libOS lock, as a Linux vDSO serves them; the others, and the
// first reads before the TSC is calibrated, take the system call. Signals are still checked
// on the way out: a thread spinning on the clock can be stopped by one.
extern "C" int clock_gettime(clockid_t clock, struct timespec* ts)
{
    using namespace atl;
    long r = 0;
    if (libos::clock_gettime_unlocked(clock, reinterpret_cast<long>(ts), &r)) {
        libos::deliver_signals_after_unlocked_call();
        return 0;
    }
    return static_cast<int>(
        libos::syscall_result(__atoll_syscall(SYS_clock_gettime, clock, reinterpret_cast<long>(ts), 0, 0, 0, 0)));
}
