// SPDX-License-Identifier: MIT
// Boot-test driver: runs a command (usually `atoll run ...`), collects its output (stdout and
// stderr together), stops it after a timeout, and checks the output and exit status.
//
//   boottest [--timeout SEC] [--exit N] [--expect REGEX]... [--reject REGEX]...
//            [--count N REGEX]... -- COMMAND...
//
// Each --expect must match some line (ECMAScript regex, searched in the line), and the
// matches must come in the order given. Each --reject must match no line. The timeout only
// guards against a hang; it is not a speed check. --count N REGEX wants exactly N matching lines.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <poll.h>
#include <regex>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

[[noreturn]] void usage(const std::string& why)
{
    std::cerr << "boottest: " << why << "\nusage: boottest [--timeout SEC] [--exit N] "
              << "[--expect REGEX]... [--reject REGEX]... -- COMMAND...\n";
    std::exit(2);
}

struct Result {
    std::string output;
    int status = -1; // exit status, or 128 + signal
    bool timed_out = false;
};

Result run(const std::vector<std::string>& cmd, int timeout_sec)
{
    int fds[2];
    if (pipe(fds) != 0) {
        std::perror("boottest: pipe");
        std::exit(2);
    }
    pid_t pid = fork();
    if (pid < 0) {
        std::perror("boottest: fork");
        std::exit(2);
    }
    if (pid == 0) {
        setpgid(0, 0); // its own process group, so a timeout stops QEMU too
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        std::vector<char*> argv;
        for (auto& s : cmd)
            argv.push_back(const_cast<char*>(s.c_str()));
        argv.push_back(nullptr);
        execvp(argv[0], argv.data());
        std::fprintf(stderr, "boottest: cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(fds[1]);
    Result r;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_sec);
    char buf[4096];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            r.timed_out = true;
            kill(-pid, SIGKILL);
            break;
        }
        pollfd p { fds[0], POLLIN, 0 };
        int n = poll(&p, 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue;
        ssize_t got = read(fds[0], buf, sizeof(buf));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        r.output.append(buf, static_cast<std::size_t>(got));
    }
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) { }
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    int timeout = 60;
    int want_exit = 0;
    std::vector<std::string> expects, rejects, cmd;
    std::vector<std::pair<int, std::string>> counts;
    int i = 1;
    for (; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                usage(a + " needs a value");
            return argv[++i];
        };
        if (a == "--timeout")
            timeout = std::atoi(value().c_str());
        else if (a == "--exit")
            want_exit = std::atoi(value().c_str());
        else if (a == "--expect")
            expects.push_back(value());
        else if (a == "--reject")
            rejects.push_back(value());
        else if (a == "--count") {
            int n = std::atoi(value().c_str());
            counts.emplace_back(n, value());
        }
        else if (a == "--") {
            ++i;
            break;
        } else
            usage("unknown option " + a);
    }
    for (; i < argc; ++i)
        cmd.emplace_back(argv[i]);
    if (cmd.empty())
        usage("no command");
    if (timeout <= 0)
        usage("--timeout must be positive");

    Result r = run(cmd, timeout);
    std::vector<std::string> lines;
    {
        std::istringstream in(r.output);
        for (std::string line; std::getline(in, line);) {
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            lines.push_back(line);
        }
    }

    std::vector<std::string> failures;
    if (r.timed_out)
        failures.push_back("timed out after " + std::to_string(timeout) + " s (the guest hung?)");
    else if (r.status != want_exit)
        failures.push_back("exit status " + std::to_string(r.status) + ", expected " + std::to_string(want_exit));
    std::size_t from = 0;
    for (auto& e : expects) {
        std::regex re(e);
        bool found = false;
        for (std::size_t l = from; l < lines.size(); ++l) {
            if (std::regex_search(lines[l], re)) {
                found = true;
                from = l + 1;
                break;
            }
        }
        if (!found)
            failures.push_back("no line matching /" + e + "/ (after the previous expected line)");
    }
    for (auto& [want, e] : counts) {
        std::regex re(e);
        int n = 0;
        for (auto& line : lines)
            n += std::regex_search(line, re) ? 1 : 0;
        if (n != want)
            failures.push_back(std::to_string(n) + " lines match /" + e + "/, expected " + std::to_string(want));
    }
    for (auto& e : rejects) {
        std::regex re(e);
        for (auto& line : lines) {
            if (std::regex_search(line, re))
                failures.push_back("line matches rejected /" + e + "/: " + line);
        }
    }

    std::cout << "---- output of:";
    for (auto& c : cmd)
        std::cout << ' ' << c;
    std::cout << "\n" << r.output << (r.output.empty() || r.output.back() == '\n' ? "" : "\n") << "---- exit status "
              << r.status << "\n";
    if (failures.empty()) {
        std::cout << "PASS (" << expects.size() << " expected lines, " << rejects.size() << " rejected patterns, exit "
                  << want_exit << ")\n";
        return 0;
    }
    for (auto& f : failures)
        std::cout << "FAIL: " << f << "\n";
    return 1;
}
