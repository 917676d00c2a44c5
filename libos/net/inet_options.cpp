// SPDX-License-Identifier: MIT
// Inet socket options (setsockopt, getsockopt): SOL_SOCKET, IPPROTO_IP and IPPROTO_TCP, the
// ones on lwIP's protocol control block set in the stack's context.

#include "inet_socket.h"

#include <libos/net/socket.h>

#include <cstring>
#include <netinet/tcp.h>

namespace atl::libos {

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

long pcb_call(InetSocket* s, int level, int option, int* value, bool set)
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

long InetSocket::setsockopt(long level, long name, long val, long len)
{
    if (len < 0 || !user_in(val, static_cast<std::size_t>(len)))
        return -EFAULT;
    // The value, copied in once: every option here takes at most a timeval.
    union {
        int i;
        unsigned char byte;
        struct timeval tv;
        struct linger linger;
    } in {};
    if (!copy_from_user(&in, static_cast<u64>(val), static_cast<std::size_t>(len) < sizeof(in) ? static_cast<std::size_t>(len) : sizeof(in)))
        return -EFAULT;
    int v = 0;
    auto int_value = [&]() -> long {
        if (len < static_cast<long>(sizeof(int)))
            return -EINVAL;
        v = in.i;
        return 0;
    };
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR:
        case SO_KEEPALIVE:
        case SO_BROADCAST:
            if (long r = int_value())
                return r;
            return pcb_call(this, SOL_SOCKET, static_cast<int>(name), &v, true);
        case SO_REUSEPORT:
            return int_value(); // accepted: one process, nothing to balance between
        case SO_RCVBUF:
        case SO_SNDBUF:
            if (long r = int_value())
                return r;
            if (v < 256)
                v = 256;
            (name == SO_RCVBUF ? rcvbuf : sndbuf) = v;
#if LWIP_SO_RCVBUF
            if (name == SO_RCVBUF && type == SOCK_DGRAM)
                netconn_set_recvbufsize(conn, v);
#endif
            return 0;
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
            if (len < static_cast<long>(sizeof(struct timeval)))
                return -EINVAL;
            struct timeval tv = in.tv;
            if (tv.tv_usec < 0 || tv.tv_usec >= 1000000 || tv.tv_sec < 0)
                return -EDOM;
            u64 ns = static_cast<u64>(tv.tv_sec) * 1000000000u + static_cast<u64>(tv.tv_usec) * 1000u;
            (name == SO_RCVTIMEO ? rcvtimeo_ns : sndtimeo_ns) = ns;
            return 0;
        }
        case SO_LINGER:
            if (len < static_cast<long>(sizeof(struct linger)))
                return -EINVAL;
            linger = in.linger;
            return 0; // FIXME: SO_LINGER with a zero timeout should reset on close
        default:
            return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_TCP) {
        if (type != SOCK_STREAM)
            return -ENOPROTOOPT;
        switch (name) {
        case TCP_NODELAY:
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
        case TCP_KEEPCNT:
            if (long r = int_value())
                return r;
            return pcb_call(this, IPPROTO_TCP, static_cast<int>(name), &v, true);
        case TCP_QUICKACK:
        case TCP_DEFER_ACCEPT:
        case TCP_FASTOPEN:
        case TCP_CORK:
            if (long r = int_value())
                return r;
            if (name == TCP_QUICKACK)
                quickack = v != 0;
            else if (name == TCP_CORK)
                cork = v != 0;
            else if (name == TCP_FASTOPEN)
                fastopen = v;
            else
                defer_accept = v < 0 ? 0 : v;
            return 0;
        default:
            return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_IP) {
        // Linux takes an int, or one byte when that is all there is (0 bytes: 0).
        if (len >= static_cast<long>(sizeof(int)))
            v = in.i;
        else if (len >= 1)
            v = in.byte;
        switch (name) {
        case IP_TOS: return pcb_call(this, IPPROTO_IP, IP_TOS, &v, true);
        case IP_TTL:
            if (len < 1 || (v != -1 && (v < 1 || v > 255)))
                return -EINVAL;
            return pcb_call(this, IPPROTO_IP, IP_TTL, &v, true);
        case IP_RECVERR: recverr = v != 0; return 0;
        default:
            // IP_PKTINFO and the rest would change what recvmsg delivers: not offered.
            return -ENOPROTOOPT;
        }
    }
    return -ENOPROTOOPT;
}

long InetSocket::getsockopt(long level, long name, long val, long lenp)
{
    socklen_t cap = 0;
    if (long r = read_user(lenp, &cap); r < 0)
        return r;
    if (!user_ok(lenp, sizeof(socklen_t)))
        return -EFAULT; // written back with the value
    if (static_cast<int>(cap) < 0)
        return -EINVAL;
    auto put_int = [&](int v) { return put_sockopt_int(val, lenp, v); };
    int v = 0;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_TYPE: return put_int(type);
        case SO_DOMAIN: return put_int(AF_INET);
        case SO_PROTOCOL: return put_int(type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
        case SO_ACCEPTCONN: return put_int(listening ? 1 : 0);
        case SO_ERROR:
            settle_connect(this);
            return put_int(static_cast<int>(-take_error()));
        case SO_RCVBUF: return put_int(rcvbuf * 2); // Linux reports double what was set
        case SO_SNDBUF: return put_int(sndbuf * 2);
        case SO_REUSEADDR:
        case SO_KEEPALIVE:
        case SO_BROADCAST: {
            long r = pcb_call(this, SOL_SOCKET, static_cast<int>(name), &v, false);
            return r < 0 ? r : put_int(v);
        }
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
            u64 ns = name == SO_RCVTIMEO ? rcvtimeo_ns : sndtimeo_ns;
            struct timeval tv { static_cast<time_t>(ns / 1000000000u), static_cast<suseconds_t>((ns % 1000000000u) / 1000) };
            return put_sockopt(val, lenp, &tv, sizeof(tv));
        }
        case SO_LINGER: return put_sockopt(val, lenp, &linger, sizeof(linger));
        default:
            return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_TCP && type == SOCK_STREAM) {
        switch (name) {
        case TCP_NODELAY:
        case TCP_KEEPIDLE:
        case TCP_KEEPINTVL:
        case TCP_KEEPCNT: {
            long r = pcb_call(this, IPPROTO_TCP, static_cast<int>(name), &v, false);
            return r < 0 ? r : put_int(v);
        }
        case TCP_MAXSEG: return put_int(TCP_MSS);
        case TCP_CORK: return put_int(cork ? 1 : 0);
        case TCP_QUICKACK: return put_int(quickack ? 1 : 0);
        case TCP_DEFER_ACCEPT: return put_int(defer_accept);
        case TCP_FASTOPEN: return put_int(fastopen);
        default: return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_IP) {
        switch (name) {
        case IP_TOS:
        case IP_TTL: {
            long r = pcb_call(this, IPPROTO_IP, static_cast<int>(name), &v, false);
            if (r < 0)
                return r;
            break;
        }
        case IP_RECVERR: v = recverr ? 1 : 0; break;
        default: return -ENOPROTOOPT;
        }
        // Linux: a buffer shorter than an int gets one byte.
        if (cap > 0 && cap < sizeof(int) && v >= 0 && v <= 255) {
            if (long r = write_user(val, static_cast<unsigned char>(v)); r < 0)
                return r;
            return write_user(lenp, socklen_t { 1 });
        }
        return put_int(v);
    }
    return -ENOPROTOOPT;
}

} // namespace atl::libos
