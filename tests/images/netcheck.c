// SPDX-License-Identifier: MIT
// Network checks driven from the host:
//   netcheck udp-echo PORT         answers every datagram with the same bytes (forever)
//   netcheck tcp-echo PORT         echoes every connection's bytes back (forever)
//   netcheck client HOST PORT MSG  connects out, sends MSG, prints the reply, exits 0
//   netcheck loopback              a TCP server and client on 127.0.0.1 in one program
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fail(const char* what)
{
    printf("netcheck: %s: %s\n", what, strerror(errno));
    return 1;
}

static int listen_on(int type, int port)
{
    int s = socket(AF_INET, type, 0);
    if (s < 0)
        return -1;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    if (bind(s, (struct sockaddr*)&a, sizeof a) != 0)
        return -1;
    if (type == SOCK_STREAM && listen(s, 64) != 0)
        return -1;
    return s;
}

static int udp_echo(int port)
{
    int s = listen_on(SOCK_DGRAM, port);
    if (s < 0)
        return fail("udp bind");
    printf("netcheck: udp echo on port %d\n", port);
    fflush(stdout);
    for (;;) {
        char buf[65536];
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr*)&from, &len);
        if (n < 0)
            return fail("recvfrom");
        if (sendto(s, buf, (size_t)n, 0, (struct sockaddr*)&from, len) != n)
            return fail("sendto");
    }
}

static int tcp_echo(int port, int seconds)
{
    time_t end = seconds ? time(NULL) + seconds : 0;
    int accepted = 0;
    int s = listen_on(SOCK_STREAM, port);
    if (s < 0)
        return fail("tcp listen");
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = s };
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    printf("netcheck: tcp echo on port %d\n", port);
    fflush(stdout);
    for (;;) {
        struct epoll_event got[64];
        if (end && time(NULL) >= end) {
            printf("netcheck: accepted %d connections\n", accepted);
            return 0;
        }
        int n = epoll_wait(ep, got, 64, 500);
        if (n < 0 && errno != EINTR)
            return fail("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = got[i].data.fd;
            if (fd == s) {
                int c = accept4(s, NULL, NULL, SOCK_NONBLOCK);
                if (c < 0)
                    continue;
                accepted++;
                struct epoll_event cev = { .events = EPOLLIN, .data.fd = c };
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                continue;
            }
            char buf[16384];
            ssize_t r = read(fd, buf, sizeof buf);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                continue;
            }
            for (ssize_t off = 0; off < r;) {
                ssize_t w = write(fd, buf + off, (size_t)(r - off));
                if (w < 0) {
                    if (errno == EAGAIN) {
                        struct pollfd p = { fd, POLLOUT, 0 };
                        poll(&p, 1, 1000);
                        continue;
                    }
                    break;
                }
                off += w;
            }
        }
    }
}

static int client(const char* host, int port, const char* msg)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return fail("inet_pton");
    if (connect(s, (struct sockaddr*)&a, sizeof a) != 0)
        return fail("connect");
    size_t len = strlen(msg);
    if (write(s, msg, len) != (ssize_t)len)
        return fail("write");
    shutdown(s, SHUT_WR);
    char buf[4096];
    size_t got = 0;
    ssize_t n;
    while ((n = read(s, buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    printf("netcheck: reply: %s\n", buf);
    close(s);
    return 0;
}

static void* loopback_server(void* arg)
{
    int s = *(int*)arg;
    int c = accept(s, NULL, NULL);
    char buf[256];
    ssize_t n = read(c, buf, sizeof buf);
    if (n > 0)
        write(c, buf, (size_t)n);
    close(c);
    return NULL;
}

static int loopback(void)
{
    int s = listen_on(SOCK_STREAM, 7777);
    if (s < 0)
        return fail("loopback listen");
    pthread_t t;
    pthread_create(&t, NULL, loopback_server, &s);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7777) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(c, (struct sockaddr*)&a, sizeof a) != 0)
        return fail("loopback connect");
    write(c, "ping", 4);
    char buf[16] = { 0 };
    ssize_t n = read(c, buf, sizeof buf - 1);
    pthread_join(t, NULL);
    printf("netcheck: loopback reply %zd bytes: %s\n", n, buf);
    return n == 4 && strcmp(buf, "ping") == 0 ? 0 : 1;
}

int main(int argc, char** argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[1], "udp-echo") == 0)
        return udp_echo(atoi(argv[2]));
    if (argc >= 3 && strcmp(argv[1], "tcp-echo") == 0)
        return tcp_echo(atoi(argv[2]), argc >= 4 ? atoi(argv[3]) : 0);
    if (argc >= 5 && strcmp(argv[1], "client") == 0)
        return client(argv[2], atoi(argv[3]), argv[4]);
    if (argc >= 2 && strcmp(argv[1], "loopback") == 0)
        return loopback();
    fprintf(stderr, "usage: netcheck udp-echo PORT | tcp-echo PORT | client HOST PORT MSG | loopback\n");
    return 2;
}
