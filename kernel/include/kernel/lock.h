// SPDX-License-Identifier: MIT
#pragma once

// The kernel's locks (STYLE.md, "Concurrency"). Kernel threads (device service, the TCP/IP
// stack) run with interrupts on and interrupt handlers touch the same data, so every lock here
// masks interrupts on the CPU that takes it, and a spinlock also keeps other CPUs out.
//
// - SpinLock: interrupts off on this CPU plus a test-and-set flag for the others. Atoll runs
//   on one CPU today (k_smp is false), and there the flag is compiled out: taking a SpinLock
//   costs exactly the irq_save()/irq_restore() pair it replaces, nothing more. The spinning
//   code is here and unit-tested (tests/unit/kernel/lock_test.cpp instantiates
//   BasicSpinLock<true>), so the build that starts a second CPU turns it on by setting k_smp.
// - ScopedLock (SpinLockGuard): holds a lock for a scope; the saved interrupt state lives in
//   the guard, so nested locks restore in the right order and no early return forgets one.
// - Protected<T>: data together with the lock that guards it, handed out only inside
//   with([&](T& data) { ... }) while the lock is held.
// - RecursiveSpinLock: a SpinLock its holder may take again (lwIP's SYS_ARCH_PROTECT, whose
//   contract allows nesting); with the flag, it remembers which CPU holds it and how often.
// - InterruptGuard: interrupts off on this CPU, no flag: for data only this CPU touches (the
//   per-CPU state: kernel/sched.h's Cpu) and for the scheduler's own masking.
//
// Every guarded datum carries ATL_GUARDED_BY (kernel/thread_annotations.h) and the guest build
// checks it (-Wthread-safety as an error). Each lock's declaration says where it sits in the
// lock order. A wait (kernel::block) with a SpinLock held is allowed on one CPU, where the lock
// is only the mask and the next thread runs with its own; FIXME: a second CPU needs block()
// to release the lock once the thread is queued (a wait-queue lock), as Linux's
// prepare_to_wait does.

#include <kernel/arch/cpu.h>
#include <kernel/interrupts.h>
#include <kernel/thread_annotations.h>
#include <kernel/types.h>

#include <utility>

namespace atl::kernel {

// More than one CPU runs kernel code: the spinlocks' flags are compiled in. A build for
// several CPUs sets it (the boot of the other CPUs and their Cpu structures come with it).
inline constexpr bool k_smp = false;

template <bool Spins>
class ATL_CAPABILITY("spinlock") BasicSpinLock {
public:
    constexpr BasicSpinLock() = default;
    BasicSpinLock(const BasicSpinLock&) = delete;
    BasicSpinLock& operator=(const BasicSpinLock&) = delete;

    // Masks interrupts first, then spins: an interrupt handler on this CPU that wanted the
    // same lock would otherwise spin forever on its own CPU's holder.
    [[nodiscard]] IrqState lock() ATL_ACQUIRE()
    {
        IrqState s = irq_save();
        if constexpr (Spins) {
            while (__atomic_exchange_n(&m_held, true, __ATOMIC_ACQUIRE)) {
                while (__atomic_load_n(&m_held, __ATOMIC_RELAXED))
                    arch::pause();
            }
        }
        return s;
    }

    void unlock(IrqState s) ATL_RELEASE()
    {
        if constexpr (Spins)
            __atomic_store_n(&m_held, false, __ATOMIC_RELEASE);
        irq_restore(s);
    }

    // Held by someone (with the flag) or, on one CPU, interrupts are off here: for checks.
    bool is_held() const
    {
        if constexpr (Spins)
            return __atomic_load_n(&m_held, __ATOMIC_RELAXED);
        else
            return !irq_enabled();
    }

private:
    bool m_held = false;
};

using SpinLock = BasicSpinLock<k_smp>;

// Who holds a RecursiveSpinLock: the running CPU (its kernel::Cpu). A template parameter so
// that the unit tests can name threads instead.
inline const void* running_cpu() { return arch::cpu_local(); }

template <bool Spins, const void* (*Self)() = running_cpu>
class ATL_CAPABILITY("recursive spinlock") BasicRecursiveSpinLock {
public:
    constexpr BasicRecursiveSpinLock() = default;
    BasicRecursiveSpinLock(const BasicRecursiveSpinLock&) = delete;
    BasicRecursiveSpinLock& operator=(const BasicRecursiveSpinLock&) = delete;

    [[nodiscard]] IrqState lock() ATL_ACQUIRE()
    {
        IrqState s = irq_save();
        if constexpr (Spins) {
            const void* self = Self();
            if (__atomic_load_n(&m_owner, __ATOMIC_RELAXED) == self) {
                ++m_depth; // only the holder writes it, with interrupts off
                return s;
            }
            const void* expected = nullptr;
            while (!__atomic_compare_exchange_n(&m_owner, &expected, self, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                expected = nullptr;
                arch::pause();
            }
            m_depth = 1;
        }
        return s;
    }

    void unlock(IrqState s) ATL_RELEASE()
    {
        if constexpr (Spins) {
            if (--m_depth == 0)
                __atomic_store_n(&m_owner, nullptr, __ATOMIC_RELEASE);
        }
        irq_restore(s);
    }

private:
    const void* m_owner = nullptr;
    u32 m_depth = 0;
};

using RecursiveSpinLock = BasicRecursiveSpinLock<k_smp>;

// Holds `lock` from construction to the end of the scope.
template <typename Lock>
class ATL_SCOPED_CAPABILITY ScopedLock {
public:
    explicit ScopedLock(Lock& lock) ATL_ACQUIRE(lock)
        : m_lock(lock), m_state(lock.lock())
    {
    }
    ~ScopedLock() ATL_RELEASE() { m_lock.unlock(m_state); }
    ScopedLock(const ScopedLock&) = delete;
    ScopedLock& operator=(const ScopedLock&) = delete;

private:
    Lock& m_lock;
    IrqState m_state;
};
using SpinLockGuard = ScopedLock<SpinLock>;

// Interrupts off on this CPU for a scope; restored as they were.
class InterruptGuard {
public:
    InterruptGuard()
        : m_state(irq_save())
    {
    }
    ~InterruptGuard() { irq_restore(m_state); }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

private:
    IrqState m_state;
};

// A T reachable only with its lock held: protected.with([&](T& data) { ... }) runs the
// function under the lock and returns what it returns.
template <typename T, typename Lock = SpinLock>
class Protected {
public:
    template <typename... Args>
    constexpr explicit Protected(Args&&... args)
        : m_data(std::forward<Args>(args)...)
    {
    }
    Protected(const Protected&) = delete;
    Protected& operator=(const Protected&) = delete;

    template <typename F>
    decltype(auto) with(F&& f)
    {
        ScopedLock<Lock> guard(m_lock);
        return f(m_data);
    }

    // For the few places that hold the lock across more than one function (a state dump
    // that lets it go while it prints): the lock and, with it held, the data.
    Lock& lock() ATL_RETURN_CAPABILITY(m_lock) { return m_lock; }
    T& locked_data() ATL_REQUIRES(m_lock) { return m_data; }

private:
    Lock m_lock;
    T m_data ATL_GUARDED_BY(m_lock);
};

} // namespace atl::kernel
