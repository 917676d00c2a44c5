// SPDX-License-Identifier: MIT
// The file system calls on descriptors: dup, fcntl, ioctl, and copying between files
// (sendfile, copy_file_range).

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

// ------------------------------------------------------------------------ descriptors

long sys_dup(long fd)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    file_get(f);
    return fd_install(f, false);
}

long sys_dup3(long oldfd, long newfd, long flags)
{
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    if (oldfd == newfd)
        return -EINVAL;
    return fd_dup_to(static_cast<int>(oldfd), static_cast<int>(newfd), flags & O_CLOEXEC);
}

long sys_dup2(long oldfd, long newfd)
{
    if (oldfd == newfd)
        return fd_get(static_cast<int>(oldfd)) ? newfd : -EBADF;
    return fd_dup_to(static_cast<int>(oldfd), static_cast<int>(newfd), false);
}

long sys_fcntl(long fd, long cmd, long arg)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if (arg < 0 || arg >= k_max_fds)
            return -EINVAL;
        file_get(f);
        return fd_install(f, cmd == F_DUPFD_CLOEXEC, static_cast<int>(arg));
    case F_GETFD: return fd_cloexec(static_cast<int>(fd)) ? FD_CLOEXEC : 0;
    case F_SETFD: fd_set_cloexec(static_cast<int>(fd), arg & FD_CLOEXEC); return 0;
    case F_GETFL: return f->flags | (f->inode() && !f->inode()->device && !f->inode()->generator ? O_LARGEFILE : 0);
    case F_SETFL: {
        constexpr int k_settable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
        f->flags = (f->flags & ~k_settable) | (static_cast<int>(arg) & k_settable);
        return 0;
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return fcntl_lock(fd, f, cmd, arg);
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
        return f->ioctl(static_cast<unsigned long>(cmd), arg);
    default:
        return -EINVAL;
    }
}

long sys_ioctl(long fd, long request, long arg)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    switch (static_cast<unsigned long>(request)) {
    case FIOCLEX: fd_set_cloexec(static_cast<int>(fd), true); return 0;
    case FIONCLEX: fd_set_cloexec(static_cast<int>(fd), false); return 0;
    case FIONREAD:
        if (Inode* i = f->inode(); i && i->is_reg()) {
            long pos = f->seek(0, SEEK_CUR);
            return write_user(arg, static_cast<int>(i->size > static_cast<u64>(pos) ? i->size - static_cast<u64>(pos) : 0));
        }
        break;
    default: break;
    }
    return f->ioctl(static_cast<unsigned long>(request), arg);
}

// ------------------------------------------------------------------------ copying

namespace {

// Moves up to `count` bytes from `in` (at *offset or its own position) to `out`.
long copy_between(File* in, File* out, long offset_ptr, std::size_t count)
{
    if (!in->readable() || !out->writable())
        return -EBADF;
    u64 off = 0;
    if (offset_ptr) {
        i64 o = 0;
        if (long r = read_user(offset_ptr, &o); r < 0)
            return r;
        if (!user_ok(offset_ptr, sizeof(i64)))
            return -EFAULT; // the new offset goes back into it
        if (o < 0)
            return -EINVAL;
        off = static_cast<u64>(o);
    }
    char* buf = static_cast<char*>(kernel::kmalloc(65536));
    if (!buf)
        return -ENOMEM;
    long total = 0;
    while (static_cast<std::size_t>(total) < count) {
        std::size_t want = count - static_cast<std::size_t>(total) < 65536 ? count - static_cast<std::size_t>(total) : 65536;
        long n = offset_ptr ? in->pread(buf, want, off) : in->read(buf, want);
        if (n <= 0) {
            if (n < 0 && total == 0)
                total = n;
            break;
        }
        long w = out->write(buf, static_cast<std::size_t>(n));
        if (w < 0) {
            if (total == 0)
                total = w;
            break;
        }
        total += w;
        off += static_cast<u64>(w);
        if (w < n)
            break;
    }
    kernel::kfree(buf);
    if (offset_ptr && total > 0) {
        if (long r = write_user(offset_ptr, static_cast<i64>(off)); r < 0)
            return r;
    }
    return total;
}

} // namespace

long sys_sendfile(long out_fd, long in_fd, long offset, long count)
{
    File* out = fd_get(static_cast<int>(out_fd));
    File* in = fd_get(static_cast<int>(in_fd));
    if (!out || !in)
        return -EBADF;
    if (count < 0)
        return -EINVAL;
    if (out->flags & O_APPEND)
        return -EINVAL;
    return copy_between(in, out, offset, static_cast<std::size_t>(count));
}

long sys_copy_file_range(long fd_in, long off_in, long fd_out, long off_out, long len, long flags)
{
    if (flags != 0)
        return -EINVAL;
    File* in = fd_get(static_cast<int>(fd_in));
    File* out = fd_get(static_cast<int>(fd_out));
    if (!in || !out)
        return -EBADF;
    if (!in->inode() || !out->inode() || !in->inode()->is_reg() || !out->inode()->is_reg())
        return -EINVAL;
    if (out->flags & O_APPEND)
        return -EBADF;
    if (len < 0)
        return -EINVAL;
    if (!off_out)
        return copy_between(in, out, off_in, static_cast<std::size_t>(len));
    // An explicit output offset: write with pwrite.
    i64 oo = 0;
    if (long r = read_user(off_out, &oo); r < 0)
        return r;
    if (!user_ok(off_out, sizeof(i64)))
        return -EFAULT; // the new offset goes back into it
    if (oo < 0)
        return -EINVAL;
    char* buf = static_cast<char*>(kernel::kmalloc(65536));
    if (!buf)
        return -ENOMEM;
    long total = 0;
    u64 in_off = 0;
    if (off_in) {
        i64 o = 0;
        if (read_user(off_in, &o) < 0 || !user_ok(off_in, sizeof(i64))) {
            kernel::kfree(buf);
            return -EFAULT;
        }
        in_off = static_cast<u64>(o);
    }
    while (total < len) {
        std::size_t want = static_cast<std::size_t>(len - total < 65536 ? len - total : 65536);
        long n = off_in ? in->pread(buf, want, in_off) : in->read(buf, want);
        if (n <= 0)
            break;
        long w = out->pwrite(buf, static_cast<std::size_t>(n), static_cast<u64>(oo));
        if (w <= 0)
            break;
        total += w;
        oo += w;
        in_off += static_cast<u64>(w);
    }
    kernel::kfree(buf);
    if (long r = write_user(off_out, oo); r < 0)
        return r;
    if (off_in) {
        if (long r = write_user(off_in, static_cast<i64>(in_off)); r < 0)
            return r;
    }
    return total;
}

} // namespace atl::libos
