// SPDX-License-Identifier: MIT
#pragma once

#include <pci/pci.h>
#include <virtio/transport.h>

namespace atl::virtio {

Transport* create_pci_transport(pci::Address a, u32 type);
Transport* create_mmio_transport(const MmioDevice& d);

} // namespace atl::virtio
