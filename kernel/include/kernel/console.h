// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/types.h>

namespace atl::kernel {

void console_init();
void console_write(const char* s, std::size_t n);

// Kernel messages: "atoll: " + text + newline, on the console.
[[gnu::format(printf, 1, 2)]] void log(const char* fmt, ...);

} // namespace atl::kernel
