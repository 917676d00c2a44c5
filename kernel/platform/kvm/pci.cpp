// SPDX-License-Identifier: MIT
// PCI configuration space through the legacy I/O ports 0xcf8/0xcfc (configuration mechanism
// #1, which pc and q35 both have).

#include <kernel/platform.h>

#include <arch/x86_64/io.h>

namespace atl::platform {

namespace {

constexpr u16 k_config_address = 0xcf8;
constexpr u16 k_config_data = 0xcfc;

u32 address_of(PciAddress a, u8 offset)
{
    return 0x80000000u | (u32(a.bus) << 16) | (u32(a.device) << 11) | (u32(a.function) << 8) | (offset & 0xfc);
}

} // namespace

u32 pci_config_read32(PciAddress a, u8 offset)
{
    arch::outl(k_config_address, address_of(a, offset));
    return arch::inl(k_config_data);
}

void pci_config_write32(PciAddress a, u8 offset, u32 v)
{
    arch::outl(k_config_address, address_of(a, offset));
    arch::outl(k_config_data, v);
}

} // namespace atl::platform
