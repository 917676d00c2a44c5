// SPDX-License-Identifier: MIT
// Sockets as descriptors: TCP and UDP over IPv4 on lwIP's netconn API, and AF_UNIX stream
// socket pairs in memory. Every socket operation is non-blocking at the netconn level; a
// blocking socket waits on its own wait queue, woken by lwIP's netconn callback, so waits
// are interruptible (EINTR), honour SO_RCVTIMEO/SO_SNDTIMEO, and poll/select/epoll see the
// same readiness through the file's hooks.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/net/socket_layer.h>
#include <libos/proc/credentials.h>
#include <libos/signal/signal.h>

#include <kernel/console.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/time.h>
#include <net/net.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>

extern "C" {
#include "lwip/api.h"
#include "lwip/ip4_addr.h"
#include "lwip/netbuf.h"
#include "lwip/priv/tcpip_priv.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"
}

namespace atl::libos {

namespace {

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

class Socket;

// lwIP reports events for a connection before the application may have a socket for it (an
// accepted connection's first data arrives before accept()): the counts live here, keyed by
// the netconn, and a socket attaches to them.
struct ConnState {
    ConnState* next;
    struct netconn* conn;
    Socket* socket;
    int rcvevent;
    bool sendevent;
    bool errevent;
};

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

void event_callback(struct netconn* conn, enum netconn_evt evt, u16_t len);

class Socket final : public File {
public:
    int domain = AF_INET;
    int type = SOCK_STREAM;
    struct netconn* conn = nullptr;
    ConnState* state = nullptr;
    struct pbuf* rx_pbuf = nullptr; // TCP data taken from lwIP and not read yet
    u16 rx_offset = 0;
    struct netbuf* rx_netbuf = nullptr; // a UDP datagram kept by MSG_PEEK
    bool eof = false;
    bool listening = false;
    bool connecting = false;
    bool rd_shut = false, wr_shut = false;
    long pending_error = 0; // SO_ERROR
    int rcvbuf = 128 * 1024, sndbuf = 128 * 1024;
    // Options stored and reported whose effect lwIP has no place for: IP_RECVERR (lwIP hands
    // no ICMP errors to sockets, so nothing is ever queued), and TCP performance hints (cork,
    // quick ACKs, deferred accept, fast open: the bytes sent and received are the same).
    bool recverr = false;
    bool cork = false, quickack = true;
    int defer_accept = 0, fastopen = 0;
    u64 rcvtimeo_ns = 0, sndtimeo_ns = 0;
    struct linger linger {};
    WaitQueue waiters;
    u64 ino = 0;

    ~Socket() override
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
            kernel::IrqState s = kernel::irq_save();
            drop_state(conn);
            kernel::irq_restore(s);
        }
    }

    bool readable_now() const
    {
        if (rx_pbuf || rx_netbuf || eof || rd_shut)
            return true;
        return state && (state->rcvevent > 0 || state->errevent);
    }

    u32 poll() override
    {
        u32 ev = 0;
        if (readable_now())
            ev |= POLLIN | POLLRDNORM;
        if (listening)
            return ev;
        bool writable = type == SOCK_DGRAM || (state && state->sendevent && !connecting);
        if (writable && !wr_shut)
            ev |= POLLOUT | POLLWRNORM;
        if (state && state->errevent)
            ev |= POLLERR;
        if (eof && (wr_shut || (state && state->errevent)))
            ev |= POLLHUP;
        if (eof)
            ev |= POLLRDHUP;
        return ev;
    }

    // Waits for `ready` (a readiness test), the timeout, or a signal.
    template <typename Ready>
    long wait_until(Ready ready, u64 timeout_ns)
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

    long take_error()
    {
        long e = pending_error;
        pending_error = 0;
        if (!e && state && state->errevent && conn) {
            e = errno_of(netconn_err(conn));
            state->errevent = false;
        }
        return e;
    }

    long recv_tcp(void* buf, std::size_t n, int flags)
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
                pbuf_copy_partial(rx_pbuf, out + done, take, rx_offset);
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

