// SPDX-License-Identifier: MIT
// The HTTP/1.1 server: one thread, one epoll instance, non-blocking sockets.
#pragma once

#include "http_parser.h"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <list>
#include <memory>
#include <string>
#include <string_view>

namespace httpd {

struct Config {
    std::uint16_t port = 80; // 0: any free port (the startup line says which)
    std::string root = "/www";
    std::size_t max_connections = 1024;
    bool access_log = true;
    int idle_timeout_seconds = 60;
    bool use_sendfile = true; // false: file bodies always go through pread + send
    Limits limits;
};

class Server {
public:
    // Opens the document root, the listening socket and the epoll instance. On failure returns
    // nullptr and says why in `error`.
    [[nodiscard]] static std::unique_ptr<Server> create(const Config& config, std::string& error);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    [[nodiscard]] std::uint16_t port() const { return m_port; }

    // Serves until SIGINT or SIGTERM; returns the process exit status.
    int run();

private:
    using Clock = std::chrono::steady_clock;
    struct Connection;
    enum class WriteResult : std::uint8_t { Done, Blocked, Failed };

    explicit Server(const Config& config);

    void accept_connections();
    void pause_listener();
    void resume_listener();
    void handle_event(Connection& c, std::uint32_t events);
    void on_readable(Connection& c);
    void drive(Connection& c);
    void process_input(Connection& c);
    void handle_request(Connection& c, const Request& req);
    void serve_file(Connection& c, const Request& req);
    void respond(Connection& c, const Request* req, int status, std::string_view type, std::string_view body,
        std::string_view extra_headers = {});
    void append_head(Connection& c, const Request* req, int status, std::string_view type, std::uint64_t length,
        std::string_view extra_headers);
    [[nodiscard]] WriteResult write_some(Connection& c);
    void start_linger(Connection& c);
    void drain_linger(Connection& c);
    void close_connection(Connection& c);
    void set_interest(Connection& c, std::uint32_t events);
    void sweep();
    void update_clock();
    void log_access(const Request* req, int status, std::uint64_t bytes);
    void flush_log();

    Config m_config;
    int m_root_fd = -1;
    int m_listen_fd = -1;
    int m_epoll_fd = -1;
    std::uint16_t m_port = 0;
    bool m_listening = false; // the listening socket is in the epoll set
    bool m_sendfile_ok = true;
    std::list<Connection> m_connections; // std::list: a Connection never moves (epoll holds its address)
    std::unique_ptr<char[]> m_read_buffer;
    std::uint64_t m_requests = 0;
    Clock::time_point m_start;
    Clock::time_point m_now;
    Clock::time_point m_last_sweep;
    std::time_t m_date_second = 0;
    char m_date[40] = {};
    std::string m_log;
};

} // namespace httpd
