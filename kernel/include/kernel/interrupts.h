// SPDX-License-Identifier: MIT
#pragma once

// Interrupt control: the local APIC, its one-shot timer, and the handler table for device
// vectors. Kernel code runs with interrupts off (kernel/lock.h: every lock masks them);
// applications and the idle loop run with them on.

#include <kernel/arch/frame.h>
#include <kernel/arch/timer.h>
#include <kernel/result.h>
#include <kernel/types.h>

namespace atl::kernel {

constexpr u32 k_vector_timer = 48;
constexpr u32 k_vector_first_device = 49;
constexpr u32 k_vector_last_device = 55;

// Masks the legacy 8259 PICs, enables the local APIC, installs the interrupt vectors. An error
// (logged) when the local APIC cannot be mapped.
Result<void> interrupts_init();

using IrqHandler = void (*)(void* context);
// Installs `handler` on a device vector: EINVAL for a vector outside the device range, EBUSY
// when it has a handler.
Result<void> register_irq(u32 vector, IrqHandler handler, void* context);
// A free device vector with `handler` installed; ENOSPC when all are taken.
Result<u32> allocate_irq(IrqHandler handler, void* context);
// Removes the handler of a device vector (from register_irq or allocate_irq), which is free
// again. The caller first stops the device from raising it (a reset, a masked line): an
// interrupt on a free vector is counted as spurious.
void unregister_irq(u32 vector);
// Acknowledges a device interrupt at the local APIC (device handlers call it last).
void end_of_interrupt();

struct IrqState {
    u64 flags;
};
// The interrupt mask under the lock types of kernel/lock.h, which are what everything else
// uses (tests/structure/locks.sh checks that). noexcept: a lock guard in code built with
// exceptions (a test image) would otherwise need a terminate path, and the C++ runtime with it.
[[nodiscard]] IrqState irq_save() noexcept; // disables interrupts, returns the previous state
void irq_restore(IrqState s) noexcept;
bool irq_enabled() noexcept;
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
// entry(context, sig, si_code, address); when that returns, the saved context is resumed.
// Otherwise, or when the stack cannot take the context (a stack overflow without an
// alternate stack), the kernel panics with its crash report.
using FaultEntry = void (*)(const arch::InterruptFrame* context, long sig, long code, u64 addr);
void set_fault_signal_hook(bool (*wants)(int sig, u64 sp, u64* stack_top), FaultEntry entry);
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
