// SPDX-License-Identifier: MIT
// Processor faults as signals, for programs that handle them: SIGSEGV for a null write, a
// write to a read-only page and a non-canonical address, with si_code and si_addr; a handler
// that repairs the page with mprotect and returns (the faulting write then succeeds); SIGFPE
// for an integer division by zero; SIGILL for ud2; SIGTRAP for int3 (execution continues after
// it); a fault handled on the alternate stack; a thread's stack overflow caught there.
#include "posix_common.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>

static sigjmp_buf jump;
static volatile sig_atomic_t got_sig, got_code, on_alt, repaired;
static void *volatile got_addr;
static char *volatile repair_page;
static long pagesize;
static char altstack[1 << 16];
static char *volatile alt_lo = altstack; // the alternate stack `escape` checks it ran on
static volatile size_t alt_len = sizeof altstack;

static void escape(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = si->si_addr;
	char here;
	on_alt = &here >= alt_lo && &here < alt_lo + alt_len;
	siglongjmp(jump, 1);
}

static void repair(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	got_addr = si->si_addr;
	mprotect(repair_page, pagesize, PROT_READ | PROT_WRITE);
	repaired++;
}

static void trap(int sig)
{
	got_sig = sig;
}

static void on(int sig, void (*h)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO | flags;
	sigaction(sig, &sa, NULL);
}

#define EXPECT_FAULT(label, statement)                                                      \
	do {                                                                                \
		got_sig = got_code = 0;                                                     \
		got_addr = NULL;                                                            \
		if (sigsetjmp(jump, 1) == 0) {                                              \
			statement;                                                          \
			SAY(label, "no signal");                                            \
		} else {                                                                    \
			SAY(label, "signal %d code %d", (int)got_sig, (int)got_code);       \
		}                                                                           \
	} while (0)

static int recurse(int n)
{
	volatile char buf[512];
	buf[0] = (char)n;
	if (n > 1000000) // never reached: 128 KB of stack end first (keeps compilers from objecting)
		return 0;
	return recurse(n + 1) + buf[0];
}

// A thread with a small stack overflows it; its SIGSEGV handler runs on the thread's
// alternate stack and jumps out.
static void *overflow(void *arg)
{
	(void)arg;
	static char alt[1 << 16];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
	sigaltstack(&ss, NULL);
	alt_lo = alt;
	alt_len = sizeof alt;
	got_sig = 0;
	on_alt = 0;
	if (sigsetjmp(jump, 1) == 0)
		recurse(0);
	int ok = got_sig == SIGSEGV && on_alt;
	return (void *)(intptr_t)ok;
}

int main(void)
{
	pagesize = sysconf(_SC_PAGESIZE);
	on(SIGSEGV, escape, 0);
	on(SIGFPE, escape, 0);
	on(SIGILL, escape, 0);

	EXPECT_FAULT("write to address 8", *(volatile int *)(uintptr_t)opaque(8) = 1);
	SAY("si_addr", "%lu", (unsigned long)(uintptr_t)got_addr);

	char *ro = mmap(NULL, pagesize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT_FAULT("write to a read-only page", ro[opaque(100)] = 1);
	SAY("si_addr is the byte written", "%s", yes(got_addr == ro + 100));

	EXPECT_FAULT("read of a non-canonical address", (void)*(volatile long *)(uintptr_t)0x8000000000000000ul);
	SAY("si_addr", "%lu", (unsigned long)(uintptr_t)got_addr);

	volatile int zero = opaque(0);
	EXPECT_FAULT("integer division by zero", got_code = 10 / zero);
	EXPECT_FAULT("ud2", __asm__ volatile("ud2"));

	// The signal is blocked inside its own handler and restored by siglongjmp: a second
	// fault is caught again.
	EXPECT_FAULT("write to address 16, again", *(volatile int *)(uintptr_t)opaque(16) = 1);

	// A handler that repairs the page and returns: the write is retried and lands.
	repair_page = mmap(NULL, pagesize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	on(SIGSEGV, repair, 0);
	repair_page[opaque(5)] = 42;
	SAY("repaired, then the write landed", "%s", yes(repaired == 1 && repair_page[5] == 42));
	SAY("si_addr was the byte written", "%s", yes(got_addr == repair_page + 5));

	// int3 traps after the instruction: the handler returns and execution goes on.
	signal(SIGTRAP, trap);
	got_sig = 0;
	__asm__ volatile("int3");
	SAY("int3 handled, execution continues", "%s", yes(got_sig == SIGTRAP));

	// On the alternate stack.
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	sigaltstack(&ss, NULL);
	on(SIGSEGV, escape, SA_ONSTACK);
	EXPECT_FAULT("write to address 24, SA_ONSTACK", *(volatile int *)(uintptr_t)opaque(24) = 1);
	SAY("the handler ran on the alternate stack", "%s", yes(on_alt));

	// Stack overflow in a thread, caught on its alternate stack (SA_ONSTACK is still set).
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	pthread_t t;
	void *ok = NULL;
	pthread_create(&t, &attr, overflow, NULL);
	pthread_join(t, &ok);
	SAY("stack overflow caught on the alternate stack", "%s", yes(ok != NULL));

	munmap(ro, pagesize);
	munmap(repair_page, pagesize);
	// (no check count: a static counter cached in a register does not survive siglongjmp)
	puts("faults: done");
	return 0;
}
