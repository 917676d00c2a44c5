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

constinit kernel::SpinLock g_conn_lock;

namespace {

constexpr std::size_t k_conn_buckets = 1024;
ConnState* s_conns[k_conn_buckets] ATL_GUARDED_BY(g_conn_lock);

std::size_t bucket_of(const struct netconn* c) { return (reinterpret_cast<uptr>(c) >> 4) % k_conn_buckets; }

ConnState* find_state(const struct netconn* c) ATL_REQUIRES(g_conn_lock)
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
    s->next = s_conns[bucket_of(c)];
    s->conn = c;
    s->socket = nullptr;
    s->rcvevent = 0;
    s->sendevent = false;
    s->errevent = false;
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
    kernel::SpinLockGuard guard(g_conn_lock);
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
}

// lwIP's events for a connection, read at one instant (all clear without a connection). Not
// inlined: a dozen callers, and the lock's calls would be copied into each.
struct ConnEvents {
    int rcvevent = 0;
    bool sendevent = false;
    bool errevent = false;
};
[[gnu::noinline]] ConnEvents events_of(const ConnState* st)
{
    if (!st)
        return {};
    kernel::SpinLockGuard guard(g_conn_lock);
    return ConnEvents { st->rcvevent, st->sendevent, st->errevent };
}
[[gnu::noinline]] void set_send_event(ConnState* st, bool on)
{
    kernel::SpinLockGuard guard(g_conn_lock);
    st->sendevent = on;
}
[[gnu::noinline]] void set_error_event(ConnState* st, bool on)
{
    kernel::SpinLockGuard guard(g_conn_lock);
    st->errevent = on;
}

} // namespace

