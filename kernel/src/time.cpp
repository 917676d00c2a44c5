// SPDX-License-Identifier: MIT
// The clocks (kernel/time.h; kernel/DESIGN.md, "Time"). Everything here that changes the clock
// runs with interrupts off and bumps g_clock.sequence around the change, so that readers
// without the kernel lock (clock_gettime) retry instead of mixing old and new values.
#include <kernel/arch/cpu.h>
#include <kernel/arch/timer.h>
#include <kernel/platform.h>
#include <kernel/console.h>
#include <kernel/control.h>
#include <kernel/interrupts.h>
#include <kernel/sched.h>
#include <kernel/time.h>

extern "C" atl::u64 boot_tsc; // boot.S: the TSC at the first instruction

namespace atl::kernel {

detail::ClockParams detail::g_clock;

namespace {

using u128 = unsigned __int128;
detail::ClockParams& s_clock = detail::g_clock;

BootMark s_marks[k_max_boot_marks];
std::size_t s_mark_count = 0;

// Where the frequency came from and how far off it may be (ppb).
const char* s_source = "none";
u64 s_uncertainty_ppb = ~0ull;

// The wall clock: realtime = monotonic + s_ntp.realtime_offset(monotonic) once known.
NtpState s_ntp;
bool s_realtime_known = false;
// A wall-clock reading from before calibration (the boot parameter), turned into the offset
// when the clock starts.
bool s_realtime_pending = false;
u64 s_realtime_pending_ns = 0;
u64 s_realtime_pending_tsc = 0;

// Following the host's clock (kernel/src/control.cpp brings the samples).
HostDiscipline s_host;
// The host announced its clock and no sample has come yet: the program's first read of the
// wall clock waits for it (clock_wait_for_host), once.
bool s_host_expected = false;
bool s_host_waited = false;
WaitQueue s_host_waiters;
bool s_host_sync = true;
u64 s_host_last_sample_ns = 0;
u64 s_host_last_round_trip_ns = 0;
i64 s_host_last_offset_ns = 0;

void begin_change()
{
    ++s_clock.sequence;
    detail::compiler_barrier();
}

void end_change()
{
    detail::compiler_barrier();
    ++s_clock.sequence;
}

u64 mono_at(u64 tsc)
{
    if (tsc >= s_clock.base_tsc)
        return s_clock.base_ns + static_cast<u64>((static_cast<u128>(tsc - s_clock.base_tsc) * s_clock.ns_mult) >> s_clock.ns_shift);
    u64 back = static_cast<u64>((static_cast<u128>(s_clock.base_tsc - tsc) * s_clock.ns_mult) >> s_clock.ns_shift);
    return back < s_clock.base_ns ? s_clock.base_ns - back : 0;
}

u64 ticks_to_ns(u64 ticks) { return static_cast<u64>((static_cast<u128>(ticks) * s_clock.ns_mult) >> s_clock.ns_shift); }

// A new frequency or NTP rate: the clock continues from its current reading at the new rate.
void rescale(u64 hz)
{
    u64 now = arch::read_tsc();
    u64 mono = s_clock.tsc_hz ? mono_at(now) : 0;
    Scale sc = tsc_scale(hz, s_ntp.freq, s_ntp.tick_us);
    begin_change();
    s_clock.base_tsc = s_clock.tsc_hz ? now : s_clock.tsc_at_boot;
    s_clock.base_ns = s_clock.tsc_hz ? mono : 0;
    s_clock.ns_mult = sc.mult;
    s_clock.ns_shift = sc.shift;
    s_clock.tsc_hz = hz;
    end_change();
}

void take_pending_realtime()
{
    if (!s_realtime_pending)
        return;
    begin_change();
    s_ntp.step_to(mono_at(arch::read_tsc()),
        static_cast<i64>(s_realtime_pending_ns) - static_cast<i64>(mono_at(s_realtime_pending_tsc)));
    s_realtime_pending = false;
    s_realtime_known = true;
    end_change();
}

// The first use: the frequency from the platform, else measured against the APIC timer; then
// the wall clock from the best source there is until the host's clock answers: KVM's wall
// clock (the host's, now), else the boot parameter (the host's, before QEMU started), else the
// CMOS RTC (realtime_ns(), on first use).
void calibrate()
{
    arch::TscFrequency stated = arch::platform_tsc_frequency();
    // The host's clock is asked for later, by the control channel's thread: here only
    // whether the host keeps one (its relay's announcement waits in the UART).
    (void)control_clock_detect();
    u64 hz = stated.hz;
    if (hz) {
        s_source = stated.source;
        s_uncertainty_ppb = stated.uncertainty_ppb;
    } else {
        arch::TscMeasurement m = arch::measure_tsc_hz();
        hz = m.hz ? m.hz : 1000000000;
        s_source = m.hz ? "local APIC timer" : "none (assumed 1 GHz)";
        s_uncertainty_ppb = m.hz ? m.uncertainty_ppb : ~0ull;
    }
    rescale(hz);
    u64 wall = 0, wall_tsc = 0;
    if (arch::platform_wall_clock(&wall, &wall_tsc)) {
        s_realtime_pending_ns = wall;
        s_realtime_pending_tsc = wall_tsc;
        s_realtime_pending = true;
    }
    take_pending_realtime();
}

void ensure_calibrated()
{
    if (!s_clock.tsc_hz)
        calibrate();
}

void stop_host_sync(const char* why)
{
    if (!s_host_sync)
        return;
    s_host_sync = false;
    s_host_waited = true; // nothing more to wait for
    wake_all(s_host_waiters);
    // The host's correction still in progress is applied at once: the program's own
    // adjustments start from a clock without one of ours pending.
    u64 mono = mono_at(arch::read_tsc());
    s_ntp.settle(mono);
    s_ntp.offset_ns += s_ntp.adjtime.amount;
    s_ntp.adjtime = LinearSlew {};
    log("clock: %s; the host's clock no longer corrects it", why);
}

} // namespace

void time_mark_boot()
{
    s_clock.tsc_at_boot = boot_tsc ? boot_tsc : arch::read_tsc();
    s_clock.base_tsc = s_clock.tsc_at_boot;
}
u64 tsc_at_boot() { return s_clock.tsc_at_boot; }

void boot_mark(const char* phase)
{
    if (s_mark_count < k_max_boot_marks)
        s_marks[s_mark_count++] = BootMark { phase, arch::read_tsc() };
}

std::size_t boot_marks(const BootMark** marks)
{
    *marks = s_marks;
    return s_mark_count;
}

u64 tsc_hz()
{
    ensure_calibrated();
    return s_clock.tsc_hz;
}

u64 monotonic_ns()
{
    ensure_calibrated();
    return mono_at(arch::read_tsc());
}

bool realtime_ns_ready(u64* ns)
{
    for (;;) {
        u32 seq = s_clock.sequence;
        detail::compiler_barrier();
        if (!s_realtime_known || s_realtime_pending || !s_clock.tsc_hz || (s_host_expected && !s_host_waited))
            return false;
        u64 mono = mono_at(arch::read_tsc());
        u64 v = static_cast<u64>(static_cast<i64>(mono) + s_ntp.realtime_offset(mono));
        detail::compiler_barrier();
        if (s_clock.sequence == seq) {
            *ns = v;
            return true;
        }
    }
}

bool clocks_at_tsc(u64 tsc, u64* monotonic, u64* realtime)
{
    if (!s_clock.tsc_hz)
        return false;
    u64 mono = mono_at(tsc);
    *monotonic = mono;
    *realtime = s_realtime_known ? static_cast<u64>(static_cast<i64>(mono) + s_ntp.realtime_offset(mono)) : 0;
    return true;
}

void set_realtime_base(u64 unix_ns)
{
    // The boot parameter, before the clock runs: kept with its TSC until calibration.
    s_realtime_pending_ns = unix_ns;
    s_realtime_pending_tsc = arch::read_tsc();
    s_realtime_pending = true;
    if (s_clock.tsc_hz)
        take_pending_realtime();
}

u64 realtime_ns()
{
    ensure_calibrated();
    take_pending_realtime();
    if (!s_realtime_known) {
        u64 ns = 0;
        if (!platform::read_wall_clock(&ns))
            log("no wall-clock source (no atoll.realtime=, no host, no RTC): time starts at 1970");
        set_realtime_base(ns);
    }
    u64 v = 0;
    (void)realtime_ns_ready(&v);
    return v;
}

void clock_better_frequency(u64 hz, u64 uncertainty_ppb, const char* source)
{
    if (!hz || uncertainty_ppb >= s_uncertainty_ppb)
        return;
    s_source = source;
    s_uncertainty_ppb = uncertainty_ppb;
    rescale(hz);
}

void clock_set_realtime(u64 unix_ns)
{
    ensure_calibrated();
    take_pending_realtime();
    stop_host_sync("set by the program");
    u64 mono = mono_at(arch::read_tsc());
    begin_change();
    s_ntp.step_to(mono, static_cast<i64>(unix_ns) - static_cast<i64>(mono));
    s_realtime_known = true;
    end_change();
}

bool clock_shift_realtime(i64 delta_ns)
{
    ensure_calibrated();
    (void)realtime_ns();
    u64 mono = mono_at(arch::read_tsc());
    i64 offset = s_ntp.realtime_offset(mono) + delta_ns;
    if (static_cast<i64>(mono) + offset < 0)
        return false;
    stop_host_sync("shifted by the program");
    begin_change();
    s_ntp.step_to(mono, offset);
    end_change();
    return true;
}

void clock_adjust(const TimexRequest& request, TimexState* result)
{
    ensure_calibrated();
    u64 real = realtime_ns();
    u64 mono = mono_at(arch::read_tsc());
    bool read_only = request.modes == 0 || ((request.modes & k_adj_adjtime) && (request.modes & k_adj_offset_readonly));
    if (!read_only)
        stop_host_sync("adjusted by the program (adjtimex)");
    begin_change();
    bool rescaled = s_ntp.adjust(request, mono, real / k_ns_per_s, result);
    end_change();
    if (rescaled)
        rescale(s_clock.tsc_hz);
}

i64 clock_tai_offset_s() { return s_ntp.tai; }

void clock_host_samples(const HostTimeSample* samples, std::size_t count)
{
    if (!s_host_sync || !count || !s_clock.tsc_hz)
        return;
    take_pending_realtime();
    // The exchange with the shortest round trip: the least room for asymmetric delays.
    const HostTimeSample* best = nullptr;
    u64 best_rtt = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const HostTimeSample& s = samples[i];
        if (s.tsc_received < s.tsc_sent || s.host_sent_ns < s.host_received_ns)
            continue;
        u64 there = ticks_to_ns(s.tsc_received - s.tsc_sent);
        u64 held = s.host_sent_ns - s.host_received_ns;
        u64 rtt = there > held ? there - held : 0;
        if (!best || rtt < best_rtt) {
            best = &s;
            best_rtt = rtt;
        }
    }
    if (!best)
        return;
    u64 tsc_mid = best->tsc_sent + (best->tsc_received - best->tsc_sent) / 2;
    u64 host_mid = best->host_received_ns + (best->host_sent_ns - best->host_received_ns) / 2;
    u64 mono_mid = mono_at(tsc_mid);
    i64 offset = s_realtime_known ? static_cast<i64>(mono_mid) + s_ntp.realtime_offset(mono_mid) - static_cast<i64>(host_mid)
                                  : 0;
    HostDiscipline::Decision d = s_host.add(tsc_mid, host_mid, best_rtt, offset, s_uncertainty_ppb);
    u64 now = mono_at(arch::read_tsc());
    s_host_last_sample_ns = now;
    s_host_last_round_trip_ns = best_rtt;
    s_host_last_offset_ns = offset;
    if (!d.use)
        return;
    if (d.hz) {
        s_source = "the host's clock (control channel)";
        s_uncertainty_ppb = d.hz_uncertainty_ppb;
        rescale(d.hz);
        now = mono_at(arch::read_tsc());
        mono_mid = mono_at(tsc_mid);
    }
    begin_change();
    if (d.step || !s_realtime_known) {
        s_ntp.step_to(now, static_cast<i64>(host_mid) - static_cast<i64>(mono_mid));
        s_realtime_known = true;
        s_realtime_pending = false;
    } else if (d.slew_ns) {
        s_ntp.settle(now);
        s_ntp.adjtime = LinearSlew { d.slew_ns, now, 500 };
    }
    // As a time daemon would: synchronised, with the sample's error bound.
    s_ntp.status &= ~k_sta_unsync;
    s_ntp.maxerror_us = static_cast<i64>(best_rtt / 2000) + 1;
    s_ntp.maxerror_since_ns = now;
    s_ntp.esterror_us = static_cast<i64>(best_rtt / 2000) + 1;
    end_change();
    if (!s_host_waited) {
        s_host_waited = true;
        wake_all(s_host_waiters);
    }
}

void clock_host_announced() { s_host_expected = true; }

void clock_host_gave_up()
{
    s_host_waited = true;
    wake_all(s_host_waiters);
}

void clock_wait_for_host()
{
    // Bounded: the answer took up to 20 ms on a busy machine; a host that has not answered in
    // 100 ms is not waited for again (the clock is then the boot parameter's until it does).
    constexpr u64 k_patience_ns = 100'000'000;
    if (!s_host_expected || s_host_waited || !s_host_sync)
        return;
    u64 give_up = monotonic_ns() + k_patience_ns;
    control_clock_wanted();
    while (!s_host_waited && monotonic_ns() < give_up)
        (void)block(&s_host_waiters, give_up, false);
    s_host_waited = true;
}

bool clock_host_sync_active() { return s_host_sync; }

bool clocks_running() { return s_clock.tsc_hz != 0; }

u64 clock_host_next_sample() { return s_host.next_due(s_host_last_sample_ns); }

ClockStatus clock_status()
{
    return ClockStatus { s_clock.tsc_hz, s_source, s_uncertainty_ppb, s_host.samples(), s_host_last_round_trip_ns,
        s_host_last_offset_ns, s_host_sync };
}

} // namespace atl::kernel
