// SPDX-License-Identifier: MIT
#pragma once

// Open file descriptions and the descriptor table (file.cpp): what every family that makes
// descriptors (files, pipes, sockets, epoll, eventfd, ...) builds on, and one readiness
// mechanism (PollHook) for poll, select and epoll.

#include <kernel/list.h>
#include <kernel/types.h>

#include <cerrno>
#include <cstddef>

struct stat;

namespace atl::libos {

struct Inode; // <libos/fs/vfs.h>

// ------------------------------------------------------------------------------ readiness
// A file tells its hooks when its readiness may have changed; the hook decides (wake a
// poller, queue an epoll item). Events use poll(2)'s bits.
struct PollHook {
    ListNode node;
    void (*notify)(PollHook*, u32 events) = nullptr;
    void* owner = nullptr;
};
using PollHooks = List<PollHook, &PollHook::node>;

// ---------------------------------------------------------------------------------- files
enum class FileKind : u8 { Other, Epoll, TimerFd, SignalFd, InetSocket, UnixSocket };

// An open file description. Reference-counted: dup() and fork-less sharing point at one.
class File {
public:
    virtual FileKind kind() const { return FileKind::Other; }
    virtual ~File() = default;
    virtual long read(void* buf, std::size_t n);
    virtual long write(const void* buf, std::size_t n);
    virtual long pread(void*, std::size_t, u64) { return -ESPIPE; }
    virtual long pwrite(const void*, std::size_t, u64) { return -ESPIPE; }
    virtual long seek(i64, int) { return -ESPIPE; }
    virtual long stat(struct stat* st);
    virtual long ioctl(unsigned long request, long arg);
    virtual long getdents(void*, std::size_t) { return -ENOTDIR; }
    virtual long truncate(u64) { return -EINVAL; }
    // Readiness now (POLLIN, POLLOUT, POLLHUP, POLLERR...).
    virtual u32 poll() { return 0x1 | 0x4; }
    virtual Inode* inode() { return nullptr; }
    // What /proc/self/fd/N shows.
    virtual void describe(char* buf, std::size_t cap);
    virtual void on_last_close() { }

    void notify(u32 events);
    // Files live on the kernel heap: created with kernel::make, destroyed by file_put.
    static void operator delete(void* p);

    int flags = 0; // O_ACCMODE | O_APPEND | O_NONBLOCK (the status flags)
    u32 refs = 1;
    PollHooks hooks;
    bool readable() const;
    bool writable() const;
    bool nonblocking() const;
};

void file_get(File* f);
void file_put(File* f);

// ------------------------------------------------------------------------ the fd table
constexpr int k_max_fds = 1024;
int fd_limit(); // RLIMIT_NOFILE's soft limit, at most k_max_fds (proc/process.cpp)
File* fd_get(int fd);                 // nullptr if not open
int fd_install(File* f, bool cloexec, int min_fd = 0); // takes the reference; -EMFILE
long fd_close(int fd);
bool fd_cloexec(int fd);
void fd_set_cloexec(int fd, bool on);
long fd_dup_to(int oldfd, int newfd, bool cloexec); // dup2/dup3 semantics (same fd allowed)
int fd_next_open(int from); // first open fd >= from, or -1

} // namespace atl::libos
