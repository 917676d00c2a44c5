// SPDX-License-Identifier: MIT
#pragma once

// The host's control channel into a running guest: a second 16550 UART (COM2, I/O port 0x2f8,
// ISA IRQ 3 through the I/O APIC), which `atoll run` connects to a pair of FIFOs. A kernel
// thread reads line commands from it (kernel/control_protocol.h: `dump [ID]`, `signal N`)
// and writes the replies and state dumps back on it. Without the UART (another VMM) there
// is no channel and nothing runs.

#include <kernel/types.h>

namespace atl::kernel {

// Probes the UART, routes its interrupt and starts the channel's thread. Call once the
// scheduler and the interrupt controller are up. Returns nullptr (also when there is no
// UART) or an error message.
[[nodiscard]] const char* control_init();

// The libOS delivers `signal N` to the application through this hook (the kernel does not
// know the application's signal state): 0 or -errno. Called on the channel's thread with
// interrupts off. Without a hook, `signal` is refused.
void set_signal_request_hook(long (*hook)(int sig));

// The host's clock (kernel/time.h). When `atoll run`'s relay has announced that it answers
// clock requests (its first line, "host-clock", waits in the UART at boot), the boot asks
// for the host's time before interrupts are on: time.cpp's calibration calls
// control_clock_request_early() (true: asked; time_mark_boot() asks at the first
// instruction), control_clock_poll_early() between its readings and between the boot's
// phases (boot_mark), and control_clock_finish_early() once the clock runs, which waits up to
// 5 ms for the rest of an answer that has begun to arrive. The answer, once complete, goes to
// clock_host_samples(); one that has not come by control_init() is the channel's thread's.
// That thread then asks again on the schedule of clock_host_next_sample(), a burst of
// exchanges each time.
bool control_clock_request_early();
void control_clock_poll_early();
void control_clock_finish_early();

} // namespace atl::kernel
