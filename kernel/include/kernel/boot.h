// SPDX-License-Identifier: MIT
#pragma once

// What the loader handed over (PVH hvm_start_info), copied into kernel memory before any page
// is allocated, so nothing of it can be overwritten later.

#include <kernel/memmap.h>
#include <kernel/result.h>

namespace atl::kernel {

struct BootModule {
    u64 addr;
    u64 size;
};

struct BootInfo {
    static constexpr std::size_t k_max_map = 128;
    static constexpr std::size_t k_max_modules = 8;
    static constexpr std::size_t k_max_cmdline = 8192;

    MemoryMapEntry map[k_max_map];
    std::size_t map_count = 0;
    BootModule modules[k_max_modules];
    std::size_t module_count = 0;
    char cmdline[k_max_cmdline] {};
    u64 rsdp = 0;
};

// Validates and copies the PVH start info at `start_info_paddr`. EINVAL (with what is wrong
// in the log) when it is missing or does not fit BootInfo.
Result<void> read_pvh_start_info(u64 start_info_paddr, BootInfo& out);

} // namespace atl::kernel
