// SPDX-License-Identifier: MIT
// Signals, enough for runtimes: handlers are recorded per process, masks, pending queues and
// alternate stacks per thread. A signal for the running thread is delivered when its system
// call returns; one for another thread ends that thread's interruptible wait (EINTR) and is
// delivered when it returns to the application. Handlers run as plain calls (no signal
// frame; the ucontext argument is NULL), on the alternate stack with SA_ONSTACK.
// Standard signals coalesce while pending; real-time ones queue, each with its siginfo.

#include <libos/core/lock.h>
#include <libos/core/syscall.h>
#include <libos/event/syscalls.h>
#include <libos/proc/credentials.h>
#include <libos/proc/thread_state.h>
#include <libos/signal/signal.h>

#include <kernel/console.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/panic.h>
#include <kernel/platform.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <cerrno>
#include <csignal>
#include <cstring>

// kernel/arch/x86_64/isr.S: calls handler(sig, info, ctx) on another stack and comes back.
extern "C" void atoll_call_handler_on_stack(void* stack_top, void* handler, long sig, void* info, void* ctx);

namespace atl::libos {

namespace {

constexpr int k_nsig = 65;
// musl's thread-cancellation signal. Its handler needs the interrupted context, which
// handlers here do not get; the EINTR that ends the target's wait is what musl acts on
// (__syscall_cp_c cancels when a cancellation-point call returns EINTR with cancel set).
constexpr int k_sigcancel = 33;
constexpr int k_max_queued = 1024; // RLIMIT_SIGPENDING's role

struct KernelSigaction { // the layout of struct k_sigaction that musl passes
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    unsigned long mask;
};

KernelSigaction s_actions[k_nsig];
// Process-directed signals no thread could take yet (all blocked them).
unsigned long& s_process_pending = g_process_pending;
PendingSignal* s_process_queue = nullptr;
int s_queued = 0;

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
    case SIGPIPE: return "SIGPIPE";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    default: return sig >= 34 ? "real-time signal" : "signal";
    }
}

bool ignored_by_default(int sig)
{
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT || sig == k_sigcancel;
}

bool is_ignored(int sig)
{
    return s_actions[sig].handler == SIG_IGN || (s_actions[sig].handler == SIG_DFL && ignored_by_default(sig));
}

// Appends to a queue; a standard signal already queued is not queued again.
long enqueue(PendingSignal** queue, unsigned long* pending, int sig, int code, int pid, union sigval value)
{
    if (sig < SIGRTMIN && (*pending & bit(sig)))
        return 0;
    if (s_queued >= k_max_queued)
        return sig < SIGRTMIN ? 0 : -EAGAIN;
    auto* p = kernel::make<PendingSignal>();
    if (!p)
        return -EAGAIN;
    *p = PendingSignal { nullptr, sig, code, pid, value };
    PendingSignal** tail = queue;
    while (*tail)
        tail = &(*tail)->next;
    *tail = p;
    *pending |= bit(sig);
    ++s_queued;
    signalfd_notify(sig);
    return 0;
}

// Takes the first queued entry of the lowest-numbered signal in `wanted`.
bool dequeue(PendingSignal** queue, unsigned long* pending, unsigned long wanted, PendingSignal* out)
{
    unsigned long ready = *pending & wanted;
    if (!ready)
        return false;
    int sig = __builtin_ctzl(ready) + 1;
    for (PendingSignal** link = queue; *link; link = &(*link)->next) {
        if ((*link)->sig != sig)
            continue;
        PendingSignal* p = *link;
        *link = p->next;
        *out = *p;
        kernel::destroy(p);
        --s_queued;
        bool more = false;
        for (PendingSignal* q = *queue; q && !more; q = q->next)
            more = q->sig == sig;
        if (!more)
            *pending &= ~bit(sig);
        return true;
    }
    *pending &= ~bit(sig); // a bit without an entry: cannot happen, repaired
    return false;
}

void discard(PendingSignal** queue, unsigned long* pending, int sig)
{
    PendingSignal out;
    while (dequeue(queue, pending, bit(sig), &out)) { }
}

