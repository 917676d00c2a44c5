// SPDX-License-Identifier: MIT
// Portable clock arithmetic (kernel/clock_discipline.h); unit-tested on the host.
#include <kernel/clock_discipline.h>

namespace atl::kernel {

namespace {

using u128 = unsigned __int128;

u64 magnitude(i64 v) { return v < 0 ? 0 - static_cast<u64>(v) : static_cast<u64>(v); }
i64 with_sign(u64 mag, i64 like) { return like < 0 ? -static_cast<i64>(mag) : static_cast<i64>(mag); }
i64 clamp(i64 v, i64 lo, i64 hi) { return v < lo ? lo : v > hi ? hi : v; }

// Linux's shift_right: rounds toward zero for negative values too.
i64 shift_right(i64 v, unsigned s) { return v < 0 ? -((-v) >> s) : v >> s; }

// Q1.63 fixed point: 1.0 is 2^63.
constexpr u64 k_one = u64(1) << 63;
u64 q_mul(u64 a, u64 b) { return static_cast<u64>((static_cast<u128>(a) * b) >> 63); }
u64 q_pow(u64 q, u64 k)
{
    u64 r = k_one;
    while (k) {
        if (k & 1)
            r = q_mul(r, q);
        q = q_mul(q, q);
        k >>= 1;
    }
    return r;
}

// Linux's NTP constants (kernel/time/ntp.c, include/linux/timex.h).
constexpr unsigned k_shift_pll = 2, k_shift_fll = 2, k_ntp_scale_shift = 32;
constexpr i64 k_min_sec = 256, k_max_sec = 2048, k_max_tc = 10;
constexpr i64 k_max_phase_ns = 500000000;
constexpr i64 k_ppm_scale = i64(1000) << 16; // adjtimex's freq (ppm << 16) to ns per s << 32
constexpr unsigned k_ppm_scale_inv_shift = 19;
constexpr i64 k_ppm_scale_inv = (i64(1) << (k_ppm_scale_inv_shift + k_ntp_scale_shift)) / k_ppm_scale + 1;
constexpr i64 k_maxerror_growth_us = 500; // per second (MAXFREQ)

bool is_error_status(int s)
{
    return (s & (k_sta_unsync | k_sta_clockerr)) ||
           ((s & (k_sta_ppsfreq | k_sta_ppstime)) && !(s & k_sta_ppssignal)) ||
           ((s & (k_sta_ppstime | k_sta_ppsjitter)) == (k_sta_ppstime | k_sta_ppsjitter)) ||
           ((s & k_sta_ppsfreq) && (s & (k_sta_ppswander | k_sta_ppserror)));
}

} // namespace

Scale tsc_scale(u64 hz, i64 freq, i64 tick_us)
{
    if (hz == 0)
        hz = 1;
    if (tick_us <= 0)
        tick_us = 10000;
    // ns per tick = 1e9 / hz * (tick_us / 10000) * (1 + freq / (1e9 << 32)), as a fixed-point
    // multiplier with the largest shift (at most 48) that keeps it below 2^63: the product with
    // a tick count of years still fits the 128-bit intermediate, and the rounding of the
    // multiplier is below 10^-14. freq is taken in units of 2^16 (a loss of 2^-48 of a ppm).
    constexpr u64 k_unit = (k_ns_per_s << 32) >> 16;
    u64 rate = static_cast<u64>(static_cast<i64>(k_unit) + (freq >> 16));
    auto mult_for = [&](unsigned s) {
        u128 base = (static_cast<u128>(k_ns_per_s) << s) / hz;
        return base * static_cast<u64>(tick_us) / 10000 * rate / k_unit;
    };
    unsigned shift = 48;
    u128 mult = mult_for(shift);
    while (shift > 0 && mult >= (static_cast<u128>(1) << 63))
        mult = mult_for(--shift);
    return Scale { static_cast<u64>(mult), shift };
}

u64 pvclock_tsc_hz(u32 mul, int shift)
{
    if (!mul || shift <= -32 || shift >= 32)
        return 0;
    // ns per tick = mul * 2^shift / 2^32
    u128 num = static_cast<u128>(k_ns_per_s) << 32;
    u128 den = mul;
    if (shift >= 0)
        den <<= shift;
    else
        num <<= -shift;
    u64 hz = static_cast<u64>(num / den);
    return hz >= 100000000 && hz <= 20000000000ull ? hz : 0;
}

i64 LinearSlew::applied(u64 mono_ns) const
{
    if (amount == 0 || mono_ns <= start_ns)
        return 0;
    u128 done = static_cast<u128>(mono_ns - start_ns) * rate_ppm / 1000000;
    u64 total = magnitude(amount);
    return with_sign(done < total ? static_cast<u64>(done) : total, amount);
}

i64 PllSlew::applied(u64 mono_ns) const
{
    if (amount == 0 || mono_ns <= start_ns)
        return 0;
    u64 elapsed = mono_ns - start_ns;
    u64 k = elapsed / k_ns_per_s, fraction = elapsed % k_ns_per_s;
    u64 total = magnitude(amount);
    // What remains after k whole seconds: total * (1 - 2^-shift)^k; during second k the next
    // part, (remaining after k) - (remaining after k + 1), goes in evenly.
    u64 left_k = 0, left_next = 0;
    if (k < (u64(64) << shift)) { // beyond, (1 - 2^-shift)^k < 2^-64: nothing remains
        u64 q = k_one - (k_one >> shift);
        u64 qk = q_pow(q, k);
        left_k = static_cast<u64>((static_cast<u128>(total) * qk) >> 63);
        left_next = static_cast<u64>((static_cast<u128>(total) * q_mul(qk, q)) >> 63);
    }
    u64 done = total - left_k + static_cast<u64>(static_cast<u128>(left_k - left_next) * fraction / k_ns_per_s);
    return with_sign(done, amount);
}

void NtpState::settle(u64 mono_ns)
{
    offset_ns += adjtime.applied(mono_ns) + pll.applied(mono_ns);
    adjtime.amount = adjtime.remaining(mono_ns);
    adjtime.start_ns = mono_ns;
    pll.amount = pll.remaining(mono_ns);
    pll.start_ns = mono_ns;
}

void NtpState::step_to(u64 mono_ns, i64 new_offset_ns)
{
    offset_ns = new_offset_ns;
    adjtime = LinearSlew {};
    pll = PllSlew { 0, mono_ns, pll.shift };
    status |= k_sta_unsync;
    maxerror_us = k_ntp_phase_limit_us;
    maxerror_since_ns = mono_ns;
    esterror_us = k_ntp_phase_limit_us;
}

i64 NtpState::maxerror_at(u64 mono_ns) const
{
    u64 seconds = mono_ns > maxerror_since_ns ? (mono_ns - maxerror_since_ns) / k_ns_per_s : 0;
    if (maxerror_us >= k_ntp_phase_limit_us || seconds >= static_cast<u64>(k_ntp_phase_limit_us))
        return k_ntp_phase_limit_us;
    i64 v = maxerror_us + static_cast<i64>(seconds) * k_maxerror_growth_us;
    return v < k_ntp_phase_limit_us ? v : k_ntp_phase_limit_us;
}

bool NtpState::adjust(const TimexRequest& r, u64 mono_ns, u64 real_s, TimexState* out)
{
    // Linux marks the clock unsynchronised once maxerror has grown to its limit.
    if (maxerror_at(mono_ns) >= k_ntp_phase_limit_us)
        status |= k_sta_unsync;
    if (r.modes & k_adj_adjtime) {
        // adjtime(3): independent of the rest; reports what was still to do (us). In this mode
        // ADJ_OFFSET_READONLY (the bit ADJ_NANO has elsewhere) only reads.
        i64 before_us = adjtime.remaining(mono_ns) / 1000;
        if (!(r.modes & k_adj_offset_readonly)) {
            settle(mono_ns);
            adjtime = LinearSlew { r.offset * 1000, mono_ns, 500 };
        }
        report(mono_ns, out);
        out->offset = before_us;
        return false;
    }
    bool rescale = false;
    if (r.modes & k_adj_status) {
        if ((status & k_sta_pll) && !(r.status & k_sta_pll))
            status = k_sta_unsync; // PLL off: Linux starts over
        if (!(status & k_sta_pll) && (r.status & k_sta_pll)) {
            pll_reference_s = real_s;
            pll_reference_set = true;
        }
        status &= k_sta_read_only;
        status |= r.status & ~k_sta_read_only;
    }
    if (r.modes & k_adj_nano)
        status |= k_sta_nano;
    if (r.modes & k_adj_micro)
        status &= ~k_sta_nano;
    if (r.modes & k_adj_frequency) {
        freq = clamp(r.freq * k_ppm_scale, -k_max_freq_scaled, k_max_freq_scaled);
        rescale = true;
    }
    if (r.modes & k_adj_maxerror) {
        maxerror_us = r.maxerror;
        maxerror_since_ns = mono_ns;
    }
    if (r.modes & k_adj_esterror)
        esterror_us = r.esterror;
    if (r.modes & k_adj_timeconst) {
        time_constant = r.constant + ((status & k_sta_nano) ? 0 : 4);
        time_constant = clamp(time_constant, 0, k_max_tc);
    }
    if ((r.modes & k_adj_tai) && r.constant >= 0 && r.constant <= k_max_tai)
        tai = r.constant;
    if ((r.modes & k_adj_offset) && (status & k_sta_pll)) {
        // ntp_update_offset(): the phase to slew in, and the frequency the loop infers from it.
        i64 offset = r.offset;
        if (!(status & k_sta_nano))
            offset = clamp(offset, -1000000, 1000000) * 1000;
        offset = clamp(offset, -k_max_phase_ns, k_max_phase_ns);
        i64 secs = pll_reference_set ? static_cast<i64>(real_s) - static_cast<i64>(pll_reference_s) : 0;
        if (status & k_sta_freqhold)
            secs = 0;
        pll_reference_s = real_s;
        pll_reference_set = true;
        i64 freq_adj = 0;
        status &= ~k_sta_mode;
        if (secs >= k_min_sec && ((status & k_sta_fll) || secs > k_max_sec)) {
            status |= k_sta_mode;
            freq_adj = (offset << (k_ntp_scale_shift - k_shift_fll)) / secs;
        }
        i64 limit = i64(1) << (k_shift_pll + 1 + time_constant);
        if (secs > limit)
            secs = limit;
        if (secs < 0)
            secs = 0;
        freq_adj += (offset * secs) << (k_ntp_scale_shift - 2 * (k_shift_pll + 2 + static_cast<unsigned>(time_constant)));
        freq = clamp(freq_adj + freq, -k_max_freq_scaled, k_max_freq_scaled);
        settle(mono_ns);
        pll = PllSlew { offset, mono_ns, k_shift_pll + static_cast<unsigned>(time_constant) };
        rescale = true;
    }
    if (r.modes & k_adj_tick) {
        tick_us = r.tick;
        rescale = true;
    }
    report(mono_ns, out);
    return rescale;
}

void NtpState::report(u64 mono_ns, TimexState* out) const
{
    int s = status;
    i64 maxerror = maxerror_at(mono_ns);
    if (maxerror >= k_ntp_phase_limit_us)
        s |= k_sta_unsync;
    out->result = is_error_status(s) ? k_time_error : k_time_ok;
    i64 left = pll.remaining(mono_ns);
    out->offset = (s & k_sta_nano) ? left : left / 1000;
    out->freq = shift_right((freq >> k_ppm_scale_inv_shift) * k_ppm_scale_inv, k_ntp_scale_shift);
    out->maxerror = maxerror;
    out->esterror = esterror_us;
    out->status = s;
    out->constant = time_constant;
    out->precision = 1;
    out->tolerance = k_max_freq_scaled / k_ppm_scale;
    out->tick = tick_us;
    out->tai = tai;
}

HostDiscipline::Decision HostDiscipline::add(u64 tsc, u64 host_ns, u64 round_trip_ns, i64 offset_ns,
    u64 uncertainty_ppb)
{
    ++m_samples;
    Decision d;
    // A round trip far above the best one seen says the exchange waited somewhere (a busy
    // host, a guest that did not run): its midpoint says little.
    constexpr u64 k_outlier_floor_ns = 2000000;
    if (m_have_anchor && round_trip_ns > 4 * m_best_round_trip_ns && round_trip_ns > k_outlier_floor_ns)
        return d;
    d.use = true;
    if (round_trip_ns < m_best_round_trip_ns)
        m_best_round_trip_ns = round_trip_ns;
    u64 bound = round_trip_ns / 2; // the sample's own error, at most
    if (!m_have_anchor) {
        m_anchor = Point { tsc, host_ns, round_trip_ns };
        m_have_anchor = true;
        m_set_bound_ns = bound;
        d.step = true;
        return d;
    }
    // The frequency is measured from the anchor, the first sample; a much better one taken soon
    // after replaces it (the exchange at boot competes with the whole machine starting up).
    if (round_trip_ns * 2 < m_anchor.round_trip_ns && host_ns < m_anchor.host_ns + 60 * k_ns_per_s) {
        m_anchor = Point { tsc, host_ns, round_trip_ns };
    } else if (host_ns > m_anchor.host_ns && tsc > m_anchor.tsc) {
        u64 span = host_ns - m_anchor.host_ns;
        u64 error = (m_anchor.round_trip_ns + round_trip_ns) / 2;
        u64 ppb = static_cast<u64>(static_cast<u128>(error) * k_ns_per_s / span);
        if (ppb < uncertainty_ppb) {
            d.hz = static_cast<u64>(static_cast<u128>(tsc - m_anchor.tsc) * k_ns_per_s / span);
            d.hz_uncertainty_ppb = ppb;
        }
    }
    // A step for a large error, and for a clearly wrong setting that a much more precise
    // sample reveals (the boot's exchange can be slow); else a slew of what is known to be off.
    u64 off = magnitude(offset_ns);
    if (off > static_cast<u64>(k_step_threshold_ns) || (off > bound + k_restep_ns && bound * 2 < m_set_bound_ns)) {
        d.step = true;
        m_set_bound_ns = bound;
    } else if (off > bound) {
        d.slew_ns = -with_sign(off - bound, offset_ns);
    }
    return d;
}

u64 HostDiscipline::next_due(u64 last_sample_mono_ns) const
{
    if (m_samples <= 1)
        return last_sample_mono_ns; // right after the first
    unsigned n = m_samples - 2;
    u64 interval = n >= 6 ? k_max_interval_ns : k_ns_per_s << n;
    return last_sample_mono_ns + interval;
}

} // namespace atl::kernel
