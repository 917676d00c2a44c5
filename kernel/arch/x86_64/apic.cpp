// SPDX-License-Identifier: MIT
// Local APIC (xAPIC registers, Intel SDM Vol. 3A §11) and the legacy PIC, which is only
// remapped and masked so its spurious interrupts cannot land on exception vectors.
#include <kernel/arch/cpu.h>
#include <kernel/arch/frame.h>
#include <kernel/arch/io.h>
#include <kernel/arch/mmu.h>
#include <kernel/arch/context.h>
#include <kernel/arch/timer.h>
#include <kernel/console.h>

#include <arch/x86_64/io.h>
#include <kernel/interrupts.h>
#include <kernel/paging.h>
#include <kernel/platform.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <cerrno>

extern "C" const atl::u64 irq_table[24];
extern "C" void irq_spurious();
extern "C" bool atoll_have_xsave;
bool atoll_have_xsave = false;

namespace atl::kernel {

void scheduler_timer_interrupt(); // kernel/src/sched.cpp

using arch::TscMeasurement;

namespace {

constexpr u32 k_msr_apic_base = 0x1b;
constexpr u32 k_msr_tsc_deadline = 0x6e0;
constexpr u64 k_apic_base_enable = 1u << 11;
constexpr u64 k_apic_base_x2apic = 1u << 10;
constexpr u32 k_lapic_eoi = 0xb0;
constexpr u32 k_lapic_svr = 0xf0;
constexpr u32 k_lapic_lvt_timer = 0x320;
constexpr u32 k_lapic_initial_count = 0x380;
constexpr u32 k_lapic_current_count = 0x390;
constexpr u32 k_lapic_divide = 0x3e0;
constexpr u32 k_lvt_masked = 1u << 16;
constexpr u32 k_lvt_tsc_deadline = 2u << 17;
constexpr u32 k_vector_spurious = 0xff;
constexpr u64 k_apic_bus_hz = 1000000000; // QEMU (TCG and KVM) and KVM model a 1 GHz APIC bus

u64 s_lapic = 0;        // xAPIC register page (mapped uncached); unused in x2APIC mode
bool s_x2apic = false;  // registers are MSRs 0x800 + offset / 16 (SDM Vol. 3A §11.12)
bool s_tsc_deadline = false;
bool s_ready = false;
InterruptStats s_stats {};

u32 lapic_read(u32 reg)
{
    if (s_x2apic)
        return static_cast<u32>(arch::rdmsr(0x800 + (reg >> 4)));
    return *reinterpret_cast<volatile u32*>(s_lapic + reg);
}

void lapic_write(u32 reg, u32 v)
{
    if (s_x2apic)
        arch::wrmsr(0x800 + (reg >> 4), v);
    else
        *reinterpret_cast<volatile u32*>(s_lapic + reg) = v;
}

u32 timer_lvt() { return k_vector_timer | (s_tsc_deadline ? k_lvt_tsc_deadline : 0); }

// Enables the local APIC, in x2APIC mode where the CPU has it. Idempotent.
Result<void> lapic_setup()
{
    if (s_ready)
        return {};
    u32 a, b, c, d;
    arch::cpuid(1, 0, &a, &b, &c, &d);
    bool has_x2apic = c & (1u << 21);
    s_tsc_deadline = c & (1u << 24);
    u64 base = arch::rdmsr(k_msr_apic_base);
    if (has_x2apic) {
        // xAPIC -> x2APIC: enable first, then set EXTD (SDM §11.12.5).
        arch::wrmsr(k_msr_apic_base, base | k_apic_base_enable);
        arch::wrmsr(k_msr_apic_base, base | k_apic_base_enable | k_apic_base_x2apic);
        s_x2apic = true;
    } else {
        if (!(base & k_apic_base_enable))
            arch::wrmsr(k_msr_apic_base, base | k_apic_base_enable);
        s_lapic = base & ~u64(0xfff);
        if (!map_mmio(s_lapic, k_page_size)) {
            log("interrupts: cannot map the local APIC");
            return Error::from_errno(ENOMEM);
        }
    }
    lapic_write(k_lapic_svr, 0x100 | k_vector_spurious);
    lapic_write(k_lapic_divide, 0xb); // divide by 1
    lapic_write(k_lapic_lvt_timer, timer_lvt());
    if (!s_tsc_deadline)
        lapic_write(k_lapic_initial_count, 0);
    s_ready = true;
    return {};
}

struct Handler {
    IrqHandler fn;
    void* context;
};
Handler s_handlers[256];


void close_calibration_window(); // below, with the calibration

void timer_irq(void*)
{
    ++s_stats.timer;
    lapic_write(k_lapic_eoi, 0);
    scheduler_timer_interrupt();
}

} // namespace

Result<void> interrupts_init()
{
    platform::interrupt_controller_init();
    TRY(lapic_setup());

    u32 a, b, c, d;
    arch::cpuid(1, 0, &a, &b, &c, &d);
    atoll_have_xsave = (c & (1u << 26)) && (c & (1u << 27)); // XSAVE and OSXSAVE

    for (u32 v = 32; v < 56; ++v)
        arch::set_interrupt_gate(v, irq_table[v - 32]);
    arch::set_interrupt_gate(k_vector_spurious, reinterpret_cast<u64>(&irq_spurious));
    s_handlers[k_vector_timer] = { timer_irq, nullptr };
    return {};
}

Result<u32> allocate_irq(IrqHandler handler, void* context)
{
    for (u32 v = k_vector_first_device; v <= k_vector_last_device; ++v) {
        if (!s_handlers[v].fn) {
            s_handlers[v] = { handler, context };
            return v;
        }
    }
    return Error::from_errno(ENOSPC);
}

void unregister_irq(u32 vector)
{
    if (vector >= k_vector_first_device && vector <= k_vector_last_device)
        s_handlers[vector] = {};
}

void end_of_interrupt() { lapic_write(k_lapic_eoi, 0); }

Result<void> register_irq(u32 vector, IrqHandler handler, void* context)
{
    if (vector < k_vector_first_device || vector > k_vector_last_device)
        return Error::from_errno(EINVAL);
    if (s_handlers[vector].fn)
        return Error::from_errno(EBUSY);
    s_handlers[vector] = { handler, context };
    return {};
}

} // namespace atl::kernel

