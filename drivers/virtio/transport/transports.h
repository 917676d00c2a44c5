// SPDX-License-Identifier: MIT
#pragma once

#include <pci/pci.h>
#include <virtio/transport.h>

namespace atl::virtio {

// The transport of the device at A (of virtio type TYPE), or at D. ENODEV when it is not a
// usable virtio device there (logged), ENOMEM when the memory for it is not there.
Result<kernel::OwnPtr<Transport>> create_pci_transport(pci::Address a, u32 type);
Result<kernel::OwnPtr<Transport>> create_mmio_transport(const MmioDevice& d);

} // namespace atl::virtio
