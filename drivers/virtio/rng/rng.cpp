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
#include <kernel/own.h>
#include <kernel/sched.h>
#include <kernel/time.h>
#include <virtio/virtqueue.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace atl::virtio {

namespace {

// The device and what it owns; a start that fails gives back whatever it took when its Rng
// goes (the device reset first, so it no longer writes to the memory or interrupts).
struct Rng {
    explicit Rng(kernel::OwnPtr<Transport> transport)
        : t(transport.get())
        , m_transport(std::move(transport))
    {
    }
    Rng(const Rng&) = delete;
    Rng& operator=(const Rng&) = delete;
    [[gnu::cold, gnu::noinline]] ~Rng()
    {
        t->set_status(k_status_failed);
        t->reset();
        t->release_interrupts();
    }

    Transport* t; // m_transport's
    kernel::OwnPtr<Transport> m_transport;
    // The queue and the request in flight: read_random and the interrupt handler. Lock order:
    // a leaf (the scheduler's wake_all is all it calls while held). FIXME: q's queue is
    // guarded by it too, but QueueMemory's members carry no annotation.
    kernel::SpinLock lock;
    QueueMemory q; // one page of buffer
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
        if (r->q.vq->pop_used(&token, &len)) {
            r->got = len <= k_page_size ? len : 0;
            r->done = true;
            kernel::wake_all(r->wait);
        }
    }
    kernel::end_of_interrupt();
}

std::size_t read_random(void* buf, std::size_t len); // below: the entropy source

} // namespace

Result<void> start_rng(kernel::OwnPtr<Transport> transport)
{
    if (s_rng)
        return Error::from_errno(EBUSY); // one is enough
    Transport& t = *transport;
    if (!negotiate(t, 0, k_feature_version_1))
        return Error::from_errno(ENODEV);
    u16 size = t.queue_max_size(0) < 8 ? t.queue_max_size(0) : 8;
    while (size > 1 && !Virtqueue::valid_size(size))
        size = static_cast<u16>(size >> 1);
    if (!size)
        return Error::from_errno(ENODEV);
    auto r = TRY(kernel::make_own<Rng>(std::move(transport)));
    TRY(r->q.allocate(size, k_page_size));
    // The device may interrupt once its queue is set up. (Released before r goes on an error
    // path: declared after it.)
    kernel::SpinLockGuard guard(r->lock);
    // Interrupts first: on PCI a queue's MSI-X vector can only be set once MSI-X is enabled.
    TRY(t.setup_interrupts(rng_interrupt, r.get()));
    TRY(t.setup_queue(0, size, r->q.vq->desc_phys(), r->q.vq->avail_phys(), r->q.vq->used_phys()));
    t.set_status(k_status_acknowledge | k_status_driver | k_status_features_ok | k_status_driver_ok);
    s_rng = r.release(); // for good: entropy sources are not unregistered
    drivers::register_entropy_source(read_random);
    kernel::log("virtio-rng on %s", t.name());
    return {};
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
    virtio::Virtqueue::Buffer b { reinterpret_cast<u64>(s_rng->q.buffers), static_cast<u32>(len) };
    std::size_t got = 0;
    if (s_rng->q.vq->add(&b, 0, 1, s_rng)) {
        s_rng->q.vq->publish();
        s_rng->t->notify(0);
        // Bounded wait: a device that never answers costs 100 ms once, not a hang.
        u64 deadline = kernel::monotonic_ns() + 100000000;
        while (!s_rng->done && kernel::block(&s_rng->wait, deadline, false) != kernel::WakeReason::TimedOut) { }
        if (s_rng->done) {
            got = s_rng->got < len ? s_rng->got : len;
            std::memcpy(buf, s_rng->q.buffers, got);
        }
    }
    return got;
}

} // namespace

} // namespace atl::virtio
