// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/types.h>

namespace atl::kernel {

// Monotonic time since boot, from the TSC. The TSC frequency is calibrated on first use
// against the local APIC timer (which counts at QEMU's and KVM's 1 GHz APIC bus clock).
// FIXME(issue 3): pvclock/kvmclock and CPUID 0x15/0x16 where offered.
// Records the boot instant: the first thing atoll_main does.
void time_mark_boot();
u64 tsc_at_boot();
u64 monotonic_ns();
u64 tsc_hz();

// Wall-clock time. Its base comes from the `atoll.realtime=SECONDS[.FRACTION]` parameter
// (`atoll run` passes the host's time), else from the CMOS RTC where the machine has one.
u64 realtime_ns();
void set_realtime_base(u64 unix_ns); // unix time now, in ns
bool parse_realtime(const char* text, u64* unix_ns);

// Days since 1970-01-01 of a proleptic Gregorian date (portable, unit-tested).
i64 days_from_civil(i64 year, unsigned month, unsigned day);

} // namespace atl::kernel
