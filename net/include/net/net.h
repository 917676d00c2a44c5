// SPDX-License-Identifier: MIT
#pragma once

// The network stack (lwIP) on Atoll's network devices.

#include <kernel/types.h>

namespace atl::kernel {
class DumpOutput;
}

namespace atl::net {

struct Config {
    const char* ip = nullptr;      // "A.B.C.D/PREFIX" or "dhcp" (default)
    const char* gateway = nullptr; // "A.B.C.D"
    const char* dns = nullptr;     // "A.B.C.D"
    u32 dhcp_timeout_ms = 5000;
    bool start_without_devices = false; // without a card the stack starts at the first socket
};

struct NetInfo {
    bool stack_running = false;
    bool configured = false;
    bool dhcp = false;
    u32 address = 0, netmask = 0, gateway = 0; // network byte order
    char dns[16] = "";
};

// Starts lwIP's thread, brings up one interface per network device and configures the first.
// Runs on a scheduler thread (it waits for DHCP). Returns nullptr or an error.
[[nodiscard]] const char* net_init(const Config& config, NetInfo* info);
// Starts the stack (loopback only) if no card started it: the first socket() calls it.
[[nodiscard]] bool ensure_started();
void log_net_stats(); // one kernel log line per interface with its counters

// The stack's section of the state dump (kernel/dump.h), registered when the stack starts.
void register_net_dump();
// The counters of log_net_stats() as dump lines.
void dump_interface_counters(kernel::DumpOutput& out);

} // namespace atl::net
