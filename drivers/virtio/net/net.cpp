// SPDX-License-Identifier: MIT
// virtio-net (virtio 1.2 §5.1): one receive and one transmit queue, 2 KiB buffers, interrupts
// suppressed while a service thread drains the rings.
//
// Features: VERSION_1 (required; 12-byte header), MAC, STATUS, MRG_RXBUF (frames that span
// several buffers are reassembled), EVENT_IDX (fewer notifications and interrupts). Checksum
// offload is not negotiated: lwIP computes checksums, so frames the device hands over are
// always complete (GUEST_CSUM would let it hand over partial checksums lwIP cannot check).
#include "devices.h"
#include "net_rx.h"

#include <drivers/net_device.h>
#include <kernel/arch/cpu.h>
#include <kernel/arch/io.h>
#include <kernel/console.h>
#include <kernel/dump.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/lock.h>
#include <kernel/memory.h>
#include <kernel/own.h>
#include <kernel/sched.h>
#include <kernel/time.h>
#include <virtio/virtqueue.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace atl::virtio {

namespace {

constexpr u64 k_f_mac = u64(1) << 5;
constexpr u64 k_f_mrg_rxbuf = u64(1) << 15;
constexpr u64 k_f_status = u64(1) << 16;
constexpr u16 k_status_link_up = 1;
constexpr std::size_t k_header = net_rx::k_header; // struct virtio_net_hdr with num_buffers (§5.1.6)
constexpr std::size_t k_buffer = 2048;
constexpr u16 k_max_queue = 256;
constexpr u16 k_rx = 0, k_tx = 1;
unsigned s_lose_notify_every = 0; // set_net_lose_notify()
constexpr unsigned k_rx_batch = 32;          // receive buffers given back per publish
constexpr u64 k_watchdog_ns = 20'000'000;   // see VirtioNet::watchdog_locked()

class VirtioNet final : public drivers::NetDevice {
public:
    static Result<kernel::OwnPtr<VirtioNet>> create(kernel::OwnPtr<Transport> transport);

    explicit VirtioNet(kernel::OwnPtr<Transport> transport)
        : t(transport.get())
        , m_transport(std::move(transport))
    {
    }
    // A device that create() gave up on: it stops using the rings and buffers before they go
    // (§3.1.1: FAILED says the driver gave up; the reset stops the device's DMA and
    // interrupts), then its vector is freed. Started devices are registered and never go.
    [[gnu::cold, gnu::noinline]] ~VirtioNet()
    {
        t->set_status(k_status_failed);
        t->reset();
        t->release_interrupts();
    }

    Transport* t; // m_transport's (first: the hot paths' offsets stay as they were)
    // The device's queues and the driver's bookkeeping of them: transmit() (lwIP's thread,
    // under its core lock), the service thread, the interrupt handler and the watchdog's timer
    // all reach them. Lock order: after lwIP's core lock (net/lwip_port/sys_arch.cpp); a leaf
    // otherwise (the scheduler's wake_all and timer_start are all it calls while held).
    kernel::SpinLock m_lock;
    QueueMemory rx ATL_GUARDED_BY(m_lock), tx ATL_GUARDED_BY(m_lock); // buffers: size x k_buffer
    u8 m_mac[6] {};
    bool has_status = false;
    bool mergeable = false;
    bool event_idx = false;
    u16 free_tx[k_max_queue] ATL_GUARDED_BY(m_lock);
    u16 free_tx_count ATL_GUARDED_BY(m_lock) = 0;
    // Counters: each has one writer (transmit, the service thread or the interrupt handler)
    // and readers that only display them, so they take no lock.
    drivers::NetStats m_stats;
    kernel::WaitQueue wait ATL_GUARDED_BY(m_lock);
    bool work ATL_GUARDED_BY(m_lock) = false;
    u64 notifies_for_test ATL_GUARDED_BY(m_lock) = 0;
    u16 rx_unpublished ATL_GUARDED_BY(m_lock) = 0;           // reposted receive buffers not yet published
    u64 tx_completed_at_watchdog ATL_GUARDED_BY(m_lock) = 0; // the transmit queue's completions at the last watchdog look
    u16 rx_last_used_at_watchdog ATL_GUARDED_BY(m_lock) = 0; // the receive queue's consumed entries, likewise
    bool rx_pending_at_watchdog ATL_GUARDED_BY(m_lock) = false;
    bool watchdog_due ATL_GUARDED_BY(m_lock) = false;
    struct Watchdog : kernel::TimerEvent {
        VirtioNet* owner = nullptr;
    } watchdog;
    char m_name[24] = "virtio-net";
    kernel::OwnPtr<Transport> m_transport; // ~VirtioNet's body resets the device before any member goes
    u8 assembly[65536]; // a frame spread over several receive buffers

