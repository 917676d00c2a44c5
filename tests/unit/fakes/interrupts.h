// SPDX-License-Identifier: MIT
#pragma once

// A fake of the kernel's interrupt flag for host tests (fakes/interrupts.cpp defines
// kernel::irq_save, irq_restore and irq_enabled): each host thread is a CPU with its own flag,
// and every save and restore is counted.

namespace atl::test {

struct InterruptCounts {
    bool on = true;
    int saves = 0;
    int restores = 0;
};

// The calling thread's flag and counts.
InterruptCounts& interrupts();

} // namespace atl::test
