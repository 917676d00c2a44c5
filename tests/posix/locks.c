// SPDX-License-Identifier: MIT
// Advisory locks: flock (per open file description), fcntl POSIX record locks (per process:
// never in conflict with each other here, split and merged by range, released by any close of
// the file) and OFD locks (per open file description: in conflict between descriptions and
// threads). Blocking requests wait for another thread to release, and end with EINTR when a
// signal handler runs. Threads only sequence the steps; what they print is results, not times.
#include "posix_common.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static int open_rw(void)
{
	int fd = open("f", O_RDWR);
	if (fd < 0)
		die("open f");
	return fd;
}

static struct flock range(short type, short whence, off_t start, off_t len)
{
	struct flock l;
	memset(&l, 0, sizeof l);
	l.l_type = type;
	l.l_whence = whence;
	l.l_start = start;
	l.l_len = len;
	return l;
}

static const char *type_name(short t)
{
	return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?";
}

// What F_GETLK (or F_OFD_GETLK) on FD says about [start, start + len) for a lock of TYPE.
static void probe(const char *label, int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock l = range(type, SEEK_SET, start, len);
	errno = 0;
	int r = fcntl(fd, cmd, &l);
	if (r != 0) {
		SAY(label, "-1 %s", errno_name(errno));
		return;
	}
	if (l.l_type == F_UNLCK)
		SAY(label, "F_UNLCK");
	else
		SAY(label, "%s start %lld len %lld whence %d pid %s", type_name(l.l_type), (long long)l.l_start,
		    (long long)l.l_len, l.l_whence,
		    l.l_pid == getpid() ? "self" : l.l_pid == -1 ? "-1" : "other");
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock l = range(type, SEEK_SET, start, len);
	return fcntl(fd, cmd, &l);
}

// ---------------------------------------------------------------- threads that release

struct release_job {
	int fd;
	int how; // 0: flock LOCK_UN, 1: OFD unlock, 2: close
	volatile int released;
};

static void *release_later(void *arg)
{
	struct release_job *j = arg;
	sleep_ms(100);
	j->released = 1;
	if (j->how == 0)
		flock(j->fd, LOCK_UN);
	else if (j->how == 1)
		setlk(j->fd, F_OFD_SETLK, F_UNLCK, 0, 0);
	else
		close(j->fd);
	return NULL;
}

struct wait_job {
	int fd;
	int cmd; // 0: flock LOCK_EX, else an fcntl command taking a write lock on everything
	int result;
	int err;
	volatile int done;
};

static void *lock_and_wait(void *arg)
{
	struct wait_job *j = arg;
	errno = 0;
	j->result = j->cmd == 0 ? flock(j->fd, LOCK_EX) : setlk(j->fd, j->cmd, F_WRLCK, 0, 0);
	j->err = errno;
	j->done = 1;
	return NULL;
}

static void on_alarm(int sig) { (void)sig; }

