// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>

namespace httpd {

// Resident memory of this process from /proc/self/statm; where that file does not exist (in
// Atoll only /proc/meminfo does, and the whole machine is the process) MemTotal - MemFree from
// /proc/meminfo. 0 when neither can be read.
[[nodiscard]] std::uint64_t memory_in_use_bytes();

} // namespace httpd
