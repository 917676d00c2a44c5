// SPDX-License-Identifier: MIT
// Clocks and sleeping (only success, ordering and error codes are printed, never times),
// then memory mappings: mmap/munmap/mprotect/madvise/mremap argument checks, zero-filled
// anonymous memory, MAP_FIXED vs MAP_FIXED_NOREPLACE, and file mappings.
#include "posix_common.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

static long pg;

static double now(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

// mmap results: "ok" or the errno, never the address.
#define MAPCHECK(label, expr)                                                               \
	do {                                                                                \
		errno = 0;                                                                  \
		void *m_ = (expr);                                                          \
		SAY(label, "%s", m_ == MAP_FAILED ? errno_name(errno) : "ok");              \
	} while (0)

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int main(void)
{
	scratch_enter("time_mm");
	pg = sysconf(_SC_PAGESIZE);
	SAY("page size", "%ld", pg);

	// Clocks.
	static const struct { clockid_t id; const char *name; } clocks[] = {
		{CLOCK_REALTIME, "REALTIME"}, {CLOCK_MONOTONIC, "MONOTONIC"},
		{CLOCK_BOOTTIME, "BOOTTIME"}, {CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME"},
		{CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME"}, {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"},
		{CLOCK_REALTIME_COARSE, "REALTIME_COARSE"}, {CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE"}};
	struct timespec t, r;
	char label[64];
	for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		snprintf(label, sizeof label, "clock_gettime %s", clocks[i].name);
		CHECK(label, clock_gettime(clocks[i].id, &t));
		snprintf(label, sizeof label, "clock_getres %s", clocks[i].name);
		CHECK(label, clock_getres(clocks[i].id, &r));
	}
	clock_getres(CLOCK_MONOTONIC, &r);
	SAY("MONOTONIC resolution in (0, 1 ms]", "%s", yes(r.tv_sec == 0 && r.tv_nsec > 0 && r.tv_nsec <= 1000000));
	double m1 = now(CLOCK_MONOTONIC), m2 = now(CLOCK_MONOTONIC);
	SAY("monotonic does not go backwards", "%s", yes(m2 >= m1));
	m1 = now(CLOCK_MONOTONIC);
	SAY("BOOTTIME (read later) >= MONOTONIC", "%s", yes(now(CLOCK_BOOTTIME) >= m1));
	SAY("REALTIME after 2020", "%s", yes(now(CLOCK_REALTIME) > 1577836800.0));
	volatile unsigned long spin = 0;
	for (unsigned long i = 0; i < 20000000; i++)
		spin += i;
	(void)spin;
	SAY("process CPU time > 0 after spinning", "%s", yes(now(CLOCK_PROCESS_CPUTIME_ID) > 0));
	CHECK("clock_gettime bad clock 12345", clock_gettime(12345, &t));
	CHECK("clock_getres bad clock 12345", clock_getres(12345, &r));
	CHECK("clock_settime MONOTONIC", clock_settime(CLOCK_MONOTONIC, &t));

	// Setting and adjusting the clock: only calls that fail before anything changes (the host
	// runs this as root, and its clock must not move). Raw calls: the kernel's checks, not a
	// C library's. tests/images/clockset.c sets the guest's clock for real.
	struct timespec ok_ts = {1700000000, 0};
	CHECK("clock_settime REALTIME tv_nsec 1e9", syscall(SYS_clock_settime, CLOCK_REALTIME, &(struct timespec){1, 1000000000}));
	CHECK("clock_settime REALTIME tv_nsec -1", syscall(SYS_clock_settime, CLOCK_REALTIME, &(struct timespec){1, -1}));
	CHECK("clock_settime REALTIME tv_sec -1", syscall(SYS_clock_settime, CLOCK_REALTIME, &(struct timespec){-1, 0}));
	CHECK("clock_settime REALTIME bad pointer", syscall(SYS_clock_settime, CLOCK_REALTIME, bad_ptr()));
	CHECK("clock_settime MONOTONIC bad pointer", syscall(SYS_clock_settime, CLOCK_MONOTONIC, bad_ptr()));
	static const struct { clockid_t id; const char *name; } unsettable[] = {
		{CLOCK_BOOTTIME, "BOOTTIME"}, {CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"}, {CLOCK_TAI, "TAI"},
		{CLOCK_REALTIME_COARSE, "REALTIME_COARSE"}, {CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE"},
		{CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME"}, {CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME"},
		{12345, "bad clock 12345"}};
	for (size_t i = 0; i < sizeof unsettable / sizeof unsettable[0]; i++) {
		snprintf(label, sizeof label, "clock_settime %s", unsettable[i].name);
		CHECK(label, syscall(SYS_clock_settime, unsettable[i].id, &ok_ts));
	}
	CHECK("settimeofday tv_usec 1000001", syscall(SYS_settimeofday, &(struct timeval){1, 1000001}, NULL));
	CHECK("settimeofday tv_usec 1000000", syscall(SYS_settimeofday, &(struct timeval){1, 1000000}, NULL));
	CHECK("settimeofday tv_usec -1", syscall(SYS_settimeofday, &(struct timeval){1, -1}, NULL));
	CHECK("settimeofday tv_sec -1", syscall(SYS_settimeofday, &(struct timeval){-1, 0}, NULL));
	CHECK("settimeofday bad pointer", syscall(SYS_settimeofday, bad_ptr(), NULL));
	CHECK("settimeofday time zone 16 h west", syscall(SYS_settimeofday, NULL, &(struct timezone){16 * 60, 0}));
	struct timex tx;
	memset(&tx, 0, sizeof tx);
	errno = 0;
	long state = syscall(SYS_adjtimex, &tx);
	SAY("adjtimex read: a clock state", "%s", yes(state >= 0 && state <= 5));
	SAY("adjtimex precision, tolerance", "%ld %ld", tx.precision, tx.tolerance);
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_OFFSET_SS_READ;
	SAY("adjtimex ADJ_OFFSET_SS_READ: a clock state", "%s", yes(syscall(SYS_adjtimex, &tx) >= 0));
	static const struct { unsigned modes; long tick, freq, sec, usec; const char *name; } bad_timex[] = {
		{ADJ_TICK, 1, 0, 0, 0, "adjtimex tick 1"},
		{ADJ_TICK, 11001, 0, 0, 0, "adjtimex tick 11001"},
		{ADJ_TICK | ADJ_FREQUENCY, 20000, 0, 0, 0, "adjtimex tick 20000 with a frequency"},
		{ADJ_FREQUENCY, 0, 0x7fffffffffffffffL, 0, 0, "adjtimex frequency LONG_MAX"},
		{ADJ_FREQUENCY, 0, -0x7fffffffffffffffL, 0, 0, "adjtimex frequency -LONG_MAX"},
		{ADJ_SETOFFSET, 0, 0, 0, -1, "adjtimex setoffset tv_usec -1"},
		{ADJ_SETOFFSET, 0, 0, 0, 1000000, "adjtimex setoffset tv_usec 1e6"},
		{ADJ_SETOFFSET | ADJ_NANO, 0, 0, 0, 1000000000, "adjtimex setoffset tv_nsec 1e9"}};
	for (size_t i = 0; i < sizeof bad_timex / sizeof bad_timex[0]; i++) {
		memset(&tx, 0, sizeof tx);
		tx.modes = bad_timex[i].modes;
		tx.tick = bad_timex[i].tick;
		tx.freq = bad_timex[i].freq;
		tx.time.tv_sec = bad_timex[i].sec;
		tx.time.tv_usec = bad_timex[i].usec;
		CHECK(bad_timex[i].name, syscall(SYS_adjtimex, &tx));
	}
	CHECK("adjtimex bad pointer", syscall(SYS_adjtimex, bad_ptr()));
	memset(&tx, 0, sizeof tx);
	CHECK("clock_adjtime MONOTONIC", syscall(SYS_clock_adjtime, CLOCK_MONOTONIC, &tx));
	CHECK("clock_adjtime BOOTTIME", syscall(SYS_clock_adjtime, CLOCK_BOOTTIME, &tx));
	CHECK("clock_adjtime PROCESS_CPUTIME", syscall(SYS_clock_adjtime, CLOCK_PROCESS_CPUTIME_ID, &tx));
	CHECK("clock_adjtime bad clock 12345", syscall(SYS_clock_adjtime, 12345, &tx));
	CHECK("clock_adjtime REALTIME bad pointer", syscall(SYS_clock_adjtime, CLOCK_REALTIME, bad_ptr()));
	SAY("clock_adjtime REALTIME read: a clock state", "%s", yes(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx) >= 0));
	struct timeval tv;
	CHECK("gettimeofday", gettimeofday(&tv, NULL));
	SAY("tv_usec < 1e6", "%s", yes(tv.tv_usec >= 0 && tv.tv_usec < 1000000));
	SAY("time() within 2 s of REALTIME", "%s", yes(time(NULL) - now(CLOCK_REALTIME) < 2 &&
						      now(CLOCK_REALTIME) - time(NULL) < 2));

	// Sleeping.
	CHECK("nanosleep tv_nsec 1e9", nanosleep(&(struct timespec){0, 1000000000}, NULL));
	CHECK("nanosleep tv_sec -1", nanosleep(&(struct timespec){-1, 0}, NULL));
	m1 = now(CLOCK_MONOTONIC);
	CHECK("nanosleep 5 ms", nanosleep(&(struct timespec){0, 5000000}, NULL));
	SAY("slept at least 5 ms", "%s", yes(now(CLOCK_MONOTONIC) - m1 >= 0.005));
	// clock_nanosleep returns the error number instead of setting errno.
	SAY("clock_nanosleep bad nsec", "%s",
	    errno_name(clock_nanosleep(CLOCK_MONOTONIC, 0, &(struct timespec){0, -1}, NULL)));
	SAY("clock_nanosleep THREAD_CPUTIME", "%s",
	    errno_name(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){0, 1}, NULL)));
	clock_gettime(CLOCK_MONOTONIC, &t);
	CHECK("clock_nanosleep ABSTIME in the past", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL));
	t.tv_nsec += 2000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	CHECK("clock_nanosleep ABSTIME +2 ms", clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL));
	SAY("woke at or after the deadline", "%s", yes(now(CLOCK_MONOTONIC) >= t.tv_sec + t.tv_nsec / 1e9));

	// Anonymous mappings.
	const int prot = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
	MAPCHECK("mmap length 0", mmap(NULL, 0, prot, anon, -1, 0));
	MAPCHECK("mmap neither PRIVATE nor SHARED", mmap(NULL, pg, prot, MAP_ANONYMOUS, -1, 0));
	MAPCHECK("mmap file mapping of fd -1", mmap(NULL, pg, prot, MAP_PRIVATE, -1, 0));
	MAPCHECK("mmap unaligned MAP_FIXED", mmap((void *)(uintptr_t)(4 * pg + 1), pg, prot, anon | MAP_FIXED, -1, 0));
	unsigned char *p = mmap(NULL, 4 * pg, prot, anon, -1, 0);
	if (p == MAP_FAILED)
		die("mmap 4 pages");
	SAY("fresh anonymous memory is zero", "%s", yes(all_zero(p, 4 * pg)));
	memset(p, 0xab, 4 * pg);
	SAY("written memory reads back", "%s", yes(p[0] == 0xab && p[4 * pg - 1] == 0xab));
	MAPCHECK("MAP_FIXED_NOREPLACE over mapping", mmap(p + pg, pg, prot, anon | MAP_FIXED_NOREPLACE, -1, 0));
	SAY("mapping untouched", "%s", yes(p[pg] == 0xab));
	SAY("MAP_FIXED over mapping returns addr", "%s", yes(mmap(p + pg, pg, prot, anon | MAP_FIXED, -1, 0) == p + pg));
	SAY("replaced page is zero, neighbours kept", "%s %s", yes(all_zero(p + pg, pg)),
	    yes(p[0] == 0xab && p[2 * pg] == 0xab));
	CHECK("madvise DONTNEED", madvise(p, pg, MADV_DONTNEED));
	SAY("page reads zero after DONTNEED", "%s", yes(all_zero(p, pg)));
	CHECK("madvise bad advice", madvise(p, pg, 12345));
	CHECK("madvise unaligned", madvise(p + 1, pg, MADV_DONTNEED));
	// Raw call: musl's mprotect rounds the start down to a page boundary itself.
	CHECK("mprotect unaligned", syscall(SYS_mprotect, p + 1, pg, PROT_READ));
	CHECK("mprotect bad prot", mprotect(p, pg, 0x1000));
	CHECK("mprotect READ", mprotect(p, pg, PROT_READ));
	CHECK("mprotect back to RW", mprotect(p, pg, prot));
	CHECK("munmap unaligned", munmap(p + 1, pg));
	CHECK("munmap length 0", munmap(p, 0));
	CHECK("munmap middle page", munmap(p + pg, pg));
	CHECK("mprotect across the hole", mprotect(p, 3 * pg, PROT_READ));
	CHECK("munmap all 4 pages (with hole)", munmap(p, 4 * pg));
	CHECK("munmap already unmapped", munmap(p, 4 * pg));
	CHECK("mprotect unmapped", mprotect(p, pg, PROT_READ));
	CHECK("madvise unmapped", madvise(p, pg, MADV_DONTNEED));
	MAPCHECK("MAP_FIXED_NOREPLACE on free range", mmap(p, pg, prot, anon | MAP_FIXED_NOREPLACE, -1, 0));
	munmap(p, pg);

	// PROT_NONE then mprotect; mremap keeps contents.
	// (A failure here must not turn into a fault that hides the remaining checks.)
	p = mmap(NULL, pg, PROT_NONE, anon, -1, 0);
	CHECK("mprotect PROT_NONE -> RW", mprotect(p, pg, prot));
	if (p == MAP_FAILED || mprotect(p, pg, prot) != 0)
		die("PROT_NONE mapping");
	p[0] = 7;
	SAY("write after mprotect", "%d", p[0]);
	unsigned char *q = mremap(p, pg, 8 * pg, MREMAP_MAYMOVE);
	SAY("mremap grow MAYMOVE", "%s", q == MAP_FAILED ? errno_name(errno) : "ok");
	if (q == MAP_FAILED)
		die("mremap");
	SAY("contents kept / new part zero", "%s %s", yes(q[0] == 7), yes(all_zero(q + pg, 7 * pg)));
	MAPCHECK("mremap bad flags", mremap(q, 8 * pg, pg, 0x40));
	q = mremap(q, 8 * pg, 2 * pg, 0);
	SAY("mremap shrink in place", "%s", q == MAP_FAILED ? errno_name(errno) : "ok");
	munmap(q, 2 * pg);
	SAY("brk(0) > 0", "%s", yes(syscall(SYS_brk, 0) > 0));

	// File mappings.
	int fd = open("m", O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "mapped file", 11) != 11 || ftruncate(fd, pg) != 0)
		die("file");
	MAPCHECK("mmap file unaligned offset", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 1));
	char *f = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	SAY("private file mapping", "%s \"%.11s\"", f == MAP_FAILED ? errno_name(errno) : "ok", f == MAP_FAILED ? "" : f);
	if (f != MAP_FAILED) {
		f[0] = 'M';
		char buf[4] = {0};
		pread(fd, buf, 1, 0);
		SAY("private write not in file", "%s", yes(buf[0] == 'm'));
		munmap(f, pg);
	}
	f = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	SAY("shared file mapping", "%s", f == MAP_FAILED ? errno_name(errno) : "ok");
	if (f != MAP_FAILED) {
		memcpy(f, "SHARED", 6);
		CHECK("msync", msync(f, pg, MS_SYNC));
		char buf[8] = {0};
		pread(fd, buf, 6, 0);
		SAY("shared write visible to read", "%s", buf);
		munmap(f, pg);
	}
	int ro = open("m", O_RDONLY);
	MAPCHECK("MAP_SHARED RW of O_RDONLY fd", mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	close(ro);
	close(fd);

	// A file shorter than a page maps shared whole: its bytes, then zeros (time zone files,
	// mapped by the C library, are such files).
	int small = open("small", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(small, "hello world\n", 12);
	char *sm = mmap(NULL, 12, PROT_READ | PROT_WRITE, MAP_SHARED, small, 0);
	SAY("MAP_SHARED of a 12-byte file", "%s", yes(sm != MAP_FAILED));
	if (sm != MAP_FAILED) {
		SAY("its bytes", "%.11s", sm);
		SAY("the rest of the page is zero", "%s", yes(sm[12] == 0 && sm[pg - 1] == 0));
		sm[0] = 'H';
		char first = 0;
		pread(small, &first, 1, 0);
		SAY("a write through the mapping reaches the file", "%c", first);
		munmap(sm, 12);
	}
	close(small);

	scratch_leave("time_mm");
	return 0;
}
