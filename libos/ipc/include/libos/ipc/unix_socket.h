// SPDX-License-Identifier: MIT
#pragma once

// AF_UNIX socket pairs (unix_socket.cpp): what the socket layer's common calls (net/socket.cpp)
// do on a descriptor of kind FileKind::UnixSocket. Each takes such a file.

#include <libos/core/file.h>

#include <cstddef>

struct msghdr;

namespace atl::libos {

long sys_socketpair(long domain, long type, long protocol, long sv);

long unix_recv(File* f, void* buf, std::size_t n, int flags);
long unix_send(File* f, const void* buf, std::size_t n, int flags);
long unix_shutdown(File* f, long how); // HOW already checked
long unix_setsockopt(File* f, long level, long name, long val, long len);
long unix_getsockopt(File* f, long level, long name, long val, long lenp);
// getsockname and getpeername: an unnamed AF_UNIX address.
long unix_name(long addr, long lenp);
// SO_PASSCRED is on: recvmsg adds SCM_CREDENTIALS.
bool unix_passcred(File* f);
// recvmsg's SCM_CREDENTIALS: the control bytes used, or -EFAULT.
long unix_put_credentials(File* f, struct msghdr* msg);

} // namespace atl::libos
