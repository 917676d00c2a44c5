// SPDX-License-Identifier: MIT
// Pipes: a 64 KiB ring shared by a read end and a write end.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/ipc/syscalls.h>
#include <libos/signal/signal.h>

#include <kernel/heap.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>

namespace atl::libos {

namespace {

constexpr std::size_t k_pipe_capacity = 65536;
u64 s_next_pipe_ino = 1 << 24;

class PipeEnd;

struct PipeBuffer {
    char* data = nullptr;
    std::size_t head = 0; // next byte to read
    std::size_t size = 0; // bytes held
    int readers = 0;
    int writers = 0;
    u64 ino = 0;
    WaitQueue read_wait;
    WaitQueue write_wait;
    PipeEnd* read_end = nullptr;
    PipeEnd* write_end = nullptr;
};

class PipeEnd final : public File {
public:
    PipeEnd(PipeBuffer* p, bool write_end) : m_pipe(p), m_write_end(write_end) { }

    long read(void* buf, std::size_t n) override
    {
        if (m_write_end)
            return -EBADF;
        if (n == 0)
            return 0;
        PipeBuffer* p = m_pipe;
        while (p->size == 0) {
            if (p->writers == 0)
                return 0;
            if (nonblocking())
                return -EAGAIN;
            if (kernel::block(&p->read_wait, 0, true) == kernel::WakeReason::Interrupted)
                return -EINTR;
        }
        std::size_t len = n < p->size ? n : p->size;
        auto* out = static_cast<char*>(buf);
        std::size_t first = k_pipe_capacity - p->head < len ? k_pipe_capacity - p->head : len;
        // BUF is a checked range of the application's memory that may have been unmapped
        // while this read waited: a fault leaves the bytes in the pipe, as Linux's EFAULT does.
        if (!copy_checked(out, p->data + p->head, first) || !copy_checked(out + first, p->data, len - first))
            return -EFAULT;
        p->head = (p->head + len) % k_pipe_capacity;
        p->size -= len;
        kernel::wake_all(p->write_wait);
        if (p->write_end)
            p->write_end->notify(POLLOUT);
        return static_cast<long>(len);
    }

    long write(const void* buf, std::size_t n) override
    {
        if (!m_write_end)
            return -EBADF;
        PipeBuffer* p = m_pipe;
        auto* in = static_cast<const char*>(buf);
        std::size_t done = 0;
        while (done < n) {
            if (p->readers == 0) {
                raise_signal(SIGPIPE);
                return done ? static_cast<long>(done) : -EPIPE;
            }
            std::size_t space = k_pipe_capacity - p->size;
            // Writes of at most PIPE_BUF bytes are atomic: they wait for room for all of them.
            bool atomic = n <= PIPE_BUF;
            if (space == 0 || (atomic && space < n - done)) {
                if (nonblocking())
                    return done ? static_cast<long>(done) : -EAGAIN;
                if (kernel::block(&p->write_wait, 0, true) == kernel::WakeReason::Interrupted)
                    return done ? static_cast<long>(done) : -EINTR;
                continue;
            }
            std::size_t len = n - done < space ? n - done : space;
            std::size_t tail = (p->head + p->size) % k_pipe_capacity;
            std::size_t first = k_pipe_capacity - tail < len ? k_pipe_capacity - tail : len;
            // As in read: BUF may have been unmapped while this write waited for room.
            if (!copy_checked(p->data + tail, in + done, first) || !copy_checked(p->data, in + done + first, len - first))
                return done ? static_cast<long>(done) : -EFAULT;
            p->size += len;
            done += len;
            kernel::wake_all(p->read_wait);
            if (p->read_end)
                p->read_end->notify(POLLIN);
        }
        return static_cast<long>(done);
    }

    u32 poll() override
    {
        PipeBuffer* p = m_pipe;
        if (m_write_end) {
            u32 ev = p->size < k_pipe_capacity ? (POLLOUT | POLLWRNORM) : 0;
            return ev | (p->readers == 0 ? POLLERR : 0);
        }
        u32 ev = p->size ? (POLLIN | POLLRDNORM) : 0;
        return ev | (p->writers == 0 ? POLLHUP : 0);
    }

    long ioctl(unsigned long request, long arg) override
    {
        if (request == FIONREAD) {
            return write_user(arg, static_cast<int>(m_pipe->size));
        }
        if (request == F_GETPIPE_SZ)
            return k_pipe_capacity;
        if (request == F_SETPIPE_SZ)
            return arg <= static_cast<long>(k_pipe_capacity) && arg >= 0 ? static_cast<long>(k_pipe_capacity) : -EPERM;
        return File::ioctl(request, arg);
    }

    long stat(struct stat* st) override
    {
        *st = {};
        st->st_mode = S_IFIFO | 0600;
        st->st_ino = m_pipe->ino;
        st->st_nlink = 1;
        st->st_blksize = 4096;
        return 0;
    }

    void describe(char* buf, std::size_t cap) override
    {
        std::snprintf(buf, cap, "pipe:[%llu]", static_cast<unsigned long long>(m_pipe->ino));
    }

    void on_last_close() override
    {
        PipeBuffer* p = m_pipe;
        if (m_write_end) {
            --p->writers;
            p->write_end = nullptr;
            kernel::wake_all(p->read_wait);
            if (p->read_end)
                p->read_end->notify(POLLHUP);
        } else {
            --p->readers;
            p->read_end = nullptr;
            kernel::wake_all(p->write_wait);
            if (p->write_end)
                p->write_end->notify(POLLERR);
        }
        if (p->readers == 0 && p->writers == 0) {
            kernel::kfree(p->data);
            kernel::destroy(p);
        }
    }

private:
    PipeBuffer* m_pipe;
    bool m_write_end;
};

} // namespace

long sys_pipe2(long fds, long flags)
{
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
        return -EINVAL;
    if (!user_ok(fds, 2 * sizeof(int)))
        return -EFAULT; // before anything is made (the copy below checks again)
    auto* p = kernel::make<PipeBuffer>();
    if (!p)
        return -ENFILE;
    p->data = static_cast<char*>(kernel::kmalloc(k_pipe_capacity));
    auto* r = kernel::make<PipeEnd>(p, false);
    auto* w = kernel::make<PipeEnd>(p, true);
    if (!p->data || !r || !w) {
        delete r;
        delete w;
        kernel::kfree(p->data);
        kernel::destroy(p);
        return -ENFILE;
    }
    p->ino = s_next_pipe_ino++;
    p->readers = p->writers = 1;
    p->read_end = r;
    p->write_end = w;
    r->flags = O_RDONLY | (static_cast<int>(flags) & O_NONBLOCK);
    w->flags = O_WRONLY | (static_cast<int>(flags) & O_NONBLOCK);
    int rfd = fd_install(r, flags & O_CLOEXEC);
    if (rfd < 0) {
        file_put(w);
        return rfd;
    }
    int wfd = fd_install(w, flags & O_CLOEXEC);
    if (wfd < 0) {
        (void)fd_close(rfd);
        return wfd;
    }
    const int out[2] = { rfd, wfd };
    if (!copy_to_user(static_cast<u64>(fds), out, sizeof(out))) {
        (void)fd_close(rfd);
        (void)fd_close(wfd);
        return -EFAULT;
    }
    return 0;
}

long sys_pipe(long fds) { return sys_pipe2(fds, 0); }

} // namespace atl::libos
