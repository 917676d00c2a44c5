// SPDX-License-Identifier: MIT
// lwIP's sys_arch on Atoll (lwIP 2.1 "sys.h" contract): semaphores, mutexes and mailboxes on
// kernel wait queues, threads as kernel threads, time from the monotonic clock. Each
// semaphore, mutex and mailbox has a spinlock for its own fields (kernel/lock.h); lwIP's core
// lock (LWIP_TCPIP_CORE_LOCKING) is one of these mutexes, and SYS_ARCH_PROTECT is a recursive
// spinlock of its own.

#include <kernel/arch/cpu.h>
#include <kernel/console.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/lock.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include "sys_arch_dump.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

extern "C" {
#include "lwip/err.h"
#include "lwip/sys.h"
}

using namespace atl;
using atl::kernel::IrqState;
using atl::kernel::SpinLockGuard;
using atl::kernel::WaitQueue;

// Lock order of the three kinds' locks: leaves (the scheduler's wake and block are all they
// call while held). A thread waits (kernel::block) with the lock held: see kernel/lock.h.
struct atoll_sys_sem {
    kernel::SpinLock lock;
    u32 count ATL_GUARDED_BY(lock) = 0;
    WaitQueue waiters ATL_GUARDED_BY(lock);
};

struct atoll_sys_mutex {
    kernel::SpinLock lock;
    kernel::Thread* owner ATL_GUARDED_BY(lock) = nullptr;
    WaitQueue waiters ATL_GUARDED_BY(lock);
};

struct atoll_sys_mbox {
    kernel::SpinLock lock;
    void** slots ATL_PT_GUARDED_BY(lock) = nullptr;
    u32 size = 0; // set when made
    u32 head ATL_GUARDED_BY(lock) = 0;
    u32 count ATL_GUARDED_BY(lock) = 0;
    WaitQueue readers ATL_GUARDED_BY(lock);
    WaitQueue writers ATL_GUARDED_BY(lock);
};

namespace {

// The first mailbox made is tcpip_init's own (tcpip.c creates it before anything else can make
// one): the state dump reports its depth (net/lwip_port/dump.cpp). Written once, by the first
// sys_mbox_new, before a second thread of lwIP's exists.
atoll_sys_mbox* s_first_mbox = nullptr;

// SYS_ARCH_PROTECT's lock (SYS_LIGHTWEIGHT_PROT): lwIP's pools and its few shared counters.
// Recursive, as lwIP's contract allows nesting. Lock order: a leaf; lwIP takes it inside its
// core lock and calls nothing that locks while it holds it.
kernel::RecursiveSpinLock s_protect;

u64 deadline_for(u32 timeout_ms) { return timeout_ms ? kernel::monotonic_ns() + u64(timeout_ms) * 1000000u : 0; }

u32 elapsed_ms(u64 start_ns) { return static_cast<u32>((kernel::monotonic_ns() - start_ns) / 1000000u); }

} // namespace

