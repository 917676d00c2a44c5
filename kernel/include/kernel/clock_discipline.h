// SPDX-License-Identifier: MIT
#pragma once

// The arithmetic of keeping time, apart from any hardware (portable, unit-tested on the host):
// the TSC-to-ns scale, the wall clock's gradual corrections, adjtimex(2)'s state as Linux keeps
// it (kernel/time/ntp.c), and the discipline that follows the host's clock from NTP-style
// samples. kernel/src/time.cpp applies the results to the clock.

#include <kernel/types.h>

namespace atl::kernel {

constexpr u64 k_ns_per_s = 1000000000;

// ns = (ticks * mult) >> shift for a counter at `hz`, made faster by `freq` (ns per second,
// shifted left by 32: adjtimex's frequency in the kernel's own unit) and scaled by
// tick_us / 10000 (adjtimex's tick: the length of a 1/100 s tick in microseconds).
struct Scale {
    u64 mult;
    unsigned shift;
};
Scale tsc_scale(u64 hz, i64 freq, i64 tick_us);

// The TSC frequency that KVM's pvclock scale describes (ns = ((ticks << shift, or >> -shift)
// * mul) >> 32); 0 for a scale no real TSC has (below 100 MHz or above 20 GHz).
u64 pvclock_tsc_hz(u32 mul, int shift);

// A correction spread evenly over time at `rate_ppm` (adjtime(3), and the host's corrections):
// `amount` ns from monotonic time `start_ns` on.
struct LinearSlew {
    i64 amount = 0;
    u64 start_ns = 0;
    u64 rate_ppm = 500;
    i64 applied(u64 mono_ns) const;
    i64 remaining(u64 mono_ns) const { return amount - applied(mono_ns); }
};

// adjtimex's phase offset (ADJ_OFFSET with STA_PLL): as on Linux, at each second 1/2^shift of
// what remains is applied, spread evenly over that second (shift = SHIFT_PLL + the time
// constant).
struct PllSlew {
    i64 amount = 0;
    u64 start_ns = 0;
    unsigned shift = 4;
    i64 applied(u64 mono_ns) const;
    i64 remaining(u64 mono_ns) const { return amount - applied(mono_ns); }
};

// uapi/linux/timex.h.
constexpr u32 k_adj_offset = 0x0001, k_adj_frequency = 0x0002, k_adj_maxerror = 0x0004, k_adj_esterror = 0x0008,
              k_adj_status = 0x0010, k_adj_timeconst = 0x0020, k_adj_tai = 0x0080, k_adj_setoffset = 0x0100,
              k_adj_micro = 0x1000, k_adj_nano = 0x2000, k_adj_tick = 0x4000, k_adj_adjtime = 0x8000,
              k_adj_offset_readonly = 0x2000, k_adj_offset_singleshot = 0x8001, k_adj_offset_ss_read = 0xa001;
constexpr int k_sta_pll = 0x0001, k_sta_ppsfreq = 0x0002, k_sta_ppstime = 0x0004, k_sta_fll = 0x0008,
              k_sta_ins = 0x0010, k_sta_del = 0x0020, k_sta_unsync = 0x0040, k_sta_freqhold = 0x0080, k_sta_ppssignal = 0x0100, k_sta_ppsjitter = 0x0200,
              k_sta_ppswander = 0x0400, k_sta_ppserror = 0x0800, k_sta_clockerr = 0x1000, k_sta_nano = 0x2000,
              k_sta_mode = 0x4000, k_sta_clk = 0x8000;
constexpr int k_sta_read_only = k_sta_ppssignal | k_sta_ppsjitter | k_sta_ppswander | k_sta_ppserror |
                                k_sta_clockerr | k_sta_nano | k_sta_mode | k_sta_clk;
constexpr int k_time_ok = 0, k_time_error = 5;
constexpr i64 k_ntp_phase_limit_us = 16000000; // maxerror/esterror when unsynchronised
constexpr i64 k_max_freq_scaled = i64(500000) << 32; // 500 ppm, in ns per s << 32
constexpr i64 k_max_tai = 100000;

// What adjtimex's caller asks (already checked for EINVAL/EPERM by the libOS).
struct TimexRequest {
    u32 modes = 0;
    i64 offset = 0;
    i64 freq = 0; // ppm << 16
    i64 maxerror = 0, esterror = 0;
    int status = 0;
    i64 constant = 0;
    i64 tick = 0;
};
// What adjtimex reports (besides the time, which the caller reads itself).
struct TimexState {
    int result = k_time_error;
    i64 offset = 0;
    i64 freq = 0; // ppm << 16
    i64 maxerror = 0, esterror = 0;
    int status = 0;
    i64 constant = 0, precision = 1, tolerance = 500 << 16, tick = 10000, tai = 0;
};

// The wall clock's state beyond its base: adjtimex's variables and the corrections in progress.
// realtime(mono) = mono + offset_ns + adjtime.applied(mono) + pll.applied(mono).
class NtpState {
public:
    i64 offset_ns = 0; // realtime - monotonic, apart from the corrections in progress
    LinearSlew adjtime;  // adjtime(3) (ADJ_OFFSET_SINGLESHOT) and the host's corrections
    PllSlew pll;         // ADJ_OFFSET with STA_PLL
    i64 freq = 0;        // ns per s << 32 (Linux's time_freq)
    i64 tick_us = 10000;
    int status = k_sta_unsync;
    i64 maxerror_us = k_ntp_phase_limit_us; // as of maxerror_since_ns, growing 500 us per s
    u64 maxerror_since_ns = 0;
    i64 esterror_us = k_ntp_phase_limit_us;
    i64 time_constant = 2; // as Linux keeps it (ADJ_TIMECONST in microsecond mode adds 4)
    i64 tai = 0;
    u64 pll_reference_s = 0; // realtime seconds at the last ADJ_OFFSET (the PLL's interval)
    bool pll_reference_set = false;

