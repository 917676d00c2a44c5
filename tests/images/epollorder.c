// SPDX-License-Identifier: MIT
// Data that arrives on several connections is reported by epoll_wait in arrival order, also
// when the connections were reported before (level-triggered items stay on the ready list
// after a report). A server that handles requests in epoll's order depends on it (Redis's
// tests do). Loopback TCP inside the guest: each round writes one byte to every connection
// in a shuffled order, waits until all are readable (poll, which leaves epoll alone), and
// expects one epoll_wait to list them in that order.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { k_conns = 8, k_rounds = 40 };

static unsigned s_seed = 12345;
static unsigned next_random(void)
{
    s_seed = s_seed * 1103515245u + 12345u;
    return s_seed >> 16;
}

static void die(const char* what)
{
    perror(what);
    exit(2);
}

int main(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0)
        die("socket");
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    if (bind(lfd, (struct sockaddr*)&a, sizeof(a)) || listen(lfd, k_conns) || getsockname(lfd, (struct sockaddr*)&a, &alen))
        die("listen");
    int client[k_conns], server[k_conns];
    int ep = epoll_create1(0);
    if (ep < 0)
        die("epoll_create1");
    for (int i = 0; i < k_conns; ++i) {
        client[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (client[i] < 0 || connect(client[i], (struct sockaddr*)&a, sizeof(a)))
            die("connect");
        int one = 1;
        setsockopt(client[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        server[i] = accept(lfd, NULL, NULL);
        if (server[i] < 0)
            die("accept");
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (unsigned)i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, server[i], &ev))
            die("epoll_ctl");
    }
    int misordered = 0, incomplete = 0;
    for (int round = 0; round < k_rounds; ++round) {
        int order[k_conns];
        for (int i = 0; i < k_conns; ++i)
            order[i] = i;
        for (int i = k_conns - 1; i > 0; --i) {
            int j = (int)(next_random() % (unsigned)(i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < k_conns; ++i) {
            if (write(client[order[i]], "x", 1) != 1)
                die("write");
            usleep(200); // segments apart in time, as from separate clients
        }
        struct pollfd pfd[k_conns];
        for (int i = 0; i < k_conns; ++i)
            pfd[i] = (struct pollfd) { .fd = server[i], .events = POLLIN };
        for (int tries = 0; tries < 100; ++tries) {
            int ready = 0;
            if (poll(pfd, k_conns, 100) < 0)
                die("poll");
            for (int i = 0; i < k_conns; ++i)
                ready += (pfd[i].revents & POLLIN) != 0;
            if (ready == k_conns)
                break;
        }
        struct epoll_event ev[k_conns * 2];
        int n = epoll_wait(ep, ev, k_conns * 2, 1000);
        if (n != k_conns) {
            printf("round %d: epoll_wait returned %d of %d\n", round, n, k_conns);
            ++incomplete;
        }
        int wrong = 0;
        for (int i = 0; i < n && i < k_conns; ++i)
            wrong |= (int)ev[i].data.u32 != order[i];
        if (wrong) {
            ++misordered;
            printf("round %d: sent to", round);
            for (int i = 0; i < k_conns; ++i)
                printf(" %d", order[i]);
            printf(", epoll reported");
            for (int i = 0; i < n; ++i)
                printf(" %u", ev[i].data.u32);
            printf("\n");
        }
        char c;
        for (int i = 0; i < k_conns; ++i) {
            if (read(server[i], &c, 1) != 1)
                die("read");
        }
    }
    printf("epoll order: %d rounds, %d out of arrival order, %d incomplete\n", k_rounds, misordered, incomplete);
    return misordered || incomplete ? 1 : 0;
}
