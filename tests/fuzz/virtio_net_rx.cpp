// SPDX-License-Identifier: MIT
// Fuzz target: virtio-net's receive path (drivers/virtio/net/net_rx.h, as the driver in
// net.cpp runs it) over a real Virtqueue whose device fills receive buffers as the input says:
// any num_buffers in the header, any used length (below the header, past the buffer), used
// entries for heads it never got. Every frame handed up must fit the reassembly buffer and
// hold exactly the bytes the device wrote; every buffer the queue gives back must be reposted
// exactly once; no access may leave the buffers or the ring.
#include "net_rx.h"

#include <virtio/virtqueue.h>

#include <fuzzer/FuzzedDataProvider.h>
#include <sanitizer/asan_interface.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

using atl::u16;
using atl::u32;
using atl::u64;
using atl::u8;
using atl::virtio::Virtqueue;
namespace net_rx = atl::virtio::net_rx;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "virtio_net_rx fuzz: invariant broken: %s\n", what);
    std::abort();
}

constexpr std::size_t k_buffer = 2048;      // net.cpp's receive buffers
constexpr std::size_t k_assembly = 65536;   // net.cpp's reassembly buffer
constexpr u64 k_phys = 0x4000'0000;

// Memory of exactly `bytes` usable bytes (aligned start; the rest of the last granule poisoned).
u8* alloc_exact(std::size_t bytes)
{
    std::size_t rounded = (bytes + 15) & ~std::size_t(15);
    auto* p = static_cast<u8*>(std::aligned_alloc(16, rounded ? rounded : 16));
    std::memset(p, 0, rounded);
    ASAN_POISON_MEMORY_REGION(p + bytes, rounded - bytes);
    return p;
}
void free_exact(u8* p, std::size_t bytes)
{
    std::size_t rounded = (bytes + 15) & ~std::size_t(15);
    ASAN_UNPOISON_MEMORY_REGION(p + bytes, rounded - bytes);
    std::free(p);
}

// The driver's side: net.cpp's queue adapter, plus a record of who owns each buffer.
struct Driver {
    Virtqueue* vq;
    u8* buffers;
    u16 count;
    std::vector<bool> device_owns; // posted and not yet handed back
    std::vector<u16> popped;        // handed back during the current take_frame()

    bool post(u16 index)
    {
        Virtqueue::Buffer b { reinterpret_cast<u64>(buffers + std::size_t(index) * k_buffer), static_cast<u32>(k_buffer) };
        return vq->add(&b, 0, 1, reinterpret_cast<void*>(static_cast<std::uintptr_t>(index) + 1));
    }
    bool pop(u16* index, u32* used)
    {
        void* token = nullptr;
        bool got = vq->pop_used(&token, used);
        *index = static_cast<u16>(reinterpret_cast<std::uintptr_t>(token) - 1);
        if (got) {
            if (*index >= count || !device_owns[*index])
                fail("the queue handed back a buffer the device does not own");
            device_owns[*index] = false;
            popped.push_back(*index);
        }
        return got;
    }
    void repost(u16 index)
    {
        if (index >= count)
            fail("repost of an index that names no buffer");
        if (device_owns[index])
            fail("a buffer reposted while the device owns it");
        if (!post(index))
            fail("a repost failed: the buffer is lost");
        device_owns[index] = true;
    }
};

// One chain the device took from the available ring: its head and the buffer it points to.
struct Taken {
    u16 head;
    u8* buf;
    u32 cap;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    u16 qsize = static_cast<u16>(1u << in.ConsumeIntegralInRange<unsigned>(0, 8)); // 1..256
    bool mergeable = in.ConsumeBool();

    std::size_t ring_bytes = Virtqueue::memory_size(qsize);
    u8* ring = alloc_exact(ring_bytes);
    auto* slots = static_cast<Virtqueue::Slot*>(std::malloc(sizeof(Virtqueue::Slot) * qsize));
    Virtqueue vq(qsize, ring, k_phys, slots);
    vq.set_event_idx(in.ConsumeBool());
    // The receive buffers and the reassembly buffer are made once (they are large); the buffers
    // of a queue smaller than the largest are poisoned beyond it.
    static u8* all_buffers = alloc_exact(256 * k_buffer);
    static u8* assembly = alloc_exact(k_assembly);
    u8* buffers = all_buffers;
    ASAN_UNPOISON_MEMORY_REGION(all_buffers, 256 * k_buffer);
    ASAN_POISON_MEMORY_REGION(all_buffers + std::size_t(qsize) * k_buffer, (256 - std::size_t(qsize)) * k_buffer);

    Driver drv { &vq, buffers, qsize, std::vector<bool>(qsize, false), {} };
    for (u16 i = 0; i < qsize; ++i) {
        if (!drv.post(i))
            fail("cannot post the initial buffers");
        drv.device_owns[i] = true;
    }
    vq.publish();

