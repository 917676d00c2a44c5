// SPDX-License-Identifier: MIT
#pragma once

// The libOS's per-thread state, kept inside the kernel's Thread (user_storage).

#include <kernel/sched.h>

#include <new>

namespace atl::libos {

struct ProcThread {
    int* clear_child_tid = nullptr; // CLONE_CHILD_CLEARTID / set_tid_address
    unsigned long sig_blocked = 0;
    unsigned long sig_pending = 0;
    int (*clone_fn)(void*) = nullptr;
    void* clone_arg = nullptr;
};
static_assert(sizeof(ProcThread) <= sizeof(kernel::Thread::user_storage));

inline ProcThread& proc(kernel::Thread* t) { return *std::launder(reinterpret_cast<ProcThread*>(t->user_storage)); }
inline ProcThread& proc_init(kernel::Thread* t) { return *new (t->user_storage) ProcThread(); }
inline ProcThread& self() { return proc(kernel::current()); }

// Signals: delivers pending, unblocked signals to the running thread (syscall exit).
void deliver_pending_signals();
bool has_deliverable_signal();
// A thread's own pending set is inherited as empty; its mask from its creator (clone).

} // namespace atl::libos
