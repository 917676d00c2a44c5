// SPDX-License-Identifier: MIT
// Feature negotiation, the virtio transports' drivers (virtio-mmio, virtio-pci) and the table
// of virtio device drivers they start.
#include "devices.h"
#include "transports.h"

#include <kernel/console.h>
#include <kernel/dump.h>
#include <kernel/devices.h>

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

// The drivers, by virtio device type (§5).
struct DriverEntry {
    u32 type;
    const char* name;
    Result<void> (*start)(kernel::OwnPtr<Transport> t);
};
const DriverEntry k_drivers[] = {
    { 1, "net", start_net },
    { 4, "rng", start_rng },
};

// A transport no driver takes (or whose driver fails) goes back to the heap here.
void start(kernel::OwnPtr<Transport> t)
{
    for (const DriverEntry& d : k_drivers) {
        if (d.type == t->device_type()) {
            if (Result<void> r = d.start(std::move(t)); !r)
                kernel::log("virtio: the %s driver could not start a device (errno %d)", d.name, r.error().code());
            return;
        }
    }
    kernel::log("virtio: no driver for device type %u on %s (ignored)", t->device_type(), t->name());
}

bool match_mmio(const platform::DeviceInfo& d) { return d.bus == platform::DeviceInfo::Bus::VirtioMmio; }

void probe_mmio(const platform::DeviceInfo& d)
{
    if (auto t = create_mmio_transport(MmioDevice { d.base, d.size, d.gsi }))
        start(std::move(*t));
}

// Virtio PCI devices: vendor 0x1af4; modern ones are device 0x1040 + type (§4.1.2), legacy
// and transitional ones 0x1000-0x103f.
bool match_pci(const platform::DeviceInfo& d)
{
    return d.bus == platform::DeviceInfo::Bus::Pci && d.vendor == 0x1af4 && d.device_id >= 0x1000 && d.device_id <= 0x107f;
}

void probe_pci(const platform::DeviceInfo& d)
{
    if (d.device_id < 0x1040) {
        kernel::log("virtio-pci %02x:%02x.%x is a legacy device; run QEMU with disable-legacy=on", d.pci.bus,
            d.pci.device, d.pci.function);
        return;
    }
    if (auto t = create_pci_transport(d.pci, d.device_id - 0x1040u))
        start(std::move(*t));
}

} // namespace

const kernel::Driver mmio_driver = { match_mmio, probe_mmio };
const kernel::Driver pci_driver = { match_pci, probe_pci };

} // namespace atl::virtio
