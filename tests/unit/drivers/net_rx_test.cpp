// SPDX-License-Identifier: MIT
// virtio-net's receive-frame assembly (drivers/virtio/net/net_rx.h) over a scripted queue: what
// the device wrote decides the frame, every buffer handed out goes back exactly once, and lying
// lengths and counts drop the frame instead of reading past a buffer.
#include "net_rx.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <utility>
#include <vector>

using atl::u16;
using atl::u32;
using atl::u8;
namespace net_rx = atl::virtio::net_rx;

namespace {

constexpr std::size_t k_buf = 64;
constexpr u16 k_count = 4;

struct Script {
    std::deque<std::pair<u16, u32>> used; // (index, bytes the device says it wrote)
    std::vector<u16> reposted;
    bool pop(u16* index, u32* len)
    {
        if (used.empty())
            return false;
        *index = used.front().first;
        *len = used.front().second;
        used.pop_front();
        return true;
    }
    void repost(u16 index) { reposted.push_back(index); }
};

struct Rx {
    u8 buffers[k_count * k_buf] {};
    u8 out[256] {};
    std::size_t len = 0;
    // Buffer i: a header saying num_buffers, then payload bytes 'a' + i.
    void fill(u16 i, u16 num_buffers)
    {
        u8* b = buffers + i * k_buf;
        std::memset(b, 'a' + i, k_buf);
        std::memset(b, 0, net_rx::k_header);
        b[10] = static_cast<u8>(num_buffers);
        b[11] = static_cast<u8>(num_buffers >> 8);
    }
    net_rx::Take take(Script& s, bool mergeable, std::size_t cap = 256)
    {
        return net_rx::take_frame(s, buffers, k_buf, k_count, mergeable, out, cap, &len);
    }
};

} // namespace

TEST(NetRx, OneBufferOneFrame)
{
    Rx rx;
    rx.fill(2, 1);
    Script s { { { 2, 20 } }, {} };
    EXPECT_EQ(rx.take(s, false), net_rx::Take::Frame);
    EXPECT_EQ(rx.len, 8u);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(rx.out), 8), "cccccccc");
    EXPECT_EQ(s.reposted, (std::vector<u16> { 2 }));
    EXPECT_EQ(rx.take(s, false), net_rx::Take::None);
}

TEST(NetRx, MergedBuffersMakeOneFrame)
{
    Rx rx;
    rx.fill(1, 3);
    Script s { { { 1, 14 }, { 3, 4 }, { 0, 64 } }, {} };
    EXPECT_EQ(rx.take(s, true), net_rx::Take::Frame);
    EXPECT_EQ(rx.len, 2u + 4 + 64);
    EXPECT_EQ(rx.out[0], 'b');
    EXPECT_EQ(rx.out[2], 0); // buffer 3 as the device left it: no header of its own
    EXPECT_EQ(s.reposted, (std::vector<u16> { 1, 3, 0 }));
}

TEST(NetRx, ShortOrOverlongBufferIsDroppedAndReposted)
{
    Rx rx;
    rx.fill(0, 1);
    Script s { { { 0, 11 }, { 1, k_buf + 1 } }, {} };
    EXPECT_EQ(rx.take(s, false), net_rx::Take::Dropped);
    EXPECT_EQ(rx.take(s, false), net_rx::Take::Dropped);
    EXPECT_EQ(rx.len, 0u);
    EXPECT_EQ(s.reposted, (std::vector<u16> { 0, 1 }));
}

TEST(NetRx, MoreBuffersPromisedThanUsedDropsTheFrameKeepsTheBuffers)
{
    Rx rx;
    rx.fill(0, 5);
    Script s { { { 0, 30 }, { 1, 10 } }, {} };
    EXPECT_EQ(rx.take(s, true), net_rx::Take::Dropped);
    EXPECT_EQ(s.reposted, (std::vector<u16> { 0, 1 }));
}

TEST(NetRx, FrameLargerThanTheAssemblyBufferIsDropped)
{
    Rx rx;
    rx.fill(0, 3);
    Script s { { { 0, 64 }, { 1, 64 }, { 2, 64 } }, {} };
    EXPECT_EQ(rx.take(s, true, 100), net_rx::Take::Dropped);
    EXPECT_EQ(s.reposted, (std::vector<u16> { 0, 1 }));
    EXPECT_EQ(s.used.size(), 1u); // the rest is the next frame's, as the device says
}

TEST(NetRx, IndexThatNamesNoBufferIsNeitherReadNorReposted)
{
    Rx rx;
    Script s { { { k_count, 20 } }, {} };
    EXPECT_EQ(rx.take(s, true), net_rx::Take::Dropped);
    EXPECT_TRUE(s.reposted.empty());
}

TEST(NetRx, WithoutMergeableBuffersNumBuffersIsIgnored)
{
    Rx rx;
    rx.fill(3, 7);
    Script s { { { 3, 16 }, { 0, 16 } }, {} };
    EXPECT_EQ(rx.take(s, false), net_rx::Take::Frame);
    EXPECT_EQ(rx.len, 4u);
    EXPECT_EQ(s.reposted, (std::vector<u16> { 3 }));
}
