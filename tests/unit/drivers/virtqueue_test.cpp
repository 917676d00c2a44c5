// SPDX-License-Identifier: MIT
// The split virtqueue under every virtio driver, against a fake device that reads the rings
// and writes used entries from the layout in virtio 1.2 §2.7, found independently of the
// driver's code, and that misbehaves on request: device memory is input, not an invariant.
#include <virtio/virtqueue.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <vector>

using atl::u16;
using atl::u32;
using atl::u64;
using atl::u8;
using atl::virtio::Virtqueue;
using Buffer = Virtqueue::Buffer;

namespace {

constexpr u64 k_base_phys = 0x4000'0000; // where the device "sees" the ring memory

struct RawDesc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};

// One chain as the device found it in the available ring.
struct Chain {
    u16 head = 0;
    std::vector<RawDesc> descs;
    u32 writable = 0; // bytes the device may write
};

// The descriptor indices a chain occupies, in order.
std::vector<u16> desc_indices(const Chain& c)
{
    std::vector<u16> out { c.head };
    for (std::size_t i = 0; i + 1 < c.descs.size(); ++i)
        out.push_back(c.descs[i].next);
    return out;
}

template <typename T>
T load(T* p)
{
    return std::atomic_ref<T>(*p).load(std::memory_order_relaxed);
}
template <typename T>
void store(T* p, T v)
{
    std::atomic_ref<T>(*p).store(v, std::memory_order_relaxed);
}

// Spec §2.7.10 helper, written out again on the device side.
bool device_need_event(u16 event, u16 new_idx, u16 old_idx)
{
    return static_cast<u16>(new_idx - event - 1) < static_cast<u16>(new_idx - old_idx);
}

class FakeDevice {
public:
    FakeDevice(u8* memory, u16 size, const Virtqueue& vq, bool event_idx)
        : m_size(size)
        , m_event_idx(event_idx)
    {
        // The device learns the addresses only from what the transport would program.
        m_desc = reinterpret_cast<RawDesc*>(memory + (vq.desc_phys() - k_base_phys));
        m_avail = reinterpret_cast<u16*>(memory + (vq.avail_phys() - k_base_phys));
        m_used = reinterpret_cast<u16*>(memory + (vq.used_phys() - k_base_phys));
        m_used_ring = reinterpret_cast<u32*>(m_used + 2);
        m_avail_event = reinterpret_cast<u16*>(m_used_ring + 2 * size);
    }

    // Every chain published since the previous call, walked as a device would (bounded, so
    // a driver bug that loops a chain fails the test instead of hanging it).
    std::vector<Chain> take_available()
    {
        std::vector<Chain> out;
        u16 idx = load(&m_avail[1]);
        std::atomic_thread_fence(std::memory_order_acquire);
        for (; m_last_avail != idx; ++m_last_avail) {
            Chain c;
            c.head = load(&m_avail[2 + (m_last_avail % m_size)]);
            u16 d = c.head;
            for (u32 n = 0;; ++n) {
                EXPECT_LT(n, m_size) << "descriptor loop";
                EXPECT_LT(d, m_size);
                if (n >= m_size || d >= m_size)
                    break;
                RawDesc rd { load(&m_desc[d].addr), load(&m_desc[d].len), load(&m_desc[d].flags),
                             load(&m_desc[d].next) };
                c.descs.push_back(rd);
                if (rd.flags & 2)
                    c.writable += rd.len;
                if (!(rd.flags & 1))
                    break;
                d = rd.next;
            }
            out.push_back(c);
        }
        return out;
    }

    // Writes one used entry and bumps idx, then notifies per §2.7.7.2.
    void complete(u32 id, u32 len)
    {
        u16 old_idx = m_used_idx;
        store(&m_used_ring[2 * (m_used_idx % m_size)], id);
        store(&m_used_ring[2 * (m_used_idx % m_size) + 1], len);
        ++m_used_idx;
        std::atomic_thread_fence(std::memory_order_release);
        store(&m_used[1], m_used_idx);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        u16 used_event = load(&m_avail[2 + m_size]);
        bool notify = m_event_idx ? device_need_event(used_event, m_used_idx, old_idx)
                                  : (load(&m_avail[0]) & 1) == 0;
        if (notify)
            ++m_interrupts;
    }
    void complete(const Chain& c) { complete(c.head, c.writable); }

    void set_used_idx(u16 idx)
    {
        m_used_idx = idx;
        store(&m_used[1], idx);
    }
    void set_no_notify(bool on) { store(&m_used[0], static_cast<u16>(on ? 1 : 0)); }
    void set_avail_event(u16 v) { store(m_avail_event, v); }

