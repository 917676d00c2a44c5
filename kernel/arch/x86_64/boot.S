// SPDX-License-Identifier: MIT
// PVH entry (Xen "HVM direct boot ABI"; QEMU -kernel, Firecracker, Cloud Hypervisor and Xen all
// use it): the loader enters pvh_entry32 in 32-bit protected mode, paging off, flat segments,
// %ebx = physical address of struct hvm_start_info. We build an identity map of the first
// 4 GiB with 2 MiB pages, enter long mode and call atoll_kernel_main(start_info) in C++ (kernel/src/start.cpp).

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define CR4_FSGSBASE (1 << 16)
#define CR4_OSXSAVE (1 << 18)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80

    .section .note.Xen, "a", @note
    .balign 4
    .long 4                     // name size ("Xen\0")
    .long 8                     // descriptor size: 8 bytes for an ELF64 image
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad pvh_entry32
    .balign 4

    .section .text.boot, "ax", @progbits
    .code32
    .global pvh_entry32
    .type pvh_entry32, @function
pvh_entry32:
    cli
    cld
    rdtsc                       // the first instruction's time, for atoll.bootstats
    mov %eax, boot_tsc
    mov %edx, boot_tsc + 4
    mov %ebx, boot_start_info
    mov $boot_stack_top, %esp

    // Without long mode there is nothing we can run: say so on the serial port and stop.
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb .Lno_long_mode
    mov $0x80000001, %eax
    cpuid
    test $(1 << 29), %edx
    jz .Lno_long_mode
    mov %edx, %esi              // keep extended features: bit 20 is NX

    // Page tables: PML4[0] -> PDPT, PDPT[0..3] -> four page directories of 2 MiB pages.
    mov $boot_pdpt, %eax
    or $(PTE_P | PTE_W), %eax
    mov %eax, boot_pml4
    mov $boot_pd, %eax
    or $(PTE_P | PTE_W), %eax
    mov $boot_pdpt, %edi
    mov $4, %ecx
1:  mov %eax, (%edi)
    add $4096, %eax
    add $8, %edi
    loop 1b
    // The first 2 MiB go through a page table of 4 KiB pages, so that the C++ side can unmap
    // the lowest pages as a null-pointer guard once it has copied the boot information (which
    // loaders place there: SeaBIOS's PVH memory map sits in page 0).
    mov $(PTE_P + PTE_W), %eax
    mov $boot_pt0, %edi
    mov $512, %ecx
10: mov %eax, (%edi)
    movl $0, 4(%edi)
    add $4096, %eax
    add $8, %edi
    loop 10b
    mov $boot_pd, %edi
    mov $(PTE_P | PTE_W | PTE_PS), %eax
    xor %edx, %edx              // high half of each entry: physical address bits 32+
    mov $2048, %ecx
2:  mov %eax, (%edi)
    mov %edx, 4(%edi)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %edi
    loop 2b
    movl $(boot_pt0 + PTE_P + PTE_W), boot_pd

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    test $(1 << 20), %esi
    jz 3f
    or $EFER_NXE, %eax
3:  wrmsr
    mov %cr0, %eax
    and $~CR0_EM, %eax
    or $(CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode_entry

.Lno_long_mode:
    mov $no_long_mode_msg, %esi
4:  movb (%esi), %al
    test %al, %al
    jz 5f
    mov $0x3f8, %dx
    outb %al, %dx
    inc %esi
    jmp 4b
5:  hlt
    jmp 5b

    .code64
long_mode_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp

    // SSE for all code (the C/C++ runtime uses it); AVX state when the CPU has XSAVE+AVX.
    mov %cr4, %rax
    or $(CR4_OSFXSR | CR4_OSXMMEXCPT), %rax
    mov %rax, %cr4
    mov $7, %eax
    xor %ecx, %ecx
    cpuid
    test $1, %ebx               // FSGSBASE: lets thread switches use wrfsbase
    jz 6f
    mov %cr4, %rax
    or $CR4_FSGSBASE, %rax
    mov %rax, %cr4
6:  mov $1, %eax
    cpuid
    test $(1 << 26), %ecx       // XSAVE
    jz 7f
    mov %ecx, %esi
    mov %cr4, %rax
    or $CR4_OSXSAVE, %rax
    mov %rax, %cr4
    mov $3, %eax                // x87 | SSE
    test $(1 << 28), %esi       // AVX
    jz 8f
    or $4, %eax
8:  xor %edx, %edx
    xor %ecx, %ecx
    xsetbv
7:  fninit
    mov boot_start_info(%rip), %edi
    xor %ebp, %ebp              // the backtrace stops here
    call atoll_kernel_main
9:  cli
    hlt
    jmp 9b
    .size pvh_entry32, .-pvh_entry32

    .section .rodata.boot, "a"
no_long_mode_msg:
    .asciz "atoll: this CPU has no long mode (x86_64); cannot boot\n"

    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    // 0x08: 64-bit code
    .quad 0x00cf92000000ffff    // 0x10: data
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .data.boot, "aw"
    .balign 8
    .global boot_start_info
boot_start_info:
    .quad 0
    .global boot_tsc
boot_tsc:
    .quad 0

    .section .bss.boot, "aw", @nobits
    .balign 4096
    .global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4 * 4096
    .global boot_pt0
boot_pt0:
    .skip 4096
    .balign 16
boot_stack:
    .skip 65536
    .global boot_stack_top
boot_stack_top:
