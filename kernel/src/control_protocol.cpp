// SPDX-License-Identifier: MIT
#include <kernel/control_protocol.h>
#include <kernel/time.h>

#include <cstdio>
#include <cstring>

namespace atl::control {

LineReader::Event LineReader::feed(char c)
{
    if (c == '\n') {
        if (m_overlong) {
            m_overlong = false;
            m_len = 0;
            return Event::Overlong;
        }
        if (m_len && m_buf[m_len - 1] == '\r')
            --m_len;
        m_buf[m_len] = '\0';
        m_len = 0;
        return Event::Line;
    }
    if (m_overlong) {
        ++m_overlong_len;
        return Event::None;
    }
    // One byte of slack beyond k_max_line: a CR that ends a maximal line.
    if (m_len == k_max_line + 1 || (m_len == k_max_line && c != '\r')) {
        m_overlong = true;
        m_overlong_len = m_len + 1;
        return Event::None;
    }
    m_buf[m_len++] = c;
    return Event::None;
}

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

// Splits off the next word: [*start, *end), or false at the end of the line.
bool next_word(const char*& p, const char** start, std::size_t* len)
{
    while (is_space(*p))
        ++p;
    if (!*p)
        return false;
    *start = p;
    while (*p && !is_space(*p))
        ++p;
    *len = static_cast<std::size_t>(p - *start);
    return true;
}

bool word_is(const char* w, std::size_t n, const char* lit) { return std::strlen(lit) == n && std::memcmp(w, lit, n) == 0; }

// A word for an error message: printable ASCII as it is, other bytes as \xNN (the host may
// send anything), cut with "..." when it does not fit.
void describe(const char* w, std::size_t n, char* out, std::size_t cap)
{
    auto piece = [](unsigned char c, char* buf) -> std::size_t {
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
            buf[0] = static_cast<char>(c);
            return 1;
        }
        std::snprintf(buf, 5, "\\x%02x", c);
        return 4;
    };
    char buf[5];
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i)
        total += piece(static_cast<unsigned char>(w[i]), buf);
    std::size_t room = total < cap ? cap - 1 : cap - 4; // leave room for "..." when cutting
    std::size_t o = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t len = piece(static_cast<unsigned char>(w[i]), buf);
        if (o + len > room)
            break;
        std::memcpy(out + o, buf, len);
        o += len;
    }
    if (total >= cap) {
        std::memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

Command error(const char* fmt, const char* word, std::size_t n)
{
    Command c;
    c.kind = Command::Kind::Error;
    char shown[40];
    describe(word, n, shown, sizeof(shown));
    std::snprintf(c.error, sizeof(c.error), fmt, shown);
    return c;
}

Command error(const char* message)
{
    Command c;
    c.kind = Command::Kind::Error;
    std::snprintf(c.error, sizeof(c.error), "%s", message);
    return c;
}

} // namespace

Command parse_command(const char* line)
{
    const char* p = line;
    const char* w = nullptr;
    std::size_t n = 0;
    if (!next_word(p, &w, &n))
        return Command {};
    Command c;
    const char* arg = nullptr;
    std::size_t arg_len = 0;
    bool has_arg = next_word(p, &arg, &arg_len);
    const char* extra = nullptr;
    std::size_t extra_len = 0;
    bool has_extra = next_word(p, &extra, &extra_len);

    if (word_is(w, n, "dump") || word_is(w, n, "time")) {
        // The same shape: an optional ID that comes back in the reply.
        bool dump = word_is(w, n, "dump");
        if (has_extra)
            return error(dump ? "dump takes one ID, got also '%s'" : "time takes one ID, got also '%s'", extra,
                extra_len);
        c.kind = dump ? Command::Kind::Dump : Command::Kind::Time;
        if (!has_arg) {
            c.id[0] = '-';
            c.id[1] = '\0';
            return c;
        }
        if (arg_len > k_max_id)
            return error(dump ? "dump ID longer than 32 characters: '%s'" : "time ID longer than 32 characters: '%s'",
                arg, arg_len);
        for (std::size_t i = 0; i < arg_len; ++i) {
            if (!is_id_char(arg[i]))
                return error(dump ? "dump ID '%s': use letters, digits, '-', '_' and '.'"
                                  : "time ID '%s': use letters, digits, '-', '_' and '.'",
                    arg, arg_len);
        }
        std::memcpy(c.id, arg, arg_len);
        c.id[arg_len] = '\0';
        return c;
    }
    if (word_is(w, n, "host-clock")) {
        if (has_arg)
            return error("host-clock takes no argument, got '%s'", arg, arg_len);
        c.kind = Command::Kind::HostClock;
        return c;
    }
    if (word_is(w, n, "host-time")) {
        // "host-time N T2 T3": three words after the command, nothing more.
        if (!has_arg || !has_extra)
            return error("host-time needs a request number and two times, e.g. 'host-time 3 1700000000.25 1700000000.26'");
        u64 seq = 0;
        bool ok = arg_len <= 9;
        for (std::size_t i = 0; i < arg_len && ok; ++i) {
            ok = arg[i] >= '0' && arg[i] <= '9';
            seq = seq * 10 + static_cast<u64>(arg[i] - '0');
        }
        if (!ok)
            return error("host-time request number '%s': want 0 to 999999999", arg, arg_len);
        const char* words[2] = { extra, nullptr };
        std::size_t lens[2] = { extra_len, 0 };
        if (!next_word(p, &words[1], &lens[1]))
            return error("host-time needs two times (when the request arrived, when it was answered)");
        const char* more = nullptr;
        std::size_t more_len = 0;
        if (next_word(p, &more, &more_len))
            return error("host-time takes three values, got also '%s'", more, more_len);
        u64 ns[2] = {};
        for (int i = 0; i < 2; ++i) {
            char text[40];
            if (lens[i] >= sizeof(text))
                return error("host-time value too long: '%s'", words[i], lens[i]);
            std::memcpy(text, words[i], lens[i]);
            text[lens[i]] = '\0';
            if (!kernel::parse_realtime(text, &ns[i]))
                return error("host-time value '%s': want seconds since 1970, e.g. 1700000000.123456", words[i],
                    lens[i]);
        }
        c.kind = Command::Kind::HostTime;
        c.sequence = static_cast<u32>(seq);
        c.host_received_ns = ns[0];
        c.host_sent_ns = ns[1];
        return c;
    }
    if (word_is(w, n, "signal")) {
        if (!has_arg)
            return error("signal needs a number (1-64), e.g. 'signal 15'");
        if (has_extra)
            return error("signal takes one number, got also '%s'", extra, extra_len);
        int v = 0;
        bool ok = arg_len <= 2;
        for (std::size_t i = 0; i < arg_len && ok; ++i) {
            ok = arg[i] >= '0' && arg[i] <= '9';
            v = v * 10 + (arg[i] - '0');
        }
        if (!ok || v < 1 || v > k_max_signal)
            return error("signal '%s': want a number from 1 to 64", arg, arg_len);
        c.kind = Command::Kind::Signal;
        c.signal = v;
        return c;
    }
    if (word_is(w, n, "help")) {
        if (has_arg)
            return error("help takes no argument, got '%s'", arg, arg_len);
        c.kind = Command::Kind::Help;
        return c;
    }
    return error("unknown command '%s' (commands: dump [ID], signal N, time [ID], help)", w, n);
}

} // namespace atl::control
