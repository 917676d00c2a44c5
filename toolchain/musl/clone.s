# SPDX-License-Identifier: MIT
# Atoll's replacement for musl's src/thread/x86_64/clone.s:
#   int __clone(int (*fn)(void *), void *stack, int flags, void *arg,
#               pid_t *ptid, void *tls, pid_t *ctid)
# The libOS creates the thread itself (it starts fn(arg) on the given stack with the given
# TLS), so this is a tail call with the same arguments.
	.text
	.global __clone
	.hidden __clone
	.type   __clone,@function
__clone:
	jmp __atoll_clone
	.size __clone,.-__clone
