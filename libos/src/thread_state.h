// SPDX-License-Identifier: MIT
#pragma once

// The libOS's per-thread state, kept inside the kernel's Thread (user_storage).

#include <kernel/sched.h>

#include <csignal>
#include <new>

namespace atl::libos {


struct PendingSignal; // below

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

// prctl's process-wide state (sys_proc.cpp reads and sets it; a change of credentials resets
// dumpable as Linux does, to fs.suid_dumpable's default 0).
struct ProcessFlags {
    int dumpable = 1;
    bool no_new_privs = false;
};
extern ProcessFlags g_process_flags;
static_assert(sizeof(ProcThread) <= sizeof(kernel::Thread::user_storage));

inline ProcThread& proc(kernel::Thread* t) { return *std::launder(reinterpret_cast<ProcThread*>(t->user_storage)); }
inline ProcThread& proc_init(kernel::Thread* t) { return *new (t->user_storage) ProcThread(); }
inline ProcThread& self() { return proc(kernel::current()); }

// Signals: delivers pending, unblocked signals to the running thread (syscall exit).
void deliver_pending_signals();
// Process-directed signals no thread could take yet (all blocked them); sys_signal.cpp's.
extern unsigned long g_process_pending;
inline bool has_deliverable_signal()
{
    ProcThread& me = self();
    return ((me.sig_pending | g_process_pending) & ~me.sig_blocked) != 0;
}
// A thread's own pending set is inherited as empty; its mask from its creator (clone).
// Signals from the libOS's own sources (timers): si_code CODE, and PID in si_pid's place
// (si_timerid for SI_TIMER). signal_process picks a thread that does not block SIG.
long signal_process(int sig, int code, int pid, union sigval value);
long signal_thread(kernel::Thread* t, int sig, int code, int pid, union sigval value);
// After a call served without the libOS lock (getpid, clock_gettime...): signals are still
// delivered on the way back, so a thread spinning on such calls can be stopped by one (a
// signal raised while this check runs waits for the next call or interrupt).
inline void deliver_signals_after_unlocked_call()
{
    if (has_deliverable_signal() || kernel::current()->interrupt_pending) [[unlikely]]
        deliver_pending_signals();
}

// Takes the running thread's, else the process's, first pending signal in WANTED (signalfd).
struct PendingSignal {
    PendingSignal* next;
    int sig;
    int code;
    int pid;
    union sigval value;
    bool fault = false;     // from a processor exception: si_addr is `addr`
    void* addr = nullptr;
};
bool take_pending_signal(unsigned long wanted, PendingSignal* out);
// A signal was queued somewhere: signalfds watching it wake their readers (signalfd.cpp).
void signalfd_notify(int sig);
// Registered as the kernel's fault-signal hook (start.cpp): does the program handle SIG now?
// *stack_top: where the handler is to run, or 0 for the thread's own stack.
bool fault_signal_wanted(int sig, u64 sp, u64* stack_top); // sp: the faulting code's
// Registered as the kernel's interrupt-return hook (start.cpp).
void deliver_signals_on_interrupt_return();
// Frees a thread's queued signals (thread exit).
void drop_pending_signals(kernel::Thread* t);

} // namespace atl::libos