namespace atl::arch {

using namespace kernel;

void timer_arm_ns(u64 ns)
{
    close_calibration_window();
    if (s_tsc_deadline) {
        u64 hz = tsc_hz();
        u64 ticks = static_cast<u64>(static_cast<unsigned __int128>(ns) * hz / 1000000000u);
        arch::wrmsr(k_msr_tsc_deadline, ns == 0 ? 0 : arch::read_tsc() + (ticks ? ticks : 1));
        return;
    }
    // One count per ns. Longer waits are cut into pieces; the scheduler re-arms at each
    // interrupt.
    constexpr u64 k_max = 0xffffffffu;
    lapic_write(k_lapic_initial_count, static_cast<u32>(ns == 0 ? 0 : (ns > k_max ? k_max : ns)));
}

} // namespace atl::arch

namespace atl::kernel {

namespace {

// The calibration (arch::measure_tsc_hz): each end of a window is a pair (TSC, APIC count)
// whose TSC is the middle of two reads around the count's read, and whose error is at most
// half their distance. Under TCG the distance varies: a first run of the code is translated
// between the reads, and QEMU's I/O thread can hold the lock every device access takes (a
// single read pair was off by up to 3.7%; the narrowest of 8 still by 0.3-0.5% at boot, which
// made the guest's clock run that much slow). So the code runs once before it counts, pairs
// are taken until one is narrow (16 tries at most), and the 1 ms measurement only serves the
// first milliseconds: the window is left open until the timer's first use, and over that
// longer window (the rest of the boot) the same error weighs 5-50 times less.
struct Pair {
    u64 tsc;
    u32 count;
    u64 width;
};

Pair sample_pair()
{
    constexpr u64 k_narrow = 1000; // TSC ticks: ~0.5 us at 2 GHz
    Pair best { 0, 0, ~0ull };
    for (int i = 0; i < 16 && (i < 8 || best.width > k_narrow); ++i) {
        u64 a = arch::read_tsc();
        u32 c = lapic_read(k_lapic_current_count);
        u64 b = arch::read_tsc();
        if (b - a < best.width)
            best = Pair { a + (b - a) / 2, c, b - a };
    }
    return best;
}

TscMeasurement measure_between(const Pair& p0, const Pair& p1)
{
    u64 ticks = p1.tsc - p0.tsc;
    u32 counts = p0.count - p1.count;
    if (counts == 0 || ticks == 0)
        return TscMeasurement { 0, 0 };
    u64 hz = static_cast<u64>(static_cast<unsigned __int128>(ticks) * k_apic_bus_hz / counts);
    u64 ppb = static_cast<u64>(static_cast<unsigned __int128>((p0.width + p1.width) / 2 + 1) * 1000000000u / ticks);
    return TscMeasurement { hz, ppb };
}

// The window that stays open after the boot's measurement, until the timer's first use.
Pair s_window_start {};
bool s_window_open = false;

void close_calibration_window()
{
    if (!s_window_open)
        return;
    s_window_open = false;
    Pair end = sample_pair();
    // The count runs down from 2^32 - 1 ns (4.3 s); at 0 it stopped, and the window says nothing.
    if (end.count != 0) {
        TscMeasurement m = measure_between(s_window_start, end);
        if (m.hz)
            clock_better_frequency(m.hz, m.uncertainty_ppb, "local APIC timer (boot)");
    }
    lapic_write(k_lapic_initial_count, 0);
    lapic_write(k_lapic_lvt_timer, timer_lvt());
}

} // namespace

} // namespace atl::kernel

