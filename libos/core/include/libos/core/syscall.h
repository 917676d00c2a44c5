// SPDX-License-Identifier: MIT
#pragma once

// What every system call handler uses: the entry point, the result convention, and the checks
// and copies of the application's memory (user.cpp). Handlers take the raw arguments,
// validate them, and return a value >= 0 or -errno, as the Linux kernel would; each family
// declares its own in <libos/FAMILY/...>.

#include <kernel/paging.h>
#include <kernel/result.h>
#include <kernel/types.h>
#include <kernel/user_memory.h>

#include <cerrno>
#include <cstddef>
#include <type_traits>
#include <sys/uio.h>

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

// The application's memory (kernel/user_memory.h): structures through UserPtr<T>'s read() and
// write(), byte ranges through copy_from_user/copy_to_user, each EFAULT for a pointer the
// application may not use or memory unmapped under the call.
using kernel::copy_checked;
using kernel::copy_from_user;
using kernel::copy_to_user;
using kernel::UserPtr;

// The range gate alone, for bulk data that a file moves later (a read's or write's buffer):
// user_ok for memory the libOS writes, user_in for memory it only reads. What then touches the
// range goes through copy_checked (fault-safe), never a plain dereference.
inline bool user_ok(const void* p, std::size_t n) { return kernel::access_ok(reinterpret_cast<u64>(p), n, true); }
inline bool user_ok(long p, std::size_t n) { return kernel::access_ok(static_cast<u64>(p), n, true); }
inline bool user_in(const void* p, std::size_t n) { return kernel::access_ok(reinterpret_cast<u64>(p), n, false); }
inline bool user_in(long p, std::size_t n) { return kernel::access_ok(static_cast<u64>(p), n, false); }

// A structure the system call reads (in) or writes (out), as its -errno on failure: the form
// for handlers that still return long.
// (Through copy_in/copy_out, user.cpp: a call and a sign test at each of the hundred sites.)
long copy_in(void* dst, long src, std::size_t n);        // copy_from_user as 0 or -EFAULT
long copy_out(long dst, const void* src, std::size_t n); // copy_to_user as 0 or -EFAULT
template <typename T>
inline long read_user(long p, T* out)
{
    static_assert(std::is_trivially_copyable_v<T>);
    return copy_in(out, p, sizeof(T));
}
template <typename T>
inline long write_user(long p, const T& v)
{
    static_assert(std::is_trivially_copyable_v<T>);
    return copy_out(p, &v, sizeof(T));
}
template <typename T>
inline long read_user(const void* p, T* out) { return read_user(reinterpret_cast<long>(p), out); }
template <typename T>
inline long write_user(const void* p, const T& v) { return write_user(reinterpret_cast<long>(p), v); }

long user_string(long p, char* out, std::size_t cap); // copies a path in: its length or -errno

// An iovec array copied in from the application, each piece checked (into: the libOS writes
// the buffers), so that nothing reads the application's array again. Up to 8 entries in place
// (Linux's UIO_FASTIOV), more from the heap.
class UserIov {
public:
    UserIov() = default;
    UserIov(const UserIov&) = delete;
    UserIov& operator=(const UserIov&) = delete;
    ~UserIov();

    // The total length or -errno: EINVAL for a bad count or a total that overflows ssize_t,
    // EFAULT for the array or any piece, ENOMEM.
    long copy_in(long iov, long iovcnt, bool into);
    std::size_t size() const { return m_count; }
    const struct iovec& operator[](std::size_t i) const { return m_v[i]; }

private:
    static constexpr std::size_t k_in_place = 8;
    struct iovec m_in_place[k_in_place];
    struct iovec* m_v = m_in_place;
    std::size_t m_count = 0;
};

// The one process's id (getpid, getpgrp, the sender of its own signals).
constexpr long k_pid = 1;

} // namespace atl::libos
