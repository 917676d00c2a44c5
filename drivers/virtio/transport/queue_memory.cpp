// SPDX-License-Identifier: MIT
// The memory of a virtqueue (devices.h), shared by the virtio device drivers.
#include "devices.h"

#include <kernel/heap.h>
#include <kernel/memory.h>

#include <cerrno>
#include <cstring>

namespace atl::virtio {

Result<void> QueueMemory::allocate(u16 queue_size, u64 buffer_bytes)
{
    u64 ring_bytes = Virtqueue::memory_size(queue_size), buffers_phys = 0;
    if (!kernel::alloc_pages(ring_bytes, &m_ring))
        return Error::from_errno(ENOMEM);
    m_ring_bytes = ring_bytes;
    if (!kernel::alloc_pages(buffer_bytes, &buffers_phys))
        return Error::from_errno(ENOMEM);
    buffers = reinterpret_cast<u8*>(buffers_phys);
    m_buffer_bytes = buffer_bytes;
    std::memset(reinterpret_cast<void*>(m_ring), 0, align_up(ring_bytes, k_page_size));
    m_slots = static_cast<Virtqueue::Slot*>(kernel::kzalloc(sizeof(Virtqueue::Slot) * queue_size));
    if (!m_slots)
        return Error::from_errno(ENOMEM);
    vq = TRY(kernel::make_own<Virtqueue>(queue_size, reinterpret_cast<void*>(m_ring), m_ring, m_slots));
    size = queue_size;
    return {};
}

QueueMemory::~QueueMemory()
{
    vq.reset();
    kernel::kfree(m_slots);
    if (buffers)
        kernel::free_pages(reinterpret_cast<u64>(buffers), m_buffer_bytes);
    if (m_ring)
        kernel::free_pages(m_ring, m_ring_bytes);
}

} // namespace atl::virtio
