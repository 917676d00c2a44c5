// SPDX-License-Identifier: MIT
// x86-64 exceptions the kernel cannot hand to the program: the crash report (the exception,
// what a page fault most likely was, registers, backtrace) and the exit status a Linux
// process killed by the same event would have.

#include <kernel/arch/cpu.h>
#include <kernel/arch/page_tables.h>
#include <kernel/arch/user_access.h>
#include <kernel/console.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/panic.h>
#include <kernel/platform.h>
#include <kernel/sched.h>
#include <kernel/stack.h>

#include <arch/x86_64/io.h>

#include <cstdint>
#include <cstdio>

namespace atl::kernel {

namespace {

const char* exception_name(u64 v)
{
    static const char* const names[32] = { "divide error (#DE)", "debug (#DB)", "NMI",
        "breakpoint (#BP)", "overflow (#OF)", "bound range (#BR)", "invalid opcode (#UD)",
        "device not available (#NM)", "double fault (#DF)", "coprocessor overrun",
        "invalid TSS (#TS)", "segment not present (#NP)", "stack fault (#SS)",
        "general protection fault (#GP)", "page fault (#PF)", "reserved 15",
        "x87 floating point (#MF)", "alignment check (#AC)", "machine check (#MC)",
        "SIMD floating point (#XM)", "virtualization (#VE)", "control protection (#CP)",
        "reserved 22", "reserved 23", "reserved 24", "reserved 25", "reserved 26", "reserved 27",
        "hypervisor injection (#HV)", "VMM communication (#VC)", "security (#SX)", "reserved 31" };
    return v < 32 ? names[v] : "unknown";
}

int exit_code_for(u64 vector)
{
    switch (vector) {
    case 0:
    case 16:
    case 19:
        return k_exit_sigfpe;
    case 6:
        return k_exit_sigill;
    default:
        return k_exit_sigsegv;
    }
}

char s_hint[160];

// What a page fault most likely was, from where it hit.
const char* fault_hint(u64 cr2, u64 error, u64 rsp)
{
    if (cr2 < k_page_size)
        return ": null pointer dereference";
    StackArea stack;
    if (!(error & 1) && stack_find(cr2, &stack)) {
        switch (stack_last_failure()) {
        case StackGrowth::OutOfMemory: return ": STACK OVERFLOW: out of memory for the stack to grow";
        case StackGrowth::AllocatorBusy: return ": the stack had to grow inside the page allocator (kernel bug: too little stack margin)";
        default:
            std::snprintf(s_hint, sizeof(s_hint), ": STACK OVERFLOW: the stack reached its limit of %llu KiB (RLIMIT_STACK; atoll.stack=SIZE sets it)",
                static_cast<unsigned long long>((stack.high - stack.limit_low) >> 10));
            return s_hint;
        }
    }
    Access access = Access::None;
    bool mapped = query_access(cr2, &access);
    bool inaccessible = !mapped || access == Access::None;
    // A stack overflow touches an inaccessible page (a guard page) just below the stack
    // pointer: a push, a call, or a local array in a new frame.
    bool near_sp = cr2 >= rsp ? cr2 - rsp < k_page_size : rsp - cr2 < 256 * 1024;
    if (inaccessible && near_sp)
        return ": STACK OVERFLOW (the stack's guard page)";
    if ((error & 2) && mapped && (access == Access::Read || access == Access::ReadExec))
        return in_image_readonly(cr2) ? ": write to read-only memory (the image's code or constants)"
                                      : ": write to read-only memory";
    if ((error & 16) && mapped)
        return ": executing non-executable memory";
    if (cr2 < k_low_memory_end)
        return ": address in the unmapped first megabyte (a bad pointer)";
    return "";
}

} // namespace

} // namespace atl::kernel

// The records of the accesses to the application's memory (include/arch/user_access_inline.h,
// user_copy.S), bounds from kernel/linker.ld.
namespace {
struct UserAccessRecord {
    std::int32_t insn, fixup; // each an offset from the field itself
};
}
extern "C" const UserAccessRecord __atoll_extable_start[], __atoll_extable_end[];

namespace atl::arch {

// A linear search: faults in these accesses are rare (a bad pointer from the application),
// the table is short, and nothing else pays for it.
bool fixup_user_access(InterruptFrame* frame)
{
    for (const UserAccessRecord* r = __atoll_extable_start; r < __atoll_extable_end; ++r) {
        u64 insn = reinterpret_cast<u64>(&r->insn) + static_cast<u64>(static_cast<i64>(r->insn));
        if (insn == frame->rip) {
            frame->rip = reinterpret_cast<u64>(&r->fixup) + static_cast<u64>(static_cast<i64>(r->fixup));
            return true;
        }
    }
    return false;
}

} // namespace atl::arch

namespace atl::kernel {

void panic_from_exception(const arch::InterruptFrame& f)
{
    if (panic_started()) {
        console_printf("atoll: %s while panicking at rip=0x%llx\n", exception_name(f.vector),
            static_cast<unsigned long long>(f.rip));
        platform::shutdown(k_exit_sigabrt);
    }
    using ull = unsigned long long;
    console_printf("atoll: panic: %s at rip=0x%016llx in ", exception_name(f.vector), static_cast<ull>(f.rip));
    print_location(f.rip);
    console_printf("\n");
    console_printf("  vector %llu, error code 0x%llx", static_cast<ull>(f.vector), static_cast<ull>(f.error_code));
    if (f.vector == 14) {
        u64 cr2 = arch::read_cr2();
        u64 e = f.error_code;
        console_printf(" (%s, %s%s)\n  faulting address 0x%016llx%s", (e & 2) ? "write" : ((e & 16) ? "instruction fetch" : "read"),
            (e & 1) ? "protection violation" : "page not present", (e & 8) ? ", reserved bit" : "",
            static_cast<ull>(cr2), fault_hint(cr2, e, f.rsp));
    }
    console_printf("\n");
    if (Thread* t = current())
        console_printf("  thread %d (%s)\n", t->tid, t->name);
    console_printf("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", static_cast<ull>(f.rax),
        static_cast<ull>(f.rbx), static_cast<ull>(f.rcx), static_cast<ull>(f.rdx));
    console_printf("  rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n", static_cast<ull>(f.rsi),
        static_cast<ull>(f.rdi), static_cast<ull>(f.rbp), static_cast<ull>(f.rsp));
    console_printf("  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n", static_cast<ull>(f.r8),
        static_cast<ull>(f.r9), static_cast<ull>(f.r10), static_cast<ull>(f.r11));
    console_printf("  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n", static_cast<ull>(f.r12),
        static_cast<ull>(f.r13), static_cast<ull>(f.r14), static_cast<ull>(f.r15));
    console_printf("  rflags=%016llx cs=%llx ss=%llx fs_base=%016llx\n", static_cast<ull>(f.rflags),
        static_cast<ull>(f.cs), static_cast<ull>(f.ss), static_cast<ull>(arch::fs_base()));
    print_backtrace(f.rip, f.rbp);
    int code = exit_code_for(f.vector);
    console_printf("atoll: exiting with code %d\n", code);
    platform::shutdown(code);
}

} // namespace atl::kernel
