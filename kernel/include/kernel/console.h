// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/types.h>

namespace atl::kernel {

void console_init();
void console_write(const char* s, std::size_t n);

// Kernel messages: "atoll: " + text + newline, on the kernel log port when the VM has one
// (atoll run shows it on stderr), else on the console.
[[gnu::format(printf, 1, 2)]] void log(const char* fmt, ...);
// The kernel log port (QEMU's isa-debugcon at 0xe9) as a byte stream: the application's
// stderr goes there when it exists, so that `atoll run` separates it from stdout.
bool has_log_port();
void log_port_write(const char* s, std::size_t n); // the console when there is no log port
// Formatted text on the console itself: panics and crash reports, which must be seen
// wherever the console goes.
[[gnu::format(printf, 1, 2)]] void console_printf(const char* fmt, ...);

} // namespace atl::kernel
