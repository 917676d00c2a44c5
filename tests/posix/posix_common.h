// SPDX-License-Identifier: MIT
// Shared helpers for the POSIX conformance programs. Every program is built twice, as a host
// Linux executable (glibc) and as an Atoll image (musl + libOS), and the two outputs must be
// byte-identical. So everything printed here is machine-independent: return values, errno
// NAMES (never strerror text, which differs between libcs), and yes/no facts. Never
// addresses, pids, times, inode numbers or host paths.
#ifndef ATOLL_POSIX_COMMON_H
#define ATOLL_POSIX_COMMON_H

// The programs use Linux interfaces (pipe2, dup3, epoll...): ask for them here so no build
// has to remember -D_GNU_SOURCE. This header is always the first include.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int posix_checks; // number of lines printed by CHECK/SAY, reported at the end

// Our own table: both libcs agree on the numbers (they are the kernel's), not on the texts.
static inline const char *errno_name(int e)
{
	switch (e) {
#define E(x) case x: return #x;
		E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC)
		E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST)
		E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY)
		E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE)
		E(EDEADLK) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(EOVERFLOW)
		E(EOPNOTSUPP) E(ETIMEDOUT) E(ENOTSOCK) E(ESTALE) E(ENODATA) E(ENOPROTOOPT)
#undef E
	default: return "E?";
	}
}

// Prints "label: ret" and, when ret is -1, the errno name. `expr` is evaluated with errno
// cleared so a stale errno can never leak into the output.
#define CHECK(label, expr)                                                                  \
	do {                                                                                \
		errno = 0;                                                                  \
		long check_ret_ = (long)(expr);                                             \
		int check_err_ = errno;                                                     \
		posix_checks++;                                                             \
		if (check_ret_ == -1)                                                       \
			printf("%s: -1 %s\n", label, errno_name(check_err_));               \
		else                                                                        \
			printf("%s: %ld\n", label, check_ret_);                             \
	} while (0)

// A free-form fact, e.g. SAY("data read back", "%s", yes(ok)).
#define SAY(label, ...)                                                                     \
	do {                                                                                \
		posix_checks++;                                                             \
		printf("%s: ", label);                                                      \
		printf(__VA_ARGS__);                                                        \
		printf("\n");                                                               \
	} while (0)

// Values the compiler cannot see through: the bad-argument checks would otherwise be
// rejected at compile time by fortify-style access attributes (glibc) or folded away.
static inline void *bad_ptr(void)
{
	volatile unsigned long p = 1;
	return (void *)p;
}
static inline int opaque(int v)
{
	volatile int x = v;
	return x;
}

static inline const char *yes(int cond) { return cond ? "yes" : "no"; }

static inline void die(const char *why)
{
	printf("cannot proceed: %s (%s)\n", why, errno_name(errno));
	exit(1);
}

// Removes a tree left by an earlier, interrupted run. Only used on our own scratch dir.
static inline void remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d)) != NULL) {
				if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
					continue;
				char sub[4096];
				int n = snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
				if (n > 0 && (size_t)n < sizeof sub)
					remove_tree(sub);
			}
			closedir(d);
		}
		rmdir(path);
	} else {
		unlink(path);
	}
}

static char posix_scratch[1024];

// Creates <$POSIX_SCRATCH or /tmp>/posix-<name>-scratch and makes it the cwd, so every
// relative path a program uses stays inside it. Output is line-buffered so that a crash in
// an Atoll image still shows the last check that completed.
static inline void scratch_enter(const char *name)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *base = getenv("POSIX_SCRATCH");
	if (!base || !*base)
		base = "/tmp";
	snprintf(posix_scratch, sizeof posix_scratch, "%s/posix-%s-scratch", base, name);
	remove_tree(posix_scratch);
	if (mkdir(posix_scratch, 0755) != 0)
		die("mkdir scratch");
	if (chdir(posix_scratch) != 0)
		die("chdir scratch");
	printf("== %s\n", name);
}

static inline void scratch_leave(const char *name)
{
	if (chdir("/") != 0)
		die("chdir /");
	remove_tree(posix_scratch);
	printf("== %s done: %d checks\n", name, posix_checks);
}

#endif
