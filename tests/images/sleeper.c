// SPDX-License-Identifier: MIT
// Sleeps for the number of seconds given (default 2): the host should see almost no CPU use.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv)
{
    struct timespec a, b;
    int seconds = argc > 1 ? atoi(argv[1]) : 2;
    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec t = { seconds, 0 };
    nanosleep(&t, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double cpu = (double)clock() / CLOCKS_PER_SEC;
    printf("slept %.3f s, process CPU time %.3f s\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9, cpu);
    return 0;
}
