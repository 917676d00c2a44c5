// SPDX-License-Identifier: MIT
// lwIP's sys_arch on Atoll (lwIP 2.1 "sys.h" contract): semaphores, mutexes and mailboxes on
// kernel wait queues, threads as kernel threads, time from the monotonic clock. Every
// operation runs with interrupts off: one CPU, that is the lock.

#include <kernel/arch/cpu.h>
#include <kernel/console.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
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
using atl::kernel::WaitQueue;

struct atoll_sys_sem {
    u32 count;
    WaitQueue waiters;
};

struct atoll_sys_mutex {
    kernel::Thread* owner;
    WaitQueue waiters;
};

struct atoll_sys_mbox {
    void** slots;
    u32 size;
    u32 head;
    u32 count;
    WaitQueue readers;
    WaitQueue writers;
};

namespace {

// The first mailbox made is tcpip_init's own (tcpip.c creates it before anything else can make
// one): the state dump reports its depth (net/lwip_port/dump.cpp).
atoll_sys_mbox* s_first_mbox = nullptr;

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

sys_prot_t sys_arch_protect(void) { return kernel::irq_save().flags; }
void sys_arch_unprotect(sys_prot_t pval) { kernel::irq_restore(IrqState { pval }); }

// ---------------------------------------------------------------------------- semaphores

err_t sys_sem_new(sys_sem_t* sem, u8_t count)
{
    auto* s = kernel::make<atoll_sys_sem>();
    if (!s)
        return ERR_MEM;
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
    IrqState st = kernel::irq_save();
    atoll_sys_sem* s = *sem;
    ++s->count;
    if (kernel::Thread* t = s->waiters.front())
        kernel::wake(t);
    kernel::irq_restore(st);
}

u32_t sys_arch_sem_wait(sys_sem_t* sem, u32_t timeout)
{
    IrqState st = kernel::irq_save();
    atoll_sys_sem* s = *sem;
    u64 start = kernel::monotonic_ns();
    u64 deadline = deadline_for(timeout);
    while (s->count == 0) {
        if (kernel::block(&s->waiters, deadline, false) == kernel::WakeReason::TimedOut && s->count == 0) {
            kernel::irq_restore(st);
            return SYS_ARCH_TIMEOUT;
        }
    }
    --s->count;
    kernel::irq_restore(st);
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
    IrqState st = kernel::irq_save();
    atoll_sys_mutex* m = *mutex;
    kernel::Thread* self = kernel::current();
    VERIFY(m->owner != self); // lwIP's locks are not recursive
    while (m->owner)
        (void)kernel::block(&m->waiters, 0, false);
    m->owner = self;
    kernel::irq_restore(st);
}

void sys_mutex_unlock(sys_mutex_t* mutex)
{
    IrqState st = kernel::irq_save();
    atoll_sys_mutex* m = *mutex;
    m->owner = nullptr;
    if (kernel::Thread* t = m->waiters.front())
        kernel::wake(t);
    kernel::irq_restore(st);
}

// ---------------------------------------------------------------------------- mailboxes

err_t sys_mbox_new(sys_mbox_t* mbox, int size)
{
    if (size <= 0)
        size = 128;
    auto* m = kernel::make<atoll_sys_mbox>();
    if (!m)
        return ERR_MEM;
    m->slots = static_cast<void**>(kernel::kmalloc(sizeof(void*) * static_cast<std::size_t>(size)));
    if (!m->slots) {
        kernel::destroy(m);
        return ERR_MEM;
    }
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

static void put_locked(atoll_sys_mbox* m, void* msg)
{
    m->slots[(m->head + m->count) % m->size] = msg;
    ++m->count;
    if (kernel::Thread* t = m->readers.front())
        kernel::wake(t);
}

void sys_mbox_post(sys_mbox_t* mbox, void* msg)
{
    IrqState st = kernel::irq_save();
    atoll_sys_mbox* m = *mbox;
    while (m->count == m->size)
        (void)kernel::block(&m->writers, 0, false);
    put_locked(m, msg);
    kernel::irq_restore(st);
}

err_t sys_mbox_trypost(sys_mbox_t* mbox, void* msg)
{
    IrqState st = kernel::irq_save();
    atoll_sys_mbox* m = *mbox;
    err_t r = ERR_MEM;
    if (m->count < m->size) {
        put_locked(m, msg);
        r = ERR_OK;
    }
    kernel::irq_restore(st);
    return r;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t* mbox, void* msg) { return sys_mbox_trypost(mbox, msg); }

static void* take_locked(atoll_sys_mbox* m)
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
    IrqState st = kernel::irq_save();
    atoll_sys_mbox* m = *mbox;
    u64 start = kernel::monotonic_ns();
    u64 deadline = deadline_for(timeout);
    while (m->count == 0) {
        if (kernel::block(&m->readers, deadline, false) == kernel::WakeReason::TimedOut && m->count == 0) {
            kernel::irq_restore(st);
            return SYS_ARCH_TIMEOUT;
        }
    }
    void* got = take_locked(m);
    if (msg)
        *msg = got;
    kernel::irq_restore(st);
    return elapsed_ms(start);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t* mbox, void** msg)
{
    IrqState st = kernel::irq_save();
    atoll_sys_mbox* m = *mbox;
    if (m->count == 0) {
        kernel::irq_restore(st);
        return SYS_MBOX_EMPTY;
    }
    void* got = take_locked(m);
    if (msg)
        *msg = got;
    kernel::irq_restore(st);
    return 0;
}

// ---------------------------------------------------------------------------- threads

sys_thread_t sys_thread_new(const char* name, lwip_thread_fn thread, void* arg, int stacksize, int)
{
    kernel::IrqState st = kernel::irq_save();
    kernel::Thread* t = kernel::create_kernel_thread(thread, arg, name,
        stacksize > 0 ? static_cast<std::size_t>(stacksize) : 64 * 1024);
    kernel::irq_restore(st);
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
    IrqState st = kernel::irq_save();
    atoll_sys_mutex* m = *mutex;
    bool got = !m->owner;
    if (got)
        m->owner = kernel::current();
    *owner = m->owner;
    kernel::irq_restore(st);
    return got;
}

bool tcpip_mailbox_state(MailboxState* out)
{
    IrqState st = kernel::irq_save();
    atoll_sys_mbox* m = s_first_mbox;
    if (m)
        *out = MailboxState { m->count, m->size, m->readers.size(), m->writers.size() };
    kernel::irq_restore(st);
    return m != nullptr;
}

} // namespace atl::net
