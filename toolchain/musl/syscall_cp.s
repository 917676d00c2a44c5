# SPDX-License-Identifier: MIT
# Atoll's replacement for musl's src/thread/x86_64/syscall_cp.s: a cancellation-point system
# call is a plain call to __atoll_syscall. The labels keep musl's meaning: a cancel request
# seen before the call branches to __cp_cancel.
#   in:  rdi=cancel flag, rsi=nr, rdx,rcx,r8,r9,8(%rsp),16(%rsp) = arguments 1..6
#   out: __atoll_syscall(nr, a1..a6) in rdi,rsi,rdx,rcx,r8,r9 and a6 on the stack
	.text
	.global __cp_begin
	.hidden __cp_begin
	.global __cp_end
	.hidden __cp_end
	.global __cp_cancel
	.hidden __cp_cancel
	.hidden __cancel
	.global __syscall_cp_asm
	.hidden __syscall_cp_asm
	.type   __syscall_cp_asm,@function
__syscall_cp_asm:
__cp_begin:
	mov (%rdi),%eax
	test %eax,%eax
	jnz __cp_cancel
	mov %rsi,%rdi
	mov %rdx,%rsi
	mov %rcx,%rdx
	mov %r8,%rcx
	mov %r9,%r8
	mov 8(%rsp),%r9
	mov 16(%rsp),%rax
	push %rax             # entry %rsp is 8 mod 16: one push aligns the call
	call __atoll_syscall
	add $8,%rsp
__cp_end:
	ret
__cp_cancel:
	jmp __cancel
	.size __syscall_cp_asm,.-__syscall_cp_asm
