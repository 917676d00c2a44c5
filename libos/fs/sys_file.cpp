// SPDX-License-Identifier: MIT
// The file system calls on a file's data and metadata: open, close, read and write in all
// their forms, seek, stat and statx, getdents, truncate, fallocate, fsync. Names in the tree:
// sys_path.cpp; descriptors: sys_fd.cpp.

#include "sys_fs.h"

#include <libos/core/syscall.h>
#include <libos/fs/syscalls.h>
#include <libos/fs/vfs.h>
#include <libos/proc/credentials.h>

#include <kernel/heap.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/time.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <linux/stat.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/uio.h>

namespace atl::libos {

namespace {

long stat_inode(Inode* i, long st)
{
    struct stat s;
    fill_stat(i, &s);
    return write_user(st, s);
}

long do_read(File* f, void* buf, std::size_t n)
{
    if (!f->readable())
        return -EBADF;
    return f->read(buf, n);
}

long do_write(File* f, const void* buf, std::size_t n)
{
    if (!f->writable())
        return -EBADF;
    return f->write(buf, n);
}

// The pieces' buffers are checked ranges: the file copies into or out of them with
// copy_checked (kernel/user_memory.h).
template <typename Op>
long vector_io(long iov, long iovcnt, bool into, Op op)
{
    UserIov v;
    long r = v.copy_in(iov, iovcnt, into);
    if (r < 0)
        return r;
    long done = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i].iov_len == 0)
            continue;
        long n = op(v[i].iov_base, v[i].iov_len, done);
        if (n < 0)
            return done ? done : n;
        done += n;
        if (static_cast<std::size_t>(n) < v[i].iov_len)
            break;
    }
    return done;
}

} // namespace

long sys_openat(long dirfd, long path, long flags, long mode)
{
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return -EOPNOTSUPP;
    bool creat = flags & O_CREAT;
    bool excl = creat && (flags & O_EXCL);
    int rflags = (excl || (flags & O_NOFOLLOW)) ? 0 : k_follow;
    if (flags & O_DIRECTORY)
        rflags |= k_want_dir;
    Lookup lk;
    long r = resolve_at(static_cast<int>(dirfd), p.buf, rflags, &lk);
    if (r < 0)
        return r;
    Inode* i = lk.inode;
    int acc = static_cast<int>(flags & O_ACCMODE);
    if (acc == 3)
        return -EINVAL;
    if (i) {
        if (excl)
            return -EEXIST;
        if (i->is_link())
            return -ELOOP; // O_NOFOLLOW
        if (i->is_dir() && (acc != O_RDONLY || creat))
            return -EISDIR;
        if ((flags & O_DIRECTORY) && !i->is_dir())
            return -ENOTDIR;
        int want = (acc == O_WRONLY ? 0 : k_may_read) | (acc == O_RDONLY ? 0 : k_may_write) | ((flags & O_TRUNC) ? k_may_write : 0);
        if (long e = inode_permission(i, want); e < 0)
            return e;
    } else {
        if (!creat)
            return -ENOENT;
        if (std::strcmp(lk.last, ".") == 0 || p.buf[std::strlen(p.buf) - 1] == '/')
            return -EISDIR;
        r = create_node(lk, S_IFREG | (static_cast<u32>(mode) & 07777 & ~g_umask), &i);
        if (r < 0)
            return r;
    }
    if ((flags & O_TRUNC) && i->is_reg() && acc != O_RDONLY) {
        r = file_data_truncate(i, 0);
        if (r < 0)
            return r;
    }
    File* f = nullptr;
    r = open_inode(i, static_cast<int>(flags), p.buf, &f);
    if (r < 0)
        return r;
    return fd_install(f, flags & O_CLOEXEC);
}

long sys_open(long path, long flags, long mode) { return sys_openat(AT_FDCWD, path, flags, mode); }
long sys_creat(long path, long mode) { return sys_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

long sys_close(long fd) { return fd_close(static_cast<int>(fd)); }

long sys_read(long fd, long buf, long count)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (count < 0)
        return -EINVAL;
    // A checked range: the file copies into it with copy_checked.
    if (!user_ok(buf, static_cast<std::size_t>(count)))
        return -EFAULT;
    return do_read(f, reinterpret_cast<void*>(buf), static_cast<std::size_t>(count));
}

