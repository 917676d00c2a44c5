// SPDX-License-Identifier: MIT
#pragma once

// A virtio device's transport (virtio 1.2 §4): modern PCI (§4.1) or MMIO version 2 (§4.2).
// Device drivers see only this interface; the virtqueue is separate (virtqueue.h).

#include <kernel/devices.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/own.h>
#include <kernel/result.h>
#include <kernel/types.h>

namespace atl::virtio {

// Device status bits (§2.1).
constexpr u8 k_status_acknowledge = 1;
constexpr u8 k_status_driver = 2;
constexpr u8 k_status_driver_ok = 4;
constexpr u8 k_status_features_ok = 8;
constexpr u8 k_status_failed = 128;

constexpr u64 k_feature_version_1 = u64(1) << 32;
constexpr u64 k_feature_event_idx = u64(1) << 29;

// Made by the transports' factories (transports.h) and owned by the device driver that runs
// the device (an OwnPtr<Transport>), or freed when no driver takes it.
class Transport {
public:
    virtual ~Transport() = default;
    // The deleting destructor that a virtual destructor brings calls this rather than the C++
    // runtime's operator delete (which no image links): transports live on the kernel heap.
    static void operator delete(void* p) { kernel::kfree(p); }

    virtual u32 device_type() const = 0;
    virtual u64 device_features() = 0;
    virtual void set_driver_features(u64 features) = 0;
    virtual u8 status() = 0;
    virtual void set_status(u8 status) = 0;
    virtual void reset() = 0;
    virtual u16 queue_max_size(u16 queue) = 0;
    // Programs and enables a queue whose rings are at the given physical addresses. EBUSY when
    // the queue is in use, EIO when the device refuses its settings.
    virtual Result<void> setup_queue(u16 queue, u16 size, u64 desc, u64 driver, u64 device) = 0;
    virtual void notify(u16 queue) = 0;
    virtual u8 config8(u32 offset) = 0;
    virtual u16 config16(u32 offset) = 0;
    virtual u32 config32(u32 offset) = 0;
    // Delivers the device's interrupts to handler(context). MSI-X or an I/O APIC line. On an
    // error nothing stays allocated.
    virtual Result<void> setup_interrupts(kernel::IrqHandler handler, void* context) = 0;
    // Undoes setup_interrupts (nothing when it did not succeed): the vector is free again.
    // Reset the device first, so it raises no more interrupts.
    virtual void release_interrupts() = 0;
    // In the handler: acknowledges the device's interrupt; false when it was not this
    // device's (a shared line).
    virtual bool acknowledge_interrupt() = 0;
    virtual const char* name() const = 0;

};

// The initialisation of §3.1.1 up to FEATURES_OK: reset, ACKNOWLEDGE, DRIVER, negotiate.
// Returns the accepted features, or 0 with FAILED set when `required` is not offered.
u64 negotiate(Transport& t, u64 wanted, u64 required);

// A virtio-mmio device as the platform announced it (`virtio_mmio.device=SIZE@BASE:GSI` on the
// command line, as QEMU's microvm and Firecracker announce them).
struct MmioDevice {
    u64 base;
    u64 size;
    u32 gsi;
};

// The transports' drivers (drivers/drivers.cpp lists them): each starts the virtio device
// driver (net, rng) for the device type it finds, and logs what it found.
extern const kernel::Driver mmio_driver;
extern const kernel::Driver pci_driver;

// Fault injection for tests (kernel parameter virtio_net.lose_notify=N): every Nth transmit
// notification virtio-net decides to send is left out, as if the device had missed it (the
// lost handshake of kernel/DESIGN.md, "Barriers against emulated devices"). The driver has to
// recover on its own; tests/net/lostnotify.sh checks that it does. 0 (the default): off.
void set_net_lose_notify(unsigned every);

} // namespace atl::virtio
