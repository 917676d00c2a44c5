// SPDX-License-Identifier: MIT
// Readiness: poll/ppoll, select/pselect, epoll (level, edge, one-shot), eventfd counters and
// timerfd expirations. Only event masks and counts are printed, never times, so the output
// is the same on a fast host and a slow emulated guest.
#include "posix_common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

static const char *ev_str(unsigned ev)
{
	static char buf[96];
	buf[0] = 0;
	static const struct { unsigned bit; const char *name; } names[] = {
		{POLLIN, "IN"}, {POLLPRI, "PRI"}, {POLLOUT, "OUT"}, {POLLERR, "ERR"},
		{POLLHUP, "HUP"}, {POLLNVAL, "NVAL"}, {POLLRDNORM, "RDNORM"},
		{POLLWRNORM, "WRNORM"}, {EPOLLRDHUP, "RDHUP"}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (ev & names[i].bit)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", *buf ? "|" : "",
				 names[i].name);
	return *buf ? buf : "0";
}

// One poll() over a single fd: prints the return value and revents.
static void poll1(const char *label, int fd, short events, int timeout)
{
	struct pollfd pfd = {fd, events, 0x5a5a};
	errno = 0;
	int r = poll(&pfd, 1, timeout);
	SAY(label, "%d %s", r, r < 0 ? errno_name(errno) : ev_str((unsigned short)pfd.revents));
}

static void ewait(const char *label, int ep)
{
	struct epoll_event ev[4] = {{0}};
	errno = 0;
	int r = epoll_wait(ep, ev, 4, 0);
	SAY(label, "%d %s data=%lu", r, r < 0 ? errno_name(errno) : r ? ev_str(ev[0].events) : "-",
	    r > 0 ? (unsigned long)ev[0].data.u64 : 0UL);
}

static void pipes(int p[2], int flags)
{
	if (pipe2(p, flags) != 0)
		die("pipe2");
}

static void *send_usr1_later(void *arg)
{
	(void)arg;
	struct timespec ms20 = { 0, 20000000 };
	nanosleep(&ms20, NULL);
	kill(getpid(), SIGUSR1);
	return NULL;
}

