#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checks tests/structure/hw_access.sh against a tiny fake tree: a clean tree (the same words in
# comments, in strings outside asm, in longer identifiers, and the real thing inside
# kernel/arch/, kernel/platform/, tests/ and toolchain/) must pass, and the clean tree plus any
# one planted violation must fail naming the planted file and line.
set -u -o pipefail
scanner=$(cd "$(dirname "$0")" && pwd)/hw_access.sh
clean_tree() {
    local r=$1
    put "$r" kernel/src/clean.cpp '// SPDX-License-Identifier: MIT
#include <kernel/arch/cpu.h>
#include <kernel/platform.h>
#include <kernel/arch/cpu.h>
#include <asm/prctl.h>
// Before issue 12 this wrote arch::outb(0x3f8, c) and read inb(0x71); cpuid, rdmsr, wrmsr,
// __cpuid(), #include <cpuid.h>, #include <kernel/arch/x86_64/cpu.h>, 0xfee00000, 0xcf8.
/* asm volatile("cli; hlt; rdtsc; lgdt %0; mov %%cr3, %0; invlpg (%0); outb %%al, %%dx");
   0xfec00000 0xcfc 0x2f8 0xe9 0x402 0xf4 0x70 0x71 0x64 */
namespace atl::kernel {
int inline_count;  // inl, inb, outb as parts of longer names are not calls
bool client_sti;
int outbound(int x) { return x; }
int inbox(int x) { return outbound(x); }
const char* k_help = "outb(0x3f8) cli hlt rdtsc cpuid";  // a string outside asm
constexpr unsigned k_interrupt_ack = 0x064;  // virtio-mmio register offsets, not ports
constexpr unsigned k_status = 0x070;
constexpr unsigned char k_byte = 0xe9 + 0x71;
void relax() { asm volatile("pause" ::: "memory"); }
u64 now() { return arch::read_tsc(); }
} // namespace atl::kernel'
    put "$r" net/lwip_port/include/arch/cc.h '// SPDX-License-Identifier: MIT
#pragma once
// lwIP'\''s own "arch/" headers are a port folder, not a CPU architecture.
#include "arch/sys_arch.h"'
    put "$r" libos/src/clean.S '// SPDX-License-Identifier: MIT
# cli, hlt and outb %al, $0xe9 in an assembler comment
/* rdmsr; wrmsr; cpuid; mov %cr3, %rax */
    .text
    .globl clean_entry
clean_entry:
    mov %rdi, %rax   // not a control register
    inc %rax
    ret'
    # The real thing where it belongs, and where the scan does not look.
    put "$r" kernel/arch/x86_64/io.cpp '#include <cpuid.h>
void outb(unsigned short p, unsigned char v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
void off() { asm volatile("cli; hlt"); outb(0x3f8, 1); }'
    put "$r" kernel/platform/kvm/console.cpp '#include <kernel/arch/x86_64/io.h>
constexpr unsigned short k_com1 = 0x3f8; void put(char c) { arch::outb(k_com1, c); }'
    put "$r" kernel/arch/x86_64/entry.S 'cli
    mov %cr3, %rax
    outb %al, $0xe9'
    put "$r" libos/tests/fake.cpp 'void f() { arch::outb(0x3f8, 1); }'
    put "$r" drivers/toolchain/fake.cpp 'void f() { arch::cpuid(0, 0, 0, 0, 0, 0); }'
}

# shellcheck source=selftest_lib.sh
. "$(dirname "$0")/selftest_lib.sh"
check_clean

for f in outb inb outw inw outl inl; do
    plant "$f call" kernel/src/$f.cpp "// SPDX-License-Identifier: MIT
void f(u16 p) { $f(p, 1); }"
    plant "arch::$f call" drivers/pci/src/$f.cpp "void f(u16 p) { (void)atl::arch::$f (p); }"
done
plant "using arch::inb" net/x.cpp 'using atl::arch::inb;'
plant "asm in %dx" libos/src/a1.cpp 'u8 f(u16 p) { u8 v; asm volatile("inb %%dx, %%al" : "=a"(v) : "d"(p)); return v; }'
plant "asm out immediate" libos/src/a2.cpp 'void f() {
    asm volatile("movb $1, %%al\n\t"
                 "outb %%al, $0x80" ::: "eax"); }'
