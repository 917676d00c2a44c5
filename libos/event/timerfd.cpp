// SPDX-License-Identifier: MIT
// timerfd: a timer read as a descriptor (its expiry count).

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
#include <sys/timerfd.h>

namespace atl::libos {

namespace {

class TimerFd;
struct TimerHook : kernel::TimerEvent {
    TimerFd* owner = nullptr;
};

class TimerFd final : public File {
public:
    FileKind kind() const override { return FileKind::TimerFd; }
    TimerHook event;
    int clock = CLOCK_MONOTONIC;
    u64 expirations = 0;
    u64 interval = 0; // ns
    WaitQueue readers;

    ~TimerFd() override { kernel::timer_cancel(&event); }

    static void fire(kernel::TimerEvent* ev)
    {
        TimerFd* t = static_cast<TimerHook*>(ev)->owner;
        ++t->expirations;
        if (t->interval) {
            u64 missed = 0; // missed periods count too
            kernel::timer_start(ev, itimer_next(ev->deadline, t->interval, &missed));
            t->expirations += missed;
        }
        kernel::wake_all(t->readers);
        t->notify(POLLIN);
    }

    long read(void* buf, std::size_t n) override
    {
        if (n < 8)
            return -EINVAL;
        while (expirations == 0) {
            if (nonblocking())
                return -EAGAIN;
            if (kernel::block(&readers, 0, true) == kernel::WakeReason::Interrupted)
                return -EINTR;
        }
        // BUF: a checked range, perhaps unmapped while this read waited.
        if (!copy_checked(buf, &expirations, 8))
            return -EFAULT;
        expirations = 0;
        return 8;
    }
    long write(const void*, std::size_t) override { return -EINVAL; }
    u32 poll() override { return expirations ? POLLIN | POLLRDNORM : 0; }
    void describe(char* buf, std::size_t cap) override { std::snprintf(buf, cap, "anon_inode:[timerfd]"); }
};

TimerFd* timerfd_of(int fd)
{
    File* f = fd_get(fd);
    return f && f->kind() == FileKind::TimerFd ? static_cast<TimerFd*>(f) : nullptr;
}

long get_time(TimerFd* t, long user_out)
{
    struct itimerspec out {};
    write_itimerspec(t->event, t->interval, &out);
    return write_user(user_out, out);
}

} // namespace

long sys_timerfd_create(long clock, long flags)
{
    if (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME && clock != CLOCK_BOOTTIME &&
        clock != CLOCK_REALTIME_ALARM && clock != CLOCK_BOOTTIME_ALARM)
        return -EINVAL;
    if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
        return -EINVAL;
    auto* t = kernel::make<TimerFd>();
    if (!t)
        return -ENOMEM;
    t->clock = static_cast<int>(clock);
    t->event.fire = TimerFd::fire;
    t->event.owner = t;
    t->flags = O_RDWR | (static_cast<int>(flags) & O_NONBLOCK);
    return fd_install(t, flags & TFD_CLOEXEC);
}

long sys_timerfd_settime(long fd, long flags, long new_value, long old_value)
{
    if (!fd_get(static_cast<int>(fd)))
        return -EBADF;
    TimerFd* t = timerfd_of(static_cast<int>(fd));
    if (!t)
        return -EINVAL;
    if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
        return -EINVAL;
    u64 value = 0, interval = 0;
    if (long r = read_itimerspec(new_value, old_value, &value, &interval); r < 0)
        return r;
    struct itimerspec old {};
    write_itimerspec(t->event, t->interval, &old);
    kernel::timer_cancel(&t->event);
    t->expirations = 0;
    t->interval = interval;
    if (value != 0) // 0: disarmed
        kernel::timer_start(&t->event, itimer_deadline(t->clock, value, flags & TFD_TIMER_ABSTIME));
    return old_value ? write_user(old_value, old) : 0;
}

long sys_timerfd_gettime(long fd, long cur)
{
    if (!fd_get(static_cast<int>(fd)))
        return -EBADF;
    TimerFd* t = timerfd_of(static_cast<int>(fd));
    if (!t)
        return -EINVAL;
    return get_time(t, cur);
}

} // namespace atl::libos
