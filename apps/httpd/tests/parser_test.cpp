// SPDX-License-Identifier: MIT
// Host test of the request parser and the target-path checks (no framework: test-host.sh runs
// it; exit status 1 and a line per failed check).
#include "files.h"
#include "http_parser.h"

#include <cstdio>
#include <string>

using namespace httpd;

namespace {

int s_failures = 0;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) {                                                             \
            std::printf("parser_test:%d: CHECK failed: %s\n", __LINE__, #cond);    \
            ++s_failures;                                                          \
        }                                                                          \
    } while (0)

ParseResult parse(std::string_view text, Limits limits = {})
{
    RequestParser p(limits);
    return p.parse(text);
}

int error_of(std::string_view text, Limits limits = {})
{
    ParseResult r = parse(text, limits);
    return r.status == ParseStatus::Error ? r.error_status : 0;
}

void test_simple()
{
    std::string_view text = "GET /index.html?x=1 HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\n";
    ParseResult r = parse(text);
    CHECK(r.status == ParseStatus::Complete);
    CHECK(r.consumed == text.size());
    CHECK(r.request.method == Method::Get);
    CHECK(r.request.target == "/index.html?x=1");
    CHECK(r.request.host == "example");
    CHECK(r.request.version_minor == 1);
    CHECK(r.request.keep_alive);
    CHECK(r.request.content_length == 0);

    r = parse("HEAD / HTTP/1.1\nHost: a\n\n"); // bare LF line ends are accepted
    CHECK(r.status == ParseStatus::Complete);
    CHECK(r.request.method == Method::Head);

    r = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"); // leading empty lines are skipped
    CHECK(r.status == ParseStatus::Complete);
    CHECK(r.request.target == "/");

    r = parse("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n");
    CHECK(r.status == ParseStatus::Complete && r.request.method == Method::Other);
    r = parse("get / HTTP/1.1\r\nHost: a\r\n\r\n"); // methods are case-sensitive
    CHECK(r.status == ParseStatus::Complete && r.request.method == Method::Other);
}

