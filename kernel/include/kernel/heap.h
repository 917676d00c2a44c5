// SPDX-License-Identifier: MIT
#pragma once

// The kernel heap: size classes of 16 to 2048 bytes carved from pages, larger blocks straight
// from the page allocator. Never blocks, so kernel code can allocate with interrupts off and
// without touching the application's malloc. Allocation can fail: callers check.

#include <kernel/types.h>

#include <new>
#include <utility>

namespace atl::kernel {

[[nodiscard]] void* kmalloc(std::size_t size);
[[nodiscard]] void* kzalloc(std::size_t size);
void kfree(void* p);
// Bytes handed out and not yet freed (kernel heap only).
u64 heap_in_use();

// Constructs a T on the kernel heap; nullptr when out of memory.
template <typename T, typename... Args>
[[nodiscard]] T* make(Args&&... args)
{
    void* p = kmalloc(sizeof(T));
    return p ? new (p) T(std::forward<Args>(args)...) : nullptr;
}

template <typename T>
void destroy(T* p)
{
    if (p) {
        p->~T();
        kfree(p);
    }
}

} // namespace atl::kernel
