// SPDX-License-Identifier: MIT
#include <kernel/console.h>

#include <cstdarg>
#include <cstdio>

namespace atl::kernel {

void log(const char* fmt, ...)
{
    char buf[512];
    int prefix = 7;
    __builtin_memcpy(buf, "atoll: ", prefix);
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf + prefix, sizeof(buf) - prefix - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    std::size_t len = prefix + (static_cast<std::size_t>(n) < sizeof(buf) - prefix - 1 ? n : sizeof(buf) - prefix - 2);
    buf[len++] = '\n';
    log_port_write(buf, len);
}

void console_printf(const char* fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0)
        console_write(buf, static_cast<std::size_t>(n) < sizeof(buf) ? static_cast<std::size_t>(n) : sizeof(buf) - 1);
}

} // namespace atl::kernel
