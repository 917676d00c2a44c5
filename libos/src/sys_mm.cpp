// SPDX-License-Identifier: MIT
// Anonymous memory for the application. Memory is identity-mapped, so a mapping is a run of
// physical pages from the kernel's page allocator; the set of the application's mappings
// lets munmap free exactly what was mapped (and ignore the rest, as Linux does).
// Permissions live in the page tables: mmap's prot and mprotect set them page by page.

#include "syscalls.h"

#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/range_set.h>

#include <cerrno>
#include <cstring>
#include <sys/mman.h>

namespace atl::libos {

namespace {

RangeSet s_mappings;

constexpr long k_known_prot = PROT_READ | PROT_WRITE | PROT_EXEC;

Access access_of(long prot)
{
    bool w = prot & PROT_WRITE, x = prot & PROT_EXEC;
    if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
        return Access::None;
    if (w)
        return x ? Access::ReadWriteExec : Access::ReadWrite;
    return x ? Access::ReadExec : Access::Read;
}

// Pages go back to the allocator as plain read-write memory, whatever the application made
// of them: the next owner may be a page table or a stack.
void release(Range piece)
{
    (void)kernel::set_access(piece.start, piece.size(), Access::ReadWrite);
    kernel::free_pages(piece.start, piece.size());
}

bool page_aligned(long v) { return (static_cast<u64>(v) & (k_page_size - 1)) == 0; }

// Length rounded to pages, or 0 when it is zero or would overflow.
u64 page_length(long len)
{
    u64 l = static_cast<u64>(len);
    if (len <= 0 || l > (u64(1) << 46))
        return 0;
    return align_up(l, k_page_size);
}

} // namespace

long sys_mmap(long addr, long len, long prot, long flags, long fd, long offset)
{
    if (len == 0 || (prot & ~k_known_prot) != 0)
        return -EINVAL;
    int type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    if (!(flags & MAP_ANONYMOUS))
        return fd < 0 ? -EBADF : -ENODEV; // FIXME(issue 4): file mappings
    if (!page_aligned(offset))
        return -EINVAL;
    u64 size = page_length(len);
    if (size == 0)
        return -ENOMEM;

    u64 start = 0;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (!page_aligned(addr))
            return -EINVAL;
        Range want { static_cast<u64>(addr), static_cast<u64>(addr) + size };
        if (want.end < want.start)
            return -ENOMEM;
        if ((flags & MAP_FIXED_NOREPLACE) && s_mappings.intersects(want))
            return -EEXIST;
        // A fixed mapping may only land on the application's own mappings (replacing them)
        // or on pages the allocator still has; there is no other address space to use.
        if (s_mappings.contains(want)) {
            if (!kernel::set_access(want.start, size, Access::ReadWrite))
                return -ENOMEM;
        } else {
            if (s_mappings.intersects(want))
                return -ENOMEM; // FIXME(issue 3): mixed ranges need page tables
            if (!kernel::claim_pages(want.start, size))
                return -ENOMEM;
            if (!s_mappings.insert(want)) {
                kernel::free_pages(want.start, size);
                return -ENOMEM;
            }
        }
        start = want.start;
    } else {
        if (!kernel::alloc_pages(size, &start))
            return -ENOMEM;
        if (!s_mappings.insert(Range { start, start + size })) {
            kernel::free_pages(start, size);
            return -ENOMEM;
        }
    }
    std::memset(reinterpret_cast<void*>(start), 0, size);
    if (Access a = access_of(prot); a != Access::ReadWrite && !kernel::set_access(start, size, a)) {
        (void)s_mappings.remove(Range { start, start + size });
        release(Range { start, start + size });
        return -ENOMEM;
    }
    return static_cast<long>(start);
}

