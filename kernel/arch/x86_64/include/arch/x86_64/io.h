// SPDX-License-Identifier: MIT
#pragma once

// x86-64 only: port I/O, model-specific registers, CPUID and control registers. For
// kernel/arch/x86_64/ and kernel/platform/ (tests/structure/hw_access.sh keeps them there).

#include <kernel/types.h>

namespace atl::arch {

void outb(u16 port, u8 v);
u8 inb(u16 port);
void outl(u16 port, u32 v);
u32 inl(u16 port);
u64 rdmsr(u32 msr);
void wrmsr(u32 msr, u64 v);
void cpuid(u32 leaf, u32 sub, u32* a, u32* b, u32* c, u32* d);
u64 read_cr2();
void set_interrupt_gate(u32 vector, u64 handler);

} // namespace atl::arch

namespace atl::arch {
u64 read_cr3();
void write_cr3(u64 root);
void invlpg(u64 addr);
void enable_write_protect(); // CR0.WP: ring 0 honours read-only pages
} // namespace atl::arch
