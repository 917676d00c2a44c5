// SPDX-License-Identifier: MIT
#pragma once

// PCI configuration space through the legacy I/O ports 0xcf8/0xcfc (pc and q35 both have
// them), bus enumeration, BARs and MSI-X. Devices are found by a scan of every bus number
// (there is no ACPI here yet; QEMU puts its devices on bus 0 unless bridges are added).

#include <kernel/types.h>

namespace atl::pci {

struct Address {
    u8 bus, device, function;
};

u32 read32(Address a, u8 offset);
u16 read16(Address a, u8 offset);
u8 read8(Address a, u8 offset);
void write32(Address a, u8 offset, u32 v);
void write16(Address a, u8 offset, u16 v);

struct Device {
    Address address;
    u16 vendor, device_id;
    u8 class_code, subclass;
};

// Calls fn for every function present, starting at bus 0 and following PCI-to-PCI bridges
// to their secondary buses. A machine with no host bridge at 00:00.0 (microvm) has no PCI:
// nothing is scanned. Returns the number of functions found.
template <typename F>
int for_each_device(F&& fn, u8 bus = 0, int depth = 0)
{
    if (bus == 0 && read16(Address { 0, 0, 0 }, 0) == 0xffff)
        return 0;
    int n = 0;
    for (u8 dev = 0; dev < 32; ++dev) {
        if (read16(Address { bus, dev, 0 }, 0) == 0xffff)
            continue;
        bool multi = read8(Address { bus, dev, 0 }, 0x0e) & 0x80;
        for (u8 fn_no = 0; fn_no < (multi ? 8 : 1); ++fn_no) {
            Address a { bus, dev, fn_no };
            u16 v = read16(a, 0);
            if (v == 0xffff)
                continue;
            u32 cls = read32(a, 8);
            Device d { a, v, read16(a, 2), static_cast<u8>(cls >> 24), static_cast<u8>(cls >> 16) };
            fn(d);
            ++n;
            u8 secondary = read8(a, 0x19);
            if (d.class_code == 0x06 && d.subclass == 0x04 && secondary > bus && depth < 8)
                n += for_each_device(fn, secondary, depth + 1);
        }
    }
    return n;
}

// Offset of the first capability with this id, or 0.
u8 find_capability(Address a, u8 id, u8 after = 0);
// Physical address of a memory BAR (32 or 64 bit), or 0 for an I/O or unassigned BAR.
u64 bar_address(Address a, u8 bar);
void enable_memory_and_bus_master(Address a);

// MSI-X (PCI 3.0 §6.8.2): points table entry `entry` at the local APIC with `vector`.
[[nodiscard]] bool msix_setup(Address a, u16 entry, u32 vector);
void msix_enable(Address a);

} // namespace atl::pci
