// SPDX-License-Identifier: MIT
#pragma once

// What the network stack sees of a network card: Ethernet frames in and out. Drivers register
// their devices here; net/ attaches one lwIP netif to each.

#include <kernel/types.h>

namespace atl::kernel {
class DumpOutput;
}

namespace atl::drivers {

struct NetStats {
    u64 rx_packets = 0, rx_bytes = 0, rx_dropped = 0;
    u64 tx_packets = 0, tx_bytes = 0, tx_full = 0;
    u64 interrupts = 0;
    u64 bad_device_entries = 0; // used-ring entries the device got wrong (rejected)
    // The driver's watchdog (virtio-net): the transmit queue notified again because the device
    // completed none of its buffers for a whole period (a missed notification, or a device
    // that was not scheduled for that long); received entries that waited a whole period with
    // no interrupt. Both stay 0 while the notification handshakes work.
    u64 tx_kicks = 0;
    u64 rx_missed_interrupts = 0;
    u64 tx_notifications_lost = 0; // left out on purpose (virtio::set_net_lose_notify, tests only)
};

struct FramePart {
    const void* data;
    std::size_t len;
};

class NetDevice {
public:
    virtual const u8* mac() const = 0;
    virtual u16 mtu() const = 0;
    virtual bool link_up() = 0;
    // Sends one frame given as parts (an lwIP pbuf chain); false when the TX ring is full.
    [[nodiscard]] virtual bool transmit(const FramePart* parts, std::size_t count) = 0;
    virtual const NetStats& stats() const = 0;
    virtual const char* name() const = 0;
    // The device's part of the state dump (kernel/dump.h): its queues' indices, interrupt
    // suppression and free buffers, read at one instant with interrupts off.
    virtual void dump(kernel::DumpOutput& out) = 0;

    // Received frames are handed to this callback from the device's service thread.
    using Receiver = void (*)(void* context, const u8* frame, std::size_t len);
    void set_receiver(Receiver fn, void* context)
    {
        m_receiver = fn;
        m_receiver_context = context;
    }

protected:
    ~NetDevice() = default;
    void deliver(const u8* frame, std::size_t len)
    {
        if (m_receiver)
            m_receiver(m_receiver_context, frame, len);
    }

private:
    Receiver m_receiver = nullptr;
    void* m_receiver_context = nullptr;
};

void register_net_device(NetDevice* d);
std::size_t net_device_count();
NetDevice* net_device(std::size_t index);
// Every registered device's part of the state dump.
void dump_net_devices(kernel::DumpOutput& out);

} // namespace atl::drivers
