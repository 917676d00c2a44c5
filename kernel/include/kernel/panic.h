// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/arch/frame.h>

namespace atl::kernel {

// Exit codes the host sees when the guest dies, chosen to match what a Linux process killed by
// the same event reports, so orchestrators read them the usual way.
constexpr int k_exit_sigill = 128 + 4;  // invalid opcode (also musl's a_crash)
constexpr int k_exit_sigabrt = 128 + 6; // abort(), kernel panic
constexpr int k_exit_sigfpe = 128 + 8;  // divide error
constexpr int k_exit_sigsegv = 128 + 11; // page fault, protection fault, stack fault

// Prints the message, a backtrace from the caller, and ends the VM with k_exit_sigabrt.
[[noreturn, gnu::format(printf, 1, 2)]] void panic(const char* fmt, ...);
// Prints the exception, registers and a backtrace from the faulting frame; ends the VM.
[[noreturn]] void panic_from_exception(const arch::InterruptFrame& frame);

// Marks the start of a crash report; true when one had already started (a fault inside the
// report itself: the caller then only says so and exits).
bool panic_started();
// The symbol and offset of addr, or "??", on the console.
void print_location(u64 addr);
// Prints "  backtrace:" and the frames from (rip, rbp) up the frame-pointer chain.
void print_backtrace(u64 rip, u64 rbp, bool rip_is_return = false);
// The same walk into frames[]: rip, then each return address; returns how many (<= max).
std::size_t collect_backtrace(u64 rip, u64 rbp, u64* frames, std::size_t max);

// Name of the function containing addr, and the offset into it; nullptr when unknown.
const char* symbolize(u64 addr, u64* offset);

} // namespace atl::kernel

#define VERIFY(cond)                                                                          \
    do {                                                                                      \
        if (!(cond)) [[unlikely]]                                                             \
            ::atl::kernel::panic("VERIFY(%s) failed at %s:%d", #cond, __FILE__, __LINE__); \
    } while (0)