    u16 avail_flags() { return load(&m_avail[0]); }
    u16 avail_idx() { return load(&m_avail[1]); }
    u16 used_event() { return load(&m_avail[2 + m_size]); }
    u16 used_idx() const { return m_used_idx; }
    u16 last_avail() const { return m_last_avail; }
    int interrupts() const { return m_interrupts; }
    RawDesc* desc_table() { return m_desc; }

private:
    u16 m_size;
    bool m_event_idx;
    RawDesc* m_desc;
    u16* m_avail;
    u16* m_used;
    u32* m_used_ring;
    u16* m_avail_event;
    u16 m_last_avail = 0;
    u16 m_used_idx = 0;
    int m_interrupts = 0;
};

struct AlignedFree {
    void operator()(u8* p) const { ::operator delete[](p, std::align_val_t { 4096 }); }
};

// A queue with its memory, its private slots and a device attached.
struct Rig {
    explicit Rig(u16 size, bool event_idx = false)
        : memory(static_cast<u8*>(
              ::operator new[](Virtqueue::memory_size(size), std::align_val_t { 4096 })))
        , slots(new Virtqueue::Slot[size])
    {
        // Stale bytes: the constructor must not rely on getting zeroed memory.
        std::memset(memory.get(), 0xa5, Virtqueue::memory_size(size));
        vq = std::make_unique<Virtqueue>(size, memory.get(), k_base_phys, slots.get());
        vq->set_event_idx(event_idx);
        dev = std::make_unique<FakeDevice>(memory.get(), size, *vq, event_idx);
    }