InetSocket* inet_socket_of(long fd, long* err)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f) {
        *err = -EBADF;
        return nullptr;
    }
    if (f->kind() != FileKind::InetSocket) {
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
    if (conn) {
        kernel::SpinLockGuard guard(g_conn_lock);
        s->state = state_for(conn);
        if (s->state)
            s->state->socket = s;
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
    struct sockaddr_in sa {};
    std::size_t n = static_cast<std::size_t>(len) < sizeof(sa) ? static_cast<std::size_t>(len) : sizeof(sa);
    if (!copy_from_user(&sa, static_cast<u64>(addr), n))
        return -EFAULT;
    if (sa.sin_family != AF_INET)
        return -EAFNOSUPPORT;
    if (len < static_cast<long>(sizeof(struct sockaddr_in)))
        return -EINVAL;
    *out = sa;
    return 0;
}

// Writes an address back with Linux's truncation rule (*len becomes the full size).
// -------------------------------------------------------------------------- the socket file

InetSocket::~InetSocket()
{
    if (rx_pbuf)
        pbuf_free(rx_pbuf);
    if (rx_netbuf)
        netbuf_delete(rx_netbuf);
    if (conn) {
        // The state goes after the netconn: lwIP still reports events while it closes,
        // and a state made by those for a freed netconn would be picked up by the next
        // netconn allocated at the same address (an accepted connection born in error).
        // netconn_delete frees the netconn in this thread, right before it returns.
        netconn_delete(conn);
        kernel::SpinLockGuard guard(g_conn_lock);
        drop_state(conn);
    }
}

bool InetSocket::readable_now() const
{
    if (rx_pbuf || rx_netbuf || eof || rd_shut)
        return true;
    ConnEvents ev = events_of(state);
    return ev.rcvevent > 0 || ev.errevent;
}

u32 InetSocket::poll()
{
    u32 ev = 0;
    if (readable_now())
        ev |= POLLIN | POLLRDNORM;
    if (listening)
        return ev;
    ConnEvents conn_ev = events_of(state);
    bool writable = type == SOCK_DGRAM || (conn_ev.sendevent && !connecting);
    if (writable && !wr_shut)
        ev |= POLLOUT | POLLWRNORM;
    if (conn_ev.errevent)
        ev |= POLLERR;
    if (eof && (wr_shut || conn_ev.errevent))
        ev |= POLLHUP;
    if (eof)
        ev |= POLLRDHUP;
    return ev;
}

template <typename Ready>
long InetSocket::wait_until(Ready ready, u64 timeout_ns)
{
    u64 deadline = timeout_ns ? kernel::monotonic_ns() + timeout_ns : 0;
    while (!ready()) {
        kernel::WakeReason r = kernel::block(&waiters, deadline, true);
        if (r == kernel::WakeReason::Interrupted)
            return -EINTR;
        if (r == kernel::WakeReason::TimedOut && !ready())
            return -EAGAIN;
    }
    return 0;
}

long InetSocket::take_error()
{
    long e = pending_error;
    pending_error = 0;
    if (!e && events_of(state).errevent && conn) {
        e = errno_of(netconn_err(conn));
        set_error_event(state, false);
    }
    return e;
}

namespace {

// LEN bytes of the chain P from OFFSET into DST, a checked range of the application's that may
// have been unmapped while the call waited: piece by piece with copy_checked (lwIP's
// pbuf_copy_partial would dereference it). False when it faulted.
bool pbuf_copy_out(const struct pbuf* p, void* dst, std::size_t len, std::size_t offset)
{
    auto* out = static_cast<u8*>(dst);
    for (; p && len; p = p->next) {
        if (offset >= p->len) {
            offset -= p->len;
            continue;
        }
        std::size_t n = p->len - offset < len ? p->len - offset : len;
        if (!copy_checked(out, static_cast<const u8*>(p->payload) + offset, n))
            return false;
        out += n;
        len -= n;
        offset = 0;
    }
    return true;
}

} // namespace

long InetSocket::recv_tcp(void* buf, std::size_t n, int flags)
{
    if (listening)
        return -ENOTCONN;
    std::size_t done = 0;
    auto* out = static_cast<u8*>(buf);
    bool nonblock = nonblocking() || (flags & MSG_DONTWAIT);
    while (done < n) {
        if (rx_pbuf) {
            u16 avail = static_cast<u16>(rx_pbuf->tot_len - rx_offset);
            u16 take = static_cast<u16>(n - done < avail ? n - done : avail);
            if (!pbuf_copy_out(rx_pbuf, out + done, take, rx_offset))
                return done ? static_cast<long>(done) : -EFAULT; // the bytes stay queued
            done += take;
            if (!(flags & MSG_PEEK)) {
                rx_offset = static_cast<u16>(rx_offset + take);
                if (rx_offset == rx_pbuf->tot_len) {
                    pbuf_free(rx_pbuf);
                    rx_pbuf = nullptr;
                    rx_offset = 0;
                }
            }
            if (flags & MSG_PEEK)
                break;
            if (!(flags & MSG_WAITALL) || done == n)
                break;
            continue;
        }
        if (eof || rd_shut)
            break;
        struct pbuf* p = nullptr;
        err_t e = netconn_recv_tcp_pbuf_flags(conn, &p, NETCONN_DONTBLOCK);
        if (e == ERR_OK && p) {
            rx_pbuf = p;
            rx_offset = 0;
            continue;
        }
        if (e == ERR_CLSD) {
            eof = true;
            break;
        }
        if (e != ERR_WOULDBLOCK) {
            if (done)
                break;
            return e == ERR_RST || e == ERR_ABRT ? -ECONNRESET : errno_of(e);
        }
        if (done && !(flags & MSG_WAITALL))
            break;
        if (nonblock)
            return done ? static_cast<long>(done) : -EAGAIN;
        long w = wait_until([this] { return readable_now(); }, rcvtimeo_ns);
        if (w < 0)
            return done ? static_cast<long>(done) : w;
    }
    return static_cast<long>(done);
}

long InetSocket::send_tcp(const void* buf, std::size_t n, int flags)
{
    if (listening || !conn)
        return -ENOTCONN;
    if (wr_shut || eof_by_reset()) {
        if (!(flags & MSG_NOSIGNAL))
            raise_signal(SIGPIPE);
        return -EPIPE;
    }
    std::size_t done = 0;
    bool nonblock = nonblocking() || (flags & MSG_DONTWAIT);
    while (done < n) {
        std::size_t written = 0;
        u8 apiflags = NETCONN_COPY | NETCONN_DONTBLOCK | ((flags & MSG_MORE) ? NETCONN_MORE : 0);
        err_t e = netconn_write_partly(conn, static_cast<const u8*>(buf) + done, n - done, apiflags, &written);
        done += written;
        if (e == ERR_OK && written)
            continue;
        if (e != ERR_OK && e != ERR_WOULDBLOCK && e != ERR_MEM) {
            if (done)
                break;
            if (e == ERR_RST || e == ERR_ABRT || e == ERR_CLSD || e == ERR_CONN) {
                if (!(flags & MSG_NOSIGNAL))
                    raise_signal(SIGPIPE);
                return -EPIPE;
            }
            return errno_of(e);
        }
        if (nonblock)
            return done ? static_cast<long>(done) : -EAGAIN;
        // Wait until lwIP reports room again (SENDPLUS).
        if (state)
            set_send_event(state, false);
        long w = wait_until([this] { ConnEvents ev = events_of(state); return ev.sendevent || ev.errevent; }, sndtimeo_ns);
        if (w < 0)
            return done ? static_cast<long>(done) : w;
        // lwIP copies from BUF itself (tcp_write): the rest of the range is checked again after
        // the wait, in which the application may have unmapped it. FIXME: a fault-safe copy
        // into lwIP's segments would also cover a wait for lwIP's core lock.
        if (!kernel::access_ok(reinterpret_cast<u64>(buf) + done, n - done, false))
            return done ? static_cast<long>(done) : -EFAULT;
    }
    return static_cast<long>(done);
}

bool InetSocket::eof_by_reset() const
{
    return events_of(state).errevent && conn && netconn_err(conn) != ERR_OK;
}

long InetSocket::recv_udp(void* buf, std::size_t n, int flags, struct sockaddr_in* from, bool* truncated)
{
    bool nonblock = nonblocking() || (flags & MSG_DONTWAIT);
    for (;;) {
        if (!rx_netbuf) {
            struct netbuf* nb = nullptr;
            err_t e = netconn_recv_udp_raw_netbuf_flags(conn, &nb, NETCONN_DONTBLOCK);
            if (e == ERR_OK && nb)
                rx_netbuf = nb;
            else if (e != ERR_WOULDBLOCK)
                return errno_of(e);
        }
        if (rx_netbuf)
            break;
        if (nonblock)
            return -EAGAIN;
        long w = wait_until([this] { return readable_now(); }, rcvtimeo_ns);
        if (w < 0)
            return w;
    }
    u16 len = netbuf_len(rx_netbuf);
    std::size_t take = n < len ? n : len;
    if (!pbuf_copy_out(rx_netbuf->p, buf, take, 0))
        return -EFAULT; // the datagram stays queued
    *truncated = take < len;
    if (from) {
        *from = {};
        from->sin_family = AF_INET;
        from->sin_port = lwip_htons(netbuf_fromport(rx_netbuf));
        from->sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(netbuf_fromaddr(rx_netbuf)));
    }
    long r = static_cast<long>((flags & MSG_TRUNC) ? len : take);
    if (!(flags & MSG_PEEK)) {
        netbuf_delete(rx_netbuf);
        rx_netbuf = nullptr;
    }
    return r;
}

