// SPDX-License-Identifier: MIT
// Host side of the network tests:
//   nettool serve-once PORT           accepts one TCP connection, replies "pong: <what it read>"
//   nettool udp HOST PORT MSG         sends MSG, waits (2 s) for the echo, checks it, prints it
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

static int die(const char* what)
{
    std::fprintf(stderr, "nettool: %s: %s\n", what, std::strerror(errno));
    return 1;
}

int main(int argc, char** argv)
{
    if (argc >= 3 && std::strcmp(argv[1], "serve-once") == 0) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in a {};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s, 1) != 0)
            return die("listen");
        std::printf("nettool: listening\n");
        std::fflush(stdout);
        int c = accept(s, nullptr, nullptr);
        if (c < 0)
            return die("accept");
        std::string got;
        char buf[4096];
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0)
            got.append(buf, static_cast<size_t>(n));
        std::string reply = "pong: " + got;
        if (write(c, reply.data(), reply.size()) != static_cast<ssize_t>(reply.size()))
            return die("write");
        close(c);
        std::printf("nettool: served '%s'\n", got.c_str());
        return 0;
    }
    if (argc >= 5 && std::strcmp(argv[1], "udp") == 0) {
        int s = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a {};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[3])));
        inet_pton(AF_INET, argv[2], &a.sin_addr);
        std::string msg = argv[4];
        // The guest may still be starting: send again until an answer comes (10 s).
        for (int attempt = 0; attempt < 20; ++attempt) {
            sendto(s, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
            pollfd p { s, POLLIN, 0 };
            if (poll(&p, 1, 500) == 1) {
                char buf[65536];
                ssize_t n = recv(s, buf, sizeof buf, 0);
                if (n < 0)
                    return die("recv");
                std::string reply(buf, static_cast<size_t>(n));
                std::printf("nettool: udp echo '%s'\n", reply.c_str());
                return reply == msg ? 0 : 1;
            }
        }
        std::fprintf(stderr, "nettool: no UDP answer\n");
        return 1;
    }
    std::fprintf(stderr, "usage: nettool serve-once PORT | udp HOST PORT MSG\n");
    return 2;
}
