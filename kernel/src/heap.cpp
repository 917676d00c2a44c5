// SPDX-License-Identifier: MIT
#include <kernel/heap.h>
#include <kernel/lock.h>
#include <kernel/memory.h>
#include <kernel/panic.h>

#include <cstring>

namespace atl::kernel {

namespace {

// A slab is one page: this header, then objects of one size class. A large block is whole
// pages with a 16-byte header, so its pointer sits at page offset 16, where no slab object
// can (slab objects start at offset 64).
struct Slab {
    u32 magic;
    u32 size;
    u32 used;
    u32 capacity;
    void* free;
    Slab* next; // slabs of this class with free objects
    Slab* prev;
};
static_assert(sizeof(Slab) <= 64);

struct Large {
    u64 magic;
    u64 pages;
};

constexpr u32 k_slab_magic = 0x51ab51ab;
constexpr u64 k_large_magic = 0x1a26e1a26eull;
constexpr std::size_t k_classes = 8; // 16 .. 2048
constexpr std::size_t k_max_small = 2048;

// Kernel threads (device service, the TCP/IP stack) run with interrupts on, so the heap has
// a lock of its own. Lock order: taken before the page allocator's (kernel/src/memory.cpp),
// which a slab or a large block comes from.
SpinLock s_heap_lock;
Slab* s_partial[k_classes] ATL_GUARDED_BY(s_heap_lock);
u64 s_in_use ATL_GUARDED_BY(s_heap_lock) = 0;

std::size_t class_of(std::size_t size)
{
    std::size_t c = 0;
    for (std::size_t s = 16; s < size; s <<= 1)
        ++c;
    return c;
}

void unlink(Slab* s, std::size_t c) ATL_REQUIRES(s_heap_lock)
{
    if (s->prev)
        s->prev->next = s->next;
    else if (s_partial[c] == s)
        s_partial[c] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = nullptr;
}

void push(Slab* s, std::size_t c) ATL_REQUIRES(s_heap_lock)
{
    s->prev = nullptr;
    s->next = s_partial[c];
    if (s->next)
        s->next->prev = s;
    s_partial[c] = s;
}

} // namespace

void* kmalloc_locked(std::size_t size) ATL_REQUIRES(s_heap_lock);
void kfree_locked(void* p) ATL_REQUIRES(s_heap_lock);

void* kmalloc(std::size_t size)
{
    SpinLockGuard guard(s_heap_lock);
    return kmalloc_locked(size);
}

void kfree(void* p)
{
    SpinLockGuard guard(s_heap_lock);
    kfree_locked(p);
}

void* kmalloc_locked(std::size_t size) ATL_REQUIRES(s_heap_lock)
{
    if (size == 0)
        size = 1;
    if (size > k_max_small) {
        u64 bytes = align_up(size + sizeof(Large), k_page_size);
        if (bytes < size)
            return nullptr;
        u64 addr = 0;
        if (!alloc_pages(bytes, &addr))
            return nullptr;
        auto* l = reinterpret_cast<Large*>(addr);
        l->magic = k_large_magic;
        l->pages = bytes / k_page_size;
        s_in_use += bytes;
        return l + 1;
    }
    std::size_t c = class_of(size);
    u32 object = 16u << c;
    Slab* s = s_partial[c];
    if (!s) {
        u64 addr = 0;
        if (!alloc_pages(k_page_size, &addr))
            return nullptr;
        s = reinterpret_cast<Slab*>(addr);
        s->magic = k_slab_magic;
        s->size = object;
        s->used = 0;
        s->capacity = static_cast<u32>((k_page_size - 64) / object);
        s->free = nullptr;
        for (u32 i = s->capacity; i > 0; --i) {
            void* obj = reinterpret_cast<void*>(addr + 64 + (i - 1) * object);
            *static_cast<void**>(obj) = s->free;
            s->free = obj;
        }
        s->next = s->prev = nullptr;
        push(s, c);
    }
    void* obj = s->free;
    s->free = *static_cast<void**>(obj);
    if (++s->used == s->capacity)
        unlink(s, c);
    s_in_use += object;
    return obj;
}

void* kzalloc(std::size_t size)
{
    void* p = kmalloc(size);
    if (p)
        std::memset(p, 0, size);
    return p;
}

void kfree_locked(void* p) ATL_REQUIRES(s_heap_lock)
{
    if (!p)
        return;
    u64 addr = reinterpret_cast<u64>(p);
    if ((addr & (k_page_size - 1)) == sizeof(Large)) {
        auto* l = reinterpret_cast<Large*>(addr - sizeof(Large));
        VERIFY(l->magic == k_large_magic);
        l->magic = 0;
        s_in_use -= l->pages * k_page_size;
        free_pages(addr - sizeof(Large), l->pages * k_page_size);
        return;
    }
    auto* s = reinterpret_cast<Slab*>(align_down(addr, k_page_size));
    VERIFY(s->magic == k_slab_magic);
    VERIFY((addr - reinterpret_cast<u64>(s) - 64) % s->size == 0);
    std::size_t c = class_of(s->size);
    bool was_full = s->used == s->capacity;
    *static_cast<void**>(p) = s->free;
    s->free = p;
    --s->used;
    s_in_use -= s->size;
    if (s->used == 0) {
        // An empty slab goes back to the page allocator (keeping one would be a cache; the
        // memory report in /proc/meminfo is more useful exact).
        if (!was_full)
            unlink(s, c);
        s->magic = 0;
        free_pages(reinterpret_cast<u64>(s), k_page_size);
        return;
    }
    if (was_full)
        push(s, c);
}

u64 heap_in_use()
{
    SpinLockGuard guard(s_heap_lock);
    return s_in_use;
}

} // namespace atl::kernel
