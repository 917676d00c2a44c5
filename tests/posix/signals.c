// SPDX-License-Identifier: MIT
// Signals sent by the process to itself: sigaction install/query, synchronous delivery by
// raise/kill, blocking and pending sets, coalescing of standard signals vs queueing of
// real-time ones, SIG_IGN, SA_RESETHAND, SA_SIGINFO codes, sigsuspend, sigtimedwait and the
// alternate stack. Handlers only record facts; main prints them.
#include "posix_common.h"

#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>

static volatile sig_atomic_t count, last_code, last_value, blocked_inside, on_altstack;
static char altstack[1 << 16];

static void handler(int sig)
{
	(void)sig;
	count++;
}

static void info_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	count++;
	last_code = si->si_code;
	last_value = si->si_value.sival_int;
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	blocked_inside = sigismember(&now, sig) * 2 + sigismember(&now, SIGUSR2);
	char here;
	uintptr_t a = (uintptr_t)&here, lo = (uintptr_t)altstack;
	on_altstack = a >= lo && a < lo + sizeof altstack;
}

static const char *code_name(int c)
{
	return c == SI_USER ? "SI_USER" : c == SI_TKILL ? "SI_TKILL" : c == SI_QUEUE ? "SI_QUEUE" : "other";
}

static int install(int sig, void (*h)(int), int flags)
{
	struct sigaction sa = {0};
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static int pending(int sig)
{
	sigset_t s;
	sigpending(&s);
	return sigismember(&s, sig);
}

static void mask(int how, int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(how, &s, NULL);
}

int main(void)
{
	scratch_enter("signals");
	struct sigaction sa = {0}, old;

	// Install and query.
	CHECK("query SIGUSR1 before install", sigaction(SIGUSR1, NULL, &old));
	SAY("default disposition is SIG_DFL", "%s", yes(old.sa_handler == SIG_DFL));
	CHECK("install SIGUSR1 SA_RESTART", install(SIGUSR1, handler, SA_RESTART));
	CHECK("query SIGUSR1", sigaction(SIGUSR1, NULL, &old));
	SAY("queried handler/SA_RESTART", "%s %s", yes(old.sa_handler == handler),
	    yes(old.sa_flags & SA_RESTART));

	// Synchronous delivery: the handler has run by the time raise/kill return.
	CHECK("raise SIGUSR1", raise(SIGUSR1));
	SAY("handler count", "%d", (int)count);
	CHECK("kill self SIGUSR1", kill(getpid(), SIGUSR1));
	SAY("handler count", "%d", (int)count);

	// Blocked: stays pending, and two standard signals coalesce into one delivery.
	mask(SIG_BLOCK, SIGUSR1);
	count = 0;
	CHECK("raise while blocked", raise(SIGUSR1));
	CHECK("raise while blocked again", raise(SIGUSR1));
	SAY("count while blocked", "%d", (int)count);
	SAY("sigpending has SIGUSR1", "%s", yes(pending(SIGUSR1)));
	mask(SIG_UNBLOCK, SIGUSR1);
	SAY("count after unblock (coalesced)", "%d", (int)count);
	SAY("sigpending after unblock", "%s", yes(pending(SIGUSR1)));

	// Real-time signals queue: two sends, two deliveries.
	int rt = SIGRTMIN + 2;
	install(rt, handler, 0);
	mask(SIG_BLOCK, rt);
	count = 0;
	raise(rt);
	raise(rt);
	mask(SIG_UNBLOCK, rt);
	SAY("real-time signal deliveries after unblock", "%d", (int)count);

	// sigprocmask edge cases: SIGKILL/SIGSTOP cannot be blocked; bad how.
	sigset_t all, now;
	sigfillset(&all);
	sigset_t saved;
	CHECK("block everything", sigprocmask(SIG_BLOCK, &all, &saved));
	sigprocmask(SIG_SETMASK, NULL, &now);
	SAY("SIGKILL/SIGSTOP blocked", "%s %s", yes(sigismember(&now, SIGKILL)),
	    yes(sigismember(&now, SIGSTOP)));
	SAY("SIGUSR2 blocked", "%s", yes(sigismember(&now, SIGUSR2)));
	sigprocmask(SIG_SETMASK, &saved, NULL);
	CHECK("sigprocmask bad how", sigprocmask(99, &all, NULL));

	// kill and sigaction argument checks.
	CHECK("kill self signal 0", kill(getpid(), 0));
	CHECK("kill self signal 999", kill(getpid(), 999));
	CHECK("kill self signal -1", kill(getpid(), -1));
	CHECK("kill nonexistent pid", kill(0x3fffffff, 0));
	sa.sa_handler = handler;
	CHECK("sigaction SIGKILL", sigaction(SIGKILL, &sa, NULL));
	CHECK("sigaction SIGSTOP", sigaction(SIGSTOP, &sa, NULL));
	CHECK("sigaction SIGKILL query only", sigaction(SIGKILL, NULL, &old));
	CHECK("sigaction signal 0", sigaction(0, &sa, NULL));
	CHECK("sigaction signal 65", sigaction(65, &sa, NULL));

	// SIG_IGN: raise is a no-op. But a blocked signal is never discarded at generation,
	// even when ignored: it stays pending until unblocked, then vanishes.
	count = 0;
	CHECK("SIGUSR1 SIG_IGN", install(SIGUSR1, SIG_IGN, 0));
	CHECK("raise ignored", raise(SIGUSR1));
	SAY("count", "%d", (int)count);
	mask(SIG_BLOCK, SIGUSR1);
	raise(SIGUSR1);
	SAY("ignored+blocked is pending", "%s", yes(pending(SIGUSR1)));
	mask(SIG_UNBLOCK, SIGUSR1);
	SAY("pending after unblock", "%s", yes(pending(SIGUSR1)));
	// Setting SIG_IGN discards a pending signal.
	install(SIGUSR1, handler, 0);
	mask(SIG_BLOCK, SIGUSR1);
	raise(SIGUSR1);
	install(SIGUSR1, SIG_IGN, 0);
	SAY("pending after SIG_IGN set", "%s", yes(pending(SIGUSR1)));
	mask(SIG_UNBLOCK, SIGUSR1);

	// SA_RESETHAND: one delivery, then back to SIG_DFL.
	count = 0;
	install(SIGUSR1, handler, SA_RESETHAND);
	raise(SIGUSR1);
	sigaction(SIGUSR1, NULL, &old);
	SAY("SA_RESETHAND count / now SIG_DFL", "%d %s", (int)count, yes(old.sa_handler == SIG_DFL));

	// SA_SIGINFO: si_code tells raise (tkill) from kill from sigqueue; the signal itself
	// and sa_mask are blocked while the handler runs.
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = info_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	CHECK("install SA_SIGINFO", sigaction(SIGUSR1, &sa, NULL));
	raise(SIGUSR1);
	SAY("raise si_code", "%s", code_name(last_code));
	SAY("blocked inside handler: self, sa_mask", "%s %s", yes(blocked_inside & 2),
	    yes(blocked_inside & 1));
	kill(getpid(), SIGUSR1);
	SAY("kill si_code", "%s", code_name(last_code));
	CHECK("sigqueue 42", sigqueue(getpid(), SIGUSR1, (union sigval){.sival_int = 42}));
	SAY("sigqueue si_code / value", "%s %d", code_name(last_code), (int)last_value);
	mask(SIG_UNBLOCK, SIGUSR1); // nothing left blocked after the handler returned
	sigprocmask(SIG_SETMASK, NULL, &now);
	SAY("mask restored after handler", "%s", yes(!sigismember(&now, SIGUSR2)));

	// sigsuspend returns -1 EINTR after running the handler of a pending signal.
	mask(SIG_BLOCK, SIGUSR1);
	raise(SIGUSR1);
	count = 0;
	sigset_t none;
	sigemptyset(&none);
	CHECK("sigsuspend with pending signal", sigsuspend(&none));
	SAY("count", "%d", (int)count);
	sigprocmask(SIG_SETMASK, NULL, &now);
	SAY("still blocked after sigsuspend", "%s", yes(sigismember(&now, SIGUSR1)));

	// sigtimedwait consumes a blocked pending signal without running the handler.
	count = 0;
	raise(SIGUSR1);
	sigset_t w;
	sigemptyset(&w);
	sigaddset(&w, SIGUSR1);
	struct timespec zero = {0, 0};
	siginfo_t si;
	// Raw call: glibc's sigtimedwait rewrites SI_TKILL to SI_USER, musl's does not.
	CHECK("rt_sigtimedwait pending (returns signo)",
	      syscall(SYS_rt_sigtimedwait, &w, &si, &zero, 8) == SIGUSR1);
	SAY("sigtimedwait si_code / handler count", "%s %d", code_name(si.si_code), (int)count);
	CHECK("sigtimedwait nothing pending", sigtimedwait(&w, &si, &zero));
	mask(SIG_UNBLOCK, SIGUSR1);

	// Alternate signal stack.
	stack_t ss;
	CHECK("sigaltstack query", sigaltstack(NULL, &ss));
	SAY("SS_DISABLE set", "%s", yes(ss.ss_flags & SS_DISABLE));
	ss = (stack_t){.ss_sp = altstack, .ss_size = 512, .ss_flags = 0};
	CHECK("sigaltstack too small", sigaltstack(&ss, NULL));
	ss.ss_size = sizeof altstack;
	ss.ss_flags = 0x1234;
	CHECK("sigaltstack bad flags", sigaltstack(&ss, NULL));
	ss.ss_flags = 0;
	CHECK("sigaltstack install", sigaltstack(&ss, NULL));
	CHECK("sigaltstack query again", sigaltstack(NULL, &ss));
	SAY("flags now (0 = enabled, not on it)", "%d", ss.ss_flags);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	SAY("SA_ONSTACK handler ran on the alternate stack", "%s", yes(on_altstack));
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	SAY("without SA_ONSTACK", "%s", yes(on_altstack));

	scratch_leave("signals");
	return 0;
}
