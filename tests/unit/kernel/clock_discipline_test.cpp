// SPDX-License-Identifier: MIT
// The clock's arithmetic: the TSC scale, gradual corrections, adjtimex's state as Linux
// reports it, and the discipline that follows the host's clock (simulated against a guest
// whose TSC frequency is known only roughly).
#include <kernel/clock_discipline.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

using namespace atl;
using namespace atl::kernel;

namespace {

constexpr u64 k_s = 1000000000;

u64 scaled_ns(const Scale& sc, u64 ticks)
{
    return static_cast<u64>((static_cast<unsigned __int128>(ticks) * sc.mult) >> sc.shift);
}

} // namespace

TEST(ClockScale, TicksToNanoseconds)
{
    Scale sc = tsc_scale(2096001000, 0, 10000);
    EXPECT_NEAR(static_cast<double>(scaled_ns(sc, 2096001000)), 1e9, 1.0);
    EXPECT_NEAR(static_cast<double>(scaled_ns(sc, 2096001000ull * 3600)), 3600e9, 1.0); // an hour, to the ns
    // 100 ppm faster (adjtimex's frequency, in ns per s << 32), and a tick of 11000 us: 10%.
    Scale fast = tsc_scale(2096001000, i64(100000) << 32, 10000);
    EXPECT_NEAR(static_cast<double>(scaled_ns(fast, 2096001000)), 1e9 * 1.0001, 2.0);
    Scale slow = tsc_scale(2096001000, -(i64(100000) << 32), 10000);
    EXPECT_NEAR(static_cast<double>(scaled_ns(slow, 2096001000)), 1e9 * 0.9999, 2.0);
    Scale tick = tsc_scale(2096001000, 0, 11000);
    EXPECT_NEAR(static_cast<double>(scaled_ns(tick, 2096001000)), 1.1e9, 2.0);
    // Slow and fast counters alike: the multiplier fits 63 bits and keeps its precision.
    for (u64 hz : { 1000000ull, 24000000ull, 1000000000ull, 5000000000ull }) {
        Scale s = tsc_scale(hz, 0, 10000);
        EXPECT_LT(s.mult, u64(1) << 63);
        EXPECT_NEAR(static_cast<double>(scaled_ns(s, hz * 10)), 10e9, 10e9 * 1e-9 + 1) << hz;
    }
}

// The scale a host hands a guest whose TSC runs at `hz`, from the pvclock ABI's definition
// alone (ns = ((ticks << shift) * mul) >> 32, a negative shift shifting right, mul < 2^32):
// the smallest shift whose multiplier fits, which keeps the multiplier, and so the precision,
// as large as it can be.
static void scale_for(u64 hz, int* pshift, u32* pmul)
{
    for (int shift = -8; shift <= 8; ++shift) {
        long double ticks_hz = shift >= 0 ? static_cast<long double>(hz) * static_cast<long double>(1ull << shift)
                                          : static_cast<long double>(hz) / static_cast<long double>(1ull << -shift);
        long double mul = 1e9L * 4294967296.0L / ticks_hz;
        if (mul < 4294967296.0L) {
            *pshift = shift;
            *pmul = static_cast<u32>(mul);
            return;
        }
    }
    *pshift = 0;
    *pmul = 0;
}

TEST(ClockScale, PvclockFrequency)
{
    for (u64 hz : { 1000000000ull, 2096001000ull, 2399999000ull, 3700000000ull, 4999999999ull, 800000000ull }) {
        int shift = 0;
        u32 mul = 0;
        scale_for(hz, &shift, &mul);
        u64 got = pvclock_tsc_hz(mul, shift);
        EXPECT_NEAR(static_cast<double>(got), static_cast<double>(hz), static_cast<double>(hz) * 1e-9 + 2) << hz;
    }
    EXPECT_EQ(pvclock_tsc_hz(0, 0), 0u);
    EXPECT_EQ(pvclock_tsc_hz(1, 0), 0u); // 2^32 GHz: no such TSC
    EXPECT_EQ(pvclock_tsc_hz(0x80000000u, 40), 0u);
}

TEST(ClockSlew, LinearAtItsRate)
{
    LinearSlew s { 1000000, 5 * k_s, 500 }; // 1 ms at 500 ppm: done in 2 s
    EXPECT_EQ(s.applied(4 * k_s), 0);
    EXPECT_EQ(s.applied(5 * k_s), 0);
    EXPECT_EQ(s.applied(6 * k_s), 500000);
    EXPECT_EQ(s.applied(7 * k_s), 1000000);
    EXPECT_EQ(s.applied(100 * k_s), 1000000);
    EXPECT_EQ(s.remaining(6 * k_s), 500000);
    LinearSlew back { -1000000, 0, 500 };
    EXPECT_EQ(back.applied(k_s), -500000);
    EXPECT_EQ(back.applied(10 * k_s), -1000000);
}

