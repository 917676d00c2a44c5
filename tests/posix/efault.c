// SPDX-License-Identifier: MIT
// Pointers the program may not use, handed to system calls: a PROT_NONE page and an unmapped
// one (a file mapping after munmap) give EFAULT, and the program goes on. Then the same for
// memory that another thread protects while the call is blocked: a pipe read, a poll and an
// epoll_wait that wake up to find their buffer gone report EFAULT (and a pipe keeps the bytes
// it could not deliver). Raw system calls where a C library wrapper would touch the memory
// itself (glibc's vDSO clock_gettime, musl's sigaction and stat copy structures in user space).
#include "posix_common.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <time.h>

static long pagesize;

// Every call that takes a pointer, with BAD for it.
static void bad_pointer_calls(const char *what, char *bad, int file_fd, int sock)
{
	char label[128];
#define L(text) (snprintf(label, sizeof label, "%s: %s", what, text), label)
	CHECK(L("stat"), syscall(SYS_stat, ".", bad));
	CHECK(L("stat path"), syscall(SYS_stat, bad, bad));
	CHECK(L("fstat"), syscall(SYS_fstat, file_fd, bad));
	CHECK(L("open path"), syscall(SYS_openat, AT_FDCWD, bad, O_RDONLY));
	CHECK(L("clock_gettime"), syscall(SYS_clock_gettime, CLOCK_MONOTONIC, bad));
	CHECK(L("clock_getres"), syscall(SYS_clock_getres, CLOCK_MONOTONIC, bad));
	CHECK(L("gettimeofday"), syscall(SYS_gettimeofday, bad, NULL));
	CHECK(L("nanosleep"), syscall(SYS_nanosleep, bad, NULL));
	CHECK(L("poll"), syscall(SYS_poll, bad, 1, 0));
	CHECK(L("uname"), syscall(SYS_uname, bad));
	CHECK(L("rt_sigaction act"), syscall(SYS_rt_sigaction, SIGUSR1, bad, NULL, 8));
	CHECK(L("rt_sigaction oldact"), syscall(SYS_rt_sigaction, SIGUSR1, NULL, bad, 8));
	CHECK(L("rt_sigprocmask"), syscall(SYS_rt_sigprocmask, SIG_BLOCK, bad, NULL, 8));
	CHECK(L("prlimit64 old"), syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, bad));
	CHECK(L("prlimit64 new"), syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, bad, NULL));
	CHECK(L("sysinfo"), syscall(SYS_sysinfo, bad));
	CHECK(L("getrusage"), syscall(SYS_getrusage, RUSAGE_SELF, bad));
	CHECK(L("futex wait"), syscall(SYS_futex, bad, 128 /* FUTEX_WAIT_PRIVATE */, 0, NULL, NULL, 0));

	// Data: a file with bytes in it (at end of file Linux would not touch the buffer).
	CHECK(L("lseek"), lseek(file_fd, 0, SEEK_SET));
	CHECK(L("read"), read(file_fd, bad, 16));
	CHECK(L("pread"), pread(file_fd, bad, 16, 0));
	CHECK(L("write"), write(file_fd, bad, 16));
	struct iovec v = { bad, 16 };
	CHECK(L("readv into it"), readv(file_fd, &v, 1));
	CHECK(L("writev from it"), writev(file_fd, &v, 1));
	CHECK(L("readv with the iovec array in it"), syscall(SYS_readv, file_fd, bad, 1));
	int p[2];
	if (pipe(p) != 0)
		die("pipe");
	CHECK(L("write to a pipe"), write(p[1], bad, 16));
	CHECK(L("pipe2"), syscall(SYS_pipe2, bad, 0));
	CHECK(L("pipe write of 3 bytes"), write(p[1], "abc", 3));
	CHECK(L("read from a pipe"), read(p[0], bad, 16));
	char back[8] = { 0 };
	CHECK(L("the bytes are still in the pipe"), read(p[0], back, sizeof back));
	SAY(L("bytes"), "%s", back);
	close(p[0]);
	close(p[1]);

	// Sockets (an inet datagram socket needs no network device).
	socklen_t len = sizeof(struct sockaddr_in);
	struct sockaddr_in sa;
	CHECK(L("getsockname into it"), syscall(SYS_getsockname, sock, bad, &len));
	CHECK(L("getsockname length in it"), syscall(SYS_getsockname, sock, &sa, bad));
	len = sizeof(int);
	CHECK(L("getsockopt into it"), syscall(SYS_getsockopt, sock, SOL_SOCKET, SO_TYPE, bad, &len));
	CHECK(L("getsockopt length in it"), syscall(SYS_getsockopt, sock, SOL_SOCKET, SO_TYPE, &sa, bad));
	CHECK(L("setsockopt from it"), syscall(SYS_setsockopt, sock, SOL_SOCKET, SO_RCVBUF, bad, sizeof(int)));
	CHECK(L("bind from it"), syscall(SYS_bind, sock, bad, sizeof(struct sockaddr_in)));
	CHECK(L("sendto from it"), syscall(SYS_sendto, sock, "x", 1, 0, bad, sizeof(struct sockaddr_in)));
	CHECK(L("sendmsg header in it"), syscall(SYS_sendmsg, sock, bad, 0));
	CHECK(L("recvmsg header in it"), syscall(SYS_recvmsg, sock, bad, MSG_DONTWAIT));
