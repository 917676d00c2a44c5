// SPDX-License-Identifier: MIT
// The state dump (kernel/dump.h): threads with their backtraces, memory, then the sections
// other layers registered. Everything is read with interrupts off (the kernel's lock on one
// CPU) and printed afterwards, so the slow output never holds up the rest of the guest.
#include <kernel/dump.h>

#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/lock.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace atl::kernel {

void DumpOutput::printf(const char* fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    std::size_t len = static_cast<std::size_t>(n) < sizeof(line) ? static_cast<std::size_t>(n) : sizeof(line) - 1;
    if (static_cast<std::size_t>(n) >= sizeof(line))
        line[len - 1] = '\n'; // a cut line still ends its line
    write(line, len);
}

void DumpOutput::write(const char* text, std::size_t len)
{
    while (len) {
        if (m_len == m_cap)
            flush();
        std::size_t n = m_cap - m_len < len ? m_cap - m_len : len;
        std::memcpy(m_buf + m_len, text, n);
        m_len += n;
        text += n;
        len -= n;
    }
}

void DumpOutput::flush()
{
    if (m_len)
        m_sink(m_context, m_buf, m_len);
    m_len = 0;
}

namespace {

struct Section {
    const char* name = nullptr;
    DumpSectionFn fn = nullptr;
};
struct SectionTable {
    Section entries[16] {};
    std::size_t count = 0;
};
// The registered sections. Lock order: a leaf (held only to copy an entry).
Protected<SectionTable> s_sections;

constexpr std::size_t k_max_frames = 24;
constexpr std::size_t k_max_threads = 512;

// One thread as it was when the snapshot was taken (interrupts off).
struct ThreadSnapshot {
    int tid;
    char name[16];
    ThreadState state;
    bool kernel_thread;
    bool interruptible;
    bool interrupt_pending;
    bool self; // the thread writing the dump
    const void* waiting_on;
    u64 wait_key;
    u64 deadline;
    u64 cpu_ns;
    u64 stack_low, stack_high, sp;
    u64 frames[k_max_frames];
    u8 frame_count;
    u8 interrupted_at; // frames from here on are the interrupted code's (0: none)
};

const char* state_name(ThreadState s)
{
    switch (s) {
    case ThreadState::Running: return "running";
    case ThreadState::Runnable: return "runnable";
    case ThreadState::Blocked: return "blocked";
    case ThreadState::Dead: return "exiting";
    }
    return "?";
}

void snapshot(const Thread* t, ThreadSnapshot* s)
{
    *s = {};
    s->tid = t->tid;
    std::memcpy(s->name, t->name, sizeof(s->name));
    s->name[sizeof(s->name) - 1] = '\0';
    s->state = t->state;
    s->kernel_thread = t->kernel_thread;
    s->interruptible = t->interruptible;
    s->interrupt_pending = t->interrupt_pending;
    s->self = t == current();
    s->waiting_on = t->waiting_on;
    s->wait_key = t->wait_key;
    s->deadline = t->deadline;
    s->cpu_ns = thread_cpu_ns(t);
    s->stack_low = t->stack_low;
    s->stack_high = t->stack_high;
    if (s->self || !t->context)
        return;
    s->sp = reinterpret_cast<u64>(t->context);
    u64 rip = 0, rbp = 0;
    if (!access_ok(s->sp, 8 * sizeof(u64), false) || !saved_frame(t, &rip, &rbp))
        return;
    std::size_t n = collect_backtrace(rip, rbp, s->frames, k_max_frames);
    // Preempted in an interrupt: the walk stops at the interrupt's entry; go on from the
    // interrupted code's own rip and rbp.
    // A frame below the thread's saved stack pointer was abandoned (a signal handler that
    // longjmp'ed out of the interrupt's return path): its contents are stale.
    const arch::IrqFrame* f = t->interrupted;
    auto fa = reinterpret_cast<u64>(f);
    bool live = f && fa >= s->sp && (!t->stack_high || fa + sizeof(*f) <= t->stack_high);
    if (live && n < k_max_frames && access_ok(fa, sizeof(*f), false)) {
        s->interrupted_at = static_cast<u8>(n);
        n += collect_backtrace(f->pc(), f->fp(), s->frames + n, k_max_frames - n);
    }
    s->frame_count = static_cast<u8>(n);
}

void print_frame(DumpOutput& out, const char* indent, std::size_t i, u64 addr, bool return_address)
{
    u64 offset = 0;
    const char* name = symbolize(return_address ? addr - 1 : addr, &offset);
    if (name)
        out.printf("%s#%-2d 0x%016llx  %s+0x%llx\n", indent, static_cast<int>(i), static_cast<unsigned long long>(addr),
            name, static_cast<unsigned long long>(offset));
    else
        out.printf("%s#%-2d 0x%016llx  ??\n", indent, static_cast<int>(i), static_cast<unsigned long long>(addr));
}

[[gnu::format(printf, 4, 5)]] void append(char* buf, std::size_t cap, std::size_t* at, const char* fmt, ...)
{
    if (*at >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf + *at, cap - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at += static_cast<std::size_t>(n);
}

void print_thread(DumpOutput& out, const ThreadSnapshot& s, u64 now)
{
    char wait[96] = "";
    std::size_t w = 0;
    if (s.state == ThreadState::Blocked) {
        if (s.wait_key)
            append(wait, sizeof(wait), &w, ", on the futex at 0x%llx", static_cast<unsigned long long>(s.wait_key));
        else if (s.waiting_on)
            append(wait, sizeof(wait), &w, ", on the wait queue at 0x%llx", reinterpret_cast<unsigned long long>(s.waiting_on));
        if (s.deadline > now)
            append(wait, sizeof(wait), &w, ", deadline in %llu us", static_cast<unsigned long long>((s.deadline - now) / 1000));
        else if (s.deadline)
            append(wait, sizeof(wait), &w, ", deadline passed %llu us ago", static_cast<unsigned long long>((now - s.deadline) / 1000));
        if (!s.wait_key && !s.waiting_on && !s.deadline)
            append(wait, sizeof(wait), &w, ", with no queue and no deadline");
    }
    char stack[48] = "";
    if (s.sp && s.stack_high > s.sp && (s.stack_low == 0 || s.sp >= s.stack_low)) {
        if (s.stack_low)
            std::snprintf(stack, sizeof(stack), ", stack %llu of %llu KiB",
                static_cast<unsigned long long>((s.stack_high - s.sp + 1023) >> 10),
                static_cast<unsigned long long>((s.stack_high - s.stack_low) >> 10));
        else
            std::snprintf(stack, sizeof(stack), ", stack %llu KiB", static_cast<unsigned long long>((s.stack_high - s.sp + 1023) >> 10));
    }
    out.printf("thread %d (%s)%s: %s%s%s%s, cpu %llu.%03llu s%s\n", s.tid, s.name, s.kernel_thread ? " [kernel]" : "",
        s.self ? "running (writing this dump)" : state_name(s.state),
        s.state == ThreadState::Blocked && s.interruptible ? " (interruptible)" : "",
        s.interrupt_pending ? ", signal pending" : "", wait, static_cast<unsigned long long>(s.cpu_ns / 1000000000u),
        static_cast<unsigned long long>(s.cpu_ns / 1000000u % 1000u), stack);
    for (std::size_t i = 0; i < s.frame_count; ++i) {
        if (s.interrupted_at && i == s.interrupted_at)
            out.printf("    -- interrupted at:\n");
        bool is_return = i != 0 && i != s.interrupted_at;
        print_frame(out, "    ", i, s.frames[i], is_return);
    }
}

void dump_threads(DumpOutput& out)
{
    // The snapshot array comes from the kernel heap; without memory for it the threads are
    // still listed, from a small array on the stack.
    ThreadSnapshot fallback[2];
    std::size_t count, n = 0;
    ThreadSnapshot* snaps;
    u64 now;
    {
        // The scheduler's thread list stays as it is while interrupts are off on this CPU.
        // FIXME: a second CPU needs the scheduler's lock for the list of all threads.
        InterruptGuard irq_off;
        count = thread_count();
        std::size_t want = count < k_max_threads ? count : k_max_threads;
        snaps = static_cast<ThreadSnapshot*>(kmalloc(want * sizeof(ThreadSnapshot)));
        std::size_t cap = snaps ? want : 2;
        ThreadSnapshot* arr = snaps ? snaps : fallback;
        for (Thread* t = first_thread(); t && n < cap; t = next_thread(t))
            snapshot(t, &arr[n++]);
        now = monotonic_ns();
    }
    ThreadSnapshot* arr = snaps ? snaps : fallback;

    out.printf("== threads (%zu)\n", count);
    for (std::size_t i = 0; i < n; ++i)
        print_thread(out, arr[i], now);
    if (count > n)
        out.printf("... %zu more threads not shown%s\n", count - n, snaps ? "" : " (no memory for the snapshot)");
    kfree(snaps);
}

void print_mib(char* buf, std::size_t cap, u64 bytes)
{
    std::snprintf(buf, cap, "%llu.%llu MiB", static_cast<unsigned long long>(bytes >> 20),
        static_cast<unsigned long long>((bytes & ((1u << 20) - 1)) * 10 >> 20));
}

} // namespace

bool register_dump_section(const char* name, DumpSectionFn fn)
{
    return s_sections.with([&](SectionTable& table) {
        bool ok = table.count < sizeof(table.entries) / sizeof(table.entries[0]);
        if (ok)
            table.entries[table.count++] = Section { name, fn };
        return ok;
    });
}

void dump_backtrace(DumpOutput& out, u64 rip, u64 rbp, const char* indent, bool rip_is_return)
{
    u64 frames[32];
    std::size_t n = collect_backtrace(rip, rbp, frames, 32);
    for (std::size_t i = 0; i < n; ++i)
        print_frame(out, indent, i, frames[i], i != 0 || rip_is_return);
}

void write_state_dump(DumpOutput& out, const char* id, u64 own_bytes)
{
    u64 now, total, free, heap, switches, cpu;
    std::size_t threads;
    InterruptStats irq;
    {
        InterruptGuard irq_off; // one moment's figures (the scheduler's: see dump_threads)
        now = monotonic_ns();
        total = memory_total(), free = memory_free() + own_bytes, heap = heap_in_use();
        switches = context_switches();
        threads = thread_count();
        irq = interrupt_stats();
        cpu = process_cpu_ns();
    }

    char t[24], u[24], f[24];
    print_mib(t, sizeof(t), total);
    print_mib(u, sizeof(u), total - free);
    print_mib(f, sizeof(f), free);
    out.printf("atoll-dump-begin %s\n", id);
    out.printf("uptime %llu.%03llu s, %zu threads, cpu %llu.%03llu s, %llu context switches\n",
        static_cast<unsigned long long>(now / 1000000000u), static_cast<unsigned long long>(now / 1000000u % 1000u),
        threads, static_cast<unsigned long long>(cpu / 1000000000u), static_cast<unsigned long long>(cpu / 1000000u % 1000u),
        static_cast<unsigned long long>(switches));
    out.printf("interrupts: timer %llu, devices %llu, spurious %llu\n", static_cast<unsigned long long>(irq.timer),
        static_cast<unsigned long long>(irq.device), static_cast<unsigned long long>(irq.spurious));
    out.printf("memory: %s of RAM, %s in use, %s free; kernel heap %llu bytes in use\n", t, u, f,
        static_cast<unsigned long long>(heap));
    out.printf("memory-in-use-bytes %llu\n", static_cast<unsigned long long>(total - free));
    dump_threads(out);
    out.flush();
    for (std::size_t i = 0;; ++i) {
        // A section prints with no lock held (it may wait for the host to read).
        Section section = s_sections.with([&](SectionTable& table) { return i < table.count ? table.entries[i] : Section {}; });
        if (!section.fn)
            break;
        out.printf("== %s\n", section.name);
        section.fn(out);
        out.flush();
    }
    out.printf("atoll-dump-end %s\n", id);
    out.flush();
}

} // namespace atl::kernel
