// SPDX-License-Identifier: MIT
// System call cost: a tight loop of getppid() and of clock_gettime(CLOCK_MONOTONIC), timed
// with the monotonic clock, as ns per call. The same source runs as a host process and in
// the guest (tests/bench).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char** argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    volatile long sink = 0;
    // getppid through syscall(): libcs may cache pids; this always enters the kernel.
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        sink += syscall(SYS_getppid);
    double t1 = now_ns();
    struct timespec ts;
    for (long i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sink += ts.tv_nsec;
    }
    double t2 = now_ns();
    printf("syscall-bench getppid_ns=%.2f clock_gettime_ns=%.2f calls=%ld\n", (t1 - t0) / (double)n,
        (t2 - t1) / (double)n, n);
    return sink == 42 ? 1 : 0;
}
