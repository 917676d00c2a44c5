// SPDX-License-Identifier: MIT
#pragma once

// Ordering against devices: declarations only, defined by kernel/arch/<arch>/.

namespace atl::arch {

// A full barrier (stores before it are visible before loads after it) that also holds against
// device emulation running on another host thread. Drivers use it in the virtio
// notification handshakes (virtio 1.2 §2.7.10, §2.7.13.4), which are store-then-load on both
// sides. Under QEMU's TCG with one vCPU the guest's own fences are translated to nothing
// (they only matter between vCPUs, and there is one), while QEMU's device code runs
// concurrently on its I/O thread: both sides can then miss each other and a queue stops for
// good. There the barrier is a port access, which QEMU serialises with a host lock.
void device_barrier();

} // namespace atl::arch
