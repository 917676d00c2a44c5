// SPDX-License-Identifier: MIT
#pragma once

// Pipes (pipe.cpp).

namespace atl::libos {

long sys_pipe2(long fds, long flags);
long sys_pipe(long fds);

} // namespace atl::libos
