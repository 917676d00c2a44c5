// SPDX-License-Identifier: MIT
#include <kernel/memmap.h>

namespace atl {

const char* collect_usable_memory(const MemoryMapEntry* entries, std::size_t count,
    const Range* reserved, std::size_t reserved_count, u64 limit, RangeSet& out)
{
    // Only whole pages below the limit count, so everything is clipped to `top`; then no page
    // rounding can wrap past 2^64 (a RAM entry at 0xffff...f001, rounded up to 0, became "all
    // memory below the limit"; a hole reaching an unaligned limit near 2^64 rounded up to 0 and
    // removed nothing).
    const u64 top = align_down(limit, k_page_size);
    // An entry's part below `top`: its whole pages (inward) or every page it touches.
    auto clip = [&](u64 addr, u64 size, bool inward) {
        if (addr >= top)
            return Range {};
        u64 end = size > top - addr ? top : addr + size; // no overflow: addr < top
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
        if (reserved[i].empty())
            continue;
        if (!take_out(clip(reserved[i].start, reserved[i].size(), false)))
            return "memory map has too many holes";
    }
    return nullptr;
}

} // namespace atl
