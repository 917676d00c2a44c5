// SPDX-License-Identifier: MIT
#include "files.h"

#include "http_parser.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace httpd {

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool is_dot_segment(std::string_view s) { return s == "." || s == ".."; }

// Checks every '/'-separated segment of `path` (ignoring empty ones).
bool has_dot_segment(std::string_view path)
{
    while (!path.empty()) {
        std::size_t slash = path.find('/');
        if (is_dot_segment(path.substr(0, slash)))
            return true;
        if (slash == std::string_view::npos)
            break;
        path.remove_prefix(slash + 1);
    }
    return false;
}

constexpr std::size_t k_name_max = 255;

} // namespace

TargetPath decode_target(std::string_view target)
{
    TargetPath out;
    out.status = 400;

    // absolute-form: drop "scheme://authority".
    for (std::string_view scheme : { std::string_view("http://"), std::string_view("https://") }) {
        if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme)) {
            std::string_view rest = target.substr(scheme.size());
            std::size_t slash = rest.find_first_of("/?#");
            if (slash == std::string_view::npos || rest[slash] != '/')
                return out; // "http://host" or "http://host?q": no path to serve
            target = rest.substr(slash);
            break;
        }
    }
    if (target.empty() || target.front() != '/')
        return out;

    std::size_t end = target.find_first_of("?#");
    std::string_view raw = target.substr(0, end);
    if (end != std::string_view::npos && target[end] == '?') {
        std::string_view q = target.substr(end + 1);
        out.query = q.substr(0, q.find('#'));
    }
    out.raw_path = raw;

    // Before decoding: no backslashes (a Windows separator to some file systems) and no dot
    // segments.
    if (raw.find('\\') != std::string_view::npos || has_dot_segment(raw))
        return out;

    std::string decoded;
    decoded.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%') {
            if (i + 2 >= raw.size())
                return out;
            int hi = hex_value(raw[i + 1]), lo = hex_value(raw[i + 2]);
            if (hi < 0 || lo < 0)
                return out;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '\\') // NUL and other controls, decoded backslashes
            return out;
        decoded.push_back(c);
    }

    // After decoding ("%2e%2e", "..%2f"): split again, refuse dot segments, drop empty ones.
    std::string clean;
    clean.reserve(decoded.size() + 11);
    std::string_view rest = decoded;
    while (!rest.empty()) {
        std::size_t slash = rest.find('/');
        std::string_view seg = rest.substr(0, slash);
        if (is_dot_segment(seg))
            return out;
        if (!seg.empty()) {
            clean.push_back('/');
            clean.append(seg);
        }
        if (slash == std::string_view::npos)
            break;
        rest.remove_prefix(slash + 1);
    }
    if (decoded.empty() || decoded.back() == '/')
        clean.append("/index.html");
    out.path = std::move(clean);
    out.status = 0;
    return out;
}

std::string_view mime_type(std::string_view path)
{
    struct Entry {
        std::string_view ext, type;
    };
    static constexpr Entry k_types[] = {
        { "html", "text/html; charset=utf-8" },
        { "htm", "text/html; charset=utf-8" },
        { "css", "text/css; charset=utf-8" },
        { "js", "text/javascript; charset=utf-8" }, // RFC 9239
        { "mjs", "text/javascript; charset=utf-8" },
        { "json", "application/json" },
        { "txt", "text/plain; charset=utf-8" },
        { "png", "image/png" },
        { "jpg", "image/jpeg" },
        { "jpeg", "image/jpeg" },
        { "gif", "image/gif" },
        { "svg", "image/svg+xml" },
        { "ico", "image/x-icon" },
        { "wasm", "application/wasm" },
        { "pdf", "application/pdf" },
        { "xml", "application/xml" },
        { "webp", "image/webp" },
        { "woff2", "font/woff2" },
    };
    std::size_t slash = path.rfind('/');
    std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    std::size_t dot = name.rfind('.');
    if (dot != std::string_view::npos && dot > 0) {
        std::string_view ext = name.substr(dot + 1);
        for (const Entry& e : k_types)
            if (iequals(ext, e.ext))
                return e.type;
    }
    return "application/octet-stream";
}

OpenedFile open_under_root(int root_fd, std::string_view path)
{
    auto fail = [](int err) {
        OpenedFile f;
        switch (err) {
        case EACCES:
        case EPERM:
            f.status = 403;
            break;
        case EMFILE:
        case ENFILE:
        case ENOMEM:
            f.status = 503;
            break;
        default: // ENOENT, ENOTDIR, ELOOP (a symbolic link), ENAMETOOLONG, ...
            f.status = 404;
            break;
        }
        return f;
    };

    int dir = root_fd;
    std::string name; // NUL-terminated copy of one component
    while (!path.empty()) {
        path.remove_prefix(1); // the '/'
        std::size_t slash = path.find('/');
        std::string_view seg = path.substr(0, slash);
        if (seg.size() > k_name_max) {
            if (dir != root_fd)
                close(dir);
            return fail(ENAMETOOLONG);
        }
        name.assign(seg);
        bool last = slash == std::string_view::npos;
        // O_NOFOLLOW refuses a link as the final component of each openat, and every component
        // is the final one of its own call. O_NONBLOCK: opening a FIFO must not block the loop.
        int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? O_NONBLOCK | O_NOCTTY : O_DIRECTORY);
        int fd = openat(dir, name.c_str(), flags);
        int err = errno;
        if (dir != root_fd)
            close(dir);
        if (fd < 0)
            return fail(err);
        if (last) {
            struct stat st {};
            if (fstat(fd, &st) != 0) {
                err = errno;
                close(fd);
                return fail(err);
            }
            OpenedFile f;
            if (S_ISDIR(st.st_mode)) {
                close(fd);
                f.status = 301;
                return f;
            }
            if (!S_ISREG(st.st_mode)) {
                close(fd);
                return fail(ENOENT);
            }
            f.status = 200;
            f.fd = fd;
            f.size = static_cast<std::uint64_t>(st.st_size);
            return f;
        }
        dir = fd;
        path.remove_prefix(slash);
    }
    if (dir != root_fd)
        close(dir);
    return fail(ENOENT);
}

} // namespace httpd