// signalfd: blocked signals read as records, through read, poll and epoll.
static void signalfd_checks(void)
{
	sigset_t m, old;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &m, &old);
	int sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
	SAY("signalfd", "%s", yes(sfd >= 0));
	struct signalfd_siginfo si[2];
	CHECK("signalfd read, nothing pending", read(sfd, si, sizeof si[0]));
	CHECK("signalfd read, short buffer", read(sfd, si, 10));
	raise(SIGUSR1);
	struct pollfd pfd = { .fd = sfd, .events = POLLIN };
	CHECK("poll after raise", poll(&pfd, 1, 0));
	SAY("revents", "%#x", pfd.revents);
	CHECK("read one record", read(sfd, si, sizeof si));
	SAY("ssi_signo is SIGUSR1", "%s", yes(si[0].ssi_signo == SIGUSR1));
	SAY("ssi_code is SI_TKILL", "%s", yes(si[0].ssi_code == SI_TKILL));
	union sigval v = { .sival_int = 5 };
	sigqueue(getpid(), SIGRTMIN + 2, v);
	v.sival_int = 6;
	sigqueue(getpid(), SIGRTMIN + 2, v);
	CHECK("read two queued real-time signals at once", read(sfd, si, sizeof si));
	SAY("their values", "%d %d", si[0].ssi_int, si[1].ssi_int);
	SAY("their code is SI_QUEUE", "%s", yes(si[0].ssi_code == SI_QUEUE && si[1].ssi_code == SI_QUEUE));
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 77 }, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	CHECK("epoll_wait, nothing pending", epoll_wait(ep, &out, 1, 0));
	kill(getpid(), SIGUSR1);
	CHECK("epoll_wait after kill", epoll_wait(ep, &out, 1, 1000));
	SAY("its data", "%u", out.data.u32);
	CHECK("read it", read(sfd, si, sizeof si));
	close(ep);
	// A blocking read, woken by a signal another thread sends.
	fcntl(sfd, F_SETFL, 0);
	pthread_t t;
	pthread_create(&t, NULL, send_usr1_later, NULL);
	CHECK("blocking read woken by another thread's kill", read(sfd, si, sizeof si));
	SAY("ssi_signo is SIGUSR1", "%s", yes(si[0].ssi_signo == SIGUSR1));
	pthread_join(t, NULL);
	// Changing the mask; errors.
	sigset_t only_rt;
	sigemptyset(&only_rt);
	sigaddset(&only_rt, SIGRTMIN + 2);
	CHECK("signalfd on itself (new mask) returns its fd", signalfd(sfd, &only_rt, 0) == sfd);
	int efd = eventfd(0, 0);
	CHECK("signalfd on an eventfd", signalfd(efd, &m, 0));
	CHECK("signalfd bad flags", signalfd(-1, &m, opaque(0x10)));
	close(efd);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int main(void)
{
	scratch_enter("polling");
	signal(SIGPIPE, SIG_IGN);
	int p[2];
	uint64_t v;

	// poll
	pipes(p, 0);
	poll1("poll empty read end", p[0], POLLIN, 0);
	poll1("poll write end", p[1], POLLOUT, 0);
	CHECK("write", write(p[1], "ab", 2));
	poll1("poll read end after write", p[0], POLLIN | POLLOUT, 0);
	close(p[1]);
	poll1("poll read end, data + writer closed", p[0], POLLIN, 0);
	poll1("same, events 0 (HUP is unconditional)", p[0], 0, 0);
	char buf[8];
	read(p[0], buf, sizeof buf);
	poll1("poll read end, drained + writer closed", p[0], POLLIN, 0);
	poll1("poll closed fd", p[1], POLLIN, 0);
	poll1("poll negative fd (ignored)", -1, POLLIN, 0);
	close(p[0]);
	pipes(p, 0);
	close(p[0]);
	poll1("poll write end, reader closed", p[1], POLLOUT, 0);
	close(p[1]);
	pipes(p, 0);
	poll1("poll timeout 20 ms, nothing ready", p[0], POLLIN, 20);
	struct pollfd two[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
	CHECK("poll two fds", poll(two, 2, 0));
	CHECK("poll nfds too large", poll(two, (nfds_t)opaque(1 << 30), 0));
	CHECK("poll bad pointer", poll(bad_ptr(), 1, 0));
	struct timespec ts0 = {0, 0}, tsbad = {0, 1000000000};
	CHECK("ppoll zero timeout", ppoll(two, 2, &ts0, NULL));
	CHECK("ppoll tv_nsec 1e9", ppoll(two, 2, &tsbad, NULL));

	// select / pselect
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv0 = {0, 0};
	CHECK("select empty pipe", select(p[1] + 1, &r, &w, NULL, &tv0));
	SAY("select sets", "read %d write %d", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
	write(p[1], "x", 1);
	FD_ZERO(&r);
	FD_SET(p[0], &r);
	tv0 = (struct timeval){0, 0};
	CHECK("select after write", select(p[0] + 1, &r, NULL, NULL, &tv0));
	SAY("select read set", "%d", FD_ISSET(p[0], &r));
	CHECK("pselect after write", pselect(p[0] + 1, &r, NULL, NULL, &ts0, NULL));
	CHECK("select nfds -1", select(-1, NULL, NULL, NULL, &tv0));
	struct timeval tvbad = {0, -1};
	CHECK("select negative timeout", select(0, NULL, NULL, NULL, &tvbad));
	int closed = dup(p[0]);
	close(closed);
	FD_ZERO(&r);
	FD_SET(closed, &r);
	tv0 = (struct timeval){0, 0};
	CHECK("select closed fd", select(closed + 1, &r, NULL, NULL, &tv0));
	read(p[0], buf, 1);

	// epoll: control errors
	CHECK("epoll_create1 bad flags", epoll_create1(1));
	// Raw call: musl's epoll_create(size) ignores size and calls epoll_create1(0).
	CHECK("epoll_create size 0", syscall(SYS_epoll_create, 0));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK("epoll_create1 EPOLL_CLOEXEC FD_CLOEXEC", fcntl(ep, F_GETFD));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
	CHECK("epoll_ctl ADD", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	CHECK("epoll_ctl ADD again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	CHECK("epoll_ctl MOD unregistered", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
	CHECK("epoll_ctl DEL unregistered", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], &ev));
	CHECK("epoll_ctl ADD bad fd", epoll_ctl(ep, EPOLL_CTL_ADD, 9999, &ev));
	CHECK("epoll_ctl ADD epoll fd itself", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	int file = open("f", O_CREAT | O_RDWR, 0644);
	CHECK("epoll_ctl ADD regular file", epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev));
	CHECK("epoll_ctl on non-epoll fd", epoll_ctl(file, EPOLL_CTL_ADD, p[0], &ev));
	CHECK("epoll_ctl bad op", epoll_ctl(ep, 99, p[0], &ev));
	struct epoll_event evs[1];
	CHECK("epoll_wait maxevents 0", epoll_wait(ep, evs, 0, 0));
	CHECK("epoll_wait on non-epoll fd", epoll_wait(file, evs, 1, 0));

	// Level-triggered: reported as long as data is there.
	ewait("LT wait, empty", ep);
	write(p[1], "x", 1);
	ewait("LT wait after write", ep);
	ewait("LT wait again (still readable)", ep);
	CHECK("epoll_pwait", epoll_pwait(ep, evs, 1, 0, NULL));
	read(p[0], buf, 1);
	ewait("LT wait after drain", ep);

	// Edge-triggered: one report per new arrival.
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 8;
	CHECK("epoll_ctl MOD to EPOLLET", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	write(p[1], "x", 1);
	ewait("ET wait after write", ep);
	ewait("ET wait again, no new data", ep);
	write(p[1], "y", 1);
	ewait("ET wait after second write", ep);
	read(p[0], buf, sizeof buf);

	// One-shot: disabled after one report until re-armed with MOD.
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.u64 = 9;
	CHECK("epoll_ctl MOD to EPOLLONESHOT", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	write(p[1], "x", 1);
	ewait("ONESHOT first wait", ep);
	ewait("ONESHOT second wait", ep);
	CHECK("epoll_ctl MOD re-arm", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	ewait("ONESHOT after re-arm", ep);
	CHECK("epoll_ctl DEL", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
	ewait("wait after DEL", ep);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.u64 = 10;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	close(p[1]);
	ewait("wait after writer closed", ep);
	close(p[0]);
	ewait("wait after the fd was closed", ep);

	// eventfd
	CHECK("eventfd bad flags", eventfd(0, 0x2));
	int efd = eventfd(0, EFD_NONBLOCK);
	CHECK("eventfd read at 0", read(efd, &v, 8));
	poll1("poll eventfd at 0", efd, POLLIN | POLLOUT, 0);
	v = 3;
	CHECK("eventfd write 3", write(efd, &v, 8));
	v = 4;
	CHECK("eventfd write 4", write(efd, &v, 8));
	poll1("poll eventfd at 7", efd, POLLIN | POLLOUT, 0);
	CHECK("eventfd read", read(efd, &v, 8));
	SAY("eventfd value", "%llu", (unsigned long long)v);
	CHECK("eventfd read after reset", read(efd, &v, 8));
	v = UINT64_MAX;
	CHECK("eventfd write 0xffffffffffffffff", write(efd, &v, 8));
	CHECK("eventfd write 4 bytes", write(efd, &v, 4));
	CHECK("eventfd read 4 bytes", read(efd, &v, 4));
	v = UINT64_MAX - 1;
	CHECK("eventfd write max-1", write(efd, &v, 8));
	v = 1;
	CHECK("eventfd write beyond max", write(efd, &v, 8));
	poll1("poll eventfd at max", efd, POLLIN | POLLOUT, 0);
	close(efd);
	efd = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	CHECK("semaphore read 1", read(efd, &v, 8));
	SAY("semaphore value", "%llu", (unsigned long long)v);
	CHECK("semaphore read 2", read(efd, &v, 8));
	SAY("semaphore value", "%llu", (unsigned long long)v);
	CHECK("semaphore read 3", read(efd, &v, 8));
	close(efd);

	// timerfd
	CHECK("timerfd_create bad clock", timerfd_create(12345, 0));
	CHECK("timerfd_create bad flags", timerfd_create(CLOCK_MONOTONIC, 0x1));
	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its, cur;
	CHECK("timerfd_gettime disarmed", timerfd_gettime(tfd, &cur));
	SAY("disarmed value is zero", "%s", yes(!cur.it_value.tv_sec && !cur.it_value.tv_nsec &&
						 !cur.it_interval.tv_sec && !cur.it_interval.tv_nsec));
	its = (struct itimerspec){{0, 0}, {0, 1000000000}};
	CHECK("timerfd_settime tv_nsec 1e9", timerfd_settime(tfd, 0, &its, NULL));
	its = (struct itimerspec){{0, 0}, {0, 10000000}};
	CHECK("timerfd_settime 10 ms one-shot", timerfd_settime(tfd, 0, &its, NULL));
	CHECK("timerfd_gettime armed", timerfd_gettime(tfd, &cur));
	SAY("armed value in (0, 10 ms]", "%s", yes(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 &&
						   cur.it_value.tv_nsec <= 10000000));
	CHECK("timerfd read 4 bytes", read(tfd, &v, 4));
	CHECK("timerfd blocking read", read(tfd, &v, 8));
	SAY("expirations", "%llu", (unsigned long long)v);
	CHECK("timerfd_gettime after expiry", timerfd_gettime(tfd, &cur));
	SAY("value zero after one-shot", "%s", yes(!cur.it_value.tv_sec && !cur.it_value.tv_nsec));
	close(tfd);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	its = (struct itimerspec){{0, 0}, {60, 0}};
	timerfd_settime(tfd, 0, &its, NULL);
	CHECK("TFD_NONBLOCK read before expiry", read(tfd, &v, 8));
	poll1("poll timerfd before expiry", tfd, POLLIN, 0);
	its = (struct itimerspec){{0, 0}, {0, 1}};
	CHECK("TFD_TIMER_ABSTIME in the past", timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, &cur));
	SAY("old value returned (about 60 s)", "%s", yes(cur.it_value.tv_sec >= 50));
	poll1("poll timerfd after past deadline", tfd, POLLIN, 1000);
	CHECK("read expired absolute timer", read(tfd, &v, 8));
	SAY("expirations", "%llu", (unsigned long long)v);
	its = (struct itimerspec){{0, 1000000}, {0, 1000000}}; // 1 ms period
	timerfd_settime(tfd, 0, &its, NULL);
	ep = epoll_create1(0);
	ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = 11};
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	CHECK("epoll_wait blocks until periodic timer fires", epoll_wait(ep, evs, 1, 5000));
	nanosleep(&(struct timespec){0, 20000000}, NULL);
	CHECK("read periodic timer", read(tfd, &v, 8));
	SAY("periodic expirations >= 2", "%s", yes(v >= 2));
	its = (struct itimerspec){{0, 0}, {0, 0}};
	CHECK("disarm", timerfd_settime(tfd, 0, &its, NULL));
	CHECK("read disarmed", read(tfd, &v, 8));

	signalfd_checks();

	scratch_leave("polling");
	return 0;
}
