// SPDX-License-Identifier: MIT
// IPv4 socket options that must be kept and read back: IP_TOS (TCP keeps its ECN bits),
// IP_TTL (range), IP_RECVERR, TCP performance hints (TCP_CORK, TCP_FASTOPEN), the short
// buffers Linux answers with one byte, and ENOPROTOOPT for unknown ones. No traffic.
#include "posix_common.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void get_int(const char *label, int fd, int level, int name)
{
	int v = -12345;
	socklen_t len = sizeof v;
	errno = 0;
	if (getsockopt(fd, level, name, &v, &len) != 0)
		SAY(label, "-1 %s", errno_name(errno));
	else
		SAY(label, "%d (len %u)", v, (unsigned)len);
}

static int set_int(int fd, int level, int name, int v) { return setsockopt(fd, level, name, &v, sizeof v); }

static void ip_checks(const char *kind, int fd)
{
	char label[96];
#define L(text) (snprintf(label, sizeof label, "%s %s", kind, text), label)
	get_int(L("IP_TOS default"), fd, IPPROTO_IP, IP_TOS);
	CHECK(L("set IP_TOS 0x13"), set_int(fd, IPPROTO_IP, IP_TOS, 0x13));
	get_int(L("IP_TOS"), fd, IPPROTO_IP, IP_TOS);
	unsigned char one = 0x28;
	CHECK(L("set IP_TOS one byte 0x28"), setsockopt(fd, IPPROTO_IP, IP_TOS, &one, 1));
	get_int(L("IP_TOS"), fd, IPPROTO_IP, IP_TOS);
	unsigned char got = 0;
	socklen_t len = 1;
	CHECK(L("get IP_TOS into one byte"), getsockopt(fd, IPPROTO_IP, IP_TOS, &got, &len));
	SAY(L("  byte, len"), "%#x %u", got, (unsigned)len);
	CHECK(L("set IP_TTL 32"), set_int(fd, IPPROTO_IP, IP_TTL, 32));
	get_int(L("IP_TTL"), fd, IPPROTO_IP, IP_TTL);
	CHECK(L("set IP_TTL 0"), set_int(fd, IPPROTO_IP, IP_TTL, 0));
	CHECK(L("set IP_TTL 256"), set_int(fd, IPPROTO_IP, IP_TTL, 256));
	CHECK(L("set IP_TTL -1 (default)"), set_int(fd, IPPROTO_IP, IP_TTL, -1));
	int v = 0;
	len = sizeof v;
	getsockopt(fd, IPPROTO_IP, IP_TTL, &v, &len);
	SAY(L("IP_TTL default in 1..255"), "%s", yes(v >= 1 && v <= 255));
	get_int(L("IP_RECVERR default"), fd, IPPROTO_IP, IP_RECVERR);
	CHECK(L("set IP_RECVERR 1"), set_int(fd, IPPROTO_IP, IP_RECVERR, 1));
	get_int(L("IP_RECVERR"), fd, IPPROTO_IP, IP_RECVERR);
	CHECK(L("set IP level unknown"), set_int(fd, IPPROTO_IP, 9999, 1));
	get_int(L("get IP level unknown"), fd, IPPROTO_IP, 9999);
#undef L
}

int main(void)
{
	scratch_enter("inet_options");
	int t = socket(AF_INET, SOCK_STREAM, 0);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	if (t < 0 || u < 0)
		die("socket");
	ip_checks("tcp", t);
	ip_checks("udp", u);

	get_int("TCP_CORK default", t, IPPROTO_TCP, TCP_CORK);
	CHECK("set TCP_CORK 1", set_int(t, IPPROTO_TCP, TCP_CORK, 1));
	get_int("TCP_CORK", t, IPPROTO_TCP, TCP_CORK);
	CHECK("set TCP_CORK 0", set_int(t, IPPROTO_TCP, TCP_CORK, 0));
	get_int("TCP_CORK", t, IPPROTO_TCP, TCP_CORK);
	CHECK("set TCP_FASTOPEN 5", set_int(t, IPPROTO_TCP, TCP_FASTOPEN, 5));
	get_int("TCP_FASTOPEN", t, IPPROTO_TCP, TCP_FASTOPEN);
	CHECK("set TCP_NODELAY 1", set_int(t, IPPROTO_TCP, TCP_NODELAY, 1));
	get_int("TCP_NODELAY", t, IPPROTO_TCP, TCP_NODELAY);
	CHECK("set TCP level on UDP", set_int(u, IPPROTO_TCP, TCP_NODELAY, 1));
	CHECK("set TCP level unknown", set_int(t, IPPROTO_TCP, 9999, 1));
	close(t);
	close(u);
	scratch_leave("inet_options");
	return 0;
}