TEST(ClockSlew, PllFollowsLinuxsPerSecondChunks)
{
    // Linux: each second, remaining >> shift goes in (spread over that second); it keeps the
    // remainder in ns << 32, so nothing is lost to rounding.
    for (i64 amount : { i64(1000000), i64(-1000000), i64(500000000), i64(7) }) {
        for (unsigned shift : { 2u, 6u, 12u }) {
            PllSlew p { amount, 0, shift };
            unsigned __int128 left = static_cast<unsigned __int128>(amount < 0 ? -amount : amount) << 32;
            unsigned __int128 sum = 0;
            for (u64 k = 1; k <= 40; ++k) {
                unsigned __int128 chunk = left >> shift;
                left -= chunk;
                sum += chunk;
                i64 got = p.applied(k * k_s);
                EXPECT_NEAR(static_cast<double>(amount < 0 ? -got : got), static_cast<double>(sum >> 32), 2.0)
                    << amount << " shift " << shift << " after " << k << " s";
            }
            // Within a second the correction goes in evenly, never backwards.
            i64 prev = 0;
            for (u64 t = 0; t <= 3 * k_s; t += k_s / 7) {
                i64 v = p.applied(t);
                EXPECT_GE(amount < 0 ? -v : v, amount < 0 ? -prev : prev);
                prev = v;
            }
            // Long after, all of it.
            EXPECT_EQ(p.applied((u64(70) << shift) * k_s), amount);
        }
    }
}

TEST(NtpState, LinuxDefaults)
{
    NtpState n;
    TimexState st;
    n.report(0, &st);
    EXPECT_EQ(st.result, k_time_error); // unsynchronised
    EXPECT_EQ(st.status, k_sta_unsync);
    EXPECT_EQ(st.maxerror, 16000000);
    EXPECT_EQ(st.esterror, 16000000);
    EXPECT_EQ(st.constant, 2);
    EXPECT_EQ(st.precision, 1);
    EXPECT_EQ(st.tolerance, 32768000);
    EXPECT_EQ(st.tick, 10000);
    EXPECT_EQ(st.freq, 0);
    EXPECT_EQ(st.offset, 0);
}

TEST(NtpState, FrequencyReadsBackAsSet)
{
    for (i64 ppm16 : { i64(0), i64(1), i64(655360), i64(-655360), i64(12345678), i64(500 << 16), i64(-(500 << 16)) }) {
        NtpState n;
        TimexRequest r;
        r.modes = k_adj_frequency;
        r.freq = ppm16;
        TimexState st;
        EXPECT_TRUE(n.adjust(r, 0, 0, &st));
        EXPECT_NEAR(static_cast<double>(st.freq), static_cast<double>(ppm16), 1.0) << ppm16;
    }
    // Beyond 500 ppm: clamped, as Linux does.
    NtpState n;
    TimexRequest r;
    r.modes = k_adj_frequency;
    r.freq = i64(900) << 16;
    TimexState st;
    n.adjust(r, 0, 0, &st);
    EXPECT_EQ(st.freq, i64(500) << 16);
}

TEST(NtpState, OffsetNeedsThePllAndDecaysLikeLinux)
{
    NtpState n;
    TimexRequest r;
    TimexState st;
    r.modes = k_adj_offset;
    r.offset = 1000; // us
    EXPECT_FALSE(n.adjust(r, 0, 1000, &st));
    EXPECT_EQ(st.offset, 0); // without STA_PLL: ignored
    r.modes = k_adj_status;
    r.status = k_sta_pll;
    n.adjust(r, 0, 1000, &st);
    EXPECT_EQ(st.status & k_sta_pll, k_sta_pll);
    r.modes = k_adj_offset | k_adj_timeconst;
    r.offset = 1000;
    r.constant = 2; // microsecond mode: Linux keeps (and reports) 2 + 4
    EXPECT_TRUE(n.adjust(r, 0, 1000, &st));
    EXPECT_EQ(st.constant, 6);
    EXPECT_EQ(st.offset, 1000);
    n.report(k_s, &st);
    EXPECT_EQ(st.offset, (1000000 - (1000000 >> 8)) / 1000); // 1/2^(2 + 6) of it in the first second
    EXPECT_EQ(n.realtime_offset(k_s), n.pll.applied(k_s)); // only the PLL moved it
    EXPECT_GT(n.pll.applied(k_s), 3800);
    // Nanosecond mode takes and reports ns.
    r.modes = k_adj_nano | k_adj_offset;
    r.offset = 5000;
    n.adjust(r, 2 * k_s, 1002, &st);
    EXPECT_EQ(st.offset, 5000);
    EXPECT_EQ(st.status & k_sta_nano, k_sta_nano);
}

