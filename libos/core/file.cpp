// SPDX-License-Identifier: MIT
// Open file descriptions (the File base) and the descriptor table.

#include <libos/core/file.h>
#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>

#include <kernel/heap.h>

#include <cstdio>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>

namespace atl::libos {

using kernel::kfree;

// ------------------------------------------------------------------------------ files

void File::operator delete(void* p) { kfree(p); }

long File::read(void*, std::size_t) { return -EINVAL; }
long File::write(const void*, std::size_t) { return -EINVAL; }
long File::ioctl(unsigned long request, long arg)
{
    if (request == FIONBIO) {
        int on = 0;
        if (long r = read_user(arg, &on); r < 0)
            return r;
        if (on)
            flags |= O_NONBLOCK;
        else
            flags &= ~O_NONBLOCK;
        return 0;
    }
    return -ENOTTY;
}

long File::stat(struct stat* st)
{
    if (Inode* i = inode()) {
        fill_stat(i, st);
        return 0;
    }
    return -EINVAL;
}

void File::describe(char* buf, std::size_t cap) { std::snprintf(buf, cap, "anon_inode:[file]"); }

void File::notify(u32 events)
{
    for (PollHook* h = hooks.front(); h;) {
        PollHook* next = hooks.next(h);
        h->notify(h, events);
        h = next;
    }
}

bool File::readable() const { return (flags & O_ACCMODE) != O_WRONLY; }
bool File::writable() const { return (flags & O_ACCMODE) != O_RDONLY; }
bool File::nonblocking() const { return flags & O_NONBLOCK; }

void file_get(File* f) { ++f->refs; }

void file_put(File* f)
{
    if (--f->refs)
        return;
    locks_on_last_close(f);
    f->on_last_close();
    // Pollers still hooked (an epoll set holding this file) hear that it is gone.
    f->notify(POLLNVAL);
    delete f;
}

// ------------------------------------------------------------------------ fd table

namespace {

struct FdSlot {
    File* file;
    bool cloexec;
};
FdSlot s_fds[k_max_fds];
int s_open_count = 0;

} // namespace

File* fd_get(int fd)
{
    if (fd < 0 || fd >= k_max_fds)
        return nullptr;
    return s_fds[fd].file;
}

int fd_install(File* f, bool cloexec, int min_fd)
{
    int limit = fd_limit();
    for (int fd = min_fd < 0 ? 0 : min_fd; fd < limit; ++fd) {
        if (!s_fds[fd].file) {
            s_fds[fd] = { f, cloexec };
            ++s_open_count;
            return fd;
        }
    }
    file_put(f);
    return -EMFILE;
}

long fd_close(int fd)
{
    File* f = fd_get(fd);
    if (!f)
        return -EBADF;
    s_fds[fd] = { nullptr, false };
    --s_open_count;
    locks_on_fd_close(f);
    file_put(f);
    return 0;
}

bool fd_cloexec(int fd) { return fd_get(fd) && s_fds[fd].cloexec; }
void fd_set_cloexec(int fd, bool on)
{
    if (fd_get(fd))
        s_fds[fd].cloexec = on;
}

long fd_dup_to(int oldfd, int newfd, bool cloexec)
{
    File* f = fd_get(oldfd);
    if (!f)
        return -EBADF;
    if (newfd < 0 || newfd >= fd_limit())
        return -EBADF;
    if (oldfd == newfd)
        return newfd;
    file_get(f);
    if (File* old = s_fds[newfd].file) {
        s_fds[newfd] = { nullptr, false };
        --s_open_count;
        locks_on_fd_close(old);
        file_put(old);
    }
    s_fds[newfd] = { f, cloexec };
    ++s_open_count;
    return newfd;
}

int fd_next_open(int from)
{
    for (int fd = from < 0 ? 0 : from; fd < k_max_fds; ++fd) {
        if (s_fds[fd].file)
            return fd;
    }
    return -1;
}

} // namespace atl::libos
