// SPDX-License-Identifier: MIT
#pragma once

// A switched-out thread's saved context (Boost.Context's fcontext, whose frame layout is the
// architecture's): declarations only, defined by kernel/arch/<arch>/.

#include <kernel/types.h>

namespace atl::arch {

// The resume address and frame pointer stored in a context that jump_fcontext() saved.
void saved_context_frame(const void* context, u64* pc, u64* fp);

} // namespace atl::arch
