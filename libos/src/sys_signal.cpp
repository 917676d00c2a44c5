// SPDX-License-Identifier: MIT
// Signals, enough for runtimes: handlers are recorded per process, masks and pending sets per
// thread. A signal for the running thread is delivered when its system call returns; one for
// another thread ends that thread's interruptible wait (EINTR) and is delivered when it
// returns to the application. Handlers run as plain calls (no signal frame, no ucontext).

#include "syscalls.h"
#include "thread_state.h"

#include <kernel/console.h>
#include <kernel/panic.h>
#include <kernel/interrupts.h>
#include <kernel/platform.h>
#include <kernel/sched.h>

#include <cerrno>
#include <csignal>

namespace atl::libos {

namespace {

constexpr int k_nsig = 65;
// musl's thread-cancellation signal. Its handler needs the interrupted context, which
// handlers here do not get; the EINTR that ends the target's wait is what musl acts on
// (__syscall_cp_c cancels when a cancellation-point call returns EINTR with cancel set).
constexpr int k_sigcancel = 33;

struct KernelSigaction { // the layout of struct k_sigaction that musl passes
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    unsigned long mask;
};

KernelSigaction s_actions[k_nsig];
unsigned long s_process_pending = 0; // kill() to the process, no thread chosen yet

unsigned long bit(int sig) { return 1ul << (sig - 1); }
constexpr unsigned long k_unblockable = (1ul << (SIGKILL - 1)) | (1ul << (SIGSTOP - 1));

const char* signal_name(int sig)
{
    switch (sig) {
    case SIGABRT: return "SIGABRT";
    case SIGSEGV: return "SIGSEGV";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGTERM: return "SIGTERM";
    case SIGKILL: return "SIGKILL";
    case SIGINT: return "SIGINT";
    case SIGBUS: return "SIGBUS";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGALRM: return "SIGALRM";
    default: return "signal";
    }
}

bool ignored_by_default(int sig)
{
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT || sig == k_sigcancel;
}

// Runs with interrupts in the state the application had (handlers are application code).
void deliver(int sig)
{
    KernelSigaction act = s_actions[sig];
    if (sig == k_sigcancel)
        return;
    if (act.handler == SIG_IGN || (act.handler == SIG_DFL && ignored_by_default(sig)))
        return;
    if (act.handler == SIG_DFL || sig == SIGKILL || sig == SIGSTOP) {
        kernel::irq_save();
        kernel::log("terminated by %s (%d)", signal_name(sig), sig);
        kernel::shutdown(128 + sig);
    }
    ProcThread& me = self();
    unsigned long saved = me.sig_blocked;
    me.sig_blocked |= act.mask;
    if (!(act.flags & SA_NODEFER))
        me.sig_blocked |= bit(sig);
    me.sig_blocked &= ~k_unblockable;
    if (act.flags & SA_RESETHAND)
        s_actions[sig].handler = SIG_DFL;
    if (act.flags & SA_SIGINFO) {
        siginfo_t info {};
        info.si_signo = sig;
        info.si_code = SI_TKILL;
        info.si_pid = k_pid;
        reinterpret_cast<void (*)(int, siginfo_t*, void*)>(reinterpret_cast<void*>(act.handler))(sig, &info, nullptr);
    } else {
        act.handler(sig);
    }
    me.sig_blocked = saved;
}

long send(kernel::Thread* target, long sig)
{
    if (sig < 0 || sig >= k_nsig)
        return -EINVAL;
    if (sig == 0)
        return 0;
    ProcThread& pt = proc(target);
    pt.sig_pending |= bit(static_cast<int>(sig));
    if (target != kernel::current() && (bit(static_cast<int>(sig)) & ~pt.sig_blocked))
        kernel::interrupt(target);
    return 0;
}

} // namespace

bool has_deliverable_signal()
{
    ProcThread& me = self();
    return ((me.sig_pending | s_process_pending) & ~me.sig_blocked) != 0;
}

void deliver_pending_signals()
{
    for (;;) {
        kernel::IrqState s = kernel::irq_save();
        ProcThread& me = self();
        unsigned long ready = (me.sig_pending | s_process_pending) & ~me.sig_blocked;
        if (!ready) {
            // Nothing left for this thread: its waits need not be cut short any more.
            kernel::current()->interrupt_pending = false;
            kernel::irq_restore(s);
            return;
        }
        int sig = __builtin_ctzl(ready) + 1;
        if (me.sig_pending & bit(sig))
            me.sig_pending &= ~bit(sig);
        else
            s_process_pending &= ~bit(sig);
        kernel::irq_restore(s);
        deliver(sig);
    }
}

long sys_rt_sigaction(long sig, long act, long oldact, long sigsetsize)
{
    if (sigsetsize != sizeof(unsigned long))
        return -EINVAL;
    if (sig < 1 || sig >= k_nsig)
        return -EINVAL;
    if (act && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    if (act && !user_in(act, sizeof(KernelSigaction)))
        return -EFAULT;
    if (oldact && !user_ok(oldact, sizeof(KernelSigaction)))
        return -EFAULT;
    KernelSigaction old = s_actions[sig];
    if (act) {
        s_actions[sig] = *reinterpret_cast<const KernelSigaction*>(act);
        s_actions[sig].mask &= ~k_unblockable;
    }
    if (oldact)
        *reinterpret_cast<KernelSigaction*>(oldact) = old;
    return 0;
}

long sys_rt_sigprocmask(long how, long set, long oldset, long sigsetsize)
{
    if (sigsetsize != sizeof(unsigned long))
        return -EINVAL;
    if (set && !user_in(set, sizeof(unsigned long)))
        return -EFAULT;
    if (oldset && !user_ok(oldset, sizeof(unsigned long)))
        return -EFAULT;
    ProcThread& me = self();
    unsigned long old = me.sig_blocked;
    if (set) {
        unsigned long s = *reinterpret_cast<const unsigned long*>(set);
        switch (how) {
        case SIG_BLOCK: me.sig_blocked |= s; break;
        case SIG_UNBLOCK: me.sig_blocked &= ~s; break;
        case SIG_SETMASK: me.sig_blocked = s; break;
        default: return -EINVAL;
        }
        me.sig_blocked &= ~k_unblockable;
    }
    if (oldset)
        *reinterpret_cast<unsigned long*>(oldset) = old;
    return 0; // newly unblocked pending signals are delivered on the way out
}

long sys_kill(long pid, long sig)
{
    if (pid != k_pid && pid != 0 && pid != -1)
        return -ESRCH;
    if (sig < 0 || sig >= k_nsig)
        return -EINVAL;
    if (sig == 0)
        return 0;
    // A process-directed signal goes to the caller unless it blocks it, then to any thread
    // that does not, else it waits on the process.
    kernel::Thread* target = kernel::current();
    if (proc(target).sig_blocked & bit(static_cast<int>(sig))) {
        target = nullptr;
        for (kernel::Thread* t = kernel::first_thread(); t && !target; t = kernel::next_thread(t)) {
            if (t->state != kernel::ThreadState::Dead && !(proc(t).sig_blocked & bit(static_cast<int>(sig))))
                target = t;
        }
    }
    if (!target) {
        s_process_pending |= bit(static_cast<int>(sig));
        return 0;
    }
    return send(target, sig);
}

long sys_tkill(long tid, long sig)
{
    if (tid <= 0)
        return -EINVAL;
    kernel::Thread* t = kernel::find_thread(static_cast<int>(tid));
    if (!t)
        return -ESRCH;
    return send(t, sig);
}

long sys_tgkill(long tgid, long tid, long sig)
{
    if (tgid <= 0 || tid <= 0)
        return -EINVAL;
    if (tgid != k_pid)
        return -ESRCH;
    return sys_tkill(tid, sig);
}

void raise_signal(int sig) { (void)send(kernel::current(), sig); }

long sys_rt_sigpending(long set, long size)
{
    if (size != sizeof(unsigned long))
        return -EINVAL;
    if (!user_ok(set, sizeof(unsigned long)))
        return -EFAULT;
    ProcThread& me = self();
    *reinterpret_cast<unsigned long*>(set) = (me.sig_pending | s_process_pending) & me.sig_blocked;
    return 0;
}

long sys_rt_sigsuspend(long mask, long size)
{
    if (size != sizeof(unsigned long))
        return -EINVAL;
    if (!user_in(mask, sizeof(unsigned long)))
        return -EFAULT;
    ProcThread& me = self();
    unsigned long saved = me.sig_blocked;
    me.sig_blocked = *reinterpret_cast<const unsigned long*>(mask) & ~k_unblockable;
    // Wait until a signal that the temporary mask lets through is pending.
    while (!has_deliverable_signal())
        (void)kernel::block(nullptr, 0, true);
    deliver_pending_signals();
    me.sig_blocked = saved;
    return -EINTR;
}

namespace {
stack_t s_altstack { nullptr, SS_DISABLE, 0 };
} // namespace

long sys_sigaltstack(long ss, long old)
{
    // Recorded and reported; handlers run on the interrupted stack (they are plain calls),
    // so an alternate stack is never switched to. FIXME: use it for SIGSEGV handlers.
    if (old) {
        if (!user_ok(old, sizeof(stack_t)))
            return -EFAULT;
        *reinterpret_cast<stack_t*>(old) = s_altstack;
    }
    if (ss) {
        if (!user_in(ss, sizeof(stack_t)))
            return -EFAULT;
        stack_t n = *reinterpret_cast<const stack_t*>(ss);
        if (n.ss_flags & ~(SS_DISABLE | SS_AUTODISARM))
            return -EINVAL;
        if (!(n.ss_flags & SS_DISABLE) && n.ss_size < MINSIGSTKSZ)
            return -ENOMEM;
        s_altstack = n;
    }
    return 0;
}

long sys_rt_sigreturn()
{
    kernel::panic("rt_sigreturn called: Atoll runs signal handlers as calls, nothing to return to");
}

} // namespace atl::libos
