// SPDX-License-Identifier: MIT
#pragma once

// The control channel's line protocol (kernel/src/control.cpp carries it over a UART; README
// "The control channel" documents it for users). The host writes one command per line:
//
//     dump [ID]      a state dump, framed by "atoll-dump-begin ID" and "atoll-dump-end ID"
//     signal N       signal N (1..64) to the application, as kill(2) would send it
//     time [ID]      the guest's clocks, for measuring them against the host's:
//                    "atoll-ctl ok time ID RECEIVED SENT MONOTONIC", the first two
//                    CLOCK_REALTIME when the line's first byte arrived and when the reply was
//                    written, the last CLOCK_MONOTONIC then (seconds with 9 decimals)
//     host-clock     the host answers clock requests (`atoll run` writes it first, before
//                    the guest starts). No reply line.
//     host-time N T2 T3   the host's answer to the guest's "atoll-ctl time-request N": its
//                    CLOCK_REALTIME when the request's first byte arrived and when it answered
//                    (seconds, fraction optional). No reply line.
//     help           the list of commands
//
// Words are separated by spaces or tabs; a line ends at LF (a CR before it is dropped). An
// empty line is ignored. Every other line gets one reply line: "atoll-ctl ok ..." or
// "atoll-ctl error: ...". A line longer than k_max_line is discarded up to its end and
// reported; the next line is read normally, so bad input never costs a later command.
// Portable code, unit-tested on the host.

#include <kernel/types.h>

namespace atl::control {

constexpr std::size_t k_max_line = 128;
constexpr std::size_t k_max_id = 32; // dump IDs: letters, digits, '-', '_', '.'
constexpr int k_max_signal = 64;
constexpr u32 k_max_time_request = 999999999; // host-time sequence numbers: 0..this

// Collects bytes into lines.
class LineReader {
public:
    enum class Event : u8 {
        None,     // keep feeding
        Line,     // line() holds a complete line (without its end)
        Overlong, // a line longer than k_max_line ended; its bytes were dropped
    };
    Event feed(char c);
    const char* line() const { return m_buf; }
    // Bytes of the last overlong line (for the error reply).
    std::size_t overlong_length() const { return m_overlong_len; }

private:
    char m_buf[k_max_line + 1] {};
    std::size_t m_len = 0;
    bool m_overlong = false;
    std::size_t m_overlong_len = 0;
};

struct Command {
    enum class Kind : u8 { Empty, Dump, Signal, Time, HostClock, HostTime, Help, Error };
    Kind kind = Kind::Empty;
    char id[k_max_id + 1] = ""; // Dump, Time: the ID, "-" when none was given
    int signal = 0;             // Signal: 1..k_max_signal
    u32 sequence = 0;           // HostTime: the request it answers
    u64 host_received_ns = 0;   // HostTime: the host's CLOCK_REALTIME, ns since 1970,
    u64 host_sent_ns = 0;       // when the request arrived and when it answered
    char error[96] = "";        // Error: what was wrong, for the reply
};

// Parses one line (as LineReader gives it: no line end, at most k_max_line bytes).
Command parse_command(const char* line);

} // namespace atl::control
