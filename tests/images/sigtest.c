// SPDX-License-Identifier: MIT
// Signals from the host, for tests/boot/control.sh: `atoll run` passes its SIGTERM, SIGINT and
// SIGHUP to the application over the control channel.
//   sigtest handle CODE   a handler for SIGTERM, SIGINT and SIGHUP says which came; main()
//                         then exits with CODE
//   sigtest ignore        SIGTERM ignored (SIG_IGN): only --stop-timeout ends the guest
//   sigtest spin CODE     like handle, but main() computes without blocking in a system call
// Prints "sigtest: ready" once set up; gives up after 30 s without a signal (exit 1).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t s_got;

static void on_signal(int sig)
{
    const char* name = sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "other";
    char line[64];
    int n = snprintf(line, sizeof(line), "sigtest: caught signal %d (%s)\n", sig, name);
    write(1, line, (size_t)n); // async-signal-safe, unlike printf
    s_got = sig;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char** argv)
{
    const char* mode = argc > 1 ? argv[1] : "handle";
    int code = argc > 2 ? atoi(argv[2]) : 0;
    if (strcmp(mode, "ignore") == 0) {
        signal(SIGTERM, SIG_IGN);
    } else {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
    }
    printf("sigtest: ready (%s)\n", mode);
    fflush(stdout);
    double give_up = now() + 30;
    volatile unsigned long work = 0;
    while (!s_got && now() < give_up) {
        if (strcmp(mode, "spin") == 0) {
            for (int i = 0; i < 1000000 && !s_got; ++i)
                work += (unsigned long)i;
        } else {
            struct timespec t = { 0, 50 * 1000 * 1000 };
            nanosleep(&t, NULL);
        }
    }
    if (!s_got) {
        printf("sigtest: no signal in 30 s\n");
        return 1;
    }
    printf("sigtest: exiting with %d after signal %d\n", code, (int)s_got);
    return code;
}
