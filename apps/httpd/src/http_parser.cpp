// SPDX-License-Identifier: MIT
#include "http_parser.h"

namespace httpd {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// RFC 9110 §5.6.2: tchar.
bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(std::string_view s)
{
    if (s.empty())
        return false;
    for (char c : s)
        if (!is_tchar(static_cast<unsigned char>(c)))
            return false;
    return true;
}

// RFC 9110 §5.5: field-value is VCHAR, SP, HTAB and obs-text; never CTLs (NUL, bare CR, ...).
bool is_field_value(std::string_view s)
{
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f))
            continue;
        return false;
    }
    return true;
}

std::string_view trim_ows(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// One line of a head, without its LF and an optional CR before it (RFC 9112 §2.2 lets a
// recipient accept a bare LF as a line terminator).
std::string_view strip_cr(std::string_view line)
{
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

bool parse_content_length(std::string_view v, std::uint64_t& out)
{
    if (v.empty() || v.size() > 18) // 18 digits never overflow 64 bits
        return false;
    std::uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9')
            return false;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = n;
    return true;
}

ParseResult error(int status)
{
    ParseResult r;
    r.status = ParseStatus::Error;
    r.error_status = status;
    return r;
}

} // namespace

bool iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

bool has_token(std::string_view value, std::string_view token)
{
    while (!value.empty()) {
        std::size_t comma = value.find(',');
        std::string_view item = trim_ows(value.substr(0, comma));
        if (iequals(item, token))
            return true;
        if (comma == std::string_view::npos)
            break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

ParseResult RequestParser::parse(std::string_view input)
{
    for (std::size_t i = m_scanned; i < input.size(); ++i) {
        if (input[i] != '\n')
            continue;
        std::string_view line = strip_cr(input.substr(m_line_start, i - m_line_start));
        if (!m_seen_request_line) {
            if (line.empty()) {
                // RFC 9112 §2.2: empty lines before the request line are ignored.
                m_line_start = m_head_start = i + 1;
                continue;
            }
            if (line.size() > m_limits.max_request_line)
                return error(413);
            m_seen_request_line = true;
        } else if (line.empty()) {
            if (i + 1 > m_limits.max_head)
                return error(431);
            ParseResult r = parse_head(input.substr(m_head_start, i + 1 - m_head_start));
            if (r.status == ParseStatus::Complete)
                r.consumed = i + 1;
            return r;
        } else {
            if (line.size() > m_limits.max_header_line || ++m_header_count > m_limits.max_header_count)
                return error(431);
        }
        m_line_start = i + 1;
    }
    m_scanned = input.size();

    // No complete head yet: refuse to buffer more than the limits allow.
    std::size_t partial_line = input.size() - m_line_start;
    if (!m_seen_request_line && partial_line > m_limits.max_request_line + 1)
        return error(413);
    if (m_seen_request_line && partial_line > m_limits.max_header_line + 1)
        return error(431);
    if (input.size() > m_limits.max_head)
        return error(m_seen_request_line ? 431 : 413);
    return {};
}

ParseResult RequestParser::parse_head(std::string_view head) const
{
    ParseResult r;
    Request& req = r.request;

    // Request line (RFC 9112 §3): method SP request-target SP HTTP-version, single spaces.
    std::size_t eol = head.find('\n');
    std::string_view line = strip_cr(head.substr(0, eol));
    head.remove_prefix(eol + 1);

    std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos)
        return error(400);
    std::size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos)
        return error(400);
    req.method_name = line.substr(0, sp1);
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(req.method_name) || req.target.empty())
        return error(400);
    for (char ch : req.target) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f)
            return error(400);
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0'
        || version[5] > '9' || version[7] < '0' || version[7] > '9')
        return error(400);
    if (version[5] != '1')
        return error(505);
    req.version_minor = version[7] - '0';
    if (req.version_minor > 1)
        req.version_minor = 1;

    if (req.method_name == "GET")
        req.method = Method::Get;
    else if (req.method_name == "HEAD")
        req.method = Method::Head;

    // Header fields (RFC 9112 §5).
    bool connection_close = false, connection_keep_alive = false;
    bool have_length = false, have_te = false, te_chunked_last = false;
    int host_count = 0;
    while (!head.empty()) {
        eol = head.find('\n');
        line = strip_cr(head.substr(0, eol));
        head.remove_prefix(eol + 1);
        if (line.empty())
            break; // the blank line that ends the head
        if (line.front() == ' ' || line.front() == '\t')
            return error(400); // obs-fold: RFC 9112 §5.2 lets a server reject it
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos)
            return error(400);
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim_ows(line.substr(colon + 1));
        // A space before the colon is refused (RFC 9112 §5.1), which is_token does.
        if (!is_token(name) || !is_field_value(value))
            return error(400);

        if (iequals(name, "content-length")) {
            std::uint64_t n = 0;
            if (!parse_content_length(value, n))
                return error(400);
            if (have_length && n != req.content_length)
                return error(400);
            have_length = true;
            req.content_length = n;
        } else if (iequals(name, "transfer-encoding")) {
            have_te = true;
            std::size_t comma = value.rfind(',');
            std::string_view last = trim_ows(comma == std::string_view::npos ? value : value.substr(comma + 1));
            te_chunked_last = iequals(last, "chunked");
        } else if (iequals(name, "connection")) {
            connection_close = connection_close || has_token(value, "close");
            connection_keep_alive = connection_keep_alive || has_token(value, "keep-alive");
        } else if (iequals(name, "host")) {
            ++host_count;
            req.host = value;
        } else if (iequals(name, "expect")) {
            if (!iequals(value, "100-continue"))
                return error(417); // RFC 9110 §10.1.1: an expectation this server cannot meet
            req.expect_continue = true;
        }
    }

    // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host field gets 400.
    if (host_count > 1 || (req.version_minor == 1 && host_count == 0))
        return error(400);
    // Request bodies: only Content-Length is supported. Transfer-Encoding together with
    // Content-Length is a smuggling attempt (RFC 9112 §6.1): 400. A chunked body gets 411 Length
    // Required (send it with a Content-Length), any other coding 501 Not Implemented.
    if (have_te) {
        if (have_length)
            return error(400);
        return error(te_chunked_last ? 411 : 501);
    }
    if (req.content_length > m_limits.max_body)
        return error(413);

    if (req.version_minor == 0)
        req.keep_alive = connection_keep_alive && !connection_close;
    else
        req.keep_alive = !connection_close;
    r.status = ParseStatus::Complete;
    return r;
}

} // namespace httpd
