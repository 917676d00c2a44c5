// SPDX-License-Identifier: MIT
#include "fault_schedule.h"

#include <algorithm>

namespace atl::testnet {

FaultSchedule::FaultSchedule(const Faults& faults, uint64_t seed, const Limits& limits)
    : m_faults(faults)
    , m_limits(limits)
    , m_rng(seed)
{
    // A gap of 0 would hold a frame behind nothing: the same as not holding it.
    m_faults.reorder_gap = std::max(m_faults.reorder_gap, 1u);
}

double FaultSchedule::uniform()
{
    return static_cast<double>(m_rng() >> 11) * 0x1.0p-53;
}

bool FaultSchedule::fits(size_t size) const
{
    return queued_frames() < m_limits.max_frames && m_bytes + size <= m_limits.max_bytes;
}

void FaultSchedule::account_in(size_t size)
{
    m_bytes += size;
    m_counters.peak_frames = std::max(m_counters.peak_frames, queued_frames());
    m_counters.peak_bytes = std::max(m_counters.peak_bytes, m_bytes);
}

uint64_t FaultSchedule::departure(size_t size, uint64_t now_ns, double jitter_draw)
{
    uint64_t start = now_ns;
    if (m_faults.rate_bps) {
        // The link sends one frame after another: this one starts when the last has gone.
        m_link_free_ns = std::max(m_link_free_ns, now_ns) + size * 8 * 1'000'000'000ull / m_faults.rate_bps;
        start = m_link_free_ns;
    }
    uint64_t due = start + m_faults.delay_ns + static_cast<uint64_t>(jitter_draw * static_cast<double>(m_faults.jitter_ns));
    m_last_due = std::max(due, m_last_due);
    return m_last_due;
}

void FaultSchedule::submit(Bytes frame, uint64_t now_ns)
{
    size_t size = frame.size();
    uint64_t sequence = m_sequence++;
    ++m_counters.frames_in;
    m_counters.bytes_in += size;
    // Always four draws, in this order (see the class comment).
    double drop_draw = uniform();
    double duplicate_draw = uniform();
    double reorder_draw = uniform();
    double jitter_draw = uniform();

    if (drop_draw < m_faults.drop) {
        ++m_counters.dropped;
        return;
    }
    if (!fits(size)) {
        ++m_counters.dropped_queue_full;
        return;
    }
    bool duplicate = duplicate_draw < m_faults.duplicate;
    Bytes copy;
    if (duplicate)
        copy = frame;
    uint64_t due = departure(size, now_ns, jitter_draw);
    if (reorder_draw < m_faults.reorder && m_held.size() < m_limits.max_held) {
        m_held.push_back({ due + m_faults.reorder_timeout_ns, sequence, m_faults.reorder_gap, std::move(frame) });
        ++m_counters.held;
    } else {
        m_queue.push_back({ due, sequence, std::move(frame) });
    }
    account_in(size);

    if (!duplicate)
        return;
    if (!fits(size)) {
        ++m_counters.dropped_queue_full;
        return;
    }
    // The copy takes the link's time too, and leaves right behind the original.
    m_queue.push_back({ departure(size, now_ns, jitter_draw), sequence, std::move(copy) });
    account_in(size);
    ++m_counters.duplicated;
}

Bytes FaultSchedule::leave(Bytes data)
{
    m_bytes -= data.size();
    ++m_counters.frames_out;
    m_counters.bytes_out += data.size();
    return data;
}

std::optional<Bytes> FaultSchedule::pop_due(uint64_t now_ns)
{
    if (!m_ready.empty()) {
        Bytes data = std::move(m_ready.front());
        m_ready.pop_front();
        return leave(std::move(data));
    }
    bool queue_due = !m_queue.empty() && m_queue.front().due <= now_ns;
    auto oldest = std::min_element(m_held.begin(), m_held.end(),
        [](const Held& a, const Held& b) { return a.deadline < b.deadline; });
    if (oldest != m_held.end() && oldest->deadline <= now_ns && (!queue_due || oldest->deadline <= m_queue.front().due)) {
        // Traffic stopped before the gap filled: a frame is late, never lost, by reordering.
        Bytes data = std::move(oldest->data);
        m_held.erase(oldest);
        ++m_counters.held_timed_out;
        return leave(std::move(data));
    }
    if (!queue_due)
        return std::nullopt;
    Bytes data = std::move(m_queue.front().data);
    uint64_t sequence = m_queue.front().sequence;
    m_queue.pop_front();
    // Held frames whose gap this frame completes leave right after it, oldest first. Frames
    // that were already queued when one was held do not count: it waits for later ones.
    for (Held& h : m_held) {
        if (sequence > h.sequence && --h.remaining == 0)
            m_ready.push_back(std::move(h.data));
    }
    std::erase_if(m_held, [](const Held& h) { return h.remaining == 0; });
    return leave(std::move(data));
}

std::optional<uint64_t> FaultSchedule::next_due_ns() const
{
    if (!m_ready.empty())
        return 0;
    std::optional<uint64_t> next;
    if (!m_queue.empty())
        next = m_queue.front().due;
    for (const Held& h : m_held)
        next = std::min(next.value_or(h.deadline), h.deadline);
    return next;
}

} // namespace atl::testnet
