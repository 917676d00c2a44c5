// SPDX-License-Identifier: MIT
// Device discovery on a PC-like VM: virtio-mmio devices announced on the command line (as
// QEMU's microvm and Firecracker announce them), then every PCI function found by walking the
// buses from 0 through PCI-to-PCI bridges (there is no ACPI here yet; QEMU puts its devices
// on bus 0 unless bridges are added).

#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/platform.h>

#include <cstdlib>
#include <cstring>

namespace atl::platform {

namespace {

constexpr std::size_t k_max_mmio = 16;

// One `virtio_mmio.device` value (Linux's syntax: SIZE[K|M|G]@BASE:IRQ[:ID], numbers in C
// syntax).
bool parse_mmio_device(const char* text, DeviceInfo* out)
{
    char* end = nullptr;
    unsigned long long size = std::strtoull(text, &end, 0);
    if (end == text)
        return false;
    if (*end == 'K' || *end == 'k')
        size <<= 10, ++end;
    else if (*end == 'M' || *end == 'm')
        size <<= 20, ++end;
    else if (*end == 'G' || *end == 'g')
        size <<= 30, ++end;
    if (*end != '@')
        return false;
    const char* p = end + 1;
    unsigned long long base = std::strtoull(p, &end, 0);
    if (end == p || *end != ':')
        return false;
    p = end + 1;
    unsigned long long irq = std::strtoull(p, &end, 0);
    if (end == p || (*end != '\0' && *end != ':'))
        return false;
    if (size == 0 || size > (1ull << 32) || base == 0 || base + size < base || irq > 255)
        return false;
    *out = DeviceInfo {};
    out->bus = DeviceInfo::Bus::VirtioMmio;
    out->base = base;
    out->size = size;
    out->gsi = static_cast<u32>(irq);
    return true;
}

void walk_pci_bus(u8 bus, int depth, DeviceVisitor visit, void* context)
{
    for (u8 dev = 0; dev < 32; ++dev) {
        if (pci_config_read16(PciAddress { bus, dev, 0 }, 0) == 0xffff)
            continue;
        bool multi = pci_config_read8(PciAddress { bus, dev, 0 }, 0x0e) & 0x80;
        for (u8 fn_no = 0; fn_no < (multi ? 8 : 1); ++fn_no) {
            PciAddress a { bus, dev, fn_no };
            u16 vendor = pci_config_read16(a, 0);
            if (vendor == 0xffff)
                continue;
            u32 cls = pci_config_read32(a, 8);
            DeviceInfo d {};
            d.bus = DeviceInfo::Bus::Pci;
            d.pci = a;
            d.vendor = vendor;
            d.device_id = pci_config_read16(a, 2);
            d.class_code = static_cast<u8>(cls >> 24);
            d.subclass = static_cast<u8>(cls >> 16);
            visit(d, context);
            u8 secondary = pci_config_read8(a, 0x19);
            if (d.class_code == 0x06 && d.subclass == 0x04 && secondary > bus && depth < 8)
                walk_pci_bus(secondary, depth + 1, visit, context);
        }
    }
}

} // namespace

void discover_devices(const CommandLine& cmdline, DeviceVisitor visit, void* context)
{
    DeviceInfo mmio[k_max_mmio];
    std::size_t mmio_count = 0;
    for (std::size_t i = 0; i < cmdline.paramc; ++i) {
        if (std::strcmp(cmdline.params[i].key, "virtio_mmio.device") != 0)
            continue;
        if (mmio_count < k_max_mmio && parse_mmio_device(cmdline.params[i].value, &mmio[mmio_count]))
            ++mmio_count;
        else
            kernel::log("bad or too many virtio_mmio.device=%s: ignored", cmdline.params[i].value);
    }
    for (std::size_t i = 0; i < mmio_count; ++i)
        visit(mmio[i], context);
    // A machine with no host bridge at 00:00.0 (microvm) has no PCI: nothing is scanned.
    if (pci_config_read16(PciAddress { 0, 0, 0 }, 0) != 0xffff)
        walk_pci_bus(0, 0, visit, context);
}

} // namespace atl::platform
