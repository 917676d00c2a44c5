// SPDX-License-Identifier: MIT
// The out-of-line accesses to the application's memory (kernel/arch/user_access.h): a copy of
// any length and a string copy. Each instruction that touches the application's memory is
// recorded in __atoll_extable with the label to resume at when it faults
// (exceptions.cpp, fixup_user_access), which returns the failure.

// RECORD insn, fixup: as ATL_USER_ACCESS_RECORD in include/arch/user_access_inline.h.
.macro RECORD insn, fixup
    .pushsection __atoll_extable, "ao", @progbits, \insn
    .balign 4
    .long \insn - ., \fixup - .
    .popsection
.endm

// bool atoll_user_copy(void* dst, const void* src, size_t n): true, or false when an access
// faulted. Eight bytes at a time and then the rest, as musl's memcpy does (QEMU's TCG runs a
// rep-prefixed move one iteration at a time, so bytes alone would be eight times as slow).
    .section .text.atoll_user_copy, "ax", @progbits
    .globl atoll_user_copy
    .type atoll_user_copy, @function
atoll_user_copy:
    mov %rdx, %rcx
    shr $3, %rcx
.Lcopy_quads:
    rep movsq
    mov %edx, %ecx
    and $7, %ecx
.Lcopy_bytes:
    rep movsb
    mov $1, %eax
    ret
.Lcopy_fault:
    xor %eax, %eax
    ret
    .size atoll_user_copy, . - atoll_user_copy
    RECORD .Lcopy_quads, .Lcopy_fault
    RECORD .Lcopy_bytes, .Lcopy_fault

// long atoll_user_string_copy(char* dst, const char* src, size_t cap): the string's length
// (< cap), cap when no nul came within cap bytes, or -1 when a read faulted.
    .section .text.atoll_user_string_copy, "ax", @progbits
    .globl atoll_user_string_copy
    .type atoll_user_string_copy, @function
atoll_user_string_copy:
    xor %eax, %eax
1:  cmp %rdx, %rax
    jae 2f
.Lstring_load:
    movzbl (%rsi,%rax), %ecx
    mov %cl, (%rdi,%rax)
    test %cl, %cl
    jz 2f
    inc %rax
    jmp 1b
2:  ret
.Lstring_fault:
    mov $-1, %rax
    ret
    .size atoll_user_string_copy, . - atoll_user_string_copy
    RECORD .Lstring_load, .Lstring_fault
