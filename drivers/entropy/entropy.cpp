// SPDX-License-Identifier: MIT
#include <drivers/entropy.h>

namespace atl::drivers {

namespace {
EntropySource s_source = nullptr;
} // namespace

void register_entropy_source(EntropySource source) { s_source = source; }

std::size_t hardware_random(void* buf, std::size_t len) { return s_source ? s_source(buf, len) : 0; }

} // namespace atl::drivers