namespace atl::arch {

using namespace kernel;

TscMeasurement measure_tsc_hz()
{
    if (!lapic_setup())
        return TscMeasurement { 0, 0 };
    // Borrow the APIC timer: masked, one-shot, divide by 1. Switching the timer's mode
    // disarms it (SDM §11.5.4.1); the scheduler arms it on its first decision, which ends the
    // longer measurement (close_calibration_window).
    lapic_write(k_lapic_lvt_timer, k_lvt_masked);
    lapic_write(k_lapic_divide, 0xb);
    lapic_write(k_lapic_initial_count, 0xffffffff);
    (void)sample_pair(); // translated and run once before it counts
    Pair p0 = sample_pair();
    // Coarse and quick (0.5 ms; it was 1 ms, and the probes added before it cost the other
    // half): the window that stays open until the timer's first use gives the boot's real
    // figure a few milliseconds later, and until then a coarse one is enough.
    constexpr u32 k_window = 500000; // APIC counts: ns
    while (p0.count - lapic_read(k_lapic_current_count) < k_window)
        arch::pause();
    TscMeasurement m = measure_between(p0, sample_pair());
    s_window_start = p0;
    s_window_open = true;
    return m;
}

} // namespace atl::arch

namespace atl::kernel {

IrqState irq_save() noexcept
{
    u64 flags;
    asm volatile("pushfq; pop %0; cli" : "=r"(flags) : : "memory");
    return IrqState { flags };
}

void irq_restore(IrqState s) noexcept
{
    if (s.flags & (1u << 9))
        asm volatile("sti" : : : "memory");
}

bool irq_enabled() noexcept
{
    u64 flags;
    asm volatile("pushfq; pop %0" : "=r"(flags));
    return flags & (1u << 9);
}

void irq_enable() { asm volatile("sti" : : : "memory"); }
void irq_disable() { asm volatile("cli" : : : "memory"); }

void (*s_interrupt_return_hook)() = nullptr;
void set_interrupt_return_hook(void (*hook)()) { s_interrupt_return_hook = hook; }

void idle_wait() { asm volatile("sti; hlt; cli" : : : "memory"); }

const InterruptStats& interrupt_stats() { return s_stats; }

} // namespace atl::kernel

// isr.S: the vector, the interrupted code's RFLAGS and its saved registers.
extern "C" void atoll_irq(atl::u64 vector, atl::u64 rflags, const atl::arch::IrqFrame* frame)
{
    using namespace atl::kernel;
    if (vector < 256 && s_handlers[vector].fn) {
        if (vector != k_vector_timer)
            ++s_stats.device;
        // The handler may switch threads; this frame stays with the thread it interrupted.
        Thread* t = current();
        const atl::arch::IrqFrame* outer = nullptr;
        if (t) {
            outer = t->interrupted;
            t->interrupted = frame;
        }
        s_handlers[vector].fn(s_handlers[vector].context);
        if ((rflags & (1u << 9)) && s_interrupt_return_hook)
            s_interrupt_return_hook();
        if (t)
            t->interrupted = outer;
        return;
    }
    // Masked 8259 lines still raise spurious IRQ 7 / 15 (vectors 39 / 47): ignore those.
    ++s_stats.spurious;
}
