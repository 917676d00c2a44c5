// SPDX-License-Identifier: MIT
#pragma once

#include <virtio/transport.h>

namespace atl::virtio {

bool start_net(Transport* t);
bool start_rng(Transport* t);

} // namespace atl::virtio
