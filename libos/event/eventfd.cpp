// SPDX-License-Identifier: MIT
// eventfd: a 64-bit counter read and written as a descriptor.

#include <libos/core/syscall.h>
#include <libos/event/syscalls.h>
#include <libos/fs/vfs.h>
#include <libos/proc/thread_state.h>
#include <libos/time/syscalls.h>

#include <kernel/heap.h>
#include <kernel/time.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>

namespace atl::libos {

namespace {

class EventFd final : public File {
public:
    u64 count = 0;
    bool semaphore = false;
    WaitQueue readers, writers;

    long read(void* buf, std::size_t n) override
    {
        if (n < 8)
            return -EINVAL;
        while (count == 0) {
            if (nonblocking())
                return -EAGAIN;
            if (kernel::block(&readers, 0, true) == kernel::WakeReason::Interrupted)
                return -EINTR;
        }
        u64 v = semaphore ? 1 : count;
        // BUF: a checked range, perhaps unmapped while this read waited.
        if (!copy_checked(buf, &v, 8))
            return -EFAULT;
        count -= v;
        kernel::wake_all(writers);
        notify(POLLOUT);
        return 8;
    }

    long write(const void* buf, std::size_t n) override
    {
        if (n < 8)
            return -EINVAL;
        u64 v;
        if (!copy_checked(&v, buf, 8)) // BUF: a checked range
            return -EFAULT;
        if (v == ~u64(0))
            return -EINVAL;
        while (count > ~u64(0) - 1 - v) { // would pass the maximum 0xfffffffffffffffe
            if (nonblocking())
                return -EAGAIN;
            if (kernel::block(&writers, 0, true) == kernel::WakeReason::Interrupted)
                return -EINTR;
        }
        count += v;
        if (v) {
            kernel::wake_all(readers);
            notify(POLLIN);
        }
        return 8;
    }

    u32 poll() override
    {
        return (count ? POLLIN | POLLRDNORM : 0) | (count < ~u64(0) - 1 ? POLLOUT | POLLWRNORM : 0);
    }
    void describe(char* buf, std::size_t cap) override { std::snprintf(buf, cap, "anon_inode:[eventfd]"); }
};

} // namespace

long sys_eventfd2(long initval, long flags)
{
    if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
        return -EINVAL;
    if (initval < 0 || initval > UINT_MAX)
        return -EINVAL;
    auto* e = kernel::make<EventFd>();
    if (!e)
        return -ENOMEM;
    e->count = static_cast<u64>(initval);
    e->semaphore = flags & EFD_SEMAPHORE;
    e->flags = O_RDWR | (static_cast<int>(flags) & O_NONBLOCK);
    return fd_install(e, flags & EFD_CLOEXEC);
}

long sys_eventfd(long initval) { return sys_eventfd2(initval, 0); }

} // namespace atl::libos
