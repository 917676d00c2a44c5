// SPDX-License-Identifier: MIT
// The TSC's frequency and the wall clock where the platform states them, so that nothing has to
// be measured at boot: CPUID leaf 0x15 (Intel SDM Vol. 2A, CPUID: TSC/crystal ratio), the
// hypervisor frequency leaf 0x40000010 (VMware's convention, which KVM and QEMU offer with
// invtsc), and KVM's pvclock (Documentation/virt/kvm/x86/msr.rst: MSR_KVM_SYSTEM_TIME_NEW,
// MSR_KVM_WALL_CLOCK_NEW). QEMU's TCG offers none of them: there the kernel measures.
#include <kernel/arch/cpu.h>
#include <kernel/arch/frame.h>
#include <kernel/arch/io.h>
#include <kernel/arch/mmu.h>
#include <kernel/arch/context.h>
#include <kernel/arch/timer.h>

#include <arch/x86_64/io.h>
#include <kernel/clock_discipline.h>
#include <kernel/paging.h>

#include <cstddef>
#include <cstring>

namespace atl::arch {

namespace {

constexpr u32 k_msr_kvm_wall_clock_new = 0x4b564d00;
constexpr u32 k_msr_kvm_system_time_new = 0x4b564d01;
constexpr u32 k_kvm_feature_clocksource2 = 1u << 3;

// pvclock_vcpu_time_info and pvclock_wall_clock (include/xen/interface/xen.h's layout, which
// KVM shares). The hypervisor writes them; a version that is odd, or changes while we read,
// means an update is in progress.
struct alignas(64) PvclockTime {
    u32 version;
    u32 pad0;
    u64 tsc_timestamp;
    u64 system_time;
    u32 tsc_to_system_mul;
    signed char tsc_shift;
    u8 flags;
    u8 pad[2];
};
struct alignas(16) PvclockWall {
    u32 version;
    u32 sec;
    u32 nsec;
};
static_assert(sizeof(PvclockTime) == 64 && offsetof(PvclockTime, tsc_to_system_mul) == 24);

PvclockTime s_pvclock;
PvclockWall s_pvwall;
bool s_pvclock_on = false;

void barrier() { asm volatile("" : : : "memory"); }

// The hypervisor's CPUID leaves, asked once: CPUID is slow to emulate (tens of microseconds
// under TCG), and boot asks for the frequency and the wall clock separately.
struct Hypervisor {
    bool present;
    u32 max_leaf;
    char signature[13];
    bool kvm_clocksource2;
};

const Hypervisor& hypervisor()
{
    static Hypervisor s_hv {};
    static bool s_known = false;
    if (s_known)
        return s_hv;
    s_known = true;
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    s_hv.present = c & (1u << 31);
    if (!s_hv.present)
        return s_hv;
    cpuid(0x40000000, 0, &a, &b, &c, &d);
    s_hv.max_leaf = a;
    std::memcpy(s_hv.signature, &b, 4);
    std::memcpy(s_hv.signature + 4, &c, 4);
    std::memcpy(s_hv.signature + 8, &d, 4);
    s_hv.signature[12] = '\0';
    if (std::strcmp(s_hv.signature, "KVMKVMKVM") == 0 && a >= 0x40000001) {
        cpuid(0x40000001, 0, &a, &b, &c, &d);
        s_hv.kvm_clocksource2 = a & k_kvm_feature_clocksource2;
    }
    return s_hv;
}

bool kvm_clocksource2() { return hypervisor().kvm_clocksource2; }

bool enable_pvclock()
{
    if (s_pvclock_on)
        return true;
    if (!kvm_clocksource2())
        return false;
    u64 phys = 0;
    if (!kernel::virtual_to_physical(reinterpret_cast<u64>(&s_pvclock), &phys))
        return false;
    wrmsr(k_msr_kvm_system_time_new, phys | 1);
    s_pvclock_on = true;
    return true;
}

// One consistent copy of the hypervisor's time parameters.
PvclockTime read_pvclock()
{
    PvclockTime t;
    for (;;) {
        u32 v = *static_cast<volatile u32*>(&s_pvclock.version);
        barrier();
        std::memcpy(&t, const_cast<const PvclockTime*>(&s_pvclock), sizeof(t));
        barrier();
        if (!(v & 1) && v == *static_cast<volatile u32*>(&s_pvclock.version))
            return t;
        pause();
    }
}

u64 pvclock_ns(const PvclockTime& t, u64 tsc)
{
    u64 delta = tsc - t.tsc_timestamp;
    if (t.tsc_shift >= 0)
        delta <<= t.tsc_shift;
    else
        delta >>= -t.tsc_shift;
    return t.system_time + static_cast<u64>((static_cast<unsigned __int128>(delta) * t.tsc_to_system_mul) >> 32);
}

} // namespace

TscFrequency platform_tsc_frequency()
{
    u32 a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    if (a >= 0x15) {
        cpuid(0x15, 0, &a, &b, &c, &d); // TSC = crystal (ecx Hz) * ebx / eax
        if (a && b && c)
            return TscFrequency { static_cast<u64>(c) * b / a, "CPUID leaf 0x15", 0 };
    }
    if (hypervisor().present) {
        if (hypervisor().max_leaf >= 0x40000010) {
            u32 khz = 0;
            cpuid(0x40000010, 0, &khz, &b, &c, &d);
            if (khz >= 100000 && khz <= 20000000) // 100 MHz to 20 GHz, else not this leaf's meaning
                return TscFrequency { static_cast<u64>(khz) * 1000, "hypervisor CPUID leaf 0x40000010", 500 };
        }
    }
    if (enable_pvclock()) {
        PvclockTime t = read_pvclock();
        if (u64 hz = kernel::pvclock_tsc_hz(t.tsc_to_system_mul, t.tsc_shift))
            return TscFrequency { hz, "KVM pvclock", 1 }; // the scale's own rounding: ~10^-9
    }
    return TscFrequency { 0, nullptr, 0 };
}

bool platform_wall_clock(u64* unix_ns, u64* at_tsc)
{
    if (!enable_pvclock())
        return false;
    u64 phys = 0;
    if (!kernel::virtual_to_physical(reinterpret_cast<u64>(&s_pvwall), &phys))
        return false;
    wrmsr(k_msr_kvm_wall_clock_new, phys);
    PvclockWall w;
    for (;;) {
        u32 v = *static_cast<volatile u32*>(&s_pvwall.version);
        barrier();
        w = *const_cast<const PvclockWall*>(&s_pvwall);
        barrier();
        if (!(v & 1) && v == *static_cast<volatile u32*>(&s_pvwall.version))
            break;
        pause();
    }
    if (w.version == 0 && w.sec == 0)
        return false; // never written: not KVM after all
    // The wall clock is the host's time when the guest's system time was 0.
    u64 tsc = read_tsc();
    *unix_ns = static_cast<u64>(w.sec) * 1000000000 + w.nsec + pvclock_ns(read_pvclock(), tsc);
    *at_tsc = tsc;
    return true;
}

} // namespace atl::arch
