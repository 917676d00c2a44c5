// SPDX-License-Identifier: MIT
#pragma once

// Interrupt control: the local APIC, its one-shot timer, and the handler table for device
// vectors. Kernel code runs with interrupts off (a single CPU: that is the kernel lock);
// applications and the idle loop run with them on.

#include <kernel/types.h>

namespace atl::kernel {

constexpr u32 k_vector_timer = 48;
constexpr u32 k_vector_first_device = 49;
constexpr u32 k_vector_last_device = 55;

// Masks the legacy 8259 PICs, enables the local APIC, installs the interrupt vectors.
[[nodiscard]] const char* interrupts_init();

using IrqHandler = void (*)(void* context);
[[nodiscard]] bool register_irq(u32 vector, IrqHandler handler, void* context);
// A free device vector with `handler` installed, or 0 when all are taken.
[[nodiscard]] u32 allocate_irq(IrqHandler handler, void* context);
// Routes an I/O APIC input (a GSI: virtio-mmio and legacy lines) to a vector on CPU 0.
[[nodiscard]] bool route_gsi(u32 gsi, u32 vector, bool level_triggered);
// Acknowledges a device interrupt at the local APIC (device handlers call it last).
void end_of_interrupt();

// One-shot timer interrupt `ns` from now (0: cancel): TSC-deadline mode where the CPU offers
// it, else the APIC timer's one-shot mode (1 ns per count on QEMU's and KVM's 1 GHz bus).
void timer_arm_ns(u64 ns);

// TSC ticks per second, measured against the APIC timer (kernel/src/time.cpp calls it once, at
// boot) over 0.5 ms. The timer keeps counting afterwards, and its first use as a timer ends a
// second, longer measurement (from this one to then: the rest of the boot), which goes to
// kernel::clock_better_frequency(). hz 0: no APIC.
struct TscMeasurement {
    u64 hz;
    u64 uncertainty_ppb; // the readings' imprecision over the window: a bound on the error
};
TscMeasurement lapic_measure_tsc_hz();

struct IrqState {
    u64 flags;
};
IrqState irq_save();   // disables interrupts, returns the previous state
void irq_restore(IrqState s);
bool irq_enabled();
void irq_enable();
void irq_disable();
// Called at the end of every interrupt that arrived while interrupts were on (the interrupted
// code was a thread's own, not the kernel's), with interrupts off, after the handler: the
// libOS delivers signals there.
void set_interrupt_return_hook(void (*hook)());
// A processor exception in a thread's own code (interrupts were on, not a kernel thread) asks
// this hook whether the program handles its signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP).
// If so, the faulting context is saved on the thread's stack (or at the top of the stack the
// hook names in *stack_top: the alternate signal stack) and the thread continues in
// atoll_fault_entry(context, sig, si_code, address), defined by the libOS; when that returns,
// the saved context is resumed. Otherwise, or when the stack cannot take the context (a
// stack overflow without an alternate stack), the kernel panics with its crash report.
void set_fault_signal_hook(bool (*wants)(int sig, u64 sp, u64* stack_top));
// Waits for the next interrupt with interrupts enabled; returns with them disabled.
void idle_wait();

// Counters, readable at run time.
struct InterruptStats {
    u64 timer;
    u64 spurious;
    u64 device;
};
const InterruptStats& interrupt_stats();

} // namespace atl::kernel
