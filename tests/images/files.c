// SPDX-License-Identifier: MIT
// Files end to end: the image's ROOTFS, an `atoll run --rootfs` directory, /proc, /dev,
// /etc, and 10,000 files of random sizes written, read back, checked and deleted, with the
// memory coming back (as /proc/meminfo reports it).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <termios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char* what)
{
    printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
    if (!ok)
        failures++;
}

static long meminfo(const char* key)
{
    FILE* f = fopen("/proc/meminfo", "r");
    if (!f)
        return -1;
    char line[128];
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

static int read_all(const char* path, char* buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return (int)n;
}

static uint32_t fnv(const unsigned char* p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void many_files(int count)
{
    long free_before = meminfo("MemFree");
    if (mkdir("/tmp/many", 0755) != 0) {
        check(0, "mkdir /tmp/many");
        return;
    }
    static unsigned char buf[65536], back[65536];
    uint32_t* sums = malloc(sizeof(uint32_t) * count);
    size_t* sizes = malloc(sizeof(size_t) * count);
    unsigned seed = 12345;
    size_t total = 0;
    int ok = sums && sizes;
    for (int i = 0; ok && i < count; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 8) % 20000;
        for (size_t k = 0; k < n; k++)
            buf[k] = (unsigned char)((seed >> 16) + k * 7 + i);
        char name[64];
        snprintf(name, sizeof name, "/tmp/many/f%05d", i);
        int fd = open(name, O_CREAT | O_WRONLY | O_EXCL, 0644);
        ok = fd >= 0 && write(fd, buf, n) == (ssize_t)n && close(fd) == 0;
        sums[i] = fnv(buf, n);
        sizes[i] = n;
        total += n;
    }
    check(ok, "10,000 files written");
    long free_full = meminfo("MemFree");
    int bad = 0;
    for (int i = 0; ok && i < count; i++) {
        char name[64];
        snprintf(name, sizeof name, "/tmp/many/f%05d", i);
        int fd = open(name, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, back, sizeof back) : -1;
        if (fd >= 0)
            close(fd);
        if (n != (ssize_t)sizes[i] || fnv(back, (size_t)n) != sums[i])
            bad++;
    }
    check(ok && bad == 0, "every file reads back with the same checksum");
    DIR* d = opendir("/tmp/many");
    int listed = 0;
    struct dirent* e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            listed++;
    if (d)
        closedir(d);
    check(listed == count, "readdir lists all of them");
    for (int i = 0; i < count; i++) {
        char name[64];
        snprintf(name, sizeof name, "/tmp/many/f%05d", i);
        if (unlink(name) != 0)
            bad++;
    }
    check(bad == 0 && rmdir("/tmp/many") == 0, "all deleted, directory removed");
    long free_after = meminfo("MemFree");
    printf("data %zu KiB; MemFree before %ld kB, with the files %ld kB, after deleting %ld kB\n", total / 1024,
        free_before, free_full, free_after);
    check(free_full < free_before - (long)(total / 1024) + 1, "the files' memory shows as used");
    // Everything comes back except what the program itself still holds (its two arrays).
    check(free_after >= free_before - 256, "deleting them returns the memory");
    free(sums);
    free(sizes);
}

int main(int argc, char** argv)
{
    char buf[4096];
    check(read_all("/www/hello.txt", buf, sizeof buf) > 0 && strstr(buf, "image's own root file system"),
        "the image's ROOTFS file is readable");
    int fd = open("/www/hello.txt", O_WRONLY | O_APPEND);
    check(fd >= 0 && write(fd, "more\n", 5) == 5 && close(fd) == 0, "and writable");
    check(read_all("/www/hello.txt", buf, sizeof buf) > 0 && strstr(buf, "more\n"), "the write is there");
    check(read_all("/etc/hostname", buf, sizeof buf) > 0 && strcmp(buf, "atoll\n") == 0, "/etc/hostname");
    check(read_all("/etc/files.conf", buf, sizeof buf) > 0 && strcmp(buf, "setting=42\n") == 0,
        "/etc from the ROOTFS sits next to the generated files");
    check(readlink("/proc/self/exe", buf, sizeof buf) > 0, "/proc/self/exe");
    fd = open("/dev/urandom", O_RDONLY);
    unsigned char r[32] = { 0 };
    check(fd >= 0 && read(fd, r, sizeof r) == sizeof r && close(fd) == 0, "/dev/urandom");
    fd = open("/dev/null", O_WRONLY);
    ssize_t wn = write(fd, "x", 1);
    check(fd >= 0 && wn == 1, "/dev/null");
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t ln = readlink(link, buf, sizeof buf - 1);
    if (ln > 0)
        buf[ln] = 0;
    check(ln > 0 && strcmp(buf, "/dev/null") == 0, "/proc/self/fd/N names the open file");
    close(fd);
    check(meminfo("MemTotal") > 0 && meminfo("MemFree") > 0, "/proc/meminfo");
    check(read_all("/proc/cpuinfo", buf, sizeof buf) > 0 && strstr(buf, "processor\t: 0"), "/proc/cpuinfo");
    // The console keeps the terminal settings a program makes (raw mode reads back as raw).
    fd = open("/dev/tty", O_RDWR);
    struct termios before, raw, after;
    int got = fd >= 0 && tcgetattr(fd, &before) == 0;
    raw = before;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    got = got && tcsetattr(fd, TCSANOW, &raw) == 0 && tcgetattr(fd, &after) == 0;
    check(got && (before.c_lflag & ICANON) && !(after.c_lflag & (ICANON | ECHO)), "terminal settings are kept");
    if (fd >= 0) {
        tcsetattr(fd, TCSANOW, &before);
        close(fd);
    }

    if (argc > 1 && strcmp(argv[1], "hostdir") == 0) {
        check(read_all("/data/input.txt", buf, sizeof buf) > 0 && strcmp(buf, "from the host\n") == 0,
            "a --rootfs file is readable");
        fd = open("/data/output.txt", O_CREAT | O_WRONLY, 0644);
        check(fd >= 0 && write(fd, "written in the guest\n", 21) == 21 && close(fd) == 0, "a --rootfs dir is writable");
        check(read_all("/data/output.txt", buf, sizeof buf) == 21, "and reads back");
    }
    if (argc > 1 && strcmp(argv[1], "many") == 0)
        many_files(10000);
    printf("failures: %d\n", failures);
    return failures;
}
