// SPDX-License-Identifier: MIT
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    std::vector<std::string> words(argv + 1, argv + argc);
    std::string joined = std::accumulate(words.begin(), words.end(), std::string {},
        [](std::string acc, const std::string& w) { return acc.empty() ? w : acc + " " + w; });
    std::cout << "oot-cpp: hello from C++, " << words.size() << " words: " << joined << std::endl;
    return 0;
}