    long send_tcp(const void* buf, std::size_t n, int flags)
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
            kernel::IrqState s = kernel::irq_save();
            if (state)
                state->sendevent = false;
            kernel::irq_restore(s);
            long w = wait_until([this] { return (state && (state->sendevent || state->errevent)); }, sndtimeo_ns);
            if (w < 0)
                return done ? static_cast<long>(done) : w;
        }
        return static_cast<long>(done);
    }

    bool eof_by_reset() const { return state && state->errevent && conn && netconn_err(conn) != ERR_OK; }

    long recv_udp(void* buf, std::size_t n, int flags, struct sockaddr_in* from, bool* truncated)
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
        netbuf_copy(rx_netbuf, buf, static_cast<u16>(take));
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

    long send_udp(const void* buf, std::size_t n, const struct sockaddr_in* to)
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

    long read(void* buf, std::size_t n) override
    {
        if (type == SOCK_STREAM)
            return recv_tcp(buf, n, 0);
        bool truncated = false;
        return recv_udp(buf, n, 0, nullptr, &truncated);
    }

    long write(const void* buf, std::size_t n) override
    {
        if (type == SOCK_STREAM)
            return send_tcp(buf, n, 0);
        return send_udp(buf, n, nullptr);
    }

    long ioctl(unsigned long request, long arg) override
    {
        if (request == FIONREAD) {
            if (!user_ok(arg, sizeof(int)))
                return -EFAULT;
            int n = 0;
            if (rx_pbuf)
                n = rx_pbuf->tot_len - rx_offset;
            else if (rx_netbuf)
                n = netbuf_len(rx_netbuf);
#if LWIP_SO_RCVBUF
            else if (type == SOCK_DGRAM && conn)
                n = conn->recv_avail;
#endif
            *reinterpret_cast<int*>(arg) = n;
            return 0;
        }
        return File::ioctl(request, arg);
    }

    long stat(struct stat* st) override
    {
        *st = {};
        st->st_mode = S_IFSOCK | 0777;
        st->st_ino = ino;
        st->st_nlink = 1;
        st->st_blksize = 4096;
        return 0;
    }

    void describe(char* buf, std::size_t cap) override { std::snprintf(buf, cap, "socket:[%llu]", static_cast<unsigned long long>(ino)); }
    FileKind kind() const override { return FileKind::Socket; }

    void on_event()
    {
        kernel::wake_all(waiters);
        notify(poll());
    }
};

u64 s_next_socket_ino = 1 << 26;

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

Socket* socket_of(long fd, long* err)
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
    return static_cast<Socket*>(f);
}

