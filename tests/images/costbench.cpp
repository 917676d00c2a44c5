// SPDX-License-Identifier: MIT
// Where a system call's time goes, measured inside the guest with the TSC: each step of the
// path an application call takes (musl wrapper, __atoll_syscall, interrupt masking, pointer
// check, clock read) timed on its own, as ns per operation. One address space: the image calls
// kernel and libOS functions directly. `./atoll bench` prints it next to the syscall table.
#include <kernel/arch/cpu.h>
#include <kernel/interrupts.h>
#include <kernel/lock.h>
#include <kernel/paging.h>
#include <kernel/time.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" long __atoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

namespace {

using atl::u64;

atl::kernel::SpinLock s_bench_lock; // a lock as the kernel's are: taken and let go, nothing else

__attribute__((noinline)) long empty_function(long x)
{
    asm volatile("" ::: "memory");
    return x;
}

template <typename F>
double ns_per_op(long n, F&& op)
{
    u64 t0 = atl::arch::read_tsc();
    for (long i = 0; i < n; i++)
        op(i);
    u64 t1 = atl::arch::read_tsc();
    return static_cast<double>(t1 - t0) * 1e9 / static_cast<double>(atl::kernel::tsc_hz()) / static_cast<double>(n);
}

} // namespace

int main(int argc, char** argv)
{
    long n = argc > 1 ? std::atol(argv[1]) : 200000;
    if (n <= 0) {
        std::fprintf(stderr, "usage: costbench [ITERATIONS > 0]\n");
        return 2;
    }
    volatile long sink = 0;
    struct timespec ts { };
    struct Row {
        const char* what;
        double ns;
    } rows[] = {
        { "empty loop iteration", ns_per_op(n, [&](long i) { sink = i; }) },
        { "call of an empty noinline function", ns_per_op(n, [&](long i) { sink = empty_function(i); }) },
        { "rdtsc", ns_per_op(n, [&](long) { sink = static_cast<long>(atl::arch::read_tsc()); }) },
        { "irq_save + irq_restore (cli; popf)", ns_per_op(n, [&](long) { atl::kernel::irq_restore(atl::kernel::irq_save()); }) },
        { "SpinLockGuard (kernel/lock.h, one CPU)", ns_per_op(n, [&](long) { atl::kernel::SpinLockGuard guard(s_bench_lock); }) },
        { "access_ok(16 bytes, write): pointer check", ns_per_op(n, [&](long) { sink = atl::kernel::access_ok(reinterpret_cast<atl::u64>(&ts), sizeof ts, true); }) },
        { "kernel::monotonic_ns()", ns_per_op(n, [&](long) { sink = static_cast<long>(atl::kernel::monotonic_ns()); }) },
        { "__atoll_syscall(SYS_getppid)", ns_per_op(n, [&](long) { sink = __atoll_syscall(SYS_getppid, 0, 0, 0, 0, 0, 0); }) },
        { "syscall(SYS_getppid) through musl", ns_per_op(n, [&](long) { sink = syscall(SYS_getppid); }) },
        { "__atoll_syscall(SYS_clock_gettime)",
            ns_per_op(n, [&](long) { sink = __atoll_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, reinterpret_cast<long>(&ts), 0, 0, 0, 0); }) },
        { "clock_gettime() through musl", ns_per_op(n, [&](long) { sink = clock_gettime(CLOCK_MONOTONIC, &ts); }) },
    };
    for (const Row& r : rows)
        std::printf("cost: %-40s %9.1f ns\n", r.what, r.ns);
    return sink == -12345 ? 1 : 0;
}
