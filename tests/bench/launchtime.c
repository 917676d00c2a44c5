// SPDX-License-Identifier: MIT
// launchtime: start a command and time, from just before fork(), (1) the first output line
// that contains MARKER (any output when MARKER is empty) and (2) the command's exit.
// Prints "first_output_ms=F exit_ms=E status=S" on stdout, with F = -1 when the marker never
// appeared; the command's stdout is consumed (not shown), its stderr goes to /dev/null.
// A benchmark helper for tests/bench: it measures, it never judges.
// usage: launchtime [--marker TEXT] [--timeout SECONDS] -- COMMAND [ARGS...]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int usage(const char* why)
{
    fprintf(stderr, "launchtime: %s\nusage: launchtime [--marker TEXT] [--timeout SECONDS] -- COMMAND [ARGS...]\n", why);
    return 2;
}

int main(int argc, char** argv)
{
    const char* marker = "";
    double timeout_s = 60;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--marker") == 0 && i + 1 < argc) {
            marker = argv[++i];
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            char* end;
            timeout_s = strtod(argv[++i], &end);
            if (*end || timeout_s <= 0)
                return usage("--timeout needs a positive number of seconds");
        } else {
            return usage("unknown option");
        }
    }
    if (i >= argc)
        return usage("no command given");

    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        perror("launchtime: pipe");
        return 1;
    }
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        perror("launchtime: fork");
        return 1;
    }
    if (pid == 0) {
        setpgid(0, 0); // own process group: a timeout kills the command and its children
        dup2(out[1], 1);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 2);
        }
        execvp(argv[i], &argv[i]);
        _exit(127);
    }
    close(out[1]);

    // Scan complete lines for the marker; a line longer than the buffer is scanned in parts,
    // keeping enough overlap that a marker spanning two reads is still found.
    char buf[8192];
    size_t len = 0, mlen = strlen(marker);
    double first = -1;
    int timed_out = 0;
    for (;;) {
        double left = timeout_s * 1e3 - (now_ms() - t0);
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = { .fd = out[0], .events = POLLIN };
        int r = poll(&p, 1, (int)left + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        ssize_t n = read(out[0], buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // end of output: the command exited (or closed stdout)
        if (first >= 0)
            continue;
        len += (size_t)n;
        buf[len] = 0;
        if (mlen == 0 || strstr(buf, marker)) {
            first = now_ms() - t0;
            continue;
        }
        char* nl = strrchr(buf, '\n');
        size_t keep = nl ? len - (size_t)(nl + 1 - buf) : len;
        if (keep > mlen && keep == len)
            keep = mlen; // no newline in a full buffer: keep a marker's length of overlap
        memmove(buf, buf + len - keep, keep);
        len = keep;
    }
    if (timed_out)
        kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
    double end = now_ms() - t0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("first_output_ms=%.1f exit_ms=%.1f status=%d%s\n", first, end, code, timed_out ? " timeout=1" : "");
    return 0;
}