Socket* new_socket(int type, struct netconn* conn)
{
    auto* s = kernel::make<Socket>();
    if (!s)
        return nullptr;
    s->type = type;
    s->conn = conn;
    s->flags = O_RDWR;
    s->ino = s_next_socket_ino++;
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

// ------------------------------------------------------------------ AF_UNIX socket pairs

// Linux's numbers for AF_UNIX (net/core/sock.c): net.core.wmem_default/rmem_default and
// _max, and the smallest buffers (2 * (2048 + sizeof(struct sk_buff)) for sending, half that
// for receiving).
constexpr int k_unix_default_buf = 212992;
constexpr int k_unix_max_buf = 212992;
constexpr int k_unix_min_sndbuf = 4608;
constexpr int k_unix_min_rcvbuf = 2304;
// A socket timeout: forever (Linux's MAX_SCHEDULE_TIMEOUT, reported as 0), or nanoseconds;
// 0 means no waiting at all (what a negative timeout sets on Linux).
constexpr u64 k_forever = ~u64(0);

class UnixSocket final : public File {
public:
    static constexpr std::size_t k_capacity = 65536;
    char* ring = nullptr;
    std::size_t head = 0, size = 0;
    UnixSocket* peer = nullptr;
    WaitQueue waiters;
    bool rd_shut = false, wr_shut = false;
    int type = SOCK_STREAM;
    u64 ino = 0;

    // SOL_SOCKET options, as Linux keeps them for AF_UNIX. The buffer sizes are stored and
    // reported (doubled, as Linux reports them); the ring stays k_capacity.
    int sndbuf = k_unix_default_buf, rcvbuf = k_unix_default_buf;
    int rcvlowat = 1;
    int priority = 0;
    u32 flag_bits = 0; // bit n: SOL_SOCKET boolean option n (SO_KEEPALIVE, SO_PASSCRED, ...)
    bool linger_on = false;
    int linger_s = 0;
    u64 rcvtimeo = k_forever, sndtimeo = k_forever;
    struct ucred peer_cred {}; // who made the pair (SO_PEERCRED)
    // The credentials of the data's writer, for SCM_CREDENTIALS (one set for the whole ring:
    // every writer in this one process has the same pid, and the ids of the last write).
    struct ucred rx_cred {};
    bool rx_has_cred = false;

    ~UnixSocket() override { kernel::kfree(ring); }

    bool flag(int option) const { return flag_bits & (1u << option); }

    u32 poll() override
    {
        u32 ev = 0;
        if (size || !peer || peer->wr_shut || rd_shut)
            ev |= POLLIN | POLLRDNORM;
        if (peer && peer->size < k_capacity && !wr_shut)
            ev |= POLLOUT | POLLWRNORM;
        if (!peer)
            ev |= POLLHUP;
        return ev;
    }

    long read(void* buf, std::size_t n) override { return recv(buf, n, 0); }
    long write(const void* buf, std::size_t n) override { return send(buf, n, 0); }

    // Linux's unix_stream_read_generic: wait until SO_RCVLOWAT bytes (all N with MSG_WAITALL)
    // are there; end of stream, no waiting (O_NONBLOCK, MSG_DONTWAIT, a zero timeout), the
    // timeout or a signal end the wait with what there is, else EAGAIN or EINTR.
    long recv(void* buf, std::size_t n, int flags)
    {
        if (flags & MSG_OOB)
            return -EOPNOTSUPP;
        if (n == 0)
            return 0;
        std::size_t target = (flags & MSG_WAITALL) ? n : (static_cast<std::size_t>(rcvlowat) < n ? static_cast<std::size_t>(rcvlowat) : n);
        bool nowait = nonblocking() || (flags & MSG_DONTWAIT) || rcvtimeo == 0;
        u64 deadline = nowait || rcvtimeo == k_forever ? 0 : kernel::monotonic_ns() + rcvtimeo;
        long err = 0;
        while (size < target) {
            if (!peer || peer->wr_shut || rd_shut)
                break;
            if (nowait) {
                err = -EAGAIN;
                break;
            }
            kernel::WakeReason r = kernel::block(&waiters, deadline, true);
            if (r == kernel::WakeReason::Interrupted) {
                err = -EINTR;
                break;
            }
            if (r == kernel::WakeReason::TimedOut) {
                err = -EAGAIN;
                break;
            }
        }
        if (size == 0)
            return err;
        std::size_t take = n < size ? n : size;
        for (std::size_t i = 0; i < take; ++i)
            static_cast<char*>(buf)[i] = ring[(head + i) % k_capacity];
        if (flags & MSG_PEEK)
            return static_cast<long>(take);
        head = (head + take) % k_capacity;
        size -= take;
        if (peer) {
            kernel::wake_all(peer->waiters);
            peer->notify(POLLOUT);
        }
        return static_cast<long>(take);
    }

    long send(const void* buf, std::size_t n, int flags)
    {
        if (flags & MSG_OOB)
            return -EOPNOTSUPP;
        bool nowait = nonblocking() || (flags & MSG_DONTWAIT) || sndtimeo == 0;
        u64 deadline = nowait || sndtimeo == k_forever ? 0 : kernel::monotonic_ns() + sndtimeo;
        std::size_t done = 0;
        while (done < n) {
            if (!peer || wr_shut || peer->rd_shut) {
                if (!(flags & MSG_NOSIGNAL))
                    raise_signal(SIGPIPE);
                return done ? static_cast<long>(done) : -EPIPE;
            }
            std::size_t room = k_capacity - peer->size;
            if (room == 0) {
                if (nowait)
                    return done ? static_cast<long>(done) : -EAGAIN;
                kernel::WakeReason r = kernel::block(&waiters, deadline, true);
                if (r == kernel::WakeReason::Interrupted)
                    return done ? static_cast<long>(done) : -EINTR;
                if (r == kernel::WakeReason::TimedOut)
                    return done ? static_cast<long>(done) : -EAGAIN;
                continue;
            }
            std::size_t put = n - done < room ? n - done : room;
            for (std::size_t i = 0; i < put; ++i)
                peer->ring[(peer->head + peer->size + i) % k_capacity] = static_cast<const char*>(buf)[done + i];
            peer->size += put;
            done += put;
            // Linux attaches the writer's pid and real ids when either end asked for them.
            if (flag(SO_PASSCRED) || peer->flag(SO_PASSCRED)) {
                peer->rx_cred = { static_cast<pid_t>(k_pid), creds().ruid, creds().rgid };
                peer->rx_has_cred = true;
            }
            kernel::wake_all(peer->waiters);
            peer->notify(POLLIN);
        }
        return static_cast<long>(done);
    }

    void on_last_close() override
    {
        if (peer) {
            peer->peer = nullptr;
            kernel::wake_all(peer->waiters);
            peer->notify(POLLHUP | POLLIN);
        }
    }

    long stat(struct stat* st) override
    {
        *st = {};
        st->st_mode = S_IFSOCK | 0777;
        st->st_ino = ino;
        st->st_nlink = 1;
        return 0;
    }
    void describe(char* buf, std::size_t cap) override { std::snprintf(buf, cap, "socket:[%llu]", static_cast<unsigned long long>(ino)); }
    FileKind kind() const override { return FileKind::UnixSocket; }
};

// SO_RCVTIMEO/SO_SNDTIMEO from a struct timeval (net/core/sock.c, sock_set_timeout).
long read_timeout(long val, long len, u64* out)
{
    if (len < static_cast<long>(sizeof(struct timeval)))
        return -EINVAL;
    if (!user_in(val, sizeof(struct timeval)))
        return -EFAULT;
    struct timeval tv;
    std::memcpy(&tv, reinterpret_cast<const void*>(val), sizeof(tv));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
        return -EDOM;
    if (tv.tv_sec < 0)
        *out = 0; // Linux: no waiting at all
    else if (tv.tv_sec == 0 && tv.tv_usec == 0)
        *out = k_forever;
    else
        *out = static_cast<u64>(tv.tv_sec) * 1000000000u + static_cast<u64>(tv.tv_usec) * 1000u;
    return 0;
}

// The boolean SOL_SOCKET options an AF_UNIX socket keeps (stored, reported).
bool unix_bool_option(long name)
{
    switch (name) {
    case SO_DEBUG:
    case SO_REUSEADDR:
    case SO_KEEPALIVE:
    case SO_BROADCAST:
    case SO_OOBINLINE:
    case SO_DONTROUTE:
    case SO_PASSCRED: return true;
    default: return false;
    }
}

long unix_setsockopt(UnixSocket* u, long level, long name, long val, long len)
{
    if (level != SOL_SOCKET)
        return -EOPNOTSUPP; // AF_UNIX has no other level
    if (static_cast<int>(len) < 0 || len < static_cast<long>(sizeof(int)))
        return -EINVAL;
    if (!user_in(val, sizeof(int)))
        return -EFAULT;
    int v;
    std::memcpy(&v, reinterpret_cast<const void*>(val), sizeof(v));
    if (unix_bool_option(name)) {
        if (name == SO_DEBUG && v && !capable(Capability::NetAdmin))
            return -EACCES;
        if (v)
            u->flag_bits |= 1u << name;
        else
            u->flag_bits &= ~(1u << name);
        return 0;
    }
    switch (name) {
    case SO_SNDBUF:
    case SO_SNDBUFFORCE:
    case SO_RCVBUF:
    case SO_RCVBUFFORCE: {
        bool force = name == SO_SNDBUFFORCE || name == SO_RCVBUFFORCE;
        bool send = name == SO_SNDBUF || name == SO_SNDBUFFORCE;
        if (force && !capable(Capability::NetAdmin))
            return -EPERM;
        // Unsigned comparisons, as Linux makes them: a negative size is the largest.
        u32 want = static_cast<u32>(v);
        if (!force && want > static_cast<u32>(k_unix_max_buf))
            want = k_unix_max_buf;
        if (force && v < 0)
            want = 0;
        if (want > INT_MAX / 2)
            want = INT_MAX / 2;
        int doubled = static_cast<int>(want) * 2;
        int min = send ? k_unix_min_sndbuf : k_unix_min_rcvbuf;
        (send ? u->sndbuf : u->rcvbuf) = doubled > min ? doubled : min;
        return 0;
    }
    case SO_RCVLOWAT:
        u->rcvlowat = v < 0 ? INT_MAX : (v ? v : 1);
        return 0;
    case SO_PRIORITY:
        if ((v < 0 || v > 6) && !capable(Capability::NetAdmin))
            return -EPERM;
        u->priority = v;
        return 0;
    case SO_LINGER: {
        if (len < static_cast<long>(sizeof(struct linger)))
            return -EINVAL;
        if (!user_in(val, sizeof(struct linger)))
            return -EFAULT;
        struct linger l;
        std::memcpy(&l, reinterpret_cast<const void*>(val), sizeof(l));
        u->linger_on = l.l_onoff != 0;
        if (l.l_onoff)
            u->linger_s = l.l_linger;
        return 0;
    }
    case SO_RCVTIMEO:
    case SO_SNDTIMEO: return read_timeout(val, len, name == SO_RCVTIMEO ? &u->rcvtimeo : &u->sndtimeo);
    case SO_REUSEPORT: return -EOPNOTSUPP; // Linux 6.x: only for IP sockets
    default: return -ENOPROTOOPT;
    }
}

long unix_getsockopt(UnixSocket* u, long level, long name, long val, long lenp)
{
    if (level != SOL_SOCKET)
        return -EOPNOTSUPP;
    if (!user_ok(lenp, sizeof(socklen_t)))
        return -EFAULT;
    int cap = static_cast<int>(*reinterpret_cast<socklen_t*>(lenp));
    if (cap < 0)
        return -EINVAL;
    // Copies min(cap, size) bytes of the value, as Linux does, and says how many.
    auto put = [&](const void* v, std::size_t size) -> long {
        std::size_t n = static_cast<std::size_t>(cap) < size ? static_cast<std::size_t>(cap) : size;
        if (!user_ok(val, n))
            return -EFAULT;
        std::memcpy(reinterpret_cast<void*>(val), v, n);
        *reinterpret_cast<socklen_t*>(lenp) = static_cast<socklen_t>(n);
        return 0;
    };
    auto put_int = [&](int v) { return put(&v, sizeof(v)); };
    auto put_timeout = [&](u64 ns) {
        struct timeval tv {};
        if (ns != k_forever) {
            tv.tv_sec = static_cast<time_t>(ns / 1000000000u);
            tv.tv_usec = static_cast<suseconds_t>((ns % 1000000000u) / 1000);
        }
        return put(&tv, sizeof(tv));
    };
    if (unix_bool_option(name))
        return put_int(u->flag(static_cast<int>(name)) ? 1 : 0);
    switch (name) {
    case SO_TYPE: return put_int(u->type);
    case SO_DOMAIN: return put_int(AF_UNIX);
    case SO_PROTOCOL: return put_int(0);
    case SO_ERROR: return put_int(0);
    case SO_ACCEPTCONN: return put_int(0);
    case SO_SNDBUF: return put_int(u->sndbuf);
    case SO_RCVBUF: return put_int(u->rcvbuf);
    case SO_RCVLOWAT: return put_int(u->rcvlowat);
    case SO_SNDLOWAT: return put_int(1);
    case SO_PRIORITY: return put_int(u->priority);
    case SO_REUSEPORT: return put_int(0);
    case SO_LINGER: {
        struct linger l { u->linger_on ? 1 : 0, u->linger_s };
        return put(&l, sizeof(l));
    }
    case SO_RCVTIMEO: return put_timeout(u->rcvtimeo);
    case SO_SNDTIMEO: return put_timeout(u->sndtimeo);
    case SO_PEERCRED: return put(&u->peer_cred, sizeof(u->peer_cred));
    default: return -ENOPROTOOPT;
    }
}

// recvmsg's SCM_CREDENTIALS for a socket with SO_PASSCRED (net/core/scm.c, put_cmsg): what
// fits in the control buffer, MSG_CTRUNC when it is too small. Returns -EFAULT or the
// control bytes used.
long unix_put_credentials(UnixSocket* u, struct msghdr* msg)
{
    struct ucred c = u->rx_has_cred ? u->rx_cred : ucred { 0, 65534, 65534 }; // overflow ids: none sent
    std::size_t room = msg->msg_control ? msg->msg_controllen : 0;
    if (room < sizeof(struct cmsghdr)) {
        msg->msg_flags |= MSG_CTRUNC;
        return 0;
    }
    std::size_t len = CMSG_LEN(sizeof(c));
    if (room < len) {
        msg->msg_flags |= MSG_CTRUNC;
        len = room;
    }
    if (!user_ok(msg->msg_control, len))
        return -EFAULT;
    struct cmsghdr h {};
    h.cmsg_len = len;
    h.cmsg_level = SOL_SOCKET;
    h.cmsg_type = SCM_CREDENTIALS;
    auto* out = static_cast<unsigned char*>(msg->msg_control);
    std::memcpy(out, &h, sizeof(h));
    std::memcpy(out + sizeof(h), &c, len - sizeof(h));
    std::size_t used = CMSG_SPACE(sizeof(c));
    return static_cast<long>(used < room ? used : room);
}

} // namespace

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
    Socket* s = new_socket(base, conn);
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

