// SPDX-License-Identifier: MIT
#pragma once

// The libOS's lock. Every system call holds it (__atoll_syscall), and so do musl's entries
// that are not system calls (__atoll_clone, __atoll_unmapself) and signal delivery while it
// takes a signal off the queues. On one CPU it is the interrupt mask that kernel code has
// always run under (kernel/DESIGN.md, "Execution model"), at the cost of the irq_save and
// irq_restore it replaces. Lock order: first; the kernel's locks and lwIP's core lock are
// taken inside it.
//
// FIXME: the libOS's data (descriptor table, file tree, sockets, signal queues, futexes) do
// not name it yet (ATL_GUARDED_BY(g_libos_lock)); and with a second CPU, a thread that waits
// with it held must let it go until it runs again, as Linux's big kernel lock did.

#include <kernel/lock.h>

namespace atl::libos {

extern kernel::SpinLock g_libos_lock;

} // namespace atl::libos
