// SPDX-License-Identifier: MIT
// Descriptors 0, 1 and 2 on the console. FIXME(issue 4): the fd table and VFS replace this.

#include "syscalls.h"

#include <kernel/console.h>
#include <kernel/memory.h>
#include <kernel/paging.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <termios.h>

namespace atl::libos {

namespace {

bool s_console_open[3] = { true, true, true };
int s_fd_flags[3] = { 0, 0, 0 };

bool is_console(long fd) { return fd >= 0 && fd < 3 && s_console_open[fd]; }

} // namespace

bool user_ok(const void* p, std::size_t n) { return kernel::access_ok(reinterpret_cast<u64>(p), n, true); }
bool user_ok(long p, std::size_t n) { return kernel::access_ok(static_cast<u64>(p), n, true); }
bool user_in(const void* p, std::size_t n) { return kernel::access_ok(reinterpret_cast<u64>(p), n, false); }
bool user_in(long p, std::size_t n) { return kernel::access_ok(static_cast<u64>(p), n, false); }

namespace {

// read/write argument checks, in Linux's order: descriptor, then count, then the buffer
// (which read() writes into and write() reads from).
long check_transfer(long fd, long buf, long count, bool into)
{
    if (!is_console(fd))
        return -EBADF;
    if (count < 0)
        return -EINVAL;
    if (!(into ? user_ok(buf, static_cast<std::size_t>(count)) : user_in(buf, static_cast<std::size_t>(count))))
        return -EFAULT;
    return 0;
}

} // namespace

long sys_read(long fd, long buf, long count)
{
    // FIXME(issue 4): console input; until then stdin is at end of file.
    return check_transfer(fd, buf, count, true);
}

long sys_write(long fd, long buf, long count)
{
    if (long err = check_transfer(fd, buf, count, false))
        return err;
    kernel::console_write(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(count));
    return count;
}

namespace {

// Validates an iovec array the way Linux does: EINVAL for a bad count or a total that
// overflows ssize_t, EFAULT for any unreadable piece.
long check_iov(long iov, long iovcnt, bool into)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX)
        return -EINVAL;
    if (!user_in(iov, static_cast<std::size_t>(iovcnt) * sizeof(struct iovec)))
        return -EFAULT;
    auto* v = reinterpret_cast<const struct iovec*>(iov);
    std::size_t total = 0;
    for (long i = 0; i < iovcnt; ++i) {
        if (v[i].iov_len > static_cast<std::size_t>(SSIZE_MAX) - total)
            return -EINVAL;
        total += v[i].iov_len;
        if (!(into ? user_ok(v[i].iov_base, v[i].iov_len) : user_in(v[i].iov_base, v[i].iov_len)))
            return -EFAULT;
    }
    return static_cast<long>(total);
}

} // namespace

long sys_readv(long fd, long iov, long iovcnt)
{
    if (!is_console(fd))
        return -EBADF;
    long r = check_iov(iov, iovcnt, true);
    return r < 0 ? r : 0;
}

long sys_writev(long fd, long iov, long iovcnt)
{
    if (!is_console(fd))
        return -EBADF;
    long total = check_iov(iov, iovcnt, false);
    if (total < 0)
        return total;
    auto* v = reinterpret_cast<const struct iovec*>(iov);
    for (long i = 0; i < iovcnt; ++i)
        kernel::console_write(static_cast<const char*>(v[i].iov_base), v[i].iov_len);
    return total;
}

long sys_close(long fd)
{
    if (!is_console(fd))
        return -EBADF;
    s_console_open[fd] = false;
    return 0;
}

long sys_lseek(long fd, long, long)
{
    return is_console(fd) ? -ESPIPE : -EBADF;
}

long sys_ioctl(long fd, long request, long arg)
{
    if (!is_console(fd))
        return -EBADF;
    switch (static_cast<unsigned long>(request)) {
    case TIOCGWINSZ: {
        if (!user_ok(arg, sizeof(struct winsize)))
            return -EFAULT;
        struct winsize ws {};
        ws.ws_row = 24;
        ws.ws_col = 80;
        std::memcpy(reinterpret_cast<void*>(arg), &ws, sizeof(ws));
        return 0;
    }
    case TCGETS: {
        if (!user_ok(arg, sizeof(struct termios)))
            return -EFAULT;
        struct termios t {};
        t.c_iflag = ICRNL;
        t.c_oflag = OPOST | ONLCR;
        t.c_cflag = CS8 | CREAD | B115200;
        t.c_lflag = ISIG | ICANON | ECHO;
        std::memcpy(reinterpret_cast<void*>(arg), &t, sizeof(t));
        return 0;
    }
    case FIONBIO:
        return user_ok(arg, sizeof(int)) ? 0 : -EFAULT;
    default:
        return -ENOTTY;
    }
}

long sys_fcntl(long fd, long cmd, long arg)
{
    if (!is_console(fd))
        return -EBADF;
    switch (cmd) {
    case F_GETFD: return (s_fd_flags[fd] & FD_CLOEXEC) ? FD_CLOEXEC : 0;
    case F_SETFD: s_fd_flags[fd] = arg & FD_CLOEXEC; return 0;
    case F_GETFL: return O_RDWR;
    case F_SETFL: return 0;
    default: return -EINVAL;
    }
}

} // namespace atl::libos
