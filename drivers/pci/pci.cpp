// SPDX-License-Identifier: MIT
#include <pci/pci.h>

#include <kernel/paging.h>

namespace atl::pci {

u32 read32(Address a, u8 offset) { return platform::pci_config_read32(a, offset); }
u16 read16(Address a, u8 offset) { return platform::pci_config_read16(a, offset); }
u8 read8(Address a, u8 offset) { return platform::pci_config_read8(a, offset); }

void write32(Address a, u8 offset, u32 v) { platform::pci_config_write32(a, offset, v); }

void write16(Address a, u8 offset, u16 v)
{
    u32 old = read32(a, offset);
    unsigned shift = (offset & 2) * 8;
    write32(a, offset, (old & ~(0xffffu << shift)) | (u32(v) << shift));
}

u8 find_capability(Address a, u8 id, u8 after)
{
    if (!(read16(a, 0x06) & (1u << 4))) // status: capabilities list
        return 0;
    u8 ptr = after ? read8(a, after + 1) : read8(a, 0x34);
    for (int guard = 0; ptr >= 0x40 && guard < 48; ++guard) { // a looping list is not followed forever
        if (read8(a, ptr) == id)
            return ptr;
        ptr = read8(a, ptr + 1);
    }
    return 0;
}

u64 bar_address(Address a, u8 bar)
{
    if (bar > 5)
        return 0;
    u32 lo = read32(a, static_cast<u8>(0x10 + 4 * bar));
    if (lo & 1)
        return 0; // I/O space
    u64 addr = lo & ~u32(0xf);
    if (((lo >> 1) & 3) == 2 && bar < 5)
        addr |= u64(read32(a, static_cast<u8>(0x14 + 4 * bar))) << 32;
    return addr;
}

void enable_memory_and_bus_master(Address a)
{
    u16 cmd = read16(a, 0x04);
    write16(a, 0x04, static_cast<u16>(cmd | (1u << 1) | (1u << 2))); // memory space, bus master
}

bool msix_setup(Address a, u16 entry, u32 vector)
{
    u8 cap = find_capability(a, 0x11);
    if (!cap)
        return false;
    u16 control = read16(a, cap + 2);
    u16 table_size = (control & 0x7ff) + 1;
    if (entry >= table_size)
        return false;
    u32 table = read32(a, cap + 4);
    u64 base = bar_address(a, static_cast<u8>(table & 7));
    if (!base)
        return false;
    u64 entry_addr = base + (table & ~u32(7)) + u64(entry) * 16;
    if (!kernel::map_mmio(align_down(entry_addr, k_page_size), k_page_size))
        return false;
    auto* e = reinterpret_cast<volatile u32*>(entry_addr);
    platform::MsiMessage m = platform::msi_message(vector);
    e[0] = static_cast<u32>(m.address);
    e[1] = static_cast<u32>(m.address >> 32);
    e[2] = m.data;
    e[3] = 0; // unmasked
    return true;
}

void msix_enable(Address a)
{
    u8 cap = find_capability(a, 0x11);
    if (!cap)
        return;
    u16 control = read16(a, cap + 2);
    control = static_cast<u16>((control | (1u << 15)) & ~(1u << 14)); // enable, no function mask
    write16(a, cap + 2, control);
}

} // namespace atl::pci
