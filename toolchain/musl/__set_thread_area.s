# SPDX-License-Identifier: MIT
# Atoll's replacement for musl's src/thread/x86_64/__set_thread_area.s:
# __set_thread_area(p) is arch_prctl(ARCH_SET_FS, p) as a call into the libOS.
	.text
	.global __set_thread_area
	.hidden __set_thread_area
	.type __set_thread_area,@function
__set_thread_area:
	mov %rdi,%rdx
	mov $0x1002,%esi      # ARCH_SET_FS
	mov $158,%edi         # SYS_arch_prctl
	jmp __atoll_syscall
	.size __set_thread_area,.-__set_thread_area
