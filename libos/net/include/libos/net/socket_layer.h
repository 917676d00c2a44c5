// SPDX-License-Identifier: MIT
#pragma once

// The socket layer (socket.cpp, and through it lwIP and the network's start-up) is linked into
// an image only when its program calls socket() or socketpair(), itself or through the C
// library (getaddrinfo, if_nametoindex, ...): socket.cpp defines those two functions in place
// of musl's, so a call to either pulls the layer in. The rest of the libOS reaches the layer
// through these weak references, which are null in an image without it: a C hello is then
// ~100 KB smaller and boots without bringing up a network it never uses.

#include <net/net.h>

extern "C" {
// Every socket system call (socket, socketpair, bind, ..., getpeername).
long atoll_socket_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6) __attribute__((weak));
// Brings up the network on the NICs the drivers found (DHCP or the static configuration);
// an error message, or nullptr.
const char* atoll_network_start(const atl::net::Config& config) __attribute__((weak));
// Network counters for atoll.bootstats.
void atoll_network_stats() __attribute__((weak));
}
