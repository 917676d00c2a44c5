/* SPDX-License-Identifier: MIT */
/* Atoll's replacement for musl's arch/x86_64/syscall_arch.h.
 * The application and the libOS share one address space in ring 0, so a system call is a
 * plain function call into the libOS. __atoll_syscall returns a value >= 0 or -errno, exactly
 * what the Linux `syscall` instruction leaves in %rax. No vDSO: clock_gettime is already a
 * call. */
#define __SYSCALL_LL_E(x) (x)
#define __SYSCALL_LL_O(x) (x)

long __atoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

static __inline long __syscall0(long n)
{
	return __atoll_syscall(n, 0, 0, 0, 0, 0, 0);
}

static __inline long __syscall1(long n, long a1)
{
	return __atoll_syscall(n, a1, 0, 0, 0, 0, 0);
}

static __inline long __syscall2(long n, long a1, long a2)
{
	return __atoll_syscall(n, a1, a2, 0, 0, 0, 0);
}

static __inline long __syscall3(long n, long a1, long a2, long a3)
{
	return __atoll_syscall(n, a1, a2, a3, 0, 0, 0);
}

static __inline long __syscall4(long n, long a1, long a2, long a3, long a4)
{
	return __atoll_syscall(n, a1, a2, a3, a4, 0, 0);
}

static __inline long __syscall5(long n, long a1, long a2, long a3, long a4, long a5)
{
	return __atoll_syscall(n, a1, a2, a3, a4, a5, 0);
}

static __inline long __syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return __atoll_syscall(n, a1, a2, a3, a4, a5, a6);
}

#define IPC_64 0
