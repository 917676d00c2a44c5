// SPDX-License-Identifier: MIT
// Inet sockets: TCP and UDP over IPv4 on lwIP's netconn API. Every socket operation is
// non-blocking at the netconn level; a blocking socket waits on its own wait queue, woken by
// lwIP's netconn callback, so waits are interruptible (EINTR), honour SO_RCVTIMEO/SO_SNDTIMEO,
// and poll/select/epoll see the same readiness through the file's hooks. Their options:
// inet_options.cpp; the calls every socket shares, and the layer itself: socket.cpp.

#include "inet_socket.h"

#include <libos/net/socket.h>

#include <net/net.h>

#include <cstring>

namespace atl::libos {

// lwIP's err_t as errno (lwip/err.h; the mapping of lwIP's own sockets.c).
long errno_of(err_t e)
{
    switch (e) {
    case ERR_OK: return 0;
    case ERR_MEM: return -ENOMEM;
    case ERR_BUF: return -ENOBUFS;
    case ERR_TIMEOUT: return -EWOULDBLOCK;
    case ERR_RTE: return -EHOSTUNREACH;
    case ERR_INPROGRESS: return -EINPROGRESS;
    case ERR_VAL: return -EINVAL;
    case ERR_WOULDBLOCK: return -EWOULDBLOCK;
    case ERR_USE: return -EADDRINUSE;
    case ERR_ALREADY: return -EALREADY;
    case ERR_ISCONN: return -EISCONN;
    case ERR_CONN: return -ENOTCONN;
    case ERR_IF: return -EIO;
    case ERR_ABRT: return -ECONNABORTED;
    case ERR_RST: return -ECONNRESET;
    case ERR_CLSD: return -ENOTCONN;
    case ERR_ARG: return -EIO;
    default: return -EIO;
    }
}

namespace {

constexpr std::size_t k_conn_buckets = 1024;
ConnState* s_conns[k_conn_buckets];

std::size_t bucket_of(const struct netconn* c) { return (reinterpret_cast<uptr>(c) >> 4) % k_conn_buckets; }

ConnState* find_state(const struct netconn* c)
{
    for (ConnState* s = s_conns[bucket_of(c)]; s; s = s->next) {
        if (s->conn == c)
            return s;
    }
    return nullptr;
}

} // namespace

ConnState* state_for(struct netconn* c)
{
    if (ConnState* s = find_state(c))
        return s;
    auto* s = kernel::make<ConnState>();
    if (!s)
        return nullptr;
    *s = ConnState { s_conns[bucket_of(c)], c, nullptr, 0, false, false };
    s_conns[bucket_of(c)] = s;
    return s;
}

void drop_state(const struct netconn* c)
{
    for (ConnState** link = &s_conns[bucket_of(c)]; *link; link = &(*link)->next) {
        if ((*link)->conn == c) {
            ConnState* s = *link;
            *link = s->next;
            kernel::destroy(s);
            return;
        }
    }
}

namespace {

void event_callback(struct netconn* conn, enum netconn_evt evt, u16_t)
{
    kernel::IrqState s = kernel::irq_save();
    ConnState* st = state_for(conn);
    if (st) {
        switch (evt) {
        case NETCONN_EVT_RCVPLUS: ++st->rcvevent; break;
        case NETCONN_EVT_RCVMINUS: --st->rcvevent; break;
        case NETCONN_EVT_SENDPLUS: st->sendevent = true; break;
        case NETCONN_EVT_SENDMINUS: st->sendevent = false; break;
        case NETCONN_EVT_ERROR: st->errevent = true; break;
        }
        if (st->socket)
            st->socket->on_event();
    }
    kernel::irq_restore(s);
}

} // namespace

InetSocket* socket_of(long fd, long* err)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f) {
        *err = -EBADF;
        return nullptr;
    }
    if (f->kind() != FileKind::Socket) {
        *err = -ENOTSOCK;
        return nullptr;
    }
    return static_cast<InetSocket*>(f);
}

namespace {

InetSocket* new_socket(int type, struct netconn* conn)
{
    auto* s = kernel::make<InetSocket>();
    if (!s)
        return nullptr;
    s->type = type;
    s->conn = conn;
    s->flags = O_RDWR;
    s->ino = next_socket_ino();
    if (conn) {
        kernel::IrqState st = kernel::irq_save();
        s->state = state_for(conn);
        if (s->state)
            s->state->socket = s;
        kernel::irq_restore(st);
        if (!s->state) {
            s->conn = nullptr;
            delete s;
            return nullptr;
        }
    }
    return s;
}

} // namespace

long read_sockaddr(long addr, long len, struct sockaddr_in* out)
{
    if (len < static_cast<long>(sizeof(sa_family_t)) || !user_in(addr, static_cast<std::size_t>(len)))
        return addr ? -EFAULT : -EINVAL;
    auto* sa = reinterpret_cast<const struct sockaddr*>(addr);
    if (sa->sa_family != AF_INET)
        return -EAFNOSUPPORT;
    if (len < static_cast<long>(sizeof(struct sockaddr_in)))
        return -EINVAL;
    std::memcpy(out, sa, sizeof(*out));
    return 0;
}

