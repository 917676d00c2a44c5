// SPDX-License-Identifier: MIT
#pragma once

// What the waits of poll and select (poll.cpp) and of epoll (epoll.cpp) share.

#include <libos/core/syscall.h>
#include <libos/proc/thread_state.h>

#include <kernel/time.h>

namespace atl::libos {

// A timeout in ms (poll, epoll_wait) as a deadline: 0 = none (wait forever), or `now` for
// "do not wait" (the caller checks timeout == 0 first).
inline u64 deadline_after_ms(long ms) { return ms < 0 ? 0 : kernel::monotonic_ns() + static_cast<u64>(ms) * 1000000u; }

// Applies a temporary signal mask for ppoll/pselect/epoll_pwait.
struct MaskScope {
    bool active = false;
    unsigned long saved = 0;
    long error = 0;
    MaskScope(long mask, long size)
    {
        if (!mask)
            return;
        if (size != sizeof(unsigned long)) {
            error = -EINVAL;
            return;
        }
        unsigned long temporary = 0;
        if (long r = read_user(mask, &temporary); r < 0) {
            error = r;
            return;
        }
        saved = self().sig_blocked;
        self().sig_blocked = temporary & ~((1ul << 8) | (1ul << 18));
        active = true;
    }
    ~MaskScope()
    {
        if (active)
            self().sig_blocked = saved;
    }
};

} // namespace atl::libos
