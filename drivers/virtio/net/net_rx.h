// SPDX-License-Identifier: MIT
#pragma once

// virtio-net's receive path without the hardware: one frame taken out of the used receive
// buffers (virtio 1.2 §5.1.6.3, §5.1.6.4), every length and count the device wrote checked.
// The driver (net.cpp) runs it over its queue; tests/fuzz/virtio_net_rx.cpp runs it over a
// queue whose device writes what the input says. Pure logic: no locks, no device access.

#include <kernel/types.h>

#include <cstring>

namespace atl::virtio::net_rx {

// struct virtio_net_hdr with num_buffers (virtio 1.2 §5.1.6): VERSION_1 always has the field.
constexpr std::size_t k_header = 12;
constexpr std::size_t k_num_buffers_at = 10;

enum class Take : u8 {
    None,    // no used buffer pending
    Frame,   // a frame of *len bytes is in `out`
    Dropped, // the device's buffers made no valid frame; they went back to the device
};

// `queue` gives buffers back in the order the device used them and takes them back:
//   bool pop(u16* index, u32* used): the next used buffer's index and the bytes the device
//       says it wrote; false when none is pending;
//   void repost(u16 index): the buffer goes back to the device.
// Buffer i is buffers[i * buffer_size .. +buffer_size). Every buffer that pop() hands out is
// reposted exactly once before this returns, whatever the device wrote. With mergeable
// buffers (VIRTIO_NET_F_MRG_RXBUF) the header's num_buffers says how many used buffers the
// frame spans; without, each buffer is one frame.
template <typename Queue>
Take take_frame(Queue& queue, const u8* buffers, std::size_t buffer_size, u16 buffer_count, bool mergeable, u8* out,
    std::size_t out_capacity, std::size_t* len)
{
    *len = 0;
    u16 index = 0;
    u32 used = 0;
    if (!queue.pop(&index, &used))
        return Take::None;
    // An index the driver never gave out names no buffer: nothing to read or give back.
    if (index >= buffer_count)
        return Take::Dropped;
    const u8* buf = buffers + std::size_t(index) * buffer_size;
    if (used < k_header || used > buffer_size) {
        queue.repost(index);
        return Take::Dropped;
    }
    u16 num_buffers = mergeable ? static_cast<u16>(buf[k_num_buffers_at] | (buf[k_num_buffers_at + 1] << 8)) : 1;
    std::size_t total = used - k_header;
    if (total > out_capacity) {
        queue.repost(index);
        return Take::Dropped;
    }
    std::memcpy(out, buf + k_header, total);
    // The rest of a merged frame: buffers 2..num_buffers, payload only (no header of their own).
    for (u16 i = 1; i < num_buffers; ++i) {
        queue.repost(index);
        if (!queue.pop(&index, &used))
            return Take::Dropped; // the device promised more buffers than it used
        if (index >= buffer_count)
            return Take::Dropped;
        if (used > buffer_size || used > out_capacity - total) {
            queue.repost(index); // the frame is dropped, its buffer is not
            return Take::Dropped;
        }
        std::memcpy(out + total, buffers + std::size_t(index) * buffer_size, used);
        total += used;
    }
    queue.repost(index);
    *len = total;
    return Take::Frame;
}

} // namespace atl::virtio::net_rx
