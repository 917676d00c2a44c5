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

void outb(u16 port, u8 v);
u8 inb(u16 port);
void outl(u16 port, u32 v);
u32 inl(u16 port);
u64 rdmsr(u32 msr);
void wrmsr(u32 msr, u64 v);
void cpuid(u32 leaf, u32 sub, u32* a, u32* b, u32* c, u32* d);

} // namespace atl::arch