    // Adds one chain of `outs` 100-byte readable and `ins` 200-byte writable buffers.
    bool add(std::size_t outs, std::size_t ins, void* token)
    {
        std::vector<Buffer> b;
        for (std::size_t i = 0; i < outs + ins; ++i)
            b.push_back(Buffer { 0x1000'0000 + 0x1000 * i, i < outs ? 100u : 200u });
        return vq->add(b.data(), outs, ins, token);
    }

    std::unique_ptr<u8, AlignedFree> memory;
    std::unique_ptr<Virtqueue::Slot[]> slots;
    std::unique_ptr<Virtqueue> vq;
    std::unique_ptr<FakeDevice> dev;
};

void* tok(std::uintptr_t n) { return reinterpret_cast<void*>(n); }

// With every chain completed, the free list must hold each descriptor exactly once: fill the
// ring with one-descriptor chains, check the device sees size distinct heads, hand them back.
void expect_free_list_complete(Rig& r)
{
    u16 size = r.vq->size();
    ASSERT_EQ(r.vq->num_free(), size);
    for (u16 i = 0; i < size; ++i)
        ASSERT_TRUE(r.add(0, 1, tok(i + 1u)));
    EXPECT_FALSE(r.add(0, 1, tok(0)));
    r.vq->publish();
    auto chains = r.dev->take_available();
    ASSERT_EQ(chains.size(), size);
    std::vector<bool> seen(size);
    for (const auto& c : chains) {
        ASSERT_LT(c.head, size);
        EXPECT_FALSE(seen[c.head]) << "descriptor " << c.head << " handed out twice";
        seen[c.head] = true;
        r.dev->complete(c);
    }
    void* t;
    u32 len;
    for (u16 i = 0; i < size; ++i)
        ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(r.vq->num_free(), size);
}

TEST(Virtqueue, ValidSizes)
{
    EXPECT_FALSE(Virtqueue::valid_size(0));
    EXPECT_TRUE(Virtqueue::valid_size(1));
    EXPECT_TRUE(Virtqueue::valid_size(256));
    EXPECT_TRUE(Virtqueue::valid_size(32768));
    EXPECT_FALSE(Virtqueue::valid_size(255));
    EXPECT_FALSE(Virtqueue::valid_size(384));
    EXPECT_FALSE(Virtqueue::valid_size(65535));
}

TEST(Virtqueue, LayoutFollowsTheSpec)
{
    // §2.7: descriptors 16*N, available ring 6+2*N (2-aligned), used ring 6+8*N (4-aligned).
    EXPECT_EQ(Virtqueue::memory_size(256), 4096u + 518u + 2u + 2054u);
    EXPECT_EQ(Virtqueue::memory_size(1), 16u + 8u + 14u);
    Rig r(256);
    EXPECT_EQ(r.vq->desc_phys(), k_base_phys);
    EXPECT_EQ(r.vq->avail_phys(), k_base_phys + 4096);
    EXPECT_EQ(r.vq->used_phys(), k_base_phys + 4096 + 520);
    EXPECT_EQ(r.vq->used_phys() % 4, 0u);
    Rig one(1);
    EXPECT_EQ(one.vq->used_phys() - one.vq->desc_phys(), 24u);
    // The 0xa5 fill is gone: the device starts from idx 0 and no suppression.
    EXPECT_EQ(r.dev->avail_idx(), 0);
    EXPECT_EQ(r.dev->avail_flags(), 0);
    EXPECT_EQ(r.dev->used_idx(), 0);
    EXPECT_EQ(r.vq->num_free(), 256);
    EXPECT_FALSE(r.vq->more_used());
}

TEST(VirtqueueDeathTest, InvalidSizeTraps)
{
    alignas(16) static u8 mem[4096];
    Virtqueue::Slot slots[4];
    EXPECT_DEATH(Virtqueue(3, mem, k_base_phys, slots), "");
    EXPECT_DEATH(Virtqueue(4, mem + 8, k_base_phys, slots), "");
}

TEST(Virtqueue, SingleBufferRoundTrip)
{
    Rig r(8);
    Buffer b { 0xdead'b000, 512 };
    ASSERT_TRUE(r.vq->add(&b, 0, 1, tok(42)));
    EXPECT_EQ(r.vq->num_free(), 7);
    // Not visible before publish().
    EXPECT_TRUE(r.dev->take_available().empty());
    r.vq->publish();
    auto chains = r.dev->take_available();
    ASSERT_EQ(chains.size(), 1u);
    ASSERT_EQ(chains[0].descs.size(), 1u);
    EXPECT_EQ(chains[0].descs[0].addr, 0xdead'b000u);
    EXPECT_EQ(chains[0].descs[0].len, 512u);
    EXPECT_EQ(chains[0].descs[0].flags, 2); // WRITE, no NEXT

    void* t = nullptr;
    u32 len = 0;
    EXPECT_FALSE(r.vq->pop_used(&t, &len));
    r.dev->complete(chains[0].head, 60);
    EXPECT_TRUE(r.vq->more_used());
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(42));
    EXPECT_EQ(len, 60u);
    EXPECT_FALSE(r.vq->pop_used(&t, &len));
    EXPECT_FALSE(r.vq->more_used());
    EXPECT_EQ(r.vq->num_free(), 8);
    EXPECT_EQ(r.vq->stats().completed, 1u);
}

TEST(Virtqueue, ChainsOfOutAndInBuffers)
{
    Rig r(16);
    // A block request: header out, data out, data in, status in.
    Buffer b[] = { { 0x1000, 16 }, { 0x2000, 4096 }, { 0x3000, 512 }, { 0x4000, 1 } };
    ASSERT_TRUE(r.vq->add(b, 2, 2, tok(1)));
    ASSERT_TRUE(r.add(3, 0, tok(2))); // transmit: device-readable only
    ASSERT_TRUE(r.add(0, 2, tok(3))); // receive: device-writable only
    EXPECT_EQ(r.vq->num_free(), 16 - 4 - 3 - 2);
    r.vq->publish();
    auto chains = r.dev->take_available();
    ASSERT_EQ(chains.size(), 3u);

    const auto& c = chains[0].descs;
    ASSERT_EQ(c.size(), 4u);
    u16 want_flags[] = { 1, 1, 1 | 2, 2 }; // NEXT, NEXT, NEXT|WRITE, WRITE
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(c[i].addr, b[i].phys);
        EXPECT_EQ(c[i].len, b[i].len);
        EXPECT_EQ(c[i].flags, want_flags[i]) << i;
    }
    EXPECT_EQ(chains[0].writable, 513u);
    EXPECT_EQ(chains[1].descs.size(), 3u);
    EXPECT_EQ(chains[1].writable, 0u);
    EXPECT_EQ(chains[2].descs.size(), 2u);
    EXPECT_EQ(chains[2].writable, 400u);

    // The full writable length is allowed; so is 0 for a chain with nothing to write.
    r.dev->complete(chains[0].head, 513);
    r.dev->complete(chains[1].head, 0);
    r.dev->complete(chains[2].head, 400);
    void* t;
    u32 len;
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(1));
    EXPECT_EQ(len, 513u);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(2));
    EXPECT_EQ(len, 0u);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(3));
    EXPECT_EQ(len, 400u);
    EXPECT_EQ(r.vq->num_free(), 16);
}

