// SPDX-License-Identifier: MIT
// AF_UNIX stream socket pairs (socketpair), in memory: each end a 64 KiB ring its peer writes
// into, and a Socket (libos/net/socket.h) the socket layer's common calls (net/socket.cpp)
// are made on. Linked with that layer, as the program reaches them only through socketpair().

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/ipc/unix_socket.h>
#include <libos/net/socket.h>
#include <libos/proc/credentials.h>
#include <libos/signal/signal.h>

#include <kernel/heap.h>
#include <kernel/time.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

namespace atl::libos {

namespace {

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

class UnixSocket final : public Socket {
public:
    static constexpr std::size_t k_capacity = 65536;
    char* ring = nullptr;
    std::size_t head = 0, size = 0;
    UnixSocket* peer = nullptr;
    WaitQueue waiters;
    bool rd_shut = false, wr_shut = false;
    int type = SOCK_STREAM;

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

    long read(void* buf, std::size_t n) override { return recv(buf, n, 0, nullptr, nullptr); }
    long write(const void* buf, std::size_t n) override { return send(buf, n, 0, nullptr); }

    // Linux's unix_stream_read_generic: wait until SO_RCVLOWAT bytes (all N with MSG_WAITALL)
    // are there; end of stream, no waiting (O_NONBLOCK, MSG_DONTWAIT, a zero timeout), the
    // timeout or a signal end the wait with what there is, else EAGAIN or EINTR.
    long recv(void* buf, std::size_t n, int flags, struct sockaddr_in*, bool*) override
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
        // BUF: a checked range of the application's, perhaps unmapped while this call waited;
        // a fault leaves the bytes queued (Linux: EFAULT).
        std::size_t first = k_capacity - head < take ? k_capacity - head : take;
        if (!copy_checked(buf, ring + head, first) || !copy_checked(static_cast<char*>(buf) + first, ring, take - first))
            return -EFAULT;
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

    long send(const void* buf, std::size_t n, int flags, const struct sockaddr_in*) override
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
            // BUF: as in recv.
            std::size_t tail = (peer->head + peer->size) % k_capacity;
            std::size_t first = k_capacity - tail < put ? k_capacity - tail : put;
            const char* in = static_cast<const char*>(buf) + done;
            if (!copy_checked(peer->ring + tail, in, first) || !copy_checked(peer->ring, in + first, put - first))
                return done ? static_cast<long>(done) : -EFAULT;
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

    long shutdown(int how) override;
    long setsockopt(long level, long name, long val, long len) override;
    long getsockopt(long level, long name, long val, long lenp) override;
    long name(long addr, long lenp, bool local) override;
    long put_control(struct msghdr* msg) override;

