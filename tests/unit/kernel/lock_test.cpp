// SPDX-License-Identifier: MIT
// kernel/lock.h on the host: the interrupt mask is a per-thread fake, and host threads stand
// in for CPUs, so the spinning variants (compiled in on a build with several CPUs) are run
// against real contention here.
#include <kernel/lock.h>

#include "../fakes/interrupts.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace atl {

namespace arch {
void pause() { std::this_thread::yield(); }
} // namespace arch

namespace kernel {
namespace {

// Between a read and the write back: long enough for another thread to slip in if the lock
// did not keep it out (the test is meant to fail for a lock that does not).
void linger()
{
    for (int k = 0; k < 64; ++k)
        asm volatile("" ::: "memory");
}

void reset_cpu()
{
    test::interrupts().on = true;
    test::interrupts().saves = test::interrupts().restores = 0;
}

TEST(Lock, OneCpuSpinLockIsTheInterruptMaskAndNothingMore)
{
    static_assert(!k_smp, "the build for one CPU compiles the flag out");
    reset_cpu();
    SpinLock lock;
    IrqState s = lock.lock();
    EXPECT_FALSE(test::interrupts().on);
    EXPECT_TRUE(lock.is_held()); // on one CPU: interrupts are off here
    lock.unlock(s);
    EXPECT_TRUE(test::interrupts().on);
    EXPECT_FALSE(lock.is_held());
    EXPECT_EQ(test::interrupts().saves, 1);
    EXPECT_EQ(test::interrupts().restores, 1);
}

TEST(Lock, NestedGuardsRestoreTheStateEachFound)
{
    reset_cpu();
    SpinLock a, b;
    {
        SpinLockGuard outer(a);
        EXPECT_FALSE(test::interrupts().on);
        {
            SpinLockGuard inner(b);
            EXPECT_FALSE(test::interrupts().on);
        }
        EXPECT_FALSE(test::interrupts().on) << "the inner guard found interrupts off: it leaves them off";
    }
    EXPECT_TRUE(test::interrupts().on);
    EXPECT_EQ(test::interrupts().saves, 2);
    EXPECT_EQ(test::interrupts().restores, 2);
}

TEST(Lock, GuardTakenWithInterruptsOffLeavesThemOff)
{
    reset_cpu();
    test::interrupts().on = false; // kernel code: a system call
    SpinLock lock;
    {
        SpinLockGuard guard(lock);
    }
    EXPECT_FALSE(test::interrupts().on);
}

TEST(Lock, EarlyReturnsRelease)
{
    reset_cpu();
    SpinLock lock;
    auto f = [&](int v) {
        SpinLockGuard guard(lock);
        if (v < 0)
            return -1;
        if (v == 0)
            return 0;
        return v * 2;
    };
    EXPECT_EQ(f(-3), -1);
    EXPECT_EQ(f(0), 0);
    EXPECT_EQ(f(4), 8);
    EXPECT_TRUE(test::interrupts().on);
    EXPECT_EQ(test::interrupts().saves, 3);
    EXPECT_EQ(test::interrupts().restores, 3);
}

TEST(Lock, InterruptGuard)
{
    reset_cpu();
    {
        InterruptGuard off;
        EXPECT_FALSE(test::interrupts().on);
        {
            InterruptGuard again;
            EXPECT_FALSE(test::interrupts().on);
        }
        EXPECT_FALSE(test::interrupts().on);
    }
    EXPECT_TRUE(test::interrupts().on);
}

struct Counters {
    int a = 0;
    int b = 0;
};

TEST(Lock, ProtectedHandsOutTheDataOnlyUnderItsLock)
{
    reset_cpu();
    Protected<Counters> counters;
    int seen = counters.with([](Counters& c) {
        EXPECT_FALSE(test::interrupts().on) << "with() runs the function with the lock held";
        c.a = 2;
        c.b = 3;
        return c.a + c.b;
    });
    EXPECT_EQ(seen, 5);
    EXPECT_TRUE(test::interrupts().on);
    counters.with([](Counters& c) { ++c.a; }); // a void function
    EXPECT_EQ(counters.with([](const Counters& c) { return c.a; }), 3);
    Protected<int> number(41);
    EXPECT_EQ(number.with([](int& n) { return ++n; }), 42);
}

// The flag's test-and-set against real contention: host threads as CPUs.
TEST(Lock, SpinningVariantExcludesOtherCpus)
{
    BasicSpinLock<true> lock;
    long counter = 0;
    constexpr int k_threads = 4;
    constexpr int k_rounds = 20000;
    std::atomic<int> inside { 0 };
    std::atomic<bool> overlap { false };
    std::atomic<int> ready { 0 };
    std::vector<std::thread> cpus;
    for (int i = 0; i < k_threads; ++i) {
        cpus.emplace_back([&] {
            ready.fetch_add(1);
            while (ready.load() < k_threads) { } // all start together
            for (int r = 0; r < k_rounds; ++r) {
                ScopedLock<BasicSpinLock<true>> guard(lock);
                if (inside.fetch_add(1) != 0)
                    overlap = true;
                EXPECT_FALSE(test::interrupts().on);
                long v = counter; // a non-atomic read-modify-write: lost updates without the lock
                linger();
                counter = v + 1;
                inside.fetch_sub(1);
            }
            EXPECT_TRUE(test::interrupts().on);
        });
    }
    for (auto& t : cpus)
        t.join();
    EXPECT_FALSE(overlap);
    EXPECT_EQ(counter, long(k_threads) * k_rounds);
    EXPECT_FALSE(lock.is_held());
}

const void* host_thread_id()
{
    static thread_local char id;
    return &id;
}

TEST(Lock, RecursiveVariantNestsForItsHolderAndExcludesOthers)
{
    using Lock = BasicRecursiveSpinLock<true, host_thread_id>;
    Lock lock;
    long counter = 0;
    constexpr int k_threads = 4;
    constexpr int k_rounds = 10000;
    std::atomic<int> ready { 0 };
    std::vector<std::thread> cpus;
    for (int i = 0; i < k_threads; ++i) {
        cpus.emplace_back([&] {
            ready.fetch_add(1);
            while (ready.load() < k_threads) { }
            for (int r = 0; r < k_rounds; ++r) {
                IrqState outer = lock.lock();
                IrqState inner = lock.lock(); // lwIP's SYS_ARCH_PROTECT may nest
                long v = counter;
                linger();
                counter = v + 1;
                lock.unlock(inner);
                EXPECT_FALSE(test::interrupts().on) << "still held once";
                v = counter;
                linger();
                counter = v + 1;
                lock.unlock(outer);
            }
            EXPECT_TRUE(test::interrupts().on);
        });
    }
    for (auto& t : cpus)
        t.join();
    EXPECT_EQ(counter, 2L * k_threads * k_rounds);
}

} // namespace
} // namespace kernel
} // namespace atl
