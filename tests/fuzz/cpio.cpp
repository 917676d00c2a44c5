// SPDX-License-Identifier: MIT
// Fuzz target: the initrd's cpio "newc" reader (libos/fs/cpio.cpp), which unpack_cpio()
// (libos/fs/vfs_init.cpp) runs over the image's ROOTFS archive and over every module the
// loader passes. Every entry it hands out must lie inside the archive, with a terminated name
// that unpack_cpio() can resolve; a bad archive ends in an error, never a read outside it.
#include "cpio.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "cpio fuzz: invariant broken: %s\n", what);
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // An exactly sized copy: one byte past the archive is an ASan report.
    auto archive = std::make_unique<std::uint8_t[]>(size);
    std::memcpy(archive.get(), data, size);
    const std::uint8_t* begin = archive.get();
    const std::uint8_t* end = begin + size;

    atl::libos::CpioReader reader(begin, size);
    atl::libos::CpioEntry e {};
    std::size_t entries = 0;
    while (reader.next(&e)) {
        // Every entry takes at least a 110-byte header: more entries than that is a loop.
        if (++entries > size / 110 + 1)
            fail("more entries than headers fit in the archive");
        auto* name = reinterpret_cast<const std::uint8_t*>(e.name);
        if (name < begin || name >= end)
            fail("the name points outside the archive");
        const void* nul = std::memchr(name, '\0', static_cast<std::size_t>(end - name));
        if (!nul)
            fail("the name is not terminated inside the archive");
        if (e.name[0] == '/' || (e.name[0] == '.' && e.name[1] == '/'))
            fail("the name keeps a leading / or ./");
        if (e.data < begin || e.data > end || e.size > static_cast<std::size_t>(end - e.data))
            fail("the file data runs outside the archive");
        if (e.size) { // the bytes unpack_cpio() copies into the file: both ends readable
            volatile std::uint8_t touch = static_cast<std::uint8_t>(e.data[0] ^ e.data[e.size - 1]);
            (void)touch;
        }
    }
    if (reader.error() && reader.error()[0] == '\0')
        fail("an empty error message");
    // Once it has stopped it stays stopped.
    if (reader.next(&e))
        fail("an entry after the end");
    return 0;
}
