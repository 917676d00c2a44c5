// SPDX-License-Identifier: MIT
// lwIP's sys_arch and the few kernel functions net/lwip_port/netif.cpp calls, for running the
// guest's network stack in a host process under the fuzzer (tests/fuzz/lwip.cpp).
//
// The stack keeps its own structure: lwIP's tcpip thread exists and does the work it does in the
// guest (received frames go through its mailbox, timers run in it), but as a coroutine on a stack
// of its own, switched to explicitly. The fuzzer's thread hands over with
// host_run_tcpip_until_idle(), and the tcpip thread hands back when it would block on an empty
// mailbox. So one input always takes the same path, no lock is ever contended, and time is
// virtual (host_advance_ms()): the timers fire when the input says time has passed.
#include "host_port.h"

#include <kernel/console.h>
#include <kernel/dump.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <sanitizer/common_interface_defs.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <sys/mman.h>

extern "C" {
#include "lwip/err.h"
#include "lwip/sys.h"
}

using atl::u32;
using atl::u8;
using atl::u64;
using atl::kernel::IrqState;
using atl::kernel::WaitQueue;
using atl::kernel::WakeReason;

namespace {

[[noreturn]] void die(const char* what)
{
    std::fprintf(stderr, "lwip host port: %s\n", what);
    std::abort();
}

// ---------------------------------------------------------------- the tcpip coroutine
// Boost.Context's fcontext, as the guest's scheduler switches threads (kernel/src/sched.cpp):
// no system call per switch (ucontext's swapcontext makes two, and ASan clears the whole
// stack's shadow at each), with ASan told about every stack switch.

extern "C" {
struct transfer_t {
    void* fctx;
    void* data;
};
transfer_t jump_fcontext(void* const to, void* vp);
void* make_fcontext(void* sp, std::size_t size, void (*fn)(transfer_t));
}

constexpr std::size_t k_stack_size = 512 * 1024;
constexpr std::size_t k_guard = 4096;
void* s_main_context = nullptr;  // the fuzzer's thread while the tcpip thread runs
void* s_tcpip_context = nullptr; // the tcpip thread while it is parked
u8* s_tcpip_stack = nullptr;     // its stack, above a guard page
bool s_have_thread = false;
bool s_in_tcpip = false;
lwip_thread_fn s_thread_fn = nullptr;
void* s_thread_arg = nullptr;
// ASan's view of the stacks being switched between (its fiber-switch annotations).
void* s_main_fake_stack = nullptr;
const void* s_main_stack_bottom = nullptr;
std::size_t s_main_stack_size = 0;
int s_main_locks = 0; // mutexes the fuzzer's thread holds (then it must not run the tcpip thread)

u64 s_now_ms = 1000; // virtual time; 0 is avoided so that "0: no deadline" is never a time

void tcpip_entry(transfer_t from)
{
    __sanitizer_finish_switch_fiber(nullptr, &s_main_stack_bottom, &s_main_stack_size);
    s_main_context = from.fctx;
    s_thread_fn(s_thread_arg);
    die("the tcpip thread returned");
}

// From the tcpip thread: back to the fuzzer's thread until it hands over again.
void yield_to_main()
{
    void* fake_stack = nullptr;
    s_in_tcpip = false;
    __sanitizer_start_switch_fiber(&fake_stack, s_main_stack_bottom, s_main_stack_size);
    transfer_t back = jump_fcontext(s_main_context, nullptr);
    __sanitizer_finish_switch_fiber(fake_stack, &s_main_stack_bottom, &s_main_stack_size);
    s_main_context = back.fctx;
    s_in_tcpip = true;
}

bool in_tcpip() { return s_in_tcpip; }

} // namespace

void host_run_tcpip_until_idle()
{
    if (!s_have_thread)
        return;
    if (s_in_tcpip)
        die("host_run_tcpip_until_idle() from the tcpip thread");
    s_in_tcpip = true;
    __sanitizer_start_switch_fiber(&s_main_fake_stack, s_tcpip_stack + k_guard, k_stack_size);
    transfer_t back = jump_fcontext(s_tcpip_context, nullptr);
    __sanitizer_finish_switch_fiber(s_main_fake_stack, nullptr, nullptr);
    s_tcpip_context = back.fctx;
    s_in_tcpip = false;
}

