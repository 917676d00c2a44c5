// SPDX-License-Identifier: MIT
// Feature negotiation, device discovery and the table of virtio device drivers.
#include "devices.h"
#include "transports.h"

#include <drivers/net_device.h>
#include <kernel/console.h>
#include <kernel/dump.h>
#include <pci/pci.h>

#include <cstdlib>
#include <cstring>

namespace atl::virtio {

u64 negotiate(Transport& t, u64 wanted, u64 required)
{
    t.reset();
    t.set_status(k_status_acknowledge);
    t.set_status(k_status_acknowledge | k_status_driver);
    u64 offered = t.device_features();
    if ((offered & required) != required) {
        t.set_status(k_status_failed);
        return 0;
    }
    u64 accepted = offered & (wanted | required);
    t.set_driver_features(accepted);
    t.set_status(k_status_acknowledge | k_status_driver | k_status_features_ok);
    // §3.1.1 step 6: the device may refuse the subset.
    if (!(t.status() & k_status_features_ok)) {
        t.set_status(k_status_failed);
        return 0;
    }
    return accepted;
}

bool parse_mmio_device(const char* text, MmioDevice* out)
{
    // SIZE[K|M|G]@BASE:IRQ[:ID], numbers in C syntax (0x..).
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
    *out = MmioDevice { base, size, static_cast<u32>(irq) };
    return true;
}

void dump_virtqueue(kernel::DumpOutput& out, const char* name, const Virtqueue::Snapshot& s)
{
    // In flight: chains the device owns. Published but unused: avail idx - used idx. Unread
    // completions: used idx - last used.
    out.printf("  %s: size %u, free %u, avail idx %u (next %u, notified at %u), used idx %u, last used %u, "
               "%u unread, interrupts %s",
        name, s.size, s.num_free, s.avail_idx, s.next_avail, s.notified_idx, s.used_idx, s.last_used,
        static_cast<unsigned>(static_cast<u16>(s.used_idx - s.last_used)), s.interrupts_enabled ? "enabled" : "suppressed");
    if (s.event_idx)
        out.printf(", used_event %u, avail_event %u", s.used_event, s.avail_event);
    else
        out.printf(", avail flags 0x%x, used flags 0x%x", s.avail_flags, s.used_flags);
    out.printf("; %llu completed, %llu full, %llu bad\n", static_cast<unsigned long long>(s.stats.completed),
        static_cast<unsigned long long>(s.stats.full),
        static_cast<unsigned long long>(s.stats.bad_id + s.stats.bad_len + s.stats.not_in_flight));
}

namespace {

void dump_net_devices(kernel::DumpOutput& out)
{
    for (std::size_t i = 0; i < drivers::net_device_count(); ++i)
        drivers::net_device(i)->dump(out);
}

// The drivers, by virtio device type (§5).
struct DriverEntry {
    u32 type;
    const char* name;
    bool (*start)(Transport* t);
};
const DriverEntry k_drivers[] = {
    { 1, "net", start_net },
    { 4, "rng", start_rng },
};

void start(Transport* t)
{
    for (const DriverEntry& d : k_drivers) {
        if (d.type == t->device_type()) {
            if (!d.start(t))
                kernel::log("virtio: the %s driver could not start a device on %s", d.name, t->name());
            return;
        }
    }
    kernel::log("virtio: no driver for device type %u on %s (ignored)", t->device_type(), t->name());
}

} // namespace

void probe_devices(const MmioDevice* mmio, std::size_t mmio_count)
{
    for (std::size_t i = 0; i < mmio_count; ++i) {
        if (Transport* t = create_mmio_transport(mmio[i]))
            start(t);
    }
    // Modern virtio PCI devices: vendor 0x1af4, device 0x1040 + type (§4.1.2).
    pci::for_each_device([](const pci::Device& d) {
        if (d.vendor != 0x1af4)
            return;
        if (d.device_id < 0x1040 || d.device_id > 0x107f) {
            if (d.device_id >= 0x1000 && d.device_id <= 0x103f)
                kernel::log("virtio-pci %02x:%02x.%x is a legacy device; run QEMU with disable-legacy=on",
                    d.address.bus, d.address.device, d.address.function);
            return;
        }
        if (Transport* t = create_pci_transport(d.address, d.device_id - 0x1040u))
            start(t);
    });
    if (drivers::net_device_count())
        (void)kernel::register_dump_section("network devices", dump_net_devices);
}

} // namespace atl::virtio
