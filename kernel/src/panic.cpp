// SPDX-License-Identifier: MIT
#include <kernel/console.h>
#include <kernel/dump.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/sched.h>
#include <kernel/panic.h>
#include <kernel/platform.h>

#include <cstdarg>
#include <cstdio>

// The symbol table generated from the image's first link pass (toolchain/gen-symtab.sh):
//   u32 count, u32 strings_offset, then count x { u32 address, u32 name_offset }, sorted by
//   address, then NUL-terminated names. Weak: an image linked without it has no names.
extern "C" [[gnu::weak]] const atl::u32 atoll_symtab[];

namespace atl::kernel {

namespace {

bool s_panicking = false;

} // namespace

bool panic_started()
{
    bool was = s_panicking;
    s_panicking = true;
    return was;
}

void print_location(u64 addr)
{
    u64 offset = 0;
    if (const char* name = symbolize(addr, &offset))
        console_printf("%s+0x%llx", name, static_cast<unsigned long long>(offset));
    else
        console_printf("??");
}

// Walks the frame-pointer chain (every object in the image keeps frame pointers). Each frame
// is checked to be mapped, aligned and moving up the stack before it is read.
std::size_t collect_backtrace(u64 rip, u64 rbp, u64* frames, std::size_t max)
{
    if (max == 0)
        return 0;
    std::size_t n = 0;
    frames[n++] = rip;
    while (n < max) {
        if (rbp == 0 || (rbp & 7) != 0 || !access_ok(rbp, 16, false))
            break;
        auto* frame = reinterpret_cast<const u64*>(rbp);
        u64 ret = frame[1];
        u64 next = frame[0];
        if (ret == 0)
            break;
        frames[n++] = ret;
        if (next <= rbp)
            break;
        rbp = next;
    }
    return n;
}

void print_backtrace(u64 rip, u64 rbp, bool rip_is_return)
{
    // The state dump's frame printer, onto the console (a buffer on the stack: no allocation
    // on the way to a panic).
    char buf[512];
    DumpOutput out(buf, sizeof(buf), [](void*, const char* text, std::size_t len) { console_write(text, len); }, nullptr);
    out.printf("  backtrace:\n");
    dump_backtrace(out, rip, rbp, "    ", rip_is_return);
    out.flush();
}

const char* symbolize(u64 addr, u64* offset)
{
    if (!atoll_symtab)
        return nullptr;
    u32 count = atoll_symtab[0];
    const char* strings = reinterpret_cast<const char*>(atoll_symtab) + atoll_symtab[1];
    const u32* entries = atoll_symtab + 2;
    // Last entry whose address <= addr.
    u32 lo = 0, hi = count;
    while (lo < hi) {
        u32 mid = (lo + hi) / 2;
        if (entries[2 * mid] <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return nullptr;
    *offset = addr - entries[2 * (lo - 1)];
    return strings + entries[2 * (lo - 1) + 1];
}

void panic(const char* fmt, ...)
{
    if (panic_started()) {
        console_printf("atoll: panic while panicking\n");
        platform::shutdown(k_exit_sigabrt);
    }
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    console_printf("atoll: panic: %s\n", buf);
    // Start at our caller: its return address and its frame (the one ours links to).
    auto* frame = static_cast<const u64*>(__builtin_frame_address(0));
    print_backtrace(reinterpret_cast<u64>(__builtin_return_address(0)), frame[0], true);
    console_printf("atoll: exiting with code %d\n", k_exit_sigabrt);
    platform::shutdown(k_exit_sigabrt);
}

} // namespace atl::kernel
