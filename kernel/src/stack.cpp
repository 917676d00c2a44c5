// SPDX-License-Identifier: MIT
// Growable stacks (stack.h). Reservations live in a window of their own, so a stack's
// neighbours are never program data: what lies below a reservation is its gap, never mapped.

#include <kernel/arch/cpu.h>
#include <kernel/console.h>
#include <kernel/lock.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/stack.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

extern "C" uintptr_t __stack_chk_guard; // musl's (src/env/__stack_chk_fail.c)

namespace atl::kernel {

detail::StackWatch detail::g_stack_watch;

namespace {

constexpr u64 k_window_start = k_stack_window_start;
constexpr u64 k_window_end = k_stack_window_end;
// Never mapped, below every reservation: a frame bigger than this that skips its probes
// (code built without -fstack-clash-protection) could still jump it; Linux keeps 1 MiB too.
constexpr u64 k_guard_gap = u64(1) << 20;
// Committed per growth, and kept committed below the deepest touch: an interrupt pushes its
// frame and the FPU state (up to ~3 KiB) below the stack pointer, and its handler runs there,
// all without a fault the handler could not take (an interrupt whose frame push faults is
// lost). A function's unprobed frame (under a page) may sit below the deepest touch too.
constexpr u64 k_commit_margin = 32 * 1024;
// Pages are taken from the allocator in pieces of at most this size, so that a large growth
// (a system call's buffer deep in the stack) does not need one long free run.
constexpr u64 k_commit_piece = 256 * 1024;
constexpr std::size_t k_max_stacks = 8;

// The growable stacks' lock. Lock order: first; a growth takes the page tables' and the page
// allocator's while it holds it. The page-fault handler takes it too (a stack's first touch),
// which on one CPU nests inside a holder it interrupted; s_growing turns that case away.
// FIXME: a second CPU needs a try-lock in the fault path.
SpinLock s_stacks_lock;
StackArea s_stacks[k_max_stacks] ATL_GUARDED_BY(s_stacks_lock);
std::size_t s_count ATL_GUARDED_BY(s_stacks_lock) = 0;
u64 s_next ATL_GUARDED_BY(s_stacks_lock) = k_window_start;
StackGrowth s_last ATL_GUARDED_BY(s_stacks_lock) = StackGrowth::Ok;
bool s_growing ATL_GUARDED_BY(s_stacks_lock) = false; // a fault while growing is never ours to take

void watch(const StackArea& s) { detail::g_stack_watch = { s.limit_low, s.high, s.committed_low }; }

StackArea* find(u64 addr) ATL_REQUIRES(s_stacks_lock)
{
    for (std::size_t i = 0; i < s_count; ++i) {
        StackArea& s = s_stacks[i];
        if (addr >= s.guard_low && addr < s.high)
            return &s;
    }
    return nullptr;
}

// Maps fresh zeroed pages over [low, s.committed_low).
StackGrowth commit(StackArea& s, u64 low)
{
    while (s.committed_low > low) {
        u64 size = s.committed_low - low;
        if (size > k_commit_piece)
            size = k_commit_piece;
        u64 virt = s.committed_low - size;
        u64 phys = 0;
        if (!alloc_pages(size, &phys))
            return StackGrowth::OutOfMemory;
        std::memset(reinterpret_cast<void*>(phys), 0, size); // RAM is identity-mapped
        if (!map(virt, phys, size, Access::ReadWrite)) {
            free_pages(phys, size);
            return StackGrowth::OutOfMemory; // a page table could not be allocated
        }
        s.committed_low = virt;
    }
    return StackGrowth::Ok;
}

// Gives back what commit() mapped (a reservation that could not get its first pages).
void release(StackArea& s)
{
    for (u64 page = s.committed_low; page < s.high; page += k_page_size) {
        u64 phys = 0;
        if (virtual_to_physical(page, &phys) && unmap(page, k_page_size))
            free_pages(phys, k_page_size);
    }
    s.committed_low = s.high;
}

} // namespace

Result<u64> stack_reserve(u64 reserve, u64 limit, u64 initial)
{
    reserve = align_up(reserve, k_page_size);
    initial = align_up(initial, k_page_size);
    if (reserve == 0 || initial > reserve) {
        log("stack: bad stack size");
        return Error::from_errno(EINVAL);
    }
    SpinLockGuard guard(s_stacks_lock);
    const char* err = nullptr;
    u64 top = 0;
    u64 low = s_next + k_guard_gap;
    if (s_count == k_max_stacks)
        err = "too many growable stacks";
    else if (reserve > k_window_end - low)
        err = "stack larger than the address space set aside for stacks";
    if (!err) {
        StackArea s;
        s.guard_low = s_next;
        s.low = low;
        s.high = low + reserve;
        s.committed_low = s.high;
        s.limit_low = s.high - (limit < reserve ? align_up(limit, k_page_size) : reserve);
        if (s.limit_low > s.high - initial)
            s.limit_low = s.high - initial;
        if (commit(s, s.high - initial) != StackGrowth::Ok) {
            err = "out of memory for the stack";
            release(s);
        } else {
            s_stacks[s_count++] = s;
            watch(s);
            s_next = s.high;
            top = s.high;
        }
    }
    if (err) {
        log("stack: %s", err);
        return Error::from_errno(ENOMEM);
    }
    return top;
}

u64 stack_set_limit(u64 high, u64 limit)
{
    SpinLockGuard guard(s_stacks_lock);
    u64 result = 0;
    for (std::size_t i = 0; i < s_count; ++i) {
        StackArea& s = s_stacks[i];
        if (s.high != high)
            continue;
        u64 reserve = s.high - s.low;
        u64 l = limit < reserve ? align_up(limit, k_page_size) : reserve;
        if (l < s.high - s.committed_low)
            l = s.high - s.committed_low; // what is committed stays usable
        s.limit_low = s.high - l;
        result = l;
        watch(s);
    }
    return result;
}

namespace {

bool stack_grow_locked(u64 addr) ATL_REQUIRES(s_stacks_lock)
{
    StackArea* s = find(addr);
    StackGrowth r = StackGrowth::Ok;
    if (!s)
        r = StackGrowth::NotAStack;
    else if (addr >= s->committed_low)
        r = StackGrowth::Ok; // mapped meanwhile (or by the caller's retry)
    else if (addr < s->limit_low)
        r = StackGrowth::PastLimit;
    else if (s_growing || memory_busy() || paging_busy())
        r = StackGrowth::AllocatorBusy; // the allocator's own frame touched a new page
    else {
        s_growing = true;
        u64 low = align_down(addr, k_page_size);
        low = low - s->limit_low > k_commit_margin ? low - k_commit_margin : s->limit_low;
        r = commit(*s, low);
        s_growing = false;
        watch(*s);
    }
    if (r != StackGrowth::Ok)
        s_last = r;
    return r == StackGrowth::Ok;
}

} // namespace

bool stack_grow(u64 addr)
{
    SpinLockGuard guard(s_stacks_lock);
    return stack_grow_locked(addr);
}

StackGrowth stack_last_failure()
{
    SpinLockGuard guard(s_stacks_lock);
    return s_last;
}

void stack_ensure_slow(u64 sp, u64 bytes)
{
    SpinLockGuard guard(s_stacks_lock);
    for (std::size_t i = 0; i < s_count; ++i) {
        const StackArea& s = s_stacks[i];
        if (sp < s.limit_low || sp >= s.high)
            continue;
        u64 want = sp - s.limit_low > bytes ? sp - bytes : s.limit_low;
        if (want < s.committed_low)
            (void)stack_grow_locked(want); // a failure shows as the fault it would have been
        watch(s);
        return;
    }
}

bool stack_find(u64 addr, StackArea* out)
{
    SpinLockGuard guard(s_stacks_lock);
    StackArea* s = find(addr);
    if (s)
        *out = *s;
    return s != nullptr;
}

// Not protected itself: its frame would see the canary change under it.
__attribute__((no_stack_protector)) u64 stack_protector_init()
{
    u64 v = 0;
    if (!arch::random_u64(&v)) // no RDRAND: the TSC at boot is at least not a constant
        v = arch::read_tsc() * 0x9e3779b97f4a7c15ull;
    // musl's layout: the second byte zero, so a string overflow cannot copy the canary out
    // (and musl, handed this value through AT_RANDOM, keeps it unchanged).
    v &= ~u64(0xff00);
    __stack_chk_guard = v;
    return v;
}

} // namespace atl::kernel
