// SPDX-License-Identifier: MIT
// virtio-rng (virtio 1.2 §5.4): one queue of device-writable buffers the device fills with
// entropy. getrandom and /dev/urandom draw from it when it is there.
#include "devices.h"

#include <drivers/entropy.h>
#include <kernel/console.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/lock.h>
#include <kernel/memory.h>
#include <kernel/sched.h>
#include <kernel/time.h>
#include <virtio/virtqueue.h>

#include <cstring>

namespace atl::virtio {

namespace {

struct Rng {
    // The queue and the request in flight: read_random and the interrupt handler. Lock order:
    // a leaf (the scheduler's wake_all is all it calls while held).
    kernel::SpinLock lock;
    Transport* t = nullptr;
    Virtqueue* vq ATL_PT_GUARDED_BY(lock) = nullptr;
    u8* buffer = nullptr;
    kernel::WaitQueue wait ATL_GUARDED_BY(lock);
    bool done ATL_GUARDED_BY(lock) = false;
    u32 got ATL_GUARDED_BY(lock) = 0;
};
Rng* s_rng = nullptr;

void rng_interrupt(void* context)
{
    auto* r = static_cast<Rng*>(context);
    if (r->t->acknowledge_interrupt()) {
        kernel::SpinLockGuard guard(r->lock);
        void* token = nullptr;
        u32 len = 0;
        if (r->vq->pop_used(&token, &len)) {
            r->got = len <= k_page_size ? len : 0;
            r->done = true;
            kernel::wake_all(r->wait);
        }
    }
    kernel::end_of_interrupt();
}

std::size_t read_random(void* buf, std::size_t len); // below: the entropy source

} // namespace

bool start_rng(Transport* t)
{
    if (s_rng)
        return false; // one is enough
    if (!negotiate(*t, 0, k_feature_version_1))
        return false;
    u16 size = t->queue_max_size(0) < 8 ? t->queue_max_size(0) : 8;
    while (size > 1 && !Virtqueue::valid_size(size))
        size = static_cast<u16>(size >> 1);
    if (!size)
        return false;
    u64 ring = 0, buffer = 0;
    if (!kernel::alloc_pages(Virtqueue::memory_size(size), &ring) || !kernel::alloc_pages(k_page_size, &buffer))
        return false;
    std::memset(reinterpret_cast<void*>(ring), 0, align_up(Virtqueue::memory_size(size), k_page_size));
    auto* slots = static_cast<Virtqueue::Slot*>(kernel::kzalloc(sizeof(Virtqueue::Slot) * size));
    auto* r = kernel::make<Rng>();
    if (!slots || !r)
        return false;
    r->t = t;
    r->vq = kernel::make<Virtqueue>(size, reinterpret_cast<void*>(ring), ring, slots);
    r->buffer = reinterpret_cast<u8*>(buffer);
    kernel::SpinLockGuard guard(r->lock); // the device may interrupt once its queue is set up
    // Interrupts first: on PCI a queue's MSI-X vector can only be set once MSI-X is enabled.
    if (!r->vq || !t->setup_interrupts(rng_interrupt, r) ||
        !t->setup_queue(0, size, r->vq->desc_phys(), r->vq->avail_phys(), r->vq->used_phys())) {
        t->set_status(k_status_failed);
        return false;
    }
    t->set_status(k_status_acknowledge | k_status_driver | k_status_features_ok | k_status_driver_ok);
    s_rng = r;
    drivers::register_entropy_source(read_random);
    kernel::log("virtio-rng on %s", t->name());
    return true;
}

namespace {

std::size_t read_random(void* buf, std::size_t len)
{
    if (!s_rng || len == 0)
        return 0;
    if (len > k_page_size)
        len = k_page_size;
    kernel::SpinLockGuard guard(s_rng->lock);
    s_rng->done = false;
    virtio::Virtqueue::Buffer b { reinterpret_cast<u64>(s_rng->buffer), static_cast<u32>(len) };
    std::size_t got = 0;
    if (s_rng->vq->add(&b, 0, 1, s_rng)) {
        s_rng->vq->publish();
        s_rng->t->notify(0);
        // Bounded wait: a device that never answers costs 100 ms once, not a hang.
        u64 deadline = kernel::monotonic_ns() + 100000000;
        while (!s_rng->done && kernel::block(&s_rng->wait, deadline, false) != kernel::WakeReason::TimedOut) { }
        if (s_rng->done) {
            got = s_rng->got < len ? s_rng->got : len;
            std::memcpy(buf, s_rng->buffer, got);
        }
    }
    return got;
}

} // namespace

} // namespace atl::virtio
