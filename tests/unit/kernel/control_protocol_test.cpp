// SPDX-License-Identifier: MIT
// The control channel's line protocol: commands, and bad input of every kind answered with an
// error without costing the commands that follow it.
#include <kernel/control_protocol.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using atl::control::Command;
using atl::control::LineReader;
using atl::control::parse_command;
using Kind = Command::Kind;

namespace {

// Feeds a byte stream; returns one entry per event: the line, or "<overlong N>".
std::vector<std::string> lines(const std::string& bytes)
{
    LineReader r;
    std::vector<std::string> out;
    for (char c : bytes) {
        switch (r.feed(c)) {
        case LineReader::Event::None: break;
        case LineReader::Event::Line: out.emplace_back(r.line()); break;
        case LineReader::Event::Overlong: out.push_back("<overlong " + std::to_string(r.overlong_length()) + ">"); break;
        }
    }
    return out;
}

Command parse(const std::string& s) { return parse_command(s.c_str()); }

} // namespace

TEST(ControlLineReader, SplitsLinesAndDropsCarriageReturns)
{
    EXPECT_EQ(lines("dump\nsignal 15\r\n\nhelp\n"), (std::vector<std::string> { "dump", "signal 15", "", "help" }));
    EXPECT_TRUE(lines("dump").empty()); // not a line until it ends
}

TEST(ControlLineReader, OverlongLineIsReportedAndTheNextLineSurvives)
{
    std::string longline(300, 'x');
    auto got = lines(longline + "\nsignal 2\n");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], "<overlong 300>");
    EXPECT_EQ(got[1], "signal 2");
}

TEST(ControlLineReader, LengthLimitIsExact)
{
    std::string max(atl::control::k_max_line, 'a');
    EXPECT_EQ(lines(max + "\n"), (std::vector<std::string> { max }));
    EXPECT_EQ(lines(max + "\r\n"), (std::vector<std::string> { max })); // a CR does not count
    EXPECT_EQ(lines(max + "b\n"), (std::vector<std::string> { "<overlong 129>" }));
    EXPECT_EQ(lines(max + "\rb\n"), (std::vector<std::string> { "<overlong 130>" }));
}

TEST(ControlLineReader, BinaryGarbageIsJustALine)
{
    std::string garbage("\x01\xff\x00\x7f zz", 8);
    auto got = lines(garbage + "\ndump x\n");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(parse_command(got[0].c_str()).kind, Kind::Error);
    EXPECT_EQ(got[1], "dump x");
}

TEST(ControlCommand, Dump)
{
    Command c = parse("dump");
    EXPECT_EQ(c.kind, Kind::Dump);
    EXPECT_STREQ(c.id, "-");
    c = parse("  dump\tusr1-3  ");
    EXPECT_EQ(c.kind, Kind::Dump);
    EXPECT_STREQ(c.id, "usr1-3");
    c = parse("dump cli-1234-5.a_b");
    EXPECT_EQ(c.kind, Kind::Dump);
    EXPECT_STREQ(c.id, "cli-1234-5.a_b");
    std::string id32(32, 'i');
    EXPECT_EQ(parse("dump " + id32).kind, Kind::Dump);
}

TEST(ControlCommand, DumpRejectsBadIds)
{
    EXPECT_EQ(parse("dump a b").kind, Kind::Error);
    EXPECT_EQ(parse("dump " + std::string(33, 'i')).kind, Kind::Error);
    Command c = parse("dump a/b");
    EXPECT_EQ(c.kind, Kind::Error);
    EXPECT_NE(std::string(c.error).find("'a/b'"), std::string::npos) << c.error;
    EXPECT_EQ(parse("dump ab$(x)").kind, Kind::Error);
}

TEST(ControlCommand, Signal)
{
    Command c = parse("signal 15");
    EXPECT_EQ(c.kind, Kind::Signal);
    EXPECT_EQ(c.signal, 15);
    EXPECT_EQ(parse("signal 1").signal, 1);
    EXPECT_EQ(parse("\tsignal   64 ").signal, 64);
    EXPECT_EQ(parse("signal 09").signal, 9);
}

