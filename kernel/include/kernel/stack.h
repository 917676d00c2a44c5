// SPDX-License-Identifier: MIT
#pragma once

// Stacks that grow as Linux's main-thread stack does: address space reserved up front in a
// window of its own (outside the identity-mapped RAM), with a gap below it that is never
// mapped, and pages committed on first touch, down to a limit (RLIMIT_STACK). A program that
// never uses its 8 MiB pays for what it touches; one that overflows faults in the gap or below
// the limit, never in someone else's memory.

#include <kernel/result.h>
#include <kernel/types.h>

namespace atl::kernel {

struct StackArea {
    u64 low = 0;           // lowest address of the reservation
    u64 high = 0;          // one past the highest (the initial stack pointer)
    u64 limit_low = 0;     // the stack may grow down to here
    u64 committed_low = 0; // pages at and above this are mapped
    u64 guard_low = 0;     // the never-mapped gap below the reservation starts here
};

// Why the last growth failed (for the crash report).
enum class StackGrowth { Ok, NotAStack, PastLimit, OutOfMemory, AllocatorBusy };

// Reserves `reserve` bytes of address space for a stack that may grow to `limit` bytes
// (clamped to the reservation) and commits its top `initial` bytes. Returns the stack's top;
// EINVAL for sizes that make no stack, ENOMEM when the address space or the memory is not
// there (what went wrong is logged).
Result<u64> stack_reserve(u64 reserve, u64 limit, u64 initial);
// A new limit (setrlimit(RLIMIT_STACK)) for the stack whose top is `high`; committed pages
// stay. Returns the limit in force (clamped to the reservation).
u64 stack_set_limit(u64 high, u64 limit);
// The page-fault handler's question: `addr` is not mapped; does it lie in a stack that may
// grow to it? If so, the stack is committed down to it (and a margin below) and true returned.
[[nodiscard]] bool stack_grow(u64 addr);
StackGrowth stack_last_failure();
// Kernel code is about to run on an application's stack (a system call): makes sure `bytes`
// below `sp` are committed if `sp` lies in a growable stack, so the page allocator and the
// page tables never have to grow the stack they run on. Inline: every system call asks.
void stack_ensure_slow(u64 sp, u64 bytes);
namespace detail {
// The growable stack stack_ensure last saw (stack.cpp keeps it current): usually the main
// thread's, whose system calls then cost three comparisons here.
struct StackWatch {
    u64 limit_low = 0, high = 0, committed_low = 0;
};
extern StackWatch g_stack_watch;
}
// Growable stacks live in [2^45, 2^46): above the identity-mapped RAM (512 GiB) and the
// window of shared file mappings ([2^40, 2^44), libos/mm/memory.cpp).
constexpr u64 k_stack_window_start = u64(1) << 45;
constexpr u64 k_stack_window_end = u64(1) << 46;

inline void stack_ensure(u64 sp, u64 bytes)
{
    const detail::StackWatch& w = detail::g_stack_watch;
    if (sp < k_stack_window_start)
        return; // a thread's stack from mmap, or a kernel thread's: committed whole
    if (sp >= w.limit_low && sp < w.high && sp - bytes >= w.committed_low && sp - bytes >= w.limit_low)
        return; // enough committed below
    stack_ensure_slow(sp, bytes);
}
// Which stack `addr` lies in, counting its never-mapped gap below; false if none.
bool stack_find(u64 addr, StackArea* out);

// Chooses the stack canary every frame with an array checks (-fstack-protector-strong,
// read from musl's global __stack_chk_guard), early in boot, while no frame that would return
// holds the old one. Returns it: the program's AT_RANDOM starts with it, so musl's own start-up
// sets the same value again.
u64 stack_protector_init();

} // namespace atl::kernel
