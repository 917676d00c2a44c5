// SPDX-License-Identifier: MIT
#pragma once

// Drivers plug into the kernel's boot here. The drivers layer registers one explicit table of
// drivers (drivers/drivers.cpp, ATL_REGISTER(drivers, ...)); the kernel's "devices" boot
// phase asks the platform for every device it knows (platform::discover_devices) and gives
// each to the first driver in the table that matches it.

#include <kernel/cmdline.h>
#include <kernel/platform.h>
#include <kernel/registry.h>

namespace atl::kernel {

struct Driver {
    // Whether this driver handles the device (no side effects).
    bool (*match)(const platform::DeviceInfo& device);
    // Starts the device; logs what it found and what failed (a device that cannot start is
    // left alone: the boot goes on).
    void (*probe)(const platform::DeviceInfo& device);
};

struct DriverTable {
    const Driver* const* drivers;
    std::size_t count;
    // The command-line parameters (KEY of KEY=VALUE) the drivers read; nullptr-terminated.
    const char* const* params;
    // Before any device is probed: the drivers' parameters. May be null.
    void (*configure)(const CommandLine& cmdline);
    // After every device was probed (e.g. a state-dump section for the devices found). May be
    // null.
    void (*probed)();
};

ATL_REGISTRY(drivers, DriverTable)

// The boot phase: every discovered device to its driver. Runs on the main thread before the
// libOS starts (drivers may block and create threads).
void probe_devices(const CommandLine& cmdline);

} // namespace atl::kernel