    i64 realtime_offset(u64 mono_ns) const { return offset_ns + adjtime.applied(mono_ns) + pll.applied(mono_ns); }
    // Folds the corrections applied so far into offset_ns (before changing one).
    void settle(u64 mono_ns);
    // A step (clock_settime, ADJ_SETOFFSET): the corrections stop and the clock is marked
    // unsynchronised, as Linux's ntp_clear() does.
    void step_to(u64 mono_ns, i64 new_offset_ns);
    // adjtimex: applies the request at monotonic time mono_ns (wall clock real_s seconds) and
    // fills what it reports. Returns true when the frequency or tick changed (the caller
    // re-scales the clock).
    bool adjust(const TimexRequest& r, u64 mono_ns, u64 real_s, TimexState* out);
    void report(u64 mono_ns, TimexState* out) const;
    i64 maxerror_at(u64 mono_ns) const;
};

// Follows the host's clock from samples of NTP-style exchanges (the guest's TSC at the
// middle of an exchange, the host's time then, and the round trip). Decides when to step,
// how much to slew, and when a frequency measured against the host beats the current one:
// its error is at most the two samples' half round trips over the time between them.
class HostDiscipline {
public:
    struct Decision {
        bool use = false;  // false: an outlier (a round trip far above the best seen), ignored
        bool step = false; // set the wall clock to the host's time at the sample
        i64 slew_ns = 0;   // else: correct gradually by this much (0: within the sample's error)
        u64 hz = 0;        // non-zero: a better TSC frequency
        u64 hz_uncertainty_ppb = 0;
    };
    // offset_ns: the guest's wall clock minus the host's at the sample, as the clock reads now;
    // uncertainty_ppb: how far off the current frequency may be.
    Decision add(u64 tsc, u64 host_ns, u64 round_trip_ns, i64 offset_ns, u64 uncertainty_ppb);
    // The schedule: right after the first sample, then 1, 2, 4 ... 64 s apart, then every 64 s.
    u64 next_due(u64 last_sample_mono_ns) const;
    u32 samples() const { return m_samples; }

    static constexpr i64 k_step_threshold_ns = 128000000; // beyond: a step (ntpd's threshold)
    static constexpr u64 k_restep_ns = 1000000; // beyond a sample's bound, with a bound half the last setting's
    static constexpr u64 k_max_interval_ns = 64 * k_ns_per_s;

private:
    struct Point {
        u64 tsc;
        u64 host_ns;
        u64 round_trip_ns;
    };
    Point m_anchor {};
    bool m_have_anchor = false;
    u64 m_best_round_trip_ns = ~0ull;
    u64 m_set_bound_ns = 0; // the error bound of the sample that last set the clock
    u32 m_samples = 0;
};

} // namespace atl::kernel