    const u8* mac() const override { return m_mac; }
    u16 mtu() const override { return 1500; }
    bool link_up() override { return !has_status || (t->config16(6) & k_status_link_up); }
    const drivers::NetStats& stats() const override { return m_stats; }
    const char* name() const override { return m_name; }

    bool transmit(const drivers::FramePart* parts, std::size_t count) override
    {
        std::size_t len = 0;
        for (std::size_t i = 0; i < count; ++i)
            len += parts[i].len;
        if (len > k_buffer - k_header)
            return false;
        kernel::SpinLockGuard guard(m_lock);
        reclaim_tx_locked();
        if (free_tx_count == 0) {
            ++m_stats.tx_full;
            // Every buffer is the device's: if it missed a notification it would never look
            // at the ring again (EVENT_IDX asks only once per crossing). A notification it
            // did not need costs it one look.
            kick_tx_locked();
            return false;
        }
        u16 index = free_tx[--free_tx_count];
        u8* buf = tx.buffers + std::size_t(index) * k_buffer;
        std::memset(buf, 0, k_header);
        std::size_t at = k_header;
        for (std::size_t i = 0; i < count; ++i) {
            std::memcpy(buf + at, parts[i].data, parts[i].len);
            at += parts[i].len;
        }
        Virtqueue::Buffer b { reinterpret_cast<u64>(buf), static_cast<u32>(at) };
        bool ok = tx.vq->add(&b, 1, 0, reinterpret_cast<void*>(static_cast<uintptr_t>(index) + 1));
        if (ok) {
            tx.vq->publish();
            if (tx.vq->needs_notify() && !lose_notify_for_test())
                t->notify(k_tx);
            arm_watchdog_locked();
            ++m_stats.tx_packets;
            m_stats.tx_bytes += len;
        } else {
            free_tx[free_tx_count++] = index;
            ++m_stats.tx_full;
        }
        return ok;
    }

    void kick_tx_locked() ATL_REQUIRES(m_lock) { t->notify(k_tx); }

    // set_net_lose_notify(): true when this notification is to be left out.
    bool lose_notify_for_test() ATL_REQUIRES(m_lock)
    {
        if (!s_lose_notify_every || ++notifies_for_test % s_lose_notify_every != 0)
            return false;
        ++m_stats.tx_notifications_lost;
        return true;
    }

    void reclaim_tx_locked() ATL_REQUIRES(m_lock)
    {
        void* token = nullptr;
        u32 len = 0;
        while (tx.vq->pop_used(&token, &len)) {
            auto index = static_cast<u16>(reinterpret_cast<uintptr_t>(token) - 1);
            if (index < tx.size && free_tx_count < tx.size)
                free_tx[free_tx_count++] = index;
        }
    }

    bool post_rx_locked(u16 index) ATL_REQUIRES(m_lock)
    {
        Virtqueue::Buffer b { reinterpret_cast<u64>(rx.buffers + std::size_t(index) * k_buffer), static_cast<u32>(k_buffer) };
        return rx.vq->add(&b, 0, 1, reinterpret_cast<void*>(static_cast<uintptr_t>(index) + 1));
    }

