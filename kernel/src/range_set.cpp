// SPDX-License-Identifier: MIT
#include <kernel/range_set.h>

namespace atl {

std::size_t RangeSet::lower_bound(u64 addr) const
{
    std::size_t lo = 0, hi = m_count;
    while (lo < hi) {
        std::size_t mid = (lo + hi) / 2;
        if (m_ranges[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void RangeSet::erase(std::size_t i)
{
    for (std::size_t j = i; j + 1 < m_count; ++j)
        m_ranges[j] = m_ranges[j + 1];
    --m_count;
}

bool RangeSet::insert_at(std::size_t i, Range r)
{
    if (m_count == k_capacity)
        return false;
    for (std::size_t j = m_count; j > i; --j)
        m_ranges[j] = m_ranges[j - 1];
    m_ranges[i] = r;
    ++m_count;
    return true;
}

bool RangeSet::insert(Range r, RangeError* err)
{
    auto fail = [&](RangeError e) {
        if (err)
            *err = e;
        return false;
    };
    if (r.end < r.start)
        return fail(RangeError::Invalid);
    if (r.empty())
        return true;
    std::size_t i = lower_bound(r.start);
    if (i < m_count && m_ranges[i].start < r.end)
        return fail(RangeError::Overlap);
    bool join_prev = i > 0 && m_ranges[i - 1].end == r.start;
    bool join_next = i < m_count && m_ranges[i].start == r.end;
    if (join_prev && join_next) {
        m_ranges[i - 1].end = m_ranges[i].end;
        erase(i);
    } else if (join_prev) {
        m_ranges[i - 1].end = r.end;
    } else if (join_next) {
        m_ranges[i].start = r.start;
    } else if (!insert_at(i, r)) {
        return fail(RangeError::Full);
    }
    return true;
}

bool RangeSet::allocate(u64 size, u64 align, u64* out, u64 min_addr)
{
    if (size == 0 || align == 0 || (align & (align - 1)) != 0)
        return false;
    for (std::size_t i = 0; i < m_count; ++i) {
        Range cur = m_ranges[i];
        u64 lo = cur.start > min_addr ? cur.start : min_addr;
        u64 start = align_up(lo, align);
        if (start < lo || start >= cur.end || cur.end - start < size)
            continue;
        if (!remove(Range { start, start + size }))
            return false; // a split would exceed the capacity
        *out = start;
        return true;
    }
    return false;
}

bool RangeSet::contains(Range r) const
{
    if (r.empty())
        return true;
    std::size_t i = lower_bound(r.start);
    return i < m_count && m_ranges[i].start <= r.start && m_ranges[i].end >= r.end;
}

bool RangeSet::intersects(Range r) const
{
    if (r.empty())
        return false;
    std::size_t i = lower_bound(r.start);
    return i < m_count && m_ranges[i].start < r.end;
}

u64 RangeSet::total() const
{
    u64 sum = 0;
    for (std::size_t i = 0; i < m_count; ++i)
        sum += m_ranges[i].size();
    return sum;
}

} // namespace atl
