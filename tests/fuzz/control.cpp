// SPDX-License-Identifier: MIT
// Fuzz target: the control channel's line protocol (kernel/src/control_protocol.cpp), which
// the guest's kernel thread runs over whatever arrives on the second serial port. Bytes go
// through LineReader as the UART delivers them; every line it completes must fit its buffer,
// and every command parse_command() makes of it must be well formed: a terminated ID of
// allowed characters, a signal in range, a terminated error message.
#include <kernel/control_protocol.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace atl::control;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "control fuzz: invariant broken: %s\n", what);
    std::abort();
}

bool terminated(const char* s, std::size_t cap) { return std::memchr(s, '\0', cap) != nullptr; }

void check(const Command& c)
{
    if (!terminated(c.id, sizeof(c.id)) || !terminated(c.error, sizeof(c.error)))
        fail("an unterminated ID or error message");
    switch (c.kind) {
    case Command::Kind::Dump:
        if (c.id[0] == '\0')
            fail("a dump without an ID");
        for (const char* p = c.id; *p; ++p) {
            bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'
                      || *p == '_' || *p == '.';
            if (!ok)
                fail("a dump ID with a character IDs do not allow");
        }
        break;
    case Command::Kind::Signal:
        if (c.signal < 1 || c.signal > k_max_signal)
            fail("a signal out of range");
        break;
    case Command::Kind::Error:
        if (c.error[0] == '\0')
            fail("an error without a message");
        break;
    default:
        break;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    LineReader reader;
    for (std::size_t i = 0; i < size; ++i) {
        switch (reader.feed(static_cast<char>(data[i]))) {
        case LineReader::Event::Line: {
            const char* line = reader.line();
            if (!terminated(line, k_max_line + 1))
                fail("a line longer than k_max_line");
            if (std::strchr(line, '\n'))
                fail("a line with its end still in it");
            check(parse_command(line));
            break;
        }
        case LineReader::Event::Overlong:
            if (reader.overlong_length() <= k_max_line)
                fail("an overlong line no longer than the limit");
            break;
        case LineReader::Event::None:
            break;
        }
    }
    // The parser on its own, on any terminated string of the allowed length.
    char line[k_max_line + 1];
    std::size_t n = size < k_max_line ? size : k_max_line;
    std::memcpy(line, data, n);
    line[n] = '\0';
    check(parse_command(line));
    return 0;
}
