// SPDX-License-Identifier: MIT
// Local APIC (xAPIC registers, Intel SDM Vol. 3A §11) and the legacy PIC, which is only
// remapped and masked so its spurious interrupts cannot land on exception vectors.
#include <kernel/arch.h>
#include <kernel/interrupts.h>
#include <kernel/paging.h>
#include <kernel/panic.h>

extern "C" const atl::u64 irq_table[24];
extern "C" void irq_spurious();
extern "C" bool atoll_have_xsave;
bool atoll_have_xsave = false;

namespace atl::kernel {

void scheduler_timer_interrupt(); // kernel/src/sched.cpp

namespace {

constexpr u32 k_msr_apic_base = 0x1b;
constexpr u32 k_lapic_eoi = 0xb0;
constexpr u32 k_lapic_svr = 0xf0;
constexpr u32 k_lapic_lvt_timer = 0x320;
constexpr u32 k_lapic_initial_count = 0x380;
constexpr u32 k_lapic_divide = 0x3e0;
constexpr u32 k_vector_spurious = 0xff;

u64 s_lapic = 0;
InterruptStats s_stats {};

struct Handler {
    IrqHandler fn;
    void* context;
};
Handler s_handlers[256];

volatile u32& lapic(u32 reg) { return *reinterpret_cast<volatile u32*>(s_lapic + reg); }

void timer_irq(void*)
{
    ++s_stats.timer;
    lapic(k_lapic_eoi) = 0;
    scheduler_timer_interrupt();
}

} // namespace

const char* interrupts_init()
{
    // 8259s: ICW1-4 with vector bases 32 and 40, then mask every line.
    arch::outb(0x20, 0x11);
    arch::outb(0xa0, 0x11);
    arch::outb(0x21, 32);
    arch::outb(0xa1, 40);
    arch::outb(0x21, 4);
    arch::outb(0xa1, 2);
    arch::outb(0x21, 1);
    arch::outb(0xa1, 1);
    arch::outb(0x21, 0xff);
    arch::outb(0xa1, 0xff);

    u64 base = arch::rdmsr(k_msr_apic_base);
    if (!(base & (1u << 11)))
        arch::wrmsr(k_msr_apic_base, base | (1u << 11));
    s_lapic = base & ~u64(0xfff);
    if (!map_mmio(s_lapic, k_page_size))
        return "cannot map the local APIC";
    lapic(k_lapic_svr) = 0x100 | k_vector_spurious;
    lapic(k_lapic_divide) = 0xb; // divide by 1
    lapic(k_lapic_lvt_timer) = k_vector_timer; // one-shot, unmasked
    lapic(k_lapic_initial_count) = 0;

    u32 a, b, c, d;
    arch::cpuid(1, 0, &a, &b, &c, &d);
    atoll_have_xsave = (c & (1u << 26)) && (c & (1u << 27)); // XSAVE and OSXSAVE

    for (u32 v = 32; v < 56; ++v)
        arch::set_interrupt_gate(v, irq_table[v - 32]);
    arch::set_interrupt_gate(k_vector_spurious, reinterpret_cast<u64>(&irq_spurious));
    s_handlers[k_vector_timer] = { timer_irq, nullptr };
    return nullptr;
}

bool register_irq(u32 vector, IrqHandler handler, void* context)
{
    if (vector < k_vector_first_device || vector > k_vector_last_device || s_handlers[vector].fn)
        return false;
    s_handlers[vector] = { handler, context };
    return true;
}

void timer_arm_ns(u64 ns)
{
    // The APIC bus runs at 1 GHz in QEMU and KVM: one count per ns. Longer waits are cut
    // into pieces; the scheduler re-arms at each interrupt.
    constexpr u64 k_max = 0xffffffffu;
    lapic(k_lapic_initial_count) = static_cast<u32>(ns == 0 ? 0 : (ns > k_max ? k_max : ns));
}

IrqState irq_save()
{
    u64 flags;
    asm volatile("pushfq; pop %0; cli" : "=r"(flags) : : "memory");
    return IrqState { flags };
}

void irq_restore(IrqState s)
{
    if (s.flags & (1u << 9))
        asm volatile("sti" : : : "memory");
}

bool irq_enabled()
{
    u64 flags;
    asm volatile("pushfq; pop %0" : "=r"(flags));
    return flags & (1u << 9);
}

void irq_enable() { asm volatile("sti" : : : "memory"); }

void idle_wait() { asm volatile("sti; hlt; cli" : : : "memory"); }

const InterruptStats& interrupt_stats() { return s_stats; }

} // namespace atl::kernel

extern "C" void atoll_irq(atl::u64 vector)
{
    using namespace atl::kernel;
    if (vector < 256 && s_handlers[vector].fn) {
        s_handlers[vector].fn(s_handlers[vector].context);
        return;
    }
    // Masked 8259 lines still raise spurious IRQ 7 / 15 (vectors 39 / 47): ignore those.
    ++s_stats.spurious;
}
