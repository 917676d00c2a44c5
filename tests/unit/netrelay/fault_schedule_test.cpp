// SPDX-License-Identifier: MIT
// The fault-injecting relay's decisions (tests/net/fault_schedule.h), on a fake clock: frames
// are numbered by their first four bytes so order, loss and copies can be read back.
#include "../../net/fault_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

using atl::testnet::Bytes;
using atl::testnet::Faults;
using atl::testnet::FaultSchedule;
using atl::testnet::Limits;

namespace {

constexpr uint64_t k_ms = 1'000'000;

Bytes frame(uint32_t id, size_t size = 64)
{
    Bytes b(size, 0);
    std::memcpy(b.data(), &id, sizeof id);
    return b;
}

uint32_t id_of(const Bytes& b)
{
    uint32_t id;
    std::memcpy(&id, b.data(), sizeof id);
    return id;
}

std::vector<uint32_t> drain(FaultSchedule& s, uint64_t now)
{
    std::vector<uint32_t> out;
    while (auto f = s.pop_due(now))
        out.push_back(id_of(*f));
    return out;
}

// Frames 0..n-1, one every `spacing` ns, each popped as soon as it is due; the ids in the
// order they left.
std::vector<uint32_t> run(FaultSchedule& s, uint32_t n, uint64_t spacing = k_ms)
{
    std::vector<uint32_t> out;
    uint64_t now = 0;
    for (uint32_t i = 0; i < n; ++i, now += spacing) {
        s.submit(frame(i), now);
        for (uint32_t id : drain(s, now))
            out.push_back(id);
    }
    // Then let every timer run out.
    while (auto due = s.next_due_ns()) {
        now = std::max(now, *due);
        for (uint32_t id : drain(s, now))
            out.push_back(id);
    }
    return out;
}

} // namespace

TEST(FaultSchedule, DefaultsPassFramesAtOnceAndInOrder)
{
    FaultSchedule s({}, 1);
    EXPECT_FALSE(s.next_due_ns());
    s.submit(frame(7), 100);
    s.submit(frame(8), 100);
    ASSERT_TRUE(s.next_due_ns());
    EXPECT_EQ(*s.next_due_ns(), 100u);
    EXPECT_EQ(drain(s, 100), (std::vector<uint32_t> { 7, 8 }));
    EXPECT_FALSE(s.next_due_ns());
    EXPECT_EQ(s.counters().frames_in, 2u);
    EXPECT_EQ(s.counters().frames_out, 2u);
    EXPECT_EQ(s.counters().bytes_out, 128u);
    EXPECT_EQ(s.queued_bytes(), 0u);
}

TEST(FaultSchedule, FixedDelay)
{
    Faults f;
    f.delay_ns = 20 * k_ms;
    FaultSchedule s(f, 1);
    s.submit(frame(1), 5 * k_ms);
    EXPECT_EQ(*s.next_due_ns(), 25 * k_ms);
    EXPECT_FALSE(s.pop_due(25 * k_ms - 1));
    EXPECT_EQ(drain(s, 25 * k_ms), (std::vector<uint32_t> { 1 }));
}

