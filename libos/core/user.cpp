// SPDX-License-Identifier: MIT
// The application's memory as system calls read it: path strings and iovec arrays, copied in
// through kernel/user_memory.h.

#include <libos/core/syscall.h>

#include <kernel/heap.h>

#include <climits>
#include <sys/uio.h>

namespace atl::libos {

long user_string(long p, char* out, std::size_t cap)
{
    Result<std::size_t> r = kernel::copy_string_from_user(out, static_cast<u64>(p), cap);
    return r ? static_cast<long>(*r) : r.error().syscall_return();
}

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
    if (!copy_from_user(m_v, static_cast<u64>(iov), n * sizeof(struct iovec)))
        return -EFAULT;
    m_count = n;
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (m_v[i].iov_len > static_cast<std::size_t>(SSIZE_MAX) - total)
            return -EINVAL;
        total += m_v[i].iov_len;
        if (!(into ? user_ok(m_v[i].iov_base, m_v[i].iov_len) : user_in(m_v[i].iov_base, m_v[i].iov_len)))
            return -EFAULT;
    }
    return static_cast<long>(total);
}

} // namespace atl::libos
