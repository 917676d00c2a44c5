// SPDX-License-Identifier: MIT
// The drivers' table: every driver the kernel offers devices to, in order, registered with
// the kernel's boot (kernel/devices.h). One explicit list: a new driver is a line here.

#include <drivers/net_device.h>
#include <kernel/console.h>
#include <kernel/devices.h>
#include <kernel/dump.h>
#include <virtio/transport.h>

#include <cstdlib>

namespace atl::drivers {

namespace {

constexpr const kernel::Driver* k_drivers[] = {
    &virtio::mmio_driver,
    &virtio::pci_driver,
};

constexpr const char* k_params[] = { "virtio_net.lose_notify", nullptr };

void configure(const CommandLine& cmdline)
{
    if (const char* every = cmdline.param("virtio_net.lose_notify")) {
        char* end = nullptr;
        unsigned long n = std::strtoul(every, &end, 10);
        if (*every && *end == '\0' && n > 0 && n < 1000000u)
            virtio::set_net_lose_notify(static_cast<unsigned>(n));
        else
            kernel::log("virtio_net.lose_notify=%s: want a count from 1 to 999999; ignored", every);
    }
}

void probed()
{
    if (net_device_count())
        (void)kernel::register_dump_section("network devices", dump_net_devices);
}

} // namespace

// Named (not static): the image's link asks for it by name (-u atoll_drivers), so the drivers
// are in every image.
extern "C" const kernel::DriverTable atoll_drivers = { k_drivers, sizeof(k_drivers) / sizeof(k_drivers[0]), k_params,
    configure, probed };
ATL_REGISTER(drivers, kernel::DriverTable, atoll_drivers);

} // namespace atl::drivers
