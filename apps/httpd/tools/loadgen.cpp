// SPDX-License-Identifier: MIT
// loadgen: a small epoll HTTP/1.1 load generator for benchmarking httpd (on Linux or in Atoll).
//
//   loadgen --port P [--host 127.0.0.1] [--path /] [--requests N | --total T] [--concurrency C]
//           [--pipeline D] [--new-connection] [--method GET|HEAD] [--expect-status 200]
//           [--timeout SECONDS] [--progress SECONDS] [--quiet]
//
// C connections (default 1) each make N requests (default 1000) over keep-alive, with up to D
// requests in flight per connection (default 1: one request, wait for its response, the next).
// --total T makes T requests in all instead, shared out between the C connections (the first
// T mod C make one more). --new-connection opens a connection per request ("Connection:
// close"). Every response must carry Content-Length and the expected status. Prints requests/s
// and latency percentiles (from a request's first byte sent to its response's last byte
// received), then those of the time connections took to be established (connect() to
// writable); exits 1 when any request failed. --progress S adds a line on stderr
// every S seconds (requests done, errors, the rate over the last S seconds), so that a long run
// shows a stall while it happens.
#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/";
    std::string method = "GET";
    long requests = 1000;
    long total = 0; // --total: requests over all connections (0: requests per connection)
    int concurrency = 1;
    int pipeline = 1;
    bool new_connection = false;
    int expect_status = 200;
    double timeout = 60;
    double progress = 0;
    bool quiet = false;
};

struct Client {
    int fd = -1;
    bool connecting = false;
    bool finished = false;
    long quota = 0; // requests this client makes
    long sent = 0; // requests written, over all of this client's connections
    long done = 0; // responses completed
    long conn_sent = 0;
    std::string out;
    std::size_t out_off = 0;
    std::string in;
    bool in_body = false;
    std::uint64_t body_left = 0;
    int status = 0;
    bool server_closes = false;
    std::deque<Clock::time_point> started; // send time of each request in flight
    Clock::time_point connect_started;
};

Options g_opt;
std::string g_request;
sockaddr_in g_addr {};
int g_epoll = -1;
long g_ok = 0, g_failed = 0;
std::uint64_t g_body_bytes = 0;
int g_reported = 0;
std::vector<std::uint32_t> g_latency_us;
std::vector<std::uint32_t> g_connect_us; // connect() to established, per connection

void report_error(const Client& c, const char* what)
{
    if (g_reported++ < 10)
        std::fprintf(stderr, "loadgen: connection %d: %s (after %ld responses)\n", c.fd, what, c.done);
}

void set_events(Client& c, std::uint32_t events)
{
    epoll_event ev {};
    ev.events = events;
    ev.data.ptr = &c;
    epoll_ctl(g_epoll, EPOLL_CTL_MOD, c.fd, &ev);
}

void close_fd(Client& c)
{
    if (c.fd >= 0) {
        epoll_ctl(g_epoll, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        c.fd = -1;
    }
    c.in.clear();
    c.out.clear();
    c.out_off = 0;
    c.in_body = false;
    c.started.clear();
}

// Gives up on a client: what it has not completed counts as failed.
void fail(Client& c, const char* what)
{
    report_error(c, what);
    g_failed += c.quota - c.done;
    c.finished = true;
    close_fd(c);
}

bool open_connection(Client& c)
{
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0)
        return false;
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.conn_sent = 0;
    c.server_closes = false;
    c.connect_started = Clock::now();
    int r = connect(c.fd, reinterpret_cast<sockaddr*>(&g_addr), sizeof g_addr);
    c.connecting = r != 0;
    if (r != 0 && errno != EINPROGRESS) {
        close(c.fd);
        c.fd = -1;
        return false;
    }
    epoll_event ev {};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(g_epoll, EPOLL_CTL_ADD, c.fd, &ev);
    return true;
}

// Queues requests up to the pipeline depth and writes what the socket takes.
bool pump(Client& c)
{
    if (!c.connecting) {
        long per_conn_cap = g_opt.new_connection ? 1 : c.quota;
        while (c.sent - c.done < g_opt.pipeline && c.sent < c.quota && c.conn_sent < per_conn_cap) {
            c.out.append(g_request);
            c.started.push_back(Clock::now());
            ++c.sent;
            ++c.conn_sent;
        }
        while (c.out_off < c.out.size()) {
            ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                if (errno == EINTR)
                    continue;
                return false;
            }
            c.out_off += static_cast<std::size_t>(n);
        }
        if (c.out_off == c.out.size()) {
            c.out.clear();
            c.out_off = 0;
        }
    }
    set_events(c, EPOLLIN | (c.connecting || !c.out.empty() ? std::uint32_t(EPOLLOUT) : 0u));
    return true;
}