#undef L
}

// ------------------------------------------------------------ protected while blocked

static int pipe_fds[2];
static char *volatile victim;
static long blocked_result;
static int blocked_errno;
static int epoll_fd, event_fd;

static void *blocked_read(void *arg)
{
	(void)arg;
	errno = 0;
	blocked_result = read(pipe_fds[0], victim, 64);
	blocked_errno = errno;
	return NULL;
}

static void *blocked_poll(void *arg)
{
	(void)arg;
	struct pollfd *fds = (struct pollfd *)victim;
	fds->fd = pipe_fds[0];
	fds->events = POLLIN;
	errno = 0;
	blocked_result = syscall(SYS_poll, fds, 1, 5000);
	blocked_errno = errno;
	return NULL;
}

static void *blocked_epoll(void *arg)
{
	(void)arg;
	errno = 0;
	blocked_result = syscall(SYS_epoll_wait, epoll_fd, victim, 4, 5000);
	blocked_errno = errno;
	return NULL;
}

// Runs BODY on a thread, waits until it is blocked, protects its page, wakes it with WAKE.
static void protect_while_blocked(const char *label, void *(*body)(void *), void (*wake)(void))
{
	victim = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (victim == MAP_FAILED)
		die("mmap");
	pthread_t t;
	blocked_result = -2;
	if (pthread_create(&t, NULL, body, NULL) != 0)
		die("pthread_create");
	usleep(200 * 1000); // the thread is blocked by now
	if (mprotect(victim, pagesize, PROT_NONE) != 0)
		die("mprotect");
	wake();
	pthread_join(t, NULL);
	posix_checks++;
	if (blocked_result == -1)
		printf("%s: -1 %s\n", label, errno_name(blocked_errno));
	else
		printf("%s: %ld\n", label, blocked_result);
	munmap(victim, pagesize);
}

static void wake_pipe(void)
{
	if (write(pipe_fds[1], "xyz", 3) != 3)
		die("write");
}

static void wake_event(void)
{
	uint64_t one = 1;
	if (write(event_fd, &one, sizeof one) != sizeof one)
		die("eventfd write");
}

int main(void)
{
	scratch_enter("efault");
	pagesize = sysconf(_SC_PAGESIZE);

	int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");
	char block[4096];
	memset(block, 'd', sizeof block);
	if (write(fd, block, sizeof block) != (ssize_t)sizeof block)
		die("write");
	int sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (sock < 0)
		die("socket");

	char *none = mmap(NULL, pagesize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (none == MAP_FAILED)
		die("mmap PROT_NONE");
	bad_pointer_calls("PROT_NONE", none, fd, sock);

	// A file's shared mapping, unmapped again: nothing is there any more.
	char *gone = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (gone == MAP_FAILED)
		die("mmap MAP_SHARED");
	if (munmap(gone, pagesize) != 0)
		die("munmap");
	bad_pointer_calls("unmapped", gone, fd, sock);

	// A read-only page: reads from it work, writes into it fail.
	char *ro = mmap(NULL, pagesize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		die("mmap PROT_READ");
	CHECK("read-only: clock_gettime into it", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, ro));
	CHECK("read-only: uname into it", syscall(SYS_uname, ro));
	CHECK("read-only: read into it", read(fd, ro, 16));
	CHECK("read-only: lseek", lseek(fd, 0, SEEK_SET));
	CHECK("read-only: write from it", write(fd, ro, 16));
	struct timespec zero = { 0, 0 };
	memcpy(block, &zero, sizeof zero);
	CHECK("read-only: nanosleep from a readable timespec", syscall(SYS_nanosleep, block, NULL));

	// Protected while blocked in the call.
	if (pipe(pipe_fds) != 0)
		die("pipe");
	protect_while_blocked("pipe read, buffer protected while blocked", blocked_read, wake_pipe);
	char back[8] = { 0 };
	CHECK("the bytes stayed in the pipe", read(pipe_fds[0], back, sizeof back));
	SAY("bytes", "%s", back);
	protect_while_blocked("poll, array protected while blocked", blocked_poll, wake_pipe);
	CHECK("drain", read(pipe_fds[0], back, sizeof back));
	epoll_fd = epoll_create1(0);
	event_fd = eventfd(0, 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };
	CHECK("epoll_ctl", epoll_ctl(epoll_fd, EPOLL_CTL_ADD, event_fd, &ev));
	protect_while_blocked("epoll_wait, array protected while blocked", blocked_epoll, wake_event);
	struct epoll_event got = { 0 };
	CHECK("the event is still ready", epoll_wait(epoll_fd, &got, 1, 0));
	SAY("its data", "%llu", (unsigned long long)got.data.u64);

	SAY("still running", "yes");
	close(fd);
	close(sock);
	scratch_leave("efault");
	return 0;
}
