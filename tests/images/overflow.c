// SPDX-License-Identifier: MIT
// Unbounded recursion, on the main thread or (with argument "thread") on a pthread: each must
// end in a panic that says stack overflow, never in silent corruption.
#include <pthread.h>
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static int recurse(volatile int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    return recurse(depth + 1) + frame[0];
}

static void* thread_main(void* arg)
{
    (void)arg;
    printf("recursing on a thread\n");
    fflush(stdout);
    recurse(0);
    return NULL;
}

int main(int argc, char** argv)
{
    if (argc > 1 && strcmp(argv[1], "thread") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, thread_main, NULL);
        pthread_join(t, NULL);
        return 0;
    }
    printf("recursing on the main thread\n");
    fflush(stdout);
    return recurse(0);
}
