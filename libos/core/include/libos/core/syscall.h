// SPDX-License-Identifier: MIT
#pragma once

// What every system call handler uses: the entry point, the result convention, and the checks
// and copies of the application's memory (user.cpp). Handlers take the raw arguments,
// validate them, and return a value >= 0 or -errno, as the Linux kernel would; each family
// declares its own in <libos/FAMILY/...>.

#include <kernel/paging.h>
#include <kernel/types.h>

#include <cerrno>
#include <cstddef>

// The entry point from musl (toolchain/musl/syscall_arch.h).
extern "C" long __atoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

namespace atl::libos {
// A system call's result as a C library function returns it: -errno becomes errno and -1
// (for the libc functions the libOS defines in musl's place: socket, clock_gettime...).
inline long syscall_result(long r)
{
    if (r < 0) {
        errno = static_cast<int>(-r);
        return -1;
    }
    return r;
}
}

namespace atl::libos {

using ::atl::u64;

// Pointer checks against the page tables: user_ok for memory the libOS writes (results),
// user_in for memory it only reads (arguments).
inline bool user_ok(const void* p, std::size_t n) { return kernel::access_ok(reinterpret_cast<u64>(p), n, true); }
inline bool user_ok(long p, std::size_t n) { return kernel::access_ok(static_cast<u64>(p), n, true); }
inline bool user_in(const void* p, std::size_t n) { return kernel::access_ok(reinterpret_cast<u64>(p), n, false); }
inline bool user_in(long p, std::size_t n) { return kernel::access_ok(static_cast<u64>(p), n, false); }

long user_string(long p, char* out, std::size_t cap); // copies a path in: its length or -errno
// Validates an iovec array (into: the libOS writes the buffers); the total length or -errno.
long check_iov(long iov, long iovcnt, bool into);

// The one process's id (getpid, getpgrp, the sender of its own signals).
constexpr long k_pid = 1;

} // namespace atl::libos
