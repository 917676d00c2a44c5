// SPDX-License-Identifier: MIT
//
// Design notes.
//
// Level-triggered epoll. Each connection is interested in exactly one direction at a time:
// EPOLLIN while it waits for a request, EPOLLOUT while a response is pending. Not reading
// while a response is blocked is the back-pressure: a client that pipelines requests but
// does not read the answers cannot make the server buffer without bound. Level-triggered
// also means a handler may stop early (one read per wakeup, a write budget per wakeup for
// fairness between connections) and is simply called again, where edge-triggered would
// require draining every socket to EAGAIN and remembering to come back; and it is the
// simplest semantics for Atoll's own epoll to get right.
//
// Connection limit: at --max-connections the listening socket leaves the epoll set, so new
// clients wait in the kernel's listen backlog (and beyond it, SYN retries) until a connection
// closes, instead of being accepted and dropped. A benchmark with more clients than the limit
// sees queueing, not errors. The same pause covers EMFILE/ENFILE.
//
// Closing: after a response with "Connection: close" (an error, HTTP/1.0, or the client asked)
// the server shuts down its sending side and keeps reading and dropping input for up to
// k_linger, until the client closes: closing a socket with unread input makes the kernel send
// RST, which can destroy the response before the client reads it (RFC 9112 §9.6). This is what
// lets a client that sent a 1 MiB request line read its 413.
//
// Timeouts: a connection is closed after --idle-timeout seconds without progress in either
// direction, or when a request head has been arriving for that long (slow-header clients). A
// sweep once a second checks them; epoll_wait never sleeps longer than a second.
//
// Request bodies: a Content-Length body is read and dropped (413 above Limits::max_body); a
// chunked body gets 411 (parser), and the connection is closed.
#include "server.h"

#include "files.h"
#include "sysinfo.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

namespace httpd {

namespace {

constexpr std::size_t k_read_chunk = 16 * 1024;
constexpr std::size_t k_out_batch = 64 * 1024;      // pipelined responses queued before a flush
constexpr std::uint64_t k_small_file = 32 * 1024;   // copied into the response buffer (one send)
constexpr std::size_t k_file_chunk = 64 * 1024;     // pread/send fallback when sendfile cannot
constexpr std::uint64_t k_write_budget = 4u << 20;  // bytes per connection per wakeup (fairness)
constexpr std::size_t k_keep_capacity = 64 * 1024;  // larger idle buffers are released
constexpr std::size_t k_log_flush = 64 * 1024;
constexpr auto k_linger = std::chrono::seconds(5);
constexpr int k_max_events = 256;
constexpr int k_wait_ms = 1000;

volatile std::sig_atomic_t s_stop = 0;

void on_stop_signal(int) { s_stop = 1; }

std::string_view reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void append_number(std::string& s, std::uint64_t n)
{
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    (void)ec;
    s.append(buf, end);
}

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

} // namespace

struct Server::Connection {
    enum class State : std::uint8_t { Reading, Writing, Lingering };

    explicit Connection(const Limits& limits)
        : parser(limits)
    {
    }

    [[nodiscard]] bool has_output() const { return out_sent < out.size() || file_fd >= 0; }

    int fd = -1;
    State state = State::Reading;
    std::uint32_t events = 0; // the current epoll interest
    bool close_after = false; // the queued response is the last one
    bool head_pending = false;
    RequestParser parser;
    std::uint64_t discard = 0; // request body bytes still to drop
    std::string in;            // unconsumed input, starting at a request (or body) boundary
    std::string out;           // response bytes; out_sent of them already sent
    std::size_t out_sent = 0;
    int file_fd = -1; // a file body still to send after `out`
    off_t file_offset = 0;
    off_t file_end = 0;
    Clock::time_point last_activity;
    Clock::time_point head_started;
    Clock::time_point linger_deadline;
    std::list<Connection>::iterator self;
};

Server::Server(const Config& config)
    : m_config(config)
    , m_sendfile_ok(config.use_sendfile)
{
}

Server::~Server()
{
    for (Connection& c : m_connections) {
        close(c.fd);
        if (c.file_fd >= 0)
            close(c.file_fd);
    }
    if (m_epoll_fd >= 0)
        close(m_epoll_fd);
    if (m_listen_fd >= 0)
        close(m_listen_fd);
    if (m_root_fd >= 0)
        close(m_root_fd);
}

std::unique_ptr<Server> Server::create(const Config& config, std::string& error)
{
    auto fail = [&error](std::string what) {
        error = std::move(what);
        error += ": ";
        error += std::strerror(errno);
        return nullptr;
    };
    std::unique_ptr<Server> s(new Server(config));
    s->m_read_buffer = std::make_unique<char[]>(k_read_chunk);

    s->m_root_fd = open(config.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->m_root_fd < 0)
        return fail("cannot open document root " + config.root);

    // Each connection may hold a socket and a file: make sure the descriptor limit allows it.
    rlimit nofile {};
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        rlim_t want = static_cast<rlim_t>(config.max_connections) * 2 + 64;
        if (nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur < want) {
            nofile.rlim_cur = (nofile.rlim_max == RLIM_INFINITY) ? want : std::min(want, nofile.rlim_max);
            (void)setrlimit(RLIMIT_NOFILE, &nofile);
        }
    }

