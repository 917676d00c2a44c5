// SPDX-License-Identifier: MIT
// The application's memory as system calls read it: path strings and iovec arrays, copied in
// through kernel/user_memory.h.

#include <libos/core/syscall.h>

#include <kernel/heap.h>

#include <climits>
#include <sys/uio.h>

namespace atl::libos {

long copy_in(void* dst, long src, std::size_t n)
{
    return copy_from_user(dst, static_cast<u64>(src), n) ? 0 : -EFAULT;
}

long copy_out(long dst, const void* src, std::size_t n)
{
    return copy_to_user(static_cast<u64>(dst), src, n) ? 0 : -EFAULT;
}

long user_string(long p, char* out, std::size_t cap)
{
    Result<std::size_t> r = kernel::copy_string_from_user(out, static_cast<u64>(p), cap);
    return r ? static_cast<long>(*r) : r.error().syscall_return();
}

namespace {

// A piece's buffer, for writing into it or reading from it. Out of line: with access_ok inline
// the compiler made two copies of the loop below, one for each direction.
[[gnu::noinline]] bool piece_ok(const struct iovec& v, bool into)
{
    return kernel::access_ok(reinterpret_cast<u64>(v.iov_base), v.iov_len, into);
}

} // namespace

UserIov::~UserIov()
{
    if (m_v != m_in_place)
        kernel::kfree(m_v);
}

// Validates an iovec array the way Linux does: EINVAL for a bad count or a total that
// overflows ssize_t, EFAULT for any unusable piece.
long UserIov::copy_in(long iov, long iovcnt, bool into)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX)
        return -EINVAL;
    auto n = static_cast<std::size_t>(iovcnt);
    if (n > k_in_place) {
        m_v = static_cast<struct iovec*>(kernel::kmalloc(n * sizeof(struct iovec)));
        if (!m_v) {
            m_v = m_in_place;
            return -ENOMEM;
        }
    }
    if (long r = libos::copy_in(m_v, iov, n * sizeof(struct iovec)); r < 0)
        return r;
    m_count = n;
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (m_v[i].iov_len > static_cast<std::size_t>(SSIZE_MAX) - total)
            return -EINVAL;
        total += m_v[i].iov_len;
        if (!piece_ok(m_v[i], into))
            return -EFAULT;
    }
    return static_cast<long>(total);
}

} // namespace atl::libos