bool iequal_prefix(std::string_view line, std::string_view name)
{
    if (line.size() < name.size())
        return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(line[i])) != name[i])
            return false;
    return true;
}

// Consumes complete responses from c.in. False on a malformed response.
bool parse_responses(Client& c, bool& connection_done)
{
    std::size_t pos = 0;
    connection_done = false;
    while (pos < c.in.size() || (c.in_body && c.body_left == 0)) {
        if (!c.in_body) {
            std::size_t end = c.in.find("\r\n\r\n", pos);
            if (end == std::string::npos) {
                if (c.in.size() - pos > 64 * 1024)
                    return false;
                break;
            }
            std::string_view head(c.in.data() + pos, end + 2 - pos);
            if (head.size() < 12 || head.substr(0, 7) != "HTTP/1.")
                return false;
            c.status = std::atoi(std::string(head.substr(9, 3)).c_str());
            bool have_length = false;
            c.body_left = 0;
            std::size_t line_start = head.find("\r\n") + 2;
            while (line_start < head.size()) {
                std::size_t eol = head.find("\r\n", line_start);
                std::string_view line = head.substr(line_start, eol - line_start);
                if (iequal_prefix(line, "content-length:")) {
                    c.body_left = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
                    have_length = true;
                } else if (iequal_prefix(line, "connection:") && line.find("close") != std::string_view::npos) {
                    c.server_closes = true;
                }
                line_start = eol + 2;
            }
            if (!have_length)
                return false;
            if (g_opt.method == "HEAD")
                c.body_left = 0;
            c.in_body = true;
            pos = end + 4;
        }
        auto take = static_cast<std::size_t>(std::min<std::uint64_t>(c.body_left, c.in.size() - pos));
        pos += take;
        c.body_left -= take;
        g_body_bytes += take;
        if (c.body_left > 0)
            break;
        // A complete response.
        c.in_body = false;
        ++c.done;
        if (!c.started.empty()) {
            auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c.started.front()).count();
            g_latency_us.push_back(static_cast<std::uint32_t>(std::min<long long>(us, UINT32_MAX)));
            c.started.pop_front();
        }
        if (c.status == g_opt.expect_status) {
            ++g_ok;
        } else {
            ++g_failed;
            char what[64];
            std::snprintf(what, sizeof what, "status %d, expected %d", c.status, g_opt.expect_status);
            report_error(c, what);
        }
        if (c.server_closes || g_opt.new_connection) {
            connection_done = true;
            break;
        }
    }
    c.in.erase(0, pos);
    return true;
}

void on_event(Client& c, std::uint32_t events)
{
    if (c.connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            fail(c, std::strerror(err));
            return;
        }
        if (!(events & (EPOLLOUT | EPOLLIN)))
            return;
        c.connecting = false;
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c.connect_started).count();
        g_connect_us.push_back(static_cast<std::uint32_t>(std::min<long long>(us, UINT32_MAX)));
    }
    if (events & EPOLLIN) {
        char buf[64 * 1024];
        ssize_t n = recv(c.fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            fail(c, n == 0 ? "connection closed by server before all responses" : std::strerror(errno));
            return;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        bool connection_done = false;
        if (!parse_responses(c, connection_done)) {
            fail(c, "malformed response");
            return;
        }
        if (c.done >= c.quota) {
            c.finished = true;
            close_fd(c);
            return;
        }
        if (connection_done) {
            if (c.sent > c.done) {
                fail(c, "server closed the connection with requests in flight");
                return;
            }
            close_fd(c);
            if (!open_connection(c)) {
                fail(c, "connect failed");
                return;
            }
            return;
        }
    } else if (events & (EPOLLERR | EPOLLHUP)) {
        fail(c, "connection error");
        return;
    }
    if (!pump(c))
        fail(c, "send failed");
}

void usage()
{
    std::fputs("usage: loadgen --port PORT [--host ADDR] [--path PATH] [--requests N] [--concurrency C]\n"
               "               [--pipeline D] [--new-connection] [--method GET|HEAD] [--expect-status CODE]\n"
               "               [--total T] [--timeout SECONDS] [--progress SECONDS] [--quiet]\n",
        stderr);
}

} // namespace