TEST(Virtqueue, RejectsChainsThatCanNeverFit)
{
    Rig r(4);
    Buffer big[5] = {};
    EXPECT_FALSE(r.vq->add(big, 0, 0, tok(1)));   // empty
    EXPECT_FALSE(r.vq->add(big, 3, 2, tok(1)));   // longer than the queue
    Buffer huge[2] = { { 0x1000, 0xffff'ffffu }, { 0x2000, 2 } };
    EXPECT_FALSE(r.vq->add(huge, 1, 1, tok(1)));  // over 2^32 bytes (§2.7.5.2)
    EXPECT_EQ(r.vq->num_free(), 4);
    EXPECT_EQ(r.vq->stats().full, 0u);
    // Exactly 2^32 bytes is allowed, and the u32 len check stays exact.
    Buffer edge[2] = { { 0x1000, 0xffff'ffffu }, { 0x2000, 1 } };
    ASSERT_TRUE(r.vq->add(edge, 0, 2, tok(9)));
    r.vq->publish();
    auto chains = r.dev->take_available();
    r.dev->complete(chains[0].head, 0xffff'ffffu);
    void* t;
    u32 len;
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(len, 0xffff'ffffu);
}

TEST(Virtqueue, FullRingThenRecovery)
{
    Rig r(8);
    for (std::uintptr_t i = 0; i < 8; ++i)
        ASSERT_TRUE(r.add(1, 0, tok(i + 1)));
    EXPECT_EQ(r.vq->num_free(), 0);
    EXPECT_FALSE(r.add(1, 0, tok(99)));
    EXPECT_EQ(r.vq->stats().full, 1u);
    r.vq->publish();
    auto chains = r.dev->take_available();
    ASSERT_EQ(chains.size(), 8u);

    r.dev->complete(chains[5]);
    void* t;
    u32 len;
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(6));
    // One descriptor free: a two-descriptor chain still does not fit; a single one does.
    EXPECT_FALSE(r.add(1, 1, tok(100)));
    EXPECT_EQ(r.vq->stats().full, 2u);
    ASSERT_TRUE(r.add(0, 1, tok(101)));
    r.vq->publish();
    auto more = r.dev->take_available();
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(more[0].head, chains[5].head); // the freed descriptor is reused

    for (std::size_t i = 0; i < 8; ++i)
        if (i != 5)
            r.dev->complete(chains[i]);
    r.dev->complete(more[0]);
    int n = 0;
    while (r.vq->pop_used(&t, &len))
        ++n;
    EXPECT_EQ(n, 8);
    EXPECT_EQ(r.vq->stats().completed, 9u);
    expect_free_list_complete(r);
}

TEST(Virtqueue, OutOfOrderCompletion)
{
    Rig r(16);
    // Chains of different lengths, so freeing out of order scrambles the free list.
    ASSERT_TRUE(r.add(1, 0, tok(0)));
    ASSERT_TRUE(r.add(1, 2, tok(1)));
    ASSERT_TRUE(r.add(2, 1, tok(2)));
    ASSERT_TRUE(r.add(0, 4, tok(3)));
    r.vq->publish();
    auto chains = r.dev->take_available();
    ASSERT_EQ(chains.size(), 4u);
    EXPECT_EQ(r.vq->num_free(), 16 - 1 - 3 - 3 - 4);

    void* t;
    u32 len;
    r.dev->complete(chains[3].head, 800);
    r.dev->complete(chains[1].head, 10);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(3));
    EXPECT_EQ(len, 800u);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(1));
    EXPECT_EQ(len, 10u);
    EXPECT_EQ(r.vq->num_free(), 5 + 4 + 3);

    // Reuse the scrambled free list for one long chain: all its descriptors must be distinct
    // and none may belong to the chains still in flight.
    ASSERT_TRUE(r.add(6, 6, tok(7)));
    r.vq->publish();
    auto big = r.dev->take_available();
    ASSERT_EQ(big.size(), 1u);
    ASSERT_EQ(big[0].descs.size(), 12u);
    EXPECT_EQ(big[0].writable, 1200u);
    std::vector<int> owner(16, -1);
    for (const Chain* c : { &chains[0], &chains[2], &big[0] }) {
        for (u16 d : desc_indices(*c)) {
            ASSERT_LT(d, 16);
            EXPECT_EQ(owner[d], -1) << "descriptor " << d << " is in two chains";
            owner[d] = c->head;
        }
    }

    r.dev->complete(chains[2].head, 200);
    r.dev->complete(big[0].head, 1200);
    r.dev->complete(chains[0].head, 0);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(2));
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(7));
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(0));
    EXPECT_EQ(r.vq->stats().not_in_flight + r.vq->stats().bad_id + r.vq->stats().bad_len, 0u);
    expect_free_list_complete(r);
}

TEST(Virtqueue, IndicesWrapPast65536)
{
    Rig r(16);
    // Batches of mixed chains completed in reverse, for well over 2^16 chains, so both the
    // available and the used idx wrap (several times at 16 per lap of the ring).
    u64 next_token = 1;
    u64 expected_sum = 0;
    u64 popped_sum = 0;
    u64 ops = 0;
    while (ops < 70'000) {
        std::size_t batch = 1 + ops % 5;
        for (std::size_t i = 0; i < batch; ++i) {
            ASSERT_TRUE(r.add(i % 2, 1 + i % 2, tok(next_token)));
            expected_sum += next_token++;
        }
        r.vq->publish();
        auto chains = r.dev->take_available();
        ASSERT_EQ(chains.size(), batch);
        for (std::size_t i = batch; i-- > 0;)
            r.dev->complete(chains[i].head, chains[i].writable);
        void* t;
        u32 len;
        for (std::size_t i = 0; i < batch; ++i) {
            ASSERT_TRUE(r.vq->pop_used(&t, &len));
            EXPECT_EQ(len, chains[batch - 1 - i].writable);
            popped_sum += reinterpret_cast<std::uintptr_t>(t);
        }
        ASSERT_FALSE(r.vq->pop_used(&t, &len));
        ops += batch;
    }
    EXPECT_EQ(popped_sum, expected_sum);
    EXPECT_EQ(r.vq->stats().completed, ops);
    EXPECT_EQ(r.vq->num_free(), 16);
    // The 16-bit counters wrapped and still agree.
    EXPECT_EQ(r.dev->avail_idx(), static_cast<u16>(ops));
    EXPECT_EQ(r.dev->used_idx(), static_cast<u16>(ops));
    EXPECT_EQ(r.vq->stats().not_in_flight + r.vq->stats().bad_id + r.vq->stats().bad_len, 0u);
    expect_free_list_complete(r);
}

