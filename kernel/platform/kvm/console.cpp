// SPDX-License-Identifier: MIT
#include <kernel/arch/cpu.h>
#include <kernel/platform.h>

#include "uart16550.h"

namespace atl::platform {

namespace {
// 16550 UART at COM1 (the port QEMU's isa-serial and Firecracker's serial use).
constexpr u16 k_com1 = 0x3f8;
bool s_uart_present = false;
// Kernel messages go to a port of their own when the VM has one (QEMU's isa-debugcon at
// 0xe9, which reads back 0xe9): `atoll run` shows them on its stderr, apart from the
// application's console output. Without it they share the console.
constexpr u16 k_log_port = 0xe9;
bool s_log_port = false;

} // namespace

bool has_log_port() { return s_log_port; }

void log_port_write(const char* s, std::size_t n)
{
    if (!s_log_port) {
        console_write(s, n);
        return;
    }
    for (std::size_t i = 0; i < n; ++i)
        arch::outb(k_log_port, static_cast<u8>(s[i]));
}

void console_init()
{
    using arch::inb;
    using arch::outb;
    // A scratch register round trip tells whether a UART answers at all.
    s_log_port = inb(k_log_port) == 0xe9;
    s_uart_present = uart::present(k_com1, 0x5a);
    if (!s_uart_present)
        return;
    uart::init_115200_8n1(k_com1);
    outb(k_com1 + uart::k_fcr, 0xc7); // FIFO on, cleared
}

void console_write(const char* s, std::size_t n)
{
    if (!s_uart_present)
        return;
    for (std::size_t i = 0; i < n; ++i) {
        // Bounded wait: a wedged UART must not hang the guest.
        for (int spin = 0; spin < 100000 && !(arch::inb(k_com1 + uart::k_lsr) & uart::k_lsr_thr_empty); ++spin)
            arch::pause();
        arch::outb(k_com1, static_cast<u8>(s[i]));
    }
}

} // namespace atl::platform
