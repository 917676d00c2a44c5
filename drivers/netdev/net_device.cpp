// SPDX-License-Identifier: MIT
// The network-device registry: drivers add their devices, the network stack (net/) attaches
// to each, and the state dump lists them.

#include <drivers/net_device.h>
#include <kernel/dump.h>

namespace atl::drivers {

namespace {
NetDevice* s_devices[8];
std::size_t s_device_count = 0;
} // namespace

void register_net_device(NetDevice* d)
{
    if (s_device_count < sizeof(s_devices) / sizeof(s_devices[0]))
        s_devices[s_device_count++] = d;
}
std::size_t net_device_count() { return s_device_count; }
NetDevice* net_device(std::size_t index) { return index < s_device_count ? s_devices[index] : nullptr; }

void dump_net_devices(kernel::DumpOutput& out)
{
    for (std::size_t i = 0; i < s_device_count; ++i)
        s_devices[i]->dump(out);
}

} // namespace atl::drivers
