// SPDX-License-Identifier: MIT
// poll and select over one readiness mechanism (File::poll + PollHook). epoll: epoll.cpp;
// the descriptors made to be waited on: eventfd.cpp, timerfd.cpp, signalfd.cpp.

#include "wait.h"

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
#include <sys/select.h>

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

// A relative timespec timeout (ppoll, pselect6) as a deadline; NULL waits forever.
long timeout_from(long ts, u64* deadline, bool* no_wait)
{
    if (!ts)
        return 0;
    struct timespec t;
    if (long r = read_user(ts, &t); r < 0)
        return r;
    u64 ns = 0;
    if (!timespec_ns(t, &ns))
        return -EINVAL;
    *no_wait = ns == 0;
    *deadline = kernel::monotonic_ns() + ns;
    return 0;
}

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

// The application's pollfd array, copied in (as Linux does) so that nothing reads or writes
// it while the call waits: the array may be unmapped meanwhile.
class PollFds {
public:
    PollFds() = default;
    PollFds(const PollFds&) = delete;
    PollFds& operator=(const PollFds&) = delete;
    ~PollFds()
    {
        if (m_fds != m_in_place)
            kernel::kfree(m_fds);
    }

    // 0, -EFAULT or -ENOMEM. The array must be writable too (the results go back into it).
    // Out of line, as copy_out: poll and ppoll share them.
    [[gnu::noinline]] long copy_in(long fds, std::size_t nfds)
    {
        std::size_t bytes = nfds * sizeof(struct pollfd);
        if (!user_ok(fds, bytes))
            return -EFAULT;
        if (nfds > k_in_place) {
            m_fds = static_cast<struct pollfd*>(kernel::kmalloc(bytes));
            if (!m_fds) {
                m_fds = m_in_place;
                return -ENOMEM;
            }
        }
        m_user = fds;
        m_count = nfds;
        return copy_from_user(m_fds, static_cast<u64>(fds), bytes) ? 0 : -EFAULT;
    }
    // Each revents back into the application's array; -EFAULT if it is gone.
    [[gnu::noinline]] long copy_out() const
    {
        for (std::size_t i = 0; i < m_count; ++i) {
            auto at = static_cast<u64>(m_user) + i * sizeof(struct pollfd) + offsetof(struct pollfd, revents);
            if (!UserPtr<short>(at).write(m_fds[i].revents))
                return -EFAULT;
        }
        return 0;
    }
    struct pollfd* fds() { return m_fds; }
    std::size_t size() const { return m_count; }

private:
    static constexpr std::size_t k_in_place = 16;
    struct pollfd m_in_place[k_in_place];
    struct pollfd* m_fds = m_in_place;
    long m_user = 0;
    std::size_t m_count = 0;
};

[[gnu::noinline]] long poll_and_copy_out(PollFds& p, u64 deadline, bool no_wait)
{
    long r = do_poll(p.fds(), p.size(), deadline, no_wait);
    if (r < 0)
        return r;
    if (long w = p.copy_out(); w < 0)
        return w;
    return r;
}

} // namespace

long sys_poll(long fds, long nfds, long timeout_ms)
{
    if (nfds < 0 || nfds > k_max_fds)
        return -EINVAL;
    PollFds p;
    if (long r = p.copy_in(fds, static_cast<std::size_t>(nfds)); r < 0)
        return r;
    return poll_and_copy_out(p, deadline_after_ms(timeout_ms), timeout_ms == 0);
}

long sys_ppoll(long fds, long nfds, long ts, long mask, long masksize)
{
    if (nfds < 0 || nfds > k_max_fds)
        return -EINVAL;
    PollFds p;
    if (long r = p.copy_in(fds, static_cast<std::size_t>(nfds)); r < 0)
        return r;
    u64 deadline = 0;
    bool no_wait = false;
    if (long r = timeout_from(ts, &deadline, &no_wait))
        return r;
    MaskScope scope(mask, masksize);
    if (scope.error)
        return scope.error;
    return poll_and_copy_out(p, deadline, no_wait);
}

namespace {

// One of select's sets copied in; it must be writable too (the results go back into it).
[[gnu::noinline]] long copy_set_in(long user, fd_set* out)
{
    if (!user_ok(user, sizeof(fd_set)))
        return -EFAULT;
    return read_user(user, out);
}

long do_select(long nfds, long readfds, long writefds, long exceptfds, u64 deadline, bool no_wait)
{
    if (nfds < 0 || nfds > FD_SETSIZE)
        return -EINVAL;
    // The sets, copied in; the results go back into them (so they must be writable).
    const long user_sets[3] = { readfds, writefds, exceptfds };
    fd_set copies[3];
    fd_set* sets[3] = {};
    for (int k = 0; k < 3; ++k) {
        if (!user_sets[k])
            continue;
        if (long r = copy_set_in(user_sets[k], &copies[k]); r < 0)
            return r;
        sets[k] = &copies[k];
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
        for (int k = 0; k < 3; ++k) {
            if (sets[k] && write_user(user_sets[k], copies[k]) < 0)
                r = -EFAULT;
        }
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
        struct timeval t;
        if (long e = read_user(tv, &t); e < 0)
            return e;
        if (!user_ok(tv, sizeof(struct timeval)))
            return -EFAULT; // the time left goes back into it
        if (t.tv_sec < 0 || t.tv_usec < 0)
            return -EINVAL;
        u64 ns = static_cast<u64>(t.tv_sec) * k_ns + static_cast<u64>(t.tv_usec) * 1000u;
        no_wait = ns == 0;
        deadline = start + ns;
    }
    long r = do_select(nfds, readfds, writefds, exceptfds, deadline, no_wait);
    if (tv) { // Linux writes back the time left
        u64 now = kernel::monotonic_ns();
        u64 left = deadline > now ? deadline - now : 0;
        struct timeval t { static_cast<time_t>(left / k_ns), static_cast<suseconds_t>((left % k_ns) / 1000) };
        // Linux ignores a failure here too: the select itself has happened.
        (void)write_user(tv, t);
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
        struct {
            long mask, size;
        } data;
        if (long r = read_user(sigdata, &data); r < 0)
            return r;
        mask = data.mask;
        masksize = data.size;
    }
    MaskScope scope(mask, masksize);
    if (scope.error)
        return scope.error;
    return do_select(nfds, readfds, writefds, exceptfds, deadline, no_wait);
}

} // namespace atl::libos
