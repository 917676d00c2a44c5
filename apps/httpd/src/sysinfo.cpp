// SPDX-License-Identifier: MIT
#include "sysinfo.h"

#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <unistd.h>

namespace httpd {

namespace {

// Reads a small /proc file into buf (NUL-terminated); false when it cannot be opened.
bool read_small_file(const char* path, char* buf, std::size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    std::size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += static_cast<std::size_t>(n);
    }
    close(fd);
    buf[len] = '\0';
    return len > 0;
}

std::uint64_t parse_u64(const char*& p)
{
    while (*p == ' ' || *p == '\t')
        ++p;
    std::uint64_t n = 0;
    while (*p >= '0' && *p <= '9')
        n = n * 10 + static_cast<std::uint64_t>(*p++ - '0');
    return n;
}

// The value in kB of a "Name:   1234 kB" line of /proc/meminfo.
bool meminfo_field(const char* text, std::string_view name, std::uint64_t& kb)
{
    for (const char* line = text; *line;) {
        if (std::strncmp(line, name.data(), name.size()) == 0 && line[name.size()] == ':') {
            const char* p = line + name.size() + 1;
            kb = parse_u64(p);
            return true;
        }
        const char* nl = std::strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return false;
}

} // namespace

std::uint64_t memory_in_use_bytes()
{
    char buf[2048];
    if (read_small_file("/proc/self/statm", buf, sizeof buf)) {
        // statm: size resident shared text lib data dt, in pages.
        const char* p = buf;
        (void)parse_u64(p);
        std::uint64_t resident = parse_u64(p);
        long page = sysconf(_SC_PAGESIZE);
        return resident * static_cast<std::uint64_t>(page > 0 ? page : 4096);
    }
    if (read_small_file("/proc/meminfo", buf, sizeof buf)) {
        std::uint64_t total = 0, free = 0;
        if (meminfo_field(buf, "MemTotal", total) && meminfo_field(buf, "MemFree", free) && total >= free)
            return (total - free) * 1024;
    }
    return 0;
}

} // namespace httpd