int main(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                usage();
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--host")
            g_opt.host = value();
        else if (a == "--port")
            g_opt.port = std::atoi(value());
        else if (a == "--path")
            g_opt.path = value();
        else if (a == "--method")
            g_opt.method = value();
        else if (a == "--requests")
            g_opt.requests = std::atol(value());
        else if (a == "--total")
            g_opt.total = std::atol(value());
        else if (a == "--progress")
            g_opt.progress = std::atof(value());
        else if (a == "--concurrency")
            g_opt.concurrency = std::atoi(value());
        else if (a == "--pipeline")
            g_opt.pipeline = std::atoi(value());
        else if (a == "--new-connection")
            g_opt.new_connection = true;
        else if (a == "--expect-status")
            g_opt.expect_status = std::atoi(value());
        else if (a == "--timeout")
            g_opt.timeout = std::atof(value());
        else if (a == "--quiet")
            g_opt.quiet = true;
        else {
            usage();
            return 2;
        }
    }
    if (g_opt.port <= 0 || g_opt.port > 65535 || g_opt.requests < 1 || g_opt.total < 0 || g_opt.concurrency < 1
        || g_opt.pipeline < 1 || g_opt.progress < 0) {
        usage();
        return 2;
    }
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons(static_cast<std::uint16_t>(g_opt.port));
    if (inet_pton(AF_INET, g_opt.host.c_str(), &g_addr.sin_addr) != 1) {
        std::fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
        return 2;
    }
    g_request = g_opt.method + " " + g_opt.path + " HTTP/1.1\r\nHost: " + g_opt.host + ":" + std::to_string(g_opt.port)
        + "\r\nUser-Agent: atoll-loadgen\r\n" + (g_opt.new_connection ? "Connection: close\r\n" : "") + "\r\n";
    std::vector<Client> clients(static_cast<std::size_t>(g_opt.concurrency));
    long total = 0;
    for (std::size_t i = 0; i < clients.size(); ++i) {
        Client& c = clients[i];
        c.quota = g_opt.total == 0 ? g_opt.requests
                                   : g_opt.total / g_opt.concurrency + (static_cast<long>(i) < g_opt.total % g_opt.concurrency);
        total += c.quota;
    }
    g_latency_us.reserve(static_cast<std::size_t>(std::min<long>(total, 10'000'000)));

    g_epoll = epoll_create1(EPOLL_CLOEXEC);
    auto start = Clock::now();
    auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(g_opt.timeout));
    auto progress_every = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(g_opt.progress));
    auto next_progress = start + progress_every;
    long progress_ok = 0;
    for (Client& c : clients) {
        if (c.quota == 0)
            c.finished = true; // --total below --concurrency: nothing for this one to do
        else if (!open_connection(c))
            fail(c, "connect failed");
    }

    std::vector<epoll_event> events(256);
    for (;;) {
        bool all_done = std::all_of(clients.begin(), clients.end(), [](const Client& c) { return c.finished; });
        if (all_done)
            break;
        if (Clock::now() >= deadline) {
            for (Client& c : clients)
                if (!c.finished)
                    fail(c, "timeout");
            break;
        }
        if (g_opt.progress > 0 && Clock::now() >= next_progress) {
            double at = std::chrono::duration<double>(Clock::now() - start).count();
            std::fprintf(stderr, "loadgen: progress %.1f s: %ld ok, %ld errors, %.0f requests/s in the last %g s\n", at,
                g_ok, g_failed, (g_ok - progress_ok) / g_opt.progress, g_opt.progress);
            progress_ok = g_ok;
            next_progress += progress_every;
        }
        int n = epoll_wait(g_epoll, events.data(), static_cast<int>(events.size()), 100);
        for (int i = 0; i < n; ++i) {
            auto* c = static_cast<Client*>(events[i].data.ptr);
            if (!c->finished && c->fd >= 0)
                on_event(*c, events[i].events);
        }
    }
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(g_latency_us.begin(), g_latency_us.end());
    std::sort(g_connect_us.begin(), g_connect_us.end());
    auto pct_of = [](const std::vector<std::uint32_t>& v, double p) -> double {
        if (v.empty())
            return 0;
        std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()));
        return v[i] / 1000.0;
    };
    auto pct = [&](double p) { return pct_of(g_latency_us, p); };
    auto cpct = [&](double p) { return pct_of(g_connect_us, p); };
    std::printf("loadgen: %ld/%ld ok, %ld errors, %d connections%s, pipeline %d, %.3f s, %.0f requests/s, "
                "%.1f MiB/s body, latency ms p50 %.3f p99 %.3f max %.3f; %zu connects, ms p50 %.3f p99 %.3f max %.3f\n",
        g_ok, total, g_failed, g_opt.concurrency, g_opt.new_connection ? " (new per request)" : " keep-alive",
        g_opt.pipeline, secs, g_ok / secs, g_body_bytes / secs / (1024.0 * 1024.0), pct(0.5), pct(0.99), pct(1.0),
        g_connect_us.size(), cpct(0.5), cpct(0.99), cpct(1.0));
    return (g_failed == 0 && g_ok == total) ? 0 : 1;
}
