// SPDX-License-Identifier: MIT
// An exception nobody catches: libc++abi reports it and calls abort(), which the libOS turns
// into SIGABRT's default action: a message and exit status 134.
#include <cstdio>
#include <stdexcept>

int main()
{
    std::puts("throwing");
    std::fflush(stdout);
    throw std::runtime_error("nobody catches this");
}
