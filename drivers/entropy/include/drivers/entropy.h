// SPDX-License-Identifier: MIT
#pragma once

// Entropy sources: a hardware random-number device (virtio-rng) registers itself; getrandom()
// and the network stack's initial sequence numbers read from it.

#include <kernel/types.h>

namespace atl::drivers {

// Fills up to len bytes of buf; returns how many.
using EntropySource = std::size_t (*)(void* buf, std::size_t len);
void register_entropy_source(EntropySource source);

// Entropy from a hardware source when there is one: fills buf, returns bytes (0: none).
std::size_t hardware_random(void* buf, std::size_t len);

} // namespace atl::drivers