    s->m_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->m_listen_fd < 0)
        return fail("socket");
    int one = 1;
    if (setsockopt(s->m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        return fail("setsockopt(SO_REUSEADDR)");
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(config.port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(s->m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return fail("bind to port " + std::to_string(config.port));
    if (listen(s->m_listen_fd, SOMAXCONN) != 0)
        return fail("listen");
    socklen_t len = sizeof addr;
    if (getsockname(s->m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return fail("getsockname");
    s->m_port = ntohs(addr.sin_port);

    s->m_epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (s->m_epoll_fd < 0)
        return fail("epoll_create1");
    s->update_clock();
    s->m_start = s->m_last_sweep = s->m_now;
    s->resume_listener();
    if (!s->m_listening)
        return fail("epoll_ctl(listening socket)");
    return s;
}

int Server::run()
{
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN; // a client that goes away mid-response must not kill the server
    sigaction(SIGPIPE, &sa, nullptr);
    sa.sa_handler = on_stop_signal; // no SA_RESTART: epoll_wait returns EINTR
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    epoll_event events[k_max_events];
    while (!s_stop) {
        flush_log();
        int n = epoll_wait(m_epoll_fd, events, k_max_events, k_wait_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            std::fprintf(stderr, "httpd: epoll_wait: %s\n", std::strerror(errno));
            return 1;
        }
        update_clock();
        for (int i = 0; i < n; ++i) {
            auto* c = static_cast<Connection*>(events[i].data.ptr);
            if (c)
                handle_event(*c, events[i].events);
            else
                accept_connections();
        }
        if (m_now - m_last_sweep >= std::chrono::seconds(1)) {
            m_last_sweep = m_now;
            sweep();
        }
    }
    flush_log();
    std::printf("httpd: stopping\n");
    std::fflush(stdout);
    return 0;
}

void Server::update_clock()
{
    m_now = Clock::now();
    std::time_t t = std::time(nullptr);
    if (t != m_date_second) {
        m_date_second = t;
        std::tm tm {};
        gmtime_r(&t, &tm);
        std::strftime(m_date, sizeof m_date, "%a, %d %b %Y %H:%M:%S GMT", &tm); // RFC 9110 §5.6.7
    }
}

void Server::pause_listener()
{
    if (m_listening && epoll_ctl(m_epoll_fd, EPOLL_CTL_DEL, m_listen_fd, nullptr) == 0)
        m_listening = false;
}

void Server::resume_listener()
{
    if (m_listening || m_connections.size() >= m_config.max_connections)
        return;
    epoll_event ev {};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr; // the listener; connections carry their Connection*
    if (epoll_ctl(m_epoll_fd, EPOLL_CTL_ADD, m_listen_fd, &ev) == 0)
        m_listening = true;
}

void Server::accept_connections()
{
    while (m_connections.size() < m_config.max_connections) {
        int fd = accept4(m_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EINTR || err == ECONNABORTED || err == EPROTO)
                continue;
            if (would_block(err))
                return;
            // EMFILE, ENFILE, ENOBUFS, ENOMEM: a listener that stays readable would spin; wait
            // for a connection to close or the next sweep.
            std::fprintf(stderr, "httpd: accept: %s (pausing new connections)\n", std::strerror(err));
            pause_listener();
            return;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        Connection& c = m_connections.emplace_back(m_config.limits);
        c.self = std::prev(m_connections.end());
        c.fd = fd;
        c.last_activity = m_now;
        epoll_event ev {};
        ev.events = EPOLLIN;
        ev.data.ptr = &c;
        if (epoll_ctl(m_epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            std::fprintf(stderr, "httpd: epoll_ctl(add): %s\n", std::strerror(errno));
            close(fd);
            m_connections.pop_back();
            continue;
        }
        c.events = EPOLLIN;
    }
    pause_listener();
}

void Server::set_interest(Connection& c, std::uint32_t events)
{
    if (c.events == events)
        return;
    epoll_event ev {};
    ev.events = events;
    ev.data.ptr = &c;
    if (epoll_ctl(m_epoll_fd, EPOLL_CTL_MOD, c.fd, &ev) == 0)
        c.events = events;
}

void Server::handle_event(Connection& c, std::uint32_t events)
{
    if (events & EPOLLERR) {
        close_connection(c);
        return;
    }
    // EPOLLHUP needs no case of its own: the read (0) or the send (EPIPE) that follows fails.
    switch (c.state) {
    case Connection::State::Reading:
        on_readable(c);
        break;
    case Connection::State::Writing:
        drive(c);
        break;
    case Connection::State::Lingering:
        drain_linger(c);
        break;
    }
}

void Server::on_readable(Connection& c)
{
    ssize_t n = recv(c.fd, m_read_buffer.get(), k_read_chunk, 0);
    if (n < 0 && (would_block(errno) || errno == EINTR))
        return;
    if (n <= 0) { // EOF or error: whatever was half received is dropped
        close_connection(c);
        return;
    }
    c.in.append(m_read_buffer.get(), static_cast<std::size_t>(n));
    c.last_activity = m_now;
    drive(c);
}

// Answers what the input holds, writes, and repeats while writing completes and pipelined
// input remains; leaves the connection waiting for the direction it needs next.
void Server::drive(Connection& c)
{
    for (;;) {
        if (c.state == Connection::State::Reading) {
            process_input(c);
            if (!c.has_output()) {
                set_interest(c, EPOLLIN);
                return;
            }
            c.state = Connection::State::Writing;
        }
        switch (write_some(c)) {
        case WriteResult::Failed:
            close_connection(c);
            return;
        case WriteResult::Blocked:
            set_interest(c, EPOLLOUT);
            return;
        case WriteResult::Done:
            break;
        }
        if (c.close_after) {
            start_linger(c);
            return;
        }
        c.state = Connection::State::Reading;
        if (c.in.empty()) {
            set_interest(c, EPOLLIN);
            return;
        }
    }
}

void Server::process_input(Connection& c)
{
    std::size_t pos = 0;
    while (!c.close_after) {
        if (c.discard > 0) {
            auto take = static_cast<std::size_t>(std::min<std::uint64_t>(c.discard, c.in.size() - pos));
            pos += take;
            c.discard -= take;
            if (c.discard > 0)
                break;
        }
        // Several requests in one read are answered in order; a file body or a full batch is
        // flushed before the next request is looked at.
        if (pos == c.in.size() || c.file_fd >= 0 || c.out.size() >= k_out_batch)
            break;
        ParseResult r = c.parser.parse(std::string_view(c.in).substr(pos));
        if (r.status == ParseStatus::Incomplete)
            break;
        if (r.status == ParseStatus::Error) {
            c.close_after = true;
            std::string body = std::to_string(r.error_status) + " " + std::string(reason(r.error_status)) + "\n";
            respond(c, nullptr, r.error_status, "text/plain; charset=utf-8", body);
            break;
        }
        handle_request(c, r.request); // r.request views c.in: it is not changed until below
        pos += r.consumed;
        c.parser.reset();
        c.discard = r.request.content_length;
    }
    if (c.close_after) {
        c.in.clear(); // nothing after the last response is read
        c.discard = 0;
    } else {
        c.in.erase(0, pos);
    }
    if (c.in.empty() && c.in.capacity() > k_keep_capacity)
        std::string().swap(c.in);

    bool pending = !c.in.empty() && c.discard == 0;
    if (pending && !c.head_pending)
        c.head_started = m_now;
    c.head_pending = pending;
}

void Server::handle_request(Connection& c, const Request& req)
{
    ++m_requests;
    // Expect: 100-continue with a body: the final answer goes out at once (RFC 9110 §10.1.1)
    // and the connection closes, rather than wait for a body the client may never send.
    if (!req.keep_alive || (req.expect_continue && req.content_length > 0))
        c.close_after = true;

    if (req.method == Method::Other) {
        respond(c, &req, 405, "text/plain; charset=utf-8", "405 Method Not Allowed\n", "Allow: GET, HEAD\r\n");
        return;
    }
    TargetPath target = decode_target(req.target);
    if (target.status != 0) {
        respond(c, &req, target.status, "text/plain; charset=utf-8", "400 Bad Request\n");
        return;
    }
    if (target.raw_path == "/healthz") {
        respond(c, &req, 200, "text/plain; charset=utf-8", "ok\n", "Cache-Control: no-store\r\n");
        return;
    }
    if (target.raw_path == "/api/info") {
        auto up_ms = std::chrono::duration_cast<std::chrono::milliseconds>(m_now - m_start).count();
        char body[320];
        int n = std::snprintf(body, sizeof body,
            "{\"uptime_seconds\":%lld.%03lld,\"requests_served\":%llu,\"memory_in_use_bytes\":%llu,"
            "\"connections_open\":%zu,\"server\":\"atoll-httpd\"}\n",
            static_cast<long long>(up_ms / 1000), static_cast<long long>(up_ms % 1000),
            static_cast<unsigned long long>(m_requests),
            static_cast<unsigned long long>(memory_in_use_bytes()), m_connections.size());
        respond(c, &req, 200, "application/json", std::string_view(body, static_cast<std::size_t>(n)),
            "Cache-Control: no-store\r\n");
        return;
    }

    OpenedFile f = open_under_root(m_root_fd, target.path);
    if (f.status == 301) {
        std::string location = "Location: ";
        location.append(target.raw_path);
        location.append("/");
        if (!target.query.empty()) {
            location.push_back('?');
            location.append(target.query);
        }
        location.append("\r\n");
        respond(c, &req, 301, "text/plain; charset=utf-8", "301 Moved Permanently\n", location);
        return;
    }
    if (f.status != 200) {
        std::string body = std::to_string(f.status) + " " + std::string(reason(f.status)) + "\n";
        respond(c, &req, f.status, "text/plain; charset=utf-8", body);
        return;
    }

    append_head(c, &req, 200, mime_type(target.path), f.size, {});
    log_access(&req, 200, req.method == Method::Head ? 0 : f.size);
    if (req.method == Method::Head || f.size == 0) {
        close(f.fd);
        return;
    }
    if (f.size <= k_small_file) {
        // Small files ride in the response buffer with the head: one send, and pipelined
        // requests for them keep batching.
        std::size_t at = c.out.size();
        c.out.resize(at + f.size);
        std::size_t got = 0;
        while (got < f.size) {
            ssize_t n = pread(f.fd, c.out.data() + at + got, f.size - got, static_cast<off_t>(got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += static_cast<std::size_t>(n);
        }
        close(f.fd);
        if (got < f.size) { // the file shrank under us: the Content-Length sent is a lie now
            c.out.resize(at + got);
            c.close_after = true;
        }
        return;
    }
    c.file_fd = f.fd;
    c.file_offset = 0;
    c.file_end = static_cast<off_t>(f.size);
}

void Server::respond(Connection& c, const Request* req, int status, std::string_view type, std::string_view body,
    std::string_view extra_headers)
{
    append_head(c, req, status, type, body.size(), extra_headers);
    bool head = req && req->method == Method::Head;
    if (!head)
        c.out.append(body);
    log_access(req, status, head ? 0 : body.size());
}

void Server::append_head(Connection& c, const Request* req, int status, std::string_view type, std::uint64_t length,
    std::string_view extra_headers)
{
    std::string& o = c.out;
    o.append("HTTP/1.1 ");
    append_number(o, static_cast<std::uint64_t>(status));
    o.push_back(' ');
    o.append(reason(status));
    o.append("\r\nServer: atoll-httpd\r\nDate: ");
    o.append(m_date);
    o.append("\r\n");
    if (!type.empty()) {
        o.append("Content-Type: ");
        o.append(type);
        o.append("\r\n");
    }
    o.append("Content-Length: ");
    append_number(o, length);
    o.append("\r\n");
    o.append(extra_headers);
    if (c.close_after)
        o.append("Connection: close\r\n");
    else if (req && req->version_minor == 0)
        o.append("Connection: keep-alive\r\n");
    o.append("\r\n");
}

Server::WriteResult Server::write_some(Connection& c)
{
    std::uint64_t budget = k_write_budget;
    for (;;) {
        if (c.out_sent < c.out.size()) {
            ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return would_block(errno) ? WriteResult::Blocked : WriteResult::Failed;
            }
            c.out_sent += static_cast<std::size_t>(n);
            c.last_activity = m_now;
            if (static_cast<std::uint64_t>(n) >= budget)
                return WriteResult::Blocked; // level-triggered EPOLLOUT brings us back
            budget -= static_cast<std::uint64_t>(n);
            continue;
        }
        c.out.clear();
        c.out_sent = 0;
        if (c.file_fd < 0)
            return WriteResult::Done;
        if (c.file_offset >= c.file_end) {
            close(c.file_fd);
            c.file_fd = -1;
            continue;
        }
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(
            static_cast<std::uint64_t>(c.file_end - c.file_offset), budget));
        if (m_sendfile_ok) {
            ssize_t n = sendfile(c.fd, c.file_fd, &c.file_offset, want);
            if (n > 0) {
                c.last_activity = m_now;
                if (static_cast<std::uint64_t>(n) >= budget)
                    return WriteResult::Blocked;
                budget -= static_cast<std::uint64_t>(n);
                continue;
            }
            if (n == 0)
                return WriteResult::Failed; // the file shrank below the Content-Length sent
            if (errno == EINTR)
                continue;
            if (would_block(errno))
                return WriteResult::Blocked;
            if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                return WriteResult::Failed;
            // This kernel cannot sendfile to a socket: read and send from now on.
            m_sendfile_ok = false;
        }
        c.out.resize(std::min(want, k_file_chunk));
        ssize_t n = pread(c.file_fd, c.out.data(), c.out.size(), c.file_offset);
        if (n < 0 && errno == EINTR) {
            c.out.clear();
            continue;
        }
        if (n <= 0)
            return WriteResult::Failed;
        c.out.resize(static_cast<std::size_t>(n));
        c.file_offset += n;
    }
}

void Server::start_linger(Connection& c)
{
    (void)shutdown(c.fd, SHUT_WR);
    c.state = Connection::State::Lingering;
    std::string().swap(c.in);
    std::string().swap(c.out);
    c.out_sent = 0;
    c.head_pending = false;
    c.linger_deadline = m_now + k_linger;
    set_interest(c, EPOLLIN);
}

void Server::drain_linger(Connection& c)
{
    for (int i = 0; i < 4; ++i) {
        ssize_t n = recv(c.fd, m_read_buffer.get(), k_read_chunk, 0);
        if (n > 0)
            continue;
        if (n < 0 && (would_block(errno) || errno == EINTR))
            return;
        close_connection(c); // the client closed too (or reset): done
        return;
    }
}

void Server::close_connection(Connection& c)
{
    (void)epoll_ctl(m_epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    if (c.file_fd >= 0)
        close(c.file_fd);
    m_connections.erase(c.self);
    resume_listener();
}

void Server::sweep()
{
    const auto idle = std::chrono::seconds(m_config.idle_timeout_seconds);
    for (auto it = m_connections.begin(); it != m_connections.end();) {
        Connection& c = *it++;
        bool expired = c.state == Connection::State::Lingering
            ? m_now >= c.linger_deadline
            : (m_now - c.last_activity >= idle || (c.head_pending && m_now - c.head_started >= idle));
        if (expired)
            close_connection(c);
    }
    resume_listener(); // after an EMFILE pause
}

void Server::log_access(const Request* req, int status, std::uint64_t bytes)
{
    if (!m_config.access_log)
        return;
    // Method and target passed the parser: tokens and visible ASCII only, safe to print.
    if (req) {
        m_log.append(req->method_name);
        m_log.push_back(' ');
        m_log.append(req->target);
    } else {
        m_log.append("- -");
    }
    m_log.push_back(' ');
    append_number(m_log, static_cast<std::uint64_t>(status));
    m_log.push_back(' ');
    append_number(m_log, bytes);
    m_log.push_back('\n');
    if (m_log.size() >= k_log_flush)
        flush_log();
}

void Server::flush_log()
{
    if (m_log.empty())
        return;
    std::fwrite(m_log.data(), 1, m_log.size(), stdout);
    std::fflush(stdout);
    m_log.clear();
}

} // namespace httpd
