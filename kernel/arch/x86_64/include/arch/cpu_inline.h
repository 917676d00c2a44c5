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

} // namespace atl::arch
