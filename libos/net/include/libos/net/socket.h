// SPDX-License-Identifier: MIT
#pragma once

// What every kind of socket file shares. The socket calls every family answers (send,
// receive, shutdown, options, names: net/socket.cpp) find the Socket behind the descriptor
// and call it; each family defines it: inet sockets (net/inet_socket.cpp, inet_options.cpp)
// and AF_UNIX pairs (ipc/unix_socket.cpp).

#include <libos/core/file.h>

#include <kernel/types.h>

#include <cerrno>
#include <cstddef>

struct msghdr;
struct sockaddr_in;

namespace atl::libos {

class Socket : public File {
public:
    // Each family overrides what it supports (the defaults answer as for an operation the
    // family lacks; they are not pure, so that no pure-virtual handler from the C++ runtime
    // is linked in for the vtable of a base no object has).
    //
    // Up to N bytes into BUF (checked by the caller). FROM, when not null, gets the sender's
    // address where the family has one (a datagram's); *TRUNCATED (false on entry) says a
    // datagram was longer than N.
    virtual long recv(void*, std::size_t, int /*flags*/, struct sockaddr_in* /*from*/, bool* /*truncated*/) { return -EOPNOTSUPP; }
    // N bytes from BUF (checked), to TO where given (a datagram's destination).
    virtual long send(const void*, std::size_t, int /*flags*/, const struct sockaddr_in* /*to*/) { return -EOPNOTSUPP; }
    // SHUT_RD, SHUT_WR or SHUT_RDWR (checked).
    virtual long shutdown(int /*how*/) { return -EOPNOTSUPP; }
    // setsockopt(2) and getsockopt(2): VAL, LEN and LENP are the application's, unchecked.
    virtual long setsockopt(long /*level*/, long /*name*/, long /*val*/, long /*len*/) { return -ENOPROTOOPT; }
    virtual long getsockopt(long /*level*/, long /*name*/, long /*val*/, long /*lenp*/) { return -ENOPROTOOPT; }
    // getsockname(2) (LOCAL) or getpeername(2) into the application's ADDR and *LENP.
    virtual long name(long /*addr*/, long /*lenp*/, bool /*local*/) { return -EOPNOTSUPP; }
    // The control messages recvmsg(2) returns after a receive (SCM_CREDENTIALS...), written
    // to MSG's control buffer (MSG_CTRUNC set in msg_flags when they do not fit): the bytes
    // used, or -EFAULT.
    virtual long put_control(struct msghdr*) { return 0; }

    long stat(struct stat* st) override;
    void describe(char* buf, std::size_t cap) override;

    // The socket's inode number (st_ino, "socket:[N]"): one sequence for every socket.
    const u64 ino;

protected:
    // (The counter is read here, not by a call, so that no store of this base's vtable
    // pointer has to be kept around it: with none, the vtable is not linked in at all.)
    Socket()
        : ino(s_next_ino++)
    {
    }

private:
    static inline u64 s_next_ino = 1 << 26;
};

// The socket FD is, or nullptr with *err = -EBADF or -ENOTSOCK.
Socket* socket_of(long fd, long* err);

// What the socket calls write back to the application, by Linux's rules: SIZE bytes cut to
// the capacity the application's *LENP gives (-EINVAL when it is negative, -EFAULT for memory
// that cannot be written). getsockopt's value, *LENP becoming the bytes written...
long put_sockopt(long val, long lenp, const void* value, std::size_t size);
long put_sockopt_int(long val, long lenp, int value);
// ... and an address (accept, recvfrom, getsockname, getpeername), *LENP becoming its size.
long put_sockaddr(long addr, long lenp, const void* sa, std::size_t size);

} // namespace atl::libos
