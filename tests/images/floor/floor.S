// SPDX-License-Identifier: MIT
// The empty-guest floor (DESIGN.md §3): a PVH image that prints one line and exits through
// isa-debug-exit, nothing else. Boot benchmarks compare Atoll's images against it.
    .section .note.Xen, "a", @note
    .balign 4
    .long 4, 8, 18              // "Xen", 8-byte descriptor, XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad floor_entry
    .balign 4

    .text
    .code32
    .global floor_entry
floor_entry:
    mov $msg, %esi
1:  movb (%esi), %al
    test %al, %al
    jz 2f
    mov $0x3f8, %dx
    outb %al, %dx
    inc %esi
    jmp 1b
2:  mov $0xf4, %dx
    xor %eax, %eax
    outl %eax, %dx
3:  hlt
    jmp 3b
msg:
    .asciz "floor\n"