    static void interrupt(void* context)
    {
        auto* self = static_cast<VirtioNet*>(context);
        if (self->t->acknowledge_interrupt()) {
            ++self->m_stats.interrupts;
            kernel::SpinLockGuard guard(self->m_lock);
            self->rx.vq->disable_interrupts();
            self->work = true;
            kernel::wake_all(self->wait);
        }
        kernel::end_of_interrupt();
    }

    // Takes the next received frame (reassembling mergeable buffers); false when none. A frame
    // the device's buffers do not make (net_rx.h) is counted as dropped and given as nullptr.
    bool next_frame(const u8** frame, std::size_t* len)
    {
        struct RxQueue {
            VirtioNet* n;
            bool pop(u16* index, u32* used)
            {
                void* token = nullptr;
                bool got;
                {
                    kernel::SpinLockGuard guard(n->m_lock);
                    got = n->rx.vq->pop_used(&token, used);
                }
                *index = static_cast<u16>(reinterpret_cast<uintptr_t>(token) - 1);
                return got;
            }
            void repost(u16 index) { n->repost(index); }
        } queue { this };
        net_rx::Take took = net_rx::take_frame(queue, rx_buffers(), k_buffer, rx_size(), mergeable, assembly,
            sizeof(assembly), len);
        if (took == net_rx::Take::None)
            return false;
        if (took == net_rx::Take::Dropped) {
            ++m_stats.rx_dropped;
            *frame = nullptr;
            *len = 0;
            return true;
        }
        *frame = assembly;
        return true;
    }

    // Gives a receive buffer back; the device sees it at the next publish_rx().
    void repost(u16 index)
    {
        kernel::SpinLockGuard guard(m_lock);
        if (post_rx_locked(index))
            ++rx_unpublished;
    }

    // The queues' buffer memory and sizes: set at creation, never changed after, so they are
    // read without the lock.
    const u8* rx_buffers() const ATL_NO_THREAD_SAFETY_ANALYSIS { return rx.buffers; }
    u16 rx_size() const ATL_NO_THREAD_SAFETY_ANALYSIS { return rx.size; }
    u16 tx_size() const ATL_NO_THREAD_SAFETY_ANALYSIS { return tx.size; }

    // Publishes the reposted buffers in one batch: one idx store and one notification check
    // (a full barrier) per batch instead of per frame.
    void publish_rx()
    {
        kernel::SpinLockGuard guard(m_lock);
        if (rx_unpublished) {
            rx_unpublished = 0;
            rx.vq->publish();
            if (rx.vq->needs_notify())
                t->notify(k_rx);
        }
    }

    // Transmit buffers the device holds: none means nothing is waiting on a notification.
    bool tx_in_flight_locked() const ATL_REQUIRES(m_lock) { return free_tx_count < tx.size; }

    // Transmit buffers in flight arm the watchdog: k_watchdog_ns later the service thread looks
    // whether the device is still working on them (watchdog_locked()).
    void arm_watchdog_locked() ATL_REQUIRES(m_lock)
    {
        if (!watchdog.armed())
            kernel::timer_start(&watchdog, kernel::monotonic_ns() + k_watchdog_ns);
    }

    static void watchdog_fired(kernel::TimerEvent* e) // timer interrupt, interrupts off
    {
        VirtioNet* self = static_cast<Watchdog*>(e)->owner;
        kernel::SpinLockGuard guard(self->m_lock);
        self->watchdog_due = true;
        self->work = true;
        kernel::wake_all(self->wait);
    }

    // If the device completed none of the transmit buffers it holds since the last look, it
    // missed a notification (kernel/DESIGN.md, "Barriers against emulated devices"): notify
    // it again. Received entries that waited a whole period without an interrupt are counted
    // (the service loop drains them next).
    void watchdog_locked() ATL_REQUIRES(m_lock)
    {
        reclaim_tx_locked();
        u64 completed = tx.vq->stats().completed;
        if (tx_in_flight_locked() && completed == tx_completed_at_watchdog) {
            ++m_stats.tx_kicks;
            kick_tx_locked();
        }
        tx_completed_at_watchdog = completed;
        u16 last_used = rx.vq->snapshot().last_used;
        bool pending = rx.vq->more_used();
        if (pending && rx_pending_at_watchdog && last_used == rx_last_used_at_watchdog)
            ++m_stats.rx_missed_interrupts;
        rx_pending_at_watchdog = pending;
        rx_last_used_at_watchdog = last_used;
        if (tx_in_flight_locked() || pending)
            arm_watchdog_locked();
    }

