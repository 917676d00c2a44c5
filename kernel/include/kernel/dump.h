// SPDX-License-Identifier: MIT
#pragma once

// The state dump: what every thread is doing, memory in use, and sections that the layers
// above the kernel contribute (the network stack, the network devices). The control channel
// (kernel/control.h) prints one on request while the guest keeps running; it exists to
// diagnose a guest that has stopped answering, so nothing in it may wait for a lock that a
// stuck thread could hold: sections take their locks with a bounded try and say so when they
// cannot.

#include <kernel/types.h>

namespace atl::kernel {

// Text output for a dump: buffered, handed to a sink in pieces. Sections print lines with
// printf(); the sink may be slow (a UART), so a section that holds a lock should not print
// more than it must while holding it.
class DumpOutput {
public:
    using Sink = void (*)(void* context, const char* text, std::size_t len);
    DumpOutput(char* buffer, std::size_t capacity, Sink sink, void* context)
        : m_buf(buffer)
        , m_cap(capacity)
        , m_sink(sink)
        , m_context(context)
    {
    }
    DumpOutput(const DumpOutput&) = delete;
    DumpOutput& operator=(const DumpOutput&) = delete;

    // One formatted piece (a line should end in \n); pieces longer than 400 bytes are cut.
    [[gnu::format(printf, 2, 3)]] void printf(const char* fmt, ...);
    void write(const char* text, std::size_t len);
    void flush();

private:
    char* m_buf;
    std::size_t m_cap;
    std::size_t m_len = 0;
    Sink m_sink;
    void* m_context;
};

using DumpSectionFn = void (*)(DumpOutput& out);

// Adds a section, printed after the kernel's own in registration order under "== NAME". Each
// layer registers its sections from its own init (no global constructors). False when the
// table (16 entries) is full.
bool register_dump_section(const char* name, DumpSectionFn fn);

// The whole dump, framed: "atoll-dump-begin ID" ... "atoll-dump-end ID". Call from a thread
// (not an interrupt handler); output may wait for the sink. own_bytes: pages the caller took
// for the dump itself (its buffer), counted as free in the memory figures.
void write_state_dump(DumpOutput& out, const char* id, u64 own_bytes);

// Prints a backtrace from (rip, rbp), one symbolized frame per line (32 at most); a panic's
// backtrace is printed by it too.
// `rip_is_return`: the first address is a return address (a call's, as panic() starts from),
// named by the call instruction before it.
void dump_backtrace(DumpOutput& out, u64 rip, u64 rbp, const char* indent, bool rip_is_return = false);

} // namespace atl::kernel