long sys_munmap(long addr, long len)
{
    if (!page_aligned(addr) || len == 0)
        return -EINVAL;
    u64 size = page_length(len);
    if (size == 0)
        return -EINVAL;
    Range r { static_cast<u64>(addr), static_cast<u64>(addr) + size };
    if (r.end < r.start)
        return -EINVAL;
    if (!s_mappings.remove(r, release))
        return -ENOMEM;
    return 0;
}

long sys_mprotect(long addr, long len, long prot)
{
    if (!page_aligned(addr) || (prot & ~(k_known_prot | PROT_GROWSDOWN | PROT_GROWSUP)) != 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    u64 size = page_length(len);
    Range r { static_cast<u64>(addr), static_cast<u64>(addr) + size };
    // Only the application's own mappings: the image and the kernel's memory keep theirs.
    if (size == 0 || r.end < r.start || !s_mappings.contains(r))
        return -ENOMEM;
    return kernel::set_access(r.start, size, access_of(prot)) ? 0 : -ENOMEM;
}

long sys_madvise(long addr, long len, long advice)
{
    if (!page_aligned(addr) || len < 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    u64 size = page_length(len);
    Range r { static_cast<u64>(addr), static_cast<u64>(addr) + size };
    switch (advice) {
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_WILLNEED:
    case MADV_FREE:
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
        return s_mappings.contains(r) || kernel::access_ok(r.start, size, false) ? 0 : -ENOMEM;
    case MADV_DONTNEED: {
        // Linux: private anonymous pages read back as zeros afterwards.
        if (!s_mappings.contains(r))
            return -ENOMEM;
        Access before = Access::ReadWrite;
        (void)kernel::query_access(r.start, &before);
        if (before != Access::ReadWrite && !kernel::set_access(r.start, size, Access::ReadWrite))
            return -ENOMEM;
        std::memset(reinterpret_cast<void*>(r.start), 0, size);
        if (before != Access::ReadWrite)
            (void)kernel::set_access(r.start, size, before);
        return 0;
    }
    default:
        return -EINVAL;
    }
}

// The program break: a heap that grows page by page in a window of its own, above the
// identity-mapped RAM (the first 512 GiB), backed by whatever physical pages are free.
// Linux semantics: brk(0) and any request outside the window return the current break;
// growing that runs out of memory leaves the break where it was.
namespace {
constexpr u64 k_brk_base = u64(512) << 30;
constexpr u64 k_brk_limit = u64(64) << 30;
u64 s_brk = k_brk_base;        // the break the program sees
u64 s_brk_mapped = k_brk_base; // end of the pages behind it

void shrink_brk_to(u64 end)
{
    while (s_brk_mapped > end) {
        u64 page = s_brk_mapped - k_page_size;
        u64 phys = 0;
        if (kernel::virtual_to_physical(page, &phys)) {
            (void)kernel::unmap(page, k_page_size);
            kernel::free_pages(phys, k_page_size);
        }
        s_brk_mapped = page;
    }
}
} // namespace

long sys_brk(long addr)
{
    u64 want = static_cast<u64>(addr);
    if (want < k_brk_base || want > k_brk_base + k_brk_limit)
        return static_cast<long>(s_brk);
    u64 end = align_up(want, k_page_size);
    u64 old_mapped = s_brk_mapped;
    while (s_brk_mapped < end) {
        u64 phys = 0;
        if (!kernel::alloc_pages(k_page_size, &phys)) {
            shrink_brk_to(old_mapped);
            return static_cast<long>(s_brk);
        }
        std::memset(reinterpret_cast<void*>(phys), 0, k_page_size);
        if (!kernel::map(s_brk_mapped, phys, k_page_size, Access::ReadWrite)) {
            kernel::free_pages(phys, k_page_size);
            shrink_brk_to(old_mapped);
            return static_cast<long>(s_brk);
        }
        s_brk_mapped += k_page_size;
    }
    shrink_brk_to(end);
    s_brk = want;
    return static_cast<long>(s_brk);
}

} // namespace atl::libos
