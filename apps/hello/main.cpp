// SPDX-License-Identifier: MIT
// The first Atoll application: the C++ runtime end to end. It prints its arguments, uses the
// standard containers, streams and exceptions, reads its environment and exits with the code
// given by `--exit N`.
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// A global with a constructor: runs before main() through the image's .init_array.
struct Banner {
    std::string text;
    Banner() : text("static constructors ran") { }
};
Banner g_banner;

int parse_exit_code(const std::string& text)
{
    std::size_t used = 0;
    int code = std::stoi(text, &used); // throws std::invalid_argument / std::out_of_range
    if (used != text.size() || code < 0 || code > 255)
        throw std::out_of_range("exit code must be 0..255, got '" + text + "'");
    return code;
}

} // namespace

int main(int argc, char** argv)
{
    std::cout << "Hello from Atoll\n";
    std::cout << g_banner.text << '\n';

    std::vector<std::string> args(argv, argv + argc);
    int exit_code = 0;
    for (std::size_t i = 1; i < args.size(); ++i) {
        std::ostringstream line;
        line << "argv[" << i << "]=" << args[i];
        std::cout << line.str() << '\n';
        if (args[i] == "--exit") {
            if (i + 1 >= args.size()) {
                std::cerr << "hello: --exit needs a value\n";
                return 2;
            }
            try {
                exit_code = parse_exit_code(args[i + 1]);
            } catch (const std::exception& e) {
                std::cerr << "hello: bad --exit value: " << e.what() << '\n';
                return 2;
            }
        }
    }

    const char* greeting = std::getenv("GREETING");
    std::cout << "GREETING=" << (greeting ? greeting : "(unset)") << '\n';

    try {
        throw std::runtime_error("exceptions work");
    } catch (const std::runtime_error& e) {
        std::cout << "caught: " << e.what() << '\n';
    }
    std::cout.flush();
    return exit_code;
}