long InetSocket::send_udp(const void* buf, std::size_t n, const struct sockaddr_in* to)
{
    if (n > 65507)
        return -EMSGSIZE;
    struct netbuf* nb = netbuf_new();
    if (!nb)
        return -ENOBUFS;
    if (netbuf_ref(nb, buf, static_cast<u16>(n)) != ERR_OK) {
        netbuf_delete(nb);
        return -ENOBUFS;
    }
    err_t e;
    if (to) {
        ip_addr_t addr;
        ip_addr_set_ip4_u32(&addr, to->sin_addr.s_addr);
        e = netconn_sendto(conn, nb, &addr, lwip_ntohs(to->sin_port));
    } else {
        e = netconn_send(conn, nb);
    }
    netbuf_delete(nb);
    return e == ERR_OK ? static_cast<long>(n) : errno_of(e);
}

long InetSocket::read(void* buf, std::size_t n)
{
    if (type == SOCK_STREAM)
        return recv_tcp(buf, n, 0);
    bool truncated = false;
    return recv_udp(buf, n, 0, nullptr, &truncated);
}

long InetSocket::write(const void* buf, std::size_t n)
{
    if (type == SOCK_STREAM)
        return send_tcp(buf, n, 0);
    return send_udp(buf, n, nullptr);
}

