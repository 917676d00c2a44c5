// SPDX-License-Identifier: MIT
#include <kernel/arch/cpu.h>
#include <kernel/platform.h>

#include <arch/x86_64/io.h>

#include <cstdio>

namespace atl::platform {

namespace {
constexpr u16 k_debugcon_port = 0x402;
constexpr u16 k_debug_exit_port = 0xf4;
constexpr u16 k_keyboard_controller = 0x64;
} // namespace

// Under QEMU the exit code is written as decimal text to the debugcon port (0x402), which
// `atoll run` reads for the full value, and to isa-debug-exit (0xf4), whose QEMU exit status
// is (code << 1) | 1. Without either device, an ACPI-less reset through the keyboard
// controller ends QEMU run with -no-reboot.
void shutdown(int code)
{
    code &= 0xff;
    char text[16];
    int n = std::snprintf(text, sizeof(text), "exit %d\n", code);
    for (int i = 0; i < n; ++i)
        arch::outb(k_debugcon_port, static_cast<u8>(text[i]));
    arch::outl(k_debug_exit_port, static_cast<u32>(code));
    // No isa-debug-exit: pulse the reset line through the keyboard controller.
    arch::outb(k_keyboard_controller, 0xfe);
    arch::halt_forever();
}

} // namespace atl::platform