extern "C" {

void atoll_lwip_diag(const char* fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    std::size_t n = std::strlen(buf);
    if (n && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    kernel::log("lwip: %s", buf);
}

void atoll_lwip_assert(const char* message, const char* file, int line)
{
    kernel::panic("lwIP assertion \"%s\" failed at %s:%d", message, file, line);
}

// Initial sequence numbers, DHCP transaction ids, ephemeral ports: from the CPU's RDRAND when
// there is one, else a multiplicative mix of the TSC (good enough to avoid collisions).
uint32_t atoll_lwip_random(void)
{
    u64 v = 0;
    if (arch::random_u64(&v))
        return static_cast<uint32_t>(v ^ (v >> 32));
    static u64 state = 0;
    state += arch::read_tsc() * 0x9e3779b97f4a7c15ull;
    state ^= state >> 29;
    return static_cast<uint32_t>(state * 0xbf58476d1ce4e5b9ull >> 32);
}

void* atoll_lwip_malloc(size_t size) { return kernel::kmalloc(size); }
void* atoll_lwip_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return nullptr;
    return kernel::kzalloc(n * size);
}
void atoll_lwip_free(void* p) { kernel::kfree(p); }

void sys_init(void) { }

u32_t sys_now(void) { return static_cast<u32_t>(kernel::monotonic_ns() / 1000000u); }

// lwIP's C macros take and let go of it in one function, which the analysis cannot see
// through sys_prot_t.
sys_prot_t sys_arch_protect(void) ATL_NO_THREAD_SAFETY_ANALYSIS { return s_protect.lock().flags; }
void sys_arch_unprotect(sys_prot_t pval) ATL_NO_THREAD_SAFETY_ANALYSIS { s_protect.unlock(IrqState { pval }); }

// ---------------------------------------------------------------------------- semaphores

err_t sys_sem_new(sys_sem_t* sem, u8_t count)
{
    auto* s = kernel::make<atoll_sys_sem>();
    if (!s)
        return ERR_MEM;
    SpinLockGuard guard(s->lock);
    s->count = count;
    *sem = s;
    return ERR_OK;
}

void sys_sem_free(sys_sem_t* sem)
{
    if (sem && *sem) {
        kernel::destroy(*sem);
        *sem = nullptr;
    }
}

void sys_sem_signal(sys_sem_t* sem)
{
    atoll_sys_sem* s = *sem;
    SpinLockGuard guard(s->lock);
    ++s->count;
    if (kernel::Thread* t = s->waiters.front())
        kernel::wake(t);
}

u32_t sys_arch_sem_wait(sys_sem_t* sem, u32_t timeout)
{
    atoll_sys_sem* s = *sem;
    u64 start;
    {
        SpinLockGuard guard(s->lock);
        start = kernel::monotonic_ns();
        u64 deadline = deadline_for(timeout);
        while (s->count == 0) {
            if (kernel::block(&s->waiters, deadline, false) == kernel::WakeReason::TimedOut && s->count == 0)
                return SYS_ARCH_TIMEOUT;
        }
        --s->count;
    }
    return elapsed_ms(start);
}

// ---------------------------------------------------------------------------- mutexes

err_t sys_mutex_new(sys_mutex_t* mutex)
{
    auto* m = kernel::make<atoll_sys_mutex>();
    if (!m)
        return ERR_MEM;
    *mutex = m;
    return ERR_OK;
}

void sys_mutex_free(sys_mutex_t* mutex)
{
    if (mutex && *mutex) {
        kernel::destroy(*mutex);
        *mutex = nullptr;
    }
}

void sys_mutex_lock(sys_mutex_t* mutex)
{
    atoll_sys_mutex* m = *mutex;
    SpinLockGuard guard(m->lock);
    kernel::Thread* self = kernel::current();
    VERIFY(m->owner != self); // lwIP's locks are not recursive
    while (m->owner)
        (void)kernel::block(&m->waiters, 0, false);
    m->owner = self;
}

void sys_mutex_unlock(sys_mutex_t* mutex)
{
    atoll_sys_mutex* m = *mutex;
    SpinLockGuard guard(m->lock);
    m->owner = nullptr;
    if (kernel::Thread* t = m->waiters.front())
        kernel::wake(t);
}

// ---------------------------------------------------------------------------- mailboxes

err_t sys_mbox_new(sys_mbox_t* mbox, int size)
{
    if (size <= 0)
        size = 128;
    auto* m = kernel::make<atoll_sys_mbox>();
    if (!m)
        return ERR_MEM;
    auto* slots = static_cast<void**>(kernel::kmalloc(sizeof(void*) * static_cast<std::size_t>(size)));
    if (!slots) {
        kernel::destroy(m);
        return ERR_MEM;
    }
    m->slots = slots;
    m->size = static_cast<u32>(size);
    *mbox = m;
    if (!s_first_mbox)
        s_first_mbox = m;
    return ERR_OK;
}

void sys_mbox_free(sys_mbox_t* mbox)
{
    if (mbox && *mbox) {
        kernel::kfree((*mbox)->slots);
        kernel::destroy(*mbox);
        *mbox = nullptr;
    }
}

static void put_locked(atoll_sys_mbox* m, void* msg) ATL_REQUIRES(m->lock)
{
    m->slots[(m->head + m->count) % m->size] = msg;
    ++m->count;
    if (kernel::Thread* t = m->readers.front())
        kernel::wake(t);
}

void sys_mbox_post(sys_mbox_t* mbox, void* msg)
{
    atoll_sys_mbox* m = *mbox;
    SpinLockGuard guard(m->lock);
    while (m->count == m->size)
        (void)kernel::block(&m->writers, 0, false);
    put_locked(m, msg);
}

err_t sys_mbox_trypost(sys_mbox_t* mbox, void* msg)
{
    atoll_sys_mbox* m = *mbox;
    SpinLockGuard guard(m->lock);
    if (m->count == m->size)
        return ERR_MEM;
    put_locked(m, msg);
    return ERR_OK;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t* mbox, void* msg) { return sys_mbox_trypost(mbox, msg); }

static void* take_locked(atoll_sys_mbox* m) ATL_REQUIRES(m->lock)
{
    void* msg = m->slots[m->head];
    m->head = (m->head + 1) % m->size;
    --m->count;
    if (kernel::Thread* t = m->writers.front())
        kernel::wake(t);
    return msg;
}

u32_t sys_arch_mbox_fetch(sys_mbox_t* mbox, void** msg, u32_t timeout)
{
    atoll_sys_mbox* m = *mbox;
    u64 start;
    {
        SpinLockGuard guard(m->lock);
        start = kernel::monotonic_ns();
        u64 deadline = deadline_for(timeout);
        while (m->count == 0) {
            if (kernel::block(&m->readers, deadline, false) == kernel::WakeReason::TimedOut && m->count == 0)
                return SYS_ARCH_TIMEOUT;
        }
        void* got = take_locked(m);
        if (msg)
            *msg = got;
    }
    return elapsed_ms(start);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t* mbox, void** msg)
{
    atoll_sys_mbox* m = *mbox;
    SpinLockGuard guard(m->lock);
    if (m->count == 0)
        return SYS_MBOX_EMPTY;
    void* got = take_locked(m);
    if (msg)
        *msg = got;
    return 0;
}

// ---------------------------------------------------------------------------- threads

sys_thread_t sys_thread_new(const char* name, lwip_thread_fn thread, void* arg, int stacksize, int)
{
    kernel::Thread* t;
    {
        kernel::InterruptGuard irq_off; // the scheduler's: it runs with interrupts off
        t = kernel::create_kernel_thread(thread, arg, name, stacksize > 0 ? static_cast<std::size_t>(stacksize) : 64 * 1024);
    }
    if (!t)
        kernel::panic("lwIP: cannot start thread %s", name);
    return t;
}

} // extern "C"

// ---------------------------------------------------------------------------- state dump
// For net/lwip_port/dump.cpp (sys_arch_dump.h); none of these blocks.

namespace atl::net {

bool try_lock_mutex(sys_mutex_t* mutex, kernel::Thread** owner)
{
    atoll_sys_mutex* m = *mutex;
    SpinLockGuard guard(m->lock);
    bool got = !m->owner;
    if (got)
        m->owner = kernel::current();
    *owner = m->owner;
    return got;
}

bool tcpip_mailbox_state(MailboxState* out)
{
    atoll_sys_mbox* m = s_first_mbox;
    if (!m)
        return false;
    SpinLockGuard guard(m->lock);
    *out = MailboxState { m->count, m->size, m->readers.size(), m->writers.size() };
    return true;
}

} // namespace atl::net