// Writes an address back with Linux's truncation rule (*len becomes the full size).
long write_sockaddr(const struct sockaddr_in& in, long addr, long lenp)
{
    if (!addr)
        return 0;
    if (!user_ok(lenp, sizeof(socklen_t)))
        return -EFAULT;
    socklen_t cap = *reinterpret_cast<socklen_t*>(lenp);
    if (static_cast<int>(cap) < 0)
        return -EINVAL;
    std::size_t n = cap < sizeof(in) ? cap : sizeof(in);
    if (!user_ok(addr, n))
        return -EFAULT;
    std::memcpy(reinterpret_cast<void*>(addr), &in, n);
    *reinterpret_cast<socklen_t*>(lenp) = sizeof(in);
    return 0;
}

// ---------------------------------------------------------------------------- syscalls

long sys_socket(long domain, long type, long protocol)
{
    if (!net::ensure_started())
        return -ENOBUFS;
    int base = static_cast<int>(type) & 0xf;
    int extra = static_cast<int>(type) & ~0xf;
    if (extra & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -EINVAL;
    if (domain == AF_UNIX || domain == AF_INET6 || domain == AF_NETLINK || domain == AF_PACKET)
        return -EAFNOSUPPORT; // FIXME: AF_UNIX sockets by path, IPv6
    if (domain != AF_INET)
        return -EAFNOSUPPORT;
    enum netconn_type nt;
    if (base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP))
        nt = NETCONN_TCP;
    else if (base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP))
        nt = NETCONN_UDP;
    else if (base == SOCK_STREAM || base == SOCK_DGRAM)
        return -EPROTONOSUPPORT;
    else
        return -ESOCKTNOSUPPORT;
    struct netconn* conn = netconn_new_with_callback(nt, event_callback);
    if (!conn)
        return -ENOBUFS;
    InetSocket* s = new_socket(base, conn);
    if (!s) {
        netconn_delete(conn);
        return -ENOMEM;
    }
    if (nt == NETCONN_UDP) {
        kernel::IrqState st = kernel::irq_save();
        s->state->sendevent = true;
        kernel::irq_restore(st);
    }
    if (extra & SOCK_NONBLOCK)
        s->flags |= O_NONBLOCK;
    return fd_install(s, extra & SOCK_CLOEXEC);
}

long sys_bind(long fd, long addr, long len)
{
    long err = 0;
    InetSocket* s = socket_of(fd, &err);
    if (!s)
        return err;
    struct sockaddr_in in;
    if (long r = read_sockaddr(addr, len, &in))
        return r;
    ip_addr_t a;
    ip_addr_set_ip4_u32(&a, in.sin_addr.s_addr);
    err_t e = netconn_bind(s->conn, &a, lwip_ntohs(in.sin_port));
    return e == ERR_USE ? -EADDRINUSE : errno_of(e);
}

long sys_listen(long fd, long backlog)
{
    long err = 0;
    InetSocket* s = socket_of(fd, &err);
    if (!s)
        return err;
    if (s->type != SOCK_STREAM)
        return -EOPNOTSUPP;
    // Linux queues backlog + 1 completed connections, and keeps half-open ones (SYN received)
    // in a SYN queue of their own; lwIP counts both against one limit. So a small backlog is
    // Linux's backlog + 1, and SOMAXCONN (musl's 128, which Linux itself raises to 4096) or
    // more is lwIP's most, 255: 256 clients at once against listen(SOMAXCONN) lost SYNs, and
    // with them a second each, to the 128 limit.
    if (backlog < 1)
        backlog = 1;
    backlog = backlog >= SOMAXCONN ? 255 : backlog + 1;
    err_t e = netconn_listen_with_backlog(s->conn, static_cast<u8_t>(backlog));
    if (e != ERR_OK)
        return errno_of(e);
    netconn_set_nonblocking(s->conn, 1); // accept never blocks inside lwIP: we wait ourselves
    s->listening = true;
    return 0;
}

long sys_accept4(long fd, long addr, long lenp, long flags)
{
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -EINVAL;
    long err = 0;
    InetSocket* s = socket_of(fd, &err);
    if (!s)
        return err;
    if (!s->listening)
        return -EINVAL;
    if (addr && !user_ok(lenp, sizeof(socklen_t)))
        return -EFAULT;
    struct netconn* nc = nullptr;
    for (;;) {
        err_t e = netconn_accept(s->conn, &nc);
        if (e == ERR_OK && nc)
            break;
        if (e != ERR_WOULDBLOCK)
            return e == ERR_ABRT ? -ECONNABORTED : errno_of(e);
        if (s->nonblocking())
            return -EAGAIN;
        long w = s->wait_until([s] { return s->readable_now(); }, s->rcvtimeo_ns);
        if (w < 0)
            return w;
    }
    InetSocket* child = new_socket(SOCK_STREAM, nc);
    if (!child) {
        netconn_delete(nc);
        return -ENOMEM;
    }
    {
        kernel::IrqState st = kernel::irq_save();
        child->state->sendevent = true; // an accepted connection can send
        kernel::irq_restore(st);
    }
    if (flags & SOCK_NONBLOCK)
        child->flags |= O_NONBLOCK;
    struct sockaddr_in peer {};
    ip_addr_t a;
    u16_t port = 0;
    if (netconn_peer(nc, &a, &port) == ERR_OK) {
        peer.sin_family = AF_INET;
        peer.sin_port = lwip_htons(port);
        peer.sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(&a));
    }
    int nfd = fd_install(child, flags & SOCK_CLOEXEC);
    if (nfd < 0)
        return nfd;
    if (long r = write_sockaddr(peer, addr, lenp)) {
        (void)fd_close(nfd);
        return r;
    }
    return nfd;
}

