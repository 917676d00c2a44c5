// SPDX-License-Identifier: MIT
#include <kernel/arch.h>
#include <kernel/console.h>
#include <kernel/interrupts.h>
#include <kernel/paging.h>
#include <kernel/panic.h>
#include <kernel/time.h>

extern "C" atl::u64 boot_tsc; // boot.S: the TSC at the first instruction

namespace atl::kernel {

detail::ClockParams detail::g_clock;

namespace {

u64& s_tsc_hz = detail::g_clock.tsc_hz;
u64& s_ns_mult = detail::g_clock.ns_mult;
unsigned& s_ns_shift = detail::g_clock.ns_shift;
u64& s_tsc_at_boot = detail::g_clock.tsc_at_boot;
BootMark s_marks[k_max_boot_marks];
std::size_t s_mark_count = 0;
bool s_realtime_known = false;
i64 s_realtime_offset_ns = 0; // realtime = monotonic + offset
// A wall-clock reading taken at boot, turned into the offset on first use: converting it
// needs the TSC frequency, and calibrating costs 2 ms that boot should not pay.
bool s_realtime_pending = false;
u64 s_realtime_pending_ns = 0;
u64 s_realtime_pending_tsc = 0;

void calibrate()
{
    u64 hz = lapic_measure_tsc_hz();
    hz = hz ? hz : 1000000000;
    // The largest shift (at most 32) whose multiplier stays below 2^63: the product with any
    // 64-bit tick count then fits the 128-bit intermediate.
    unsigned shift = 32;
    unsigned __int128 mult = (static_cast<unsigned __int128>(1000000000u) << shift) / hz;
    while (shift > 0 && mult >= (static_cast<unsigned __int128>(1) << 63))
        mult = (static_cast<unsigned __int128>(1000000000u) << --shift) / hz;
    s_ns_mult = static_cast<u64>(mult);
    s_ns_shift = shift;
    s_tsc_hz = hz;
}

u8 cmos(u8 reg)
{
    arch::outb(0x70, reg);
    return arch::inb(0x71);
}

bool read_cmos_time(u64* unix_ns)
{
    if (cmos(0x0a) == 0xff) // no RTC (microvm with rtc=off): the bus floats high
        return false;
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); ++i) // update in progress
        arch::pause();
    u8 sec = cmos(0), min = cmos(2), hour = cmos(4), day = cmos(7), mon = cmos(8), year = cmos(9);
    u8 status_b = cmos(0x0b);
    auto bin = [&](u8 v) -> unsigned { return (status_b & 4) ? v : (v & 0x0f) + (v >> 4) * 10; };
    bool pm = !(status_b & 2) && (hour & 0x80);
    unsigned h = bin(hour & 0x7f);
    if (pm)
        h = (h % 12) + 12;
    unsigned m = bin(mon), d = bin(day);
    if (m < 1 || m > 12 || d < 1 || d > 31 || h > 23 || bin(min) > 59 || bin(sec) > 60)
        return false;
    i64 days = days_from_civil(2000 + bin(year), m, d);
    *unix_ns = static_cast<u64>(((days * 24 + h) * 60 + bin(min)) * 60 + bin(sec)) * 1000000000ull;
    return true;
}

} // namespace

void time_mark_boot() { s_tsc_at_boot = boot_tsc ? boot_tsc : arch::read_tsc(); }
u64 tsc_at_boot() { return s_tsc_at_boot; }

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
    if (!s_tsc_hz)
        calibrate();
    return s_tsc_hz;
}

u64 monotonic_ns()
{
    if (!s_tsc_hz)
        calibrate();
    u64 ns = 0;
    (void)monotonic_ns_ready(&ns);
    return ns;
}

bool realtime_ns_ready(u64* ns)
{
    if (s_realtime_pending || !s_realtime_known || !monotonic_ns_ready(ns))
        return false;
    *ns = static_cast<u64>(static_cast<i64>(*ns) + s_realtime_offset_ns);
    return true;
}

void set_realtime_base(u64 unix_ns)
{
    s_realtime_pending_ns = unix_ns;
    s_realtime_pending_tsc = arch::read_tsc();
    s_realtime_pending = true;
    s_realtime_known = true;
}

u64 realtime_ns()
{
    if (s_realtime_pending) {
        u64 since = arch::read_tsc() - s_realtime_pending_tsc;
        u64 since_ns = static_cast<u64>(static_cast<unsigned __int128>(since) * 1000000000u / tsc_hz());
        s_realtime_offset_ns = static_cast<i64>(s_realtime_pending_ns + since_ns) - static_cast<i64>(monotonic_ns());
        s_realtime_pending = false;
    }
    if (!s_realtime_known) {
        u64 ns = 0;
        if (!read_cmos_time(&ns))
            log("no wall-clock source (no atoll.realtime= and no RTC): time starts at 1970");
        set_realtime_base(ns);
    }
    return static_cast<u64>(static_cast<i64>(monotonic_ns()) + s_realtime_offset_ns);
}


} // namespace atl::kernel
