// SPDX-License-Identifier: MIT
// HTTP/1.x request-head parser (RFC 9112). Pure logic, no I/O: the server and the host test
// (tests/parser_test.cpp) both use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace httpd {

struct Limits {
    std::size_t max_request_line = 8 * 1024; // longer: 413 (the spec of this server asks 413, not 414)
    std::size_t max_header_line = 8 * 1024;  // one header field line; longer: 431
    std::size_t max_head = 64 * 1024;        // request line + fields + blank line; longer: 431
    std::size_t max_header_count = 128;      // more fields: 431
    std::uint64_t max_body = 1024 * 1024;    // Content-Length above this: 413
};

enum class Method : std::uint8_t { Get, Head, Other };

// The views point into the buffer given to RequestParser::parse(); they stay valid until the
// caller changes that buffer.
struct Request {
    std::string_view method_name;
    std::string_view target;
    std::string_view host;
    Method method = Method::Other;
    int version_minor = 1; // HTTP/1.<minor>; higher minors are treated as 1.1 (RFC 9110 §6.2)
    bool keep_alive = true;
    bool expect_continue = false;
    std::uint64_t content_length = 0;
};

enum class ParseStatus : std::uint8_t { Incomplete, Complete, Error };

struct ParseResult {
    ParseStatus status = ParseStatus::Incomplete;
    int error_status = 0;     // when Error: 400, 411, 413, 417, 431, 501 or 505
    std::size_t consumed = 0; // when Complete: bytes of the head (the body, if any, follows)
    Request request;
};

// Finds the end of a request head incrementally, so a head that arrives one byte per read is
// still scanned once in all (no quadratic rescans), then parses the complete head.
//
// parse() is given the unconsumed input, starting at the first byte of the current request;
// the same prefix must be passed again (plus whatever arrived since) until it returns
// Complete or Error. Call reset() before parsing the next request.
class RequestParser {
public:
    explicit RequestParser(const Limits& limits = Limits {})
        : m_limits(limits)
    {
    }

    [[nodiscard]] ParseResult parse(std::string_view input);
    void reset()
    {
        m_scanned = 0;
        m_line_start = 0;
        m_head_start = 0;
        m_header_count = 0;
        m_seen_request_line = false;
    }

private:
    [[nodiscard]] ParseResult parse_head(std::string_view head) const;

    Limits m_limits;
    std::size_t m_scanned = 0;    // bytes of input already looked at
    std::size_t m_line_start = 0; // start of the line being scanned
    std::size_t m_head_start = 0; // after the empty lines allowed before a request line
    std::size_t m_header_count = 0;
    bool m_seen_request_line = false;
};

// Case-insensitive ASCII comparison.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b);

// True when the comma-separated list `value` (e.g. a Connection field) holds `token`.
[[nodiscard]] bool has_token(std::string_view value, std::string_view token);

} // namespace httpd
