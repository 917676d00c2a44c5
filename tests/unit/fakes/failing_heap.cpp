// SPDX-License-Identifier: MIT
// The kernel heap and page allocator on the host for unit tests (failing_heap.h).
#include "failing_heap.h"

#include <kernel/heap.h>
#include <kernel/memory.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <map>

namespace atl::test {

namespace {

long s_fail_at = 0;
long s_attempts = 0;
bool s_failed = false;
// Every live block and page run, with its size (a free of something never allocated, or with
// another size, is a test failure). Never destroyed: blocks a test keeps on purpose stay
// reachable for LeakSanitizer.
std::map<void*, std::size_t>& live()
{
    static auto* m = new std::map<void*, std::size_t>;
    return *m;
}

} // namespace

// One allocation attempt: false when this is the one to fail.
bool allocation_allowed()
{
    ++s_attempts;
    if (s_fail_at && s_attempts == s_fail_at) {
        s_failed = true;
        return false;
    }
    return true;
}

void* take(std::size_t size, std::size_t align)
{
    if (!allocation_allowed())
        return nullptr;
    std::size_t rounded = (size + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded ? rounded : align);
    live()[p] = size;
    return p;
}

void give_back(void* p, std::size_t size, bool check_size)
{
    auto it = live().find(p);
    ASSERT_NE(it, live().end()) << "freeing " << p << ", which was never allocated (or twice)";
    if (check_size) {
        EXPECT_EQ(it->second, size) << "freeing " << p << " with another size than it was allocated with";
    }
    live().erase(it);
    std::free(p);
}

void FailingHeap::fail_nth(long n)
{
    s_fail_at = n;
    s_attempts = 0;
    s_failed = false;
}
long FailingHeap::attempts() { return s_attempts; }
bool FailingHeap::failed() { return s_failed; }
long FailingHeap::outstanding() { return static_cast<long>(live().size()); }
std::size_t FailingHeap::outstanding_bytes()
{
    std::size_t n = 0;
    for (auto& [p, size] : live())
        n += size;
    return n;
}

} // namespace atl::test

namespace atl::kernel {

void* kmalloc(std::size_t size) { return test::take(size, 16); }
void* kzalloc(std::size_t size)
{
    void* p = kmalloc(size);
    if (p)
        std::memset(p, 0, size);
    return p;
}
void kfree(void* p)
{
    if (p)
        test::give_back(p, 0, false);
}
u64 heap_in_use() { return test::FailingHeap::outstanding_bytes(); }

// Identity-mapped, as the kernel's: the address is the pointer.
bool alloc_pages(u64 size, u64* addr)
{
    void* p = test::take(size, 4096);
    if (!p)
        return false;
    *addr = reinterpret_cast<u64>(p);
    return true;
}
void free_pages(u64 addr, u64 size) { test::give_back(reinterpret_cast<void*>(addr), size, true); }

} // namespace atl::kernel
