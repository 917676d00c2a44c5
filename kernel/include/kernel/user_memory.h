// SPDX-License-Identifier: MIT
#pragma once

// The application's memory as the libOS reads and writes it: copies in and out that return
// EFAULT for a pointer the application may not use, instead of dereferencing it.
//
//     struct timespec ts = ...;
//     TRY(UserPtr<struct timespec>(arg).write(ts));       // EFAULT, or written
//     struct rlimit lim = TRY(UserPtr<struct rlimit>(arg).read());
//
// Two gates. access_ok (kernel/paging.h) first: the range must be mapped with the access
// asked for now, which refuses the image's code and constants for a write and the unmapped
// low megabyte (and commits an untouched page of a growable stack). Then the copy itself runs
// through the architecture's fault-safe accesses (kernel/arch/user_access.h): in one address
// space another thread can unmap or protect the memory after the check (while this call is
// blocked, or between the check and the copy where the caller runs with interrupts on), and
// an access that faults then fails with EFAULT as it would on Linux, instead of crashing.
//
// Nothing here holds on to the application's memory: a structure is copied in, used and
// copied out. Bulk data (a read's or write's buffer, which a file copies into or out of deep
// in its own code, perhaps after blocking) is checked once at the system call's entry with
// access_ok and then moved with copy_checked, which survives the fault of a range unmapped
// meanwhile.

#include <kernel/arch/user_access.h>
#include <kernel/paging.h>
#include <kernel/result.h>
#include <kernel/types.h>

#include <cerrno>
#include <cstddef>
#include <type_traits>

namespace atl::kernel {

inline Error efault() { return Error::from_errno(EFAULT); }

// N bytes from the application's SRC into DST. Out of line (user_memory.cpp): one call at each
// of the libOS's many sites costs less image than the check and the moves inline.
[[nodiscard]] Result<void> copy_from_user(void* dst, u64 src, std::size_t n);
// N bytes from SRC into the application's DST.
[[nodiscard]] Result<void> copy_to_user(u64 dst, const void* src, std::size_t n);

// N bytes between a kernel buffer and a range of the application's memory that the system
// call has checked with access_ok (either side may be the application's): false when an
// access faulted, the memory having been unmapped or protected since.
[[nodiscard]] inline bool copy_checked(void* dst, const void* src, std::size_t n) { return arch::user_copy(dst, src, n); }

// A nul-terminated string (a path, a name) of at most CAP bytes with its nul into DST: its
// length, ENAMETOOLONG when it does not fit, EFAULT for a null or unusable pointer. The
// pages are checked one at a time, as the copy reaches them: a short string at the end of a
// mapping is fine.
[[nodiscard]] Result<std::size_t> copy_string_from_user(char* dst, u64 src, std::size_t cap);

// A pointer into the application's memory to one T (or the first of an array), which the
// libOS touches only through read() and write(). T is copied as bytes, so it must be
// trivially copyable (a structure of the Linux ABI).
template <typename T>
class UserPtr {
    static_assert(std::is_trivially_copyable_v<T>, "a UserPtr's type is copied as bytes");

public:
    constexpr UserPtr() = default;
    constexpr explicit UserPtr(u64 addr)
        : m_addr(addr)
    {
    }
    constexpr explicit UserPtr(long addr)
        : m_addr(static_cast<u64>(addr))
    {
    }
    explicit UserPtr(T* p)
        : m_addr(reinterpret_cast<u64>(p))
    {
    }

    constexpr u64 addr() const { return m_addr; }
    constexpr bool is_null() const { return m_addr == 0; }
    constexpr explicit operator bool() const { return m_addr != 0; }
    // The element I places further (for arrays: pollfd, epoll_event).
    constexpr UserPtr operator+(std::size_t i) const { return UserPtr(m_addr + i * sizeof(T)); }

    [[nodiscard]] Result<T> read() const
    {
        T v;
        if (!copy_from_user(&v, m_addr, sizeof(T)))
            return efault();
        return v;
    }
    [[nodiscard]] Result<void> write(const T& v) const { return copy_to_user(m_addr, &v, sizeof(T)); }

    // The two halves of write() inline, for a hot path (clock_gettime, without even a call):
    // the gate, then the value computed, then the fault-safe store, as plain moves.
    bool writable() const { return access_ok(m_addr, sizeof(T), true); }
    [[nodiscard]] bool write_checked(const T& v) const
    {
        return arch::user_write_fixed<sizeof(T)>(reinterpret_cast<void*>(m_addr), &v);
    }
    // The same for a read behind a gate the caller passed (futex_wait's word).
    bool readable() const { return access_ok(m_addr, sizeof(T), false); }
    [[nodiscard]] bool read_checked(T* out) const
    {
        return arch::user_read_fixed<sizeof(T)>(out, reinterpret_cast<const void*>(m_addr));
    }

private:
    u64 m_addr = 0;
};

} // namespace atl::kernel
