// SPDX-License-Identifier: MIT
#pragma once

// The boot command line, one documented syntax (README "Command line"):
//
//     [atoll.KEY=VALUE | driver.KEY=VALUE | NAME=VALUE | WORD]... [-- ARG...]
//
// A KEY=VALUE whose key contains a dot is a kernel or driver parameter; any other NAME=VALUE
// is an environment variable for the application; a bare WORD and everything after `--` are
// the application's arguments (argv[1]...). Double quotes group words ("a b"), and inside
// quotes \" and \\ stand for " and \. Parsing happens in place: tokens point into the buffer.
// One exception to "everything after -- is an argument": a trailing run of
// `virtio_mmio.device=...` words, which QEMU's microvm and Firecracker append to whatever
// command line they were given, are parameters.
// Portable code, unit-tested on the host.

#include <kernel/types.h>

namespace atl {

struct CommandLine {
    static constexpr std::size_t k_max_args = 256;
    static constexpr std::size_t k_max_env = 256;
    static constexpr std::size_t k_max_params = 64;

    struct Param {
        const char* key;
        const char* value;
    };

    const char* args[k_max_args] {};
    std::size_t argc = 0;
    bool saw_separator = false; // `--` was present
    const char* env[k_max_env] {};
    std::size_t envc = 0;
    Param params[k_max_params] {};
    std::size_t paramc = 0;

    // Returns the value of a parameter (the last one given wins), or nullptr.
    const char* param(const char* key) const;
    // Adds or replaces an environment variable NAME=VALUE (same NAME replaces).
    bool set_env(const char* entry);
};

// Parses `buf` (modified in place) and appends to `out`, so a built-in command line can be
// parsed first and the boot command line on top of it. Arguments of a later line that has
// any arguments replace the earlier line's. Returns nullptr or a message naming the error.
[[nodiscard]] const char* parse_command_line(char* buf, CommandLine& out);

} // namespace atl
