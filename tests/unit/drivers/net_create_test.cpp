// SPDX-License-Identifier: MIT
// virtio-net's start (drivers/virtio/net/net.cpp, start_net) against a fake transport, on the
// counting heap of tests/unit/fakes whose Nth allocation fails: for every N until the start
// succeeds, a failed start gives back every block, page run, thread and interrupt vector it
// took, tells the device it gave up and resets it before its memory goes, and frees the
// transport it was handed. The start that succeeds gives a device that sends and receives.
#include "devices.h"

#include "../fakes/failing_heap.h"

#include <drivers/net_device.h>
#include <kernel/console.h>
#include <kernel/dump.h>
#include <kernel/interrupts.h>
#include <kernel/sched.h>
#include <kernel/time.h>
#include <virtio/virtqueue.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

using namespace atl;
using test::FailingHeap;

// ------------------------------------------------------------------ the kernel, faked
// What net.cpp calls besides the heap (which is tests/unit/fakes/failing_heap.cpp). Kernel
// threads are allocations too: creating one takes a stack.
namespace {
struct FakeThread {
    void (*entry)(void*);
    void* arg;
};
// Never destroyed: what a started device holds stays reachable to the end (for LeakSanitizer),
// as it does in the kernel's registry.
std::vector<FakeThread*>& s_threads = *new std::vector<FakeThread*>;
std::vector<drivers::NetDevice*>& s_registered = *new std::vector<drivers::NetDevice*>;
int s_eoi = 0;
} // namespace

namespace atl::test {
bool allocation_allowed();
}

namespace atl::kernel {
void log(const char*, ...) { }
void end_of_interrupt() { ++s_eoi; }
std::size_t wake_all(WaitQueue&) { return 0; }
WakeReason block(WaitQueue*, u64, bool) { return WakeReason::Woken; }
void timer_start(TimerEvent*, u64) { }
u64 monotonic_ns() { return 0; }
Thread* create_kernel_thread(void (*entry)(void*), void* arg, const char*, std::size_t)
{
    if (!test::allocation_allowed())
        return nullptr;
    s_threads.push_back(new FakeThread { entry, arg });
    return reinterpret_cast<Thread*>(s_threads.back());
}
void DumpOutput::printf(const char*, ...) { }
} // namespace atl::kernel

namespace atl::arch {
void device_barrier() { }
} // namespace atl::arch

namespace atl::drivers {
void register_net_device(NetDevice* d) { s_registered.push_back(d); }
} // namespace atl::drivers

namespace atl::virtio {
// §3.1.1 as virtio.cpp does it, enough for the fake device, which always accepts.
u64 negotiate(Transport& t, u64 wanted, u64 required)
{
    t.reset();
    u64 offered = t.device_features();
    if ((offered & required) != required)
        return 0;
    t.set_driver_features(offered & (wanted | required));
    return offered & (wanted | required);
}
void dump_virtqueue(kernel::DumpOutput&, const char*, const Virtqueue::Snapshot&) { }
} // namespace atl::virtio

namespace {

constexpr u64 k_version_1 = u64(1) << 32, k_event_idx = u64(1) << 29, k_mac = u64(1) << 5;
constexpr u16 k_queue_size = 64;

// A device that records what the driver did to it.
struct DeviceLog {
    int transports_alive = 0;
    int vectors_held = 0;
    int resets = 0;
    bool gave_up = false; // FAILED was set
    u8 status = 0;
    int notifies[2] = {};
    struct QueueSetup {
        u16 size = 0;
        u64 desc = 0, driver = 0, device = 0;
    } queues[2];
    kernel::IrqHandler handler = nullptr;
    void* context = nullptr;
};

class FakeTransport final : public virtio::Transport {
public:
    explicit FakeTransport(DeviceLog& log)
        : m_log(log)
    {
        ++m_log.transports_alive;
    }
    ~FakeTransport() override { --m_log.transports_alive; }

