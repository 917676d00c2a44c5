// SPDX-License-Identifier: MIT
#pragma once

// What the program's start (start.cpp) offers the rest of the libOS.

#include <kernel/types.h>

namespace atl::libos {

// atoll.bootstats: the boot's timings and counters, printed as the program exits with CODE.
void print_bootstats(int code);

} // namespace atl::libos
