// SPDX-License-Identifier: MIT
#pragma once

// What the inet socket files share (inet_socket.cpp, inet_options.cpp): the socket file, the
// connection state lwIP's callback keeps for it, lwIP's errors as errno, IPv4 addresses.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/net/socket.h>
#include <libos/signal/signal.h>

#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/lock.h>
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
// lwIP's thread writes them (its netconn callback), the socket's calls read them. Lock order:
// a leaf, taken inside the libOS's lock and inside lwIP's core lock.
extern kernel::SpinLock g_conn_lock;
struct ConnState {
    ConnState* next ATL_GUARDED_BY(g_conn_lock);
    struct netconn* conn; // set when made
    InetSocket* socket ATL_GUARDED_BY(g_conn_lock);
    int rcvevent ATL_GUARDED_BY(g_conn_lock);
    bool sendevent ATL_GUARDED_BY(g_conn_lock);
    bool errevent ATL_GUARDED_BY(g_conn_lock);
};

// The state of connection C, made on first use, and its end (the netconn is gone).
ConnState* state_for(struct netconn* c) ATL_REQUIRES(g_conn_lock);
void drop_state(const struct netconn* c) ATL_REQUIRES(g_conn_lock);

class InetSocket final : public Socket {
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

    ~InetSocket() override;

    u32 poll() override;
    long read(void* buf, std::size_t n) override;
    long write(const void* buf, std::size_t n) override;
    long ioctl(unsigned long request, long arg) override;
    FileKind kind() const override { return FileKind::InetSocket; }

    long recv(void* buf, std::size_t n, int flags, struct sockaddr_in* from, bool* truncated) override;
    long send(const void* buf, std::size_t n, int flags, const struct sockaddr_in* to) override;
    long shutdown(int how) override;
    long setsockopt(long level, long name, long val, long len) override; // inet_options.cpp
    long getsockopt(long level, long name, long val, long lenp) override; // inet_options.cpp
    long name(long addr, long lenp, bool local) override;

    bool readable_now() const;
    // The pending error (SO_ERROR), cleared: a stored one first, else lwIP's for the connection.
    long take_error();
    long recv_tcp(void* buf, std::size_t n, int flags);
    long send_tcp(const void* buf, std::size_t n, int flags);
    long recv_udp(void* buf, std::size_t n, int flags, struct sockaddr_in* from, bool* truncated);
    long send_udp(const void* buf, std::size_t n, const struct sockaddr_in* to);
    // Wakes the socket's waiters and tells poll/epoll what it is ready for.
    void on_event();
    // Waits for `ready` (a readiness test), the timeout, or a signal (inet_socket.cpp only).
    template <typename Ready>
    long wait_until(Ready ready, u64 timeout_ns);

private:
    bool eof_by_reset() const;
};

// The inet socket FD is, or nullptr with *err = -EBADF or -ENOTSOCK.
InetSocket* inet_socket_of(long fd, long* err);
// A non-blocking connect finishes when lwIP reports the connection writable or failed.
void settle_connect(InetSocket* s);

// An IPv4 address from the application (-EFAULT, -EINVAL, -EAFNOSUPPORT).
long read_sockaddr(long addr, long len, struct sockaddr_in* out);

// The calls only inet sockets answer (inet_socket.cpp).
long sys_socket(long domain, long type, long protocol);
long sys_bind(long fd, long addr, long len);
long sys_listen(long fd, long backlog);
long sys_accept4(long fd, long addr, long lenp, long flags);
long sys_accept(long fd, long addr, long lenp);
long sys_connect(long fd, long addr, long len);

} // namespace atl::libos
