// SPDX-License-Identifier: MIT
#pragma once

#include <virtio/transport.h>
#include <virtio/virtqueue.h>

namespace atl::kernel {
class DumpOutput;
}

namespace atl::virtio {

// The device drivers: each takes the transport over (and frees it when it fails), starts the
// device and registers it with its device class.
Result<void> start_net(kernel::OwnPtr<Transport> t);
Result<void> start_rng(kernel::OwnPtr<Transport> t);

// A virtqueue and the memory it runs on: the rings (device-shared pages), the driver's slots
// and `buffer_bytes` of buffers for the device. Whatever allocate() got goes back to the
// allocators with the QueueMemory, so the device is to be reset first (it may still write
// there).
struct QueueMemory {
    kernel::OwnPtr<Virtqueue> vq;
    u8* buffers = nullptr;
    u16 size = 0;

    QueueMemory() = default;
    QueueMemory(const QueueMemory&) = delete;
    QueueMemory& operator=(const QueueMemory&) = delete;
    ~QueueMemory();

    // A queue of SIZE (a valid Virtqueue size) entries, its rings zeroed. ENOMEM when any part
    // of it cannot be had (what was had is kept until the QueueMemory goes).
    Result<void> allocate(u16 size, u64 buffer_bytes);

private:
    u64 m_ring = 0, m_ring_bytes = 0, m_buffer_bytes = 0;
    Virtqueue::Slot* m_slots = nullptr;
};

// One line of the state dump about a queue, from a snapshot taken with interrupts off.
void dump_virtqueue(kernel::DumpOutput& out, const char* name, const Virtqueue::Snapshot& s);

} // namespace atl::virtio
