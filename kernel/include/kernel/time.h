// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/arch.h>
#include <kernel/types.h>

#include <cstddef>

namespace atl::kernel {

// Monotonic time since boot, from the TSC. The TSC frequency is calibrated on first use
// against the local APIC timer (which counts at QEMU's and KVM's 1 GHz APIC bus clock).
// FIXME(issue 3): pvclock/kvmclock and CPUID 0x15/0x16 where offered.
// Records the boot instant (the TSC read by the very first instruction, in boot.S): the
// first thing atoll_main does.
void time_mark_boot();
u64 tsc_at_boot();

// Boot phase marks for atoll.bootstats: the TSC when each phase ended.
struct BootMark {
    const char* phase;
    u64 tsc;
};
constexpr std::size_t k_max_boot_marks = 16;
void boot_mark(const char* phase); // beyond k_max_boot_marks: not recorded
std::size_t boot_marks(const BootMark** marks);
u64 monotonic_ns();
u64 tsc_hz();
// The same readings without side effects, safe with interrupts on: false while the first
// use's work (calibration, turning a wall-clock base into an offset) is still to be done.
bool monotonic_ns_ready(u64* ns); // inline below
bool realtime_ns_ready(u64* ns);

namespace detail {
// ns since boot = ((tsc - tsc_at_boot) * ns_mult) >> ns_shift: one multiplication per read, not
// a 128-bit division (which cost ~600 ns per clock_gettime() under TCG). time.cpp's.
struct ClockParams {
    u64 tsc_hz = 0; // 0: not calibrated yet
    u64 ns_mult = 0;
    unsigned ns_shift = 0;
    u64 tsc_at_boot = 0;
};
extern ClockParams g_clock;
}

inline bool monotonic_ns_ready(u64* ns)
{
    const detail::ClockParams& c = detail::g_clock;
    if (!c.tsc_hz)
        return false;
    u64 t = arch::read_tsc() - c.tsc_at_boot;
    *ns = static_cast<u64>((static_cast<unsigned __int128>(t) * c.ns_mult) >> c.ns_shift);
    return true;
}

// Wall-clock time. Its base comes from the `atoll.realtime=SECONDS[.FRACTION]` parameter
// (`atoll run` passes the host's time), else from the CMOS RTC where the machine has one.
u64 realtime_ns();
void set_realtime_base(u64 unix_ns); // unix time now, in ns
bool parse_realtime(const char* text, u64* unix_ns);

// Days since 1970-01-01 of a proleptic Gregorian date (portable, unit-tested).
i64 days_from_civil(i64 year, unsigned month, unsigned day);

} // namespace atl::kernel
