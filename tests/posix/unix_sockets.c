// SPDX-License-Identifier: MIT
// AF_UNIX socket pairs: the socket options Linux has for them (buffer sizes reported doubled,
// timeouts honoured, SO_PASSCRED with SCM_CREDENTIALS, SO_PEERCRED, the read-only ones) and
// their errors, and the recv/send flags (MSG_DONTWAIT, MSG_PEEK, MSG_WAITALL, MSG_NOSIGNAL).
#include "posix_common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

static int sv[2];

static void pair(void)
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		die("socketpair");
}

static void unpair(void)
{
	close(sv[0]);
	close(sv[1]);
}

static void get_int(const char *label, int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof v;
	errno = 0;
	int r = getsockopt(fd, level, name, &v, &len);
	if (r != 0)
		SAY(label, "-1 %s", errno_name(errno));
	else
		SAY(label, "%d (len %u)", v, (unsigned)len);
}

static int set_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof v);
}

static void get_timeout(const char *label, int fd, int name)
{
	struct timeval tv = {-1, -1};
	socklen_t len = sizeof tv;
	errno = 0;
	if (getsockopt(fd, SOL_SOCKET, name, &tv, &len) != 0)
		SAY(label, "-1 %s", errno_name(errno));
	else
		SAY(label, "%lld.%06ld (len %u)", (long long)tv.tv_sec, (long)tv.tv_usec, (unsigned)len);
}

static int set_timeout(int fd, int name, long sec, long usec)
{
	struct timeval tv = {sec, usec};
	return setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv);
}

