// SPDX-License-Identifier: MIT
// The copies in and out of kernel/user_memory.h.

#include <kernel/user_memory.h>

namespace atl::kernel {

Result<void> copy_from_user(void* dst, u64 src, std::size_t n)
{
    if (!access_ok(src, n, false) || !arch::user_copy(dst, reinterpret_cast<const void*>(src), n))
        return efault();
    return {};
}

Result<void> copy_to_user(u64 dst, const void* src, std::size_t n)
{
    if (!access_ok(dst, n, true) || !arch::user_copy(reinterpret_cast<void*>(dst), src, n))
        return efault();
    return {};
}

Result<std::size_t> copy_string_from_user(char* dst, u64 src, std::size_t cap)
{
    if (!src)
        return efault();
    std::size_t done = 0;
    while (done < cap) {
        // One page at a time: the string may end before a page the application cannot read.
        u64 at = src + done;
        std::size_t in_page = k_page_size - (at & (k_page_size - 1));
        std::size_t chunk = cap - done < in_page ? cap - done : in_page;
        if (!access_ok(at, 1, false))
            return efault();
        long n = arch::user_string_copy(dst + done, reinterpret_cast<const char*>(at), chunk);
        if (n < 0)
            return efault();
        if (static_cast<std::size_t>(n) < chunk)
            return done + static_cast<std::size_t>(n);
        done += chunk;
    }
    return Error::from_errno(ENAMETOOLONG);
}

} // namespace atl::kernel
