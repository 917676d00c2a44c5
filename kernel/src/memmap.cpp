// SPDX-License-Identifier: MIT
#include <kernel/memmap.h>

namespace atl {

const char* collect_usable_memory(const MemoryMapEntry* entries, std::size_t count,
    const Range* reserved, std::size_t reserved_count, u64 limit, RangeSet& out)
{
    auto clip = [&](u64 addr, u64 size, bool inward) {
        u64 end = addr + size < addr ? ~u64(0) : addr + size; // saturate on overflow
        if (end > limit)
            end = limit;
        Range r = inward ? Range { align_up(addr, k_page_size), align_down(end, k_page_size) }
                         : Range { align_down(addr, k_page_size), align_up(end, k_page_size) };
        return r;
    };
    for (std::size_t i = 0; i < count; ++i) {
        if (entries[i].type != k_memory_type_ram)
            continue;
        Range r = clip(entries[i].addr, entries[i].size, true);
        if (r.empty())
            continue;
        // Union with what is there: overlapping RAM entries are merged, not rejected.
        if (!out.remove(r) || !out.insert(r))
            return "memory map has too many separate RAM ranges";
    }
    auto take_out = [&](Range r) { return out.remove(r); };
    for (std::size_t i = 0; i < count; ++i) {
        if (entries[i].type == k_memory_type_ram)
            continue;
        if (!take_out(clip(entries[i].addr, entries[i].size, false)))
            return "memory map has too many holes";
    }
    for (std::size_t i = 0; i < reserved_count; ++i) {
        Range r = reserved[i];
        if (!take_out(Range { align_down(r.start, k_page_size), align_up(r.end, k_page_size) }))
            return "memory map has too many holes";
    }
    return nullptr;
}

} // namespace atl
