// SPDX-License-Identifier: MIT
#include <kernel/cmdline.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

using atl::CommandLine;
using atl::parse_command_line;

namespace {

struct Parsed {
    std::vector<std::string> args, env, params;
    bool separator = false;
    std::string error;
};

Parsed parse(std::vector<std::string> lines)
{
    auto cl = std::make_unique<CommandLine>();
    static std::vector<std::vector<char>> keep; // tokens point into the buffers
    Parsed p;
    for (auto& line : lines) {
        keep.emplace_back(line.begin(), line.end());
        keep.back().push_back('\0');
        if (const char* e = parse_command_line(keep.back().data(), *cl)) {
            p.error = e;
            return p;
        }
    }
    for (std::size_t i = 0; i < cl->argc; ++i)
        p.args.emplace_back(cl->args[i]);
    for (std::size_t i = 0; i < cl->envc; ++i)
        p.env.emplace_back(cl->env[i]);
    for (std::size_t i = 0; i < cl->paramc; ++i)
        p.params.push_back(std::string(cl->params[i].key) + "=" + cl->params[i].value);
    p.separator = cl->saw_separator;
    return p;
}

using S = std::vector<std::string>;

TEST(CommandLine, SplitsParamsEnvAndArgs)
{
    auto p = parse({ "atoll.realtime=12.5 HOME=/ virtio_mmio.device=4K@0xfeb00000:12 -- alpha beta" });
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.params, (S { "atoll.realtime=12.5", "virtio_mmio.device=4K@0xfeb00000:12" }));
    EXPECT_EQ(p.env, (S { "HOME=/" }));
    EXPECT_EQ(p.args, (S { "alpha", "beta" }));
    EXPECT_TRUE(p.separator);
}

TEST(CommandLine, EverythingAfterSeparatorIsAnArgument)
{
    auto p = parse({ "-- --exit 7 A=B atoll.x=1 --" });
    EXPECT_EQ(p.args, (S { "--exit", "7", "A=B", "atoll.x=1", "--" }));
    EXPECT_TRUE(p.env.empty());
    EXPECT_TRUE(p.params.empty());
}

TEST(CommandLine, BareWordsBeforeSeparatorAreArguments)
{
    auto p = parse({ "  one\ttwo  " });
    EXPECT_EQ(p.args, (S { "one", "two" }));
    EXPECT_FALSE(p.separator);
}

TEST(CommandLine, QuotesGroupAndEscape)
{
    auto p = parse({ R"(MSG="hello world" -- "two words" "say \"hi\"" "back\\slash" a"b c"d "")" });
    EXPECT_EQ(p.error, "");
    EXPECT_EQ(p.env, (S { "MSG=hello world" }));
    EXPECT_EQ(p.args, (S { "two words", "say \"hi\"", "back\\slash", "ab cd", "" }));
}

TEST(CommandLine, QuotedSeparatorIsAnArgument)
{
    auto p = parse({ R"(x "--" y)" });
    EXPECT_EQ(p.args, (S { "x", "--", "y" }));
    EXPECT_FALSE(p.separator);
}

TEST(CommandLine, UnterminatedQuoteIsAnError)
{
    auto p = parse({ R"(-- "open)" });
    EXPECT_NE(p.error.find("unterminated quote"), std::string::npos);
}

TEST(CommandLine, BootLineOverridesBuiltIn)
{
    auto p = parse({ "GREETING=Hello MODE=a -- default", "GREETING=Hi -- given" });
    EXPECT_EQ(p.env, (S { "GREETING=Hi", "MODE=a" }));
    EXPECT_EQ(p.args, (S { "given" }));
}

TEST(CommandLine, BootLineWithoutArgumentsKeepsBuiltInOnes)
{
    auto p = parse({ "-- default args", "atoll.realtime=1" });
    EXPECT_EQ(p.args, (S { "default", "args" }));
    auto q = parse({ "-- default args", "--" }); // an explicit empty list replaces them
    EXPECT_TRUE(q.args.empty());
}

TEST(CommandLine, LastParameterWins)
{
    auto cl = std::make_unique<CommandLine>();
    char line[] = "atoll.x=1 atoll.x=2";
    ASSERT_EQ(parse_command_line(line, *cl), nullptr);
    EXPECT_STREQ(cl->param("atoll.x"), "2");
    EXPECT_EQ(cl->param("atoll.y"), nullptr);
}

TEST(CommandLine, TooManyArgumentsIsAnError)
{
    std::string line = "--";
    for (std::size_t i = 0; i <= CommandLine::k_max_args; ++i)
        line += " a";
    auto p = parse({ line });
    EXPECT_NE(p.error.find("too many arguments"), std::string::npos);
}

TEST(CommandLine, TrailingVirtioMmioDevicesAreParameters)
{
    auto p = parse({ "atoll.x=1 -- a virtio_mmio.device=9 b virtio_mmio.device=512@0xfeb00e00:12 "
                     "virtio_mmio.device=512@0xfeb00c00:11" });
    EXPECT_EQ(p.args, (S { "a", "virtio_mmio.device=9", "b" })); // only the trailing run
    EXPECT_EQ(p.params, (S { "atoll.x=1", "virtio_mmio.device=512@0xfeb00e00:12", "virtio_mmio.device=512@0xfeb00c00:11" }));
}

TEST(CommandLine, EmptyAndSpaceOnlyLines)
{
    auto p = parse({ "", "   " });
    EXPECT_EQ(p.error, "");
    EXPECT_TRUE(p.args.empty());
    EXPECT_TRUE(p.env.empty());
}

} // namespace