void test_keep_alive()
{
    CHECK(!parse("GET / HTTP/1.0\r\n\r\n").request.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").request.keep_alive);
    CHECK(!parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").request.keep_alive);
    CHECK(!parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: TE, Close\r\n\r\n").request.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n").request.keep_alive);
    CHECK(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n").request.version_minor == 1);
}

void test_incremental_and_pipelined()
{
    std::string text = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestParser p;
    // Byte by byte: Incomplete until the blank line of the first request.
    std::size_t first_end = text.find("\r\n\r\n") + 4;
    for (std::size_t n = 1; n < first_end; ++n)
        CHECK(p.parse(std::string_view(text).substr(0, n)).status == ParseStatus::Incomplete);
    ParseResult r = p.parse(text);
    CHECK(r.status == ParseStatus::Complete);
    CHECK(r.consumed == first_end);
    CHECK(r.request.target == "/a");
    p.reset();
    r = p.parse(std::string_view(text).substr(first_end));
    CHECK(r.status == ParseStatus::Complete);
    CHECK(r.request.target == "/b");
    CHECK(first_end + r.consumed == text.size());

    // A body is not part of the head.
    r = parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
    CHECK(r.status == ParseStatus::Complete);
    CHECK(r.request.content_length == 5);
    CHECK(r.consumed == std::string_view("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n").size());
}

void test_malformed()
{
    CHECK(error_of("GET\r\n\r\n") == 400);
    CHECK(error_of("GET /\r\n\r\n") == 400);                 // HTTP/0.9
    CHECK(error_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == 400); // two spaces
    CHECK(error_of("GET / HTTP/1.1 \r\nHost: a\r\n\r\n") == 400);
    CHECK(error_of("GET / FOO/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/1.x\r\nHost: a\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505);
    CHECK(error_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK(error_of(std::string_view("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", 29)) == 400);
    CHECK(error_of("GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/1.1\r\n\r\n") == 400); // HTTP/1.1 without Host
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == 400); // space before colon
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n") == 400);
    CHECK(error_of(std::string_view("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29)) == 400);
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n") == 400); // bare CR
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n") == 0);
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n") == 417);
    static const char tls_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";
    CHECK(error_of(std::string_view(tls_hello, sizeof tls_hello - 1)) == 400); // TLS to the HTTP port
}

void test_bodies()
{
    CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n") == 411);
    CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n") == 501);
    CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n") == 400);
    Limits small;
    small.max_body = 10;
    CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", small) == 413);
    CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n", small) == 0);
    ParseResult r = parse("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
    CHECK(r.status == ParseStatus::Complete && r.request.expect_continue);
}

void test_limits()
{
    Limits limits;
    // A request line over the limit: 413, whether or not its end has arrived.
    std::string line = "GET /" + std::string(limits.max_request_line, 'a');
    CHECK(error_of(line) == 413);
    CHECK(error_of(line + " HTTP/1.1\r\nHost: a\r\n\r\n") == 413);
    // Just under the limit is fine.
    std::string ok = "GET /" + std::string(limits.max_request_line - 15, 'a') + " HTTP/1.1";
    CHECK(ok.size() <= limits.max_request_line);
    CHECK(error_of(ok + "\r\nHost: a\r\n\r\n") == 0);
    // One huge header line, many headers, a huge head in total: 431.
    CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(limits.max_header_line, 'b')) == 431);
    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (std::size_t i = 0; i <= limits.max_header_count; ++i)
        many += "X: 1\r\n";
    CHECK(error_of(many + "\r\n") == 431);
    std::string big = "GET / HTTP/1.1\r\nHost: a\r\n";
    while (big.size() <= limits.max_head)
        big += "X-Filler: " + std::string(1000, 'c') + "\r\n";
    Limits more_headers;
    more_headers.max_header_count = 1000;
    CHECK(error_of(big, more_headers) == 431);
    CHECK(error_of(big + "\r\n", more_headers) == 431);
    // Endless empty lines before a request line are bounded too.
    std::string blanks;
    while (blanks.size() <= limits.max_head)
        blanks += "\r\n";
    CHECK(error_of(blanks) == 413);
}

void test_targets()
{
    auto path_of = [](std::string_view t) {
        TargetPath p = decode_target(t);
        return p.status == 0 ? p.path : std::string("<") + std::to_string(p.status) + ">";
    };
    CHECK(path_of("/") == "/index.html");
    CHECK(path_of("/?x=1") == "/index.html");
    CHECK(path_of("/style.css") == "/style.css");
    CHECK(path_of("/a%20b.txt") == "/a b.txt");
    CHECK(path_of("/docs/") == "/docs/index.html");
    CHECK(path_of("//a///b") == "/a/b");
    CHECK(path_of("/a%2fb") == "/a/b");
    CHECK(path_of("http://example.com/x.html?q") == "/x.html");
    CHECK(path_of("HTTP://example.com") == "<400>");
    CHECK(path_of("*") == "<400>");
    CHECK(path_of("index.html") == "<400>");
    CHECK(decode_target("/a/b?x=1#f").query == "x=1");
    CHECK(decode_target("/a/b?x=1#f").raw_path == "/a/b");

    // Traversal and other ways out, before and after decoding.
    for (std::string_view bad : { "/../etc/passwd", "/%2e%2e/etc/passwd", "/..%2fetc/passwd", "/%2E%2E%2Fetc%2Fpasswd",
             "/a/../../etc/passwd", "/a/..", "/..", "/.", "/./index.html", "/%2e/index.html", "/.%2e/x",
             "/index.html%00.txt", "/%00", "/..\\etc\\passwd", "/a\\b", "/%5c..%5cetc", "/%5C", "/%",
             "/%2", "/%zz", "/%0a", "/a%7f" }) {
        TargetPath p = decode_target(bad);
        if (p.status != 400) {
            std::printf("parser_test: target %.*s was accepted as %s\n", static_cast<int>(bad.size()), bad.data(),
                p.path.c_str());
            ++s_failures;
        }
    }
    // Dots inside names are not dot segments.
    CHECK(path_of("/..a/b..") == "/..a/b..");
    CHECK(path_of("/.well-known/x") == "/.well-known/x");
}

void test_mime()
{
    CHECK(mime_type("/index.html") == "text/html; charset=utf-8");
    CHECK(mime_type("/a/STYLE.CSS") == "text/css; charset=utf-8");
    CHECK(mime_type("/app.js") == "text/javascript; charset=utf-8");
    CHECK(mime_type("/data.json") == "application/json");
    CHECK(mime_type("/r.txt") == "text/plain; charset=utf-8");
    CHECK(mime_type("/i.png") == "image/png");
    CHECK(mime_type("/i.jpg") == "image/jpeg");
    CHECK(mime_type("/i.jpeg") == "image/jpeg");
    CHECK(mime_type("/i.gif") == "image/gif");
    CHECK(mime_type("/i.svg") == "image/svg+xml");
    CHECK(mime_type("/favicon.ico") == "image/x-icon");
    CHECK(mime_type("/m.wasm") == "application/wasm");
    CHECK(mime_type("/d.pdf") == "application/pdf");
    CHECK(mime_type("/big.bin") == "application/octet-stream");
    CHECK(mime_type("/noext") == "application/octet-stream");
    CHECK(mime_type("/.html") == "application/octet-stream");
    CHECK(mime_type("/dir.html/file") == "application/octet-stream");
}

} // namespace

int main()
{
    test_simple();
    test_keep_alive();
    test_incremental_and_pipelined();
    test_malformed();
    test_bodies();
    test_limits();
    test_targets();
    test_mime();
    if (s_failures) {
        std::printf("parser_test: %d failure(s)\n", s_failures);
        return 1;
    }
    std::printf("parser_test: all checks passed\n");
    return 0;
}