TEST(FaultSchedule, JitterDelaysButNeverReorders)
{
    Faults f;
    f.delay_ns = 10 * k_ms;
    f.jitter_ns = 30 * k_ms; // far more than the spacing of the frames
    FaultSchedule s(f, 42);
    std::vector<uint64_t> left;
    uint64_t now = 0;
    std::vector<uint32_t> order;
    for (uint32_t i = 0; i < 2000; ++i) {
        s.submit(frame(i), i * 100'000);
        auto due = s.next_due_ns();
        ASSERT_TRUE(due);
        EXPECT_GE(*due, 10 * k_ms);
    }
    while (auto due = s.next_due_ns()) {
        now = *due;
        for (uint32_t id : drain(s, now)) {
            order.push_back(id);
            // Never earlier than its delay, never later than delay + jitter after the latest
            // frame submitted before it (a queue behind a slow frame, not a shuffle).
            EXPECT_GE(now, id * 100'000 + 10 * k_ms);
            EXPECT_LE(now, id * 100'000 + 40 * k_ms + 30 * k_ms);
        }
    }
    ASSERT_EQ(order.size(), 2000u);
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
    EXPECT_EQ(s.counters().held, 0u);
}

TEST(FaultSchedule, DropProbabilityAndCounters)
{
    Faults f;
    f.drop = 0.05;
    FaultSchedule s(f, 7);
    auto out = run(s, 100'000, 1000);
    const auto& c = s.counters();
    EXPECT_EQ(c.frames_in, 100'000u);
    EXPECT_EQ(c.dropped + c.frames_out, c.frames_in);
    EXPECT_EQ(out.size(), c.frames_out);
    // 5% of 100,000: the standard deviation is ~69 frames, so +-500 is over 7 sigma.
    EXPECT_GT(c.dropped, 4500u);
    EXPECT_LT(c.dropped, 5500u);
    EXPECT_TRUE(std::is_sorted(out.begin(), out.end()));
}

TEST(FaultSchedule, SameSeedSameFatesOtherSeedOthers)
{
    Faults f;
    f.drop = 0.1;
    f.duplicate = 0.05;
    f.reorder = 0.05;
    f.reorder_gap = 3;
    f.delay_ns = 3 * k_ms;
    f.jitter_ns = 2 * k_ms;
    FaultSchedule a(f, 1234), b(f, 1234), c(f, 1235);
    auto ra = run(a, 5000), rb = run(b, 5000), rc = run(c, 5000);
    EXPECT_EQ(ra, rb);
    EXPECT_NE(ra, rc);
    // The fates follow the frame's number, not the timing: other spacing, same lost frames.
    FaultSchedule d(f, 1234);
    auto rd = run(d, 5000, 50 * k_ms);
    std::vector<uint32_t> sa = ra, sd = rd;
    std::sort(sa.begin(), sa.end());
    std::sort(sd.begin(), sd.end());
    EXPECT_EQ(sa, sd);
}

TEST(FaultSchedule, DuplicatesLeaveRightBehindTheOriginal)
{
    Faults f;
    f.duplicate = 1.0;
    f.delay_ns = k_ms;
    FaultSchedule s(f, 3);
    auto out = run(s, 100);
    ASSERT_EQ(out.size(), 200u);
    for (uint32_t i = 0; i < 100; ++i) {
        EXPECT_EQ(out[2 * i], i);
        EXPECT_EQ(out[2 * i + 1], i);
    }
    EXPECT_EQ(s.counters().duplicated, 100u);
    EXPECT_EQ(s.counters().frames_out, 200u);
}

TEST(FaultSchedule, ReorderHoldsAFrameBehindTheNextK)
{
    Faults f;
    f.reorder = 0.1;
    f.reorder_gap = 3;
    f.delay_ns = 2 * k_ms;
    FaultSchedule s(f, 99);
    const uint32_t n = 20'000;
    auto out = run(s, n);
    ASSERT_EQ(out.size(), n); // late, never lost
    std::vector<uint32_t> sorted = out;
    std::sort(sorted.begin(), sorted.end());
    for (uint32_t i = 0; i < n; ++i)
        ASSERT_EQ(sorted[i], i);

    // A frame is late when a frame submitted after it left before it. Each late frame has
    // exactly `gap` or more later frames ahead of it (more when held frames overlap), and the
    // late frames are the held ones.
    std::map<uint32_t, size_t> position;
    for (size_t p = 0; p < out.size(); ++p)
        position[out[p]] = p;
    uint64_t late = 0;
    for (uint32_t id = 0; id < n; ++id) {
        size_t overtaken_by = 0;
        for (size_t p = position[id] > 200 ? position[id] - 200 : 0; p < position[id]; ++p)
            overtaken_by += out[p] > id;
        if (overtaken_by) {
            ++late;
            EXPECT_GE(overtaken_by, 3u) << "frame " << id;
            EXPECT_LE(overtaken_by, 3u + 64u) << "frame " << id;
        }
    }
    // A held frame is overtaken by none when the frames after it were all held too.
    EXPECT_LE(late, s.counters().held);
    EXPECT_GT(late, s.counters().held * 8 / 10);
    EXPECT_GT(s.counters().held, 1500u);
    EXPECT_LT(s.counters().held, 2500u);
    EXPECT_EQ(s.counters().held_timed_out, 0u);
}

TEST(FaultSchedule, AHeldFrameLeavesAfterTheTimeoutWhenTrafficStops)
{
    Faults f;
    f.reorder = 1.0;
    f.reorder_gap = 5;
    f.delay_ns = 10 * k_ms;
    f.reorder_timeout_ns = 50 * k_ms;
    FaultSchedule s(f, 5);
    s.submit(frame(1), 0);
    EXPECT_EQ(*s.next_due_ns(), 60 * k_ms);
    EXPECT_FALSE(s.pop_due(60 * k_ms - 1));
    EXPECT_EQ(drain(s, 60 * k_ms), (std::vector<uint32_t> { 1 }));
    EXPECT_EQ(s.counters().held, 1u);
    EXPECT_EQ(s.counters().held_timed_out, 1u);
}

TEST(FaultSchedule, FullQueueDropsAndCounts)
{
    Limits l;
    l.max_frames = 10;
    Faults f;
    f.delay_ns = 100 * k_ms;
    FaultSchedule s(f, 1, l);
    for (uint32_t i = 0; i < 25; ++i)
        s.submit(frame(i), 0);
    EXPECT_EQ(s.queued_frames(), 10u);
    EXPECT_EQ(s.counters().dropped_queue_full, 15u);
    EXPECT_EQ(s.counters().peak_frames, 10u);
    EXPECT_EQ(drain(s, 100 * k_ms), (std::vector<uint32_t> { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }));

    Limits by_bytes;
    by_bytes.max_bytes = 1000;
    FaultSchedule t(f, 1, by_bytes);
    for (uint32_t i = 0; i < 5; ++i)
        t.submit(frame(i, 300), 0);
    EXPECT_EQ(t.queued_frames(), 3u);
    EXPECT_EQ(t.queued_bytes(), 900u);
    EXPECT_EQ(t.counters().peak_bytes, 900u);
    EXPECT_EQ(t.counters().dropped_queue_full, 2u);
}

TEST(FaultSchedule, RateLimitSerialisesFrames)
{
    Faults f;
    f.rate_bps = 1'000'000; // 1250 bytes take 10 ms
    f.delay_ns = 5 * k_ms;
    FaultSchedule s(f, 1);
    for (uint32_t i = 0; i < 4; ++i)
        s.submit(frame(i, 1250), 0);
    std::vector<uint64_t> times;
    while (auto due = s.next_due_ns()) {
        ASSERT_EQ(drain(s, *due).size(), 1u);
        times.push_back(*due);
    }
    EXPECT_EQ(times, (std::vector<uint64_t> { 15 * k_ms, 25 * k_ms, 35 * k_ms, 45 * k_ms }));
    // An idle link starts afresh: a frame at 200 ms leaves at 215 ms.
    s.submit(frame(9, 1250), 200 * k_ms);
    EXPECT_EQ(*s.next_due_ns(), 215 * k_ms);
}
