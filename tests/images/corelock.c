// SPDX-License-Identifier: MIT
// A thread that keeps the network stack's core lock (as a stuck thread would) while the host
// asks for a state dump (tests/boot/control.sh): the dump must still come, name the holder
// and list the PCBs. Listens on TCP port 7 on loopback so there is a PCB to list.
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// lwIP's core lock (lwip/tcpip.h: LOCK_TCPIP_CORE) and the port's mutex calls (sys_arch.cpp).
struct atoll_sys_mutex;
extern struct atoll_sys_mutex* lock_tcpip_core;
void sys_mutex_lock(struct atoll_sys_mutex** mutex);
void sys_mutex_unlock(struct atoll_sys_mutex** mutex);

int main(int argc, char** argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 5;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(7);
    if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof(a)) != 0 || listen(fd, 4) != 0) {
        perror("corelock: listen");
        return 1;
    }
    sys_mutex_lock(&lock_tcpip_core);
    printf("corelock: holding the core lock for %d s\n", seconds);
    fflush(stdout);
    struct timespec t = { seconds, 0 };
    nanosleep(&t, NULL);
    sys_mutex_unlock(&lock_tcpip_core);
    printf("corelock: released\n");
    close(fd);
    return 0;
}
