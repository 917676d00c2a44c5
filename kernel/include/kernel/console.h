// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/types.h>

namespace atl::kernel {

void console_init();
void console_write(const char* s, std::size_t n);

// Kernel messages: "atoll: " + text + newline, on the kernel log port when the VM has one
// (atoll run shows it on stderr), else on the console.
[[gnu::format(printf, 1, 2)]] void log(const char* fmt, ...);
// Formatted text on the console itself: panics and crash reports, which must be seen
// wherever the console goes.
[[gnu::format(printf, 1, 2)]] void console_printf(const char* fmt, ...);

} // namespace atl::kernel
