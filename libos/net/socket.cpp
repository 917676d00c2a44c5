// SPDX-License-Identifier: MIT
// The socket layer: the socket system calls every socket shares (send, receive, shutdown,
// options, names), made on the Socket behind the descriptor (libos/net/socket.h): an AF_UNIX
// pair (ipc/unix_socket.cpp) or an inet socket (inet_socket.cpp, inet_options.cpp); the
// layer's entry points; and socket() and socketpair() in musl's place, whose use links the
// layer into an image.

#include "inet_socket.h"

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/ipc/unix_socket.h>
#include <libos/net/socket.h>
#include <libos/net/socket_layer.h>

#include <kernel/heap.h>
#include <net/net.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

namespace atl::libos {

namespace {

// The capacity the application's *LENP gives for SIZE bytes: how many to write, or -errno.
long user_capacity(long lenp, std::size_t size)
{
    socklen_t len = 0;
    if (long r = read_user(lenp, &len); r < 0)
        return r;
    if (!user_ok(lenp, sizeof(socklen_t)))
        return -EFAULT; // written back with the value
    auto cap = static_cast<int>(len);
    if (cap < 0)
        return -EINVAL;
    return static_cast<long>(static_cast<std::size_t>(cap) < size ? static_cast<std::size_t>(cap) : size);
}

// N bytes of VALUE to the application's DST, and *LENP = REPORTED.
long put_cut(long dst, long lenp, const void* value, long n, std::size_t reported)
{
    if (n < 0)
        return n;
    if (!copy_to_user(static_cast<u64>(dst), value, static_cast<std::size_t>(n)))
        return -EFAULT;
    return write_user(lenp, static_cast<socklen_t>(reported));
}

} // namespace

long put_sockopt(long val, long lenp, const void* value, std::size_t size)
{
    long n = user_capacity(lenp, size);
    return put_cut(val, lenp, value, n, static_cast<std::size_t>(n));
}

long put_sockopt_int(long val, long lenp, int value) { return put_sockopt(val, lenp, &value, sizeof(value)); }

long put_sockaddr(long addr, long lenp, const void* sa, std::size_t size)
{
    return put_cut(addr, lenp, sa, user_capacity(lenp, size), size);
}

long Socket::stat(struct stat* st)
{
    *st = {};
    st->st_mode = S_IFSOCK | 0777;
    st->st_ino = ino;
    st->st_nlink = 1;
    st->st_blksize = 4096;
    return 0;
}

void Socket::describe(char* buf, std::size_t cap)
{
    std::snprintf(buf, cap, "socket:[%llu]", static_cast<unsigned long long>(ino));
}

Socket* socket_of(long fd, long* err)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f) {
        *err = -EBADF;
        return nullptr;
    }
    if (f->kind() != FileKind::InetSocket && f->kind() != FileKind::UnixSocket) {
        *err = -ENOTSOCK;
        return nullptr;
    }
    return static_cast<Socket*>(f);
}

long sys_sendto(long fd, long buf, long len, long flags, long addr, long addrlen)
{
    if (len < 0)
        return -EINVAL;
    if (!user_in(buf, static_cast<std::size_t>(len)))
        return -EFAULT;
    struct sockaddr_in to;
    bool have_to = false;
    if (addr) {
        if (long r = read_sockaddr(addr, addrlen, &to))
            return r;
        have_to = true;
    }
    long err = 0;
    Socket* s = socket_of(fd, &err);
    if (!s)
        return err;
    return s->send(reinterpret_cast<const void*>(buf), static_cast<std::size_t>(len), static_cast<int>(flags),
        have_to ? &to : nullptr);
}

long sys_recvfrom(long fd, long buf, long len, long flags, long addr, long lenp)
{
    if (len < 0)
        return -EINVAL;
    if (!user_ok(buf, static_cast<std::size_t>(len)))
        return -EFAULT;
    long err = 0;
    Socket* s = socket_of(fd, &err);
    if (!s)
        return err;
    struct sockaddr_in from {};
    bool truncated = false;
    long r = s->recv(reinterpret_cast<void*>(buf), static_cast<std::size_t>(len), static_cast<int>(flags), &from, &truncated);
    if (r >= 0 && addr && from.sin_family == AF_INET) {
        if (long w = put_sockaddr(addr, lenp, &from, sizeof(from)))
            return w;
    }
    return r;
}

long sys_sendmsg(long fd, long msgp, long flags)
{
    struct msghdr m;
    if (long r = read_user(msgp, &m); r < 0)
        return r;
    const struct msghdr* msg = &m;
    if (msg->msg_iovlen < 0 || msg->msg_iovlen > IOV_MAX)
        return -EMSGSIZE;
    UserIov iov;
    long checked = iov.copy_in(reinterpret_cast<long>(msg->msg_iov), msg->msg_iovlen, false);
    if (checked < 0)
        return checked;
    std::size_t iovlen = iov.size();
    // Gather into one buffer: a datagram must go out whole, a stream write is simpler so.
    auto total = static_cast<std::size_t>(checked);
    if (total > (1u << 20))
        total = 1u << 20; // a stream sends the rest on the next call; datagrams cannot be this big
    char* buf = static_cast<char*>(kernel::kmalloc(total ? total : 1));
    if (!buf)
        return -ENOMEM;
    std::size_t at = 0;
    for (std::size_t i = 0; i < iovlen && at < total; ++i) {
        std::size_t n = iov[i].iov_len < total - at ? iov[i].iov_len : total - at;
        if (!copy_checked(buf + at, iov[i].iov_base, n)) { // a checked range
            kernel::kfree(buf);
            return -EFAULT;
        }
        at += n;
    }
    long r = sys_sendto(fd, reinterpret_cast<long>(buf), static_cast<long>(total), flags,
        reinterpret_cast<long>(msg->msg_name), msg->msg_namelen);
    kernel::kfree(buf);
    return r;
}

