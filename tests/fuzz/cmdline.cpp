// SPDX-License-Identifier: MIT
// Fuzz target: the boot command line parser (kernel/src/cmdline.cpp). The loader hands the
// kernel any bytes it likes; parsing must end in a CommandLine whose every token points into
// the buffer, or in an error message, never in a read or write outside it.
//
// The input is up to three command lines separated by NUL bytes, parsed in turn into one
// CommandLine as the kernel does (the image's built-in line, then the loader's). Every
// parameter's value also goes through parse_realtime() (atoll.realtime=).
#include <kernel/cmdline.h>
#include <kernel/time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "cmdline fuzz: invariant broken: %s\n", what);
    std::abort();
}

struct Line {
    std::unique_ptr<char[]> buf;
    std::size_t size; // including the NUL
};

bool inside(const char* p, const std::vector<Line>& lines)
{
    for (const Line& l : lines)
        if (p >= l.buf.get() && p < l.buf.get() + l.size)
            return true;
    return false;
}

// A token is a NUL-terminated string inside one of the buffers.
void check_token(const char* p, const std::vector<Line>& lines)
{
    if (!p || !inside(p, lines))
        fail("a token points outside the command line buffers");
    for (const Line& l : lines) {
        if (p >= l.buf.get() && p < l.buf.get() + l.size) {
            if (!std::memchr(p, '\0', static_cast<std::size_t>(l.buf.get() + l.size - p)))
                fail("a token is not terminated inside its buffer");
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::vector<Line> lines;
    std::size_t at = 0;
    while (at <= size && lines.size() < 3) {
        const void* nul = std::memchr(data + at, '\0', size - at);
        std::size_t n = nul ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - (data + at)) : size - at;
        // Exactly sized heap buffers: a read past the terminator is an ASan report.
        Line l { std::make_unique<char[]>(n + 1), n + 1 };
        std::memcpy(l.buf.get(), data + at, n);
        l.buf[n] = '\0';
        lines.push_back(std::move(l));
        at += n + 1;
        if (!nul)
            break;
    }

    auto cl = std::make_unique<atl::CommandLine>();
    const char* error = nullptr;
    for (Line& l : lines) {
        error = atl::parse_command_line(l.buf.get(), *cl);
        if (error)
            break;
    }
    if (error && error[0] == '\0')
        fail("an empty error message");

    if (cl->argc > atl::CommandLine::k_max_args || cl->envc > atl::CommandLine::k_max_env
        || cl->paramc > atl::CommandLine::k_max_params)
        fail("a count above its array");
    for (std::size_t i = 0; i < cl->argc; ++i)
        check_token(cl->args[i], lines);
    for (std::size_t i = 0; i < cl->envc; ++i) {
        check_token(cl->env[i], lines);
        // NAME=VALUE with a non-empty NAME that has no dot (a dotted one is a parameter).
        const char* eq = std::strchr(cl->env[i], '=');
        if (!eq || eq == cl->env[i])
            fail("an environment entry without NAME=");
        if (std::memchr(cl->env[i], '.', static_cast<std::size_t>(eq - cl->env[i])))
            fail("an environment entry whose name has a dot");
    }
    for (std::size_t i = 0; i < cl->paramc; ++i) {
        check_token(cl->params[i].key, lines);
        check_token(cl->params[i].value, lines);
        if (!std::strchr(cl->params[i].key, '.') || cl->params[i].key[0] == '\0')
            fail("a parameter key without a dot");
        // The last one given wins.
        const char* v = cl->param(cl->params[i].key);
        if (!v)
            fail("param() misses a parameter that was parsed");
        // atoll.realtime=SECONDS[.FRACTION]: the kernel reads the wall clock's base from it.
        atl::u64 ns = 0;
        if (atl::kernel::parse_realtime(cl->params[i].value, &ns) && ns > ((atl::u64(1) << 33) + 1) * 1000000000ull)
            fail("parse_realtime() accepted a time past its own limit");
    }
    return 0;
}
