// SPDX-License-Identifier: MIT
#pragma once

#include <virtio/transport.h>
#include <virtio/virtqueue.h>

namespace atl::kernel {
class DumpOutput;
}

namespace atl::virtio {

bool start_net(Transport* t);
bool start_rng(Transport* t);

// One line of the state dump about a queue, from a snapshot taken with interrupts off.
void dump_virtqueue(kernel::DumpOutput& out, const char* name, const Virtqueue::Snapshot& s);

} // namespace atl::virtio
