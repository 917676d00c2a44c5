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

// GS.base points to the CPU's kernel::Cpu, whose first member is its own address. Not
// volatile: the value never changes on a CPU, so the compiler may reuse one read.
inline void* cpu_local()
{
    void* cpu;
    asm("mov %%gs:0, %0" : "=r"(cpu));
    return cpu;
}

template<unsigned Offset>
inline u64 cpu_local_word()
{
    u64 v;
    asm("mov %%gs:%c1, %0" : "=r"(v) : "i"(Offset));
    return v;
}

} // namespace atl::arch