void fill_info(siginfo_t* info, const PendingSignal& p)
{
    *info = {};
    info->si_signo = p.sig;
    info->si_code = p.code;
    info->si_pid = p.pid;
    // The sender's real uid for signals a program sent (the one process: ours); for timers
    // the same word is si_overrun, left 0.
    info->si_uid = p.code == SI_USER || p.code == SI_TKILL || p.code == SI_QUEUE ? creds().ruid : 0;
    info->si_value = p.value;
    if (p.fault)
        info->si_addr = p.addr; // where si_pid and si_uid are for the other kinds
}

bool on_altstack(const ProcThread& me)
{
    u64 sp = reinterpret_cast<u64>(__builtin_frame_address(0));
    u64 base = reinterpret_cast<u64>(me.altstack_sp);
    return me.altstack_sp && sp >= base && sp < base + me.altstack_size;
}

// Runs with interrupts in the state the application had (handlers are application code).
void deliver(const PendingSignal& p)
{
    int sig = p.sig;
    KernelSigaction act = s_actions[sig];
    if (sig == k_sigcancel || is_ignored(sig))
        return;
    if (act.handler == SIG_DFL || sig == SIGKILL || sig == SIGSTOP) {
        // The program ends here: interrupts off for good (nothing runs after the shutdown).
        kernel::irq_disable();
        kernel::log("terminated by %s (%d)", signal_name(sig), sig);
        platform::shutdown(128 + sig);
    }
    ProcThread& me = self();
    unsigned long saved = me.sig_blocked;
    me.sig_blocked |= act.mask;
    if (!(act.flags & SA_NODEFER))
        me.sig_blocked |= bit(sig);
    me.sig_blocked &= ~k_unblockable;
    if (act.flags & SA_RESETHAND)
        s_actions[sig].handler = SIG_DFL;
    siginfo_t info;
    fill_info(&info, p);
    bool altstack = (act.flags & SA_ONSTACK) && !(me.altstack_flags & SS_DISABLE) && !on_altstack(me);
    if (altstack) {
        u64 top = (reinterpret_cast<u64>(me.altstack_sp) + me.altstack_size) & ~u64(15);
        atoll_call_handler_on_stack(reinterpret_cast<void*>(top), reinterpret_cast<void*>(act.handler), sig, &info, nullptr);
    } else if (act.flags & SA_SIGINFO) {
        reinterpret_cast<void (*)(int, siginfo_t*, void*)>(reinterpret_cast<void*>(act.handler))(sig, &info, nullptr);
    } else {
        act.handler(sig);
    }
    me.sig_blocked = saved;
}

long send(kernel::Thread* target, long sig, int code, union sigval value = {}, int pid = static_cast<int>(k_pid))
{
    if (sig < 0 || sig >= k_nsig)
        return -EINVAL;
    if (sig == 0)
        return 0;
    int s = static_cast<int>(sig);
    ProcThread& pt = proc(target);
    // An ignored signal that is not blocked is dropped at once (a blocked one waits: the
    // handler may change before it is unblocked).
    if (is_ignored(s) && !(pt.sig_blocked & bit(s)) && !(pt.sig_waiting & bit(s)) && s != k_sigcancel)
        return 0;
    long r = enqueue(&pt.queue, &pt.sig_pending, s, code, pid, value);
    if (r < 0)
        return r;
    // Another thread, or this one blocked (a timer's signal arrives in an interrupt while the
    // thread that the interrupt came in on waits): cut its interruptible wait short.
    bool elsewhere = target != kernel::current() || target->state == kernel::ThreadState::Blocked;
    if (elsewhere && (bit(s) & (~pt.sig_blocked | pt.sig_waiting)))
        kernel::interrupt(target);
    return 0;
}

// A process-directed signal goes to the caller unless it blocks it, then to any thread that
// does not, else it waits on the process.
long send_to_process(long sig, int code, union sigval value = {}, int pid = static_cast<int>(k_pid))
{
    if (sig < 0 || sig >= k_nsig)
        return -EINVAL;
    if (sig == 0)
        return 0;
    int s = static_cast<int>(sig);
    kernel::Thread* target = kernel::current();
    // From a timer's interrupt the running thread may be a kernel thread (the network's):
    // never a target, it takes no signals.
    if (target->kernel_thread || (proc(target).sig_blocked & bit(s))) {
        target = nullptr;
        for (kernel::Thread* t = kernel::first_thread(); t && !target; t = kernel::next_thread(t)) {
            if (t->state != kernel::ThreadState::Dead && !t->kernel_thread && !(proc(t).sig_blocked & bit(s)))
                target = t;
        }
    }
    if (!target) {
        if (is_ignored(s) && s != k_sigcancel)
            return 0;
        return enqueue(&s_process_queue, &s_process_pending, s, code, pid, value);
    }
    return send(target, sig, code, value, pid);
}

} // namespace

