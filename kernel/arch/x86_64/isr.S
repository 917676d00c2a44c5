// SPDX-License-Identifier: MIT
// CPU exception entry stubs. Each pushes a zero where the CPU pushes no error code, then the
// vector, then all general registers, and calls atoll_exception(frame) in C++
// (struct InterruptFrame in kernel/arch/x86_64/cpu.h mirrors this layout).

    .text
// The general registers, in the order of struct InterruptFrame (kernel/include/kernel/arch.h).
.macro PUSH_GPRS
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
.endm
.macro POP_GPRS
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
.endm

.macro ISR_NOERR n
    .global isr_\n
isr_\n:
    pushq $0
    pushq $\n
    jmp isr_common
.endm
.macro ISR_ERR n
    .global isr_\n
isr_\n:
    pushq $\n
    jmp isr_common
.endm

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR 8
ISR_NOERR 9
ISR_ERR 10
ISR_ERR 11
ISR_ERR 12
ISR_ERR 13
ISR_ERR 14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR 17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR 21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR 29
ISR_ERR 30
ISR_NOERR 31

isr_common:
    cld
    PUSH_GPRS
    mov %rsp, %rdi
    call atoll_exception        // 5 + 2 + 15 quadwords: %rsp stays 16-byte aligned
    POP_GPRS
    add $16, %rsp
    iretq

    // A fault turned into a signal (cpu.cpp, redirect_to_signal): entered by the exception's
    // iretq on the thread's own stack, %rsp = %rdi = the saved context (an InterruptFrame,
    // 16-byte aligned), %rsi = signal, %rdx = si_code, %rcx = address. The libOS runs the
    // handler; if it returns, the context is restored and the faulting instruction resumed.
    .global atoll_fault_trampoline
    .type atoll_fault_trampoline, @function
atoll_fault_trampoline:
    // The arguments are already where atoll_fault_dispatch(ctx, sig, code, addr) wants them.
    mov %rdi, %rbx              // callee-saved: the context, to come back to
    xor %ebp, %ebp              // backtraces stop here
    call atoll_fault_dispatch   // %rsp is 16-byte aligned at the call
    mov %rbx, %rsp
    POP_GPRS
    add $16, %rsp               // vector, error code
    iretq                       // rip, cs, rflags, rsp, ss of the faulting context
    .size atoll_fault_trampoline, .-atoll_fault_trampoline

    .section .rodata
    .balign 8
    .global isr_table
isr_table:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad isr_\n
.endr

    // Runs fn(arg) on a fresh stack; used once to leave the boot stack for the main thread.
    //   void atoll_call_on_stack(void* stack_top, void (*fn)(void*), void* arg)
    .text
    .global atoll_call_on_stack
atoll_call_on_stack:
    mov %rdi, %rsp
    xor %ebp, %ebp
    mov %rdx, %rdi
    call *%rsi
    ud2

// Device and timer interrupts. They arrive only while interrupts are enabled, that is in
// application code or the idle loop (kernel code runs with interrupts off), on the running
// thread's stack (every object in the image is built without a red zone). The stub saves all
// general registers and the full FPU/SSE/AVX state of the interrupted code on that stack, so
// the C++ handler may use any register and may even switch threads: the saved state stays
// with the preempted thread and is restored when it is resumed.
.macro IRQ n
    .global irq_\n
irq_\n:
    pushq $\n
    jmp irq_common
.endm
IRQ 32
IRQ 33
IRQ 34
IRQ 35
IRQ 36
IRQ 37
IRQ 38
IRQ 39
IRQ 40
IRQ 41
IRQ 42
IRQ 43
IRQ 44
IRQ 45
IRQ 46
IRQ 47
IRQ 48
IRQ 49
IRQ 50
IRQ 51
IRQ 52
IRQ 53
IRQ 54
IRQ 55

irq_common:
    cld
    PUSH_GPRS
    mov 120(%rsp), %rdi         // the vector
    mov 144(%rsp), %rsi         // the interrupted RFLAGS (after the vector: RIP, CS, RFLAGS)
    mov %rsp, %rbx              // callee-saved: the frame, to come back to
    sub $1088, %rsp             // XSAVE area (x87 + SSE + AVX = 832 bytes) + alignment
    and $-64, %rsp
    cmpb $0, atoll_have_xsave(%rip)
    je 1f
    // XSAVE writes only XSTATE_BV of the 64-byte header; XRSTOR faults unless the rest
    // (XCOMP_BV and the reserved bytes) is zero, and this is reused stack memory.
    xor %eax, %eax
    mov %rax, 512(%rsp)
    mov %rax, 520(%rsp)
    mov %rax, 528(%rsp)
    mov %rax, 536(%rsp)
    mov %rax, 544(%rsp)
    mov %rax, 552(%rsp)
    mov %rax, 560(%rsp)
    mov %rax, 568(%rsp)
    mov $-1, %eax
    mov $-1, %edx
    xsave64 (%rsp)
    jmp 2f
1:  fxsave64 (%rsp)
2:  xor %ebp, %ebp              // backtraces stop at the interrupt
    mov %rbx, %rdx              // the interrupted context (the state dump goes on from there)
    call atoll_irq
    cmpb $0, atoll_have_xsave(%rip)
    je 3f
    mov $-1, %eax
    mov $-1, %edx
    xrstor64 (%rsp)
    jmp 4f
3:  fxrstor64 (%rsp)
4:  mov %rbx, %rsp
    POP_GPRS
    add $8, %rsp
    iretq

    // Spurious interrupts (the local APIC's and the masked 8259's): no EOI, nothing to do.
    .global irq_spurious
irq_spurious:
    iretq

    .section .rodata
    .balign 8
    .global irq_table
irq_table:
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55
    .quad irq_\n
.endr

    // Runs a signal handler on an alternate stack and returns to the caller's stack.
    //   void atoll_call_handler_on_stack(void* stack_top, void* handler, long sig, void* info, void* ctx)
    .text
    .global atoll_call_handler_on_stack
atoll_call_handler_on_stack:
    push %rbp
    mov %rsp, %rbp               // the caller's stack, kept in a callee-saved register
    mov %rdi, %rsp               // 16-byte aligned by the caller
    mov %rsi, %rax
    mov %rdx, %rdi               // sig
    mov %rcx, %rsi               // info
    mov %r8, %rdx                // ctx
    call *%rax
    mov %rbp, %rsp
    pop %rbp
    ret
