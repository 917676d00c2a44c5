// SPDX-License-Identifier: MIT
// The host's control channel on a PC-like VM: a second 16550 UART at COM2, whose interrupt is
// ISA IRQ 3 (I/O APIC input 3 on pc, q35 and microvm).

#include <kernel/platform.h>

#include "uart16550.h"

namespace atl::platform::control_port {

namespace {
using namespace uart;
constexpr u16 k_com2 = 0x2f8;
constexpr u32 k_com2_isa_irq = 3;
} // namespace

bool present() { return uart::present(k_com2, 0xa5); }

void init()
{
    init_115200_8n1(k_com2);
    arch::outb(k_com2 + k_mcr, 0x0b); // DTR, RTS, OUT2 (the interrupt line's gate on a PC)
}

u32 gsi() { return k_com2_isa_irq; }
bool readable() { return arch::inb(k_com2 + k_lsr) & k_lsr_data_ready; }
u8 read() { return arch::inb(k_com2 + k_rbr); }
bool writable() { return arch::inb(k_com2 + k_lsr) & k_lsr_thr_empty; }
void write(u8 byte) { arch::outb(k_com2 + k_thr, byte); }
void set_receive_interrupt(bool on) { arch::outb(k_com2 + k_ier, on ? k_ier_rx : 0); }
void enable_fifo() { arch::outb(k_com2 + k_fcr, k_fcr_enable); }

} // namespace atl::platform::control_port
