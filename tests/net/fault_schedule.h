// SPDX-License-Identifier: MIT
// The decisions of the fault-injecting relay (tests/net/netrelay.cpp) for one direction of a
// link: which frames are lost, duplicated or held back, and when each one leaves. No I/O and
// no clock of its own (the caller passes the time), so tests/unit/netrelay drives it with a
// fake clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <vector>

namespace atl::testnet {

using Bytes = std::vector<uint8_t>;

// What one direction does to the frames that cross it. The defaults pass frames unchanged.
struct Faults {
    double drop = 0;      // probability that a frame is lost
    uint64_t delay_ns = 0; // added to every frame ...
    uint64_t jitter_ns = 0; // ... plus a uniform [0, jitter_ns]; jitter never reorders (see below)
    double duplicate = 0; // probability that a frame is delivered twice
    double reorder = 0;   // probability that a frame is held back until ...
    unsigned reorder_gap = 1; // ... this many later frames have left, or ...
    uint64_t reorder_timeout_ns = 10'000'000; // ... this long after it was due
    uint64_t rate_bps = 0; // link rate in bits per second (0: unlimited)
};

// Memory bounds: a frame that would exceed them is dropped and counted (a full router queue).
struct Limits {
    size_t max_frames = 4096;
    size_t max_bytes = 16u << 20;
    size_t max_held = 64;
};

struct Counters {
    uint64_t frames_in = 0;
    uint64_t bytes_in = 0;
    uint64_t dropped = 0; // by the drop probability
    uint64_t dropped_queue_full = 0; // by Limits (including a duplicate that did not fit)
    uint64_t duplicated = 0;
    uint64_t held = 0; // frames held back for reordering
    uint64_t held_timed_out = 0; // of those, released by reorder_timeout_ns, not by the gap
    uint64_t frames_out = 0;
    uint64_t bytes_out = 0;
    size_t peak_frames = 0;
    size_t peak_bytes = 0;
};

// Frames leave in arrival order at max(arrival + delay + jitter, previous departure) (after
// the rate limit's serialisation, when set): a fixed delay with jitter delays a queue, it
// does not shuffle it, so every reordering is the explicit, counted kind. A held frame
// leaves right after the reorder_gap-th frame that left after it was held.
//
// Every frame draws the same four random numbers whatever the settings, so with one seed the
// n-th frame of a direction meets the same fate in every run: a failure can be replayed with
// the seed it printed, as far as the traffic itself repeats.
class FaultSchedule {
public:
    FaultSchedule(const Faults& faults, uint64_t seed, const Limits& limits = {});

    // A frame arrived at now_ns.
    void submit(Bytes frame, uint64_t now_ns);

    // The next frame due at or before now_ns, in departure order; nothing when none is due.
    [[nodiscard]] std::optional<Bytes> pop_due(uint64_t now_ns);

    // When the next frame is due (it may be in the past); nothing when nothing is queued.
    [[nodiscard]] std::optional<uint64_t> next_due_ns() const;

    [[nodiscard]] const Counters& counters() const { return m_counters; }
    [[nodiscard]] size_t queued_frames() const { return m_queue.size() + m_held.size() + m_ready.size(); }
    [[nodiscard]] size_t queued_bytes() const { return m_bytes; }

private:
    struct Entry {
        uint64_t due;
        uint64_t sequence; // arrival order
        Bytes data;
    };
    struct Held {
        uint64_t deadline;
        uint64_t sequence;
        unsigned remaining; // frames that arrived after this one and must leave before it
        Bytes data;
    };

    [[nodiscard]] double uniform(); // [0, 1)
    [[nodiscard]] bool fits(size_t size) const;
    [[nodiscard]] uint64_t departure(size_t size, uint64_t now_ns, double jitter_draw);
    void account_in(size_t size);
    Bytes leave(Bytes data);

    Faults m_faults;
    Limits m_limits;
    std::mt19937_64 m_rng; // fully specified by the standard: the same sequence everywhere
    std::deque<Entry> m_queue; // due times never decrease
    std::vector<Held> m_held; // in the order they were held
    std::deque<Bytes> m_ready; // held frames whose gap has passed: they leave next
    uint64_t m_sequence = 0;
    uint64_t m_last_due = 0;
    uint64_t m_link_free_ns = 0; // the rate limit: when the link has sent what it was given
    size_t m_bytes = 0;
    Counters m_counters;
};

} // namespace atl::testnet
