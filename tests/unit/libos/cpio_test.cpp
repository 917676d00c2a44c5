// SPDX-License-Identifier: MIT
#include "cpio.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

using atl::libos::CpioEntry;
using atl::libos::CpioReader;

namespace {

// Builds a newc archive the way `cpio -o -H newc` lays it out.
struct Builder {
    std::string out;
    void add(const std::string& name, unsigned mode, const std::string& data)
    {
        char h[111];
        std::snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u, mode, 0u, 0u, 1u,
            1700000000u, static_cast<unsigned>(data.size()), 0u, 0u, 0u, 0u, static_cast<unsigned>(name.size() + 1), 0u);
        out += h;
        out += name;
        out += '\0';
        while (out.size() % 4)
            out += '\0';
        out += data;
        while (out.size() % 4)
            out += '\0';
    }
    void trailer() { add("TRAILER!!!", 0, ""); }
};

std::vector<std::string> names(const std::string& archive, std::string* error = nullptr)
{
    CpioReader r(reinterpret_cast<const std::uint8_t*>(archive.data()), archive.size());
    std::vector<std::string> out;
    CpioEntry e;
    while (r.next(&e))
        out.emplace_back(std::string(e.name) + ":" + std::string(reinterpret_cast<const char*>(e.data), e.size));
    if (error)
        *error = r.error() ? r.error() : "";
    return out;
}

TEST(Cpio, ReadsEntriesAndStripsLeadingDotSlash)
{
    Builder b;
    b.add(".", 040755, "");
    b.add("./www", 040755, "");
    b.add("./www/index.html", 0100644, "<h1>hi</h1>");
    b.add("etc/x", 0100600, "abc");
    b.trailer();
    std::string err;
    EXPECT_EQ(names(b.out, &err), (std::vector<std::string> { ".:", "www:", "www/index.html:<h1>hi</h1>", "etc/x:abc" }));
    EXPECT_EQ(err, "");
}

TEST(Cpio, ModesAndSizes)
{
    Builder b;
    b.add("f", 0100755, std::string(5000, 'z'));
    b.trailer();
    CpioReader r(reinterpret_cast<const std::uint8_t*>(b.out.data()), b.out.size());
    CpioEntry e;
    ASSERT_TRUE(r.next(&e));
    EXPECT_EQ(e.mode, 0100755u);
    EXPECT_EQ(e.size, 5000u);
    EXPECT_EQ(e.mtime, 1700000000u);
    EXPECT_FALSE(r.next(&e));
    EXPECT_EQ(r.error(), nullptr);
}

TEST(Cpio, EveryTruncationIsAnErrorNotACrash)
{
    Builder b;
    b.add("dir/file", 0100644, "some data here");
    b.trailer();
    for (std::size_t len = 1; len < b.out.size(); ++len) {
        std::string cut = b.out.substr(0, len);
        std::string err;
        auto n = names(cut, &err);
        // Either an error is reported, or what came out is whole (the cut fell between
        // entries: an archive without a trailer is accepted, as Linux does).
        if (n.empty())
            EXPECT_FALSE(err.empty()) << "length " << len;
        else
            EXPECT_EQ(n[0], "dir/file:some data here") << "length " << len;
    }
}

TEST(Cpio, GarbageIsRejected)
{
    std::string err;
    EXPECT_TRUE(names(std::string(200, 'x'), &err).empty());
    EXPECT_NE(err.find("bad magic"), std::string::npos);
    Builder b;
    b.add("x", 0100644, "data");
    b.out[10] = 'G'; // not a hex digit
    names(b.out, &err);
    EXPECT_NE(err.find("hex"), std::string::npos);
}

TEST(Cpio, LyingSizesAreCaught)
{
    Builder b;
    b.add("x", 0100644, "data");
    std::string bad = b.out;
    bad.replace(6 + 8 * 6, 8, "7FFFFFFF"); // filesize far past the end
    std::string err;
    names(bad, &err);
    EXPECT_NE(err.find("past the end"), std::string::npos);
    bad = b.out;
    bad.replace(6 + 8 * 11, 8, "00000000"); // name size 0
    names(bad, &err);
    EXPECT_NE(err.find("name size"), std::string::npos);
    bad = b.out;
    bad.replace(6 + 8 * 11, 8, "00000001"); // name size 1 but the name is "x\0"
    names(bad, &err);
    EXPECT_NE(err.find("not terminated"), std::string::npos);
}

} // namespace

TEST(Cpio, ConcatenatedArchivesAreOneTree)
{
    Builder first, second;
    first.add("etc/a", 0100644, "1");
    first.trailer();
    while (first.out.size() % 512) // block padding, as cpio -o writes it
        first.out += '\0';
    second.add(".atoll/stdin", 0100600, "input");
    second.trailer();
    std::string err;
    EXPECT_EQ(names(first.out + second.out, &err), (std::vector<std::string> { "etc/a:1", ".atoll/stdin:input" }));
    EXPECT_EQ(err, "");
}

TEST(Cpio, JunkAfterTheTrailerIsAnError)
{
    Builder b;
    b.add("x", 0100644, "1");
    b.trailer();
    std::string err;
    names(b.out + "junk", &err);
    EXPECT_NE(err, "");
    names(b.out + std::string(600, '\0'), &err); // padding alone is fine
    EXPECT_EQ(err, "");
}

// Found by tests/fuzz/cpio.cpp: "/./x" kept its "./" (only "./" runs, then "/" runs, were
// stripped), so a name reached unpack_cpio() with a leading "./".
TEST(Cpio, EveryMixOfLeadingSlashesAndDotSlashesIsStripped)
{
    Builder b;
    for (const char* name : { "/./a", ".//b", "/.//./c", "././/d", "//e" })
        b.add(name, 0100644, "");
    b.add("./.hidden", 0100644, "");
    b.add("/./", 040755, "");
    b.trailer();
    std::string err;
    EXPECT_EQ(names(b.out, &err), (std::vector<std::string> { "a:", "b:", "c:", "d:", "e:", ".hidden:", ":" }));
    EXPECT_EQ(err, "");
}

// An initrd of many concatenated empty archives: each trailer used to recurse into the next
// one, so their number (the input's choice) bounded the reader's stack depth.
TEST(Cpio, ManyConcatenatedArchivesNeedNoStack)
{
    Builder one;
    one.trailer();
    std::string archive;
    for (int i = 0; i < 200000; ++i)
        archive += one.out;
    Builder last;
    last.add("end", 0100644, "!");
    last.trailer();
    archive += last.out;
    std::string err;
    EXPECT_EQ(names(archive, &err), (std::vector<std::string> { "end:!" }));
    EXPECT_EQ(err, "");
}
