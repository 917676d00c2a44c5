// SPDX-License-Identifier: MIT
#pragma once

// Signals (signal.cpp): handlers, masks, pending queues and their delivery, and the signal
// system calls.

#include <libos/proc/thread_state.h>

#include <kernel/sched.h>

#include <csignal>

namespace atl::libos {

long sys_sigaltstack(long ss, long old);
long sys_rt_sigpending(long set, long size);
long sys_rt_sigtimedwait(long set, long info, long timeout, long size);
long sys_rt_sigqueueinfo(long pid, long sig, long info);
long sys_rt_tgsigqueueinfo(long tgid, long tid, long sig, long info);
long sys_rt_sigsuspend(long mask, long size);
long sys_rt_sigaction(long sig, long act, long oldact, long sigsetsize);
long sys_rt_sigprocmask(long how, long set, long oldset, long sigsetsize);
long sys_kill(long pid, long sig);
long sys_tkill(long tid, long sig);
long sys_tgkill(long tgid, long tid, long sig);
long sys_rt_sigreturn();

// Signals: delivers pending, unblocked signals to the running thread (syscall exit).
void deliver_pending_signals();
// Process-directed signals no thread could take yet (all blocked them); signal.cpp's.
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
// Registered as the kernel's fault-signal hook (start.cpp): does the program handle SIG now?
// *stack_top: where the handler is to run, or 0 for the thread's own stack.
bool fault_signal_wanted(int sig, u64 sp, u64* stack_top); // sp: the faulting code's
// Registered as the kernel's interrupt-return hook (start.cpp).
void deliver_signals_on_interrupt_return();
// Frees a thread's queued signals (thread exit).
void drop_pending_signals(kernel::Thread* t);
// Sends SIG to the running thread, as the kernel does for a broken pipe (SIGPIPE).
void raise_signal(int sig);

} // namespace atl::libos
