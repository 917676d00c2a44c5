// SPDX-License-Identifier: MIT
#pragma once

// The hardware seam: portable kernel code sees only these declarations; kernel/arch/x86_64/
// defines them.

#include <kernel/types.h>

namespace atl::arch {

struct InterruptFrame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error_code;
    u64 rip, cs, rflags, rsp, ss; // pushed by the CPU
};
// What the device and timer interrupt entry (isr.S, irq_common) saves: the same, without an
// error code.
struct IrqFrame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector;
    u64 rip, cs, rflags, rsp, ss;
};

void cpu_init();                    // final GDT with TSS and IST stacks, IDT
void set_interrupt_gate(u32 vector, u64 handler);
u64 read_cr3();
void write_cr3(u64 root);
void invlpg(u64 addr);
void enable_write_protect(); // CR0.WP: ring 0 honours read-only pages
// Inline: the clocks read it on every clock_gettime().
inline u64 read_tsc()
{
    u32 lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64(hi) << 32) | lo;
}
u64 read_cr2();
void set_fs_base(u64 base);
u64 fs_base();
u32 hwcap();                        // CPUID.1:EDX, for AT_HWCAP
bool random_u64(u64* out);          // RDRAND/RDSEED when the CPU has them
[[noreturn]] void halt_forever();
void pause();
// A full barrier (stores before it are visible before loads after it) that also holds against
// device emulation running on another host thread. Drivers use it in the virtio
// notification handshakes (virtio 1.2 §2.7.10, §2.7.13.4), which are store-then-load on both
// sides. Under QEMU's TCG with one vCPU the guest's own fences are translated to nothing
// (they only matter between vCPUs, and there is one), while QEMU's device code runs
// concurrently on its I/O thread: both sides can then miss each other and a queue stops for
// good. There the barrier is a port access, which QEMU serialises with a host lock.
void device_barrier();

// The TSC's frequency where the platform states it (CPUID 0x15, the hypervisor's frequency
// leaf, KVM's pvclock: kernel/arch/x86_64/tsc.cpp); hz 0 where it does not (QEMU's TCG). The
// uncertainty is how far off the stated value may be, in parts per 10^9.
struct TscFrequency {
    u64 hz;
    const char* source;
    u64 uncertainty_ppb;
};
TscFrequency platform_tsc_frequency();
// The host's wall clock where the hypervisor offers it (KVM): unix time in ns at the TSC
// reading *at_tsc.
bool platform_wall_clock(u64* unix_ns, u64* at_tsc);

void outb(u16 port, u8 v);
u8 inb(u16 port);
void outl(u16 port, u32 v);
u32 inl(u16 port);
u64 rdmsr(u32 msr);
void wrmsr(u32 msr, u64 v);
void cpuid(u32 leaf, u32 sub, u32* a, u32* b, u32* c, u32* d);

} // namespace atl::arch
