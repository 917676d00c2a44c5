// SPDX-License-Identifier: MIT
#include <virtio/virtqueue.h>

#include <atomic>
#include <bit>
#include <cstring>
#include <new>

namespace atl::virtio {

// virtio 1.2 §2.7.3: only legacy rings are in guest byte order; 1.x rings are little-endian,
// which on the targets we build for is the native order, so fields are used as they are.
static_assert(std::endian::native == std::endian::little, "virtio 1.x rings are little-endian");

// virtio 1.2 §2.7.5.
struct Virtqueue::Desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
};

// virtio 1.2 §2.7.8.
struct Virtqueue::UsedElem {
    u32 id;
    u32 len;
};

namespace {

constexpr u16 k_desc_f_next = 1;          // VIRTQ_DESC_F_NEXT
constexpr u16 k_desc_f_write = 2;         // VIRTQ_DESC_F_WRITE
constexpr u16 k_avail_f_no_interrupt = 1; // VIRTQ_AVAIL_F_NO_INTERRUPT
constexpr u16 k_used_f_no_notify = 1;     // VIRTQ_USED_F_NO_NOTIFY

// Indices into the available ring viewed as u16[]; the used ring's header likewise.
constexpr std::size_t k_flags = 0;
constexpr std::size_t k_idx = 1;
constexpr std::size_t k_ring = 2;

// Every access to shared memory goes through a relaxed atomic: the compiler may then neither
// tear, merge nor repeat it. Reading a device-written field exactly once matters: a value
// that was checked must be the value that is used, whatever the device writes meanwhile.
// Ordering comes from the explicit fences at the points the spec names.
template <typename T>
T load_shared(T& field)
{
    return std::atomic_ref<T>(field).load(std::memory_order_relaxed);
}

template <typename T>
void store_shared(T& field, T value)
{
    std::atomic_ref<T>(field).store(value, std::memory_order_relaxed);
}

// virtio 1.2 §2.7.10 (vring_need_event): true when `event` lies in the half-open window
// (old, new] of indices just passed, all mod 2^16.
bool need_event(u16 event, u16 new_idx, u16 old_idx)
{
    return static_cast<u16>(new_idx - event - 1) < static_cast<u16>(new_idx - old_idx);
}

constexpr std::size_t avail_offset(u16 size) { return 16 * std::size_t { size }; }
constexpr std::size_t used_offset(u16 size)
{
    // virtio 1.2 §2.7: the available ring is 6 + 2 * size bytes; the used ring is 4-aligned.
    return align_up(avail_offset(size) + 6 + 2 * std::size_t { size }, 4);
}

} // namespace

bool Virtqueue::valid_size(u16 size)
{
    return size != 0 && size <= k_max_size && (size & (size - 1)) == 0;
}

std::size_t Virtqueue::memory_size(u16 size)
{
    return used_offset(size) + 6 + 8 * std::size_t { size };
}

Virtqueue::Virtqueue(u16 size, void* memory, u64 memory_phys, Slot* slots)
    : m_size(size)
    , m_mask(static_cast<u16>(size - 1))
    , m_phys(memory_phys)
    , m_slots(slots)
    , m_num_free(size)
{
    static_assert(sizeof(Desc) == 16 && sizeof(UsedElem) == 8, "virtio 1.2 §2.7.5, §2.7.8");

    // A bad size or alignment is a caller bug that would make every later index or device
    // access wrong, so stop here rather than corrupt memory.
    if (!valid_size(size) || reinterpret_cast<uptr>(memory) % k_memory_alignment != 0
        || memory_phys % k_memory_alignment != 0 || slots == nullptr)
        __builtin_trap();

    // Zeroing gives idx 0 on both rings and used flags 0, which virtio 1.2 §2.7.10.1 requires
    // of the driver before the device starts.
    auto* base = static_cast<u8*>(memory);
    std::memset(base, 0, memory_size(size));
    m_desc = reinterpret_cast<Desc*>(base);
    m_avail = reinterpret_cast<u16*>(base + avail_offset(size));
    m_used = reinterpret_cast<u16*>(base + used_offset(size));
    m_used_ring = reinterpret_cast<UsedElem*>(base + used_offset(size) + 4);
    m_avail_event = reinterpret_cast<u16*>(base + used_offset(size) + 4 + 8 * std::size_t { size });

    // Every descriptor starts on the free list, in order. The list runs through the private
    // Slot::m_next, never through the shared table, which the device could overwrite.
    // Placement new: callers may hand over raw zeroed memory rather than constructed Slots.
    for (u32 i = 0; i < size; ++i)
        new (&m_slots[i]) Slot {};
    for (u32 i = 0; i + 1 < size; ++i)
        m_slots[i].m_next = static_cast<u16>(i + 1);
}

