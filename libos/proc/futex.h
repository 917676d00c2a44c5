// SPDX-License-Identifier: MIT
#pragma once

// Futex wakes for the thread code (futex.cpp): a thread's exit wakes its joiner
// (CLONE_CHILD_CLEARTID).

#include <kernel/types.h>

namespace atl::libos {

// Wakes up to COUNT waiters on the word at ADDR whose bitset meets BITS; how many woke.
long futex_wake(atl::u64 addr, long count, atl::u32 bits);

} // namespace atl::libos
