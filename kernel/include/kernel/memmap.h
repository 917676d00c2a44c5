// SPDX-License-Identifier: MIT
#pragma once

// Turns the platform's memory map into the set of usable pages. Portable, unit-tested.

#include <kernel/range_set.h>

namespace atl {

struct MemoryMapEntry {
    u64 addr;
    u64 size;
    u32 type; // E820 / PVH types: 1 = RAM, anything else is not ours to use
};

constexpr u32 k_memory_type_ram = 1;

// Adds to `out` every page that some entry calls RAM, that no other entry claims, that lies
// below `limit` and outside every `reserved` range. Entries may overlap and be unsorted
// (firmware is not trusted); partial pages are dropped. Returns nullptr or an error message.
[[nodiscard]] const char* collect_usable_memory(const MemoryMapEntry* entries, std::size_t count,
    const Range* reserved, std::size_t reserved_count, u64 limit, RangeSet& out);

} // namespace atl