    FileKind kind() const override { return FileKind::UnixSocket; }
};

// SO_RCVTIMEO/SO_SNDTIMEO from a struct timeval (net/core/sock.c, sock_set_timeout).
long read_timeout(long val, long len, u64* out)
{
    if (len < static_cast<long>(sizeof(struct timeval)))
        return -EINVAL;
    struct timeval tv;
    if (long r = read_user(val, &tv); r < 0)
        return r;
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

} // namespace

long UnixSocket::setsockopt(long level, long name, long val, long len)
{
    if (level != SOL_SOCKET)
        return -EOPNOTSUPP; // AF_UNIX has no other level
    if (static_cast<int>(len) < 0 || len < static_cast<long>(sizeof(int)))
        return -EINVAL;
    int v;
    if (long r = read_user(val, &v); r < 0)
        return r;
    if (unix_bool_option(name)) {
        if (name == SO_DEBUG && v && !capable(Capability::NetAdmin))
            return -EACCES;
        if (v)
            flag_bits |= 1u << name;
        else
            flag_bits &= ~(1u << name);
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
        (send ? sndbuf : rcvbuf) = doubled > min ? doubled : min;
        return 0;
    }
    case SO_RCVLOWAT:
        rcvlowat = v < 0 ? INT_MAX : (v ? v : 1);
        return 0;
    case SO_PRIORITY:
        if ((v < 0 || v > 6) && !capable(Capability::NetAdmin))
            return -EPERM;
        priority = v;
        return 0;
    case SO_LINGER: {
        if (len < static_cast<long>(sizeof(struct linger)))
            return -EINVAL;
        struct linger l;
        if (long r = read_user(val, &l); r < 0)
            return r;
        linger_on = l.l_onoff != 0;
        if (l.l_onoff)
            linger_s = l.l_linger;
        return 0;
    }
    case SO_RCVTIMEO:
    case SO_SNDTIMEO: return read_timeout(val, len, name == SO_RCVTIMEO ? &rcvtimeo : &sndtimeo);
    case SO_REUSEPORT: return -EOPNOTSUPP; // Linux 6.x: only for IP sockets
    default: return -ENOPROTOOPT;
    }
}

long UnixSocket::getsockopt(long level, long name, long val, long lenp)
{
    if (level != SOL_SOCKET)
        return -EOPNOTSUPP;
    socklen_t len = 0;
    if (long r = read_user(lenp, &len); r < 0)
        return r;
    if (!user_ok(lenp, sizeof(socklen_t)))
        return -EFAULT; // written back with the value
    if (static_cast<int>(len) < 0)
        return -EINVAL;
    auto put = [&](const void* v, std::size_t size) { return put_sockopt(val, lenp, v, size); };
    auto put_int = [&](int v) { return put_sockopt_int(val, lenp, v); };
    auto put_timeout = [&](u64 ns) {
        struct timeval tv {};
        if (ns != k_forever) {
            tv.tv_sec = static_cast<time_t>(ns / 1000000000u);
            tv.tv_usec = static_cast<suseconds_t>((ns % 1000000000u) / 1000);
        }
        return put(&tv, sizeof(tv));
    };
    if (unix_bool_option(name))
        return put_int(flag(static_cast<int>(name)) ? 1 : 0);
    switch (name) {
    case SO_TYPE: return put_int(type);
    case SO_DOMAIN: return put_int(AF_UNIX);
    case SO_PROTOCOL: return put_int(0);
    case SO_ERROR: return put_int(0);
    case SO_ACCEPTCONN: return put_int(0);
    case SO_SNDBUF: return put_int(sndbuf);
    case SO_RCVBUF: return put_int(rcvbuf);
    case SO_RCVLOWAT: return put_int(rcvlowat);
    case SO_SNDLOWAT: return put_int(1);
    case SO_PRIORITY: return put_int(priority);
    case SO_REUSEPORT: return put_int(0);
    case SO_LINGER: {
        struct linger l { linger_on ? 1 : 0, linger_s };
        return put(&l, sizeof(l));
    }
    case SO_RCVTIMEO: return put_timeout(rcvtimeo);
    case SO_SNDTIMEO: return put_timeout(sndtimeo);
    case SO_PEERCRED: return put(&peer_cred, sizeof(peer_cred));
    default: return -ENOPROTOOPT;
    }
}

// recvmsg's SCM_CREDENTIALS for a socket with SO_PASSCRED (net/core/scm.c, put_cmsg): what
// fits in the control buffer, MSG_CTRUNC when it is too small.
long UnixSocket::put_control(struct msghdr* msg)
{
    if (!flag(SO_PASSCRED))
        return 0;
    struct ucred c = rx_has_cred ? rx_cred : ucred { 0, 65534, 65534 }; // overflow ids: none sent
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
    // MSG: the kernel's copy of the application's msghdr; its control buffer is the
    // application's.
    struct {
        struct cmsghdr h;
        struct ucred c;
    } out {};
    static_assert(sizeof(out) >= CMSG_LEN(sizeof(struct ucred)));
    out.h.cmsg_len = len;
    out.h.cmsg_level = SOL_SOCKET;
    out.h.cmsg_type = SCM_CREDENTIALS;
    out.c = c;
    if (!copy_to_user(reinterpret_cast<u64>(msg->msg_control), &out, len))
        return -EFAULT;
    std::size_t used = CMSG_SPACE(sizeof(c));
    return static_cast<long>(used < room ? used : room);
}

long UnixSocket::shutdown(int how)
{
    if (how != SHUT_WR)
        rd_shut = true;
    if (how != SHUT_RD)
        wr_shut = true;
    if (peer) {
        kernel::wake_all(peer->waiters);
        peer->notify(POLLIN | POLLHUP);
    }
    return 0;
}

// getsockname and getpeername: a pair's ends are unnamed.
long UnixSocket::name(long addr, long lenp, bool)
{
    struct sockaddr_un un {};
    un.sun_family = AF_UNIX;
    return put_sockaddr(addr, lenp, &un, sizeof(sa_family_t));
}

// ---------------------------------------------------------------------------- syscalls

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
    const int out[2] = { fa, fb };
    if (!copy_to_user(static_cast<u64>(sv), out, sizeof(out))) {
        (void)fd_close(fa);
        (void)fd_close(fb);
        return -EFAULT;
    }
    return 0;
}

} // namespace atl::libos
