// SPDX-License-Identifier: MIT
#pragma once

// Address-translation control: declarations only, defined by kernel/arch/<arch>/. The table
// format itself is kernel/arch/page_tables.h.

#include <kernel/types.h>

namespace atl::arch {

// Makes the tables at `root` the active ones, with writes to read-only pages faulting in the
// kernel too (x86-64: CR0.WP, then CR3).
void activate_page_tables(u64 root);
void flush_tlb_all();
void flush_tlb_page(u64 addr);

} // namespace atl::arch