// Fills a size-8 queue with three single-writable-buffer chains and hands them to the device.
std::vector<Chain> three_chains(Rig& r)
{
    for (std::uintptr_t i = 0; i < 3; ++i)
        EXPECT_TRUE(r.add(0, 1, tok(i + 1)));
    r.vq->publish();
    return r.dev->take_available();
}

TEST(Virtqueue, RejectsOutOfRangeId)
{
    Rig r(8);
    auto chains = three_chains(r);
    r.dev->complete(8, 0);
    r.dev->complete(0xffff'ffffu, 0);
    r.dev->complete(0x10000u + chains[0].head, 0); // would alias if truncated to 16 bits
    r.dev->complete(chains[1]);
    void* t;
    u32 len;
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(2));
    EXPECT_EQ(r.vq->stats().bad_id, 3u);
    EXPECT_EQ(r.vq->stats().completed, 1u);
    EXPECT_FALSE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(r.vq->num_free(), 8 - 2);
}

TEST(Virtqueue, RejectsIdsNotInFlight)
{
    Rig r(8);
    ASSERT_TRUE(r.add(1, 2, tok(10))); // a 3-descriptor chain
    auto chains = three_chains(r);
    ASSERT_EQ(chains.size(), 4u);
    const Chain& long_chain = chains[0];
    // Find a descriptor that is free, and one in the middle of a chain.
    std::vector<bool> used(8);
    for (const auto& c : chains)
        for (u16 d : desc_indices(c))
            used[d] = true;
    u16 free_desc = 0;
    while (used[free_desc])
        ++free_desc;
    u16 middle = long_chain.descs[0].next;

    void* t;
    u32 len;
    r.dev->complete(free_desc, 0);
    r.dev->complete(middle, 0);
    r.dev->complete(chains[2]);
    r.dev->complete(chains[2]); // completed twice
    r.dev->complete(chains[3]);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(2));
    EXPECT_EQ(r.vq->stats().not_in_flight, 2u);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(3)); // the duplicate was skipped
    EXPECT_EQ(r.vq->stats().not_in_flight, 3u);
    EXPECT_FALSE(r.vq->pop_used(&t, &len));

    // The chains the device lied about are untouched and still complete normally.
    EXPECT_EQ(r.vq->num_free(), 8 - 3 - 1);
    r.dev->complete(long_chain);
    r.dev->complete(chains[1]);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(10));
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(1));
    EXPECT_EQ(r.vq->num_free(), 8);
    // A chain completed long after it was freed and its descriptor reused as a non-head.
    ASSERT_TRUE(r.add(0, 8, tok(5)));
    r.vq->publish();
    auto all = r.dev->take_available();
    r.dev->complete(all[0].descs[0].next, 0);
    EXPECT_FALSE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(r.vq->stats().not_in_flight, 4u);
    r.dev->complete(all[0]);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(5));
}

TEST(Virtqueue, RejectsLenBeyondWritableSpace)
{
    Rig r(8);
    ASSERT_TRUE(r.add(1, 0, tok(1))); // nothing writable
    ASSERT_TRUE(r.add(1, 1, tok(2))); // 200 writable bytes
    ASSERT_TRUE(r.add(0, 1, tok(3)));
    r.vq->publish();
    auto chains = r.dev->take_available();
    r.dev->complete(chains[0].head, 1);
    r.dev->complete(chains[1].head, 201); // the out buffer's 100 bytes do not count
    r.dev->complete(chains[2].head, 200);
    void* t;
    u32 len;
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(t, tok(3));
    EXPECT_EQ(len, 200u);
    EXPECT_EQ(r.vq->stats().bad_len, 2u);
    EXPECT_FALSE(r.vq->pop_used(&t, &len));
    // The lied-about chains stay in flight: their descriptors are not reused...
    EXPECT_EQ(r.vq->num_free(), 8 - 1 - 2);
    // ...and after a reset the driver gets their buffers back.
    std::vector<void*> left;
    while (r.vq->detach_unused(&t))
        left.push_back(t);
    EXPECT_EQ(left.size(), 2u);
    EXPECT_NE(std::find(left.begin(), left.end(), tok(1)), left.end());
    EXPECT_NE(std::find(left.begin(), left.end(), tok(2)), left.end());
    expect_free_list_complete(r);
}

