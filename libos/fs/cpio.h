// SPDX-License-Identifier: MIT
#pragma once

// Reads a cpio archive in the "newc" format (what `cpio -H newc` and the Linux initramfs
// use). The archive comes from outside (the loader, the build), so every field is checked;
// a bad archive gives an error message, never a read out of bounds. Portable, unit-tested.

#include <cstddef>
#include <cstdint>

namespace atl::libos {

struct CpioEntry {
    const char* name; // without a leading "./" or "/"
    std::uint32_t mode;
    std::uint32_t mtime;
    const std::uint8_t* data;
    std::size_t size;
};

class CpioReader {
public:
    CpioReader(const std::uint8_t* data, std::size_t size) : m_data(data), m_size(size) { }
    // The next entry, or false at the trailer, at the end, or on an error (see error()).
    bool next(CpioEntry* out);
    const char* error() const { return m_error; }

private:
    bool fail(const char* why);
    const std::uint8_t* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
    bool m_done = false;
    const char* m_error = nullptr;
};

} // namespace atl::libos
