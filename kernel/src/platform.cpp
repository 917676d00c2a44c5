// SPDX-License-Identifier: MIT
#include <kernel/arch.h>
#include <kernel/platform.h>

#include <cstdio>

namespace atl::kernel {

namespace {
constexpr u16 k_debugcon_port = 0x402;
constexpr u16 k_debug_exit_port = 0xf4;
} // namespace

void shutdown(int code)
{
    code &= 0xff;
    char text[16];
    int n = std::snprintf(text, sizeof(text), "exit %d\n", code);
    for (int i = 0; i < n; ++i)
        arch::outb(k_debugcon_port, static_cast<u8>(text[i]));
    arch::outl(k_debug_exit_port, static_cast<u32>(code));
    // No isa-debug-exit: pulse the reset line through the keyboard controller.
    arch::outb(0x64, 0xfe);
    arch::halt_forever();
}

} // namespace atl::kernel
