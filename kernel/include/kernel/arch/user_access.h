// SPDX-License-Identifier: MIT
#pragma once

// The architecture's accesses to the application's memory that survive a fault: each returns
// false (or -1) where the access faulted instead of taking the kernel down, because the
// architecture's exception handler resumes a faulting access at a fixup recorded beside it
// (x86-64: kernel/arch/x86_64/user_copy.S and include/arch/user_access_inline.h, the table in
// the __atoll_extable section). They check nothing else: kernel/user_memory.h puts access_ok
// in front of them, and portable code uses that.

#include <kernel/types.h>

#include <cstddef>

namespace atl::arch {

struct InterruptFrame;

// N bytes from SRC to DST, where either side may be the application's memory; false when an
// access faulted (DST may then hold part of the bytes). For any length (a call).
inline bool user_copy(void* dst, const void* src, std::size_t n);
// The same for a length known when compiling (a structure), one direction each: inline, as
// the plain loads and stores an assignment would be, for small sizes.
template <std::size_t N>
inline bool user_read_fixed(void* dst, const void* user_src);
template <std::size_t N>
inline bool user_write_fixed(void* user_dst, const void* src);
// Copies the string at SRC (the application's) into DST, at most CAP bytes with its nul: its
// length (< CAP), CAP when no nul came within CAP bytes, or -1 when a read faulted.
inline long user_string_copy(char* dst, const char* src, std::size_t cap);

// For the exception handler: when the faulting instruction is one of these accesses, FRAME
// now resumes at its fixup (true); otherwise the fault is someone else's (false).
bool fixup_user_access(InterruptFrame* frame);

} // namespace atl::arch

#include <arch/user_access_inline.h>
