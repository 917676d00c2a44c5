// SPDX-License-Identifier: MIT
#pragma once

// The driver side of a split virtqueue (virtio 1.2 §2.7): pure ring logic over memory the
// caller provides, with no hardware access, so it is unit-tested on the host against a fake
// device. The transport (PCI modern, MMIO) programs desc_phys()/avail_phys()/used_phys() and
// delivers notifications; device drivers (net, blk, rng) add and pop buffer chains.
//
// Everything the device writes (used ring entries, used idx, the used ring's flags and
// avail_event) is input, never an invariant. pop_used() checks each used entry against the
// driver's own record of the chains in flight, and that record lives in Slot memory that is
// not shared with the device, so a buggy or hostile device can at worst lose its own
// completions; it cannot make the driver free a descriptor twice, touch a chain it never
// offered, or read past a buffer.
//
// Not thread-safe: one owner (the device driver, under its own lock) makes every call.
// Indirect descriptors (VIRTIO_F_INDIRECT_DESC) are not used, so do not negotiate them.

#include <kernel/types.h>

#include <cstddef>

namespace atl::virtio {

class Virtqueue {
public:
    // One element of a chain: guest-physical address and length in bytes.
    struct Buffer {
        u64 phys = 0;
        u32 len = 0;
    };

    // The driver's private record of one descriptor. The caller allocates room for
    // queue-size Slots in ordinary (not device-shared) memory, suitably aligned; the
    // constructor initialises them, and only Virtqueue reads them.
    class Slot {
        friend class Virtqueue;
        void* m_token = nullptr; // head only: handed back on completion
        u32 m_in_len = 0;        // head only: device-writable bytes in the chain (capped)
        u16 m_next = 0;          // next descriptor in the free list or in the chain
        u16 m_chain_len = 0;     // head only: descriptors in the chain
        bool m_in_flight = false; // true only on the head of a chain the device owns
    };

    // Named counters, readable at run time. A non-zero bad_* counter means the device broke
    // the protocol; the driver should report it and reset the device.
    struct Stats {
        u64 completed = 0;     // chains handed back by pop_used()
        u64 full = 0;          // add() refused: not enough free descriptors
        u64 bad_id = 0;        // used entry whose id is not a descriptor index
        u64 not_in_flight = 0; // id is not the head of a chain in flight (incl. duplicates)
        u64 bad_len = 0;       // len larger than the chain's device-writable bytes
    };

    // virtio 1.2 §2.7: the split queue size is a power of two, at most 32768.
    static constexpr u16 k_max_size = 32768;
    // virtio 1.2 §2.7.1: the descriptor table is 16-byte aligned, and it comes first.
    static constexpr std::size_t k_memory_alignment = 16;

    // The constructor cannot fail, so callers check the size (usually read from the device)
    // with valid_size() first.
    static bool valid_size(u16 size);
    // Bytes of device-shared memory for the three parts: descriptor table, available ring,
    // then (4-byte aligned) used ring. Only meaningful for a valid size.
    static std::size_t memory_size(u16 size);

    // `memory` (virtual) and `memory_phys` (what the device sees) are the same
    // memory_size(size) bytes, both aligned to k_memory_alignment; `slots` has `size`
    // entries. Zeroes the rings. Traps on a size that is not valid_size() or on misaligned
    // memory: those are caller bugs, and going on would corrupt memory.
    Virtqueue(u16 size, void* memory, u64 memory_phys, Slot* slots);
    Virtqueue(const Virtqueue&) = delete;
    Virtqueue& operator=(const Virtqueue&) = delete;

    // Whether VIRTIO_F_EVENT_IDX was negotiated; call before the queue is used.
    void set_event_idx(bool negotiated);
    // The store-then-load barrier of the notification handshakes (needs_notify(),
    // enable_interrupts()) when a C++ fence is not enough: the device may be emulated on
    // another host thread that the guest's fence instructions do not reach (kernel
    // arch::device_barrier()). Without one, a seq_cst fence.
    void set_barrier(void (*barrier)()) { m_barrier = barrier; }

    u16 size() const { return m_size; }
    u16 num_free() const { return m_num_free; }
    const Stats& stats() const { return m_stats; }

