// SPDX-License-Identifier: MIT
#pragma once

// x86-64's definitions of the inline functions of kernel/arch/cpu.h.

namespace atl::arch {

inline u64 read_tsc()
{
    u32 lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64(hi) << 32) | lo;
}

// Never read or written: the per-CPU reads below name it as their memory input, so the compiler
// reuses a read only where it would reuse a load of an ordinary global (not across a call or a
// store, such as the scheduler's switch to another thread), and adds no instruction for it.
extern char g_cpu_local_anchor;

// GS.base points to the CPU's kernel::Cpu, whose first member is its own address.
inline void* cpu_local()
{
    void* cpu;
    asm("mov %%gs:0, %0" : "=r"(cpu) : "m"(g_cpu_local_anchor));
    return cpu;
}

template <unsigned Offset>
inline u64 cpu_local_word()
{
    u64 v;
    asm("mov %%gs:%c1, %0" : "=r"(v) : "i"(Offset), "m"(g_cpu_local_anchor));
    return v;
}

} // namespace atl::arch
