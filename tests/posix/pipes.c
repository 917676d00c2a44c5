// SPDX-License-Identifier: MIT
// Pipes: pipe2 flags, non-blocking empty reads, byte stream semantics, end-of-file once the
// writers are gone, EPIPE once the readers are gone, FIONREAD, and what a pipe refuses
// (seeking, fsync).
#include "posix_common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>

static int fionread(int fd)
{
	int n = -1;
	return ioctl(fd, FIONREAD, &n) == 0 ? n : -1;
}

int main(void)
{
	scratch_enter("pipes");
	// Without this a write to a pipe with no reader kills the process instead of failing.
	signal(SIGPIPE, SIG_IGN);
	char buf[64];
	int p[2];

	// pipe2 flags land where they belong: O_NONBLOCK on both file descriptions,
	// O_CLOEXEC on both descriptors.
	CHECK("pipe2 bad flags", pipe2(p, 0x4)); // O_TRUNC-ish bit: not a pipe2 flag
	CHECK("pipe2 O_NONBLOCK|O_CLOEXEC", pipe2(p, O_NONBLOCK | O_CLOEXEC));
	SAY("read end O_NONBLOCK", "%s", yes(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	SAY("write end O_NONBLOCK", "%s", yes(fcntl(p[1], F_GETFL) & O_NONBLOCK));
	SAY("read end access mode O_RDONLY", "%s", yes((fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY));
	SAY("write end access mode O_WRONLY", "%s", yes((fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY));
	CHECK("read end FD_CLOEXEC", fcntl(p[0], F_GETFD));
	CHECK("write end FD_CLOEXEC", fcntl(p[1], F_GETFD));

	// Empty non-blocking pipe.
	CHECK("read empty non-blocking", read(p[0], buf, sizeof buf));
	CHECK("FIONREAD empty", fionread(p[0]));

	// Data flows in order and is a byte stream: reads may split and join writes.
	CHECK("write abc", write(p[1], "abc", 3));
	CHECK("write defgh", write(p[1], "defgh", 5));
	CHECK("FIONREAD after writes", fionread(p[0]));
	CHECK("read 2", read(p[0], buf, 2));
	SAY("data", "%.2s", buf);
	CHECK("read rest (joins writes)", read(p[0], buf, sizeof buf));
	SAY("data", "%.6s", buf);
	CHECK("read empty again", read(p[0], buf, sizeof buf));
	CHECK("write to read end", write(p[0], "x", 1));
	CHECK("read from write end", read(p[1], buf, 1));
	CHECK("lseek on pipe", lseek(p[0], 0, SEEK_SET));
	CHECK("pread on pipe", pread(p[0], buf, 1, 0));
	CHECK("fsync on pipe", fsync(p[1]));
	CHECK("ftruncate on pipe", ftruncate(p[1], 0));
	CHECK("fstat on pipe", fstat(p[0], &(struct stat){0}));
	struct stat st;
	fstat(p[0], &st);
	SAY("S_ISFIFO", "%s", yes(S_ISFIFO(st.st_mode)));

	// Filling a non-blocking pipe ends in EAGAIN; the capacity itself is not printed
	// (Linux defaults to 64 KiB, which is not a contract).
	long total = 0;
	ssize_t w;
	memset(buf, 'z', sizeof buf);
	// Capped, so an unbounded pipe shows up as a diff instead of eating all memory.
	while (total < (16L << 20) && (w = write(p[1], buf, sizeof buf)) > 0)
		total += w;
	SAY("fill until failure", "%s, capacity >= 4096: %s", errno_name(errno), yes(total >= 4096));
	CHECK("FIONREAD equals bytes written", fionread(p[0]) == total);
	close(p[0]);
	close(p[1]);

	// EOF: after the last writer closes, buffered data is still read, then read returns 0.
	CHECK("pipe (blocking)", pipe(p));
	CHECK("F_GETFD without O_CLOEXEC", fcntl(p[0], F_GETFD));
	CHECK("write 4", write(p[1], "tail", 4));
	int wdup = dup(p[1]);
	CHECK("close writer", close(p[1]));
	CHECK("close dup of writer", close(wdup));
	CHECK("read buffered after close", read(p[0], buf, sizeof buf));
	CHECK("read at EOF", read(p[0], buf, sizeof buf));
	CHECK("read at EOF again", read(p[0], buf, sizeof buf));
	close(p[0]);

	// EPIPE: with SIGPIPE ignored, writing after the last reader closes fails.
	CHECK("pipe", pipe(p));
	CHECK("write with reader", write(p[1], "x", 1));
	CHECK("close reader", close(p[0]));
	CHECK("write without reader", write(p[1], "x", 1));
	CHECK("write without reader again", write(p[1], "xy", 2));
	close(p[1]);

	// A blocking read returns what is there (a short read), it does not wait for the rest.
	CHECK("pipe", pipe(p));
	CHECK("write 3", write(p[1], "xyz", 3));
	CHECK("blocking read asks 64 gets", read(p[0], buf, sizeof buf));
	CHECK("write 0 bytes", write(p[1], buf, 0));
	CHECK("FIONREAD after zero write", fionread(p[0]));
	CHECK("set O_NONBLOCK later", fcntl(p[0], F_SETFL, O_NONBLOCK));
	CHECK("read empty after F_SETFL", read(p[0], buf, sizeof buf));
	CHECK("read into bad pointer", (write(p[1], "q", 1), read(p[0], bad_ptr(), 1)));
	CHECK("write from bad pointer", write(p[1], bad_ptr(), 1));
	close(p[0]);
	close(p[1]);
	CHECK("pipe2 with bad array pointer", pipe2(bad_ptr(), 0));

	scratch_leave("pipes");
	return 0;
}