    static void service(void* arg)
    {
        auto* self = static_cast<VirtioNet*>(arg);
        for (;;) {
            {
                kernel::SpinLockGuard guard(self->m_lock);
                while (!self->work)
                    (void)kernel::block(&self->wait, 0, false);
                self->work = false;
                if (self->watchdog_due) {
                    self->watchdog_due = false;
                    self->watchdog_locked();
                }
            }
            for (;;) {
                const u8* frame = nullptr;
                std::size_t len = 0;
                unsigned batch = 0;
                while (self->next_frame(&frame, &len)) {
                    if (frame) {
                        ++self->m_stats.rx_packets;
                        self->m_stats.rx_bytes += len;
                        self->deliver(frame, len);
                    }
                    if (++batch % k_rx_batch == 0)
                        self->publish_rx();
                }
                self->publish_rx();
                kernel::IrqState s = self->m_lock.lock();
                self->reclaim_tx_locked();
                self->rx.vq->enable_interrupts();
                bool more = self->rx.vq->more_used(); // §2.7.10: re-check after enabling
                if (more)
                    self->rx.vq->disable_interrupts();
                self->m_stats.bad_device_entries = self->rx.vq->stats().bad_id + self->rx.vq->stats().bad_len +
                                                   self->rx.vq->stats().not_in_flight + self->tx.vq->stats().bad_id +
                                                   self->tx.vq->stats().bad_len + self->tx.vq->stats().not_in_flight;
                self->m_lock.unlock(s);
                if (!more)
                    break;
            }
        }
    }