long InetSocket::ioctl(unsigned long request, long arg)
{
    if (request == FIONREAD) {
        int n = 0;
        if (rx_pbuf)
            n = rx_pbuf->tot_len - rx_offset;
        else if (rx_netbuf)
            n = netbuf_len(rx_netbuf);
#if LWIP_SO_RCVBUF
        else if (type == SOCK_DGRAM && conn)
            n = conn->recv_avail;
#endif
        return write_user(arg, n);
    }
    return File::ioctl(request, arg);
}

void InetSocket::on_event()
{
    kernel::wake_all(waiters);
    notify(poll());
}

// --------------------------------------------------------------------------------- syscalls

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
        set_send_event(s->state, true);
    }
    if (extra & SOCK_NONBLOCK)
        s->flags |= O_NONBLOCK;
    return fd_install(s, extra & SOCK_CLOEXEC);
}

long sys_bind(long fd, long addr, long len)
{
    long err = 0;
    InetSocket* s = inet_socket_of(fd, &err);
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
    InetSocket* s = inet_socket_of(fd, &err);
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
    InetSocket* s = inet_socket_of(fd, &err);
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
    set_send_event(child->state, true); // an accepted connection can send
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
    if (long r = addr ? put_sockaddr(addr, lenp, &peer, sizeof(peer)) : 0) {
        (void)fd_close(nfd);
        return r;
    }
    return nfd;
}

long sys_accept(long fd, long addr, long lenp) { return sys_accept4(fd, addr, lenp, 0); }

long sys_connect(long fd, long addr, long len)
{
    long err = 0;
    InetSocket* s = inet_socket_of(fd, &err);
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
    if (e == ERR_OK)
        set_send_event(s->state, true);
    return errno_of(e);
}

// A non-blocking connect finishes when lwIP reports the connection writable or failed.
void settle_connect(InetSocket* s)
{
    if (!s->connecting)
        return;
    ConnEvents ev = events_of(s->state);
    if (ev.sendevent || ev.errevent) {
        s->connecting = false;
        netconn_set_nonblocking(s->conn, 0);
        err_t e = netconn_err(s->conn);
        if (e != ERR_OK) {
            s->pending_error = e == ERR_RST || e == ERR_ABRT || e == ERR_CLSD ? -ECONNREFUSED : errno_of(e);
            set_error_event(s->state, true);
        }
    }
}

// ------------------------------------------------------------- the calls every socket answers

long InetSocket::recv(void* buf, std::size_t n, int flags, struct sockaddr_in* from, bool* truncated)
{
    if (type == SOCK_STREAM) {
        settle_connect(this);
        return recv_tcp(buf, n, flags);
    }
    return recv_udp(buf, n, flags, from, truncated);
}

long InetSocket::send(const void* buf, std::size_t n, int flags, const struct sockaddr_in* to)
{
    if (type == SOCK_STREAM) {
        settle_connect(this);
        if (connecting)
            return -EAGAIN;
        return send_tcp(buf, n, flags);
    }
    return send_udp(buf, n, to);
}

long InetSocket::shutdown(int how)
{
    if (type == SOCK_STREAM && (listening || !state || (!events_of(state).sendevent && !eof)))
        return -ENOTCONN;
    bool rd = how != SHUT_WR, wr = how != SHUT_RD;
    if (type == SOCK_STREAM) {
        err_t e = netconn_shutdown(conn, rd, wr);
        if (e != ERR_OK && e != ERR_CONN)
            return errno_of(e);
    }
    rd_shut |= rd;
    wr_shut |= wr;
    on_event();
    return 0;
}

long InetSocket::name(long addr, long lenp, bool local)
{
    ip_addr_t a;
    u16_t port = 0;
    err_t e = netconn_getaddr(conn, &a, &port, local ? 1 : 0);
    struct sockaddr_in in {};
    in.sin_family = AF_INET;
    if (e == ERR_OK) {
        in.sin_port = lwip_htons(port);
        in.sin_addr.s_addr = ip4_addr_get_u32(ip_2_ip4(&a));
    } else if (!local) {
        return -ENOTCONN;
    }
    return put_sockaddr(addr, lenp, &in, sizeof(in));
}

} // namespace atl::libos
