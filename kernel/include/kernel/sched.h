// SPDX-License-Identifier: MIT
#pragma once

// Threads and the scheduler: one CPU, a FIFO run queue, a sorted sleep list, Boost.Context
// for the switch, and time-slice preemption from the timer interrupt (kernel/DESIGN.md).
// All functions expect interrupts off (kernel code always runs so) unless they say otherwise.

#include <kernel/arch/cpu.h>
#include <kernel/arch/frame.h>
#include <kernel/list.h>
#include <kernel/types.h>

namespace atl::kernel {

enum class ThreadState : u8 { Running, Runnable, Blocked, Dead };
enum class WakeReason : u8 { None, Woken, TimedOut, Interrupted };

struct Thread {
    int tid = 0;
    ThreadState state = ThreadState::Runnable;
    void* context = nullptr; // Boost.Context fcontext_t while not running
    u64 fs_base = 0;
    char name[16] = "thread"; // prctl(PR_SET_NAME): 15 characters and a NUL, as on Linux

    ListNode queue_node; // on the run queue or on one wait queue
    ListNode sleep_node; // on the sleep list when a deadline is set
    ListNode all_node;   // on the list of all threads
    u64 deadline = 0;    // monotonic ns
    void* waiting_on = nullptr;
    WakeReason wake_reason = WakeReason::None;
    bool interruptible = false;
    bool interrupt_pending = false; // a signal is waiting: interruptible waits return Interrupted
    bool kernel_thread = false;     // the kernel's own (drivers, TCP/IP): never an application signal's target

    u64 cpu_ns = 0;
    u64 ran_since_tsc = 0;
    u64 stack_low = 0;  // the thread's stack, when known (for overflow reports)
    u64 stack_high = 0;

    void (*entry)(void*) = nullptr;
    void* arg = nullptr;
    // The libOS's per-thread state lives here (placement-constructed by libos), so a thread
    // start needs one allocation, not two.
    alignas(16) unsigned char user_storage[128] {};
    u64 wait_key = 0;     // futex word address while waiting on one
    u32 wait_bits = 0;    // futex bitset
    // While an interrupt handler runs on this thread's stack (and while the thread is
    // preempted from one): the interrupted context, for the state dump's backtraces, which
    // otherwise stop at the interrupt entry.
    const arch::IrqFrame* interrupted = nullptr;
};

using WaitQueue = List<Thread, &Thread::queue_node>;

// A callback at a monotonic deadline, run from the timer interrupt (interrupts off): for
// timerfds and protocol timers. It should only change state and wake threads.
struct TimerEvent {
    ListNode node;
    u64 deadline = 0;
    void (*fire)(TimerEvent*) = nullptr;
    bool armed() const { return node.linked(); }
};
void timer_start(TimerEvent* t, u64 deadline); // (re)arms
void timer_cancel(TimerEvent* t);

// Wakes every thread on the queue; returns how many.
std::size_t wake_all(WaitQueue& q);

// One CPU's own state: the thread it runs, its run queue and the scheduler's timer state (the
// sleepers and timer events whose deadlines its timer is armed for, the running thread's time
// slice). Reached through the CPU itself (arch::cpu_local(): x86-64's GS.base), so a second
// CPU gets a Cpu of its own without a change here. Only its CPU touches it, with interrupts
// off (kernel code runs so; InterruptGuard elsewhere): that is its lock.
// FIXME: with a second CPU, a wake from another CPU needs a lock on the run queue (or a
// message to the owner), and threads need a home CPU.
struct Cpu {
    Cpu* self = this; // first: arch::cpu_local() reads it
    Thread* current = nullptr;
    List<Thread, &Thread::queue_node> run_queue;
    List<Thread, &Thread::sleep_node> sleepers;   // sorted by deadline
    List<TimerEvent, &TimerEvent::node> timers; // sorted by deadline
    u64 slice_start_ns = 0;                     // when `current` was switched to
    bool in_idle = false;                       // waiting for an interrupt on behalf of no thread
    u32 id = 0;
};
inline Cpu* this_cpu() { return static_cast<Cpu*>(arch::cpu_local()); }
// Where current() reads: one instruction (x86-64: mov %gs:8).
constexpr unsigned k_cpu_current_offset = sizeof(Cpu*);
// The boot CPU's Cpu becomes the running CPU's: first thing at boot, before current().
void cpu_local_init();

// Makes the running context thread 1 ("main") on the stack [stack_low, stack_high).
void sched_init(u64 stack_low, u64 stack_high);
// Inline, one load: the libOS asks on every call.
inline Thread* current() { return reinterpret_cast<Thread*>(arch::cpu_local_word<k_cpu_current_offset>()); }
Thread* find_thread(int tid);
bool in_idle(); // the CPU waits for an interrupt on behalf of no thread
std::size_t thread_count();
Thread* first_thread(); // all threads, in creation order
Thread* next_thread(Thread* t);

// A new runnable thread that calls entry(arg) on the stack ending at stack_top, with the given
// FS base (TLS). Returns nullptr when out of memory.
Thread* create_thread(void (*entry)(void*), void* arg, u64 stack_top, u64 fs_base, const char* name);

// Blocks the running thread on `queue` (may be null: a plain sleep) until woken, until the
// monotonic `deadline` (0: none) passes, or, when interruptible, until interrupt() is called.
// A pending interrupt makes an interruptible wait return at once: none is lost.
WakeReason block(WaitQueue* queue, u64 deadline, bool interruptible);
// Wakes a blocked thread (removing it from its queue and the sleep list).
void wake(Thread* t, WakeReason reason = WakeReason::Woken);
// Marks a signal for the thread and ends its interruptible wait, if it is in one.
void interrupt(Thread* t);

// A thread of the kernel's own (device service, the TCP/IP stack) on a fresh stack with a
// guard page. It runs with interrupts enabled, like application code. nullptr when out of memory.
Thread* create_kernel_thread(void (*entry)(void*), void* arg, const char* name, std::size_t stack_size = 64 * 1024);

// Where a thread that is not running stopped: the instruction and frame pointers in its saved
// context (for backtraces of other threads). False for the running thread or one never run.
bool saved_frame(const Thread* t, u64* rip, u64* rbp);

void yield();
// Ends the running thread. `after(arg)` runs on the next thread once this one's stack is no
// longer in use (to free it).
[[noreturn]] void exit_thread(void (*after)(void*), void* arg);

void set_fs_base(u64 base); // for the running thread (arch_prctl)
void set_thread_name(Thread* t, const char* name); // truncated to 15 characters

u64 thread_cpu_ns(const Thread* t);
u64 process_cpu_ns();
u64 context_switches();

} // namespace atl::kernel