TEST(NtpState, AdjtimeSlewsAt500ppmAndReportsWhatWasLeft)
{
    NtpState n;
    TimexRequest r;
    TimexState st;
    r.modes = k_adj_offset_singleshot;
    r.offset = 2000; // us
    n.adjust(r, 10 * k_s, 0, &st);
    EXPECT_EQ(st.offset, 0); // nothing was pending
    r.modes = k_adj_offset_ss_read;
    n.adjust(r, 11 * k_s, 0, &st);
    EXPECT_EQ(st.offset, 1500);
    EXPECT_EQ(n.realtime_offset(11 * k_s), 500000);
    EXPECT_EQ(n.realtime_offset(20 * k_s), 2000000);
    // A new one replaces what is left, and reports it.
    r.modes = k_adj_offset_singleshot;
    r.offset = -100;
    n.adjust(r, 11 * k_s, 0, &st);
    EXPECT_EQ(st.offset, 1500);
    EXPECT_EQ(n.realtime_offset(20 * k_s), 500000 - 100000);
}

TEST(NtpState, MaxerrorGrowsAndStepsUnsynchronise)
{
    NtpState n;
    TimexRequest r;
    TimexState st;
    r.modes = k_adj_maxerror | k_adj_esterror | k_adj_status;
    r.maxerror = 100;
    r.esterror = 50;
    r.status = 0;
    n.adjust(r, 0, 0, &st);
    EXPECT_EQ(st.maxerror, 100);
    EXPECT_EQ(st.result, k_time_ok);
    n.report(10 * k_s, &st);
    EXPECT_EQ(st.maxerror, 100 + 10 * 500);
    n.report(40000 * k_s, &st);
    EXPECT_EQ(st.maxerror, 16000000);
    EXPECT_EQ(st.result, k_time_error);
    n.step_to(0, 42);
    n.report(0, &st);
    EXPECT_EQ(st.status & k_sta_unsync, k_sta_unsync);
    EXPECT_EQ(n.realtime_offset(5 * k_s), 42);
}

TEST(NtpState, TaiAndReadOnlyStatusBits)
{
    NtpState n;
    TimexRequest r;
    TimexState st;
    r.modes = k_adj_tai;
    r.constant = 37;
    n.adjust(r, 0, 0, &st);
    EXPECT_EQ(st.tai, 37);
    r.constant = -1; // out of range: ignored
    n.adjust(r, 0, 0, &st);
    EXPECT_EQ(st.tai, 37);
    r.modes = k_adj_status;
    r.status = k_sta_clk | k_sta_ins;
    n.adjust(r, 0, 0, &st);
    EXPECT_EQ(st.status & k_sta_clk, 0); // read-only
    EXPECT_EQ(st.status & k_sta_ins, k_sta_ins);
}

TEST(HostDiscipline, FirstSampleStepsAndTheScheduleBacksOff)
{
    HostDiscipline h;
    HostDiscipline::Decision d = h.add(1000, 5 * k_s, 300000, 123456789, ~0ull);
    EXPECT_TRUE(d.use);
    EXPECT_TRUE(d.step);
    EXPECT_EQ(h.next_due(7 * k_s), 7 * k_s); // a burst right away
    h.add(2000, 6 * k_s, 300000, 0, ~0ull);
    EXPECT_EQ(h.next_due(7 * k_s), 8 * k_s);
    h.add(3000, 7 * k_s, 300000, 0, ~0ull);
    EXPECT_EQ(h.next_due(7 * k_s), 9 * k_s);
    for (int i = 0; i < 10; ++i)
        h.add(4000 + u64(i), (8 + u64(i)) * k_s, 300000, 0, ~0ull);
    EXPECT_EQ(h.next_due(7 * k_s), 71 * k_s);
}

TEST(HostDiscipline, ABadFirstSettingIsSteppedOnceABetterSampleShowsIt)
{
    HostDiscipline h;
    EXPECT_TRUE(h.add(0, k_s, 20000000, 0, ~0ull).step); // a 20 ms round trip at boot
    HostDiscipline::Decision d = h.add(2096000, k_s + 1000000, 300000, 6000000, ~0ull);
    EXPECT_TRUE(d.step); // 6 ms off, known to 0.15 ms
    d = h.add(4192000, k_s + 2000000, 300000, 3000000, ~0ull);
    EXPECT_FALSE(d.step); // not again with a sample no better than that one
    EXPECT_EQ(d.slew_ns, -2850000);
}

