// SPDX-License-Identifier: MIT
// poll, select and epoll over one readiness mechanism (File::poll + PollHook), and eventfd
// and timerfd, which are files like any other.

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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/timerfd.h>

namespace atl::libos {

namespace {

constexpr u64 k_ns = 1000000000;

// ------------------------------------------------------------------ waiting for readiness

// A poller hooks every file it watches; any readiness change wakes it to look again.
struct Watch {
    PollHook hook;
    File* file;
};

void wake_poller(PollHook* h, u32)
{
    auto* t = static_cast<kernel::Thread*>(h->owner);
    if (t->state == kernel::ThreadState::Blocked)
        kernel::wake(t);
}

// Blocks until one of the hooks fires, the deadline passes (0: none) or a signal arrives.
kernel::WakeReason wait_on(Watch* watches, std::size_t n, u64 deadline)
{
    kernel::Thread* self = kernel::current();
    for (std::size_t i = 0; i < n; ++i) {
        if (!watches[i].file)
            continue;
        watches[i].hook.notify = wake_poller;
        watches[i].hook.owner = self;
        watches[i].file->hooks.push_back(&watches[i].hook);
    }
    kernel::WakeReason r = kernel::block(nullptr, deadline, true);
    for (std::size_t i = 0; i < n; ++i) {
        if (watches[i].file && watches[i].hook.node.linked())
            watches[i].file->hooks.remove(&watches[i].hook);
    }
    return r;
}

// A timeout in ms (poll, epoll_wait) as a deadline: 0 = none (wait forever), or `now` for
// "do not wait" (the caller checks timeout == 0 first).
u64 deadline_after_ms(long ms) { return ms < 0 ? 0 : kernel::monotonic_ns() + static_cast<u64>(ms) * 1000000u; }

// A relative timespec timeout (ppoll, pselect6) as a deadline; NULL waits forever.
long timeout_from(long ts, u64* deadline, bool* no_wait)
{
    if (!ts)
        return 0;
    if (!user_in(ts, sizeof(struct timespec)))
        return -EFAULT;
    u64 ns = 0;
    if (!timespec_ns(*reinterpret_cast<const struct timespec*>(ts), &ns))
        return -EINVAL;
    *no_wait = ns == 0;
    *deadline = kernel::monotonic_ns() + ns;
    return 0;
}

// Applies a temporary signal mask for ppoll/pselect/epoll_pwait.
struct MaskScope {
    bool active = false;
    unsigned long saved = 0;
    long error = 0;
    MaskScope(long mask, long size)
    {
        if (!mask)
            return;
        if (size != sizeof(unsigned long)) {
            error = -EINVAL;
            return;
        }
        if (!user_in(mask, sizeof(unsigned long))) {
            error = -EFAULT;
            return;
        }
        saved = self().sig_blocked;
        self().sig_blocked = *reinterpret_cast<const unsigned long*>(mask) & ~((1ul << 8) | (1ul << 18));
        active = true;
    }
    ~MaskScope()
    {
        if (active)
            self().sig_blocked = saved;
    }
};

long do_poll(struct pollfd* fds, std::size_t nfds, u64 deadline, bool no_wait)
{
    Watch stack_watches[16];
    Watch* watches = nfds <= 16 ? stack_watches : static_cast<Watch*>(kernel::kzalloc(nfds * sizeof(Watch)));
    if (!watches)
        return -ENOMEM;
    long result;
    for (;;) {
        long ready = 0;
        for (std::size_t i = 0; i < nfds; ++i) {
            fds[i].revents = 0;
            watches[i] = Watch {};
            if (fds[i].fd < 0)
                continue;
            File* f = fd_get(fds[i].fd);
            if (!f) {
                fds[i].revents = POLLNVAL;
                ++ready;
                continue;
            }
            watches[i].file = f;
            u32 ev = f->poll() & (static_cast<u16>(fds[i].events) | POLLERR | POLLHUP);
            fds[i].revents = static_cast<short>(ev);
            if (ev)
                ++ready;
        }
        if (ready || no_wait) {
            result = ready;
            break;
        }
        kernel::WakeReason r = wait_on(watches, nfds, deadline);
        if (r == kernel::WakeReason::Interrupted) {
            result = -EINTR;
            break;
        }
        if (r == kernel::WakeReason::TimedOut)
            no_wait = true; // one last look, then report what is there
    }
    if (watches != stack_watches)
        kernel::kfree(watches);
    return result;
}

} // namespace

long sys_poll(long fds, long nfds, long timeout_ms)
{
    if (nfds < 0 || nfds > k_max_fds)
        return -EINVAL;
    if (!user_ok(fds, static_cast<std::size_t>(nfds) * sizeof(struct pollfd)))
        return -EFAULT;
    return do_poll(reinterpret_cast<struct pollfd*>(fds), static_cast<std::size_t>(nfds),
        deadline_after_ms(timeout_ms), timeout_ms == 0);
}

long sys_ppoll(long fds, long nfds, long ts, long mask, long masksize)
{
    if (nfds < 0 || nfds > k_max_fds)
        return -EINVAL;
    if (!user_ok(fds, static_cast<std::size_t>(nfds) * sizeof(struct pollfd)))
        return -EFAULT;
    u64 deadline = 0;
    bool no_wait = false;
    if (long r = timeout_from(ts, &deadline, &no_wait))
        return r;
    MaskScope scope(mask, masksize);
    if (scope.error)
        return scope.error;
    return do_poll(reinterpret_cast<struct pollfd*>(fds), static_cast<std::size_t>(nfds), deadline, no_wait);
}

namespace {

long do_select(long nfds, long readfds, long writefds, long exceptfds, u64 deadline, bool no_wait)
{
    if (nfds < 0 || nfds > FD_SETSIZE)
        return -EINVAL;
    fd_set* sets[3] = { reinterpret_cast<fd_set*>(readfds), reinterpret_cast<fd_set*>(writefds),
        reinterpret_cast<fd_set*>(exceptfds) };
    for (fd_set* s : sets) {
        if (s && !user_ok(s, sizeof(fd_set)))
            return -EFAULT;
    }
    // Turn the sets into pollfds, poll, and turn the results back.
    struct pollfd* pfds = static_cast<struct pollfd*>(kernel::kzalloc(static_cast<std::size_t>(nfds ? nfds : 1) * sizeof(struct pollfd)));
    if (!pfds)
        return -ENOMEM;
    std::size_t n = 0;
    for (int fd = 0; fd < nfds; ++fd) {
        short ev = 0;
        if (sets[0] && FD_ISSET(fd, sets[0]))
            ev |= POLLIN;
        if (sets[1] && FD_ISSET(fd, sets[1]))
            ev |= POLLOUT;
        if (sets[2] && FD_ISSET(fd, sets[2]))
            ev |= POLLPRI;
        if (!ev)
            continue;
        if (!fd_get(fd)) {
            kernel::kfree(pfds);
            return -EBADF;
        }
        pfds[n++] = { fd, ev, 0 };
    }
    long r = do_poll(pfds, n, deadline, no_wait);
    if (r >= 0) {
        for (fd_set* s : sets) {
            if (s)
                FD_ZERO(s);
        }
        long count = 0;
        for (std::size_t i = 0; i < n; ++i) {
            short re = pfds[i].revents;
            if (sets[0] && (pfds[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
                FD_SET(pfds[i].fd, sets[0]);
                ++count;
            }
            if (sets[1] && (pfds[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
                FD_SET(pfds[i].fd, sets[1]);
                ++count;
            }
            if (sets[2] && (pfds[i].events & POLLPRI) && (re & POLLPRI)) {
                FD_SET(pfds[i].fd, sets[2]);
                ++count;
            }
        }
        r = count;
    }
    kernel::kfree(pfds);
    return r;
}

} // namespace

long sys_select(long nfds, long readfds, long writefds, long exceptfds, long tv)
{
    u64 deadline = 0;
    bool no_wait = false;
    u64 start = kernel::monotonic_ns();
    if (tv) {
        if (!user_ok(tv, sizeof(struct timeval)))
            return -EFAULT;
        auto* t = reinterpret_cast<struct timeval*>(tv);
        if (t->tv_sec < 0 || t->tv_usec < 0)
            return -EINVAL;
        u64 ns = static_cast<u64>(t->tv_sec) * k_ns + static_cast<u64>(t->tv_usec) * 1000u;
        no_wait = ns == 0;
        deadline = start + ns;
    }
    long r = do_select(nfds, readfds, writefds, exceptfds, deadline, no_wait);
    if (tv) { // Linux writes back the time left
        u64 now = kernel::monotonic_ns();
        u64 left = deadline > now ? deadline - now : 0;
        auto* t = reinterpret_cast<struct timeval*>(tv);
        t->tv_sec = static_cast<time_t>(left / k_ns);
        t->tv_usec = static_cast<suseconds_t>((left % k_ns) / 1000);
    }
    return r;
}

long sys_pselect6(long nfds, long readfds, long writefds, long exceptfds, long ts, long sigdata)
{
    u64 deadline = 0;
    bool no_wait = false;
    if (long r = timeout_from(ts, &deadline, &no_wait))
        return r;
    long mask = 0, masksize = 0;
    if (sigdata) { // struct { const sigset_t* ss; size_t ss_len; }
        if (!user_in(sigdata, 2 * sizeof(long)))
            return -EFAULT;
        mask = reinterpret_cast<const long*>(sigdata)[0];
        masksize = reinterpret_cast<const long*>(sigdata)[1];
    }
    MaskScope scope(mask, masksize);
    if (scope.error)
        return scope.error;
    return do_select(nfds, readfds, writefds, exceptfds, deadline, no_wait);
}

// ---------------------------------------------------------------------------------- epoll

namespace {

class EpollFile;

struct EpollItem {
    PollHook hook;
    ListNode interest_node;
    ListNode ready_node;
    EpollFile* ep = nullptr;
    File* file = nullptr;
    int fd = -1;
    u32 events = 0;
    u64 data = 0;
    bool disabled = false; // EPOLLONESHOT fired
    // On the ready list only because it was reported and is level-triggered (it may no longer
    // be ready). New readiness moves such an item to the back, so the ready list stays in the
    // order in which files became ready: a server sees requests of different connections in
    // arrival order.
    bool requeued = false;
};

class EpollFile final : public File {
public:
    FileKind kind() const override { return FileKind::Epoll; }
    ~EpollFile() override
    {
        while (EpollItem* it = m_interest.front())
            remove(it);
    }

    EpollItem* find(int fd, File* f)
    {
        for (EpollItem* it = m_interest.front(); it; it = m_interest.next(it)) {
            if (it->fd == fd && it->file == f)
                return it;
        }
        return nullptr;
    }

    long add(int fd, File* f, const struct epoll_event& ev)
    {
        if (find(fd, f))
            return -EEXIST;
        auto* it = kernel::make<EpollItem>();
        if (!it)
            return -ENOMEM;
        it->ep = this;
        it->file = f;
        it->fd = fd;
        it->events = ev.events;
        it->data = ev.data.u64;
        it->hook.notify = on_change;
        it->hook.owner = it;
        f->hooks.push_back(&it->hook);
        m_interest.push_back(it);
        if (ready_events(it))
            mark_ready(it);
        return 0;
    }

    long modify(EpollItem* it, const struct epoll_event& ev)
    {
        it->events = ev.events;
        it->data = ev.data.u64;
        it->disabled = false;
        if (ready_events(it))
            mark_ready(it);
        return 0;
    }

    void remove(EpollItem* it)
    {
        if (it->hook.node.linked())
            it->file->hooks.remove(&it->hook);
        if (it->ready_node.linked())
            m_ready.remove(it);
        m_interest.remove(it);
        kernel::destroy(it);
    }

    long wait(struct epoll_event* out, int max, u64 deadline, bool no_wait)
    {
        for (;;) {
            int n = 0;
            // Each ready item is looked at once per call: level-triggered ones go to the back.
            std::size_t to_scan = m_ready.size();
            for (std::size_t k = 0; k < to_scan && n < max; ++k) {
                EpollItem* it = m_ready.pop_front();
                u32 ev = ready_events(it);
                if (!ev)
                    continue;
                out[n].events = ev;
                out[n].data.u64 = it->data;
                ++n;
                if (it->events & EPOLLONESHOT) {
                    it->disabled = true;
                } else if (!(it->events & EPOLLET)) {
                    it->requeued = true;
                    m_ready.push_back(it);
                }
            }
            if (n || no_wait)
                return n;
            kernel::WakeReason r = kernel::block(&m_waiters, deadline, true);
            if (r == kernel::WakeReason::Interrupted)
                return -EINTR;
            if (r == kernel::WakeReason::TimedOut)
                no_wait = true;
        }
    }

    u32 poll() override
    {
        for (EpollItem* it = m_ready.front(); it; it = m_ready.next(it)) {
            if (ready_events(it))
                return POLLIN | POLLRDNORM;
        }
        return 0;
    }

    void describe(char* buf, std::size_t cap) override { std::snprintf(buf, cap, "anon_inode:[eventpoll]"); }

private:
    static u32 ready_events(EpollItem* it)
    {
        if (it->disabled)
            return 0;
        return it->file->poll() & (it->events | EPOLLERR | EPOLLHUP);
    }

    void mark_ready(EpollItem* it)
    {
        if (it->ready_node.linked() && it->requeued)
            m_ready.remove(it);
        it->requeued = false;
        if (!it->ready_node.linked())
            m_ready.push_back(it);
        kernel::wake_all(m_waiters);
        notify(POLLIN);
    }

    static void on_change(PollHook* h, u32 events)
    {
        auto* it = static_cast<EpollItem*>(h->owner);
        EpollFile* ep = it->ep;
        if (events & POLLNVAL) { // the file is going away: so does its registration
            ep->remove(it);
            return;
        }
        // Only a change that makes the item ready counts: a socket also reports changes the
        // watch does not ask for (room to send, for an EPOLLIN watch).
        if (!it->disabled && ready_events(it))
            ep->mark_ready(it);
    }

    List<EpollItem, &EpollItem::interest_node> m_interest;
    List<EpollItem, &EpollItem::ready_node> m_ready;
    WaitQueue m_waiters;
};

EpollFile* epoll_of(int fd)
{
    File* f = fd_get(fd);
    return f && f->kind() == FileKind::Epoll ? static_cast<EpollFile*>(f) : nullptr;
}

} // namespace

long sys_epoll_create1(long flags)
{
    if (flags & ~EPOLL_CLOEXEC)
        return -EINVAL;
    auto* ep = kernel::make<EpollFile>();
    if (!ep)
        return -ENOMEM;
    ep->flags = O_RDWR;
    return fd_install(ep, flags & EPOLL_CLOEXEC);
}

long sys_epoll_create(long size) { return size <= 0 ? -EINVAL : sys_epoll_create1(0); }

long sys_epoll_ctl(long epfd, long op, long fd, long event)
{
    File* epf = fd_get(static_cast<int>(epfd));
    File* f = fd_get(static_cast<int>(fd));
    if (!epf || !f)
        return -EBADF;
    EpollFile* ep = epoll_of(static_cast<int>(epfd));
    if (!ep || epf == f)
        return -EINVAL;
    if (f->inode() && (f->inode()->is_reg() || f->inode()->is_dir()))
        return -EPERM; // as Linux: regular files and directories cannot be watched
    struct epoll_event ev {};
    if (op != EPOLL_CTL_DEL) {
        if (!user_in(event, sizeof(ev)))
            return -EFAULT;
        std::memcpy(&ev, reinterpret_cast<const void*>(event), sizeof(ev));
    }
    EpollItem* it = ep->find(static_cast<int>(fd), f);
    switch (op) {
    case EPOLL_CTL_ADD:
        return ep->add(static_cast<int>(fd), f, ev);
    case EPOLL_CTL_MOD:
        return it ? ep->modify(it, ev) : -ENOENT;
    case EPOLL_CTL_DEL:
        if (!it)
            return -ENOENT;
        ep->remove(it);
        return 0;
    default:
        return -EINVAL;
    }
}

long sys_epoll_pwait(long epfd, long events, long maxevents, long timeout_ms, long mask, long masksize)
{
    if (!fd_get(static_cast<int>(epfd)))
        return -EBADF;
    EpollFile* ep = epoll_of(static_cast<int>(epfd));
    if (!ep)
        return -EINVAL;
    if (maxevents <= 0 || maxevents > INT_MAX / static_cast<long>(sizeof(struct epoll_event)))
        return -EINVAL;
    if (!user_ok(events, static_cast<std::size_t>(maxevents) * sizeof(struct epoll_event)))
        return -EFAULT;
    MaskScope scope(mask, masksize);
    if (scope.error)
        return scope.error;
    return ep->wait(reinterpret_cast<struct epoll_event*>(events), static_cast<int>(maxevents),
        deadline_after_ms(timeout_ms), timeout_ms == 0);
}

long sys_epoll_wait(long epfd, long events, long maxevents, long timeout_ms)
{
    return sys_epoll_pwait(epfd, events, maxevents, timeout_ms, 0, 0);
}

// -------------------------------------------------------------------------------- eventfd

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
        count -= v;
        std::memcpy(buf, &v, 8);
        kernel::wake_all(writers);
        notify(POLLOUT);
        return 8;
    }

    long write(const void* buf, std::size_t n) override
    {
        if (n < 8)
            return -EINVAL;
        u64 v;
        std::memcpy(&v, buf, 8);
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

// -------------------------------------------------------------------------------- timerfd

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
        std::memcpy(buf, &expirations, 8);
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

long get_time(TimerFd* t, struct itimerspec* out)
{
    write_itimerspec(t->event, t->interval, out);
    return 0;
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
    if (old_value)
        get_time(t, reinterpret_cast<struct itimerspec*>(old_value));
    kernel::timer_cancel(&t->event);
    t->expirations = 0;
    t->interval = interval;
    if (value != 0) // 0: disarmed
        kernel::timer_start(&t->event, itimer_deadline(t->clock, value, flags & TFD_TIMER_ABSTIME));
    return 0;
}

long sys_timerfd_gettime(long fd, long cur)
{
    if (!fd_get(static_cast<int>(fd)))
        return -EBADF;
    TimerFd* t = timerfd_of(static_cast<int>(fd));
    if (!t)
        return -EINVAL;
    if (!user_ok(cur, sizeof(struct itimerspec)))
        return -EFAULT;
    return get_time(t, reinterpret_cast<struct itimerspec*>(cur));
}

} // namespace atl::libos
