// SPDX-License-Identifier: MIT
// Anonymous memory for the application. Memory is identity-mapped, so a mapping is a run of
// physical pages from the kernel's page allocator; the set of the application's mappings
// lets munmap free exactly what was mapped (and ignore the rest, as Linux does).
// Permissions live in the page tables: mmap's prot and mprotect set them page by page.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/mm/syscalls.h>

#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/heap.h>
#include <kernel/stack.h>

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

// ------------------------------------------------------------------ file mappings
// MAP_PRIVATE: anonymous pages with a copy of the file. MAP_SHARED: the file's own ramfs
// pages, mapped into a window of their own above the heap, so writes through the mapping are
// the file's contents (and msync has nothing left to do).
constexpr u64 k_shared_base = u64(1) << 40;
constexpr u64 k_shared_limit = u64(1) << 44;

struct SharedMapping {
    SharedMapping* next;
    u64 start;
    u64 size;
    Inode* inode;
    u64 offset; // file offset of `start`
};
SharedMapping* s_shared = nullptr;
u64 s_shared_next = k_shared_base;
RangeSet s_shared_free; // holes left by unmapped shared mappings

long map_shared(long prot, Inode* inode, u64 offset, u64 size)
{
    u64 first = offset / k_page_size, count = size / k_page_size;
    // Every page of the range holds some of the file (holes become zero pages); the last one
    // may hold less than a page of it, its tail reading as zeros, as on Linux. Pages wholly
    // past the end are refused: Linux maps them too (SIGBUS on access), but no file page
    // stands behind them here.
    if (offset + size > align_up(inode->size, k_page_size))
        return -ENXIO;
    for (u64 b = first; b < first + count; ++b) {
        if (b >= inode->block_capacity || !inode->blocks[b]) {
            char zero = 0; // a hole reads as zero: writing that zero back allocates its page
            if (file_data_write(inode, &zero, 1, b * k_page_size) != 1)
                return -ENOMEM;
        }
    }
    u64 start = 0;
    if (!s_shared_free.allocate(size, k_page_size, &start)) {
        if (s_shared_next + size > k_shared_limit)
            return -ENOMEM;
        start = s_shared_next;
        s_shared_next += size;
    }
    auto* m = kernel::make<SharedMapping>();
    if (!m)
        return -ENOMEM;
    for (u64 i = 0; i < count; ++i) {
        if (!kernel::map(start + i * k_page_size, inode->blocks[first + i], k_page_size, access_of(prot))) {
            (void)kernel::unmap(start, i * k_page_size);
            kernel::destroy(m);
            return -ENOMEM;
        }
    }
    inode_get(inode);
    *m = SharedMapping { s_shared, start, size, inode, offset };
    s_shared = m;
    return static_cast<long>(start);
}

long map_file(long addr, long len, long prot, long flags, long fd, long offset)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    Inode* inode = f->inode();
    if (!inode || !inode->is_reg() || inode->generator)
        return -ENODEV;
    if (!f->readable())
        return -EACCES;
    int type = flags & MAP_TYPE;
    bool shared = type == MAP_SHARED || type == MAP_SHARED_VALIDATE;
    if (shared && (prot & PROT_WRITE) && !f->writable())
        return -EACCES;
    if (offset < 0)
        return -EINVAL;
    u64 size = page_length(len);
    if (size == 0)
        return -ENOMEM;
    if (shared) {
        if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
            return -EINVAL; // FIXME: shared mappings at a chosen address
        return map_shared(prot, inode, static_cast<u64>(offset), size);
    }
    long at = sys_mmap(addr, len, PROT_READ | PROT_WRITE, (flags & ~MAP_TYPE) | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (at < 0)
        return at;
    (void)file_data_read(inode, reinterpret_cast<void*>(at), size, static_cast<u64>(offset));
    if (Access a = access_of(prot); a != Access::ReadWrite)
        (void)kernel::set_access(static_cast<u64>(at), size, a);
    return at;
}

// Unmaps the part of shared mappings in [start, end); true if the range was in the window.
bool unmap_shared(u64 start, u64 end)
{
    if (end <= k_shared_base || start >= k_shared_limit)
        return false;
    for (SharedMapping** link = &s_shared; *link;) {
        SharedMapping* m = *link;
        u64 lo = m->start > start ? m->start : start, hi = m->start + m->size < end ? m->start + m->size : end;
        if (lo >= hi) {
            link = &m->next;
            continue;
        }
        (void)kernel::unmap(lo, hi - lo);
        (void)s_shared_free.insert(Range { lo, hi });
        if (lo == m->start && hi == m->start + m->size) {
            *link = m->next;
            inode_put(m->inode);
            kernel::destroy(m);
            continue;
        }
        if (lo == m->start) {
            m->offset += hi - m->start;
            m->size -= hi - m->start;
            m->start = hi;
        } else if (hi == m->start + m->size) {
            m->size = lo - m->start;
        } else { // a hole in the middle: the tail becomes a mapping of its own
            auto* tail = kernel::make<SharedMapping>();
            if (tail) {
                inode_get(m->inode);
                *tail = SharedMapping { m->next, hi, m->start + m->size - hi, m->inode, m->offset + (hi - m->start) };
                m->next = tail;
            }
            m->size = lo - m->start;
        }
        link = &m->next;
    }
    return true;
}

