// SPDX-License-Identifier: MIT
// Fuzz target: httpd's request-head parser (apps/httpd/src/http_parser.cpp), which reads
// whatever a client sends. The head is fed as it might arrive from a socket, in pieces, and
// the result must be the one a single call on the whole input gives; views must point into
// the input; a Complete parse must stay within the limits.
//
// Input: one byte of options (small limits or the server's; how to cut the input), then the
// bytes the client sends.
#include "http_parser.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

using namespace httpd;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "http_request fuzz: invariant broken: %s\n", what);
    std::abort();
}

bool within(std::string_view part, std::string_view whole)
{
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool same(const ParseResult& a, const ParseResult& b)
{
    if (a.status != b.status)
        return false;
    if (a.status == ParseStatus::Error)
        return a.error_status == b.error_status;
    if (a.status == ParseStatus::Incomplete)
        return true;
    const Request &x = a.request, &y = b.request;
    return a.consumed == b.consumed && x.method_name == y.method_name && x.target == y.target && x.host == y.host
           && x.method == y.method && x.version_minor == y.version_minor && x.keep_alive == y.keep_alive
           && x.expect_continue == y.expect_continue && x.content_length == y.content_length;
}

void check(const ParseResult& r, std::string_view input, const Limits& limits)
{
    switch (r.status) {
    case ParseStatus::Incomplete:
        break;
    case ParseStatus::Error:
        switch (r.error_status) {
        case 400: case 411: case 413: case 417: case 431: case 501: case 505:
            break;
        default:
            fail("an error status the parser does not document");
        }
        break;
    case ParseStatus::Complete: {
        const Request& q = r.request;
        if (r.consumed == 0 || r.consumed > input.size() || input[r.consumed - 1] != '\n')
            fail("consumed is not the end of a line inside the input");
        if (r.consumed > limits.max_head)
            fail("a head longer than max_head was accepted");
        if (!within(q.method_name, input) || !within(q.target, input) || !within(q.host, input))
            fail("a view points outside the input");
        if (q.method_name.empty() || q.target.empty())
            fail("an empty method or target");
        if (q.content_length > limits.max_body)
            fail("a body above max_body was accepted");
        if (q.version_minor != 0 && q.version_minor != 1)
            fail("a version other than 1.0 or 1.1");
        for (char c : q.target)
            if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
                fail("a target with a control character or space");
        break;
    }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    std::uint8_t options = data[0];
    ++data;
    --size;
    Limits limits;
    if (options & 1) { // small limits, so that every limit is reached by small inputs
        limits.max_request_line = 64;
        limits.max_header_line = 48;
        limits.max_head = 256;
        limits.max_header_count = 4;
        limits.max_body = 1000;
    }
    // An exactly sized copy: a read past the input is an ASan report.
    auto buf = std::make_unique<char[]>(size ? size : 1);
    std::memcpy(buf.get(), data, size);
    std::string_view input(buf.get(), size);

    RequestParser whole(limits);
    ParseResult once = whole.parse(input);
    check(once, input, limits);

    // The same bytes arriving in pieces of 1..8 bytes (chosen by the options' high bits),
    // each call seeing the whole prefix received so far.
    std::size_t step = 1 + ((options >> 1) & 7);
    RequestParser pieces(limits);
    ParseResult last;
    for (std::size_t have = std::min(step, size);; have = std::min(have + step, size)) {
        last = pieces.parse(input.substr(0, have));
        check(last, input.substr(0, have), limits);
        if (last.status != ParseStatus::Incomplete || have == size)
            break;
    }
    if (!same(once, last))
        fail("parsing in pieces gives another result than parsing at once");

    // The next request on a kept-alive connection starts after the head (and the body).
    if (once.status == ParseStatus::Complete) {
        whole.reset();
        std::size_t next = once.consumed;
        if (once.request.content_length < size - next)
            next += static_cast<std::size_t>(once.request.content_length);
        else
            next = size;
        ParseResult second = whole.parse(input.substr(next));
        check(second, input.substr(next), limits);
    }
    return 0;
}
