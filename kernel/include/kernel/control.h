// SPDX-License-Identifier: MIT
#pragma once

// The host's control channel into a running guest: the platform's control port (kvm: a second
// 16550 UART, COM2), which `atoll run` connects to a pair of FIFOs. A kernel
// thread reads line commands from it (kernel/control_protocol.h: `dump [ID]`, `signal N`)
// and writes the replies and state dumps back on it. Without the UART (another VMM) there
// is no channel and nothing runs.

#include <kernel/result.h>
#include <kernel/types.h>

namespace atl::kernel {

// Probes the UART, routes its interrupt and starts the channel's thread. Call once the
// scheduler and the interrupt controller are up. Succeeds also when there is no UART; an
// error (what went wrong is logged) leaves the machine without the channel.
Result<void> control_init();

// The libOS delivers `signal N` to the application through this hook (the kernel does not
// know the application's signal state): 0 or -errno. Called on the channel's thread with
// interrupts off. Without a hook, `signal` is refused.
void set_signal_request_hook(long (*hook)(int sig));

// The host's clock (kernel/time.h). `atoll run`'s relay announces that it answers clock
// requests with a line "host-clock", which, written before the guest starts, waits in the
// UART at boot: control_clock_detect() (the clock's calibration calls it) looks for it and
// tells the clock to expect the host (clock_host_announced). The channel's thread then asks
// for the host's time 50 ms after it starts, or at once when a program wants the wall clock
// (control_clock_wanted, from clock_wait_for_host), and again on the schedule of
// clock_host_next_sample(), a burst of exchanges each time; it says "atoll-ctl ready" after
// the first full burst. control_clock_detect() is idempotent; true when the host keeps time.
bool control_clock_detect();
void control_clock_wanted();

} // namespace atl::kernel
