// SPDX-License-Identifier: MIT
#pragma once

// The socket layer (net/, with ipc/unix_socket.cpp, lwIP and the network's start-up) is linked
// into an image only when its program calls socket() or socketpair(), itself or through the C
// library (getaddrinfo, if_nametoindex, ...): net/socket.cpp defines those two functions in
// place of musl's, so a call to either pulls the layer in, and with it the layer's entry in
// the registration table socket_layer (kernel/registry.h). The rest of the libOS finds the
// layer there, and finds none in an image without it: a C hello is then ~100 KB smaller and
// boots without bringing up a network it never uses.

#include <kernel/registry.h>

namespace atl::net {
struct Config;
}

namespace atl::libos {

struct SocketLayer {
    // Every socket system call (socket, socketpair, bind, ..., getpeername).
    long (*syscall)(long n, long a1, long a2, long a3, long a4, long a5, long a6);
    // Brings up the network on the NICs the drivers found (DHCP or the static configuration);
    // an error message, or nullptr.
    const char* (*network_start)(const net::Config& config);
    // Network counters for atoll.bootstats.
    void (*network_stats)();
};

// registered_socket_layer().only(): the image's socket layer, or nullptr.
ATL_REGISTRY(socket_layer, SocketLayer)

} // namespace atl::libos
