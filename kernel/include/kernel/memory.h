// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/memmap.h>
#include <kernel/result.h>

namespace atl::kernel {

// Everything below this address is never handed out and never a valid application pointer:
// it holds the null page, firmware data and the boot information.
constexpr u64 k_low_memory_end = 0x100000;
// RAM is identity-mapped up to here (one PML4 entry); RAM above it is not used.
constexpr u64 k_address_space_end = u64(512) << 30;

// Builds the page allocator from the platform memory map, minus the image and `reserved`.
// EINVAL (what is wrong in the log) when the map cannot be used.
Result<void> memory_init(const MemoryMapEntry* map, std::size_t count,
    const Range* reserved, std::size_t reserved_count);

// Page-granular physical memory (identity-mapped, so also the virtual address).
[[nodiscard]] bool alloc_pages(u64 size, u64* addr);
void free_pages(u64 addr, u64 size);
// Takes exactly [addr, addr + size) when all of it is free.
[[nodiscard]] bool claim_pages(u64 addr, u64 size);

// True while the allocator is in the middle of a change (for the page-fault path).
bool memory_busy();

u64 memory_total();
u64 memory_free();
u64 memory_ignored(); // RAM the map offered that lies beyond the identity map

} // namespace atl::kernel