TEST(ControlCommand, SignalRejectsBadNumbers)
{
    for (const char* bad : { "signal", "signal 0", "signal 65", "signal 100", "signal -1", "signal 15x", "signal x",
             "signal 1 2", "signal 0015", "signal TERM" }) {
        Command c = parse(bad);
        EXPECT_EQ(c.kind, Kind::Error) << bad;
        EXPECT_NE(c.error[0], '\0') << bad;
    }
}

TEST(ControlCommand, EmptyHelpAndUnknown)
{
    EXPECT_EQ(parse("").kind, Kind::Empty);
    EXPECT_EQ(parse(" \t ").kind, Kind::Empty);
    EXPECT_EQ(parse("help").kind, Kind::Help);
    EXPECT_EQ(parse("help me").kind, Kind::Error);
    Command c = parse("frobnicate now");
    EXPECT_EQ(c.kind, Kind::Error);
    EXPECT_NE(std::string(c.error).find("unknown command 'frobnicate'"), std::string::npos) << c.error;
    EXPECT_EQ(parse("DUMP").kind, Kind::Error); // commands are lower case
}

TEST(ControlCommand, ErrorsShowBadBytesPrintably)
{
    Command c = parse(std::string("\x01\xfe\\'x"));
    ASSERT_EQ(c.kind, Kind::Error);
    EXPECT_NE(std::string(c.error).find("'\\x01\\xfe\\x5c\\x27x'"), std::string::npos) << c.error;
    for (char ch : std::string(c.error))
        EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << "unprintable byte in the reply";
    // A long word is cut with "...", and the reply stays within its buffer.
    c = parse(std::string(120, 'q'));
    std::string e = c.error;
    EXPECT_NE(e.find("..."), std::string::npos) << e;
    EXPECT_LT(e.size(), sizeof(c.error));
}

TEST(ControlCommand, Time)
{
    Command c = parse("time");
    EXPECT_EQ(c.kind, Kind::Time);
    EXPECT_STREQ(c.id, "-");
    c = parse("time bench-3.17");
    EXPECT_EQ(c.kind, Kind::Time);
    EXPECT_STREQ(c.id, "bench-3.17");
    EXPECT_EQ(parse("time a b").kind, Kind::Error);
    EXPECT_EQ(parse("time a/b").kind, Kind::Error);
    EXPECT_EQ(parse("time " + std::string(33, 't')).kind, Kind::Error);
}

TEST(ControlCommand, HostClock)
{
    EXPECT_EQ(parse("host-clock").kind, Kind::HostClock);
    EXPECT_EQ(parse("host-clock\r").kind, Kind::Error); // LineReader drops the CR, not the parser
    EXPECT_EQ(parse("host-clock now").kind, Kind::Error);
}

TEST(ControlCommand, HostTime)
{
    Command c = parse("host-time 7 1700000000.123456 1700000000.123470");
    ASSERT_EQ(c.kind, Kind::HostTime) << c.error;
    EXPECT_EQ(c.sequence, 7u);
    EXPECT_EQ(c.host_received_ns, 1700000000123456000ull);
    EXPECT_EQ(c.host_sent_ns, 1700000000123470000ull);
    c = parse("host-time 999999999 5 6");
    ASSERT_EQ(c.kind, Kind::HostTime) << c.error;
    EXPECT_EQ(c.sequence, 999999999u);
    EXPECT_EQ(c.host_received_ns, 5000000000ull);
    EXPECT_EQ(c.host_sent_ns, 6000000000ull);
    for (const char* bad : { "host-time", "host-time 1", "host-time 1 5", "host-time x 5 6", "host-time 1 5x 6",
             "host-time 1 5 6x", "host-time 1 -5 6", "host-time 1000000000 5 6", "host-time 1 5 6 7",
             "host-time -1 5 6", "host-time 1 1234567890123456789012345678901234567890.5 6" }) {
        Command b = parse(bad);
        EXPECT_EQ(b.kind, Kind::Error) << bad;
        EXPECT_NE(b.error[0], '\0') << bad;
    }
}
