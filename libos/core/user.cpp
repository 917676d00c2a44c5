// SPDX-License-Identifier: MIT
// The application's memory as system calls read it: path strings and iovec arrays, checked
// against the page tables before the libOS touches them.

#include <libos/core/syscall.h>

#include <climits>
#include <sys/uio.h>

namespace atl::libos {

long user_string(long p, char* out, std::size_t cap)
{
    if (!p)
        return -EFAULT;
    u64 a = static_cast<u64>(p);
    for (std::size_t i = 0; i < cap; ++i) {
        if (i == 0 || ((a + i) & (k_page_size - 1)) == 0) {
            if (!kernel::access_ok(a + i, 1, false))
                return -EFAULT;
        }
        out[i] = reinterpret_cast<const char*>(a)[i];
        if (out[i] == '\0')
            return static_cast<long>(i);
    }
    return -ENAMETOOLONG;
}

// Validates an iovec array the way Linux does: EINVAL for a bad count or a total that
// overflows ssize_t, EFAULT for any unusable piece.
long check_iov(long iov, long iovcnt, bool into)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX)
        return -EINVAL;
    if (!user_in(iov, static_cast<std::size_t>(iovcnt) * sizeof(struct iovec)))
        return -EFAULT;
    auto* v = reinterpret_cast<const struct iovec*>(iov);
    std::size_t total = 0;
    for (long i = 0; i < iovcnt; ++i) {
        if (v[i].iov_len > static_cast<std::size_t>(SSIZE_MAX) - total)
            return -EINVAL;
        total += v[i].iov_len;
        if (!(into ? user_ok(v[i].iov_base, v[i].iov_len) : user_in(v[i].iov_base, v[i].iov_len)))
            return -EFAULT;
    }
    return static_cast<long>(total);
}

} // namespace atl::libos