long sys_recvmsg(long fd, long msgp, long flags)
{
    // The msghdr is copied in, and back out at the end with the fields the call sets.
    if (!user_ok(msgp, sizeof(struct msghdr)))
        return -EFAULT;
    struct msghdr m;
    if (long r = read_user(msgp, &m); r < 0)
        return r;
    struct msghdr* msg = &m;
    if (msg->msg_iovlen < 0 || msg->msg_iovlen > IOV_MAX)
        return -EMSGSIZE;
    UserIov iov;
    long checked = iov.copy_in(reinterpret_cast<long>(msg->msg_iov), msg->msg_iovlen, true);
    if (checked < 0)
        return checked;
    std::size_t iovlen = iov.size();
    long err = 0;
    Socket* s = socket_of(fd, &err);
    if (!s)
        return err;
    auto total = static_cast<std::size_t>(checked);
    if (total > (1u << 20))
        total = 1u << 20;
    char* buf = static_cast<char*>(kernel::kmalloc(total ? total : 1));
    if (!buf)
        return -ENOMEM;
    struct sockaddr_in from {};
    bool truncated = false;
    long r = s->recv(buf, total, static_cast<int>(flags), &from, &truncated);
    if (r > 0) {
        std::size_t left = static_cast<std::size_t>(r) < total ? static_cast<std::size_t>(r) : total, at = 0;
        for (std::size_t i = 0; i < iovlen && left; ++i) {
            std::size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
            if (!copy_checked(iov[i].iov_base, buf + at, n)) { // a checked range
                r = -EFAULT; // the data is gone, as on Linux when the copy out fails
                break;
            }
            at += n;
            left -= n;
        }
    }
    kernel::kfree(buf);
    if (r < 0)
        return r;
    msg->msg_flags = truncated ? MSG_TRUNC : 0;
    long used = s->put_control(msg);
    if (used < 0)
        return used;
    msg->msg_controllen = static_cast<socklen_t>(used);
    if (msg->msg_name && from.sin_family == AF_INET) {
        std::size_t n = msg->msg_namelen < sizeof(from) ? msg->msg_namelen : sizeof(from);
        if (!copy_to_user(reinterpret_cast<u64>(msg->msg_name), &from, n))
            return -EFAULT;
        msg->msg_namelen = sizeof(from);
    } else {
        msg->msg_namelen = 0;
    }
    if (long w = write_user(msgp, m); w < 0)
        return w;
    return r;
}

long sys_shutdown(long fd, long how)
{
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return -EINVAL;
    long err = 0;
    Socket* s = socket_of(fd, &err);
    return s ? s->shutdown(static_cast<int>(how)) : err;
}

long sys_setsockopt(long fd, long level, long name, long val, long len)
{
    long err = 0;
    Socket* s = socket_of(fd, &err);
    return s ? s->setsockopt(level, name, val, len) : err;
}

long sys_getsockopt(long fd, long level, long name, long val, long lenp)
{
    long err = 0;
    Socket* s = socket_of(fd, &err);
    return s ? s->getsockopt(level, name, val, lenp) : err;
}

long sys_getsockname(long fd, long addr, long lenp)
{
    long err = 0;
    Socket* s = socket_of(fd, &err);
    return s ? s->name(addr, lenp, true) : err;
}

long sys_getpeername(long fd, long addr, long lenp)
{
    long err = 0;
    Socket* s = socket_of(fd, &err);
    return s ? s->name(addr, lenp, false) : err;
}

namespace {

// ------------------------------------------------------------------ the layer's entry points
// (libos/net/socket_layer.h: what the rest of the libOS reaches through the registration)

long socket_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    switch (n) {
#define SYSCALL(name, call)
#define SYSCALL_UNLOCKED(name, call)
#define SYSCALL_TRY_UNLOCKED(name, try_call, call)
#define SOCKETCALL(name, call) \
    case SYS_##name: return (call);
#include <libos/core/syscalls.def>
#undef SYSCALL
#undef SYSCALL_UNLOCKED
#undef SYSCALL_TRY_UNLOCKED
#undef SOCKETCALL
    default: return -ENOSYS;
    }
}

const char* network_start(const net::Config& config)
{
    net::NetInfo info;
    if (const char* err = net::net_init(config, &info))
        return err;
    if (info.dns[0]) {
        char line[64];
        std::snprintf(line, sizeof(line), "nameserver %s\n", info.dns);
        Lookup lk;
        if (resolve(root(), "/etc/resolv.conf", 0, &lk) == 0 && lk.inode && lk.inode->is_reg()) {
            (void)file_data_truncate(lk.inode, 0);
            (void)file_data_write(lk.inode, line, std::strlen(line), 0);
        }
    }
    return nullptr;
}

void network_stats() { net::log_net_stats(); }

constinit const SocketLayer k_socket_layer { socket_syscall, network_start, network_stats };

} // namespace

ATL_REGISTER(socket_layer, SocketLayer, k_socket_layer);

} // namespace atl::libos

// musl's socket() and socketpair(), replaced: a program calling either links this file (and
// lwIP) in; one that never does leaves both out of its image.
extern "C" int socket(int domain, int type, int protocol)
{
    return static_cast<int>(atl::libos::syscall_result(__atoll_syscall(SYS_socket, domain, type, protocol, 0, 0, 0)));
}

extern "C" int socketpair(int domain, int type, int protocol, int sv[2])
{
    return static_cast<int>(atl::libos::syscall_result(
        __atoll_syscall(SYS_socketpair, domain, type, protocol, reinterpret_cast<long>(sv), 0, 0)));
}