static void arm_alarm_ms(long ms)
{
	struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

// ---------------------------------------------------------------------------- flock

static void flock_checks(void)
{
	int a = open_rw(), b = open_rw(), c = open_rw();
	CHECK("flock a EX", flock(a, LOCK_EX));
	CHECK("flock b EX|NB: held by a", flock(b, LOCK_EX | LOCK_NB));
	CHECK("flock b SH|NB: held by a", flock(b, LOCK_SH | LOCK_NB));
	CHECK("flock a EX again", flock(a, LOCK_EX));
	int d = dup(a);
	CHECK("flock dup of a EX|NB: same description", flock(d, LOCK_EX | LOCK_NB));
	CHECK("close a", close(a));
	CHECK("flock b EX|NB: the dup keeps it", flock(b, LOCK_EX | LOCK_NB));
	CHECK("close the dup: last close", close(d));
	CHECK("flock b EX|NB after the last close", flock(b, LOCK_EX | LOCK_NB));
	CHECK("flock b UN", flock(b, LOCK_UN));
	CHECK("flock b UN when unlocked", flock(b, LOCK_UN));

	a = open_rw();
	CHECK("flock a SH", flock(a, LOCK_SH));
	CHECK("flock b SH|NB: shared", flock(b, LOCK_SH | LOCK_NB));
	CHECK("flock c EX|NB: two sharers", flock(c, LOCK_EX | LOCK_NB));
	// A conversion drops the old lock first: a failed upgrade leaves none.
	CHECK("flock a EX|NB upgrade fails", flock(a, LOCK_EX | LOCK_NB));
	CHECK("flock c EX|NB: b still shares", flock(c, LOCK_EX | LOCK_NB));
	CHECK("flock b UN", flock(b, LOCK_UN));
	CHECK("flock c EX|NB: a lost its lock in the upgrade", flock(c, LOCK_EX | LOCK_NB));
	CHECK("flock c SH downgrade", flock(c, LOCK_SH));
	CHECK("flock a SH|NB after the downgrade", flock(a, LOCK_SH | LOCK_NB));
	CHECK("flock a UN", flock(a, LOCK_UN));
	CHECK("flock c UN", flock(c, LOCK_UN));

	CHECK("flock op 0", flock(a, opaque(0)));
	CHECK("flock SH|EX", flock(a, opaque(LOCK_SH | LOCK_EX)));
	CHECK("flock NB alone", flock(a, opaque(LOCK_NB)));
	CHECK("flock bad fd", flock(opaque(-1), LOCK_SH));
	CHECK("flock closed fd", flock(opaque(900), LOCK_UN));

	// flock and fcntl locks do not see each other.
	CHECK("flock a EX", flock(a, LOCK_EX));
	CHECK("fcntl F_SETLK b under a's flock", setlk(b, F_SETLK, F_WRLCK, 0, 0));
	CHECK("F_SETLK unlock b", setlk(b, F_SETLK, F_UNLCK, 0, 0));
	CHECK("fcntl F_OFD_SETLK c under a's flock", setlk(c, F_OFD_SETLK, F_WRLCK, 0, 0));
	CHECK("F_OFD unlock c", setlk(c, F_OFD_SETLK, F_UNLCK, 0, 0));

	// A blocking request waits until another thread releases.
	struct release_job rj = {a, 0, 0};
	pthread_t t;
	pthread_create(&t, NULL, release_later, &rj);
	CHECK("flock b EX blocks until the thread unlocks a", flock(b, LOCK_EX));
	SAY("the holder had released first", "%s", yes(rj.released));
	pthread_join(t, NULL);

	// A thread waiting in flock gets the lock when the holder's description is closed.
	struct wait_job wj = {c, 0, -2, 0, 0};
	pthread_create(&t, NULL, lock_and_wait, &wj);
	sleep_ms(100);
	SAY("the waiting thread still waits", "%s", yes(!wj.done));
	CHECK("close b", close(b));
	pthread_join(t, NULL);
	SAY("the waiting thread's flock", "%d %s", wj.result, wj.result ? errno_name(wj.err) : "");

	// A signal ends the wait: EINTR (the handler is installed without SA_RESTART).
	b = open_rw();
	arm_alarm_ms(100);
	CHECK("flock b EX interrupted by SIGALRM", flock(b, LOCK_EX));
	CHECK("flock c UN", flock(c, LOCK_UN));
	CHECK("flock b EX|NB now", flock(b, LOCK_EX | LOCK_NB));
	close(a);
	close(b);
	close(c);
}

// ---------------------------------------------------------------------- POSIX locks

static void record_lock_checks(void)
{
	int a = open_rw(), b = open_rw(), c = open_rw();
	CHECK("F_SETLK a write [0,10)", setlk(a, F_SETLK, F_WRLCK, 0, 10));
	CHECK("F_SETLK b write [0,10): same process", setlk(b, F_SETLK, F_WRLCK, 0, 10));
	probe("F_GETLK c write [0,100)", c, F_GETLK, F_WRLCK, 0, 100);
	probe("F_OFD_GETLK c write [0,100)", c, F_OFD_GETLK, F_WRLCK, 0, 100);
	CHECK("F_OFD_SETLK c write [5,6)", setlk(c, F_OFD_SETLK, F_WRLCK, 5, 1));
	CHECK("F_OFD_SETLK c read [10,20)", setlk(c, F_OFD_SETLK, F_RDLCK, 10, 10));

	// Any close of the file releases the process's locks, even of a description never locked.
	int never = open_rw();
	CHECK("close a descriptor that never locked", close(never));
	probe("F_OFD_GETLK c write [0,100) after the close", c, F_OFD_GETLK, F_WRLCK, 0, 100);
	CHECK("F_OFD_SETLK c write [5,6) now", setlk(c, F_OFD_SETLK, F_WRLCK, 5, 1));
	CHECK("F_OFD_SETLK c unlock", setlk(c, F_OFD_SETLK, F_UNLCK, 0, 0));

	// Splitting and merging, seen from another description (an OFD query).
	CHECK("F_SETLK a write [0,100)", setlk(a, F_SETLK, F_WRLCK, 0, 100));
	CHECK("F_SETLK a unlock [40,60)", setlk(a, F_SETLK, F_UNLCK, 40, 20));
	probe("query [40,60)", c, F_OFD_GETLK, F_WRLCK, 40, 20);
	probe("query [30,50)", c, F_OFD_GETLK, F_WRLCK, 30, 20);
	probe("query [50,70)", c, F_OFD_GETLK, F_WRLCK, 50, 20);
	CHECK("F_SETLK a write [40,60) again", setlk(a, F_SETLK, F_WRLCK, 40, 20));
	probe("query [30,70) merged", c, F_OFD_GETLK, F_WRLCK, 30, 40);
	CHECK("F_SETLK a read [20,30) inside", setlk(a, F_SETLK, F_RDLCK, 20, 10));
	probe("query read [20,30)", c, F_OFD_GETLK, F_RDLCK, 20, 10);
	probe("query write [25,26)", c, F_OFD_GETLK, F_WRLCK, 25, 1);
	probe("query write [15,25)", c, F_OFD_GETLK, F_WRLCK, 15, 10);
	probe("query write [95,200)", c, F_OFD_GETLK, F_WRLCK, 95, 105);
	CHECK("F_SETLK a read [200,EOF)", setlk(a, F_SETLK, F_RDLCK, 200, 0));
	probe("query write [300,301)", c, F_OFD_GETLK, F_WRLCK, 300, 1);
	CHECK("F_SETLK a write [100,200): adjacent", setlk(a, F_SETLK, F_WRLCK, 100, 100));
	probe("query write [150,151)", c, F_OFD_GETLK, F_WRLCK, 150, 1);
	CHECK("F_SETLK a unlock all", setlk(a, F_SETLK, F_UNLCK, 0, 0));
	probe("query write [0,EOF) after unlocking", c, F_OFD_GETLK, F_WRLCK, 0, 0);

	// Ranges relative to the offset and the end; negative lengths reach backwards.
	if (write(a, "0123456789", 10) != 10)
		die("write");
	struct flock l = range(F_WRLCK, SEEK_CUR, -4, 2); // offset 10: [6,8)
	CHECK("F_SETLK SEEK_CUR -4 len 2", fcntl(a, F_SETLK, &l));
	probe("query [0,EOF) SEEK_CUR lock", c, F_OFD_GETLK, F_WRLCK, 0, 0);
	l = range(F_WRLCK, SEEK_END, 5, -3); // size 10: [12,15)
	CHECK("F_SETLK SEEK_END 5 len -3", fcntl(a, F_SETLK, &l));
	probe("query [10,EOF) SEEK_END lock", c, F_OFD_GETLK, F_WRLCK, 10, 0);
	CHECK("F_SETLK a unlock all", setlk(a, F_SETLK, F_UNLCK, 0, 0));

	// Errors.
	l = range(7, SEEK_SET, 0, 0);
	CHECK("F_SETLK bad type", fcntl(a, F_SETLK, &l));
	l = range(F_WRLCK, 9, 0, 0);
	CHECK("F_SETLK bad whence", fcntl(a, F_SETLK, &l));
	l = range(F_WRLCK, SEEK_SET, -1, 0);
	CHECK("F_SETLK negative start", fcntl(a, F_SETLK, &l));
	l = range(F_WRLCK, SEEK_SET, 2, -5);
	CHECK("F_SETLK length reaching before 0", fcntl(a, F_SETLK, &l));
	l = range(F_WRLCK, SEEK_SET, 0x7fffffffffffff00LL, 0x1000);
	CHECK("F_SETLK range past the largest offset", fcntl(a, F_SETLK, &l));
	l = range(F_UNLCK, SEEK_SET, 0, 0);
	CHECK("F_GETLK with F_UNLCK", fcntl(a, F_GETLK, &l));
	CHECK("F_SETLK bad pointer", fcntl(a, F_SETLK, bad_ptr()));
	CHECK("F_GETLK bad pointer", fcntl(a, F_GETLK, bad_ptr()));
	int ro = open("f", O_RDONLY), wo = open("f", O_WRONLY);
	CHECK("F_SETLK write lock on a read-only descriptor", setlk(ro, F_SETLK, F_WRLCK, 0, 1));
	CHECK("F_SETLK read lock on a write-only descriptor", setlk(wo, F_SETLK, F_RDLCK, 0, 1));
	CHECK("F_SETLK unlock on a read-only descriptor", setlk(ro, F_SETLK, F_UNLCK, 0, 1));
	CHECK("F_SETLK read lock on a read-only descriptor", setlk(ro, F_SETLK, F_RDLCK, 0, 1));
	close(ro);
	close(wo);
	CHECK("F_SETLK closed fd", setlk(opaque(900), F_SETLK, F_WRLCK, 0, 1));
	close(a);
	close(b);
	close(c);
}

// ------------------------------------------------------------------------- OFD locks

static void ofd_checks(void)
{
	int a = open_rw(), b = open_rw(), c = open_rw();
	struct flock l = range(F_WRLCK, SEEK_SET, 0, 10);
	l.l_pid = 1;
	CHECK("F_OFD_SETLK l_pid != 0", fcntl(a, F_OFD_SETLK, &l));
	CHECK("F_OFD_GETLK l_pid != 0", fcntl(a, F_OFD_GETLK, &l));
	CHECK("F_OFD_SETLK a write [0,10)", setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	CHECK("F_OFD_SETLK b write [5,6)", setlk(b, F_OFD_SETLK, F_WRLCK, 5, 1));
	CHECK("F_OFD_SETLK b read [9,12)", setlk(b, F_OFD_SETLK, F_RDLCK, 9, 3));
	CHECK("F_OFD_SETLK b write [10,12): free", setlk(b, F_OFD_SETLK, F_WRLCK, 10, 2));
	int d = dup(a);
	CHECK("F_OFD_SETLK dup of a read [0,10): same description", setlk(d, F_OFD_SETLK, F_RDLCK, 0, 10));
	probe("F_GETLK b [0,20)", b, F_GETLK, F_WRLCK, 0, 20);
	probe("F_OFD_GETLK a read [0,20)", a, F_OFD_GETLK, F_RDLCK, 0, 20);
	CHECK("F_SETLK (POSIX) b write [0,1): conflicts with a's OFD lock", setlk(b, F_SETLK, F_WRLCK, 0, 1));
	CHECK("F_SETLK (POSIX) b read [0,1)", setlk(b, F_SETLK, F_RDLCK, 0, 1));
	CHECK("F_OFD_SETLK c write [0,1): conflicts with the POSIX lock", setlk(c, F_OFD_SETLK, F_WRLCK, 0, 1));

	// OFD locks ignore closes of other descriptions; they end with their own last close.
	int never = open_rw();
	CHECK("close another description", close(never));
	CHECK("F_OFD_SETLK c write [0,10): a still holds", setlk(c, F_OFD_SETLK, F_WRLCK, 1, 9));
	CHECK("close a (the dup remains)", close(a));
	CHECK("F_OFD_SETLK c write [1,10): the dup holds", setlk(c, F_OFD_SETLK, F_WRLCK, 1, 9));
	CHECK("close the dup", close(d));
	CHECK("F_OFD_SETLK c write [1,10) after the last close", setlk(c, F_OFD_SETLK, F_WRLCK, 1, 9));
	CHECK("F_OFD_SETLK c unlock", setlk(c, F_OFD_SETLK, F_UNLCK, 0, 0));
	CHECK("F_OFD_SETLK b unlock", setlk(b, F_OFD_SETLK, F_UNLCK, 0, 0));

	// Between threads: a blocking request waits for the holder.
	a = open_rw();
	CHECK("F_OFD_SETLK a write all", setlk(a, F_OFD_SETLK, F_WRLCK, 0, 0));
	struct release_job rj = {a, 1, 0};
	pthread_t t;
	pthread_create(&t, NULL, release_later, &rj);
	CHECK("F_OFD_SETLKW b blocks until the thread unlocks", setlk(b, F_OFD_SETLKW, F_WRLCK, 0, 0));
	SAY("the holder had released first", "%s", yes(rj.released));
	pthread_join(t, NULL);

	// A POSIX request blocked on an OFD lock, released by another thread's close.
	rj = (struct release_job){b, 2, 0};
	pthread_create(&t, NULL, release_later, &rj);
	CHECK("F_SETLKW c blocks until the thread closes b", setlk(c, F_SETLKW, F_WRLCK, 0, 0));
	SAY("the holder had closed first", "%s", yes(rj.released));
	pthread_join(t, NULL);
	CHECK("F_SETLK c unlock", setlk(c, F_SETLK, F_UNLCK, 0, 0));

	// A thread waiting in F_OFD_SETLKW.
	CHECK("F_OFD_SETLK a write all", setlk(a, F_OFD_SETLK, F_WRLCK, 0, 0));
	struct wait_job wj = {c, F_OFD_SETLKW, -2, 0, 0};
	pthread_create(&t, NULL, lock_and_wait, &wj);
	sleep_ms(100);
	SAY("the waiting thread still waits", "%s", yes(!wj.done));
	CHECK("F_OFD_SETLK a unlock", setlk(a, F_OFD_SETLK, F_UNLCK, 0, 0));
	pthread_join(t, NULL);
	SAY("the waiting thread's F_OFD_SETLKW", "%d %s", wj.result, wj.result ? errno_name(wj.err) : "");

	// A signal ends the waits.
	b = open_rw();
	arm_alarm_ms(100);
	CHECK("F_OFD_SETLKW b interrupted by SIGALRM", setlk(b, F_OFD_SETLKW, F_WRLCK, 0, 0));
	arm_alarm_ms(100);
	CHECK("F_SETLKW b interrupted by SIGALRM", setlk(b, F_SETLKW, F_WRLCK, 0, 0));
	close(a);
	close(b);
	close(c);
}

int main(void)
{
	scratch_enter("locks");
	int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("create f");
	close(fd);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; // no SA_RESTART: a blocking lock request ends with EINTR
	sigaction(SIGALRM, &sa, NULL);

	flock_checks();
	record_lock_checks();
	ofd_checks();
	scratch_leave("locks");
	return 0;
}
