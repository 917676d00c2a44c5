// SPDX-License-Identifier: MIT
#pragma once

// The libOS's per-thread state, kept inside the kernel's Thread (user_storage).

#include <kernel/sched.h>

#include <csignal>
#include <new>

namespace atl::libos {

struct PendingSignal; // <libos/signal/signal.h>

struct ProcThread {
    int* clear_child_tid = nullptr; // CLONE_CHILD_CLEARTID / set_tid_address
    unsigned long sig_blocked = 0;
    unsigned long sig_pending = 0;  // a bit per signal with an entry in `queue`
    unsigned long sig_waiting = 0;  // sigtimedwait's set: these wake the thread too
    PendingSignal* queue = nullptr; // oldest first
    int (*clone_fn)(void*) = nullptr;
    void* clone_arg = nullptr;
    // sigaltstack (per thread)
    void* altstack_sp = nullptr;
    std::size_t altstack_size = 0;
    int altstack_flags = 2; // SS_DISABLE
    int nice = 0;           // setpriority: per thread, as on Linux (inherited by clone)
    int pdeathsig = 0;      // prctl(PR_SET_PDEATHSIG): per thread, not inherited
};

// prctl's process-wide state (process.cpp reads and sets it; a change of credentials resets
// dumpable as Linux does, to fs.suid_dumpable's default 0: credentials.cpp).
struct ProcessFlags {
    int dumpable = 1;
    bool no_new_privs = false;
};
extern ProcessFlags g_process_flags;
static_assert(sizeof(ProcThread) <= sizeof(kernel::Thread::user_storage));

inline ProcThread& proc(kernel::Thread* t) { return *std::launder(reinterpret_cast<ProcThread*>(t->user_storage)); }
inline ProcThread& proc_init(kernel::Thread* t) { return *new (t->user_storage) ProcThread(); }
inline ProcThread& self() { return proc(kernel::current()); }

} // namespace atl::libos