void Virtqueue::set_event_idx(bool negotiated)
{
    m_event_idx = negotiated;
    // virtio 1.2 §2.7.7.1: with EVENT_IDX the flags must be 0 and used_event carries the
    // suppression; without it, flags carries it and used_event is ignored.
    bool suppress_flag = !m_event_idx && !m_interrupts_enabled;
    store_shared(m_avail[k_flags], suppress_flag ? k_avail_f_no_interrupt : u16 { 0 });
    write_used_event();
}

u64 Virtqueue::desc_phys() const { return m_phys; }
u64 Virtqueue::avail_phys() const { return m_phys + avail_offset(m_size); }
u64 Virtqueue::used_phys() const { return m_phys + used_offset(m_size); }

bool Virtqueue::add(const Buffer* bufs, std::size_t out_count, std::size_t in_count, void* token)
{
    if (out_count > m_size || in_count > m_size)
        return false;
    std::size_t count = out_count + in_count;
    if (count == 0 || count > m_size)
        return false;

    u64 total_bytes = 0;
    u64 in_bytes = 0;
    for (std::size_t i = 0; i < count; ++i) {
        total_bytes += bufs[i].len;
        if (i >= out_count)
            in_bytes += bufs[i].len;
    }
    // virtio 1.2 §2.7.5.2: no chain longer than 2^32 bytes in total.
    if (total_bytes > (u64 { 1 } << 32))
        return false;

    if (count > m_num_free) {
        ++m_stats.full;
        return false;
    }

    // virtio 1.2 §2.7.13.1. Free descriptors are already linked through m_next, so taking the
    // first `count` of the free list gives the chain's links for free.
    u16 head = m_free_head;
    u16 d = head;
    for (std::size_t i = 0; i < count; ++i) {
        bool more = i + 1 < count;
        u16 flags = static_cast<u16>((i >= out_count ? k_desc_f_write : 0)
                                     | (more ? k_desc_f_next : 0));
        Desc& desc = m_desc[d];
        store_shared(desc.addr, bufs[i].phys);
        store_shared(desc.len, bufs[i].len);
        store_shared(desc.flags, flags);
        store_shared(desc.next, more ? m_slots[d].m_next : u16 { 0 });
        d = m_slots[d].m_next;
    }
    // When the queue is now full, d is stale, but it is never followed while m_num_free is 0.
    m_free_head = d;
    m_num_free = static_cast<u16>(m_num_free - count);

    Slot& h = m_slots[head];
    h.m_token = token;
    // A used len is a u32, so capping at its maximum keeps the comparison in pop_used() exact.
    h.m_in_len = in_bytes > 0xffff'ffffu ? 0xffff'ffffu : static_cast<u32>(in_bytes);
    h.m_chain_len = static_cast<u16>(count);
    h.m_in_flight = true;

    // virtio 1.2 §2.7.13.2: idx is free-running, so the slot is idx mod size.
    store_shared(m_avail[k_ring + (m_avail_idx & m_mask)], head);
    ++m_avail_idx;
    return true;
}

void Virtqueue::publish()
{
    // virtio 1.2 §2.7.13.3.1: the descriptors and ring entries must be visible before idx.
    std::atomic_thread_fence(std::memory_order_release);
    store_shared(m_avail[k_idx], m_avail_idx);
    m_published_idx = m_avail_idx;
}

bool Virtqueue::needs_notify()
{
    // virtio 1.2 §2.7.13.4.1: the idx store must be ordered before the load of flags or
    // avail_event (store then load: only a full fence orders that), or the device may go to
    // sleep after we read "no notification needed" and never see the new buffers.
    full_barrier();
    u16 old_idx = m_notified_idx;
    u16 new_idx = m_published_idx;
    m_notified_idx = new_idx;
    if (old_idx == new_idx)
        return false;
    if (m_event_idx)
        return need_event(load_shared(*m_avail_event), new_idx, old_idx);
    return (load_shared(m_used[k_flags]) & k_used_f_no_notify) == 0;
}

bool Virtqueue::pop_used(void** token, u32* len)
{
    u16 used_idx = load_shared(m_used[k_idx]);
    // virtio 1.2 §2.7.8.2: the device writes entries before idx; read them only after it.
    std::atomic_thread_fence(std::memory_order_acquire);

    // Bounded: at most 2^16 - 1 entries lie between m_last_used and a (possibly bogus) idx,
    // and each is consumed whether or not it is valid.
    bool found = false;
    bool consumed = false;
    while (!found && m_last_used != used_idx) {
        UsedElem& e = m_used_ring[m_last_used & m_mask];
        u32 id = load_shared(e.id);
        u32 n = load_shared(e.len);
        ++m_last_used;
        consumed = true;
        found = accept_used(id, n, token, len);
    }
    if (consumed)
        write_used_event();
    return found;
}

