// SPDX-License-Identifier: MIT
#pragma once

// AF_UNIX socket pairs (unix_socket.cpp). Their ends are Sockets (libos/net/socket.h): the
// socket layer's common calls (net/socket.cpp) reach them through that interface.

namespace atl::libos {

long sys_socketpair(long domain, long type, long protocol, long sv);

} // namespace atl::libos