long sys_socketpair(long domain, long type, long protocol, long sv)
{
    if (domain != AF_UNIX)
        return domain == AF_INET ? -EOPNOTSUPP : -EAFNOSUPPORT;
    int base = static_cast<int>(type) & 0xf;
    int extra = static_cast<int>(type) & ~0xf;
    if (base != SOCK_STREAM)
        return -EPROTONOSUPPORT; // FIXME: SOCK_DGRAM / SOCK_SEQPACKET pairs
    if (protocol != 0)
        return -EPROTONOSUPPORT;
    if (!user_ok(sv, 2 * sizeof(int)))
        return -EFAULT;
    auto* a = kernel::make<UnixSocket>();
    auto* b = kernel::make<UnixSocket>();
    if (a)
        a->ring = static_cast<char*>(kernel::kmalloc(UnixSocket::k_capacity));
    if (b)
        b->ring = static_cast<char*>(kernel::kmalloc(UnixSocket::k_capacity));
    if (!a || !b || !a->ring || !b->ring) {
        delete a;
        delete b;
        return -ENOMEM;
    }
    a->peer = b;
    b->peer = a;
    a->peer_cred = b->peer_cred = { static_cast<pid_t>(k_pid), creds().euid, creds().egid };
    a->ino = s_next_socket_ino++;
    b->ino = s_next_socket_ino++;
    a->flags = b->flags = O_RDWR | ((extra & SOCK_NONBLOCK) ? O_NONBLOCK : 0);
    int fa = fd_install(a, extra & SOCK_CLOEXEC);
    if (fa < 0) {
        delete b;
        return fa;
    }
    int fb = fd_install(b, extra & SOCK_CLOEXEC);
    if (fb < 0) {
        (void)fd_close(fa);
        return fb;
    }
    reinterpret_cast<int*>(sv)[0] = fa;
    reinterpret_cast<int*>(sv)[1] = fb;
    return 0;
}

