// SPDX-License-Identifier: MIT
#pragma once

// Editing the architecture's page tables: map, protect, unmap, query. The interface is
// portable; the table format is the architecture's (kernel/arch/x86_64/page_tables.cpp:
// 4-level tables, 2 MiB pages where a range allows, split when part of one changes). The
// memory that holds the tables comes through PageTableMemory, so host unit tests run it on
// plain heap pages. The caller flushes the TLB after changes (kernel/src/paging.cpp does).

#include <kernel/result.h>
#include <kernel/types.h>

#include <optional>

namespace atl {

enum class Access : u8 {
    None,      // mapped but inaccessible (PROT_NONE): any access faults
    Read,      // read-only, not executable
    ReadWrite, // not executable
    ReadExec,
    ReadWriteExec,
};

class PageTableMemory {
public:
    // A zeroed 4 KiB page for a table; returns its physical address, or 0 when out of memory.
    virtual u64 alloc_table() = 0;
    virtual void free_table(u64 phys) = 0;
    virtual u64* table(u64 phys) = 0;

protected:
    // Not deleted through this interface: no virtual destructor, so no deleting destructor
    // (which would pull the C++ runtime's operator delete into every image).
    ~PageTableMemory() = default;
};

class PageTables {
public:
    static constexpr u64 k_small = 4096;
    static constexpr u64 k_large = 2 * 1024 * 1024;

    PageTables(PageTableMemory& memory, u64 root) : m_memory(memory), m_root(root) { }
    u64 root() const { return m_root; }

    // Maps [virt, virt + size) to [phys, ...). Page-aligned arguments. Replaces what was there.
    // ENOMEM when a table cannot be allocated: the pages before the one that needed it are
    // mapped, the rest are as they were, and every table allocated hangs in the tree.
    Result<void> map(u64 virt, u64 phys, u64 size, Access access, bool uncached = false);
    // Changes the access of every page in the range. ENOMEM (changing nothing) if any page in
    // it is not mapped (as mprotect(2) says), or if splitting a large page needs memory that
    // is not there (then the pages before it have changed).
    Result<void> protect(u64 virt, u64 size, Access access);
    // Removes the mappings in the range (unmapped pages in it are ignored); ENOMEM when a large
    // page that is partly unmapped cannot be split.
    Result<void> unmap(u64 virt, u64 size);

    struct Mapping {
        u64 phys;
        Access access;
        bool large;
    };
    // The mapping of the page that holds VIRT; none when it is not mapped.
    [[nodiscard]] std::optional<Mapping> query(u64 virt) const;

private:
    u64* walk(u64 virt, bool create, bool split, int* level_out);
    bool split_large(u64* pde);
    u64* next_table(u64* entry, bool create);

    PageTableMemory& m_memory;
    u64 m_root;
};

} // namespace atl
