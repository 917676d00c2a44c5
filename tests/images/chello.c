// SPDX-License-Identifier: MIT
// A C program through the whole path: stdio, malloc, time, errno from a bad pointer, exit code.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    printf("chello argc=%d argv[0]=%s\n", argc, argv[0]);
    char* p = malloc(1 << 20);
    if (!p)
        return 10;
    memset(p, 'x', 1 << 20);
    free(p);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (b.tv_sec < a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec < a.tv_nsec))
        return 11;
    errno = 0;
    long r = write(1, (void*)1, 10);
    printf("write(bad pointer)=%ld errno=%s\n", r, strerror(errno));
    // An unknown system call: ENOSYS each time, logged once.
    long r1 = syscall(4000), e1 = errno;
    long r2 = syscall(4000), e2 = errno;
    printf("syscall(4000) twice: %ld %s, %ld %s\n", r1, e1 == ENOSYS ? "ENOSYS" : "?", r2, e2 == ENOSYS ? "ENOSYS" : "?");
    time_t now = time(NULL);
    printf("year-ok=%d\n", now > 1700000000);
    return argc > 1 ? atoi(argv[1]) : 0;
}
