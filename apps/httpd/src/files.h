// SPDX-License-Identifier: MIT
// Mapping a request target to a file under the document root, safely, and its content type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace httpd {

// The path of a request target, percent-decoded and checked: `path` is absolute, has no empty,
// "." or ".." segments, no NUL, control characters or backslashes, and ends in "/index.html"
// when the target named a directory ("/" -> "/index.html"). `status` is 0 on success or 400.
struct TargetPath {
    int status = 0;
    std::string path;
    std::string_view raw_path; // the target's path before decoding (no query), for redirects
    std::string_view query;    // after '?', without it; empty when none
};

// RFC 9112 §3.2: origin-form ("/a/b?q") and absolute-form ("http://host/a/b?q") targets.
// ".." is refused both before and after decoding, so "/..%2f", "/%2e%2e/" and "/../" all get
// 400 and nothing is ever resolved relative to a parent of the root.
[[nodiscard]] TargetPath decode_target(std::string_view target);

// Content-Type for a file name, from its extension (case-insensitive);
// application/octet-stream when unknown.
[[nodiscard]] std::string_view mime_type(std::string_view path);

struct OpenedFile {
    int status = 0; // 200 (fd is open), 301 (a directory: redirect to path + "/"), 403, 404, 503
    int fd = -1;
    std::uint64_t size = 0;
};

// Opens a path from decode_target() below the directory root_fd, one component at a time with
// openat(O_NOFOLLOW): a symbolic link anywhere on the way is refused (404), even one that
// points inside the root, so no link can lead out of it. Only regular files are served.
[[nodiscard]] OpenedFile open_under_root(int root_fd, std::string_view path);

} // namespace httpd