long sys_bind(long fd, long addr, long len)
{
    long err = 0;
    Socket* s = socket_of(fd, &err);
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
    Socket* s = socket_of(fd, &err);
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
    Socket* s = socket_of(fd, &err);
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
    Socket* child = new_socket(SOCK_STREAM, nc);
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
    Socket* s = socket_of(fd, &err);
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

namespace {

// A non-blocking connect finishes when lwIP reports the connection writable or failed.
void settle_connect(Socket* s)
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

long do_recv(long fd, void* buf, std::size_t n, int flags, struct sockaddr_in* from, bool* truncated)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (f->kind() == FileKind::UnixSocket)
        return static_cast<UnixSocket*>(f)->recv(buf, n, flags);
    long err = 0;
    Socket* s = socket_of(fd, &err);
    if (!s)
        return err;
    if (s->type == SOCK_STREAM) {
        settle_connect(s);
        return s->recv_tcp(buf, n, flags);
    }
    return s->recv_udp(buf, n, flags, from, truncated);
}

long do_send(long fd, const void* buf, std::size_t n, int flags, const struct sockaddr_in* to)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (f->kind() == FileKind::UnixSocket)
        return static_cast<UnixSocket*>(f)->send(buf, n, flags);
    long err = 0;
    Socket* s = socket_of(fd, &err);
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

} // namespace

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
    if (f && f->kind() == FileKind::UnixSocket && static_cast<UnixSocket*>(f)->flag(SO_PASSCRED)) {
        long used = unix_put_credentials(static_cast<UnixSocket*>(f), msg);
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
    if (f->kind() == FileKind::UnixSocket) {
        auto* u = static_cast<UnixSocket*>(f);
        if (how != SHUT_WR)
            u->rd_shut = true;
        if (how != SHUT_RD)
            u->wr_shut = true;
        if (u->peer) {
            kernel::wake_all(u->peer->waiters);
            u->peer->notify(POLLIN | POLLHUP);
        }
        return 0;
    }
    long err = 0;
    Socket* s = socket_of(fd, &err);
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

namespace {

struct TcpOptionCall {
    struct tcpip_api_call_data base;
    struct netconn* conn;
    int level;
    int option;
    int value;
    bool set;
};

// Options on the protocol control block run in the stack's context (core lock).
err_t pcb_option(struct tcpip_api_call_data* d)
{
    auto* c = reinterpret_cast<TcpOptionCall*>(d);
    struct netconn* conn = c->conn;
    if (!conn->pcb.ip)
        return ERR_CONN;
    if (c->level == SOL_SOCKET) {
        switch (c->option) {
        case SO_REUSEADDR:
    case SO_KEEPALIVE:
    case SO_BROADCAST: {
        u8_t bit = c->option == SO_REUSEADDR ? SOF_REUSEADDR : c->option == SO_KEEPALIVE ? SOF_KEEPALIVE : SOF_BROADCAST;
        if (c->set) {
            if (c->value)
                ip_set_option(conn->pcb.ip, bit);
            else
                ip_reset_option(conn->pcb.ip, bit);
        }
        c->value = ip_get_option(conn->pcb.ip, bit) ? 1 : 0;
        return ERR_OK;
    }
        default:
            return ERR_ARG;
        }
    }
    if (c->level == IPPROTO_IP) {
        struct ip_pcb* ip = conn->pcb.ip;
        if (c->option == IP_TOS) {
            if (c->set) {
                int v = c->value & 0xff;
                if (NETCONNTYPE_GROUP(conn->type) == NETCONN_TCP) // TCP keeps its ECN bits (Linux)
                    v = (v & ~3) | (ip->tos & 3);
                ip->tos = static_cast<u8_t>(v);
            }
            c->value = ip->tos;
            return ERR_OK;
        }
        if (c->option == IP_TTL) {
            if (c->set)
                ip->ttl = static_cast<u8_t>(c->value == -1 ? IP_DEFAULT_TTL : c->value);
            c->value = ip->ttl;
            return ERR_OK;
        }
        return ERR_ARG;
    }
    switch (c->option) {
    case TCP_NODELAY:
        if (NETCONNTYPE_GROUP(conn->type) != NETCONN_TCP)
            return ERR_VAL;
        if (c->set) {
            if (c->value)
                tcp_nagle_disable(conn->pcb.tcp);
            else
                tcp_nagle_enable(conn->pcb.tcp);
        }
        c->value = tcp_nagle_disabled(conn->pcb.tcp) ? 1 : 0;
        return ERR_OK;
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
    case TCP_KEEPCNT:
        if (NETCONNTYPE_GROUP(conn->type) != NETCONN_TCP)
            return ERR_VAL;
        if (c->option == TCP_KEEPIDLE) {
            if (c->set)
                conn->pcb.tcp->keep_idle = static_cast<u32_t>(c->value) * 1000;
            c->value = static_cast<int>(conn->pcb.tcp->keep_idle / 1000);
        } else if (c->option == TCP_KEEPINTVL) {
            if (c->set)
                conn->pcb.tcp->keep_intvl = static_cast<u32_t>(c->value) * 1000;
            c->value = static_cast<int>(conn->pcb.tcp->keep_intvl / 1000);
        } else {
            if (c->set)
                conn->pcb.tcp->keep_cnt = static_cast<u32_t>(c->value);
            c->value = static_cast<int>(conn->pcb.tcp->keep_cnt);
        }
        return ERR_OK;
    default:
        return ERR_ARG;
    }
}

long pcb_call(Socket* s, int level, int option, int* value, bool set)
{
    TcpOptionCall c {};
    c.conn = s->conn;
    c.level = level;
    c.option = option;
    c.value = *value;
    c.set = set;
    err_t e = tcpip_api_call(pcb_option, &c.base);
    if (e == ERR_ARG || e == ERR_VAL)
        return -ENOPROTOOPT;
    if (e != ERR_OK)
        return errno_of(e);
    *value = c.value;
    return 0;
}

} // namespace

long sys_setsockopt(long fd, long level, long name, long val, long len)
{
    long err = 0;
    File* f = fd_get(static_cast<int>(fd));
    if (f && f->kind() == FileKind::UnixSocket)
        return unix_setsockopt(static_cast<UnixSocket*>(f), level, name, val, len);
    Socket* s = socket_of(fd, &err);
    if (!s)
        return err;
    if (len < 0 || !user_in(val, static_cast<std::size_t>(len)))
        return -EFAULT;
    int v = 0;
    auto int_value = [&]() -> long {
        if (len < static_cast<long>(sizeof(int)))
            return -EINVAL;
        std::memcpy(&v, reinterpret_cast<const void*>(val), sizeof(int));
        return 0;
    };
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR:
        case SO_KEEPALIVE:
        case SO_BROADCAST:
            if (long r = int_value())
                return r;
            return pcb_call(s, SOL_SOCKET, static_cast<int>(name), &v, true);
        case SO_REUSEPORT:
            return int_value(); // accepted: one process, nothing to balance between
        case SO_RCVBUF:
        case SO_SNDBUF:
            if (long r = int_value())
                return r;
            if (v < 256)
                v = 256;
            (name == SO_RCVBUF ? s->rcvbuf : s->sndbuf) = v;
#if LWIP_SO_RCVBUF
            if (name == SO_RCVBUF && s->type == SOCK_DGRAM)
                netconn_set_recvbufsize(s->conn, v);
#endif
            return 0;
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
            if (len < static_cast<long>(sizeof(struct timeval)))
                return -EINVAL;
            struct timeval tv;
            std::memcpy(&tv, reinterpret_cast<const void*>(val), sizeof(tv));
            if (tv.tv_usec < 0 || tv.tv_usec >= 1000000 || tv.tv_sec < 0)
                return -EDOM;
            u64 ns = static_cast<u64>(tv.tv_sec) * 1000000000u + static_cast<u64>(tv.tv_usec) * 1000u;
            (name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns) = ns;
            return 0;
        }
        case SO_LINGER:
            if (len < static_cast<long>(sizeof(struct linger)))
                return -EINVAL;
            std::memcpy(&s->linger, reinterpret_cast<const void*>(val), sizeof(struct linger));
            return 0; // FIXME: SO_LINGER with a zero timeout should reset on close
        default:
            return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_TCP) {
        if (s->type != SOCK_STREAM)
            return -ENOPROTOOPT;
        switch (name) {
        case TCP_NODELAY:
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
        case TCP_KEEPCNT:
            if (long r = int_value())
                return r;
            return pcb_call(s, IPPROTO_TCP, static_cast<int>(name), &v, true);
        case TCP_QUICKACK:
        case TCP_DEFER_ACCEPT:
        case TCP_FASTOPEN:
        case TCP_CORK:
            if (long r = int_value())
                return r;
            if (name == TCP_QUICKACK)
                s->quickack = v != 0;
            else if (name == TCP_CORK)
                s->cork = v != 0;
            else if (name == TCP_FASTOPEN)
                s->fastopen = v;
            else
                s->defer_accept = v < 0 ? 0 : v;
            return 0;
        default:
            return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_IP) {
        // Linux takes an int, or one byte when that is all there is (0 bytes: 0).
        if (len >= static_cast<long>(sizeof(int)))
            std::memcpy(&v, reinterpret_cast<const void*>(val), sizeof(int));
        else if (len >= 1)
            v = *reinterpret_cast<const unsigned char*>(val);
        switch (name) {
        case IP_TOS: return pcb_call(s, IPPROTO_IP, IP_TOS, &v, true);
        case IP_TTL:
            if (len < 1 || (v != -1 && (v < 1 || v > 255)))
                return -EINVAL;
            return pcb_call(s, IPPROTO_IP, IP_TTL, &v, true);
        case IP_RECVERR: s->recverr = v != 0; return 0;
        default:
            // IP_PKTINFO and the rest would change what recvmsg delivers: not offered.
            return -ENOPROTOOPT;
        }
    }
    return -ENOPROTOOPT;
}