TEST(Virtqueue, BogusUsedIdxTerminates)
{
    Rig r(8);
    auto chains = three_chains(r);
    r.dev->complete(chains[0]);
    // The device claims 40000 more entries than it wrote: garbage (the 0xa5 fill was zeroed,
    // so stale entries are id 0 or earlier ones). pop_used must consume them and stop.
    r.dev->set_used_idx(static_cast<u16>(r.dev->used_idx() + 40'000));
    void* t;
    u32 len;
    int got = 0;
    while (r.vq->pop_used(&t, &len))
        ++got;
    EXPECT_EQ(got, 1);
    EXPECT_FALSE(r.vq->more_used());
    const auto& s = r.vq->stats();
    EXPECT_EQ(s.completed, 1u);
    EXPECT_EQ(s.bad_id + s.not_in_flight + s.bad_len, 40'000u);
    EXPECT_EQ(r.vq->num_free(), 8 - 2);
}

TEST(Virtqueue, DriverStateSurvivesScribbledDescriptorTable)
{
    Rig r(8);
    auto chains = three_chains(r);
    // The descriptor table is device-readable only; a device that writes it anyway must not
    // be able to redirect the driver's free list.
    std::memset(static_cast<void*>(r.dev->desc_table()), 0xff, 8 * sizeof(RawDesc));
    for (const auto& c : chains)
        r.dev->complete(c);
    void* t;
    u32 len;
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(r.vq->num_free(), 8);
    for (std::uintptr_t i = 0; i < 4; ++i)
        ASSERT_TRUE(r.add(1, 1, tok(i)));
    r.vq->publish();
    auto again = r.dev->take_available();
    ASSERT_EQ(again.size(), 4u);
    std::vector<bool> seen(8);
    for (const auto& c : again) {
        ASSERT_EQ(c.descs.size(), 2u);
        EXPECT_FALSE(seen[c.head]);
        seen[c.head] = true;
        EXPECT_FALSE(seen[c.descs[0].next]);
        seen[c.descs[0].next] = true;
    }
}

TEST(Virtqueue, NotifySuppressionWithoutEventIdx)
{
    Rig r(8);
    EXPECT_FALSE(r.vq->needs_notify()); // nothing published
    ASSERT_TRUE(r.add(1, 0, tok(1)));
    EXPECT_FALSE(r.vq->needs_notify()); // added but not published
    r.vq->publish();
    EXPECT_TRUE(r.vq->needs_notify());
    EXPECT_FALSE(r.vq->needs_notify()); // already notified for that batch

    r.dev->set_no_notify(true);
    ASSERT_TRUE(r.add(1, 0, tok(2)));
    r.vq->publish();
    EXPECT_FALSE(r.vq->needs_notify());
    r.dev->set_no_notify(false);
    ASSERT_TRUE(r.add(1, 0, tok(3)));
    r.vq->publish();
    EXPECT_TRUE(r.vq->needs_notify());
    // Without EVENT_IDX the driver ignores avail_event.
    r.dev->set_avail_event(1000);
    ASSERT_TRUE(r.add(1, 0, tok(4)));
    r.vq->publish();
    EXPECT_TRUE(r.vq->needs_notify());
}

TEST(Virtqueue, NotifySuppressionWithEventIdx)
{
    Rig r(64, true);
    // The device asks to be kicked when entry 3 is made available (idx passes 3 -> 4).
    r.dev->set_avail_event(3);
    r.dev->set_no_notify(true); // must be ignored with EVENT_IDX
    for (std::uintptr_t i = 0; i < 3; ++i) {
        ASSERT_TRUE(r.add(1, 0, tok(i)));
        r.vq->publish();
        EXPECT_FALSE(r.vq->needs_notify()) << i; // idx 1, 2, 3
    }
    ASSERT_TRUE(r.add(1, 0, tok(3)));
    r.vq->publish();
    EXPECT_TRUE(r.vq->needs_notify()); // idx 3 -> 4 wrote entry 3
    // A batch that jumps over the event still notifies.
    r.dev->set_avail_event(6);
    for (std::uintptr_t i = 0; i < 5; ++i)
        ASSERT_TRUE(r.add(1, 0, tok(i)));
    r.vq->publish();
    EXPECT_TRUE(r.vq->needs_notify()); // 4 -> 9 passes 6
    // An event already behind does not.
    ASSERT_TRUE(r.add(1, 0, tok(9)));
    r.vq->publish();
    EXPECT_FALSE(r.vq->needs_notify()); // 9 -> 10, event 6

    // Across the 16-bit wrap: move both sides near 65535.
    void* t;
    u32 len;
    for (auto& c : r.dev->take_available())
        r.dev->complete(c);
    while (r.vq->pop_used(&t, &len)) {
    }
    u16 idx = r.dev->avail_idx();
    while (idx != 65534) {
        ASSERT_TRUE(r.add(1, 0, tok(1)));
        r.vq->publish();
        (void)r.vq->needs_notify();
        for (auto& c : r.dev->take_available())
            r.dev->complete(c);
        while (r.vq->pop_used(&t, &len)) {
        }
        idx = r.dev->avail_idx();
    }
    r.dev->set_avail_event(1); // entry 1 after the wrap
    for (std::uintptr_t i = 0; i < 3; ++i)
        ASSERT_TRUE(r.add(1, 0, tok(i)));
    r.vq->publish();
    EXPECT_FALSE(r.vq->needs_notify()); // 65534 -> 1 (entries 65534, 65535, 0)
    ASSERT_TRUE(r.add(1, 0, tok(4)));
    r.vq->publish();
    EXPECT_TRUE(r.vq->needs_notify()); // 1 -> 2 wrote entry 1
}

TEST(Virtqueue, InterruptFlagsWithoutEventIdx)
{
    Rig r(8);
    auto chains = three_chains(r);
    EXPECT_EQ(r.dev->avail_flags(), 0);
    r.dev->complete(chains[0]);
    EXPECT_EQ(r.dev->interrupts(), 1);

    r.vq->disable_interrupts();
    EXPECT_EQ(r.dev->avail_flags(), 1); // VIRTQ_AVAIL_F_NO_INTERRUPT
    r.dev->complete(chains[1]);
    EXPECT_EQ(r.dev->interrupts(), 1);

    // Drain, enable, re-check: the completion that came while disabled is found.
    void* t;
    u32 len;
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    r.dev->complete(chains[2]); // races with the enable below
    r.vq->enable_interrupts();
    EXPECT_EQ(r.dev->avail_flags(), 0);
    EXPECT_TRUE(r.vq->more_used());
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_FALSE(r.vq->more_used());
    EXPECT_EQ(r.vq->num_free(), 8);
}

TEST(Virtqueue, InterruptSuppressionWithEventIdx)
{
    Rig r(8, true);
    void* t;
    u32 len;
    auto chains = three_chains(r);
    // virtio 1.2 §2.7.7.1: flags stay 0 with EVENT_IDX; used_event does the work.
    EXPECT_EQ(r.dev->avail_flags(), 0);
    EXPECT_EQ(r.dev->used_event(), 0);
    r.dev->complete(chains[0]); // entry 0 == used_event: interrupt
    EXPECT_EQ(r.dev->interrupts(), 1);
    r.dev->complete(chains[1]); // used_event still 0: the driver has not caught up
    EXPECT_EQ(r.dev->interrupts(), 1);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(r.dev->used_event(), 2); // next interrupt at the next entry
    r.dev->complete(chains[2]);
    EXPECT_EQ(r.dev->interrupts(), 2);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));

    // Disabled: no interrupts however many entries the device writes, across the wrap.
    r.vq->disable_interrupts();
    EXPECT_EQ(r.dev->avail_flags(), 0);
    for (int round = 0; round < 70'000 / 4; ++round) {
        for (std::uintptr_t i = 0; i < 4; ++i)
            ASSERT_TRUE(r.add(0, 1, tok(i)));
        r.vq->publish();
        for (auto& c : r.dev->take_available())
            r.dev->complete(c);
        while (r.vq->pop_used(&t, &len)) {
        }
    }
    EXPECT_EQ(r.dev->interrupts(), 2);

    // Enable with a completion racing it: more_used() catches it...
    ASSERT_TRUE(r.add(0, 1, tok(1)));
    r.vq->publish();
    auto late = r.dev->take_available();
    r.dev->complete(late[0]);
    r.vq->enable_interrupts();
    EXPECT_TRUE(r.vq->more_used());
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    // ...and the next completion interrupts again.
    ASSERT_TRUE(r.add(0, 1, tok(2)));
    r.vq->publish();
    late = r.dev->take_available();
    r.dev->complete(late[0]);
    EXPECT_EQ(r.dev->interrupts(), 3);
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    EXPECT_EQ(r.vq->num_free(), 8);
}

TEST(Virtqueue, ConcurrentDevice)
{
    // A device thread polling the rings while the driver adds and pops: exercises the
    // release/acquire pairs on both idx fields (meaningful under TSan as well as ASan).
    Rig r(64);
    constexpr u64 k_total = 100'000;
    std::atomic<bool> stop { false };
    std::thread device([&] {
        while (!stop.load()) {
            for (auto& c : r.dev->take_available())
                r.dev->complete(c);
        }
    });
    u64 added = 0;
    u64 done = 0;
    u64 sum = 0;
    // A lost completion must fail the test, not hang it: it fails when nothing completes for
    // 10 s (a deadline on the whole run would fail a slow, loaded machine instead).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    u64 done_at_deadline = 0;
    while (done < k_total) {
        if (std::chrono::steady_clock::now() >= deadline) {
            if (done == done_at_deadline)
                break;
            done_at_deadline = done;
            deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        }
        while (added < k_total && r.add(1, 1, tok(added + 1)))
            ++added;
        r.vq->publish();
        void* t;
        u32 len;
        while (r.vq->pop_used(&t, &len)) {
            EXPECT_EQ(len, 200u);
            sum += reinterpret_cast<std::uintptr_t>(t);
            ++done;
        }
    }
    stop = true;
    device.join();
    ASSERT_EQ(done, k_total);
    EXPECT_EQ(sum, k_total * (k_total + 1) / 2);
    EXPECT_EQ(r.vq->num_free(), 64);
}

} // namespace

