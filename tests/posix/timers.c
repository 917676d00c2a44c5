// SPDX-License-Identifier: MIT
// Timers that signal: alarm and its remaining time, setitimer/getitimer ITIMER_REAL (one-shot,
// periodic, a busy loop without system calls interrupted by SIGALRM), POSIX timers with
// SIGEV_SIGNAL (si_code, si_value), SIGEV_NONE, SIGEV_THREAD (callbacks on a thread),
// absolute deadlines, timer_gettime/getoverrun/delete and their errors.
#include "posix_common.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t alarms, last_code, last_value, last_sig;
static atomic_int thread_calls;
static atomic_int thread_value;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last_sig = sig;
	last_code = si->si_code;
	last_value = si->si_value.sival_int;
}

static void on_thread(union sigval v)
{
	atomic_store(&thread_value, v.sival_int);
	atomic_fetch_add(&thread_calls, 1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);

	// alarm: the previous alarm's seconds come back.
	CHECK("alarm(5) with none pending", alarm(5));
	CHECK("alarm(0) returns what was left", alarm(0));
	CHECK("alarm(0) again", alarm(0));

	// ITIMER_REAL one-shot: a busy loop that makes no system call is still interrupted.
	struct itimerval it = { .it_value = { 0, 50000 } };
	CHECK("setitimer 50 ms", setitimer(ITIMER_REAL, &it, NULL));
	struct itimerval cur;
	CHECK("getitimer", getitimer(ITIMER_REAL, &cur));
	SAY("it_value pending and at most 50 ms", "%s",
	    yes((cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 50000)));
	SAY("it_interval", "%ld.%06ld", (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec);
	double start = now_s();
	volatile unsigned long spins = 0;
	while (!alarms && now_s() - start < 10)
		spins++;
	SAY("busy loop ended by SIGALRM", "%s", yes(alarms == 1));
	alarms = 0;
	start = now_s();
	it.it_value.tv_usec = 30000;
	setitimer(ITIMER_REAL, &it, NULL);
	for (volatile unsigned long i = 0; !alarms && i < 4000000000ul; i++) { }
	SAY("pure spin (no calls at all) ended by SIGALRM", "%s", yes(alarms == 1));
	CHECK("getitimer after expiry", getitimer(ITIMER_REAL, &cur));
	SAY("disarmed after one shot", "%s", yes(cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0));

	// Periodic: 5 expiries 20 ms apart, waited for with sigsuspend.
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	alarms = 0;
	struct itimerval periodic = { .it_interval = { 0, 20000 }, .it_value = { 0, 20000 } };
	CHECK("setitimer periodic 20 ms", setitimer(ITIMER_REAL, &periodic, NULL));
	start = now_s();
	while (alarms < 5 && now_s() - start < 10)
		sigsuspend(&old);
	struct itimerval stop = { { 0, 0 }, { 0, 0 } }, prev;
	CHECK("setitimer disarm, old value", setitimer(ITIMER_REAL, &stop, &prev));
	SAY("5 periodic SIGALRMs", "%s", yes(alarms >= 5));
	SAY("old interval", "%ld.%06ld", (long)prev.it_interval.tv_sec, (long)prev.it_interval.tv_usec);
	double took = now_s() - start;
	SAY("5 periods took at least 90 ms", "%s", yes(took >= 0.09));
	sigprocmask(SIG_SETMASK, &old, NULL);

	// Bad arguments.
	struct itimerval bad = { .it_value = { 0, 1000000 } };
	CHECK("setitimer usec 1000000", setitimer(ITIMER_REAL, &bad, NULL));
	CHECK("setitimer which 7", setitimer(opaque(7), &it, NULL));
	CHECK("getitimer which 7", getitimer(opaque(7), &cur));

	// POSIX timer, SIGEV_SIGNAL with a real-time signal and a value.
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_info;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGRTMIN + 1;
	sev.sigev_value.sival_int = 42;
	timer_t t1;
	CHECK("timer_create SIGEV_SIGNAL", timer_create(CLOCK_MONOTONIC, &sev, &t1));
	struct itimerspec its = { .it_value = { 0, 10000000 } }, got;
	CHECK("timer_gettime disarmed", timer_gettime(t1, &got));
	SAY("disarmed value", "%ld.%09ld", (long)got.it_value.tv_sec, got.it_value.tv_nsec);
	CHECK("timer_settime 10 ms", timer_settime(t1, 0, &its, NULL));
	CHECK("timer_gettime armed", timer_gettime(t1, &got));
	SAY("armed value in (0, 10 ms]", "%s", yes(got.it_value.tv_sec == 0 && got.it_value.tv_nsec > 0 && got.it_value.tv_nsec <= 10000000));
	start = now_s();
	while (!last_sig && now_s() - start < 10) { }
	SAY("signal", "%s", yes(last_sig == SIGRTMIN + 1));
	SAY("si_code is SI_TIMER", "%s", yes(last_code == SI_TIMER));
	SAY("si_value", "%d", (int)last_value);
	CHECK("timer_getoverrun", timer_getoverrun(t1));

	// Absolute deadline on CLOCK_REALTIME, waited for with sigtimedwait.
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &block, &old);
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	rt.tv_nsec += 20000000;
	if (rt.tv_nsec >= 1000000000) {
		rt.tv_sec++;
		rt.tv_nsec -= 1000000000;
	}
	timer_t t2;
	CHECK("timer_create CLOCK_REALTIME", timer_create(CLOCK_REALTIME, &sev, &t2));
	struct itimerspec abs_its = { .it_value = rt };
	CHECK("timer_settime TIMER_ABSTIME", timer_settime(t2, TIMER_ABSTIME, &abs_its, NULL));
	siginfo_t si;
	struct timespec wait = { 5, 0 };
	CHECK("sigtimedwait takes the timer's signal", sigtimedwait(&block, &si, &wait) == SIGRTMIN + 1);
	SAY("its si_code is SI_TIMER", "%s", yes(si.si_code == SI_TIMER));
	SAY("its value", "%d", si.si_value.sival_int);
	struct timespec after;
	clock_gettime(CLOCK_REALTIME, &after);
	SAY("not before the deadline", "%s", yes(after.tv_sec > rt.tv_sec || (after.tv_sec == rt.tv_sec && after.tv_nsec >= rt.tv_nsec)));
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK("timer_delete", timer_delete(t2));

	// SIGEV_NONE: nothing is sent, but the time runs.
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	timer_t t3;
	CHECK("timer_create SIGEV_NONE", timer_create(CLOCK_MONOTONIC, &none, &t3));
	struct itimerspec long_its = { .it_value = { 100, 0 } };
	CHECK("timer_settime 100 s", timer_settime(t3, 0, &long_its, NULL));
	timer_gettime(t3, &got);
	SAY("remaining in (99, 100] s", "%s", yes(got.it_value.tv_sec == 99 || (got.it_value.tv_sec == 100 && got.it_value.tv_nsec == 0)));
	struct itimerspec zero = { { 0, 0 }, { 0, 0 } };
	CHECK("timer_settime disarm, old value", timer_settime(t3, 0, &zero, &got));
	SAY("old value was pending", "%s", yes(got.it_value.tv_sec > 0));
	CHECK("timer_delete", timer_delete(t3));

	// SIGEV_THREAD: the C library runs the callback on a thread of its own.
	struct sigevent thr;
	memset(&thr, 0, sizeof thr);
	thr.sigev_notify = SIGEV_THREAD;
	thr.sigev_notify_function = on_thread;
	thr.sigev_value.sival_int = 7;
	timer_t t4;
	CHECK("timer_create SIGEV_THREAD", timer_create(CLOCK_MONOTONIC, &thr, &t4));
	struct itimerspec every = { .it_interval = { 0, 10000000 }, .it_value = { 0, 10000000 } };
	CHECK("timer_settime periodic 10 ms", timer_settime(t4, 0, &every, NULL));
	start = now_s();
	while (atomic_load(&thread_calls) < 3 && now_s() - start < 10) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	SAY("callback ran 3 times", "%s", yes(atomic_load(&thread_calls) >= 3));
	SAY("with the value", "%d", atomic_load(&thread_value));
	CHECK("timer_delete SIGEV_THREAD", timer_delete(t4));

	// Errors.
	CHECK("timer_settime bad nsec", timer_settime(t1, 0, &(struct itimerspec){ .it_value = { 0, 1000000000 } }, NULL));
	CHECK("timer_delete", timer_delete(t1));
	// (timer_delete of a deleted timer: glibc says -1 EINVAL, musl returns -EINVAL itself.)
	CHECK("timer_gettime deleted", timer_gettime(t1, &got));
	struct sigevent badsig = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = 1000 };
	timer_t t5;
	CHECK("timer_create bad signal", timer_create(CLOCK_MONOTONIC, &badsig, &t5));
	CHECK("timer_create bad clock", timer_create((clockid_t)opaque(1000), &sev, &t5));
	struct sigevent badnotify = { .sigev_notify = 99 };
	CHECK("timer_create bad notify", timer_create(CLOCK_MONOTONIC, &badnotify, &t5));
	printf("checks: %d\n", posix_checks);
	return 0;
}