long sys_getsockopt(long fd, long level, long name, long val, long lenp)
{
    long err = 0;
    if (File* f = fd_get(static_cast<int>(fd)); f && f->kind() == FileKind::UnixSocket)
        return unix_getsockopt(static_cast<UnixSocket*>(f), level, name, val, lenp);
    if (!user_ok(lenp, sizeof(socklen_t)))
        return -EFAULT;
    socklen_t cap = *reinterpret_cast<socklen_t*>(lenp);
    if (static_cast<int>(cap) < 0)
        return -EINVAL;
    auto put_int = [&](int v) -> long {
        std::size_t n = cap < sizeof(int) ? cap : sizeof(int);
        if (!user_ok(val, n))
            return -EFAULT;
        std::memcpy(reinterpret_cast<void*>(val), &v, n);
        *reinterpret_cast<socklen_t*>(lenp) = static_cast<socklen_t>(n);
        return 0;
    };
    Socket* s = socket_of(fd, &err);
    if (!s)
        return err;
    int v = 0;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_TYPE: return put_int(s->type);
        case SO_DOMAIN: return put_int(AF_INET);
        case SO_PROTOCOL: return put_int(s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
        case SO_ACCEPTCONN: return put_int(s->listening ? 1 : 0);
        case SO_ERROR:
            settle_connect(s);
            return put_int(static_cast<int>(-s->take_error()));
        case SO_RCVBUF: return put_int(s->rcvbuf * 2); // Linux reports double what was set
        case SO_SNDBUF: return put_int(s->sndbuf * 2);
        case SO_REUSEADDR:
        case SO_KEEPALIVE:
        case SO_BROADCAST: {
            long r = pcb_call(s, SOL_SOCKET, static_cast<int>(name), &v, false);
            return r < 0 ? r : put_int(v);
        }
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
            u64 ns = name == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns;
            struct timeval tv { static_cast<time_t>(ns / 1000000000u), static_cast<suseconds_t>((ns % 1000000000u) / 1000) };
            std::size_t n = cap < sizeof(tv) ? cap : sizeof(tv);
            if (!user_ok(val, n))
                return -EFAULT;
            std::memcpy(reinterpret_cast<void*>(val), &tv, n);
            *reinterpret_cast<socklen_t*>(lenp) = static_cast<socklen_t>(n);
            return 0;
        }
        case SO_LINGER: {
            std::size_t n = cap < sizeof(struct linger) ? cap : sizeof(struct linger);
            if (!user_ok(val, n))
                return -EFAULT;
            std::memcpy(reinterpret_cast<void*>(val), &s->linger, n);
            *reinterpret_cast<socklen_t*>(lenp) = static_cast<socklen_t>(n);
            return 0;
        }
        default:
            return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_TCP && s->type == SOCK_STREAM) {
        switch (name) {
        case TCP_NODELAY:
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
        case TCP_KEEPCNT: {
            long r = pcb_call(s, IPPROTO_TCP, static_cast<int>(name), &v, false);
            return r < 0 ? r : put_int(v);
        }
        case TCP_MAXSEG: return put_int(TCP_MSS);
        case TCP_CORK: return put_int(s->cork ? 1 : 0);
        case TCP_QUICKACK: return put_int(s->quickack ? 1 : 0);
        case TCP_DEFER_ACCEPT: return put_int(s->defer_accept);
        case TCP_FASTOPEN: return put_int(s->fastopen);
        default: return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_IP) {
        switch (name) {
        case IP_TOS:
        case IP_TTL: {
            long r = pcb_call(s, IPPROTO_IP, static_cast<int>(name), &v, false);
            if (r < 0)
                return r;
            break;
        }
        case IP_RECVERR: v = s->recverr ? 1 : 0; break;
        default: return -ENOPROTOOPT;
        }
        // Linux: a buffer shorter than an int gets one byte.
        if (cap > 0 && cap < sizeof(int) && v >= 0 && v <= 255) {
            if (!user_ok(val, 1))
                return -EFAULT;
            *reinterpret_cast<unsigned char*>(val) = static_cast<unsigned char>(v);
            *reinterpret_cast<socklen_t*>(lenp) = 1;
            return 0;
        }
        return put_int(v);
    }
    return -ENOPROTOOPT;
}

