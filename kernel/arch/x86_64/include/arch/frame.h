// SPDX-License-Identifier: MIT
#pragma once

// x86-64: what kernel/arch/x86_64/isr.S pushes, in memory order.

namespace atl::arch {

struct InterruptFrame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error_code;
    u64 rip, cs, rflags, rsp, ss; // pushed by the CPU
    u64 pc() const { return rip; }
    u64 fp() const { return rbp; }
    u64 sp() const { return rsp; }
};
// What the device and timer interrupt entry (isr.S, irq_common) saves: the same, without an
// error code.
struct IrqFrame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector;
    u64 rip, cs, rflags, rsp, ss;
    u64 pc() const { return rip; }
    u64 fp() const { return rbp; }
    u64 sp() const { return rsp; }
};

} // namespace atl::arch
