// SPDX-License-Identifier: MIT
#pragma once

// What every kind of socket file shares (socket.cpp).

#include <kernel/types.h>

namespace atl::libos {

// The next socket's inode number (st_ino, "socket:[N]"): one sequence for every socket.
atl::u64 next_socket_ino();

} // namespace atl::libos
