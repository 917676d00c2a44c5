// SPDX-License-Identifier: MIT
#pragma once

// What the program's start (start.cpp) offers the rest of the libOS.

#include <kernel/types.h>

namespace atl::libos {

using ::atl::u64;

// The main thread's stack limit (start.cpp): what RLIMIT_STACK reports; setting it moves
// how far the stack may grow and returns the limit in force.
u64 main_stack_limit();
u64 set_main_stack_limit(u64 limit);

// atoll.bootstats: the boot's timings and counters, printed as the program exits with CODE.
void print_bootstats(int code);

} // namespace atl::libos
