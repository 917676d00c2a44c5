// SPDX-License-Identifier: MIT
// Fuzz target: httpd's request-target decoding and file lookup (apps/httpd/src/files.cpp).
// A target from a client must either be refused (400) or give a clean absolute path, and
// opening that path below the document root must never reach a file outside it: the root
// here is a small tree (in a temporary directory) with symbolic links that point out of it,
// at themselves and inside it, and a FIFO. No descriptor may leak.
#include "files.h"
#include "http_parser.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <ftw.h>
#include <memory>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

using namespace httpd;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "http_path fuzz: invariant broken: %s\n", what);
    std::abort();
}

std::string s_tmp;
int s_root_fd = -1;
ino_t s_outside_ino = 0;

int remove_entry(const char* path, const struct stat*, int, struct FTW*) { return remove(path); }
void cleanup() { nftw(s_tmp.c_str(), remove_entry, 8, FTW_DEPTH | FTW_PHYS); }

void write_file(const std::string& path, const char* text)
{
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f)
        fail("cannot create the test tree");
    std::fputs(text, f);
    std::fclose(f);
}

void setup()
{
    char tmpl[] = "/tmp/atoll-fuzz-http-XXXXXX";
    if (!mkdtemp(tmpl))
        fail("mkdtemp");
    s_tmp = tmpl;
    std::atexit(cleanup);
    std::string root = s_tmp + "/root";
    mkdir(root.c_str(), 0755);
    mkdir((root + "/sub").c_str(), 0755);
    mkdir((root + "/sub/deeper").c_str(), 0755);
    mkdir((root + "/empty").c_str(), 0755);
    write_file(root + "/index.html", "<h1>inside</h1>");
    write_file(root + "/a.txt", "inside");
    write_file(root + "/sub/index.html", "inside");
    write_file(root + "/sub/deeper/b.css", "inside");
    write_file(root + "/secret", "inside, unreadable");
    chmod((root + "/secret").c_str(), 0);
    write_file(s_tmp + "/outside.txt", "OUTSIDE");
    symlink("../outside.txt", (root + "/out").c_str());
    symlink("..", (root + "/up").c_str());
    symlink("/", (root + "/slash").c_str());
    symlink("a.txt", (root + "/link-inside").c_str());
    symlink("loop", (root + "/loop").c_str());
    mkfifo((root + "/fifo").c_str(), 0644);
    struct stat st {};
    if (stat((s_tmp + "/outside.txt").c_str(), &st) != 0)
        fail("stat outside.txt");
    s_outside_ino = st.st_ino;
    s_root_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s_root_fd < 0)
        fail("cannot open the test root");
}

// The lowest free descriptor: a leak moves it.
int lowest_free_fd()
{
    int fd = dup(0);
    close(fd);
    return fd;
}

bool within(std::string_view part, std::string_view whole)
{
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_path(const std::string& path)
{
    if (path.empty() || path[0] != '/')
        fail("a decoded path that is not absolute");
    std::string_view rest(path);
    rest.remove_prefix(1);
    while (true) {
        std::size_t slash = rest.find('/');
        std::string_view seg = rest.substr(0, slash);
        if (seg.empty() || seg == "." || seg == "..")
            fail("an empty, . or .. segment in a decoded path");
        if (slash == std::string_view::npos)
            break;
        rest.remove_prefix(slash + 1);
    }
    for (char c : path) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '\\')
            fail("a control character or backslash in a decoded path");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (s_root_fd < 0)
        setup();
    int free_fd = lowest_free_fd();
    auto buf = std::make_unique<char[]>(size ? size : 1);
    std::memcpy(buf.get(), data, size);
    std::string_view target(buf.get(), size);

    TargetPath t = decode_target(target);
    if (!within(t.raw_path, target) || !within(t.query, target))
        fail("raw_path or query points outside the target");
    (void)mime_type(target);
    if (t.status != 0) {
        if (t.status != 400)
            fail("a status other than 0 or 400");
        return 0;
    }
    check_path(t.path);
    (void)mime_type(t.path);

    OpenedFile f = open_under_root(s_root_fd, t.path);
    switch (f.status) {
    case 200: {
        struct stat st {};
        if (f.fd < 0 || fstat(f.fd, &st) != 0)
            fail("200 without an open file");
        if (!S_ISREG(st.st_mode))
            fail("200 for something that is not a regular file");
        if (st.st_ino == s_outside_ino)
            fail("a file outside the root was opened");
        if (f.size != static_cast<std::uint64_t>(st.st_size))
            fail("the size is not the file's");
        close(f.fd);
        break;
    }
    case 301: case 403: case 404: case 503:
        if (f.fd != -1)
            fail("a descriptor with a status other than 200");
        break;
    default:
        fail("a status open_under_root does not document");
    }
    if (lowest_free_fd() != free_fd)
        fail("a descriptor leaked");
    return 0;
}
