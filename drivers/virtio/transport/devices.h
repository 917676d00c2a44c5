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

// One line of the state dump about a queue, from a snapshot taken with interrupts off.
void dump_virtqueue(kernel::DumpOutput& out, const char* name, const Virtqueue::Snapshot& s);

} // namespace atl::virtio