long sys_write(long fd, long buf, long count)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (count < 0)
        return -EINVAL;
    // A checked range: the file copies out of it with copy_checked.
    if (!user_in(buf, static_cast<std::size_t>(count)))
        return -EFAULT;
    return do_write(f, reinterpret_cast<const void*>(buf), static_cast<std::size_t>(count));
}

long sys_readv(long fd, long iov, long iovcnt)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (!f->readable())
        return -EBADF;
    return vector_io(iov, iovcnt, true, [f](void* b, std::size_t n, long) { return f->read(b, n); });
}

long sys_writev(long fd, long iov, long iovcnt)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (!f->writable())
        return -EBADF;
    return vector_io(iov, iovcnt, false, [f](void* b, std::size_t n, long) { return f->write(b, n); });
}

long sys_pread64(long fd, long buf, long count, long offset)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f || !f->readable())
        return -EBADF;
    if (count < 0 || offset < 0)
        return -EINVAL;
    if (!user_ok(buf, static_cast<std::size_t>(count)))
        return -EFAULT;
    if (f->inode() && f->inode()->is_dir())
        return -EISDIR;
    return f->pread(reinterpret_cast<void*>(buf), static_cast<std::size_t>(count), static_cast<u64>(offset));
}

long sys_pwrite64(long fd, long buf, long count, long offset)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f || !f->writable())
        return -EBADF;
    if (count < 0 || offset < 0)
        return -EINVAL;
    if (!user_in(buf, static_cast<std::size_t>(count)))
        return -EFAULT;
    return f->pwrite(reinterpret_cast<const void*>(buf), static_cast<std::size_t>(count), static_cast<u64>(offset));
}

long sys_preadv(long fd, long iov, long iovcnt, long offset)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f || !f->readable())
        return -EBADF;
    if (offset < 0)
        return -EINVAL;
    return vector_io(iov, iovcnt, true,
        [f, offset](void* b, std::size_t n, long done) { return f->pread(b, n, static_cast<u64>(offset + done)); });
}

long sys_pwritev(long fd, long iov, long iovcnt, long offset)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f || !f->writable())
        return -EBADF;
    if (offset < 0)
        return -EINVAL;
    return vector_io(iov, iovcnt, false,
        [f, offset](void* b, std::size_t n, long done) { return f->pwrite(b, n, static_cast<u64>(offset + done)); });
}

long sys_lseek(long fd, long offset, long whence)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    return f->seek(offset, static_cast<int>(whence));
}

long sys_fstat(long fd, long st)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (!user_ok(st, sizeof(struct stat)))
        return -EFAULT; // before the file's own errors, as Linux
    if (Inode* i = f->inode())
        return stat_inode(i, st);
    struct stat s {};
    long r = f->stat(&s);
    if (r < 0)
        return r;
    return write_user(st, s);
}

// Out of line: stat and lstat call it (inlined into both it cost 350 bytes of image).
[[gnu::noinline]] long sys_newfstatat(long dirfd, long path, long st, long flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
        return -EINVAL;
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    if (p.buf[0] == '\0' && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD)
        return sys_fstat(dirfd, st);
    Inode* i = nullptr;
    long r = inode_at(dirfd, path, flags, &i);
    if (r < 0)
        return r;
    return stat_inode(i, st);
}

long sys_stat(long path, long st) { return sys_newfstatat(AT_FDCWD, path, st, 0); }
long sys_lstat(long path, long st) { return sys_newfstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }

