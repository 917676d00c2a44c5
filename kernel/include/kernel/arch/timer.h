// SPDX-License-Identifier: MIT
#pragma once

// The CPU's timer: declarations only, defined by kernel/arch/<arch>/ (x86-64: the local APIC).

#include <kernel/types.h>

namespace atl::arch {

// One-shot timer interrupt `ns` from now (0: cancel): TSC-deadline mode where the CPU offers
// it, else the APIC timer's one-shot mode (1 ns per count on QEMU's and KVM's 1 GHz bus).
void timer_arm_ns(u64 ns);

// Cycle-counter ticks per second, measured against the timer (kernel/src/time.cpp calls it
// once, at boot) over 0.5 ms. The timer keeps counting afterwards, and its first use as a timer
// ends a second, longer measurement (from this one to then: the rest of the boot), which goes
// to kernel::clock_better_frequency(). hz 0: no timer to measure against.
struct TscMeasurement {
    u64 hz;
    u64 uncertainty_ppb; // the readings' imprecision over the window: a bound on the error
};
TscMeasurement measure_tsc_hz();

} // namespace atl::arch
