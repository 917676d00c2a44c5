// SPDX-License-Identifier: MIT
// The socket layer: the socket system calls every socket shares (send, receive, shutdown,
// options, names), routed to AF_UNIX pairs (ipc/unix_socket.cpp) or inet sockets
// (inet_socket.cpp, inet_options.cpp) by the descriptor's kind; the layer's entry points; and
// socket() and socketpair() in musl's place, whose use links the layer into an image.

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
#include <sys/syscall.h>
#include <sys/uio.h>

namespace atl::libos {

namespace {

u64 s_next_socket_ino = 1 << 26;

long do_recv(long fd, void* buf, std::size_t n, int flags, struct sockaddr_in* from, bool* truncated)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (f->kind() == FileKind::UnixSocket)
        return unix_recv(f, buf, n, flags);
    return inet_recv(fd, buf, n, flags, from, truncated);
}

long do_send(long fd, const void* buf, std::size_t n, int flags, const struct sockaddr_in* to)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (f->kind() == FileKind::UnixSocket)
        return unix_send(f, buf, n, flags);
    return inet_send(fd, buf, n, flags, to);
}

} // namespace

u64 next_socket_ino() { return s_next_socket_ino++; }

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
    return do_send(fd, reinterpret_cast<const void*>(buf), static_cast<std::size_t>(len), static_cast<int>(flags),
        have_to ? &to : nullptr);
}

long sys_recvfrom(long fd, long buf, long len, long flags, long addr, long lenp)
{
    if (len < 0)
        return -EINVAL;
    if (!user_ok(buf, static_cast<std::size_t>(len)))
        return -EFAULT;
    struct sockaddr_in from {};
    bool truncated = false;
    long r = do_recv(fd, reinterpret_cast<void*>(buf), static_cast<std::size_t>(len), static_cast<int>(flags), &from, &truncated);
    if (r >= 0 && addr && from.sin_family == AF_INET) {
        if (long w = write_sockaddr(from, addr, lenp))
            return w;
    }
    return r;
}

long sys_sendmsg(long fd, long msgp, long flags)
{
    if (!user_in(msgp, sizeof(struct msghdr)))
        return -EFAULT;
    auto* msg = reinterpret_cast<const struct msghdr*>(msgp);
    if (msg->msg_iovlen < 0 || msg->msg_iovlen > IOV_MAX)
        return -EMSGSIZE;
    std::size_t iovlen = static_cast<std::size_t>(msg->msg_iovlen);
    long checked = check_iov(reinterpret_cast<long>(msg->msg_iov), msg->msg_iovlen, false);
    if (checked < 0)
        return checked;
    // Gather into one buffer: a datagram must go out whole, a stream write is simpler so.
    auto total = static_cast<std::size_t>(checked);
    if (total > (1u << 20))
        total = 1u << 20; // a stream sends the rest on the next call; datagrams cannot be this big
    char* buf = static_cast<char*>(kernel::kmalloc(total ? total : 1));
    if (!buf)
        return -ENOMEM;
    std::size_t at = 0;
    for (std::size_t i = 0; i < iovlen && at < total; ++i) {
        std::size_t n = msg->msg_iov[i].iov_len < total - at ? msg->msg_iov[i].iov_len : total - at;
        std::memcpy(buf + at, msg->msg_iov[i].iov_base, n);
        at += n;
    }
    long r = sys_sendto(fd, reinterpret_cast<long>(buf), static_cast<long>(total), flags,
        reinterpret_cast<long>(msg->msg_name), msg->msg_namelen);
    kernel::kfree(buf);
    return r;
}

long sys_recvmsg(long fd, long msgp, long flags)
{
    if (!user_ok(msgp, sizeof(struct msghdr)))
        return -EFAULT;
    auto* msg = reinterpret_cast<struct msghdr*>(msgp);
    if (msg->msg_iovlen < 0 || msg->msg_iovlen > IOV_MAX)
        return -EMSGSIZE;
    std::size_t iovlen = static_cast<std::size_t>(msg->msg_iovlen);
    long checked = check_iov(reinterpret_cast<long>(msg->msg_iov), msg->msg_iovlen, true);
    if (checked < 0)
        return checked;
    auto total = static_cast<std::size_t>(checked);
    if (total > (1u << 20))
        total = 1u << 20;
    char* buf = static_cast<char*>(kernel::kmalloc(total ? total : 1));
    if (!buf)
        return -ENOMEM;
    struct sockaddr_in from {};
    bool truncated = false;
    long r = do_recv(fd, buf, total, static_cast<int>(flags), &from, &truncated);
    if (r > 0) {
        std::size_t left = static_cast<std::size_t>(r) < total ? static_cast<std::size_t>(r) : total, at = 0;
        for (std::size_t i = 0; i < iovlen && left; ++i) {
            std::size_t n = msg->msg_iov[i].iov_len < left ? msg->msg_iov[i].iov_len : left;
            std::memcpy(msg->msg_iov[i].iov_base, buf + at, n);
            at += n;
            left -= n;
        }
    }
    kernel::kfree(buf);
    if (r < 0)
        return r;
    msg->msg_flags = truncated ? MSG_TRUNC : 0;
    File* f = fd_get(static_cast<int>(fd));
    if (f && f->kind() == FileKind::UnixSocket && unix_passcred(f)) {
        long used = unix_put_credentials(f, msg);
        if (used < 0)
            return used;
        msg->msg_controllen = static_cast<socklen_t>(used);
    } else {
        msg->msg_controllen = 0;
    }
    if (msg->msg_name && from.sin_family == AF_INET) {
        std::size_t n = msg->msg_namelen < sizeof(from) ? msg->msg_namelen : sizeof(from);
        if (!user_ok(msg->msg_name, n))
            return -EFAULT;
        std::memcpy(msg->msg_name, &from, n);
        msg->msg_namelen = sizeof(from);
    } else {
        msg->msg_namelen = 0;
    }
    return r;
}

long sys_shutdown(long fd, long how)
{
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return -EINVAL;
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (f->kind() == FileKind::UnixSocket)
        return unix_shutdown(f, how);
    return inet_shutdown(fd, how);
}

long sys_setsockopt(long fd, long level, long name, long val, long len)
{
    File* f = fd_get(static_cast<int>(fd));
    if (f && f->kind() == FileKind::UnixSocket)
        return unix_setsockopt(f, level, name, val, len);
    return inet_setsockopt(fd, level, name, val, len);
}

long sys_getsockopt(long fd, long level, long name, long val, long lenp)
{
    if (File* f = fd_get(static_cast<int>(fd)); f && f->kind() == FileKind::UnixSocket)
        return unix_getsockopt(f, level, name, val, lenp);
    return inet_getsockopt(fd, level, name, val, lenp);
}

namespace {

long name_of(long fd, long addr, long lenp, bool local)
{
    File* f = fd_get(static_cast<int>(fd));
    if (f && f->kind() == FileKind::UnixSocket)
        return unix_name(addr, lenp);
    return inet_name(fd, addr, lenp, local);
}

} // namespace

long sys_getsockname(long fd, long addr, long lenp) { return name_of(fd, addr, lenp, true); }
long sys_getpeername(long fd, long addr, long lenp) { return name_of(fd, addr, lenp, false); }

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