TEST(HostDiscipline, OffsetsWithinTheRoundTripAreLeftAloneOutliersIgnored)
{
    HostDiscipline h;
    h.add(0, k_s, 400000, 0, ~0ull);
    HostDiscipline::Decision d = h.add(2096000000, 2 * k_s, 400000, 150000, 0);
    EXPECT_TRUE(d.use);
    EXPECT_EQ(d.slew_ns, 0);
    d = h.add(4192000000ull, 3 * k_s, 400000, 700000, 0);
    EXPECT_EQ(d.slew_ns, -500000); // only what is beyond the exchange's own error
    d = h.add(6288000000ull, 4 * k_s, 400000, -700000, 0);
    EXPECT_EQ(d.slew_ns, 500000);
    d = h.add(8384000000ull, 5 * k_s, 50000000, 30000000, 0); // a 50 ms round trip
    EXPECT_FALSE(d.use);
    d = h.add(8384000000ull, 5 * k_s, 400000, 200000000, 0); // 200 ms off: a step
    EXPECT_TRUE(d.step);
}

// A guest whose TSC runs at 2096.001 MHz starts with an estimate 40 ppm off; samples come with
// round trips of 150-600 us split unevenly (up to 60% one way). Following the decisions, the
// clock stays within 1 ms of the host and the frequency converges to within 2 ppm in 10 min.
TEST(HostDiscipline, ConvergesOnASimulatedGuest)
{
    const double true_hz = 2096001000.0;
    double est_hz = true_hz * (1 + 40e-6);
    u64 uncertainty = 70000; // ppb: the boot calibration's bound
    double guest_offset = 0.150; // s: the clock is 150 ms behind before the first sample
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> rtt_dist(150e-6, 600e-6), split(0.4, 0.6);
    HostDiscipline h;
    double worst_after_first_minute = 0;
    double host_t = 1.7e9; // s
    double mono_at_last = 0;
    double guest_rate_epoch_t = host_t; // host time where the guest clock was last re-based
    double guest_at_epoch = host_t - guest_offset;
    auto guest_clock = [&](double t) { return guest_at_epoch + (t - guest_rate_epoch_t) * (true_hz / est_hz); };
    for (int i = 0; host_t < 1.7e9 + 600; ++i) {
        double rtt = rtt_dist(rng), there = rtt * split(rng);
        // The exchange: the midpoint's error is (there - rtt / 2).
        double mid_host = host_t + there;
        double mid_guest_seen = guest_clock(host_t + rtt / 2); // the guest's midpoint
        u64 tsc = static_cast<u64>((host_t + rtt / 2 - 1.7e9) * true_hz);
        i64 offset_ns = static_cast<i64>(std::llround((mid_guest_seen - mid_host) * 1e9));
        HostDiscipline::Decision d = h.add(tsc, static_cast<u64>(mid_host * 1e9), static_cast<u64>(rtt * 1e9),
            offset_ns, uncertainty);
        double now = host_t + rtt;
        if (d.hz) {
            guest_at_epoch = guest_clock(now);
            guest_rate_epoch_t = now;
            est_hz = static_cast<double>(d.hz);
            uncertainty = d.hz_uncertainty_ppb;
        }
        if (d.step) {
            guest_at_epoch = mid_host + (now - (host_t + rtt / 2));
            guest_rate_epoch_t = now;
        } else if (d.slew_ns) {
            guest_at_epoch = guest_clock(now) + static_cast<double>(d.slew_ns) * 1e-9; // slewed in well before the next sample
            guest_rate_epoch_t = now;
        }
        if (host_t > 1.7e9 + 60)
            worst_after_first_minute = std::max(worst_after_first_minute, std::fabs(guest_clock(host_t) - host_t));
        mono_at_last = host_t;
        double next = static_cast<double>(h.next_due(static_cast<u64>((host_t - 1.7e9) * 1e9))) / 1e9 + 1.7e9;
        host_t = std::max(next, host_t + 0.01);
        // Between samples the clock drifts by the frequency error: the worst point is just before a sample.
        if (host_t > 1.7e9 + 60)
            worst_after_first_minute = std::max(worst_after_first_minute, std::fabs(guest_clock(host_t) - host_t));
    }
    (void)mono_at_last;
    EXPECT_LT(worst_after_first_minute, 1e-3);
    EXPECT_LT(std::fabs(est_hz / true_hz - 1), 2e-6);
    EXPECT_GT(h.samples(), 10u);
}
