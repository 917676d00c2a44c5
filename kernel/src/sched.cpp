// SPDX-License-Identifier: MIT
#include <kernel/arch/context.h>
#include <kernel/arch/cpu.h>
#include <kernel/arch/timer.h>
#include <kernel/console.h>
#include <kernel/interrupts.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <new>

// Boost.Context's fcontext (libboost_context, linked from the sysroot).
extern "C" {
struct transfer_t {
    void* fctx;
    void* data;
};
transfer_t jump_fcontext(void* const to, void* vp);
void* make_fcontext(void* sp, std::size_t size, void (*fn)(transfer_t));
}

namespace atl::kernel {

namespace {

// Preemption: a thread that has run this long while others wait is put at the back of the
// run queue by the timer interrupt (kernel/DESIGN.md, "Preemption").
constexpr u64 k_time_slice_ns = 10'000'000;

using AllList = List<Thread, &Thread::all_node>;

// The boot CPU's state (kernel/sched.h); the others' will come with them. Made by
// cpu_local_init(), first thing at boot: static constructors run only at the C library's
// start, long after the scheduler's first use.
// Functions take `Cpu& cpu = *this_cpu()` once and do not use it after a switch to another
// thread (switch_to, schedule): the thread may resume on another CPU.
alignas(Cpu) unsigned char s_boot_cpu[sizeof(Cpu)];
static_assert(__builtin_offsetof(Cpu, current) == k_cpu_current_offset);

// Shared by all CPUs. On one CPU, interrupts off (kernel code) is their lock.
// FIXME: a second CPU needs a scheduler lock for these and for the thread pool below.
AllList s_all;
int s_next_tid = 1;
u64 s_switches = 0;
u64 s_dead_cpu_ns = 0;

// Work left by an exiting thread, done by the next one after the switch.
struct PendingExit {
    Thread* thread = nullptr;
    void (*after)(void*) = nullptr;
    void* arg = nullptr;
};
PendingExit s_pending_exit;

// Thread objects come from pages carved into a free list: a thread start never calls malloc.
union PoolSlot {
    PoolSlot* next;
    alignas(Thread) unsigned char storage[sizeof(Thread)];
};
PoolSlot* s_free_slots = nullptr;

Thread* alloc_thread()
{
    if (!s_free_slots) {
        u64 page = 0;
        if (!alloc_pages(k_page_size, &page))
            return nullptr;
        auto* slots = reinterpret_cast<PoolSlot*>(page);
        for (std::size_t i = 0; i < k_page_size / sizeof(PoolSlot); ++i) {
            slots[i].next = s_free_slots;
            s_free_slots = &slots[i];
        }
    }
    PoolSlot* slot = s_free_slots;
    s_free_slots = slot->next;
    return new (slot->storage) Thread();
}

void free_thread(Thread* t)
{
    t->~Thread();
    auto* slot = reinterpret_cast<PoolSlot*>(t);
    slot->next = s_free_slots;
    s_free_slots = slot;
}

void account(Thread* t, u64 now_tsc)
{
    u64 hz = tsc_hz();
    if (t->ran_since_tsc)
        t->cpu_ns += static_cast<u64>(static_cast<unsigned __int128>(now_tsc - t->ran_since_tsc) * 1000000000u / hz);
    t->ran_since_tsc = 0;
}

void insert_sleeper(Thread* t)
{
    this_cpu()->sleepers.insert_sorted(t, [](const Thread& a, const Thread& b) { return a.deadline < b.deadline; });
}

// Programs the one-shot timer for the next event: the earliest deadline, or the end of the
// running thread's slice when others are waiting to run.
void arm_timer()
{
    Cpu& cpu = *this_cpu();
    u64 next = 0;
    if (Thread* first = cpu.sleepers.front())
        next = first->deadline;
    if (TimerEvent* t = cpu.timers.front(); t && (!next || t->deadline < next))
        next = t->deadline;
    if (!cpu.run_queue.empty() && !cpu.in_idle) {
        u64 slice_end = cpu.slice_start_ns + k_time_slice_ns;
        if (!next || slice_end < next)
            next = slice_end;
    }
    if (!next) {
        arch::timer_arm_ns(0);
        return;
    }
    u64 now = monotonic_ns();
    arch::timer_arm_ns(next > now ? next - now : 1);
}

void finish_pending_exit()
{
    if (!s_pending_exit.thread)
        return;
    PendingExit p = s_pending_exit;
    s_pending_exit = {};
    s_dead_cpu_ns += p.thread->cpu_ns;
    s_all.remove(p.thread);
    free_thread(p.thread);
    if (p.after)
        p.after(p.arg);
}

void switch_to(Thread* next)
{
    Cpu& cpu = *this_cpu();
    Thread* prev = cpu.current;
    if (next == prev) {
        prev->state = ThreadState::Running;
        return;
    }
    u64 now = arch::read_tsc();
    account(prev, now);
    next->state = ThreadState::Running;
    next->ran_since_tsc = now;
    cpu.current = next;
    cpu.slice_start_ns = monotonic_ns();
    ++s_switches;
    arch::set_fs_base(next->fs_base);
    transfer_t t = jump_fcontext(next->context, prev);
    // Resumed: t.data is the thread that switched to us; its context is where it stopped.
    static_cast<Thread*>(t.data)->context = t.fctx;
    finish_pending_exit();
}

[[noreturn]] void report_deadlock()
{
    console_printf("atoll: deadlock: every thread is blocked and no timer is pending\n");
    for (Thread* t = s_all.front(); t; t = s_all.next(t)) {
        if (t->wait_key)
            console_printf("atoll: thread %d (%s): blocked on the futex at 0x%llx\n", t->tid, t->name,
                static_cast<unsigned long long>(t->wait_key));
        else
            console_printf("atoll: thread %d (%s): %s\n", t->tid, t->name,
                t->state == ThreadState::Blocked ? "blocked" : "runnable");
        u64 rip = 0, rbp = 0;
        if (saved_frame(t, &rip, &rbp))
            print_backtrace(rip, rbp);
    }
    panic("deadlock");
}

// Picks the next thread to run; when there is none, idles (halting) until a timer wakes one.
void schedule()
{
    Cpu& cpu = *this_cpu();
    Thread* next = cpu.run_queue.pop_front();
    if (!next) {
        if (cpu.sleepers.empty() && cpu.timers.empty())
            report_deadlock();
        cpu.in_idle = true;
        u64 idle_from = arch::read_tsc();
        account(cpu.current, idle_from);
        while (cpu.run_queue.empty()) {
            arm_timer();
            idle_wait();
        }
        cpu.in_idle = false;
        cpu.current->ran_since_tsc = arch::read_tsc(); // idle time is nobody's CPU time
        next = cpu.run_queue.pop_front();
    }
    switch_to(next);
    arm_timer();
}

void thread_start(transfer_t t)
{
    static_cast<Thread*>(t.data)->context = t.fctx;
    finish_pending_exit();
    arm_timer();
    Thread* self = this_cpu()->current;
    irq_enable(); // applications run with interrupts on
    self->entry(self->arg);
    irq_disable(); // the scheduler's own: exit_thread() runs as kernel code, and never returns
    exit_thread(nullptr, nullptr);
}

} // namespace

void cpu_local_init() { arch::set_cpu_local(new (s_boot_cpu) Cpu()); }

void sched_init(u64 stack_low, u64 stack_high)
{
    Cpu& cpu = *this_cpu();
    Thread* t = alloc_thread();
    VERIFY(t);
    t->tid = s_next_tid++;
    set_thread_name(t, "main");
    t->state = ThreadState::Running;
    t->stack_low = stack_low;
    t->stack_high = stack_high;
    t->fs_base = arch::fs_base();
    t->ran_since_tsc = arch::read_tsc();
    s_all.push_back(t);
    cpu.current = t;
    cpu.slice_start_ns = 0;
}

Thread* find_thread(int tid)
{
    for (Thread* t = s_all.front(); t; t = s_all.next(t)) {
        if (t->tid == tid && t->state != ThreadState::Dead)
            return t;
    }
    return nullptr;
}

std::size_t thread_count() { return s_all.size(); }
Thread* first_thread() { return s_all.front(); }
Thread* next_thread(Thread* t) { return s_all.next(t); }

Thread* create_thread(void (*entry)(void*), void* arg, u64 stack_top, u64 fs_base, const char* name)
{
    Thread* t = alloc_thread();
    if (!t)
        return nullptr;
    t->tid = s_next_tid++;
    set_thread_name(t, name);
    t->entry = entry;
    t->arg = arg;
    t->fs_base = fs_base;
    t->stack_high = stack_top;
    // make_fcontext puts its small frame at the top of the given stack; the size only matters
    // to Boost's own bookkeeping.
    t->context = make_fcontext(reinterpret_cast<void*>(stack_top & ~u64(15)), 64 * 1024, thread_start);
    t->state = ThreadState::Runnable;
    s_all.push_back(t);
    this_cpu()->run_queue.push_back(t);
    arm_timer();
    return t;
}

Thread* create_kernel_thread(void (*entry)(void*), void* arg, const char* name, std::size_t stack_size)
{
    stack_size = align_up(stack_size, k_page_size);
    u64 stack = 0;
    if (!alloc_pages(stack_size + k_page_size, &stack))
        return nullptr;
    if (!set_access(stack, k_page_size, Access::None)) {
        free_pages(stack, stack_size + k_page_size);
        return nullptr;
    }
    Thread* t = create_thread(entry, arg, stack + k_page_size + stack_size, 0, name);
    if (!t) {
        (void)set_access(stack, k_page_size, Access::ReadWrite);
        free_pages(stack, stack_size + k_page_size);
        return nullptr;
    }
    t->stack_low = stack + k_page_size;
    t->kernel_thread = true;
    return t;
}

WakeReason block(WaitQueue* queue, u64 deadline, bool interruptible)
{
    Thread* self = this_cpu()->current;
    if (interruptible && self->interrupt_pending)
        return WakeReason::Interrupted;
    if (deadline && deadline <= monotonic_ns())
        return WakeReason::TimedOut;
    self->state = ThreadState::Blocked;
    self->wake_reason = WakeReason::None;
    self->interruptible = interruptible;
    self->waiting_on = queue;
    self->deadline = deadline;
    if (queue)
        queue->push_back(self);
    if (deadline)
        insert_sleeper(self);
    schedule();
    self->interruptible = false;
    return self->wake_reason;
}

void wake(Thread* t, WakeReason reason)
{
    Cpu& cpu = *this_cpu();
    if (t->state != ThreadState::Blocked)
        return;
    if (t->waiting_on)
        static_cast<WaitQueue*>(t->waiting_on)->remove(t);
    if (t->sleep_node.linked())
        cpu.sleepers.remove(t);
    t->waiting_on = nullptr;
    t->deadline = 0;
    t->wake_reason = reason;
    t->state = ThreadState::Runnable;
    cpu.run_queue.push_back(t);
    if (!cpu.in_idle)
        arm_timer(); // the running thread's slice now matters
}

void interrupt(Thread* t)
{
    t->interrupt_pending = true;
    if (t->state == ThreadState::Blocked && t->interruptible)
        wake(t, WakeReason::Interrupted);
}

void yield()
{
    Cpu& cpu = *this_cpu();
    if (cpu.run_queue.empty())
        return;
    cpu.current->state = ThreadState::Runnable;
    cpu.run_queue.push_back(cpu.current);
    schedule();
}

void exit_thread(void (*after)(void*), void* arg)
{
    Thread* self = this_cpu()->current;
    self->state = ThreadState::Dead;
    VERIFY(!s_pending_exit.thread);
    s_pending_exit = PendingExit { self, after, arg };
    account(self, arch::read_tsc());
    schedule();
    panic("a dead thread was resumed");
}

bool saved_frame(const Thread* t, u64* rip, u64* rbp)
{
    if (t == this_cpu()->current || !t->context)
        return false;
    arch::saved_context_frame(t->context, rip, rbp);
    return true;
}

void set_thread_name(Thread* t, const char* name)
{
    std::size_t i = 0;
    for (; name[i] && i < sizeof(t->name) - 1; ++i)
        t->name[i] = name[i];
    t->name[i] = '\0';
}

void set_fs_base(u64 base)
{
    this_cpu()->current->fs_base = base;
    arch::set_fs_base(base);
}

u64 thread_cpu_ns(const Thread* t)
{
    u64 ns = t->cpu_ns;
    if (t == this_cpu()->current && t->ran_since_tsc) {
        u64 hz = tsc_hz();
        ns += static_cast<u64>(static_cast<unsigned __int128>(arch::read_tsc() - t->ran_since_tsc) * 1000000000u / hz);
    }
    return ns;
}

u64 process_cpu_ns()
{
    u64 sum = s_dead_cpu_ns;
    for (Thread* t = s_all.front(); t; t = s_all.next(t))
        sum += thread_cpu_ns(t);
    return sum;
}

u64 context_switches() { return s_switches; }

// Called by the timer interrupt handler, with interrupts off, on the interrupted thread's stack.
void timer_start(TimerEvent* t, u64 deadline)
{
    Cpu& cpu = *this_cpu();
    if (t->armed())
        cpu.timers.remove(t);
    t->deadline = deadline ? deadline : 1;
    cpu.timers.insert_sorted(t, [](const TimerEvent& a, const TimerEvent& b) { return a.deadline < b.deadline; });
    if (!cpu.in_idle)
        arm_timer();
}

void timer_cancel(TimerEvent* t)
{
    if (t->armed())
        this_cpu()->timers.remove(t);
}

std::size_t wake_all(WaitQueue& q)
{
    std::size_t n = 0;
    while (Thread* t = q.front()) {
        if (t->state == ThreadState::Blocked)
            wake(t);
        else
            q.remove(t); // cannot happen: only blocked threads wait on queues
        ++n;
    }
    return n;
}

bool in_idle() { return this_cpu()->in_idle; }

void scheduler_timer_interrupt()
{
    Cpu& cpu = *this_cpu();
    u64 now = monotonic_ns();
    while (TimerEvent* t = cpu.timers.front()) {
        if (t->deadline > now)
            break;
        cpu.timers.remove(t);
        t->fire(t);
    }
    while (Thread* t = cpu.sleepers.front()) {
        if (t->deadline > now)
            break;
        wake(t, WakeReason::TimedOut);
    }
    if (!cpu.in_idle && cpu.current->state == ThreadState::Running && !cpu.run_queue.empty() &&
        now - cpu.slice_start_ns >= k_time_slice_ns) {
        cpu.current->state = ThreadState::Runnable;
        cpu.run_queue.push_back(cpu.current);
        schedule();
        return;
    }
    arm_timer();
}

} // namespace atl::kernel
