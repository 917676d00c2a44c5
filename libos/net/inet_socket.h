// SPDX-License-Identifier: MIT
#pragma once

// What the inet socket files share (inet_socket.cpp, inet_options.cpp): the socket file, the
// connection state lwIP's callback keeps for it, lwIP's errors as errno, IPv4 addresses.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/signal/signal.h>

#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/time.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

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

// lwIP's err_t as errno (lwip/err.h; the mapping of lwIP's own sockets.c).
long errno_of(err_t e);

class InetSocket;

// lwIP reports events for a connection before the application may have a socket for it (an
// accepted connection's first data arrives before accept()): the counts live here, keyed by
// the netconn, and a socket attaches to them.
struct ConnState {
    ConnState* next;
    struct netconn* conn;
    InetSocket* socket;
    int rcvevent;
    bool sendevent;
    bool errevent;
};

// The state of connection C, made on first use, and its end (the netconn is gone).
ConnState* state_for(struct netconn* c);
void drop_state(const struct netconn* c);

class InetSocket final : public File {
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

    ~InetSocket() override
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

// The inet socket descriptor FD is, or nullptr with *err = -EBADF or -ENOTSOCK.
InetSocket* socket_of(long fd, long* err);
// A non-blocking connect finishes when lwIP reports the connection writable or failed.
void settle_connect(InetSocket* s);

// An IPv4 address from the application (-EFAULT, -EINVAL, -EAFNOSUPPORT), and one written
// back with Linux's truncation rule (*len becomes the full size).
long read_sockaddr(long addr, long len, struct sockaddr_in* out);
long write_sockaddr(const struct sockaddr_in& in, long addr, long lenp);

// The inet socket calls (inet_socket.cpp, inet_options.cpp), and the inet side of those every
// socket shares (socket.cpp routes them): FD is not yet known to be an inet socket.
long sys_socket(long domain, long type, long protocol);
long sys_bind(long fd, long addr, long len);
long sys_listen(long fd, long backlog);
long sys_accept4(long fd, long addr, long lenp, long flags);
long sys_accept(long fd, long addr, long lenp);
long sys_connect(long fd, long addr, long len);
long inet_recv(long fd, void* buf, std::size_t n, int flags, struct sockaddr_in* from, bool* truncated);
long inet_send(long fd, const void* buf, std::size_t n, int flags, const struct sockaddr_in* to);
long inet_shutdown(long fd, long how); // HOW already checked
long inet_setsockopt(long fd, long level, long name, long val, long len);
long inet_getsockopt(long fd, long level, long name, long val, long lenp);
long inet_name(long fd, long addr, long lenp, bool local); // getsockname, getpeername

} // namespace atl::libos