TEST(Virtqueue, SnapshotShowsBothSidesOfTheRing)
{
    Rig r(8, true);
    ASSERT_TRUE(r.add(0, 1, tok(1)));
    ASSERT_TRUE(r.add(0, 1, tok(2)));
    Virtqueue::Snapshot s = r.vq->snapshot();
    EXPECT_EQ(s.size, 8);
    EXPECT_EQ(s.num_free, 6);
    EXPECT_EQ(s.next_avail, 2); // added, not yet published
    EXPECT_EQ(s.avail_idx, 0);
    EXPECT_TRUE(s.event_idx);
    EXPECT_TRUE(s.interrupts_enabled);

    r.vq->publish();
    r.dev->set_avail_event(5);
    (void)r.vq->needs_notify();
    auto chains = r.dev->take_available();
    ASSERT_EQ(chains.size(), 2u);
    r.dev->complete(chains[0]);
    s = r.vq->snapshot();
    EXPECT_EQ(s.avail_idx, 2);
    EXPECT_EQ(s.notified_idx, 2);
    EXPECT_EQ(s.avail_event, 5); // what the device wrote
    EXPECT_EQ(s.used_idx, 1);    // completed by the device...
    EXPECT_EQ(s.last_used, 0);   // ...not yet taken by the driver

    void* t;
    u32 len;
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    r.vq->disable_interrupts();
    s = r.vq->snapshot();
    EXPECT_EQ(s.last_used, 1);
    EXPECT_EQ(s.num_free, 7);
    EXPECT_FALSE(s.interrupts_enabled);
    EXPECT_EQ(s.used_event, 0); // one behind last_used: quiet
    EXPECT_EQ(s.stats.completed, 1u);
}

