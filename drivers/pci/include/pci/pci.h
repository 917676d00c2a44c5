// SPDX-License-Identifier: MIT
#pragma once

// What drivers of PCI devices share: configuration-space access in every width (through the
// platform's access method, kernel/platform.h), capabilities, BARs and MSI-X. The platform
// finds the devices (platform::discover_devices).

#include <kernel/platform.h>
#include <kernel/types.h>

namespace atl::pci {

using Address = platform::PciAddress;

u32 read32(Address a, u8 offset);
u16 read16(Address a, u8 offset);
u8 read8(Address a, u8 offset);
void write32(Address a, u8 offset, u32 v);
void write16(Address a, u8 offset, u16 v);

// Offset of the first capability with this id, or 0.
u8 find_capability(Address a, u8 id, u8 after = 0);
// Physical address of a memory BAR (32 or 64 bit), or 0 for an I/O or unassigned BAR.
u64 bar_address(Address a, u8 bar);
void enable_memory_and_bus_master(Address a);

// MSI-X (PCI 3.0 §6.8.2): points table entry `entry` at the local APIC with `vector`.
[[nodiscard]] bool msix_setup(Address a, u16 entry, u32 vector);
void msix_enable(Address a);

} // namespace atl::pci
