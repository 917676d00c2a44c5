// SPDX-License-Identifier: MIT
// The PC's interrupt controllers around the CPU's local APIC: the legacy 8259s (masked) and
// the I/O APIC that device lines arrive through.

#include <kernel/paging.h>
#include <kernel/platform.h>

#include <arch/x86_64/io.h>

namespace atl::platform {

namespace {
// The I/O APIC at its architectural default address (pc, q35 and microvm put it there;
// FIXME: take it from the ACPI MADT when there is one).
constexpr u64 k_ioapic = 0xfec00000;
// The local APIC's MSI address window (Intel SDM Vol. 3A §11.11.1): physical destination, CPU 0.
constexpr u64 k_msi_address = 0xfee00000;
} // namespace

void interrupt_controller_init()
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
}

bool route_gsi(u32 gsi, u32 vector, bool level_triggered)
{
    static bool mapped = false;
    if (!mapped) {
        if (!kernel::map_mmio(k_ioapic, k_page_size))
            return false;
        mapped = true;
    }
    auto* sel = reinterpret_cast<volatile u32*>(k_ioapic);
    auto* win = reinterpret_cast<volatile u32*>(k_ioapic + 0x10);
    *sel = 1;
    u32 entries = ((*win >> 16) & 0xff) + 1;
    if (gsi >= entries)
        return false;
    // Intel 82093AA §3.2.4: vector, fixed delivery, physical destination, active high,
    // edge or level, unmasked; destination APIC ID 0 in the high word.
    u32 low = vector | (level_triggered ? (1u << 15) : 0);
    *sel = 0x10 + 2 * gsi + 1;
    *win = 0;
    *sel = 0x10 + 2 * gsi;
    *win = low;
    return true;
}

// Fixed delivery, edge triggered.
MsiMessage msi_message(u32 vector) { return MsiMessage { k_msi_address, vector }; }

} // namespace atl::platform
