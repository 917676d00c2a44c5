// SPDX-License-Identifier: MIT
// Setting and adjusting the guest's clock for real (tests/posix/time_mm.c checks only the
// refusals, against the host, whose clock must not move): the host's synchronisation at boot,
// clock_settime, ADJ_SETOFFSET, settimeofday, ADJ_FREQUENCY (against the TSC), adjtime's slew,
// the PLL's offset, ADJ_TAI, and EPERM once the program is no longer root. One "NAME: yes|no"
// line per check, with the figures behind it.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static double now(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec t = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
	nanosleep(&t, NULL);
}

static int failures;

static void check(const char *name, int ok)
{
	printf("%s: %s\n", name, ok ? "yes" : "no");
	failures += !ok;
}

static long adj(unsigned modes, struct timex *tx)
{
	tx->modes = modes;
	return adjtimex(tx);
}

// A clock reading and the TSC at the same moment: the TSC read on both sides, the narrowest
// pair of 20 kept (QEMU's thread can be descheduled by the host between any two instructions).
static void reading(clockid_t c, double *t, double *tsc)
{
	unsigned long long best = ~0ull;
	for (int i = 0; i < 20; i++) {
		unsigned long long a = __rdtsc();
		double v = now(c);
		unsigned long long b = __rdtsc();
		if (b - a < best) {
			best = b - a;
			*t = v;
			*tsc = (double)a + (double)(b - a) / 2;
		}
	}
}

// CLOCK_REALTIME - CLOCK_MONOTONIC at one moment: monotonic read between two realtime reads,
// the closest pair of 20 kept.
static double gap(void)
{
	double best = 1e9, g = 0;
	for (int i = 0; i < 20; i++) {
		double r1 = now(CLOCK_REALTIME), m = now(CLOCK_MONOTONIC), r2 = now(CLOCK_REALTIME);
		if (r2 - r1 < best) {
			best = r2 - r1;
			g = (r1 + r2) / 2 - m;
		}
	}
	return g;
}

