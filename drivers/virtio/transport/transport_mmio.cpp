// SPDX-License-Identifier: MIT
// virtio over MMIO, version 2 (virtio 1.2 §4.2): QEMU's microvm and Firecracker. Devices are
// announced on the kernel command line, not probed at guessed addresses.
#include "transports.h"

#include <kernel/console.h>
#include <kernel/heap.h>
#include <kernel/paging.h>

#include <cerrno>
#include <utility>

namespace atl::virtio {

namespace {

// §4.2.2 register layout.
constexpr u32 k_magic = 0x000;
constexpr u32 k_version = 0x004;
constexpr u32 k_device_id = 0x008;
constexpr u32 k_device_features = 0x010;
constexpr u32 k_device_features_sel = 0x014;
constexpr u32 k_driver_features = 0x020;
constexpr u32 k_driver_features_sel = 0x024;
constexpr u32 k_queue_sel = 0x030;
constexpr u32 k_queue_num_max = 0x034;
constexpr u32 k_queue_num = 0x038;
constexpr u32 k_queue_ready = 0x044;
constexpr u32 k_queue_notify = 0x050;
constexpr u32 k_interrupt_status = 0x060;
constexpr u32 k_interrupt_ack = 0x064;
constexpr u32 k_status = 0x070;
constexpr u32 k_queue_desc_low = 0x080;
constexpr u32 k_queue_driver_low = 0x090;
constexpr u32 k_queue_device_low = 0x0a0;
constexpr u32 k_config = 0x100;

class MmioTransport final : public Transport {
public:
    u64 base = 0;
    u32 gsi = 0;
    u32 type = 0;
    u32 vector = 0; // 0: none allocated

    volatile u32& reg(u32 off) { return *reinterpret_cast<volatile u32*>(base + off); }

    u32 device_type() const override { return type; }
    u64 device_features() override
    {
        reg(k_device_features_sel) = 0;
        u64 lo = reg(k_device_features);
        reg(k_device_features_sel) = 1;
        u64 hi = reg(k_device_features);
        return lo | (hi << 32);
    }
    void set_driver_features(u64 f) override
    {
        reg(k_driver_features_sel) = 0;
        reg(k_driver_features) = static_cast<u32>(f);
        reg(k_driver_features_sel) = 1;
        reg(k_driver_features) = static_cast<u32>(f >> 32);
    }
    u8 status() override { return static_cast<u8>(reg(k_status)); }
    void set_status(u8 s) override { reg(k_status) = s; }
    void reset() override { reg(k_status) = 0; }
    u16 queue_max_size(u16 q) override
    {
        reg(k_queue_sel) = q;
        return static_cast<u16>(reg(k_queue_num_max));
    }
    Result<void> setup_queue(u16 q, u16 size, u64 desc, u64 driver, u64 dev) override
    {
        reg(k_queue_sel) = q;
        if (reg(k_queue_ready))
            return Error::from_errno(EBUSY); // already in use
        reg(k_queue_num) = size;
        reg(k_queue_desc_low) = static_cast<u32>(desc);
        reg(k_queue_desc_low + 4) = static_cast<u32>(desc >> 32);
        reg(k_queue_driver_low) = static_cast<u32>(driver);
        reg(k_queue_driver_low + 4) = static_cast<u32>(driver >> 32);
        reg(k_queue_device_low) = static_cast<u32>(dev);
        reg(k_queue_device_low + 4) = static_cast<u32>(dev >> 32);
        reg(k_queue_ready) = 1;
        return {};
    }
    void notify(u16 q) override { reg(k_queue_notify) = q; }
    u8 config8(u32 off) override { return *reinterpret_cast<volatile u8*>(base + k_config + off); }
    u16 config16(u32 off) override { return *reinterpret_cast<volatile u16*>(base + k_config + off); }
    u32 config32(u32 off) override { return reg(k_config + off); }
    Result<void> setup_interrupts(kernel::IrqHandler handler, void* context) override
    {
        u32 v = TRY(kernel::allocate_irq(handler, context));
        // QEMU raises a virtio-mmio interrupt as a level until it is acknowledged.
        if (!platform::route_gsi(gsi, v, true)) {
            kernel::unregister_irq(v);
            return Error::from_errno(ENODEV);
        }
        vector = v;
        return {};
    }
    void release_interrupts() override
    {
        // FIXME: the I/O APIC line stays routed to the freed vector; the device, reset, no
        // longer raises it.
        if (vector)
            kernel::unregister_irq(std::exchange(vector, 0));
    }
    bool acknowledge_interrupt() override
    {
        u32 s = reg(k_interrupt_status);
        if (s)
            reg(k_interrupt_ack) = s;
        return s != 0;
    }
    const char* name() const override { return "virtio-mmio"; }
};

} // namespace

Result<kernel::OwnPtr<Transport>> create_mmio_transport(const MmioDevice& d)
{
    if (d.size < 0x200 || !kernel::map_mmio(d.base, d.size))
        return Error::from_errno(ENODEV);
    auto t = TRY(kernel::make_own<MmioTransport>());
    t->base = d.base;
    t->gsi = d.gsi;
    if (t->reg(k_magic) != 0x74726976) { // "virt"
        kernel::log("virtio-mmio at 0x%llx: bad magic; skipped", static_cast<unsigned long long>(d.base));
        return Error::from_errno(ENODEV);
    }
    if (t->reg(k_version) != 2) {
        kernel::log("virtio-mmio at 0x%llx: version %u (legacy) is not supported; run QEMU with "
                    "-global virtio-mmio.force-legacy=false", static_cast<unsigned long long>(d.base), t->reg(k_version));
        return Error::from_errno(ENODEV);
    }
    t->type = t->reg(k_device_id);
    if (t->type == 0) // an empty slot
        return Error::from_errno(ENODEV);
    return kernel::OwnPtr<Transport>(std::move(t));
}

} // namespace atl::virtio