int main(void)
{
	scratch_enter("unix_sockets");
	signal(SIGPIPE, SIG_IGN); // a write to a closed peer must come back as EPIPE, not kill

	pair();
	// Options only read.
	get_int("SO_TYPE", sv[0], SOL_SOCKET, SO_TYPE);
	get_int("SO_DOMAIN", sv[0], SOL_SOCKET, SO_DOMAIN);
	get_int("SO_PROTOCOL", sv[0], SOL_SOCKET, SO_PROTOCOL);
	get_int("SO_ERROR", sv[0], SOL_SOCKET, SO_ERROR);
	get_int("SO_ACCEPTCONN", sv[0], SOL_SOCKET, SO_ACCEPTCONN);
	get_int("SO_RCVLOWAT default", sv[0], SOL_SOCKET, SO_RCVLOWAT);
	get_int("SO_PASSCRED default", sv[0], SOL_SOCKET, SO_PASSCRED);
	get_int("SO_KEEPALIVE default", sv[0], SOL_SOCKET, SO_KEEPALIVE);
	get_int("SO_REUSEADDR default", sv[0], SOL_SOCKET, SO_REUSEADDR);
	get_int("SO_PRIORITY default", sv[0], SOL_SOCKET, SO_PRIORITY);
	get_timeout("SO_RCVTIMEO default", sv[0], SO_RCVTIMEO);
	int v = 0;
	socklen_t len = sizeof v;
	getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &len);
	SAY("SO_SNDBUF default > 0", "%s", yes(v > 0));
	getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, &len);
	SAY("SO_RCVBUF default > 0", "%s", yes(v > 0));
	CHECK("set SO_TYPE", set_int(sv[0], SOL_SOCKET, SO_TYPE, SOCK_DGRAM));
	CHECK("set SO_ERROR", set_int(sv[0], SOL_SOCKET, SO_ERROR, 0));
	CHECK("set SO_PEERCRED", set_int(sv[0], SOL_SOCKET, SO_PEERCRED, 0));

	// Buffer sizes: stored, reported doubled.
	CHECK("set SO_SNDBUF 8192", set_int(sv[0], SOL_SOCKET, SO_SNDBUF, 8192));
	get_int("SO_SNDBUF", sv[0], SOL_SOCKET, SO_SNDBUF);
	CHECK("set SO_RCVBUF 10000", set_int(sv[0], SOL_SOCKET, SO_RCVBUF, 10000));
	get_int("SO_RCVBUF", sv[0], SOL_SOCKET, SO_RCVBUF);
	v = 0;
	len = sizeof v;
	getsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &v, &len);
	SAY("peer's SO_SNDBUF not 16384", "%s", yes(v != 16384));

	// Flags: stored and read back.
	CHECK("set SO_REUSEADDR 1", set_int(sv[0], SOL_SOCKET, SO_REUSEADDR, 1));
	get_int("SO_REUSEADDR", sv[0], SOL_SOCKET, SO_REUSEADDR);
	CHECK("set SO_KEEPALIVE 5", set_int(sv[0], SOL_SOCKET, SO_KEEPALIVE, 5));
	get_int("SO_KEEPALIVE", sv[0], SOL_SOCKET, SO_KEEPALIVE);
	CHECK("set SO_BROADCAST 1", set_int(sv[0], SOL_SOCKET, SO_BROADCAST, 1));
	get_int("SO_BROADCAST", sv[0], SOL_SOCKET, SO_BROADCAST);
	CHECK("set SO_OOBINLINE 1", set_int(sv[0], SOL_SOCKET, SO_OOBINLINE, 1));
	get_int("SO_OOBINLINE", sv[0], SOL_SOCKET, SO_OOBINLINE);
	CHECK("set SO_DONTROUTE 1", set_int(sv[0], SOL_SOCKET, SO_DONTROUTE, 1));
	get_int("SO_DONTROUTE", sv[0], SOL_SOCKET, SO_DONTROUTE);
	CHECK("set SO_PRIORITY 6", set_int(sv[0], SOL_SOCKET, SO_PRIORITY, 6));
	get_int("SO_PRIORITY", sv[0], SOL_SOCKET, SO_PRIORITY);
	CHECK("set SO_PRIORITY 7 (root)", set_int(sv[0], SOL_SOCKET, SO_PRIORITY, 7));
	get_int("SO_PRIORITY", sv[0], SOL_SOCKET, SO_PRIORITY);
	CHECK("set SO_KEEPALIVE 0", set_int(sv[0], SOL_SOCKET, SO_KEEPALIVE, 0));
	get_int("SO_KEEPALIVE", sv[0], SOL_SOCKET, SO_KEEPALIVE);
	struct linger lg = {1, 5};
	CHECK("set SO_LINGER {1,5}", setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	lg = (struct linger){0, 9};
	CHECK("set SO_LINGER {0,9}", setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
	memset(&lg, 0x55, sizeof lg);
	len = sizeof lg;
	CHECK("get SO_LINGER", getsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, &len));
	SAY("SO_LINGER", "%d %d (len %u)", lg.l_onoff, lg.l_linger, (unsigned)len);
	CHECK("set SO_LINGER short", setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof(int)));

	// Errors.
	CHECK("setsockopt unknown option", set_int(sv[0], SOL_SOCKET, 9999, 1));
	CHECK("setsockopt IPPROTO_TCP", set_int(sv[0], IPPROTO_TCP, TCP_NODELAY, 1));
	CHECK("setsockopt IPPROTO_IP", set_int(sv[0], IPPROTO_IP, IP_TOS, 1));
	CHECK("setsockopt level 999", set_int(sv[0], 999, 1, 1));
	v = 1;
	CHECK("setsockopt optlen 2", setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, 2));
	CHECK("setsockopt optlen 0", setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, 0));
	CHECK("setsockopt optlen -1", setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, (socklen_t)opaque(-1)));
	CHECK("setsockopt bad pointer", setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, bad_ptr(), sizeof(int)));
	CHECK("setsockopt not a socket", set_int(0, SOL_SOCKET, SO_KEEPALIVE, 1));
	CHECK("setsockopt bad fd", set_int(opaque(900), SOL_SOCKET, SO_KEEPALIVE, 1));
	len = sizeof v;
	CHECK("getsockopt unknown option", getsockopt(sv[0], SOL_SOCKET, 9999, &v, &len));
	CHECK("getsockopt IPPROTO_TCP", getsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &v, &len));
	CHECK("getsockopt bad optval", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, bad_ptr(), &len));
	CHECK("getsockopt bad optlen", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, bad_ptr()));
	len = (socklen_t)opaque(-1);
	CHECK("getsockopt optlen -1", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len));
	len = 2;
	v = 0x7f7f7f7f;
	CHECK("getsockopt SO_TYPE optlen 2", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len));
	SAY("  value and len", "%#x %u", v, (unsigned)len);

	// SO_PEERCRED: who made the pair.
	struct ucred uc;
	memset(&uc, 0x55, sizeof uc);
	len = sizeof uc;
	CHECK("SO_PEERCRED", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &len));
	SAY("  pid is ours, uid, gid, len", "%s %u %u %u", yes(uc.pid == getpid()), uc.uid, uc.gid, (unsigned)len);
	len = 4;
	memset(&uc, 0x55, sizeof uc);
	CHECK("SO_PEERCRED optlen 4", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &len));
	SAY("  pid is ours, len", "%s %u", yes(uc.pid == getpid()), (unsigned)len);
	unpair();
	if (setresgid(-1, 300, -1) != 0 || setresuid(-1, 3000, -1) != 0)
		die("setresuid");
	pair();
	if (setresuid(-1, 0, -1) != 0 || setresgid(-1, 0, -1) != 0)
		die("setresuid back");
	len = sizeof uc;
	CHECK("SO_PEERCRED of a pair made as 3000/300", getsockopt(sv[1], SOL_SOCKET, SO_PEERCRED, &uc, &len));
	SAY("  uid, gid", "%u %u", uc.uid, uc.gid);

	// Timeouts.
	CHECK("set SO_RCVTIMEO 0.1 s", set_timeout(sv[0], SO_RCVTIMEO, 0, 100000));
	get_timeout("SO_RCVTIMEO", sv[0], SO_RCVTIMEO);
	char buf[256];
	CHECK("recv times out", recv(sv[0], buf, sizeof buf, 0));
	CHECK("read times out too", read(sv[0], buf, sizeof buf));
	CHECK("set SO_RCVTIMEO usec 1000000", set_timeout(sv[0], SO_RCVTIMEO, 0, 1000000));
	CHECK("set SO_RCVTIMEO usec -1", set_timeout(sv[0], SO_RCVTIMEO, 0, -1));
	struct timeval tv = {1, 0};
	CHECK("set SO_RCVTIMEO short", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, 8));
	CHECK("set SO_RCVTIMEO negative: no waiting", set_timeout(sv[0], SO_RCVTIMEO, -5, 0));
	get_timeout("SO_RCVTIMEO", sv[0], SO_RCVTIMEO);
	CHECK("recv does not wait", recv(sv[0], buf, sizeof buf, 0));
	CHECK("set SO_RCVTIMEO 0: forever", set_timeout(sv[0], SO_RCVTIMEO, 0, 0));
	get_timeout("SO_RCVTIMEO", sv[0], SO_RCVTIMEO);
	CHECK("set SO_RCVTIMEO 2.5 s", set_timeout(sv[0], SO_RCVTIMEO, 2, 500000));
	get_timeout("SO_RCVTIMEO", sv[0], SO_RCVTIMEO);
	CHECK("set SO_SNDTIMEO 0.1 s", set_timeout(sv[0], SO_SNDTIMEO, 0, 100000));
	get_timeout("SO_SNDTIMEO", sv[0], SO_SNDTIMEO);
	static char big[1 << 20];
	long sent = send(sv[0], big, sizeof big, 0);
	SAY("a send larger than the buffer returns a part", "%s", yes(sent > 0 && sent < (long)sizeof big));
	CHECK("the next send times out", send(sv[0], big, sizeof big, 0));
	CHECK("MSG_DONTWAIT send on a full socket", send(sv[0], "x", 1, MSG_DONTWAIT));
	unpair();

	// recv flags.
	pair();
	CHECK("MSG_DONTWAIT recv on an empty socket", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT));
	CHECK("send abc", send(sv[1], "abc", 3, 0));
	memset(buf, 0, sizeof buf);
	CHECK("MSG_PEEK 2", recv(sv[0], buf, 2, MSG_PEEK));
	SAY("  peeked", "%s", buf);
	memset(buf, 0, sizeof buf);
	CHECK("recv 5", recv(sv[0], buf, 5, 0));
	SAY("  got", "%s", buf);
	CHECK("send de", send(sv[1], "de", 2, 0));
	CHECK("set SO_RCVTIMEO 0.1 s", set_timeout(sv[0], SO_RCVTIMEO, 0, 100000));
	CHECK("MSG_WAITALL 5 with 2 there: the timeout ends it", recv(sv[0], buf, 5, MSG_WAITALL));
	CHECK("set SO_RCVLOWAT 4", set_int(sv[0], SOL_SOCKET, SO_RCVLOWAT, 4));
	get_int("SO_RCVLOWAT", sv[0], SOL_SOCKET, SO_RCVLOWAT);
	CHECK("send fg", send(sv[1], "fg", 2, 0));
	CHECK("recv 16 under SO_RCVLOWAT 4 with 2 there: the timeout ends it", recv(sv[0], buf, 16, 0));
	CHECK("set SO_RCVLOWAT 0", set_int(sv[0], SOL_SOCKET, SO_RCVLOWAT, 0));
	get_int("SO_RCVLOWAT", sv[0], SOL_SOCKET, SO_RCVLOWAT);
	close(sv[0]);
	CHECK("send to a closed peer (SIGPIPE ignored)", send(sv[1], "x", 1, 0));
	CHECK("MSG_NOSIGNAL send to a closed peer", send(sv[1], "x", 1, MSG_NOSIGNAL));
	close(sv[1]);
	signal(SIGPIPE, SIG_DFL);
	pair();
	close(sv[0]);
	CHECK("MSG_NOSIGNAL send to a closed peer, SIGPIPE default", send(sv[1], "x", 1, MSG_NOSIGNAL));
	close(sv[1]);

	// SO_PASSCRED: the receiver gets the sender's pid, real uid and real gid.
	pair();
	CHECK("set SO_PASSCRED 1", set_int(sv[1], SOL_SOCKET, SO_PASSCRED, 1));
	get_int("SO_PASSCRED", sv[1], SOL_SOCKET, SO_PASSCRED);
	CHECK("send creds", send(sv[0], "creds", 5, 0));
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	memset(&control, 0, sizeof control);
	struct iovec io = {buf, sizeof buf};
	struct msghdr msg;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &io;
	msg.msg_iovlen = 1;
	msg.msg_control = control.space;
	msg.msg_controllen = sizeof control.space;
	CHECK("recvmsg", recvmsg(sv[1], &msg, 0));
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	SAY("  controllen, flags", "%zu %#x", (size_t)msg.msg_controllen, msg.msg_flags);
	if (c) {
		struct ucred got;
		memcpy(&got, CMSG_DATA(c), sizeof got);
		SAY("  cmsg level, type, len", "%d %d %zu", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
		SAY("  pid is ours, uid, gid", "%s %u %u", yes(got.pid == getpid()), got.uid, got.gid);
	} else {
		SAY("  cmsg", "none");
	}
	CHECK("send again", send(sv[0], "again", 5, 0));
	msg.msg_control = NULL;
	msg.msg_controllen = 0;
	msg.msg_flags = 0;
	CHECK("recvmsg without room for the credentials", recvmsg(sv[1], &msg, 0));
	SAY("  controllen, flags", "%zu %#x", (size_t)msg.msg_controllen, msg.msg_flags);
	CHECK("send without SO_PASSCRED on the receiver", send(sv[1], "back", 4, 0));
	msg.msg_control = control.space;
	msg.msg_controllen = sizeof control.space;
	msg.msg_flags = 0;
	CHECK("recvmsg", recvmsg(sv[0], &msg, 0));
	SAY("  controllen, flags", "%zu %#x", (size_t)msg.msg_controllen, msg.msg_flags);
	unpair();

	scratch_leave("unix_sockets");
	return 0;
}
