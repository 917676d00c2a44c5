// SPDX-License-Identifier: MIT
// Stacks, on the main thread or on a pthread:
//   (none) | thread             unbounded recursion: must end in a stack-overflow report
//   frame SIZE | thread-frame SIZE   one frame of SIZE bytes (K/M suffix), every byte written
//                                    and read back: fits, or ends in a stack-overflow report
//   limit                       prints RLIMIT_STACK as getrlimit reports it
//   setlimit SIZE frame SIZE2   lowers/raises RLIMIT_STACK, then a frame of SIZE2
//   stacksize SIZE frame SIZE2  a thread made with pthread_attr_setstacksize(SIZE) runs a frame
//   deep                        a 1 MiB buffer deep in the stack handed to read(): the libOS
//                               writes into stack pages nothing has touched yet
//   smash                       writes past a local array: the canary check must stop it
//   getattr                     pthread_getattr_np() on the main thread and on a pthread: the
//                               stack it describes holds the caller's frame
// Never silent corruption: each frame checks what it wrote.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

__attribute__((noinline)) static int recurse(volatile int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    return recurse(depth + 1) + frame[0];
}

static size_t parse_size(const char* s)
{
    char* end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end == 'K' || *end == 'k')
        v <<= 10;
    else if (*end == 'M' || *end == 'm')
        v <<= 20;
    return (size_t)v;
}

// One frame of `size` bytes (a variable-length array: the compiler probes it page by page).
__attribute__((noinline)) static int big_frame(size_t size)
{
    volatile unsigned char buf[size];
    for (size_t i = 0; i < size; i += 512)
        buf[i] = (unsigned char)(i >> 9);
    for (size_t i = 0; i < size; i += 512) {
        if (buf[i] != (unsigned char)(i >> 9)) {
            printf("frame of %zu bytes: FAIL: byte %zu changed\n", size, i);
            return 1;
        }
    }
    printf("frame of %zu bytes: ok\n", size);
    return 0;
}

__attribute__((noinline)) static int deep_read(void)
{
    volatile unsigned char pad[2 << 20]; // 2 MiB below us, untouched except its last byte
    unsigned char buf[1 << 20];
    pad[0] = 1;
    int fd = open("/dev/zero", O_RDONLY);
    memset(buf + (1 << 19), 0xff, 16);
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    for (size_t i = 0; i < sizeof buf; i += 4096) {
        if (buf[i]) {
            printf("deep read: FAIL at %zu\n", i);
            return 1;
        }
    }
    printf("deep read: %zd bytes into a buffer deep in the stack: ok\n", n);
    return pad[0] == 1 ? 0 : 1;
}

__attribute__((noinline)) static void smash(size_t n)
{
    char buf[16];
    memset(buf, 'A', n); // n > 16: over the canary and the return address
    printf("smashed %zu bytes: %c\n", n, buf[0]);
}

// Whether the stack pthread_getattr_np() describes for this thread holds this frame.
static int check_getattr(const char* who)
{
    pthread_attr_t attr;
    void* addr = NULL;
    size_t size = 0;
    volatile char here = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0 || pthread_attr_getstack(&attr, &addr, &size) != 0) {
        printf("getattr %s: FAIL: pthread_getattr_np failed\n", who);
        return 1;
    }
    uintptr_t lo = (uintptr_t)addr, p = (uintptr_t)&here;
    int inside = p >= lo && p < lo + size;
    printf("getattr %s: the described stack holds this frame: %s, size >= 64 KiB: %s\n", who,
        inside ? "yes" : "no", size >= 65536 ? "yes" : "no");
    return inside && size >= 65536 ? 0 : 1;
}

static void* getattr_thread(void* arg)
{
    (void)arg;
    return (void*)(intptr_t)check_getattr("thread");
}

static size_t s_frame;

static void* thread_main(void* arg)
{
    if (arg) {
        printf("a frame of %zu bytes on a thread\n", s_frame);
        fflush(stdout);
        return (void*)(intptr_t)big_frame(s_frame);
    }
    printf("recursing on a thread\n");
    fflush(stdout);
    recurse(0);
    return NULL;
}

static int on_thread(size_t stacksize, void* arg)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (stacksize && pthread_attr_setstacksize(&attr, stacksize) != 0) {
        printf("pthread_attr_setstacksize(%zu) failed\n", stacksize);
        return 1;
    }
    pthread_t t;
    void* result = NULL;
    if (pthread_create(&t, &attr, thread_main, arg) != 0) {
        printf("pthread_create failed\n");
        return 1;
    }
    pthread_join(t, &result);
    return (int)(intptr_t)result;
}

static void print_limit(void)
{
    struct rlimit r;
    getrlimit(RLIMIT_STACK, &r);
    if (r.rlim_max == RLIM_INFINITY)
        printf("RLIMIT_STACK %llu unlimited\n", (unsigned long long)r.rlim_cur);
    else
        printf("RLIMIT_STACK %llu %llu\n", (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
}

int main(int argc, char** argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char* mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "thread") == 0)
        return on_thread(0, NULL);
    if (strcmp(mode, "frame") == 0 && argc > 2) {
        size_t size = parse_size(argv[2]);
        printf("a frame of %zu bytes on the main thread\n", size);
        return big_frame(size);
    }
    if (strcmp(mode, "thread-frame") == 0 && argc > 2) {
        s_frame = parse_size(argv[2]);
        return on_thread(0, &s_frame);
    }
    if (strcmp(mode, "stacksize") == 0 && argc > 4) {
        s_frame = parse_size(argv[4]);
        return on_thread(parse_size(argv[2]), &s_frame);
    }
    if (strcmp(mode, "limit") == 0) {
        print_limit();
        return 0;
    }
    if (strcmp(mode, "setlimit") == 0 && argc > 4) {
        struct rlimit r = { parse_size(argv[2]), RLIM_INFINITY };
        if (setrlimit(RLIMIT_STACK, &r) != 0) {
            perror("setrlimit");
            return 1;
        }
        print_limit();
        size_t size = parse_size(argv[4]);
        printf("a frame of %zu bytes on the main thread\n", size);
        return big_frame(size);
    }
    if (strcmp(mode, "deep") == 0)
        return deep_read();
    if (strcmp(mode, "getattr") == 0) {
        int r = check_getattr("main");
        pthread_t t;
        void* tr = NULL;
        pthread_create(&t, NULL, getattr_thread, NULL);
        pthread_join(t, &tr);
        return r | (int)(intptr_t)tr;
    }
    if (strcmp(mode, "smash") == 0) {
        smash(argc > 2 ? parse_size(argv[2]) : 64);
        printf("returned from a smashed frame\n");
        return 0;
    }
    printf("recursing on the main thread\n");
    fflush(stdout);
    return recurse(0);
}
