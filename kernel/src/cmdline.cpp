// SPDX-License-Identifier: MIT
#include <kernel/cmdline.h>

#include <cstring>

namespace atl {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t name_length(const char* entry)
{
    const char* eq = std::strchr(entry, '=');
    return eq ? static_cast<std::size_t>(eq - entry) : std::strlen(entry);
}

} // namespace

const char* CommandLine::param(const char* key) const
{
    for (std::size_t i = paramc; i > 0; --i) {
        if (std::strcmp(params[i - 1].key, key) == 0)
            return params[i - 1].value;
    }
    return nullptr;
}

bool CommandLine::set_env(const char* entry)
{
    std::size_t n = name_length(entry);
    for (std::size_t i = 0; i < envc; ++i) {
        if (name_length(env[i]) == n && std::strncmp(env[i], entry, n) == 0) {
            env[i] = entry;
            return true;
        }
    }
    if (envc == k_max_env)
        return false;
    env[envc++] = entry;
    return true;
}

const char* parse_command_line(char* buf, CommandLine& out)
{
    char* in = buf;
    bool after_separator = false;
    bool replaced_args = false;
    auto add_arg = [&](const char* word) {
        if (!replaced_args) { // this line's arguments replace the previous line's
            out.argc = 0;
            replaced_args = true;
        }
        if (out.argc == CommandLine::k_max_args)
            return false;
        out.args[out.argc++] = word;
        return true;
    };

    for (;;) {
        while (is_space(*in))
            ++in;
        if (*in == '\0')
            break;
        // Read one word, removing quotes and escapes; the write cursor never passes the read one.
        char* word = in;
        char* w = in;
        bool quoted = false;
        bool was_quoted = false;
        while (*in != '\0' && (quoted || !is_space(*in))) {
            if (*in == '"') {
                quoted = !quoted;
                was_quoted = true;
                ++in;
            } else if (quoted && *in == '\\' && (in[1] == '"' || in[1] == '\\')) {
                *w++ = in[1];
                in += 2;
            } else {
                *w++ = *in++;
            }
        }
        if (quoted)
            return "unterminated quote in the command line";
        bool at_end = *in == '\0';
        *w = '\0';
        if (!at_end)
            ++in;

        if (after_separator) {
            if (!add_arg(word))
                return "too many arguments on the command line";
        } else if (!was_quoted && std::strcmp(word, "--") == 0) {
            after_separator = true;
            out.saw_separator = true;
            if (!replaced_args) {
                out.argc = 0;
                replaced_args = true;
            }
        } else if (char* eq = std::strchr(word, '='); eq && eq != word) {
            *eq = '\0';
            bool is_param = std::strchr(word, '.') != nullptr;
            *eq = '=';
            if (is_param) {
                if (out.paramc == CommandLine::k_max_params)
                    return "too many parameters on the command line";
                *eq = '\0';
                out.params[out.paramc++] = { word, eq + 1 };
            } else if (!out.set_env(word)) {
                return "too many environment variables on the command line";
            }
        } else if (!add_arg(word)) {
            return "too many arguments on the command line";
        }
        if (at_end)
            break;
    }
    // QEMU's microvm and Firecracker append `virtio_mmio.device=...` to the end of the command
    // line, after any `--`: a trailing run of them is taken as parameters, not arguments.
    static constexpr char k_appended[] = "virtio_mmio.device=";
    while (replaced_args && out.argc > 0 &&
           std::strncmp(out.args[out.argc - 1], k_appended, sizeof(k_appended) - 1) == 0) {
        if (out.paramc == CommandLine::k_max_params)
            return "too many parameters on the command line";
        char* word = const_cast<char*>(out.args[--out.argc]);
        // Parameters keep their order: insert before the ones just taken from the end.
        std::size_t at = out.paramc;
        while (at > 0 && std::strncmp(out.params[at - 1].key, "virtio_mmio.device", 18) == 0 &&
               out.params[at - 1].key > word)
            --at;
        for (std::size_t i = out.paramc; i > at; --i)
            out.params[i] = out.params[i - 1];
        word[sizeof(k_appended) - 2] = '\0';
        out.params[at] = { word, word + sizeof(k_appended) - 1 };
        ++out.paramc;
    }
    return nullptr;
}

} // namespace atl