plant "asm out operand" drivers/a3.cpp 'void f(u8 v, u16 p) { __asm__ __volatile__("out %0, %1" :: "a"(v), "Nd"(p)); }'
plant "asm rep insw" drivers/a4.cpp 'void f() { asm volatile("rep insw" ::: "memory"); }'
plant "asm rep outsb" drivers/a5.cpp 'void f() { asm volatile("cld; rep outsb" ::: "memory"); }'
plant "rdmsr call" kernel/src/m1.cpp 'u64 f() { return arch::rdmsr(0x1b); }'
plant "wrmsr call" kernel/src/m2.cpp 'void f() { wrmsr(0xc0000100, 0); }'
plant "asm rdmsr" kernel/src/m3.cpp 'u32 f() { u32 a, d; asm volatile("rdmsr" : "=a"(a), "=d"(d) : "c"(0x1b)); return a; }'
plant "asm wrmsr" kernel/src/m4.cpp 'void f() { asm("wrmsr" :: "c"(0x1b), "a"(0), "d"(0)); }'
plant "cpuid call" libos/src/c1.cpp 'void f(u32* a) { arch::cpuid(0, 0, a, a, a, a); }'
plant "asm cpuid" libos/src/c2.cpp 'void f(u32 a) { asm volatile("cpuid" : "+a"(a) :: "ebx", "ecx", "edx"); }'
plant "include <cpuid.h>" libos/src/c3.cpp '#include <cpuid.h>'
plant "__cpuid macro" libos/src/c4.cpp 'void f() { unsigned a, b, c, d; __cpuid(0, a, b, c, d); }'
plant "asm rdtsc" libos/src/t1.cpp 'u64 f() { u32 lo, hi; asm volatile("rdtsc" : "=a"(lo), "=d"(hi)); return lo; }'
plant "asm rdtscp" net/t2.cpp 'void f() { asm volatile("rdtscp" ::: "eax", "ecx", "edx"); }'
plant "__rdtsc intrinsic" net/t3.cpp 'u64 f() { return __rdtsc(); }'
for insn in cli sti hlt; do
    plant "asm $insn" drivers/virtio/src/$insn.cpp "void f() { asm volatile(\"$insn\"); }"
done
plant "asm lgdt" kernel/src/d1.cpp 'void f(void* p) { asm volatile("lgdt (%0)" :: "r"(p)); }'
plant "asm lidt" kernel/src/d2.cpp 'void f(void* p) { asm volatile("lidt %0" :: "m"(p)); }'
plant "asm read cr3" kernel/src/r1.cpp 'u64 f() { u64 v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }'
plant "asm write cr0" kernel/src/r2.cpp 'void f(u64 v) { asm volatile("movq %0, %%cr0" :: "r"(v)); }'
plant "asm invlpg" kernel/src/r3.cpp 'void f(u64 a) { asm volatile("invlpg (%0)" :: "r"(a) : "memory"); }'
plant "asm cli;hlt in a macro" kernel/src/r4.h '#define STOP() asm volatile("cli; hlt")'
plant "local APIC address" drivers/pci/src/f1.cpp 'u32 k_msi_address = 0xfee00000u;' "fixed platform"
plant "I/O APIC address" kernel/src/f2.cpp 'constexpr u64 k_ioapic = 0xFEC00000ULL;' "fixed platform"
plant "PCI 0xcf8" drivers/pci/src/f3.cpp 'constexpr u32 k_address = 0xcf8;' "fixed platform"
plant "PCI 0xcfc" drivers/pci/src/f4.cpp 'constexpr u32 k_data = 0xcfc;' "fixed platform"
plant "COM1" kernel/src/f5.cpp 'constexpr int k_com1 = 0x3f8;' "fixed platform"
plant "COM2" kernel/src/f6.cpp 'constexpr int k_com2 = 0x2F8;' "fixed platform"
plant "debugcon 0xe9" kernel/src/f7.cpp 'constexpr u16 k_log = 0xe9;' "fixed platform"
plant "debugcon 0x402" kernel/src/f8.cpp 'int k_fw_log = 0x402;' "fixed platform"
plant "isa-debug-exit 0xf4" kernel/src/f9.cpp 'constexpr unsigned k_exit_port = 0xf4;' "fixed platform"
plant "CMOS 0x70" kernel/src/f10.cpp 'void f(u8 r) { write_port(0x70, r); }' "fixed platform"
plant "CMOS 0x71" kernel/src/f11.cpp 'u8 f() { return read_port8(0x71); }' "fixed platform"
plant "keyboard controller 0x64" kernel/src/f12.cpp 'void f() { port_write(0x64, 0xfe); }' "fixed platform"
plant "include <kernel/arch/x86_64/...>" libos/src/i1.cpp '#include <kernel/arch/x86_64/cpu.h>'
plant "relative include into arch" drivers/i2.cpp '#include "../../kernel/arch/gdt.h"'
plant "include of a platform-private header" net/i3.cpp '#  include "kernel/platform/kvm/console.h"'
plant ".S outb outside arch" libos/src/s1.S '    .text
    outb %al, $0xe9'
plant ".S cli; hlt outside arch" drivers/s2.S 'stop:    cli; hlt'
plant ".S mov to cr3 outside arch" kernel/src/s3.S '    movq %rdi, %cr3'

finish hw_access
