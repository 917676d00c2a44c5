// SPDX-License-Identifier: MIT
// File descriptor operations: dup family, fcntl fd flags vs file status flags (the former
// belong to the descriptor, the latter to the open file description that dups share),
// F_DUPFD minimums, shared offsets, ioctl and isatty on non-terminals, and EMFILE.
// Fd numbers are printed only as relations (">= 10", "lowest free"), because the host
// runner may have inherited extra descriptors.
#include "posix_common.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>

// File status flags we care about, by name; the kernel also reports O_LARGEFILE on 64-bit
// and libcs disagree on whether their headers define it as 0, so it is masked off.
static const char *fl_str(int fl)
{
	static char buf[64];
	if (fl < 0)
		return "error";
	const char *acc = (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY"
			  : (fl & O_ACCMODE) == O_WRONLY ? "O_WRONLY" : "O_RDWR";
	snprintf(buf, sizeof buf, "%s%s%s", acc, fl & O_NONBLOCK ? "|O_NONBLOCK" : "",
		 fl & O_APPEND ? "|O_APPEND" : "");
	return buf;
}

// isatty returns 0 or 1 (never -1) and sets errno on 0: print both.
static void show_isatty(const char *label, int fd)
{
	errno = 0;
	int r = isatty(fd);
	int e = errno;
	SAY(label, "%d %s", r, r ? "-" : errno_name(e));
}

int main(void)
{
	scratch_enter("fd_ops");
	int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
	int other = open("g", O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd < 0 || other < 0)
		die("open");

	// dup returns the lowest free descriptor.
	int hole = dup(fd);
	close(hole);
	int d = dup(other);
	SAY("dup fills the lowest free slot", "%s", yes(d == hole));
	CHECK("dup bad fd", dup(9999));
	CHECK("dup -1", dup(-1));

	// dup2 / dup3.
	SAY("dup2 same fd returns fd", "%s", yes(dup2(fd, fd) == fd));
	CHECK("dup2 bad old fd", dup2(9999, d));
	CHECK("dup2 new fd -1", dup2(fd, -1));
	SAY("dup2 onto open fd returns it", "%s", yes(dup2(fd, d) == d));
	CHECK("write via fd", write(fd, "hello", 5));
	CHECK("offset seen via dup2'd fd", lseek(d, 0, SEEK_CUR));
	CHECK("lseek via dup2'd fd", lseek(d, 1, SEEK_SET));
	CHECK("offset seen via fd", lseek(fd, 0, SEEK_CUR));
	CHECK("offset of other (independent)", lseek(other, 0, SEEK_CUR));
	int reopened = open("f", O_RDONLY);
	CHECK("offset of a second open() (independent)", lseek(reopened, 0, SEEK_CUR));
	close(reopened);
	CHECK("dup3 same fd", dup3(fd, fd, 0));
	// Raw call: musl's dup3 falls back to dup2 and never passes flags other than O_CLOEXEC.
	CHECK("dup3 bad flags", syscall(SYS_dup3, fd, d, 0x4));
	SAY("dup3 O_CLOEXEC returns new fd", "%s", yes(dup3(fd, d, O_CLOEXEC) == d));
	CHECK("F_GETFD after dup3 O_CLOEXEC", fcntl(d, F_GETFD));
	SAY("dup2 onto it again", "%s", yes(dup2(fd, d) == d));
	CHECK("F_GETFD after dup2 (cleared)", fcntl(d, F_GETFD));

	// Descriptor flags: FD_CLOEXEC is per descriptor, not inherited by dup.
	CHECK("F_GETFD fresh", fcntl(fd, F_GETFD));
	CHECK("F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK("F_GETFD after set", fcntl(fd, F_GETFD));
	int nd = dup(fd);
	CHECK("F_GETFD of dup", fcntl(nd, F_GETFD));
	close(nd);
	CHECK("F_SETFD 0", fcntl(fd, F_SETFD, 0));
	CHECK("F_GETFD after clear", fcntl(fd, F_GETFD));

	// File status flags: shared through dup, access mode immutable.
	SAY("F_GETFL", "%s", fl_str(fcntl(fd, F_GETFL)));
	CHECK("F_SETFL O_NONBLOCK|O_APPEND", fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND));
	SAY("F_GETFL after set", "%s", fl_str(fcntl(fd, F_GETFL)));
	SAY("F_GETFL via dup (shared)", "%s", fl_str(fcntl(d, F_GETFL)));
	CHECK("F_SETFL O_RDONLY (access mode ignored)", fcntl(fd, F_SETFL, O_RDONLY));
	SAY("F_GETFL after clear", "%s", fl_str(fcntl(fd, F_GETFL)));
	int ro = open("f", O_RDONLY);
	SAY("F_GETFL O_RDONLY file", "%s", fl_str(fcntl(ro, F_GETFL)));
	int wo = open("f", O_WRONLY | O_APPEND);
	SAY("F_GETFL O_WRONLY|O_APPEND file", "%s", fl_str(fcntl(wo, F_GETFL)));
	close(wo);

	// F_DUPFD / F_DUPFD_CLOEXEC.
	int d10 = fcntl(fd, F_DUPFD, 10);
	SAY("F_DUPFD min 10 gives >= 10", "%s", yes(d10 >= 10));
	CHECK("F_GETFD of F_DUPFD", fcntl(d10, F_GETFD));
	int d20 = fcntl(fd, F_DUPFD_CLOEXEC, 20);
	SAY("F_DUPFD_CLOEXEC min 20 gives >= 20", "%s", yes(d20 >= 20));
	CHECK("F_GETFD of F_DUPFD_CLOEXEC", fcntl(d20, F_GETFD));
	CHECK("offset shared with F_DUPFD copy", lseek(d20, 0, SEEK_CUR));
	close(d10);
	SAY("F_DUPFD reuses freed slot", "%s", yes(fcntl(fd, F_DUPFD, d10) == d10));
	CHECK("F_DUPFD min -1", fcntl(fd, F_DUPFD, -1));
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	CHECK("F_DUPFD min = RLIMIT_NOFILE", fcntl(fd, F_DUPFD, (int)rl.rlim_cur));
	CHECK("fcntl bad cmd", fcntl(fd, 9999));
	CHECK("fcntl bad fd", fcntl(9999, F_GETFD));

	// ioctl and isatty on things that are not terminals.
	int p[2];
	if (pipe(p) != 0)
		die("pipe");
	int n = -1;
	CHECK("write 7 to pipe", write(p[1], "1234567", 7));
	CHECK("ioctl FIONREAD pipe", ioctl(p[0], FIONREAD, &n));
	SAY("FIONREAD pipe count", "%d", n);
	CHECK("ioctl FIONREAD regular file", (lseek(ro, 1, SEEK_SET), ioctl(ro, FIONREAD, &n)));
	SAY("FIONREAD file count (size - offset)", "%d", n);
	char tbuf[256]; // larger than any libc's struct termios
	CHECK("ioctl TCGETS regular file", ioctl(fd, TCGETS, tbuf));
	CHECK("ioctl TCGETS pipe", ioctl(p[0], TCGETS, tbuf));
	CHECK("ioctl unknown request", ioctl(fd, 0x7fff1234, tbuf));
	CHECK("ioctl bad fd", ioctl(9999, FIONREAD, &n));
	struct termios tio;
	CHECK("tcgetattr regular file", tcgetattr(fd, &tio));
	show_isatty("isatty regular file", fd);
	show_isatty("isatty pipe", p[0]);
	show_isatty("isatty bad fd", 9999);

	// With RLIMIT_NOFILE lowered to 32, the last descriptor handed out is 31 and the next
	// attempt fails with EMFILE (no matter how many descriptors were already open).
	struct rlimit low = {32, rl.rlim_max < 32 ? rl.rlim_max : 32};
	CHECK("setrlimit NOFILE 32", setrlimit(RLIMIT_NOFILE, &low));
	int last = -1, got;
	errno = 0;
	for (int i = 0; i < 100000 && (got = dup(fd)) >= 0; i++) // capped: a diff, not a hang
		last = got;
	SAY("dup until failure", "last %d, then %s", last, errno_name(errno));
	CHECK("open at the limit", open("f", O_RDONLY));
	CHECK("pipe at the limit", pipe(p));
	for (int i = 3; i <= last; i++) // make room for the scratch cleanup's opendir
		close(i);

	scratch_leave("fd_ops");
	return 0;
}
