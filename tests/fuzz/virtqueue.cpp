// SPDX-License-Identifier: MIT
// Fuzz target: the split virtqueue (drivers/virtio/virtqueue/virtqueue.cpp) against a device that
// writes whatever the input says into the memory it shares with the driver: used entries with
// any id and length, any used idx, any bytes anywhere in the rings. The driver's calls are
// interleaved as the input says too. Whatever the device does, the driver must only ever hand
// back chains it placed and still owns, exactly once, with a length the chain can hold, and
// keep its own count of free descriptors right; no access may leave the ring memory.
#include <virtio/virtqueue.h>

#include <fuzzer/FuzzedDataProvider.h>
#include <sanitizer/asan_interface.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>

using atl::u16;
using atl::u32;
using atl::u64;
using atl::u8;
using atl::virtio::Virtqueue;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "virtqueue fuzz: invariant broken: %s\n", what);
    std::abort();
}

struct InFlight {
    u32 in_len;  // device-writable bytes (capped at 2^32 - 1 as the driver does)
    u16 descriptors;
};

constexpr u64 k_phys = 0x4000'0000;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    u16 qsize = static_cast<u16>(1u << in.ConsumeIntegralInRange<unsigned>(0, 8)); // 1..256
    bool event_idx = in.ConsumeBool();
    bool reset_at_end = in.ConsumeBool(); // detach_unused() is O(size) per chain: not every time

    // Exactly the ring's bytes (the alignment's rounding poisoned), so ASan sees any access past them.
    std::size_t bytes = Virtqueue::memory_size(qsize);
    std::size_t alloc = (bytes + Virtqueue::k_memory_alignment - 1) & ~(Virtqueue::k_memory_alignment - 1);
    auto* mem = static_cast<u8*>(std::aligned_alloc(Virtqueue::k_memory_alignment, alloc));
    ASAN_POISON_MEMORY_REGION(mem + bytes, alloc - bytes);
    auto* slots = static_cast<Virtqueue::Slot*>(std::malloc(sizeof(Virtqueue::Slot) * qsize));
    auto* vq = new Virtqueue(qsize, mem, k_phys, slots);
    vq->set_event_idx(event_idx);

    // Where the device finds the parts: only from the addresses the transport would program.
    u8* used = mem + (vq->used_phys() - k_phys);
    u8* avail = mem + (vq->avail_phys() - k_phys);
    u16 device_used_idx = 0;

    std::map<std::uintptr_t, InFlight> in_flight; // token -> chain
    std::uintptr_t next_token = 1;
    u16 descriptors_out = 0;

    auto check_free = [&] {
        if (vq->num_free() + descriptors_out != qsize)
            fail("num_free does not match the descriptors in flight");
    };
    auto take = [&](void* token, bool check_len, u32 len) {
        auto it = in_flight.find(reinterpret_cast<std::uintptr_t>(token));
        if (it == in_flight.end())
            fail("a token that is not in flight came back");
        if (check_len && len > it->second.in_len)
            fail("a used length larger than the chain's writable bytes was accepted");
        descriptors_out = static_cast<u16>(descriptors_out - it->second.descriptors);
        in_flight.erase(it);
    };

    for (int steps = 0; steps < 512 && in.remaining_bytes() > 0; ++steps) {
        switch (in.ConsumeIntegralInRange<int>(0, 10)) {
        case 0: { // the driver adds a chain
            std::size_t out_count = in.ConsumeIntegralInRange<std::size_t>(0, 4);
            std::size_t in_count = in.ConsumeIntegralInRange<std::size_t>(0, 4);
            Virtqueue::Buffer bufs[8];
            u64 in_bytes = 0, total = 0;
            for (std::size_t i = 0; i < out_count + in_count; ++i) {
                bufs[i].phys = in.ConsumeIntegral<u64>();
                bufs[i].len = in.ConsumeBool() ? in.ConsumeIntegral<u32>() : in.ConsumeIntegralInRange<u32>(0, 4096);
                total += bufs[i].len;
                if (i >= out_count)
                    in_bytes += bufs[i].len;
            }
            std::size_t count = out_count + in_count;
            std::uintptr_t token = next_token++;
            bool ok = vq->add(bufs, out_count, in_count, reinterpret_cast<void*>(token));
            bool placeable = count > 0 && count <= qsize && total <= (u64 { 1 } << 32);
            bool expected = placeable && count <= static_cast<std::size_t>(qsize - descriptors_out);
            if (ok != expected)
                fail("add() accepted or refused a chain against the free count");
            if (ok) {
                in_flight[token] = { in_bytes > 0xffff'ffffu ? 0xffff'ffffu : static_cast<u32>(in_bytes),
                                     static_cast<u16>(count) };
                descriptors_out = static_cast<u16>(descriptors_out + count);
            }
            break;
        }
        case 1:
            vq->publish();
            break;
        case 2:
            (void)vq->needs_notify();
            break;
        case 3: { // the device completes a head it read from the available ring (or any id)
            u16 slot = in.ConsumeIntegral<u16>();
            u32 id = in.ConsumeBool() ? in.ConsumeIntegral<u32>()
                                      : reinterpret_cast<u16*>(avail)[2 + (slot % qsize)];
            u32 len = in.ConsumeBool() ? in.ConsumeIntegral<u32>() : in.ConsumeIntegralInRange<u32>(0, 8192);
            u32* entry = reinterpret_cast<u32*>(used + 4) + 2 * (device_used_idx % qsize);
            entry[0] = id;
            entry[1] = len;
            ++device_used_idx;
            reinterpret_cast<u16*>(used)[1] = device_used_idx;
            break;
        }
        case 4: // the device writes a used idx ahead of the entries it wrote
            // Up to twice around the ring: entries it never wrote, or stale ones. (A step back is
            // the same walk over bogus entries in pop_used(), only 2^16 - k long: bounded, but
            // slow to fuzz; forward steps wrap the 16-bit index all the same.)
            device_used_idx = static_cast<u16>(device_used_idx + in.ConsumeIntegralInRange<int>(0, 2 * qsize + 8));
            reinterpret_cast<u16*>(used)[1] = device_used_idx;
            break;
        case 5: { // the device writes any bytes anywhere in the shared memory
            std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, bytes - 1);
            std::size_t n = in.ConsumeIntegralInRange<std::size_t>(1, 8);
            for (std::size_t i = 0; i < n && at + i < bytes; ++i)
                mem[at + i] = in.ConsumeIntegral<u8>();
            break;
        }
        case 6: { // the driver drains
            int limit = in.ConsumeIntegralInRange<int>(1, 64);
            void* token = nullptr;
            u32 len = 0;
            for (int i = 0; i < limit && vq->pop_used(&token, &len); ++i)
                take(token, true, len);
            break;
        }
        case 7:
            (void)vq->more_used();
            break;
        case 8:
            if (in.ConsumeBool())
                vq->disable_interrupts();
            else
                vq->enable_interrupts();
            break;
        case 9: {
            Virtqueue::Snapshot s = vq->snapshot();
            if (s.size != qsize || s.num_free != vq->num_free())
                fail("the snapshot disagrees with the queue");
            break;
        }
        case 10: // the device writes its notification fields
            reinterpret_cast<u16*>(used)[0] = in.ConsumeIntegral<u16>();
            *reinterpret_cast<u16*>(used + 4 + 8 * std::size_t { qsize }) = in.ConsumeIntegral<u16>();
            break;
        }
        check_free();
    }

    // A reset device owns nothing: every chain still in flight comes back exactly once.
    if (reset_at_end) {
        void* token = nullptr;
        while (vq->detach_unused(&token))
            take(token, false, 0);
        if (!in_flight.empty())
            fail("detach_unused() lost a chain");
        check_free();
        if (vq->num_free() != qsize)
            fail("not every descriptor is free after detaching");
    }

    delete vq;
    std::free(slots);
    ASAN_UNPOISON_MEMORY_REGION(mem + bytes, alloc - bytes);
    std::free(mem);
    return 0;
}