void drop_pending_signals(kernel::Thread* t)
{
    ProcThread& pt = proc(t);
    PendingSignal out;
    while (dequeue(&pt.queue, &pt.sig_pending, ~0ul, &out)) { }
}

unsigned long g_process_pending = 0;

// A processor exception in the thread's own code becomes SIG when the program handles it: a
// handler installed and the signal not blocked (blocked or default, the kernel's crash report
// stays the better answer, as a blocked fault signal on Linux kills the process).
bool fault_signal_wanted(int sig, u64 sp, u64* stack_top)
{
    if (sig < 1 || sig >= k_nsig)
        return false;
    void (*h)(int) = s_actions[sig].handler;
    ProcThread& me = self();
    if (h == SIG_DFL || h == SIG_IGN || (me.sig_blocked & bit(sig)))
        return false;
    // SA_ONSTACK: the saved context and the handler go on the alternate stack (which is what
    // lets a program handle the overflow of its own stack).
    // Not when the fault came from the alternate stack itself (SP: the faulting code's).
    *stack_top = 0;
    u64 base = reinterpret_cast<u64>(me.altstack_sp);
    bool on_it = me.altstack_sp && sp >= base && sp < base + me.altstack_size;
    if ((s_actions[sig].flags & SA_ONSTACK) && !(me.altstack_flags & SS_DISABLE) && !on_it)
        *stack_top = (base + me.altstack_size) & ~u64(15);
    return true;
}

bool take_pending_signal(unsigned long wanted, PendingSignal* out)
{
    ProcThread& me = self();
    return dequeue(&me.queue, &me.sig_pending, wanted, out) ||
           dequeue(&s_process_queue, &s_process_pending, wanted, out);
}

long signal_process(int sig, int code, int pid, union sigval value) { return send_to_process(sig, code, value, pid); }

long signal_thread(kernel::Thread* t, int sig, int code, int pid, union sigval value)
{
    return send(t, sig, code, value, pid);
}

// At the end of an interrupt that came in while the thread ran its own code (interrupts on,
// not a kernel thread, not the idle loop): pending signals are delivered there, as Linux does
// on its way back from an interrupt, so a thread that makes no system calls (a busy loop
// waiting for SIGALRM's handler) still gets them. The handler runs on the thread's stack below
// the interrupt's saved state, with interrupts on; returning resumes the interrupted code.
void deliver_signals_on_interrupt_return()
{
    kernel::Thread* t = kernel::current();
    if (!t || t->kernel_thread || kernel::in_idle() || !has_deliverable_signal())
        return;
    kernel::irq_enable();
    deliver_pending_signals();
    kernel::irq_disable();
}

void deliver_pending_signals()
{
    for (;;) {
        kernel::IrqState s = g_libos_lock.lock();
        ProcThread& me = self();
        PendingSignal p;
        bool got = dequeue(&me.queue, &me.sig_pending, ~me.sig_blocked, &p) ||
                   dequeue(&s_process_queue, &s_process_pending, ~me.sig_blocked, &p);
        if (!got) {
            // Nothing left for this thread: its waits need not be cut short any more.
            kernel::current()->interrupt_pending = false;
            g_libos_lock.unlock(s);
            return;
        }
        g_libos_lock.unlock(s);
        deliver(p);
    }
}

void raise_signal(int sig) { (void)send(kernel::current(), sig, SI_USER); }

