# SPDX-License-Identifier: MIT
# Atoll's replacement for musl's src/thread/x86_64/__unmapself.s:
#   void __unmapself(void *base, size_t size)   (never returns)
# A detached thread frees the stack it is running on and exits; the libOS does both after
# switching away from that stack.
	.text
	.global __unmapself
	.type   __unmapself,@function
__unmapself:
	jmp __atoll_unmapself
	.size __unmapself,.-__unmapself
