// SPDX-License-Identifier: MIT
#pragma once

// What the state dump (dump.cpp) reads of sys_arch.cpp's objects, without ever waiting.

#include <kernel/sched.h>

extern "C" {
#include "lwip/sys.h"
}

namespace atl::net {

// Takes the mutex if it is free; otherwise *owner is the thread holding it.
bool try_lock_mutex(sys_mutex_t* mutex, kernel::Thread** owner);

struct MailboxState {
    u32 count, size;
    std::size_t readers_waiting, writers_waiting;
};
// The tcpip thread's mailbox; false before the stack started.
bool tcpip_mailbox_state(MailboxState* out);

} // namespace atl::net