// The clock's rate against the TSC over `s` seconds: seconds per 10^9 TSC ticks.
static double rate(clockid_t c, double s)
{
	double t0, k0, t1, k1;
	reading(c, &t0, &k0);
	sleep_s(s);
	reading(c, &t1, &k1);
	return (t1 - t0) / (k1 - k0) * 1e9;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct timex tx;

	// Under `atoll run` the host's relay answers the guest's clock requests: the clock is
	// synchronised (STA_UNSYNC clear, a small error bound) soon after boot.
	int synced = 0;
	for (int i = 0; i < 60 && !synced; i++) {
		memset(&tx, 0, sizeof tx);
		synced = adj(0, &tx) == TIME_OK && !(tx.status & STA_UNSYNC);
		if (!synced)
			sleep_s(0.05);
	}
	printf("host synchronisation: state %s, maxerror %ld us\n", synced ? "TIME_OK" : "TIME_ERROR", tx.maxerror);
	check("synchronised with the host within 3 s", synced && tx.maxerror > 0 && tx.maxerror < 100000);

	// clock_settime: a step, and Linux's ntp_clear() (unsynchronised afterwards).
	struct timespec set = {2000000000, 500000000};
	check("clock_settime REALTIME", clock_settime(CLOCK_REALTIME, &set) == 0);
	double r = now(CLOCK_REALTIME);
	printf("realtime after setting 2000000000.5: %.3f\n", r);
	check("reads back what was set", r >= 2000000000.5 && r < 2000000001.5);
	memset(&tx, 0, sizeof tx);
	check("unsynchronised after the step", adj(0, &tx) == TIME_ERROR && (tx.status & STA_UNSYNC));

	// ADJ_SETOFFSET: +5 s, in ns.
	double before = now(CLOCK_REALTIME);
	memset(&tx, 0, sizeof tx);
	tx.time.tv_sec = 5;
	tx.time.tv_usec = 0;
	check("ADJ_SETOFFSET +5 s", adj(ADJ_SETOFFSET | ADJ_NANO, &tx) >= 0);
	double shifted = now(CLOCK_REALTIME) - before;
	printf("realtime moved by %.3f s\n", shifted);
	check("moved by 5 s", shifted > 4.99 && shifted < 5.2);
	memset(&tx, 0, sizeof tx);
	adj(ADJ_MICRO, &tx); // back to microseconds for what follows

	// settimeofday, and the time zone it keeps.
	struct timeval tv = {1000000000, 250000};
	struct timezone tz = {-60, 0};
	check("settimeofday", settimeofday(&tv, NULL) == 0 && syscall(SYS_settimeofday, NULL, &tz) == 0);
	struct timezone back;
	syscall(SYS_gettimeofday, &tv, &back); // the C library's fills no time zone
	printf("gettimeofday: %ld s, time zone %d min west\n", (long)tv.tv_sec, back.tz_minuteswest);
	check("reads back, with the time zone", tv.tv_sec == 1000000000 && back.tz_minuteswest == -60);

	// ADJ_FREQUENCY: +100 ppm, seen against the TSC on both clocks (Linux slews both).
	double real0 = rate(CLOCK_REALTIME, 0.5), mono0 = rate(CLOCK_MONOTONIC, 0.5);
	memset(&tx, 0, sizeof tx);
	tx.freq = 100L << 16;
	check("ADJ_FREQUENCY +100 ppm", adj(ADJ_FREQUENCY, &tx) >= 0 && tx.freq == (100L << 16));
	double real1 = rate(CLOCK_REALTIME, 0.5), mono1 = rate(CLOCK_MONOTONIC, 0.5);
	double real_ppm = (real1 / real0 - 1) * 1e6, mono_ppm = (mono1 / mono0 - 1) * 1e6;
	printf("rate against the TSC: realtime %+.1f ppm, monotonic %+.1f ppm\n", real_ppm, mono_ppm);
	check("both clocks 100 ppm faster", real_ppm > 95 && real_ppm < 105 && mono_ppm > 95 && mono_ppm < 105);
	tx.freq = 0;
	adj(ADJ_FREQUENCY, &tx);

	// adjtime: 1 ms at 500 ppm takes 2 s; after 1 s, half is left.
	double gap0 = gap();
	memset(&tx, 0, sizeof tx);
	tx.offset = 1000;
	check("ADJ_OFFSET_SINGLESHOT 1000 us", adj(ADJ_OFFSET_SINGLESHOT, &tx) >= 0);
	sleep_s(1.0);
	memset(&tx, 0, sizeof tx);
	adj(ADJ_OFFSET_SS_READ, &tx);
	double gap1 = gap();
	printf("adjtime: %ld us left after 1 s, realtime gained %.0f us on monotonic\n", tx.offset, (gap1 - gap0) * 1e6);
	check("half slewed in after 1 s", tx.offset > 350 && tx.offset < 520 && (gap1 - gap0) * 1e6 > 480 &&
						  (gap1 - gap0) * 1e6 < 650);

	// The PLL: with STA_PLL, ADJ_OFFSET goes in at 1/2^(2 + 4 + constant) of what is left per
	// second (time constant 0 in microseconds: Linux keeps 4).
	memset(&tx, 0, sizeof tx);
	tx.status = STA_PLL;
	tx.constant = 0;
	check("STA_PLL", adj(ADJ_STATUS | ADJ_TIMECONST, &tx) >= 0 && (tx.status & STA_PLL) && tx.constant == 4);
	memset(&tx, 0, sizeof tx);
	tx.offset = 2000;
	adj(ADJ_OFFSET, &tx);
	sleep_s(1.0);
	memset(&tx, 0, sizeof tx);
	adj(0, &tx);
	printf("PLL offset after about 1 s: %ld us left of 2000\n", tx.offset);
	check("the PLL slews its offset in", tx.offset >= 1900 && tx.offset < 1980);

	// ADJ_TAI: CLOCK_TAI runs that many seconds ahead.
	memset(&tx, 0, sizeof tx);
	tx.constant = 37;
	adj(ADJ_TAI, &tx);
	double tai = now(CLOCK_TAI) - now(CLOCK_REALTIME);
	printf("CLOCK_TAI - CLOCK_REALTIME: %.3f s\n", tai);
	check("ADJ_TAI 37", tx.tai == 37 && tai > 36.99 && tai < 37.01);

	// No longer root: CAP_SYS_TIME is gone.
	check("setresuid 1000", setresuid(1000, 1000, 1000) == 0);
	errno = 0;
	int r1 = clock_settime(CLOCK_REALTIME, &set);
	check("clock_settime without CAP_SYS_TIME: EPERM", r1 == -1 && errno == EPERM);
	memset(&tx, 0, sizeof tx);
	errno = 0;
	check("adjtimex ADJ_FREQUENCY: EPERM", adj(ADJ_FREQUENCY, &tx) == -1 && errno == EPERM);
	errno = 0;
	check("settimeofday: EPERM", settimeofday(&tv, NULL) == -1 && errno == EPERM);
	memset(&tx, 0, sizeof tx);
	check("adjtimex read still allowed", adj(0, &tx) >= 0 && adj(ADJ_OFFSET_SS_READ, &tx) >= 0);

	printf("clockset: %d failed\n", failures);
	return failures ? 1 : 0;
}
