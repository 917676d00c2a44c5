// SPDX-License-Identifier: MIT
// atoll-httpd: a static-file HTTP/1.1 server. The same sources build an Atoll image and a
// Linux program (see ../CMakeLists.txt).
#include "server.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

void usage(std::FILE* out)
{
    std::fputs("usage: httpd [--listen PORT] [--root DIR] [--max-connections N] [--idle-timeout SECONDS]\n"
               "             [--no-access-log] [--no-sendfile]\n"
               "  --listen PORT          TCP port (default 80; 0 picks a free one)\n"
               "  --root DIR             document root (default /www)\n"
               "  --max-connections N    open connections at most; beyond, new ones wait (default 1024)\n"
               "  --idle-timeout SECONDS close connections idle this long (default 60)\n"
               "  --no-access-log        no 'METHOD PATH STATUS BYTES' line per request\n"
               "  --no-sendfile          send files with pread + send (to compare; the fallback anyway\n"
               "                         where sendfile to a socket fails)\n",
        out);
}

bool parse_number(std::string_view text, unsigned long long min, unsigned long long max, unsigned long long& out)
{
    if (text.empty() || text.size() > 19)
        return false;
    unsigned long long n = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        n = n * 10 + static_cast<unsigned long long>(c - '0');
    }
    if (n < min || n > max)
        return false;
    out = n;
    return true;
}

} // namespace

int main(int argc, char** argv)
{
    httpd::Config config;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        std::string_view value;
        bool has_value = false;
        // "--name VALUE" and "--name=VALUE"
        if (std::size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_value = true;
        }
        auto need_value = [&]() -> bool {
            if (has_value)
                return true;
            if (i + 1 >= argc)
                return false;
            value = argv[++i];
            return true;
        };
        auto bad = [&](const char* what) {
            std::fprintf(stderr, "httpd: %s\n", what);
            usage(stderr);
            return 2;
        };
        unsigned long long n = 0;
        if (arg == "--listen") {
            if (!need_value() || !parse_number(value, 0, 65535, n))
                return bad("--listen needs a port number (0-65535)");
            config.port = static_cast<std::uint16_t>(n);
        } else if (arg == "--root") {
            if (!need_value() || value.empty())
                return bad("--root needs a directory");
            config.root = std::string(value);
        } else if (arg == "--max-connections") {
            if (!need_value() || !parse_number(value, 1, 1000000, n))
                return bad("--max-connections needs a number (1-1000000)");
            config.max_connections = static_cast<std::size_t>(n);
        } else if (arg == "--idle-timeout") {
            if (!need_value() || !parse_number(value, 1, 86400, n))
                return bad("--idle-timeout needs a number of seconds (1-86400)");
            config.idle_timeout_seconds = static_cast<int>(n);
        } else if (arg == "--no-access-log" && !has_value) {
            config.access_log = false;
        } else if (arg == "--no-sendfile" && !has_value) {
            config.use_sendfile = false;
        } else if ((arg == "--help" || arg == "-h") && !has_value) {
            usage(stdout);
            return 0;
        } else {
            std::fprintf(stderr, "httpd: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    std::string error;
    auto server = httpd::Server::create(config, error);
    if (!server) {
        std::fprintf(stderr, "httpd: %s\n", error.c_str());
        return 1;
    }
    std::printf("httpd: listening on port %u, root %s\n", static_cast<unsigned>(server->port()), config.root.c_str());
    std::fflush(stdout);
    return server->run();
}