void host_advance_ms(std::uint32_t ms)
{
    s_now_ms += ms;
    host_run_tcpip_until_idle();
}

std::uint32_t host_now_ms() { return static_cast<std::uint32_t>(s_now_ms); }

// ---------------------------------------------------------------- random numbers

namespace {
u64 s_random = 1;
}

void host_seed_random(std::uint64_t seed) { s_random = seed * 2 + 1; }

extern "C" {

void atoll_lwip_diag(const char* fmt, ...)
{
    if (!std::getenv("ATOLL_FUZZ_VERBOSE"))
        return;
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
}

// An lwIP assertion is the stack saying its state is broken: for the fuzzer, a crash.
void atoll_lwip_assert(const char* message, const char* file, int line)
{
    std::fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", message, file, line);
    std::abort();
}

// Deterministic (splitmix64), reseeded per input: the same input takes the same path.
uint32_t atoll_lwip_random(void)
{
    u64 z = (s_random += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

void* atoll_lwip_malloc(size_t size) { return std::malloc(size); }
void* atoll_lwip_calloc(size_t n, size_t size) { return std::calloc(n, size); }
void atoll_lwip_free(void* p) { std::free(p); }

void sys_init(void) { }
u32_t sys_now(void) { return static_cast<u32_t>(s_now_ms); }
sys_prot_t sys_arch_protect(void) { return 0; }
void sys_arch_unprotect(sys_prot_t) { }

// ---------------------------------------------------------------- semaphores, mutexes

struct atoll_sys_sem {
    u32_t count;
};
struct atoll_sys_mutex {
    int owner; // 0 free, 1 the fuzzer's thread, 2 the tcpip thread
};

err_t sys_sem_new(sys_sem_t* sem, u8_t count)
{
    *sem = new atoll_sys_sem { count };
    return ERR_OK;
}
void sys_sem_free(sys_sem_t* sem)
{
    delete *sem;
    *sem = nullptr;
}
void sys_sem_signal(sys_sem_t* sem) { ++(*sem)->count; }

u32_t sys_arch_sem_wait(sys_sem_t* sem, u32_t timeout)
{
    u64 start = s_now_ms;
    while ((*sem)->count == 0) {
        if (in_tcpip()) {
            if (timeout && s_now_ms - start >= timeout)
                return SYS_ARCH_TIMEOUT;
            yield_to_main();
        } else {
            host_run_tcpip_until_idle();
            if ((*sem)->count == 0)
                die("the fuzzer's thread would wait forever on a semaphore");
        }
    }
    --(*sem)->count;
    return 0;
}

err_t sys_mutex_new(sys_mutex_t* mutex)
{
    *mutex = new atoll_sys_mutex { 0 };
    return ERR_OK;
}
void sys_mutex_free(sys_mutex_t* mutex)
{
    delete *mutex;
    *mutex = nullptr;
}
void sys_mutex_lock(sys_mutex_t* mutex)
{
    // Only one side runs at a time and the tcpip thread parks with the core lock released, so
    // a held lock here is a deadlock the guest would have too.
    if ((*mutex)->owner != 0)
        die("a mutex is taken while held (deadlock)");
    (*mutex)->owner = in_tcpip() ? 2 : 1;
    if (!in_tcpip())
        ++s_main_locks;
}
void sys_mutex_unlock(sys_mutex_t* mutex)
{
    if ((*mutex)->owner == 1)
        --s_main_locks;
    (*mutex)->owner = 0;
}

// ---------------------------------------------------------------- mailboxes

struct atoll_sys_mbox {
    std::deque<void*> q;
    std::size_t size;
};

err_t sys_mbox_new(sys_mbox_t* mbox, int size)
{
    *mbox = new atoll_sys_mbox { {}, size > 0 ? static_cast<std::size_t>(size) : 128 };
    return ERR_OK;
}
void sys_mbox_free(sys_mbox_t* mbox)
{
    delete *mbox;
    *mbox = nullptr;
}
err_t sys_mbox_trypost(sys_mbox_t* mbox, void* msg)
{
    if ((*mbox)->q.size() >= (*mbox)->size)
        return ERR_MEM;
    (*mbox)->q.push_back(msg);
    return ERR_OK;
}
void sys_mbox_post(sys_mbox_t* mbox, void* msg)
{
    while (sys_mbox_trypost(mbox, msg) != ERR_OK) {
        if (in_tcpip())
            die("the tcpip thread posts to a full mailbox");
        host_run_tcpip_until_idle();
    }
}
err_t sys_mbox_trypost_fromisr(sys_mbox_t* mbox, void* msg) { return sys_mbox_trypost(mbox, msg); }

u32_t sys_arch_mbox_fetch(sys_mbox_t* mbox, void** msg, u32_t timeout)
{
    u64 start = s_now_ms;
    while ((*mbox)->q.empty()) {
        if (!in_tcpip()) {
            host_run_tcpip_until_idle();
            if ((*mbox)->q.empty())
                die("the fuzzer's thread would wait forever on a mailbox");
            continue;
        }
        if (timeout && s_now_ms - start >= timeout)
            return SYS_ARCH_TIMEOUT;
        yield_to_main();
    }
    void* got = (*mbox)->q.front();
    (*mbox)->q.pop_front();
    if (msg)
        *msg = got;
    return 0;
}
u32_t sys_arch_mbox_tryfetch(sys_mbox_t* mbox, void** msg)
{
    if ((*mbox)->q.empty())
        return SYS_MBOX_EMPTY;
    void* got = (*mbox)->q.front();
    (*mbox)->q.pop_front();
    if (msg)
        *msg = got;
    return 0;
}

// ---------------------------------------------------------------- the one thread

sys_thread_t sys_thread_new(const char*, lwip_thread_fn thread, void* arg, int, int)
{
    if (s_have_thread)
        die("a second lwIP thread (only tcpip's is expected)");
    s_have_thread = true;
    s_thread_fn = thread;
    s_thread_arg = arg;
    // A guard page below the stack: an overflow faults instead of corrupting the heap.
    void* m = mmap(nullptr, k_guard + k_stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m, k_guard, PROT_NONE) != 0)
        die("cannot map the tcpip thread's stack");
    s_tcpip_stack = static_cast<u8*>(m);
    s_tcpip_context = make_fcontext(s_tcpip_stack + k_guard + k_stack_size, k_stack_size, tcpip_entry);
    return s_tcpip_context;
}

} // extern "C"

// ---------------------------------------------------------------- the kernel, as netif.cpp sees it

namespace atl::kernel {

void log(const char* fmt, ...)
{
    if (!std::getenv("ATOLL_FUZZ_VERBOSE"))
        return;
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
    std::fputc('\n', stderr);
}

void* kmalloc(std::size_t size) { return std::malloc(size); }
void* kzalloc(std::size_t size) { return std::calloc(1, size); }
void kfree(void* p) { std::free(p); }

IrqState irq_save() noexcept { return IrqState { 0 }; }
void irq_restore(IrqState) noexcept { }

u64 monotonic_ns() { return s_now_ms * 1000000u; }

// A sleep: the fuzzer's thread lets the tcpip thread run (as the guest's scheduler would), and
// either thread's sleep moves virtual time to its deadline.
WakeReason block(WaitQueue*, u64 deadline, bool)
{
    if (!in_tcpip() && s_main_locks == 0)
        host_run_tcpip_until_idle();
    if (deadline && deadline / 1000000u > s_now_ms)
        s_now_ms = (deadline + 999999u) / 1000000u;
    return WakeReason::TimedOut;
}

void DumpOutput::printf(const char*, ...) { }

} // namespace atl::kernel

namespace atl::net {
void register_net_dump() { }
} // namespace atl::net
