// SPDX-License-Identifier: MIT
// Modern virtio over PCI (virtio 1.2 §4.1): the common, notify, ISR and device
// configuration structures are found through vendor capabilities and mapped from BARs.
#include "transports.h"

#include <kernel/arch/cpu.h>
#include <kernel/console.h>
#include <kernel/heap.h>
#include <kernel/paging.h>
#include <pci/pci.h>

#include <cerrno>
#include <utility>

namespace atl::virtio {

namespace {

// §4.1.4.3 common configuration layout.
constexpr u32 k_device_feature_select = 0x00;
constexpr u32 k_device_feature = 0x04;
constexpr u32 k_driver_feature_select = 0x08;
constexpr u32 k_driver_feature = 0x0c;
constexpr u32 k_msix_config = 0x10;
constexpr u32 k_device_status = 0x14;
constexpr u32 k_queue_select = 0x16;
constexpr u32 k_queue_size = 0x18;
constexpr u32 k_queue_msix_vector = 0x1a;
constexpr u32 k_queue_enable = 0x1c;
constexpr u32 k_queue_notify_off = 0x1e;
constexpr u32 k_queue_desc = 0x20;
constexpr u32 k_queue_driver = 0x28;
constexpr u32 k_queue_device = 0x30;
constexpr u16 k_no_vector = 0xffff;

class PciTransport final : public Transport {
public:
    pci::Address address {};
    u32 type = 0;
    u64 common = 0, notify_base = 0, isr = 0, device = 0;
    u32 notify_multiplier = 0;
    bool msix = false;
    u32 vector = 0; // 0: none allocated

    volatile u8& c8(u32 off) { return *reinterpret_cast<volatile u8*>(common + off); }
    volatile u16& c16(u32 off) { return *reinterpret_cast<volatile u16*>(common + off); }
    volatile u32& c32(u32 off) { return *reinterpret_cast<volatile u32*>(common + off); }

    u32 device_type() const override { return type; }
    u64 device_features() override
    {
        c32(k_device_feature_select) = 0;
        u64 lo = c32(k_device_feature);
        c32(k_device_feature_select) = 1;
        u64 hi = c32(k_device_feature);
        return lo | (hi << 32);
    }
    void set_driver_features(u64 f) override
    {
        c32(k_driver_feature_select) = 0;
        c32(k_driver_feature) = static_cast<u32>(f);
        c32(k_driver_feature_select) = 1;
        c32(k_driver_feature) = static_cast<u32>(f >> 32);
    }
    u8 status() override { return c8(k_device_status); }
    void set_status(u8 s) override { c8(k_device_status) = s; }
    void reset() override
    {
        c8(k_device_status) = 0;
        // §4.1.4.3.2: the driver waits until the device reads back 0.
        for (int i = 0; i < 1000000 && c8(k_device_status) != 0; ++i)
            arch::pause();
    }
    u16 queue_max_size(u16 q) override
    {
        c16(k_queue_select) = q;
        return c16(k_queue_size);
    }
    Result<void> setup_queue(u16 q, u16 size, u64 desc, u64 driver, u64 dev) override
    {
        c16(k_queue_select) = q;
        c16(k_queue_size) = size;
        if (msix) {
            c16(k_queue_msix_vector) = 0; // every queue uses MSI-X entry 0
            if (c16(k_queue_msix_vector) != 0)
                return Error::from_errno(EIO); // the device could not take the vector
        }
        *reinterpret_cast<volatile u64*>(common + k_queue_desc) = desc;
        *reinterpret_cast<volatile u64*>(common + k_queue_driver) = driver;
        *reinterpret_cast<volatile u64*>(common + k_queue_device) = dev;
        m_notify_off[q < 8 ? q : 7] = c16(k_queue_notify_off);
        c16(k_queue_enable) = 1;
        return {};
    }
    void notify(u16 q) override
    {
        u64 addr = notify_base + u64(m_notify_off[q < 8 ? q : 7]) * notify_multiplier;
        *reinterpret_cast<volatile u16*>(addr) = q;
    }
    u8 config8(u32 off) override { return *reinterpret_cast<volatile u8*>(device + off); }
    u16 config16(u32 off) override { return *reinterpret_cast<volatile u16*>(device + off); }
    u32 config32(u32 off) override { return *reinterpret_cast<volatile u32*>(device + off); }
    Result<void> setup_interrupts(kernel::IrqHandler handler, void* context) override
    {
        u32 v = TRY(kernel::allocate_irq(handler, context));
        if (!pci::msix_setup(address, 0, v)) { // FIXME: INTx through the I/O APIC for devices without MSI-X
            kernel::unregister_irq(v);
            return Error::from_errno(ENODEV);
        }
        pci::msix_enable(address);
        c16(k_msix_config) = k_no_vector;
        msix = true;
        vector = v;
        return {};
    }
    void release_interrupts() override
    {
        // MSI-X stays enabled with its entry aimed at the freed vector; the device, reset, no
        // longer sends to it.
        if (vector)
            kernel::unregister_irq(std::exchange(vector, 0));
    }
    bool acknowledge_interrupt() override { return true; } // MSI-X: one vector, nothing to read
    const char* name() const override { return "virtio-pci"; }

private:
    u16 m_notify_off[8] {};
};

// Maps the region a virtio capability describes and returns its address, or 0.
u64 map_cap(pci::Address a, u8 cap, u32* length_out = nullptr)
{
    u8 bar = pci::read8(a, cap + 4);
    u32 offset = pci::read32(a, cap + 8);
    u32 length = pci::read32(a, cap + 12);
    u64 base = pci::bar_address(a, bar);
    if (!base || length == 0)
        return 0;
    if (!kernel::map_mmio(base + offset, length))
        return 0;
    if (length_out)
        *length_out = length;
    return base + offset;
}

} // namespace

Result<kernel::OwnPtr<Transport>> create_pci_transport(pci::Address a, u32 type)
{
    auto t = TRY(kernel::make_own<PciTransport>());
    t->address = a;
    t->type = type;
    pci::enable_memory_and_bus_master(a);
    // The device writes the list: one whose vendor capabilities point back at each other would
    // have this walk go round forever (find_capability bounds only its own walk), so it stops
    // after as many capabilities as configuration space holds.
    u8 cap = pci::find_capability(a, 0x09);
    for (int n = 0; cap && n < 48; ++n, cap = pci::find_capability(a, 0x09, cap)) {
        switch (pci::read8(a, cap + 3)) { // cfg_type
        case 1: if (!t->common) t->common = map_cap(a, cap); break;
        case 2:
            if (!t->notify_base) {
                t->notify_base = map_cap(a, cap);
                t->notify_multiplier = pci::read32(a, cap + 16);
            }
            break;
        case 3: if (!t->isr) t->isr = map_cap(a, cap); break;
        case 4: if (!t->device) t->device = map_cap(a, cap); break;
        default: break;
        }
    }
    if (!t->common || !t->notify_base || !t->device) {
        kernel::log("virtio-pci %02x:%02x.%x: missing configuration structures; skipped", a.bus, a.device, a.function);
        return Error::from_errno(ENODEV);
    }
    return kernel::OwnPtr<Transport>(std::move(t));
}

} // namespace atl::virtio