    // Both sides' indices and suppression state at one instant, for the state dump: the
    // driver's own record next to what the rings themselves hold (the device's half read
    // from shared memory), so a stalled queue shows who is waiting for whom.
    struct Snapshot {
        u16 size, num_free;
        u16 avail_idx;         // as written in the available ring
        u16 next_avail;        // where the next chain goes (ahead of avail_idx before publish())
        u16 used_idx;          // as the device last wrote it in the used ring
        u16 last_used;         // used entries consumed so far
        u16 avail_flags;       // VIRTQ_AVAIL_F_NO_INTERRUPT without EVENT_IDX
        u16 used_flags;        // VIRTQ_USED_F_NO_NOTIFY (device-written)
        u16 used_event;        // EVENT_IDX: interrupt me when used idx passes this
        u16 avail_event;       // EVENT_IDX: notify the device when avail idx passes this (device-written)
        u16 notified_idx;      // avail idx at the last needs_notify()
        bool event_idx, interrupts_enabled;
        Stats stats;
    };
    Snapshot snapshot() const;

    u64 desc_phys() const;
    u64 avail_phys() const;
    u64 used_phys() const;

    // Places a chain: `out_count` device-readable buffers, then `in_count` device-writable
    // ones (virtio 1.2 §2.7.4.2 requires that order). `token` comes back from pop_used().
    // The chain is visible to the device only after publish(). Returns false, and counts
    // `full`, if fewer than out_count + in_count descriptors are free. Also returns false
    // (uncounted, nothing changed) for a chain that can never be placed: empty, longer than
    // the queue, or more than 2^32 bytes in total (§2.7.5.2).
    [[nodiscard]] bool add(const Buffer* bufs, std::size_t out_count, std::size_t in_count,
                           void* token);

    // Makes every chain added so far visible to the device (bumps the available idx).
    void publish();

    // Whether the device wants an available-buffer notification for what was published
    // since the previous call: the avail_event rule with VIRTIO_F_EVENT_IDX, otherwise the
    // used ring's NO_NOTIFY flag (virtio 1.2 §2.7.10). Call once after each publish().
    [[nodiscard]] bool needs_notify();

    // Next completed chain: its token and the bytes the device wrote. Returns its
    // descriptors to the free list. Entries that fail validation are counted in stats() and
    // skipped; a chain whose len is too large stays in flight (the device's word about it is
    // not believed). Returns false when no valid completion is pending.
    [[nodiscard]] bool pop_used(void** token, u32* len);

    // True if the device has written used entries that pop_used() has not consumed yet.
    bool more_used() const;

    // Used-buffer notification suppression (virtio 1.2 §2.7.7): a hint only, the device may
    // still interrupt. After enable_interrupts(), call more_used() and drain again if true,
    // or a completion that raced with the enable goes unnoticed (§2.7.14).
    void disable_interrupts();
    void enable_interrupts();

    // Only after the device has been reset (it owns nothing any more): hands back one chain
    // still in flight, so the driver can free its buffers before dropping the queue. A reset
    // device restarts its indices at 0, so reuse means constructing a new Virtqueue.
    [[nodiscard]] bool detach_unused(void** token);

private:
    struct Desc;
    struct UsedElem;

    bool accept_used(u32 id, u32 len, void** token, u32* len_out);
    void free_chain(u16 head);
    void write_used_event();
    void full_barrier() const;

    u16 m_size;
    u16 m_mask;
    u64 m_phys;
    Desc* m_desc;
    u16* m_avail;           // flags, idx, ring[size], used_event
    u16* m_used;            // flags, idx
    UsedElem* m_used_ring;  // ring[size]
    u16* m_avail_event;     // after the used ring
    Slot* m_slots;

    u16 m_free_head = 0;
    u16 m_num_free;
    u16 m_avail_idx = 0;     // where the next head goes; ahead of the published idx
    u16 m_published_idx = 0; // last value written to the available idx
    u16 m_notified_idx = 0;  // m_published_idx at the previous needs_notify()
    u16 m_last_used = 0;     // used entries consumed so far (mod 2^16)
    bool m_event_idx = false;
    bool m_interrupts_enabled = true;
    void (*m_barrier)() = nullptr;
    Stats m_stats;
};

} // namespace atl::virtio