    // The device's view, from the addresses the transport would program.
    auto* desc = ring + (vq.desc_phys() - k_phys);
    auto* avail = reinterpret_cast<u16*>(ring + (vq.avail_phys() - k_phys));
    auto* used = ring + (vq.used_phys() - k_phys);
    u16 last_avail = 0, used_idx = 0;
    std::deque<Taken> taken;
    // What the device wrote into each of its used entries, in order, for checking frames.
    struct Written {
        u16 head;
        std::vector<u8> bytes; // as it stood in the buffer (up to the used length or the buffer)
    };
    std::deque<Written> written;

    for (int steps = 0; steps < 256 && in.remaining_bytes() > 0; ++steps) {
        switch (in.ConsumeIntegralInRange<int>(0, 3)) {
        case 0: { // the device takes what the driver published
            u16 idx = avail[1];
            while (last_avail != idx && taken.size() < qsize) {
                u16 head = avail[2 + (last_avail % qsize)];
                ++last_avail;
                if (head >= qsize)
                    continue;
                const u8* d = desc + 16 * std::size_t(head);
                u64 addr;
                u32 len;
                std::memcpy(&addr, d, 8);
                std::memcpy(&len, d + 8, 4);
                taken.push_back({ head, reinterpret_cast<u8*>(addr), len });
            }
            break;
        }
        case 1: { // the device fills the next taken buffer and uses it (or lies about it)
            if (taken.empty())
                break;
            Taken t = taken.front();
            taken.pop_front();
            std::vector<u8> bytes = in.ConsumeBytes<u8>(in.ConsumeIntegralInRange<std::size_t>(0, t.cap));
            if (bytes.size() >= net_rx::k_header && in.ConsumeBool()) { // a plausible num_buffers
                u16 n = in.ConsumeIntegralInRange<u16>(0, 4);
                bytes[10] = static_cast<u8>(n);
                bytes[11] = static_cast<u8>(n >> 8);
            }
            if (!bytes.empty())
                std::memcpy(t.buf, bytes.data(), bytes.size());
            u32 len = static_cast<u32>(bytes.size());
            switch (in.ConsumeIntegralInRange<int>(0, 5)) {
            case 0: len = in.ConsumeIntegral<u32>(); break;                   // any length
            case 1: len = t.cap + in.ConsumeIntegralInRange<u32>(1, 16); break; // past the buffer
            default: break;                                                    // the truth
            }
            // A lie about the id names no descriptor (the virtqueue target covers the rest).
            u32 id = in.ConsumeIntegralInRange<int>(0, 15) == 0 ? in.ConsumeIntegralInRange<u32>(qsize, 0xffff'ffffu)
                                                                 : t.head;
            u8* e = used + 4 + 8 * std::size_t(used_idx % qsize);
            std::memcpy(e, &id, 4);
            std::memcpy(e + 4, &len, 4);
            ++used_idx;
            std::memcpy(used + 2, &used_idx, 2);
            if (id == t.head && len <= t.cap)
                written.push_back({ t.head, std::vector<u8>(t.buf, t.buf + len) });
            break;
        }
        case 2: { // the driver's service loop: frames until none, then publish
            for (int frames = 0; frames < 64; ++frames) {
                std::size_t len = 0;
                drv.popped.clear();
                net_rx::Take took = net_rx::take_frame(drv, buffers, k_buffer, qsize, mergeable, assembly, k_assembly, &len);
                for (u16 index : drv.popped)
                    if (!drv.device_owns[index])
                        fail("a buffer was not given back to the device");
                if (took == net_rx::Take::None)
                    break;
                // The buffers it consumed are the oldest the device used truthfully, in order.
                std::vector<u8> expect;
                for (std::size_t i = 0; i < drv.popped.size(); ++i) {
                    if (written.empty() || written.front().head != drv.popped[i])
                        fail("a buffer came back out of the order the device used it");
                    const std::vector<u8>& b = written.front().bytes;
                    if (i == 0)
                        expect.insert(expect.end(), b.begin() + std::min(b.size(), net_rx::k_header), b.end());
                    else
                        expect.insert(expect.end(), b.begin(), b.end());
                    written.pop_front();
                }
                if (took == net_rx::Take::Frame) {
                    if (len > k_assembly || len != expect.size() || (len && std::memcmp(assembly, expect.data(), len) != 0))
                        fail("a frame is not the bytes the device wrote");
                } else if (len != 0) {
                    fail("a dropped frame with a length");
                }
            }
            vq.publish();
            break;
        }
        case 3:
            (void)vq.needs_notify();
            break;
        }
    }

    std::free(slots);
    free_exact(ring, ring_bytes);
    return 0;
}
