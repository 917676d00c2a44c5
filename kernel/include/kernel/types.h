// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>

// The project namespace is `atl`: `atoll` is taken by the C library function atoll().
namespace atl {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i64 = std::int64_t;
using uptr = std::uintptr_t;

constexpr u64 k_page_size = 4096;

constexpr u64 align_down(u64 v, u64 a) { return v & ~(a - 1); }
constexpr u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }

} // namespace atl
