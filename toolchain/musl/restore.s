# SPDX-License-Identifier: MIT
# Atoll's replacement for musl's src/signal/x86_64/restore.s. The libOS runs signal handlers
# as calls and returns from them itself; reaching rt_sigreturn is reported by the libOS.
	.text
	.global __restore
	.hidden __restore
	.type __restore,@function
__restore:
	.global __restore_rt
	.hidden __restore_rt
	.type __restore_rt,@function
__restore_rt:
	mov $15,%edi          # SYS_rt_sigreturn
	call __atoll_syscall
	ud2
	.size __restore_rt,.-__restore_rt
