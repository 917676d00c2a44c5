// SPDX-License-Identifier: MIT
#include <kernel/arch/cpu.h>
#include <kernel/arch/mmu.h>
#include <kernel/console.h>
#include <kernel/lock.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/stack.h>

#include <cerrno>
#include <cstring>
#include <new>

extern "C" char __image_start[], __text_end[], __rodata_start[], __rodata_end[];
extern "C" char __data_start[], __data_end[], __image_end[];

namespace atl::kernel {

detail::OkMemo detail::g_ok_memo;
u64 detail::g_tables_generation = 1;

namespace {

class KernelTableMemory final : public PageTableMemory {
public:
    u64 alloc_table() override
    {
        u64 p = 0;
        if (!alloc_pages(k_page_size, &p))
            return 0;
        std::memset(reinterpret_cast<void*>(p), 0, k_page_size);
        return p;
    }
    void free_table(u64 phys) override { free_pages(phys, k_page_size); }
    u64* table(u64 phys) override { return reinterpret_cast<u64*>(phys); }
};

KernelTableMemory s_table_memory;
// The page tables' lock: kernel threads run with interrupts on. Lock order: before the page
// allocator's (a change that needs a table page takes it); the stack's (kernel/src/stack.cpp)
// comes before this one.
SpinLock s_tables_lock;
PageTables* s_tables ATL_PT_GUARDED_BY(s_tables_lock) = nullptr;
alignas(PageTables) unsigned char s_tables_storage[sizeof(PageTables)];

u64 addr(const char* p) { return reinterpret_cast<u64>(p); }

// Inside a change of the tables (with their lock): a stack that needs a page now must wait.
// Read without the lock by the page-fault handler on this CPU. FIXME: per CPU once there are
// several.
int s_busy = 0;

// access_ok's memo (checked inline, paging.h): the last mapping the walk found accessible.
// Every edit of the tables bumps the generation, which invalidates it (also for a walk that an
// interrupt overtook: it stores the generation it started with). A system call's pointer usually lies in the same
// stack or heap mapping as the last one, and a walk cost ~230 ns under TCG.
using detail::OkMemo;
OkMemo& s_ok_memo = detail::g_ok_memo;
u64& s_generation = detail::g_tables_generation;

void flush(u64 start, u64 size)
{
    if (size > 64 * k_page_size) {
        arch::flush_tlb_all();
        return;
    }
    for (u64 a = start; a < start + size; a += k_page_size)
        arch::flush_tlb_page(a);
}

[[gnu::cold]] Error no_memory_for_tables()
{
    log("paging: out of memory for page tables");
    return Error::from_errno(ENOMEM);
}

// The tables for a lookup. Lookups (access_ok's walk, query_access, virtual_to_physical)
// read the tables without the lock, as the MMU does: on one CPU they run with interrupts off
// in a system call, so no change is under way. FIXME: a second CPU needs the lock here or
// table pages that are freed only after every CPU has left its walk.
const PageTables* tables_for_lookup() ATL_NO_THREAD_SAFETY_ANALYSIS { return s_tables; }

} // namespace

Result<void> paging_init(const MemoryMapEntry* map, std::size_t count)
{
    SpinLockGuard guard(s_tables_lock);
    u64 root = s_table_memory.alloc_table();
    if (!root)
        return no_memory_for_tables();
    s_tables = new (s_tables_storage) PageTables(s_table_memory, root);

    // All RAM above the low megabyte: read-write, never executable.
    for (std::size_t i = 0; i < count; ++i) {
        if (map[i].type != k_memory_type_ram)
            continue;
        u64 start = align_up(map[i].addr, k_page_size);
        u64 end = align_down(map[i].addr + map[i].size, k_page_size);
        if (start < k_low_memory_end)
            start = k_low_memory_end;
        if (end > k_address_space_end)
            end = k_address_space_end;
        if (start >= end)
            continue;
        if (!s_tables->map(start, start, end - start, Access::ReadWrite))
            return no_memory_for_tables();
    }
    // The image, section by section (the linker script page-aligns each).
    struct Part {
        u64 start, end;
        Access access;
    } parts[] = {
        { addr(__image_start), addr(__rodata_start), Access::ReadExec },
        { addr(__rodata_start), addr(__rodata_end), Access::Read },
        { addr(__data_start), addr(__data_end), Access::ReadWrite },
        { addr(__data_end), addr(__image_end), Access::Read }, // panic symbol table
    };
    for (const Part& p : parts) {
        if (p.end > p.start && !s_tables->map(p.start, p.start, align_up(p.end, k_page_size) - p.start, p.access))
            return no_memory_for_tables();
    }
    arch::activate_page_tables(root);
    return {};
}

bool set_access(u64 start, u64 size, Access access)
{
    SpinLockGuard guard(s_tables_lock);
    ++s_busy;
    bool ok = s_tables->protect(start, size, access).has_value();
    ++s_generation;
    if (ok)
        flush(start, size);
    --s_busy;
    return ok;
}

bool query_access(u64 a, Access* access)
{
    const PageTables* tables = tables_for_lookup();
    if (!tables)
        return false;
    std::optional<PageTables::Mapping> m = tables->query(a);
    if (!m)
        return false;
    *access = m->access;
    return true;
}

bool access_ok_walk(u64 a, u64 len, bool write)
{
    if (len == 0)
        return true;
    const PageTables* tables = tables_for_lookup();
    if (a + len < a || !tables)
        return false;
    u64 end = a + len;
    u64 generation = s_generation; // the memo stored below is valid for the tables as they were here
    for (u64 page = align_down(a, k_page_size); page < end;) {
        std::optional<PageTables::Mapping> m = tables->query(page);
        if (!m) {
            // A growable stack's page not touched yet (a buffer deep in the stack, a signal
            // frame): committed now, as Linux's fault would in copy_to_user.
            if (!stack_grow(page) || !(m = tables->query(page)))
                return false;
            generation = s_generation;
        }
        if (m->access == Access::None)
            return false;
        bool writable = m->access == Access::ReadWrite || m->access == Access::ReadWriteExec;
        if (write && !writable)
            return false;
        u64 start = m->large ? align_down(page, PageTables::k_large) : page;
        page = start + (m->large ? PageTables::k_large : k_page_size);
        s_ok_memo = OkMemo { start, page, writable, generation };
    }
    return true;
}

bool map(u64 virt, u64 phys, u64 size, Access access)
{
    SpinLockGuard guard(s_tables_lock);
    ++s_busy;
    bool ok = s_tables->map(virt, phys, size, access).has_value();
    ++s_generation;
    if (ok)
        flush(virt, size);
    --s_busy;
    return ok;
}

bool unmap(u64 virt, u64 size)
{
    SpinLockGuard guard(s_tables_lock);
    ++s_busy;
    bool ok = s_tables->unmap(virt, size).has_value();
    ++s_generation;
    if (ok)
        flush(virt, size);
    --s_busy;
    return ok;
}

bool virtual_to_physical(u64 virt, u64* phys)
{
    std::optional<PageTables::Mapping> m = tables_for_lookup()->query(virt);
    if (!m)
        return false;
    *phys = m->phys;
    return true;
}

bool map_mmio(u64 phys, u64 size)
{
    u64 start = align_down(phys, k_page_size);
    u64 len = align_up(phys + size, k_page_size) - start;
    SpinLockGuard guard(s_tables_lock);
    ++s_busy;
    bool ok = s_tables->map(start, start, len, Access::ReadWrite, true).has_value();
    ++s_generation;
    if (ok)
        flush(start, len);
    --s_busy;
    return ok;
}

bool paging_busy() { return s_busy != 0; }

bool in_image_readonly(u64 a)
{
    return a >= addr(__image_start) && a < addr(__rodata_end);
}

} // namespace atl::kernel