    // The state dump's lines for this card (NetDevice::dump): both queues and the driver's
    // own bookkeeping, read at one instant.
    void dump(kernel::DumpOutput& out) override
    {
        Virtqueue::Snapshot r, x;
        u16 free_tx_now, tx_total;
        bool work_now, service_waiting;
        drivers::NetStats st;
        {
            kernel::SpinLockGuard guard(m_lock);
            r = rx.vq->snapshot(), x = tx.vq->snapshot();
            free_tx_now = free_tx_count;
            tx_total = tx.size;
            work_now = work;
            service_waiting = !wait.empty();
            st = m_stats;
        }
        out.printf("%s (virtio-net on %s): %u of %u transmit buffers free, service thread %s%s; rx %llu packets, "
                   "tx %llu packets, %llu ring-full, %llu interrupts, %llu rx dropped; lost notifications recovered: "
                   "%llu tx kicks, %llu rx without interrupt\n",
            m_name, t->name(), free_tx_now, tx_total, service_waiting ? "waiting" : "busy",
            work_now ? " (work pending)" : "", static_cast<unsigned long long>(st.rx_packets),
            static_cast<unsigned long long>(st.tx_packets), static_cast<unsigned long long>(st.tx_full),
            static_cast<unsigned long long>(st.interrupts), static_cast<unsigned long long>(st.rx_dropped),
            static_cast<unsigned long long>(st.tx_kicks), static_cast<unsigned long long>(st.rx_missed_interrupts));
        if (s_lose_notify_every)
            out.printf("  fault injection: every %u. transmit notification left out (virtio_net.lose_notify), %llu so far\n",
                s_lose_notify_every, static_cast<unsigned long long>(st.tx_notifications_lost));
        dump_virtqueue(out, "rx queue", r);
        dump_virtqueue(out, "tx queue", x);
    }
};

Result<void> set_up_queue(Transport& t, QueueMemory& q, u16 index, bool event_idx)
{
    u16 max = t.queue_max_size(index);
    if (max == 0)
        return Error::from_errno(ENODEV);
    u16 size = max < k_max_queue ? max : k_max_queue;
    while (!Virtqueue::valid_size(size) && size > 1)
        size = static_cast<u16>(size >> 1);
    TRY(q.allocate(size, u64(size) * k_buffer));
    q.vq->set_event_idx(event_idx);
    q.vq->set_barrier(arch::device_barrier);
    return t.setup_queue(index, size, q.vq->desc_phys(), q.vq->avail_phys(), q.vq->used_phys());
}

int s_count = 0;

// Everything that can fail, in an order that lets ~VirtioNet undo any prefix of it.
Result<kernel::OwnPtr<VirtioNet>> VirtioNet::create(kernel::OwnPtr<Transport> transport)
{
    Transport& t = *transport;
    u64 features = negotiate(t, k_f_mac | k_f_status | k_f_mrg_rxbuf | k_feature_event_idx, k_feature_version_1);
    if (!features) {
        kernel::log("virtio-net: the device does not offer VERSION_1 (a legacy device?)");
        return Error::from_errno(ENODEV);
    }
    auto n = TRY(kernel::make_own<VirtioNet>(std::move(transport)));
    n->has_status = features & k_f_status;
    n->mergeable = features & k_f_mrg_rxbuf;
    bool event_idx = n->event_idx = features & k_feature_event_idx;
    if (features & k_f_mac) {
        for (u32 i = 0; i < 6; ++i)
            n->m_mac[i] = t.config8(i);
    } else { // a locally administered address of our own
        n->m_mac[0] = 0x02;
        n->m_mac[5] = static_cast<u8>(s_count + 1);
    }
    // Interrupts first: on PCI a queue's MSI-X vector can only be set once MSI-X is enabled.
    // (A failure is logged by the transport's driver, with its errno.)
    TRY(t.setup_interrupts(VirtioNet::interrupt, n.get()));
    // The device interrupts from here on. (Released before n goes on an error path: declared
    // after it.)
    kernel::SpinLockGuard guard(n->m_lock);
    TRY(set_up_queue(t, n->rx, k_rx, event_idx));
    TRY(set_up_queue(t, n->tx, k_tx, event_idx));
    // Transmit completions need no interrupt: transmit() takes back finished buffers, and the
    // service thread's watchdog does while the ring is idle.
    n->watchdog.owner = n.get();
    n->watchdog.fire = VirtioNet::watchdog_fired;
    n->tx.vq->disable_interrupts();
    for (u16 i = 0; i < n->tx.size; ++i)
        n->free_tx[n->free_tx_count++] = i;
    for (u16 i = 0; i < n->rx.size; ++i) {
        if (!n->post_rx_locked(i))
            break;
    }
    n->rx.vq->publish();
    return n;
}

} // namespace

void set_net_lose_notify(unsigned every) { s_lose_notify_every = every; }

Result<void> start_net(kernel::OwnPtr<Transport> transport)
{
    kernel::OwnPtr<VirtioNet> n = TRY(VirtioNet::create(std::move(transport)));
    std::snprintf(n->m_name, sizeof(n->m_name), "eth%d", s_count);
    // The last step that can fail: once the service thread runs, the device stays.
    if (!kernel::create_kernel_thread(VirtioNet::service, n.get(), "virtio-net"))
        return Error::from_errno(ENOMEM);
    ++s_count;
    Transport* t = n->t;
    t->set_status(k_status_acknowledge | k_status_driver | k_status_features_ok | k_status_driver_ok);
    t->notify(k_rx);
    // FIXME: devices cannot be unregistered; the registry holds the device for good.
    VirtioNet* d = n.release();
    drivers::register_net_device(d);
    kernel::log("%s: virtio-net on %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, %u/%u descriptors%s%s", d->m_name,
        t->name(), d->m_mac[0], d->m_mac[1], d->m_mac[2], d->m_mac[3], d->m_mac[4], d->m_mac[5], d->rx_size(), d->tx_size(),
        d->event_idx ? ", event index" : "", d->mergeable ? ", mergeable buffers" : "");
    return {};
}

} // namespace atl::virtio