long sys_rt_sigaction(long sig, long act, long oldact, long sigsetsize)
{
    if (sigsetsize != sizeof(unsigned long))
        return -EINVAL;
    if (sig < 1 || sig >= k_nsig)
        return -EINVAL;
    if (act && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    KernelSigaction action;
    if (act) {
        if (long r = read_user(act, &action); r < 0)
            return r;
    }
    // Written after the change: checked before it, so that a bad pointer changes nothing.
    if (oldact && !user_ok(oldact, sizeof(KernelSigaction)))
        return -EFAULT;
    KernelSigaction old = s_actions[sig];
    if (act) {
        s_actions[sig] = action;
        s_actions[sig].mask &= ~k_unblockable;
        // POSIX: setting a pending signal to be ignored discards it, blocked or not.
        if (is_ignored(static_cast<int>(sig)) && sig != k_sigcancel) {
            for (kernel::Thread* t = kernel::first_thread(); t; t = kernel::next_thread(t))
                discard(&proc(t).queue, &proc(t).sig_pending, static_cast<int>(sig));
            discard(&s_process_queue, &s_process_pending, static_cast<int>(sig));
        }
    }
    return oldact ? write_user(oldact, old) : 0;
}

long sys_rt_sigprocmask(long how, long set, long oldset, long sigsetsize)
{
    if (sigsetsize != sizeof(unsigned long))
        return -EINVAL;
    unsigned long s = 0;
    if (set) {
        if (long r = read_user(set, &s); r < 0)
            return r;
    }
    if (oldset && !user_ok(oldset, sizeof(unsigned long)))
        return -EFAULT; // checked before the mask changes
    ProcThread& me = self();
    unsigned long old = me.sig_blocked;
    if (set) {
        switch (how) {
        case SIG_BLOCK: me.sig_blocked |= s; break;
        case SIG_UNBLOCK: me.sig_blocked &= ~s; break;
        case SIG_SETMASK: me.sig_blocked = s; break;
        default: return -EINVAL;
        }
        me.sig_blocked &= ~k_unblockable;
        // Ignored signals that were waiting only because they were blocked are dropped now.
        for (int sig = 1; sig < k_nsig; ++sig) {
            if ((me.sig_pending & bit(sig)) && !(me.sig_blocked & bit(sig)) && is_ignored(sig) && sig != k_sigcancel)
                discard(&me.queue, &me.sig_pending, sig);
        }
    }
    if (oldset) {
        if (long r = write_user(oldset, old); r < 0)
            return r;
    }
    return 0; // newly unblocked pending signals are delivered on the way out
}

long sys_kill(long pid, long sig)
{
    if (sig < 0 || sig >= k_nsig)
        return -EINVAL;
    if (pid != k_pid && pid != 0 && pid != -1)
        return -ESRCH;
    return send_to_process(sig, SI_USER);
}

long sys_tkill(long tid, long sig)
{
    if (tid <= 0)
        return -EINVAL;
    if (sig < 0 || sig >= k_nsig)
        return -EINVAL;
    kernel::Thread* t = kernel::find_thread(static_cast<int>(tid));
    if (!t || t->kernel_thread)
        return -ESRCH;
    return send(t, sig, SI_TKILL);
}

long sys_tgkill(long tgid, long tid, long sig)
{
    if (tgid <= 0 || tid <= 0)
        return -EINVAL;
    if (tgid != k_pid)
        return -ESRCH;
    return sys_tkill(tid, sig);
}

long sys_rt_sigqueueinfo(long pid, long sig, long info)
{
    siginfo_t si;
    if (long r = read_user(info, &si); r < 0)
        return r;
    if (pid != k_pid)
        return -ESRCH;
    return send_to_process(sig, si.si_code, si.si_value);
}

long sys_rt_tgsigqueueinfo(long tgid, long tid, long sig, long info)
{
    siginfo_t si;
    if (long r = read_user(info, &si); r < 0)
        return r;
    if (tgid != k_pid)
        return -ESRCH;
    kernel::Thread* t = kernel::find_thread(static_cast<int>(tid));
    if (!t || t->kernel_thread)
        return -ESRCH;
    return send(t, sig, si.si_code, si.si_value);
}

long sys_rt_sigpending(long set, long size)
{
    if (size != sizeof(unsigned long))
        return -EINVAL;
    ProcThread& me = self();
    return write_user(set, (me.sig_pending | s_process_pending) & me.sig_blocked);
}

long sys_rt_sigsuspend(long mask, long size)
{
    if (size != sizeof(unsigned long))
        return -EINVAL;
    unsigned long temporary = 0;
    if (long r = read_user(mask, &temporary); r < 0)
        return r;
    ProcThread& me = self();
    unsigned long saved = me.sig_blocked;
    me.sig_blocked = temporary & ~k_unblockable;
    // Wait until a signal that the temporary mask lets through is pending.
    while (!has_deliverable_signal())
        (void)kernel::block(nullptr, 0, true);
    deliver_pending_signals();
    me.sig_blocked = saved;
    return -EINTR;
}

long sys_rt_sigtimedwait(long set, long info, long timeout, long size)
{
    if (size != sizeof(unsigned long))
        return -EINVAL;
    unsigned long wanted = 0;
    if (long r = read_user(set, &wanted); r < 0)
        return r;
    wanted &= ~k_unblockable;
    if (info && !user_ok(info, sizeof(siginfo_t)))
        return -EFAULT; // before a signal is taken (the copy out checks again)
    u64 deadline = 0;
    bool poll_only = false;
    if (timeout) {
        struct timespec ts;
        if (long r = read_user(timeout, &ts); r < 0)
            return r;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
            return -EINVAL;
        u64 ns = static_cast<u64>(ts.tv_sec) * 1000000000u + static_cast<u64>(ts.tv_nsec);
        poll_only = ns == 0;
        deadline = kernel::monotonic_ns() + ns;
    }
    ProcThread& me = self();
    for (;;) {
        PendingSignal p;
        if (dequeue(&me.queue, &me.sig_pending, wanted, &p) || dequeue(&s_process_queue, &s_process_pending, wanted, &p)) {
            if (info) {
                siginfo_t si;
                fill_info(&si, p);
                if (long r = write_user(info, si); r < 0)
                    return r; // the signal is taken, as on Linux
            }
            return p.sig;
        }
        if (poll_only)
            return -EAGAIN;
        if (has_deliverable_signal())
            return -EINTR; // another signal arrived: its handler runs on the way out
        me.sig_waiting = wanted;
        kernel::WakeReason r = kernel::block(nullptr, deadline, true);
        me.sig_waiting = 0;
        if (r == kernel::WakeReason::TimedOut)
            poll_only = true; // one last look
        else
            kernel::current()->interrupt_pending = false;
    }
}

long sys_sigaltstack(long ss, long old)
{
    ProcThread& me = self();
    bool on = on_altstack(me);
    if (old) {
        stack_t o {};
        o.ss_sp = me.altstack_sp;
        o.ss_size = me.altstack_size;
        o.ss_flags = (me.altstack_flags & SS_DISABLE) ? SS_DISABLE : (on ? SS_ONSTACK : 0);
        if (long r = write_user(old, o); r < 0)
            return r;
    }
    if (ss) {
        stack_t n;
        if (long r = read_user(ss, &n); r < 0)
            return r;
        if (n.ss_flags & ~(SS_DISABLE | SS_AUTODISARM))
            return -EINVAL;
        if (on)
            return -EPERM;
        if (!(n.ss_flags & SS_DISABLE) && n.ss_size < MINSIGSTKSZ)
            return -ENOMEM;
        me.altstack_sp = (n.ss_flags & SS_DISABLE) ? nullptr : n.ss_sp;
        me.altstack_size = (n.ss_flags & SS_DISABLE) ? 0 : n.ss_size;
        me.altstack_flags = n.ss_flags;
    }
    return 0;
}

// Handlers here are plain calls that return normally, so rt_sigreturn is never a handler's way
// back: a program that makes it has no signal frame on its stack. Linux then restores garbage
// (a signal mask that blocks SIGSEGV among it) or finds the frame bad, and the program dies of
// SIGSEGV, its handler or not; so it does here, with a report of where it was called.
long sys_rt_sigreturn()
{
    kernel::log("rt_sigreturn outside a signal handler: no signal frame to return to");
    auto* frame = static_cast<const u64*>(__builtin_frame_address(0));
    kernel::print_backtrace(reinterpret_cast<u64>(__builtin_return_address(0)), frame[0]);
    kernel::log("terminated by %s (%d)", signal_name(SIGSEGV), SIGSEGV);
    platform::shutdown(kernel::k_exit_sigsegv);
}

} // namespace atl::libos

// The kernel's fault trampoline lands here, on the faulting thread's stack with interrupts as
// the thread had them: the handler runs; returning resumes the faulting instruction (which
// faults again unless the handler changed something, as on Linux).
extern "C" void atoll_fault_entry(const atl::arch::InterruptFrame*, long sig, long code, atl::u64 addr)
{
    using namespace atl::libos;
    PendingSignal p { nullptr, static_cast<int>(sig), static_cast<int>(code), 0, {} };
    p.fault = true;
    p.addr = reinterpret_cast<void*>(addr);
    deliver(p);
}
