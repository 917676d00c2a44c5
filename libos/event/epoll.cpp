// SPDX-License-Identifier: MIT
// epoll: an interest list of descriptors and a ready list, both fed by the files' PollHooks
// (the same readiness poll and select use).

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
#include <sys/epoll.h>

namespace atl::libos {

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

    // OUT: the application's array, written an event at a time (it may have been unmapped
    // while the call waited).
    long wait(UserPtr<struct epoll_event> out, int max, u64 deadline, bool no_wait)
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
                struct epoll_event e {};
                e.events = ev;
                e.data.u64 = it->data;
                if (!(out + static_cast<std::size_t>(n)).write(e)) {
                    m_ready.push_back(it); // not reported: still ready (Linux: ep_send_events)
                    return n ? n : -EFAULT;
                }
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
        if (long r = read_user(event, &ev); r < 0)
            return r;
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
        return -EFAULT; // the whole array, before waiting (as Linux); each event is written checked
    MaskScope scope(mask, masksize);
    if (scope.error)
        return scope.error;
    return ep->wait(UserPtr<struct epoll_event>(events), static_cast<int>(maxevents),
        deadline_after_ms(timeout_ms), timeout_ms == 0);
}

long sys_epoll_wait(long epfd, long events, long maxevents, long timeout_ms)
{
    return sys_epoll_pwait(epfd, events, maxevents, timeout_ms, 0, 0);
}

} // namespace atl::libos
