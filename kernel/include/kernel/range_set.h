// SPDX-License-Identifier: MIT
#pragma once

// A sorted set of disjoint half-open address ranges with a fixed capacity, used for free
// physical memory (the page allocator) and for the application's mappings. Adjacent ranges
// are merged, so the capacity bounds fragmentation, not size. Portable: unit-tested on the host.

#include <kernel/types.h>

namespace atl {

struct Range {
    u64 start = 0;
    u64 end = 0; // exclusive
    u64 size() const { return end - start; }
    bool empty() const { return end <= start; }
};

enum class RangeError { Overlap, Full, Invalid, NoSpace };

class RangeSet {
public:
    static constexpr std::size_t k_capacity = 1024;

    // Adds [start, end). Fails with Overlap if any byte is already in the set, Full if the
    // set would need more than k_capacity separate ranges. The set is unchanged on failure.
    [[nodiscard]] bool insert(Range r, RangeError* err = nullptr);

    // Removes every byte of [start, end) that is in the set; bytes not in it are ignored
    // (munmap semantics). Calls on_removed for each piece actually removed. Fails (set
    // unchanged) only when splitting a range would exceed the capacity.
    template <typename F>
    [[nodiscard]] bool remove(Range r, F&& on_removed);
    [[nodiscard]] bool remove(Range r) { return remove(r, [](Range) {}); }

    // First fit: takes `size` bytes starting at a multiple of `align` (a power of two),
    // at or above `min_addr`. Returns the start, or fails with NoSpace.
    [[nodiscard]] bool allocate(u64 size, u64 align, u64* out, u64 min_addr = 0);

    // True when every byte of [start, end) is in the set.
    bool contains(Range r) const;
    // True when any byte of [start, end) is in the set.
    bool intersects(Range r) const;

    u64 total() const;
    std::size_t count() const { return m_count; }
    const Range& at(std::size_t i) const { return m_ranges[i]; }

private:
    bool remove_at_index(std::size_t i, Range cut);
    std::size_t lower_bound(u64 addr) const; // first range whose end > addr
    void erase(std::size_t i);
    bool insert_at(std::size_t i, Range r);

    Range m_ranges[k_capacity];
    std::size_t m_count = 0;
};

template <typename F>
bool RangeSet::remove(Range r, F&& on_removed)
{
    if (r.empty())
        return true;
    // Each removal can split at most one range (the one containing both ends); check room.
    std::size_t i = lower_bound(r.start);
    if (i < m_count && m_ranges[i].start < r.start && m_ranges[i].end > r.end && m_count == k_capacity)
        return false;
    while (i < m_count && m_ranges[i].start < r.end) {
        Range cur = m_ranges[i];
        Range cut { cur.start > r.start ? cur.start : r.start, cur.end < r.end ? cur.end : r.end };
        on_removed(cut);
        if (cut.start == cur.start && cut.end == cur.end) {
            erase(i);
            continue;
        }
        if (cut.start == cur.start) {
            m_ranges[i].start = cut.end;
            ++i;
            continue;
        }
        if (cut.end == cur.end) {
            m_ranges[i].end = cut.start;
            ++i;
            continue;
        }
        // Split in two: capacity was checked above.
        m_ranges[i].end = cut.start;
        (void)insert_at(i + 1, Range { cut.end, cur.end });
        break;
    }
    return true;
}

} // namespace atl
