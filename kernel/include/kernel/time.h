// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/arch/cpu.h>
#include <kernel/clock_discipline.h>
#include <kernel/types.h>

#include <cstddef>

namespace atl::kernel {

// Time since boot and wall-clock time, both read from the TSC (kernel/DESIGN.md, "Time").
//
// The TSC's frequency comes from the platform where it says (CPUID 0x15, the hypervisor's
// frequency leaf, KVM's pvclock), else from a short measurement against the local APIC timer
// at boot; the host's clock, asked over the control channel while the guest runs, refines it
// (and sets the wall clock) in the background. A change of frequency never makes the clocks
// jump: they continue from where they were at a slightly different rate.

// Records the boot instant (the TSC read by the very first instruction, in boot.S): the
// first thing atoll_kernel_main does.
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

// The first use calibrates (boot calls tsc_hz() at a phase of its own).
u64 monotonic_ns();
u64 tsc_hz(); // the current estimate
// The same readings without side effects, safe with interrupts on: false while the first
// use's work (calibration) is still to be done.
bool monotonic_ns_ready(u64* ns); // inline below
bool realtime_ns_ready(u64* ns);
// Both clocks at an earlier TSC reading (when an event was stamped); false before calibration.
bool clocks_at_tsc(u64 tsc, u64* monotonic, u64* realtime);

// Wall-clock time. Until the host answers (or without a host), its base comes from KVM's wall
// clock where there is one, else from the `atoll.realtime=SECONDS[.FRACTION]` parameter
// (`atoll run` passes the host's time, taken before QEMU starts), else from the CMOS RTC
// where the machine has one.
u64 realtime_ns();
void set_realtime_base(u64 unix_ns); // the boot parameter: unix time now, in ns
bool parse_realtime(const char* text, u64* unix_ns);

// Days since 1970-01-01 of a proleptic Gregorian date (portable, unit-tested).
i64 days_from_civil(i64 year, unsigned month, unsigned day);

// A frequency measured later than at boot (the APIC timer over the whole boot); taken when
// its uncertainty (ppb) is below the current one's.
void clock_better_frequency(u64 hz, u64 uncertainty_ppb, const char* source);

// ---- Setting the clock (clock_settime, settimeofday, adjtimex). Callers hold the kernel
// lock (interrupts off). The first change by a program stops the host synchronisation: the
// program keeps the time from then on, as a time daemon on Linux does.

void clock_set_realtime(u64 unix_ns);   // a step
bool clock_shift_realtime(i64 delta_ns); // ADJ_SETOFFSET; false if it would go before 1970
// adjtimex(2)'s state and its changes (clock_discipline.h): validated already.
void clock_adjust(const TimexRequest& request, TimexState* result);
i64 clock_tai_offset_s(); // CLOCK_TAI - CLOCK_REALTIME (adjtimex's ADJ_TAI), seconds

// ---- The host's clock, over the control channel (kernel/src/control.cpp asks and answers).

// One exchange: the TSC when the request's first byte was sent and when the answer's first
// byte arrived, and the host's CLOCK_REALTIME when it received the request and when it
// answered (ns since 1970).
struct HostTimeSample {
    u64 tsc_sent;
    u64 tsc_received;
    u64 host_received_ns;
    u64 host_sent_ns;
};
// Several exchanges close together make one sample (the one with the shortest round trip is
// used); false when the synchronisation is off (a program set the clock).
void clock_host_samples(const HostTimeSample* samples, std::size_t count);
bool clock_host_sync_active();
// The host announced its clock (control.cpp found its relay's "host-clock"), or stopped
// answering before the first sample.
void clock_host_announced();
void clock_host_gave_up();
// For the first read of the wall clock by a program (the libOS calls it, in a system call):
// waits, once and at most 100 ms, for the first sample of an announced host clock, so that a
// program never sees the boot parameter's time (taken before QEMU started: 0.1-0.7 s behind).
// Until then the lock-free reading (realtime_ns_ready) declines, sending readers here.
void clock_wait_for_host();
bool clocks_running(); // calibrated
// When the next sample is due (monotonic ns; 0: now), following the schedule of
// clock_discipline.h.
u64 clock_host_next_sample();

// Counters for the state dump and the clock benchmark's own diagnosis.
struct ClockStatus {
    u64 tsc_hz;
    const char* source;      // where the frequency came from
    u64 uncertainty_ppb;     // of the frequency
    u32 host_samples;
    u64 last_round_trip_ns;
    i64 last_offset_ns;      // guest minus host at the last sample, before correcting it
    bool host_sync;
};
ClockStatus clock_status();

namespace detail {
// Monotonic ns = base_ns + (((tsc - base_tsc) * ns_mult) >> ns_shift): one multiplication per
// read, not a 128-bit division (which cost ~600 ns per clock_gettime() under TCG). A change
// re-bases at the current TSC, so the clock stays continuous. Readers that may be interrupted
// by a change (clock_gettime without the kernel lock) read `sequence` before and after and
// retry when it moved; on one CPU a change always completes before the reader resumes.
struct ClockParams {
    u32 sequence = 0;
    u64 tsc_hz = 0; // 0: not calibrated yet
    u64 ns_mult = 0;
    unsigned ns_shift = 0;
    u64 base_tsc = 0;
    u64 base_ns = 0;
    u64 tsc_at_boot = 0;
};
extern ClockParams g_clock;

inline void compiler_barrier() { asm volatile("" : : : "memory"); }
}

inline bool monotonic_ns_ready(u64* ns)
{
    const detail::ClockParams& c = detail::g_clock;
    for (;;) {
        u32 seq = c.sequence;
        detail::compiler_barrier();
        if (!c.tsc_hz)
            return false;
        u64 t = arch::read_tsc() - c.base_tsc;
        u64 v = c.base_ns + static_cast<u64>((static_cast<unsigned __int128>(t) * c.ns_mult) >> c.ns_shift);
        detail::compiler_barrier();
        if (c.sequence == seq) {
            *ns = v;
            return true;
        }
    }
}

} // namespace atl::kernel
