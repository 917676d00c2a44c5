// SPDX-License-Identifier: MIT
#pragma once

// The kernel's allocators on the host (kernel::kmalloc/kzalloc/kfree, alloc_pages/free_pages,
// and kernel threads, whose stacks are allocations too), counted, and made to fail on request:
// the Nth allocation after fail_nth(N) returns nothing, so a test can walk an operation through
// every allocation it makes and check that each error path gives back what it took.
//
//     for (long n = 1;; ++n) {
//         FailingHeap::fail_nth(n);
//         bool ok = operation();
//         if (!ok) { EXPECT_EQ(FailingHeap::outstanding(), before); continue; }
//         ...; break;   // the first N past the operation's last allocation: it succeeds
//     }

#include <cstddef>

namespace atl::test {

struct FailingHeap {
    // The Nth allocation from now fails (1: the next one); 0: none fails. Resets the count.
    static void fail_nth(long n);
    // Allocations made since the last fail_nth() (the failed one included).
    static long attempts();
    // Whether the allocation fail_nth() asked for has failed yet.
    static bool failed();
    // Allocations not yet freed (heap blocks, page runs and threads together), and bytes.
    static long outstanding();
    static std::size_t outstanding_bytes();
};

} // namespace atl::test
