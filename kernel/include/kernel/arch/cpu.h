// SPDX-License-Identifier: MIT
#pragma once

// The CPU, as portable code sees it: declarations only, defined by kernel/arch/<arch>/.

#include <kernel/types.h>

namespace atl::arch {

void cpu_init(); // the CPU's own tables (x86-64: final GDT with TSS and IST stacks, IDT)
[[noreturn]] void halt_forever();
void pause(); // a spin-wait hint
// The CPU's cycle counter (x86-64: the TSC), read on every clock_gettime(): inline.
inline u64 read_tsc();
// The thread pointer register that TLS is addressed from (x86-64: FS.base).
void set_fs_base(u64 base);
u64 fs_base();
// The running CPU's own state (kernel::Cpu, kernel/sched.h), reached through a register that
// each CPU holds its own value in and that nothing else uses (x86-64: GS.base; FS.base stays
// the thread's TLS, and musl does not use GS). The structure's first member points to itself,
// which is what cpu_local() reads; cpu_local_word<OFFSET>() reads one word of it in one
// instruction. Inline: current() goes through it on every system call.
void set_cpu_local(void* cpu);
inline void* cpu_local();
template <unsigned Offset>
inline u64 cpu_local_word();
u32 hwcap();                // the auxiliary vector's AT_HWCAP
bool random_u64(u64* out); // from the CPU's own random number instruction, when it has one
// What /proc/cpuinfo shows: vendor, model name, family/model/stepping and feature flags.
struct CpuDescription {
    char vendor[13];
    char model_name[49];
    unsigned family, model, stepping;
    char flags[512]; // space-separated, Linux's names
};
void describe_cpu(CpuDescription* out);

// The cycle counter's frequency where the platform states it (x86-64: CPUID 0x15, the
// hypervisor's frequency leaf, KVM's pvclock: kernel/arch/x86_64/tsc.cpp); hz 0 where it does
// not (QEMU's TCG). The uncertainty is how far off the stated value may be, in parts per 10^9.
struct TscFrequency {
    u64 hz;
    const char* source;
    u64 uncertainty_ppb;
};
TscFrequency platform_tsc_frequency();
// The host's wall clock where the hypervisor offers it (KVM): unix time in ns at the cycle
// counter's reading *at_tsc.
bool platform_wall_clock(u64* unix_ns, u64* at_tsc);

} // namespace atl::arch

#include <arch/cpu_inline.h>
