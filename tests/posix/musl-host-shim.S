/* SPDX-License-Identifier: MIT */
/* Host-only shim: lets the suite link against Atoll's musl (whose system calls are calls to
 * __atoll_syscall instead of the `syscall` instruction) and run as an ordinary Linux process.
 * run-host.sh uses it when ATOLL_SYSROOT is set, so musl-vs-glibc differences can be told
 * apart from libOS-vs-Linux differences. Never part of an Atoll image. */
	.text
	.global __atoll_syscall
	.type __atoll_syscall,@function
/* long __atoll_syscall(long n, long a1, ..., long a6): a6 is on the stack. */
__atoll_syscall:
	mov %rdi,%rax
	cmp $15,%rax          /* rt_sigreturn, called from musl's __restore_rt: the kernel */
	jne 1f                /* wants %rsp at the signal frame, so drop our return address */
	add $8,%rsp
	syscall
	ud2
1:	mov %rsi,%rdi
	mov %rdx,%rsi
	mov %rcx,%rdx
	mov %r8,%r10
	mov %r9,%r8
	mov 8(%rsp),%r9
	syscall
	ret
	.size __atoll_syscall,.-__atoll_syscall

/* Threads are not used by the suite; fail loudly if something tries. */
	.global __atoll_clone
	.type __atoll_clone,@function
__atoll_clone:
	mov $-38,%rax         /* -ENOSYS */
	ret
	.size __atoll_clone,.-__atoll_clone

	.global __atoll_unmapself
	.type __atoll_unmapself,@function
__atoll_unmapself:
	ud2
	.size __atoll_unmapself,.-__atoll_unmapself

	.section .note.GNU-stack,"",@progbits