long sys_accept(long fd, long addr, long lenp) { return sys_accept4(fd, addr, lenp, 0); }

long sys_connect(long fd, long addr, long len)
{
    long err = 0;
    InetSocket* s = socket_of(fd, &err);
    if (!s)
        return err;
    struct sockaddr_in in;
    if (long r = read_sockaddr(addr, len, &in))
        return r;
    ip_addr_t a;
    ip_addr_set_ip4_u32(&a, in.sin_addr.s_addr);
    if (s->type == SOCK_DGRAM)
        return errno_of(netconn_connect(s->conn, &a, lwip_ntohs(in.sin_port)));
    if (s->connecting)
        return -EALREADY;
    if (s->nonblocking()) {
        netconn_set_nonblocking(s->conn, 1);
        err_t e = netconn_connect(s->conn, &a, lwip_ntohs(in.sin_port));
        if (e == ERR_INPROGRESS) {
            s->connecting = true;
            return -EINPROGRESS;
        }
        netconn_set_nonblocking(s->conn, 0);
        return errno_of(e) == -ENOTCONN ? -ECONNREFUSED : errno_of(e);
    }
    err_t e = netconn_connect(s->conn, &a, lwip_ntohs(in.sin_port));
    if (e == ERR_RST || e == ERR_ABRT || e == ERR_CLSD)
        return -ECONNREFUSED;
    if (e == ERR_OK) {
        kernel::IrqState st = kernel::irq_save();
        s->state->sendevent = true;
        kernel::irq_restore(st);
    }
    return errno_of(e);
}

// A non-blocking connect finishes when lwIP reports the connection writable or failed.
void settle_connect(InetSocket* s)
{
    if (!s->connecting)
        return;
    if (s->state && (s->state->sendevent || s->state->errevent)) {
        s->connecting = false;
        netconn_set_nonblocking(s->conn, 0);
        err_t e = netconn_err(s->conn);
        if (e != ERR_OK) {
            s->pending_error = e == ERR_RST || e == ERR_ABRT || e == ERR_CLSD ? -ECONNREFUSED : errno_of(e);
            s->state->errevent = true;
        }
    }
}

// ------------------------------------------- the inet side of the calls every socket shares

long inet_recv(long fd, void* buf, std::size_t n, int flags, struct sockaddr_in* from, bool* truncated)
{
    long err = 0;
    InetSocket* s = socket_of(fd, &err);
    if (!s)
        return err;
    if (s->type == SOCK_STREAM) {
        settle_connect(s);
        return s->recv_tcp(buf, n, flags);
    }
    return s->recv_udp(buf, n, flags, from, truncated);
}

long inet_send(long fd, const void* buf, std::size_t n, int flags, const struct sockaddr_in* to)
{
    long err = 0;
    InetSocket* s = socket_of(fd, &err);
    if (!s)
        return err;
    if (s->type == SOCK_STREAM) {
        settle_connect(s);
        if (s->connecting)
            return -EAGAIN;
        return s->send_tcp(buf, n, flags);
    }
    return s->send_udp(buf, n, to);
}

long inet_shutdown(long fd, long how)
{
    long err = 0;
    InetSocket* s = socket_of(fd, &err);
    if (!s)
        return err;
    if (s->type == SOCK_STREAM && (s->listening || !s->state || (!s->state->sendevent && !s->eof)))
        return -ENOTCONN;
    bool rd = how != SHUT_WR, wr = how != SHUT_RD;
    if (s->type == SOCK_STREAM) {
        err_t e = netconn_shutdown(s->conn, rd, wr);
        if (e != ERR_OK && e != ERR_CONN)
            return errno_of(e);
    }
    s->rd_shut |= rd;
    s->wr_shut |= wr;
    s->on_event();
    return 0;
}

long inet_name(long fd, long addr, long lenp, bool local)
{
    long err = 0;
    InetSocket* s = socket_of(fd, &err);
    if (!s)
        return err;
    ip_addr_t a;
    u16_t port = 0;
    err_t e = netconn_getaddr(s->conn, &a, &port, local ? 1 : 0);
    struct sockaddr_in in {};
    in.sin_family = AF_INET;
    if (e == ERR_OK) {
        in.sin_port = lwip_htons(port);
        in.sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(&a));
    } else if (!local) {
        return -ENOTCONN;
    }
    if (!addr)
        return -EFAULT;
    return write_sockaddr(in, addr, lenp);
}

} // namespace atl::libos