long sys_statx(long dirfd, long path, long flags, long mask, long buf)
{
    (void)mask;
    if (!user_ok(buf, sizeof(struct statx)))
        return -EFAULT; // before the path's errors, as Linux
    struct stat s {};
    long r;
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    if (p.buf[0] == '\0' && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
        File* f = fd_get(static_cast<int>(dirfd));
        if (!f)
            return -EBADF;
        r = f->stat(&s);
    } else {
        Inode* i = nullptr;
        r = inode_at(dirfd, path, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), &i);
        if (r == 0)
            fill_stat(i, &s);
    }
    if (r < 0)
        return r;
    struct statx x {};
    x.stx_mask = STATX_BASIC_STATS;
    x.stx_blksize = static_cast<u32>(s.st_blksize);
    x.stx_nlink = static_cast<u32>(s.st_nlink);
    x.stx_uid = s.st_uid;
    x.stx_gid = s.st_gid;
    x.stx_mode = static_cast<u16>(s.st_mode);
    x.stx_ino = s.st_ino;
    x.stx_size = static_cast<u64>(s.st_size);
    x.stx_blocks = static_cast<u64>(s.st_blocks);
    x.stx_atime = { s.st_atim.tv_sec, static_cast<u32>(s.st_atim.tv_nsec), 0 };
    x.stx_mtime = { s.st_mtim.tv_sec, static_cast<u32>(s.st_mtim.tv_nsec), 0 };
    x.stx_ctime = { s.st_ctim.tv_sec, static_cast<u32>(s.st_ctim.tv_nsec), 0 };
    x.stx_dev_minor = 1;
    return write_user(buf, x);
}

long sys_getdents64(long fd, long buf, long count)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (count < 0)
        return -EINVAL;
    if (!user_ok(buf, static_cast<std::size_t>(count)))
        return -EFAULT; // a checked range, written at once without blocking
    return f->getdents(reinterpret_cast<void*>(buf), static_cast<std::size_t>(count));
}

long sys_ftruncate(long fd, long length)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (length < 0)
        return -EINVAL;
    if (!f->writable() || !f->inode() || !f->inode()->is_reg())
        return -EINVAL;
    return f->truncate(static_cast<u64>(length));
}

// fallocate on the ramfs: mode 0 makes [offset, offset+len) part of the file (its unwritten
// pages read as zeros and take memory when written); FALLOC_FL_KEEP_SIZE alone changes
// nothing visible; FALLOC_FL_PUNCH_HOLE (with KEEP_SIZE) zeroes the range. Space is not
// reserved ahead: the ramfs has no blocks to reserve, only memory, taken at the write.
long sys_fallocate(long fd, long mode, long offset, long len)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (offset < 0 || len <= 0)
        return -EINVAL;
    Inode* i = f->inode();
    if (!i)
        return -ESPIPE; // pipes, sockets
    if (i->is_dir())
        return -EISDIR;
    if (!i->is_reg())
        return -ENODEV;
    if (!f->writable())
        return -EBADF;
    u64 end = static_cast<u64>(offset) + static_cast<u64>(len);
    if (end < static_cast<u64>(offset) || end > (u64(1) << 40))
        return -EFBIG;
    constexpr long k_keep_size = 0x01, k_punch_hole = 0x02;
    switch (mode) {
    case 0:
        return end > i->size ? file_data_truncate(i, end) : 0;
    case k_keep_size:
        return 0;
    case k_keep_size | k_punch_hole: {
        u64 stop = end < i->size ? end : i->size;
        static const char zeros[512] = {};
        for (u64 at = static_cast<u64>(offset); at < stop;) {
            std::size_t n = static_cast<std::size_t>(stop - at < sizeof zeros ? stop - at : sizeof zeros);
            long w = file_data_write(i, zeros, n, at);
            if (w < 0)
                return w;
            at += static_cast<u64>(w);
        }
        return 0;
    }
    default:
        return -EOPNOTSUPP; // as Linux: a hole without KEEP_SIZE; collapse, insert, zero range
    }
}

long sys_truncate(long path, long length)
{
    if (length < 0)
        return -EINVAL;
    Inode* i = nullptr;
    long r = inode_at(AT_FDCWD, path, 0, &i);
    if (r < 0)
        return r;
    if (i->is_dir())
        return -EISDIR;
    if (!i->is_reg())
        return -EINVAL;
    if ((r = inode_permission(i, k_may_write)) < 0)
        return r;
    return file_data_truncate(i, static_cast<u64>(length));
}

long sys_fsync(long fd)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    return f->inode() ? 0 : -EINVAL; // memory is as durable as it gets
}

} // namespace atl::libos
