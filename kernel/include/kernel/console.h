// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/platform.h>
#include <kernel/types.h>

namespace atl::kernel {

// The console device is the platform's (kernel/platform.h).
using platform::console_init;
using platform::console_write;
using platform::has_log_port;
using platform::log_port_write;

// Kernel messages: "atoll: " + text + newline, on the kernel log port when the VM has one
// (atoll run shows it on stderr), else on the console.
[[gnu::format(printf, 1, 2)]] void log(const char* fmt, ...);
// has_log_port(), log_port_write(): the kernel log port (QEMU's isa-debugcon at 0xe9) as a
// byte stream: the application's stderr goes there when it exists, so that `atoll run`
// separates it from stdout (the console when there is no log port).
// Formatted text on the console itself: panics and crash reports, which must be seen
// wherever the console goes.
[[gnu::format(printf, 1, 2)]] void console_printf(const char* fmt, ...);

} // namespace atl::kernel
