// SPDX-License-Identifier: MIT
#include <kernel/console.h>
#include <kernel/lock.h>
#include <kernel/memory.h>
#include <kernel/panic.h>

#include <cerrno>

extern "C" char __image_start[];
extern "C" char __image_end[];

namespace atl::kernel {

namespace {
// The page allocator's lock: kernel threads run with interrupts on. Lock order: after the
// heap's (kernel/src/heap.cpp) and the page tables' (kernel/src/paging.cpp), which take pages
// while they hold theirs; nothing is taken while it is held.
SpinLock s_page_lock;
RangeSet s_free ATL_GUARDED_BY(s_page_lock); // pages nobody owns
RangeSet s_ram;  // all RAM the image may touch (image + managed pages)
u64 s_total = 0;
u64 s_ignored = 0;
// Inside the allocator (with its lock): a stack that needs a page now must not re-enter it.
// Read without the lock by the page-fault handler on this CPU, which asks whether the code
// it interrupted is this allocator. FIXME: per CPU (kernel::Cpu) once there are several.
int s_busy = 0;
} // namespace

bool memory_busy() { return s_busy != 0; }

namespace {
[[gnu::cold]] Error unusable_map(const char* why)
{
    log("memory: %s", why);
    return Error::from_errno(EINVAL);
}
} // namespace

Result<void> memory_init(const MemoryMapEntry* map, std::size_t count, const Range* reserved,
    std::size_t reserved_count)
{
    Range image { reinterpret_cast<u64>(__image_start), reinterpret_cast<u64>(__image_end) };
    Range all_reserved[17];
    if (reserved_count > 16)
        return unusable_map("too many reserved ranges");
    for (std::size_t i = 0; i < reserved_count; ++i)
        all_reserved[i] = reserved[i];
    all_reserved[reserved_count] = image;
    Range low { 0, k_low_memory_end };
    if (const char* err = collect_usable_memory(map, count, &low, 1, k_address_space_end, s_ram))
        return unusable_map(err);
    {
        SpinLockGuard guard(s_page_lock);
        if (const char* err = collect_usable_memory(map, count, all_reserved, reserved_count + 1, k_address_space_end, s_free))
            return unusable_map(err);
    }
    if (!s_ram.contains(Range { align_down(image.start, k_page_size), align_up(image.end, k_page_size) }))
        return unusable_map("the memory map does not contain the image as RAM");
    s_total = s_ram.total();
    for (std::size_t i = 0; i < count; ++i) {
        if (map[i].type == k_memory_type_ram && map[i].addr + map[i].size > k_address_space_end) {
            u64 start = map[i].addr > k_address_space_end ? map[i].addr : k_address_space_end;
            s_ignored += map[i].addr + map[i].size - start;
        }
    }
    return {};
}

bool alloc_pages(u64 size, u64* addr)
{
    SpinLockGuard guard(s_page_lock);
    ++s_busy;
    bool ok = s_free.allocate(align_up(size, k_page_size), k_page_size, addr, k_low_memory_end);
    --s_busy;
    return ok;
}

void free_pages(u64 addr, u64 size)
{
    RangeError err {};
    bool ok;
    {
        SpinLockGuard guard(s_page_lock);
        ++s_busy;
        ok = s_free.insert(Range { addr, addr + align_up(size, k_page_size) }, &err);
        --s_busy;
    }
    if (!ok)
        panic("free_pages(0x%llx, %llu): %s", static_cast<unsigned long long>(addr),
            static_cast<unsigned long long>(size), err == RangeError::Overlap ? "double free" : "allocator full");
}

bool claim_pages(u64 addr, u64 size)
{
    Range r { addr, addr + align_up(size, k_page_size) };
    if (r.end < r.start || r.start < k_low_memory_end)
        return false;
    SpinLockGuard guard(s_page_lock);
    ++s_busy;
    bool ok = s_free.contains(r) && s_free.remove(r);
    --s_busy;
    return ok;
}

u64 memory_total() { return s_total; }
u64 memory_free()
{
    SpinLockGuard guard(s_page_lock);
    return s_free.total();
}
u64 memory_ignored() { return s_ignored; }

} // namespace atl::kernel