bool Virtqueue::accept_used(u32 id, u32 len, void** token, u32* len_out)
{
    if (id >= m_size) {
        ++m_stats.bad_id;
        return false;
    }
    Slot& h = m_slots[id];
    // Catches a free descriptor, a descriptor in the middle of a chain, and a chain that was
    // already completed: only heads of chains the device owns have m_in_flight set.
    if (!h.m_in_flight) {
        ++m_stats.not_in_flight;
        return false;
    }
    // virtio 1.2 §2.7.8: len is the bytes written into the device-writable part. More than
    // that part holds would have the driver read past its buffers. The chain stays in flight:
    // a device that lies about it may still be writing to it.
    if (len > h.m_in_len) {
        ++m_stats.bad_len;
        return false;
    }
    *token = h.m_token;
    *len_out = len;
    free_chain(static_cast<u16>(id));
    ++m_stats.completed;
    return true;
}

void Virtqueue::free_chain(u16 head)
{
    Slot& h = m_slots[head];
    // The chain's links are the private m_next values set in add(), never the shared table.
    u16 last = head;
    for (u16 i = 1; i < h.m_chain_len; ++i)
        last = m_slots[last].m_next;
    m_slots[last].m_next = m_free_head;
    m_free_head = head;
    m_num_free = static_cast<u16>(m_num_free + h.m_chain_len);
    h.m_in_flight = false;
    h.m_token = nullptr;
    h.m_chain_len = 0;
    h.m_in_len = 0;
}

void Virtqueue::write_used_event()
{
    if (!m_event_idx)
        return;
    u16& used_event = m_avail[k_ring + m_size];
    if (!m_interrupts_enabled) {
        // virtio 1.2 §2.7.7: the device interrupts when it writes the entry at used_event.
        // The entry just behind the ones the device can be writing is the furthest away, so
        // it stays quiet; refreshed on every pop so it never catches up after 2^16 entries.
        store_shared(used_event, static_cast<u16>(m_last_used - 1));
        return;
    }
    // Ask for an interrupt at the very next entry. Before the driver relies on that interrupt
    // (to sleep), enable_interrupts() orders this store before its load of the used idx; while
    // it keeps draining, the order does not matter (it reads the idx again anyway).
    store_shared(used_event, m_last_used);
}

bool Virtqueue::more_used() const
{
    return load_shared(m_used[k_idx]) != m_last_used;
}

void Virtqueue::disable_interrupts()
{
    m_interrupts_enabled = false;
    if (m_event_idx)
        write_used_event();
    else
        store_shared(m_avail[k_flags], k_avail_f_no_interrupt);
}

void Virtqueue::enable_interrupts()
{
    m_interrupts_enabled = true;
    if (m_event_idx)
        write_used_event();
    else
        store_shared(m_avail[k_flags], u16 { 0 });
    // used_event (or the flag) must be visible before the caller's more_used() reads the used
    // idx (virtio 1.2 §2.7.14): otherwise the device could add an entry, read the old value,
    // stay quiet, and we would not see the entry either.
    full_barrier();
}

void Virtqueue::full_barrier() const
{
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (m_barrier)
        m_barrier();
}

Virtqueue::Snapshot Virtqueue::snapshot() const
{
    Snapshot s {};
    s.size = m_size;
    s.num_free = m_num_free;
    s.avail_idx = load_shared(m_avail[k_idx]);
    s.next_avail = m_avail_idx;
    s.used_idx = load_shared(m_used[k_idx]);
    s.last_used = m_last_used;
    s.avail_flags = load_shared(m_avail[k_flags]);
    s.used_flags = load_shared(m_used[k_flags]);
    s.used_event = load_shared(m_avail[k_ring + m_size]);
    s.avail_event = load_shared(*m_avail_event);
    s.notified_idx = m_notified_idx;
    s.event_idx = m_event_idx;
    s.interrupts_enabled = m_interrupts_enabled;
    s.stats = m_stats;
    return s;
}

bool Virtqueue::detach_unused(void** token)
{
    for (u32 i = 0; i < m_size; ++i) {
        if (m_slots[i].m_in_flight) {
            *token = m_slots[i].m_token;
            free_chain(static_cast<u16>(i));
            return true;
        }
    }
    return false;
}

} // namespace atl::virtio
