// SPDX-License-Identifier: MIT
// The cpio "newc" reader (cpio.h) under unpack_cpio (vfs_init.cpp).

#include "cpio.h"

#include <cstring>

namespace atl::libos {

namespace {

constexpr std::size_t k_header = 110; // "070701" + 13 fields of 8 hex digits

bool hex8(const std::uint8_t* p, std::uint32_t* out)
{
    std::uint32_t v = 0;
    for (int i = 0; i < 8; ++i) {
        std::uint8_t c = p[i];
        std::uint32_t d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        v = (v << 4) | d;
    }
    *out = v;
    return true;
}

std::size_t pad4(std::size_t v) { return (v + 3) & ~std::size_t(3); }

} // namespace

bool CpioReader::fail(const char* why)
{
    m_error = why;
    m_done = true;
    return false;
}

bool CpioReader::next(CpioEntry* out)
{
    // A loop, not a recursion, over concatenated archives: their number is the input's to choose.
    for (;;) {
        if (m_done)
            return false;
        if (m_pos == m_size) { // ended without a trailer: accept, as the kernel does
            m_done = true;
            return false;
        }
        if (m_size - m_pos < k_header)
            return fail("initrd: truncated cpio header");
        const std::uint8_t* h = m_data + m_pos;
        if (std::memcmp(h, "070701", 6) != 0 && std::memcmp(h, "070702", 6) != 0)
            return fail("initrd: not a cpio newc archive (bad magic)");
        std::uint32_t f[13];
        for (int i = 0; i < 13; ++i) {
            if (!hex8(h + 6 + 8 * i, &f[i]))
                return fail("initrd: bad hex digit in a cpio header");
        }
        std::uint32_t mode = f[1], mtime = f[5], filesize = f[6], namesize = f[11];
        if (namesize == 0 || namesize > 4096)
            return fail("initrd: bad name size in a cpio header");
        std::size_t name_at = m_pos + k_header;
        if (m_size - name_at < namesize)
            return fail("initrd: cpio name runs past the end");
        const char* name = reinterpret_cast<const char*>(m_data + name_at);
        if (name[namesize - 1] != '\0' || std::strlen(name) != namesize - 1)
            return fail("initrd: cpio name is not terminated");
        std::size_t data_at = pad4(name_at + namesize);
        if (data_at > m_size || m_size - data_at < filesize)
            return fail("initrd: cpio file data runs past the end");
        if (std::strcmp(name, "TRAILER!!!") == 0) {
            // Archives may be concatenated (as Linux's initramfs allows), with NUL padding
            // between them: another "0707" after the padding starts the next one.
            std::size_t at = pad4(data_at + filesize);
            while (at < m_size && m_data[at] == 0)
                ++at;
            if (at < m_size && m_size - at >= 4 && std::memcmp(m_data + at, "0707", 4) == 0) {
                m_pos = at;
                continue;
            }
            if (at < m_size)
                return fail("initrd: data after the cpio trailer is not another archive");
            m_done = true;
            return false;
        }
        m_pos = pad4(data_at + filesize);
        if (m_pos > m_size)
            m_pos = m_size; // the last entry's padding may be missing
        // Any mix of leading "/" and "./" ("/./x", ".//x"): names are relative to the root.
        for (;;) {
            if (name[0] == '/')
                ++name;
            else if (name[0] == '.' && name[1] == '/')
                name += 2;
            else
                break;
        }
        *out = CpioEntry { name, mode, mtime, m_data + data_at, filesize };
        return true;
    }
}

} // namespace atl::libos