    u32 device_type() const override { return 1; }
    u64 device_features() override { return k_version_1 | k_event_idx | k_mac; }
    void set_driver_features(u64) override { }
    u8 status() override { return m_log.status; }
    void set_status(u8 s) override
    {
        m_log.status = s;
        if (s & virtio::k_status_failed)
            m_log.gave_up = true;
    }
    void reset() override
    {
        m_log.status = 0;
        ++m_log.resets;
    }
    u16 queue_max_size(u16) override { return k_queue_size; }
    Result<void> setup_queue(u16 q, u16 size, u64 desc, u64 driver, u64 device) override
    {
        m_log.queues[q] = { size, desc, driver, device };
        return {};
    }
    void notify(u16 q) override { ++m_log.notifies[q]; }
    u8 config8(u32 off) override { return static_cast<u8>(0x50 + off); }
    u16 config16(u32) override { return 1; }
    u32 config32(u32) override { return 0; }
    // An interrupt vector is an allocation here: its failure is one more error path.
    Result<void> setup_interrupts(kernel::IrqHandler handler, void* context) override
    {
        if (!test::allocation_allowed())
            return Error::from_errno(ENOSPC);
        m_log.handler = handler;
        m_log.context = context;
        ++m_log.vectors_held;
        m_vector = true;
        return {};
    }
    void release_interrupts() override
    {
        if (m_vector) {
            m_vector = false;
            --m_log.vectors_held;
            m_log.handler = nullptr;
        }
    }
    bool acknowledge_interrupt() override { return true; }
    const char* name() const override { return "fake"; }

private:
    DeviceLog& m_log;
    bool m_vector = false;
};

kernel::OwnPtr<virtio::Transport> new_transport(DeviceLog& log)
{
    FailingHeap::fail_nth(0);
    return std::move(*kernel::make_own<FakeTransport>(log));
}

// The avail ring's idx (virtio 1.2 §2.7.6): what the driver has published.
u16 avail_idx(const DeviceLog::QueueSetup& q) { return reinterpret_cast<const u16*>(q.driver)[1]; }

TEST(VirtioNetCreate, EveryAllocationFailureIsUndone)
{
    long baseline = FailingHeap::outstanding();
    bool started = false;
    long n = 1;
    for (; n < 100 && !started; ++n) {
        // The transport writes to its log as long as it lives, which for the one started is
        // for good: the logs stay.
        static auto& logs = *new std::vector<std::unique_ptr<DeviceLog>>;
        DeviceLog& log = *logs.emplace_back(std::make_unique<DeviceLog>());
        kernel::OwnPtr<virtio::Transport> t = new_transport(log);
        std::size_t threads = s_threads.size();
        FailingHeap::fail_nth(n);
        Result<void> r = virtio::start_net(std::move(t));
        bool failed = FailingHeap::failed();
        FailingHeap::fail_nth(0);
        if (!r) {
            ASSERT_TRUE(failed) << "start failed with no allocation failing (N = " << n << ")";
            EXPECT_TRUE(r.error().code() == ENOMEM || r.error().code() == ENOSPC) << r.error().code();
            EXPECT_EQ(FailingHeap::outstanding(), baseline) << "a leak at N = " << n;
            EXPECT_EQ(log.transports_alive, 0) << "the transport was not freed (N = " << n << ")";
            EXPECT_EQ(log.vectors_held, 0) << "the interrupt vector was not freed (N = " << n << ")";
            EXPECT_EQ(s_threads.size(), threads);
            EXPECT_TRUE(s_registered.empty());
            if (log.queues[0].size) { // the device had rings: it was told, and stopped
                EXPECT_TRUE(log.gave_up) << "N = " << n;
                EXPECT_EQ(log.status, 0) << "not reset before its memory went (N = " << n << ")";
            }
            continue;
        }
        started = true;
        EXPECT_FALSE(failed) << "started although allocation " << n << " failed";
        // What a started device holds: its transport, thread and vector, and all its memory.
        EXPECT_EQ(log.transports_alive, 1);
        EXPECT_EQ(log.vectors_held, 1);
        ASSERT_EQ(s_threads.size(), threads + 1);
        ASSERT_EQ(s_registered.size(), 1u);
        EXPECT_GT(FailingHeap::outstanding(), baseline);
        EXPECT_EQ(log.status & virtio::k_status_driver_ok, virtio::k_status_driver_ok);

        // It works: every receive buffer is offered, a frame goes out on the transmit queue,
        // an interrupt is taken.
        drivers::NetDevice& dev = *s_registered[0];
        EXPECT_STREQ(dev.name(), "eth0");
        EXPECT_EQ(dev.mac()[0], 0x50);
        EXPECT_TRUE(dev.link_up());
        EXPECT_EQ(log.queues[0].size, k_queue_size);
        EXPECT_EQ(avail_idx(log.queues[0]), k_queue_size);
        EXPECT_EQ(log.notifies[0], 1);
        u8 frame[60] = { 1, 2, 3 };
        drivers::FramePart part { frame, sizeof(frame) };
        ASSERT_TRUE(dev.transmit(&part, 1));
        EXPECT_EQ(avail_idx(log.queues[1]), 1);
        EXPECT_EQ(log.notifies[1], 1);
        EXPECT_EQ(dev.stats().tx_packets, 1u);
        ASSERT_NE(log.handler, nullptr);
        log.handler(log.context);
        EXPECT_EQ(dev.stats().interrupts, 1u);
        EXPECT_EQ(s_eoi, 1);
        EXPECT_EQ(s_threads.back()->arg, log.context);
    }
    EXPECT_TRUE(started);
    // Every allocation the start makes failed once: the transport's interrupt vector, the
    // device, the rings, slots, virtqueues and buffers of both queues, and the thread.
    EXPECT_GE(n - 1, 12);
    std::printf("start_net: %ld allocation failures undone\n", n - 2);
}

} // namespace
