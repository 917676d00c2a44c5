// SPDX-License-Identifier: MIT
// signalfd: signals read as data from a descriptor. A program blocks the signals, then reads
// (or polls, or epolls) the descriptor; each read takes pending signals in the descriptor's
// mask, the calling thread's first, then the process's, as struct signalfd_siginfo records.

#include <libos/core/syscall.h>
#include <libos/event/syscalls.h>
#include <libos/fs/vfs.h>
#include <libos/proc/thread_state.h>
#include <libos/signal/signal.h>

#include <kernel/heap.h>
#include <kernel/sched.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>

namespace atl::libos {

namespace {

constexpr unsigned long k_unblockable = (1ul << (SIGKILL - 1)) | (1ul << (SIGSTOP - 1));

class SignalFd final : public File {
public:
    FileKind kind() const override { return FileKind::SignalFd; }
    unsigned long mask = 0;
    kernel::WaitQueue readers;
    SignalFd* next_fd = nullptr; // every signalfd, for signalfd_notify

    ~SignalFd() override;

    long read(void* buf, std::size_t n) override
    {
        if (n < sizeof(struct signalfd_siginfo))
            return -EINVAL;
        std::size_t done = 0;
        while (done + sizeof(struct signalfd_siginfo) <= n) {
            PendingSignal p;
            if (!take_pending_signal(mask, &p)) {
                if (done)
                    break;
                if (nonblocking())
                    return -EAGAIN;
                if (kernel::block(&readers, 0, true) == kernel::WakeReason::Interrupted)
                    return -EINTR;
                continue;
            }
            struct signalfd_siginfo si;
            std::memset(&si, 0, sizeof si);
            si.ssi_signo = static_cast<u32>(p.sig);
            si.ssi_code = p.code;
            if (p.code == SI_TIMER)
                si.ssi_tid = static_cast<u32>(p.pid); // the timer's id
            else
                si.ssi_pid = static_cast<u32>(p.pid);
            si.ssi_int = p.value.sival_int;
            si.ssi_ptr = reinterpret_cast<u64>(p.value.sival_ptr);
            // BUF: a checked range, perhaps unmapped while this read waited. The signal taken
            // is lost then, as on Linux.
            if (!copy_checked(static_cast<char*>(buf) + done, &si, sizeof si))
                return done ? static_cast<long>(done) : -EFAULT;
            done += sizeof si;
        }
        return static_cast<long>(done);
    }
    long write(const void*, std::size_t) override { return -EINVAL; }
    u32 poll() override
    {
        ProcThread& me = self();
        return ((me.sig_pending | g_process_pending) & mask) ? POLLIN | POLLRDNORM : 0;
    }
    void describe(char* buf, std::size_t cap) override { std::snprintf(buf, cap, "anon_inode:[signalfd]"); }
};

SignalFd* s_signalfds = nullptr;

SignalFd::~SignalFd()
{
    for (SignalFd** link = &s_signalfds; *link; link = &(*link)->next_fd) {
        if (*link == this) {
            *link = next_fd;
            break;
        }
    }
}

} // namespace

void signalfd_notify(int sig)
{
    for (SignalFd* f = s_signalfds; f; f = f->next_fd) {
        if (f->mask & (1ul << (sig - 1))) {
            kernel::wake_all(f->readers);
            f->notify(POLLIN);
        }
    }
}

long sys_signalfd4(long fd, long maskp, long size, long flags)
{
    if (size != sizeof(unsigned long))
        return -EINVAL;
    if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
        return -EINVAL;
    unsigned long mask = 0;
    if (long r = read_user(maskp, &mask); r < 0)
        return r;
    mask &= ~k_unblockable;
    if (fd != -1) {
        File* f = fd_get(static_cast<int>(fd));
        if (!f)
            return -EBADF;
        if (f->kind() != FileKind::SignalFd)
            return -EINVAL;
        static_cast<SignalFd*>(f)->mask = mask;
        return fd;
    }
    auto* s = kernel::make<SignalFd>();
    if (!s)
        return -ENOMEM;
    s->mask = mask;
    s->flags = O_RDWR | (static_cast<int>(flags) & O_NONBLOCK);
    s->next_fd = s_signalfds;
    s_signalfds = s;
    return fd_install(s, flags & SFD_CLOEXEC);
}

} // namespace atl::libos
