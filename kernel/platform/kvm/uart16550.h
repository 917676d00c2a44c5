// SPDX-License-Identifier: MIT
#pragma once

// The 16550 UART as both of the platform's serial ports use it: COM1, the console
// (console.cpp), and COM2, the host's control channel (control_port.cpp).

#include <arch/x86_64/io.h>

namespace atl::platform::uart {

// Register offsets from the base port, and the bits used.
constexpr u16 k_rbr = 0, k_thr = 0, k_ier = 1, k_fcr = 2, k_lcr = 3, k_mcr = 4, k_lsr = 5, k_scr = 7;
constexpr u8 k_lsr_data_ready = 0x01;
constexpr u8 k_lsr_thr_empty = 0x20;
constexpr u8 k_ier_rx = 0x01;
// FIFOs on, with the receive interrupt at 1 byte or at 14. QEMU passes input on only up to
// the trigger level at a time (one byte per round of its I/O thread at level 1).
constexpr u8 k_fcr_enable = 0x01, k_fcr_enable_trigger_14 = 0xc1;

// A scratch-register round trip: an absent UART reads back 0xff whatever was written.
inline bool present(u16 base, u8 probe)
{
    arch::outb(base + k_scr, probe);
    return arch::inb(base + k_scr) == probe;
}

// 115200 baud, 8N1, no interrupts (the caller enables the ones it wants).
inline void init_115200_8n1(u16 base)
{
    arch::outb(base + k_ier, 0x00);
    arch::outb(base + k_lcr, 0x80); // DLAB: the divisor
    arch::outb(base + 0, 0x01);     // 115200 baud
    arch::outb(base + 1, 0x00);
    arch::outb(base + k_lcr, 0x03); // 8N1
}

} // namespace atl::platform::uart