namespace {
// What the device could see in shared memory each time the handshake barrier ran.
struct BarrierView {
    u16 avail_idx, used_event;
};
Rig* g_barrier_rig = nullptr;
std::vector<BarrierView> g_barrier_views;
void record_barrier()
{
    g_barrier_views.push_back({ g_barrier_rig->dev->avail_idx(), g_barrier_rig->dev->used_event() });
}
} // namespace

// set_barrier(): the hook that stands for a fence the device's host thread honours (under
// QEMU's TCG the guest's own fences are dropped) must run between the store the device has to
// see and the load that decides, in both handshakes: after publish()'s idx store and before
// needs_notify() reads avail_event; after enable_interrupts() wrote used_event and before the
// driver's more_used() reads the used idx.
TEST(Virtqueue, HandshakeBarrierSitsBetweenStoreAndLoad)
{
    Rig r(16, true);
    g_barrier_rig = &r;
    g_barrier_views.clear();
    r.vq->set_barrier(record_barrier);
    r.dev->set_avail_event(0);
    ASSERT_TRUE(r.add(1, 0, tok(1)));
    r.vq->publish();
    EXPECT_TRUE(r.vq->needs_notify());
    ASSERT_EQ(g_barrier_views.size(), 1u);
    EXPECT_EQ(g_barrier_views[0].avail_idx, 1) << "the barrier ran before the idx store";

    r.vq->disable_interrupts();
    for (auto& c : r.dev->take_available())
        r.dev->complete(c);
    void* t;
    u32 len;
    ASSERT_TRUE(r.vq->pop_used(&t, &len));
    r.vq->enable_interrupts();
    ASSERT_EQ(g_barrier_views.size(), 2u);
    EXPECT_EQ(g_barrier_views[1].used_event, 1) << "the barrier ran before used_event was written";
    EXPECT_FALSE(r.vq->more_used());

    // Without a hook the queue still works (a C++ fence only).
    r.vq->set_barrier(nullptr);
    ASSERT_TRUE(r.add(1, 0, tok(2)));
    r.vq->publish();
    (void)r.vq->needs_notify();
    EXPECT_EQ(g_barrier_views.size(), 2u);
    g_barrier_rig = nullptr;
}
