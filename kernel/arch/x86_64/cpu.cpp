// SPDX-License-Identifier: MIT
#include <kernel/arch/cpu.h>
#include <kernel/arch/frame.h>
#include <kernel/arch/io.h>
#include <kernel/arch/mmu.h>
#include <kernel/arch/context.h>
#include <kernel/arch/timer.h>
#include <kernel/arch/user_access.h>

#include <arch/x86_64/io.h>
#include <kernel/interrupts.h>
#include <kernel/paging.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/stack.h>

#include <csignal>
#include <cstring>

namespace atl::arch {

void outb(u16 port, u8 v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
u8 inb(u16 port)
{
    u8 v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
void outl(u16 port, u32 v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
u32 inl(u16 port)
{
    u32 v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (u64(hi) << 32) | lo;
}
void wrmsr(u32 msr, u64 v) { asm volatile("wrmsr" : : "c"(msr), "a"(u32(v)), "d"(u32(v >> 32))); }
void cpuid(u32 leaf, u32 sub, u32* a, u32* b, u32* c, u32* d)
{
    asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
void activate_page_tables(u64 root)
{
    enable_write_protect();
    write_cr3(root);
}

void flush_tlb_all() { write_cr3(read_cr3()); }
void flush_tlb_page(u64 addr) { invlpg(addr); }

void saved_context_frame(const void* context, u64* pc, u64* fp)
{
    // Boost.Context's x86_64 frame: mxcsr/x87 cw, r12-r15, rbx, rbp, rip.
    auto* saved = static_cast<const u64*>(context);
    *fp = saved[6];
    *pc = saved[7];
}

void describe_cpu(CpuDescription* out)
{
    u32 a, b, c, d;
    std::memset(out, 0, sizeof(*out));
    cpuid(0, 0, &a, &b, &c, &d);
    std::memcpy(out->vendor, &b, 4);
    std::memcpy(out->vendor + 4, &d, 4);
    std::memcpy(out->vendor + 8, &c, 4);
    std::memcpy(out->model_name, "unknown", 8);
    cpuid(0x80000000, 0, &a, &b, &c, &d);
    if (a >= 0x80000004) {
        for (u32 leaf = 0; leaf < 3; ++leaf) {
            u32 r[4];
            cpuid(0x80000002 + leaf, 0, &r[0], &r[1], &r[2], &r[3]);
            std::memcpy(out->model_name + leaf * 16, r, 16);
        }
        out->model_name[48] = '\0';
    }
    cpuid(1, 0, &a, &b, &c, &d);
    unsigned family = (a >> 8) & 0xf, model = (a >> 4) & 0xf;
    out->stepping = a & 0xf;
    if (family == 0xf)
        family += (a >> 20) & 0xff;
    if (family >= 6)
        model += ((a >> 16) & 0xf) << 4;
    out->family = family;
    out->model = model;
    // Linux's names of the features /proc/cpuinfo lists, in CPUID.1's order: EDX bits, then
    // ECX bits (one packed table: every image carries it).
    static const u8 k_bits[] = { 0, 4, 15, 23, 25, 26, 32 + 0, 32 + 9, 32 + 19, 32 + 20, 32 + 23, 32 + 25, 32 + 26,
        32 + 28, 32 + 30, 32 + 31 };
    static const char k_names[] = "fpu\0tsc\0cmov\0mmx\0sse\0sse2\0pni\0ssse3\0sse4_1\0sse4_2\0popcnt\0aes\0xsave\0avx\0"
                                  "rdrand\0hypervisor";
    std::size_t used = 0;
    const char* name = k_names;
    for (u8 bit : k_bits) {
        std::size_t n = std::strlen(name);
        u32 reg = bit < 32 ? d : c;
        if ((reg >> (bit % 32)) & 1) {
            if (used + n + 2 > sizeof(out->flags))
                break;
            if (used)
                out->flags[used++] = ' ';
            std::memcpy(out->flags + used, name, n);
            used += n;
        }
        name += n + 1;
    }
    out->flags[used] = '\0';
}

u64 read_cr2()
{
    u64 v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

namespace {
constexpr u32 k_msr_fs_base = 0xc0000100;
constexpr u32 k_msr_gs_base = 0xc0000101;
bool s_have_fsgsbase = false;
bool s_have_rdrand = false;
bool s_have_rdseed = false;
u32 s_hwcap = 0;
} // namespace

void set_fs_base(u64 base)
{
    if (s_have_fsgsbase)
        asm volatile("wrfsbase %0" : : "r"(base));
    else
        wrmsr(k_msr_fs_base, base);
}
u64 fs_base() { return rdmsr(k_msr_fs_base); }
// Through the MSR, not wrgsbase: it runs first at boot, before cpu_init looked for FSGSBASE.
// GS's selector is never loaded again after boot.S, so the base stays.
void set_cpu_local(void* cpu) { wrmsr(k_msr_gs_base, reinterpret_cast<u64>(cpu)); }
char g_cpu_local_anchor; // cpu_inline.h
u32 hwcap() { return s_hwcap; }
void pause() { asm volatile("pause"); }

namespace {

// How device_barrier() orders memory, chosen at the first call from the hypervisor's CPUID
// signature (leaf 0x40000000). Hardware virtualisation (KVM, Xen, Hyper-V, VMware, bhyve)
// runs the guest's mfence on the real CPU, so the fence is enough. Anything else (QEMU's TCG
// says "TCGTCGTCGTCG", and may not set the hypervisor bit at all) gets the port access.
enum class BarrierKind : u8 { Unknown, Fence, PortAccess };
BarrierKind s_barrier = BarrierKind::Unknown;

BarrierKind choose_barrier()
{
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 31)))
        return BarrierKind::PortAccess;
    cpuid(0x40000000, 0, &a, &b, &c, &d);
    char sig[12];
    __builtin_memcpy(sig, &b, 4);
    __builtin_memcpy(sig + 4, &c, 4);
    __builtin_memcpy(sig + 8, &d, 4);
    static constexpr const char* k_hardware[] = { "KVMKVMKVM", "XenVMMXenVMM", "Microsoft Hv", "VMwareVMware", "bhyve bhyve " };
    for (const char* h : k_hardware) {
        if (__builtin_memcmp(sig, h, __builtin_strlen(h)) == 0)
            return BarrierKind::Fence;
    }
    return BarrierKind::PortAccess;
}

} // namespace

void device_barrier()
{
    if (s_barrier == BarrierKind::Unknown) [[unlikely]]
        s_barrier = choose_barrier();
    asm volatile("mfence" ::: "memory");
    if (s_barrier == BarrierKind::PortAccess) {
        // Port 0x80 (POST codes) has no side effects to reading on any PC-like machine; QEMU
        // takes its global lock around every port access, a locked host instruction that
        // makes this vCPU's earlier stores visible before its later loads.
        u8 v;
        asm volatile("inb $0x80, %0" : "=a"(v) : : "memory");
        (void)v;
    }
}
void halt_forever()
{
    for (;;)
        asm volatile("cli; hlt");
}

bool random_u64(u64* out)
{
    for (int tries = 0; tries < 10; ++tries) {
        unsigned char ok;
        u64 v;
        if (s_have_rdseed)
            asm volatile("rdseed %0; setc %1" : "=r"(v), "=qm"(ok));
        else if (s_have_rdrand)
            asm volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
        else
            return false;
        if (ok) {
            *out = v;
            return true;
        }
    }
    return false;
}

namespace {

struct [[gnu::packed]] Tss {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3;
    u16 iomap_base;
};

struct [[gnu::packed]] DescriptorPointer {
    u16 limit;
    u64 base;
};

struct IdtEntry {
    u16 offset_low;
    u16 selector;
    u8 ist;
    u8 type_attr;
    u16 offset_mid;
    u32 offset_high;
    u32 zero;
};

// IST stacks: a double fault and the faults a stack overflow causes (#PF, #GP, #SS) run on
// stacks of their own, so the report works even when the faulting stack is gone.
constexpr std::size_t k_ist_stack_size = 16384;
alignas(16) u8 s_ist_double_fault[k_ist_stack_size];
alignas(16) u8 s_ist_fault[k_ist_stack_size];
alignas(16) u8 s_ist_nmi[k_ist_stack_size];

Tss s_tss;
u64 s_gdt[7];
IdtEntry s_idt[256];

} // namespace

extern "C" const u64 isr_table[32];

u64 read_cr3()
{
    u64 v;
    asm volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
void write_cr3(u64 root) { asm volatile("mov %0, %%cr3" : : "r"(root) : "memory"); }
void invlpg(u64 addr) { asm volatile("invlpg (%0)" : : "r"(addr) : "memory"); }
void enable_write_protect()
{
    u64 cr0;
    asm volatile("mov %%cr0, %0" : "=r"(cr0));
    asm volatile("mov %0, %%cr0" : : "r"(cr0 | (1ull << 16)));
}

void set_interrupt_gate(u32 v, u64 handler)
{
    s_idt[v] = IdtEntry { u16(handler), 0x08, 0, 0x8e, u16(handler >> 16), u32(handler >> 32), 0 };
}

void cpu_init()
{
    u32 a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    s_hwcap = d;
    s_have_rdrand = c & (1u << 30);
    cpuid(0, 0, &a, &b, &c, &d);
    if (a >= 7) {
        cpuid(7, 0, &a, &b, &c, &d);
        s_have_fsgsbase = b & 1;
        s_have_rdseed = b & (1u << 18);
    }

    s_tss.ist[0] = reinterpret_cast<u64>(s_ist_double_fault + k_ist_stack_size);
    s_tss.ist[1] = reinterpret_cast<u64>(s_ist_fault + k_ist_stack_size);
    s_tss.ist[2] = reinterpret_cast<u64>(s_ist_nmi + k_ist_stack_size);
    s_tss.iomap_base = sizeof(Tss);

    u64 tss = reinterpret_cast<u64>(&s_tss);
    u64 limit = sizeof(Tss) - 1;
    s_gdt[0] = 0;
    s_gdt[1] = 0x00af9a000000ffff; // 0x08 code64
    s_gdt[2] = 0x00cf92000000ffff; // 0x10 data
    s_gdt[3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (u64(0x89) << 40) |
               (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56); // 0x18 TSS
    s_gdt[4] = tss >> 32;
    DescriptorPointer gdtr { sizeof(s_gdt) - 1, reinterpret_cast<u64>(s_gdt) };
    asm volatile("lgdt %0\n"
                 "pushq $0x08\n"
                 "leaq 1f(%%rip), %%rax\n"
                 "pushq %%rax\n"
                 "lretq\n"
                 "1:\n"
                 "mov $0x10, %%ax\n"
                 "mov %%ax, %%ds\n"
                 "mov %%ax, %%es\n"
                 "mov %%ax, %%ss\n"
                 "mov $0x18, %%ax\n"
                 "ltr %%ax\n"
                 :
                 : "m"(gdtr)
                 : "rax", "memory");

    for (u32 v = 0; v < 32; ++v) {
        u64 handler = isr_table[v];
        u8 ist = 0;
        if (v == 8)
            ist = 1;
        else if (v == 12 || v == 13 || v == 14)
            ist = 2;
        else if (v == 2 || v == 18)
            ist = 3;
        s_idt[v] = IdtEntry { u16(handler), 0x08, ist, 0x8e, u16(handler >> 16), u32(handler >> 32), 0 };
    }
    DescriptorPointer idtr { sizeof(s_idt) - 1, reinterpret_cast<u64>(s_idt) };
    asm volatile("lidt %0" : : "m"(idtr));
}

} // namespace atl::arch

extern "C" void atoll_fault_trampoline(); // isr.S

namespace atl::kernel {

namespace {

bool (*s_fault_signal_hook)(int sig, u64 sp, u64* stack_top) = nullptr;
FaultEntry s_fault_entry = nullptr;

struct FaultSignal {
    int sig = 0;
    int code = 0;
    u64 addr = 0;
};

// The signal Linux sends for each exception a program can handle.
FaultSignal signal_for(const arch::InterruptFrame& f)
{
    constexpr int k_segv_maperr = 1, k_segv_accerr = 2, k_si_kernel = 0x80, k_fpe_intdiv = 1,
                  k_fpe_fltinv = 7, k_ill_illopn = 2, k_bus_adraln = 1;
    switch (f.vector) {
    case 0: return { SIGFPE, k_fpe_intdiv, f.rip };
    case 3: return { SIGTRAP, k_si_kernel, 0 }; // int3: Linux says SI_KERNEL
    case 6: return { SIGILL, k_ill_illopn, f.rip };
    case 13: return { SIGSEGV, k_si_kernel, 0 };
    case 14: return { SIGSEGV, (f.error_code & 1) ? k_segv_accerr : k_segv_maperr, arch::read_cr2() };
    case 16:
    case 19: return { SIGFPE, k_fpe_fltinv, f.rip };
    case 17: return { SIGBUS, k_bus_adraln, arch::read_cr2() };
    default: return {};
    }
}

// Rewrites the exception's return so that the thread runs atoll_fault_trampoline on its own
// stack, below a copy of the faulting context (and at least 128 bytes below its stack
// pointer, in case the code it interrupted keeps data under it).
bool redirect_to_signal(arch::InterruptFrame* frame)
{
    if (!s_fault_signal_hook || !(frame->rflags & (1u << 9)))
        return false; // no libOS, or the fault came from code running with interrupts off
    Thread* t = current();
    if (!t || t->kernel_thread || in_idle())
        return false;
    FaultSignal fs = signal_for(*frame);
    u64 stack_top = 0;
    if (!fs.sig || !s_fault_signal_hook(fs.sig, frame->rsp, &stack_top))
        return false;
    u64 top = stack_top ? stack_top : frame->rsp;
    // Exceptions without an IST stack (#DE, #UD, ...) run on the thread's stack, just below
    // its stack pointer: the copy then goes below this handler's own frames, not over them.
    u64 below = top - 128;
    u64 here = reinterpret_cast<u64>(__builtin_frame_address(0));
    if (here < top && top - here < 64 * 1024)
        below = here - 512;
    u64 ctx = (below - sizeof(arch::InterruptFrame)) & ~u64(15);
    if (ctx > top || !access_ok(ctx, top - ctx, true))
        return false; // the stack itself is the problem
    std::memcpy(reinterpret_cast<void*>(ctx), frame, sizeof(arch::InterruptFrame));
    frame->rsp = ctx;
    frame->rip = reinterpret_cast<u64>(atoll_fault_trampoline);
    frame->rdi = ctx;
    frame->rsi = static_cast<u64>(fs.sig);
    frame->rdx = static_cast<u64>(fs.code);
    frame->rcx = fs.addr;
    return true;
}

} // namespace

void set_fault_signal_hook(bool (*wants)(int sig, u64 sp, u64* stack_top), FaultEntry entry)
{
    s_fault_signal_hook = wants;
    s_fault_entry = entry;
}

} // namespace atl::kernel

// isr.S (atoll_fault_trampoline), on the faulting thread's stack: the libOS's handler.
extern "C" void atoll_fault_dispatch(const atl::arch::InterruptFrame* context, long sig, long code, atl::u64 addr)
{
    atl::kernel::s_fault_entry(context, sig, code, addr);
}

extern "C" void atoll_exception(atl::arch::InterruptFrame* frame)
{
    // A page not present in a growable stack (kernel/stack.h): commit it and retry the access.
    if (frame->vector == 14 && !(frame->error_code & 1) && atl::kernel::stack_grow(atl::arch::read_cr2()))
        return;
    // An access to the application's memory that faulted (a page it unmapped or protected, a
    // non-canonical address): the access returns EFAULT instead (kernel/user_memory.h).
    if ((frame->vector == 14 || frame->vector == 13) && atl::arch::fixup_user_access(frame))
        return;
    if (atl::kernel::redirect_to_signal(frame))
        return;
    atl::kernel::panic_from_exception(*frame);
}