namespace {

long name_of(long fd, long addr, long lenp, bool local)
{
    long err = 0;
    File* f = fd_get(static_cast<int>(fd));
    if (f && f->kind() == FileKind::UnixSocket) {
        struct sockaddr_un un {};
        un.sun_family = AF_UNIX;
        if (!user_ok(lenp, sizeof(socklen_t)))
            return -EFAULT;
        socklen_t cap = *reinterpret_cast<socklen_t*>(lenp);
        std::size_t n = cap < sizeof(sa_family_t) ? cap : sizeof(sa_family_t);
        if (!user_ok(addr, n))
            return -EFAULT;
        std::memcpy(reinterpret_cast<void*>(addr), &un, n);
        *reinterpret_cast<socklen_t*>(lenp) = sizeof(sa_family_t);
        return 0;
    }
    Socket* s = socket_of(fd, &err);
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

} // namespace

long sys_getsockname(long fd, long addr, long lenp) { return name_of(fd, addr, lenp, true); }
long sys_getpeername(long fd, long addr, long lenp) { return name_of(fd, addr, lenp, false); }

} // namespace atl::libos

// ------------------------------------------------------------------ the layer's entry points
// (socket_layer.h: what the rest of the libOS reaches through weak references)

extern "C" long atoll_socket_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    using namespace atl::libos;
    switch (n) {
    case SYS_socket: return sys_socket(a1, a2, a3);
    case SYS_socketpair: return sys_socketpair(a1, a2, a3, a4);
    case SYS_bind: return sys_bind(a1, a2, a3);
    case SYS_listen: return sys_listen(a1, a2);
    case SYS_accept: return sys_accept(a1, a2, a3);
    case SYS_accept4: return sys_accept4(a1, a2, a3, a4);
    case SYS_connect: return sys_connect(a1, a2, a3);
    case SYS_sendto: return sys_sendto(a1, a2, a3, a4, a5, a6);
    case SYS_recvfrom: return sys_recvfrom(a1, a2, a3, a4, a5, a6);
    case SYS_sendmsg: return sys_sendmsg(a1, a2, a3);
    case SYS_recvmsg: return sys_recvmsg(a1, a2, a3);
    case SYS_shutdown: return sys_shutdown(a1, a2);
    case SYS_setsockopt: return sys_setsockopt(a1, a2, a3, a4, a5);
    case SYS_getsockopt: return sys_getsockopt(a1, a2, a3, a4, a5);
    case SYS_getsockname: return sys_getsockname(a1, a2, a3);
    case SYS_getpeername: return sys_getpeername(a1, a2, a3);
    default: return -ENOSYS;
    }
}

extern "C" const char* atoll_network_start(const atl::net::Config& config)
{
    using namespace atl::libos;
    atl::net::NetInfo info;
    if (const char* err = atl::net::net_init(config, &info))
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

extern "C" void atoll_network_stats() { atl::net::log_net_stats(); }

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
