// SPDX-License-Identifier: MIT
#pragma once

// The kernel's one address space. After paging_init: the image's text is read-execute, its
// read-only data read-only, its data read-write and non-executable, all RAM read-write and
// non-executable, the first 1 MiB unmapped (null-pointer guard), local APIC uncached.

#include <kernel/memmap.h>
#include <kernel/arch/page_tables.h>

namespace atl::kernel {

// ENOMEM (logged) when the tables do not fit in memory.
Result<void> paging_init(const MemoryMapEntry* map, std::size_t count);

// Changes the access of mapped memory, flushing the TLB. Fails if part is not mapped.
[[nodiscard]] bool set_access(u64 addr, u64 size, Access access);
[[nodiscard]] bool query_access(u64 addr, Access* access);
// True when every byte of [addr, addr + len) may be read (or, with `write`, written): the
// check for pointers that applications hand to the libOS.
bool access_ok(u64 addr, u64 len, bool write); // inline below: the memo, then the walk
[[gnu::cold]] bool access_ok_walk(u64 addr, u64 len, bool write); // cold: the memo usually answers

namespace detail {
// The last mapping access_ok found accessible, valid while the tables' generation (bumped
// by every edit) matches. paging.cpp's.
struct OkMemo {
    u64 start = 0, end = 0;
    bool writable = false;
    u64 generation = 0;
};
extern OkMemo g_ok_memo;
extern u64 g_tables_generation;
}

inline bool access_ok(u64 addr, u64 len, bool write)
{
    const detail::OkMemo& m = detail::g_ok_memo;
    if (len && m.generation == detail::g_tables_generation && addr >= m.start && addr + len > addr &&
        addr + len <= m.end && (m.writable || !write))
        return true;
    return access_ok_walk(addr, len, write);
}
// Maps [virt, virt + size) to physical pages at `phys` (for memory outside the identity map).
[[nodiscard]] bool map(u64 virt, u64 phys, u64 size, Access access);
[[nodiscard]] bool unmap(u64 virt, u64 size);
[[nodiscard]] bool virtual_to_physical(u64 virt, u64* phys);
// Maps device registers (uncached, read-write) at their physical address.
[[nodiscard]] bool map_mmio(u64 phys, u64 size);

// True while the tables are in the middle of a change (for the page-fault path).
bool paging_busy();

// Is [addr, addr + size) inside the image's text or read-only data?
bool in_image_readonly(u64 addr);

} // namespace atl::kernel