bool in_shared(Range r)
{
    for (SharedMapping* m = s_shared; m; m = m->next) {
        if (r.start >= m->start && r.end <= m->start + m->size)
            return true;
    }
    return false;
}

} // namespace

long sys_msync(long addr, long len, long flags)
{
    if (!page_aligned(addr) || len < 0)
        return -EINVAL;
    if ((flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) || ((flags & MS_ASYNC) && (flags & MS_SYNC)))
        return -EINVAL;
    Range r { static_cast<u64>(addr), static_cast<u64>(addr) + page_length(len ? len : 1) };
    // Shared mappings are the file's own pages: nothing to write back.
    return in_shared(r) || s_mappings.contains(r) ? 0 : -ENOMEM;
}

long sys_mmap(long addr, long len, long prot, long flags, long fd, long offset)
{
    if (len == 0 || (prot & ~k_known_prot) != 0)
        return -EINVAL;
    int type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    if (!page_aligned(offset))
        return -EINVAL;
    if (!(flags & MAP_ANONYMOUS))
        return map_file(addr, len, prot, flags, fd, offset);
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

long sys_mremap(long old_addr, long old_len, long new_len, long flags, long new_addr)
{
    constexpr long k_known = MREMAP_MAYMOVE | MREMAP_FIXED;
    if ((flags & ~k_known) || ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
        return -EINVAL;
    if (!page_aligned(old_addr) || new_len <= 0 || old_len <= 0)
        return -EINVAL;
    u64 old_size = page_length(old_len), new_size = page_length(new_len);
    if (!old_size || !new_size)
        return -ENOMEM;
    Range old { static_cast<u64>(old_addr), static_cast<u64>(old_addr) + old_size };
    kernel::StackArea stack;
    if (kernel::stack_find(old.start, &stack) && old.start >= stack.committed_low && old.end <= stack.high) {
        // The main thread's stack, as Linux answers for it (musl's pthread_getattr_np() probes
        // it this way): it cannot grow in place over its own next page, nor move.
        if (new_size == old_size && !(flags & MREMAP_FIXED))
            return old_addr;
        return (flags & MREMAP_MAYMOVE) ? -EINVAL : -ENOMEM;
    }
    if (!s_mappings.contains(old))
        return -EFAULT;
    Access access = Access::ReadWrite;
    (void)kernel::query_access(old.start, &access);
    if (!(flags & MREMAP_FIXED)) {
        if (new_size == old_size)
            return old_addr;
        if (new_size < old_size) {
            long r = sys_munmap(static_cast<long>(old.start + new_size), static_cast<long>(old_size - new_size));
            return r < 0 ? r : old_addr;
        }
        // Grow in place when the pages right after the mapping are free.
        u64 grow = new_size - old_size;
        if (kernel::claim_pages(old.end, grow)) {
            if (!s_mappings.insert(Range { old.end, old.end + grow })) {
                kernel::free_pages(old.end, grow);
                return -ENOMEM;
            }
            std::memset(reinterpret_cast<void*>(old.end), 0, grow);
            if (access != Access::ReadWrite)
                (void)kernel::set_access(old.end, grow, access);
            return old_addr;
        }
        if (!(flags & MREMAP_MAYMOVE))
            return -ENOMEM;
    } else {
        u64 to = static_cast<u64>(new_addr);
        bool overlaps = to < old.end && to + new_size > old.start;
        if (!page_aligned(new_addr) || overlaps)
            return -EINVAL; // misaligned, or the new place overlaps the old one
    }
    // Move: a new mapping, the contents copied, the old one unmapped.
    long to = (flags & MREMAP_FIXED)
        ? sys_mmap(new_addr, static_cast<long>(new_size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
        : sys_mmap(0, static_cast<long>(new_size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (to < 0)
        return to;
    if (access == Access::None)
        (void)kernel::set_access(old.start, old_size, Access::Read); // to copy it
    std::memcpy(reinterpret_cast<void*>(to), reinterpret_cast<const void*>(old.start), old_size < new_size ? old_size : new_size);
    if (access != Access::ReadWrite)
        (void)kernel::set_access(static_cast<u64>(to), new_size, access);
    (void)sys_munmap(old_addr, static_cast<long>(old_size));
    return to;
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
    if (unmap_shared(r.start, r.end))
        return 0;
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
    if (size == 0 || r.end < r.start || !(s_mappings.contains(r) || in_shared(r)))
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

// mlock and friends: every page of a unikernel is resident (there is no swap and no paging
// out), so locking succeeds once the arguments are valid, and says the truth.
long sys_mlock(long addr, long len, long flags)
{
    if (flags & ~1L) // MLOCK_ONFAULT
        return -EINVAL;
    if (len == 0)
        return 0;
    u64 start = align_down(static_cast<u64>(addr), k_page_size);
    u64 end = static_cast<u64>(addr) + static_cast<u64>(len);
    if (end < start || !kernel::access_ok(start, end - start, false))
        return -ENOMEM; // some of the range is not mapped
    return 0;
}

long sys_munlock(long addr, long len) { return sys_mlock(addr, len, 0); }

long sys_mlockall(long flags)
{
    constexpr long k_current = 1, k_future = 2, k_onfault = 4;
    if (flags == 0 || (flags & ~(k_current | k_future | k_onfault)) || flags == k_onfault)
        return -EINVAL;
    return 0;
}

} // namespace atl::libos
