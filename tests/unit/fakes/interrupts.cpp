// SPDX-License-Identifier: MIT
#include "interrupts.h"

#include <kernel/interrupts.h>

namespace atl {

namespace test {
InterruptCounts& interrupts()
{
    thread_local InterruptCounts t_counts;
    return t_counts;
}
} // namespace test

namespace kernel {
// RFLAGS.IF is bit 9, as irq_save's x86-64 definition keeps it.
IrqState irq_save() noexcept
{
    test::InterruptCounts& c = test::interrupts();
    ++c.saves;
    IrqState s { c.on ? u64(1) << 9 : 0 };
    c.on = false;
    return s;
}
void irq_restore(IrqState s) noexcept
{
    test::InterruptCounts& c = test::interrupts();
    ++c.restores;
    if (s.flags & (u64(1) << 9))
        c.on = true;
}
bool irq_enabled() noexcept { return test::interrupts().on; }
} // namespace kernel

} // namespace atl
