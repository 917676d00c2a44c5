// SPDX-License-Identifier: MIT
// Fuzz target: the boot memory map (kernel/src/memmap.cpp). The loader's E820/PVH entries are
// input (overlapping, unsorted, any address and size, up to 2^64); the kernel hands out as RAM
// exactly the pages collect_usable_memory() returns, so a page in its result that no RAM entry
// covers, or that a reserved entry or range touches, is memory the kernel must never use. The
// result is compared page by page with a direct model over a small limit.
#include <kernel/memmap.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

using atl::k_page_size;
using atl::MemoryMapEntry;
using atl::Range;
using atl::RangeSet;
using atl::u64;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "memmap fuzz: invariant broken: %s\n", what);
    std::abort();
}

u64 any_address(FuzzedDataProvider& in, u64 limit)
{
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return in.ConsumeIntegralInRange<u64>(0, limit + 2 * k_page_size);
    case 1: return in.ConsumeIntegralInRange<u64>(0, 64) * k_page_size; // page-aligned, low
    case 2: return ~u64(0) - in.ConsumeIntegralInRange<u64>(0, 3 * k_page_size); // near 2^64
    default: return in.ConsumeIntegral<u64>();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    FuzzedDataProvider in(data, size);
    // A small limit keeps the model a bitmap; addresses still range over all of 2^64.
    const u64 limit = in.ConsumeIntegralInRange<u64>(1, 256) * k_page_size;
    const u64 pages = limit / k_page_size;
    std::vector<MemoryMapEntry> entries(in.ConsumeIntegralInRange<std::size_t>(0, 24));
    for (MemoryMapEntry& e : entries) {
        e.addr = any_address(in, limit);
        e.size = in.ConsumeBool() ? in.ConsumeIntegralInRange<u64>(0, 8 * k_page_size) : any_address(in, limit);
        e.type = in.ConsumeIntegralInRange<int>(0, 3) == 0 ? in.ConsumeIntegralInRange<std::uint32_t>(2, 5) : 1;
    }
    std::vector<Range> reserved(in.ConsumeIntegralInRange<std::size_t>(0, 3));
    for (Range& r : reserved) { // the kernel's own ranges (its image, boot data): sane
        r.start = in.ConsumeIntegralInRange<u64>(0, limit);
        r.end = r.start + in.ConsumeIntegralInRange<u64>(0, 4 * k_page_size);
    }

    auto out = std::make_unique<RangeSet>();
    const char* err = atl::collect_usable_memory(entries.data(), entries.size(), reserved.data(), reserved.size(),
        limit, *out);
    if (err) // 24 entries and 3 ranges can never need 1024 separate ranges
        fail("an error for a map that fits");

    // The model: a page is usable when a RAM entry covers all of it and no other entry, nor a
    // reserved range, has a byte in it. (The parser may also drop the page a zero-sized
    // reserved entry points into: being careful is allowed there.)
    std::vector<bool> usable(pages, false), careful(pages, false);
    for (const MemoryMapEntry& e : entries) {
        u64 end = e.addr + e.size < e.addr ? ~u64(0) : e.addr + e.size;
        for (u64 p = 0; p < pages; ++p) {
            u64 lo = p * k_page_size, hi = lo + k_page_size;
            if (e.type == atl::k_memory_type_ram) {
                if (e.addr <= lo && hi <= end)
                    usable[p] = true;
            } else if (e.size == 0 && e.addr >= lo && e.addr < hi) {
                careful[p] = true;
            }
        }
    }
    for (const MemoryMapEntry& e : entries) {
        if (e.type == atl::k_memory_type_ram)
            continue;
        u64 end = e.addr + e.size < e.addr ? ~u64(0) : e.addr + e.size;
        for (u64 p = 0; p < pages; ++p)
            if (e.addr < (p + 1) * k_page_size && end > p * k_page_size)
                usable[p] = false;
    }
    for (const Range& r : reserved)
        for (u64 p = 0; p < pages && !r.empty(); ++p)
            if (r.start < (p + 1) * k_page_size && r.end > p * k_page_size)
                usable[p] = false;

    auto print_map = [&] {
        std::fprintf(stderr, "limit %#llx\n", static_cast<unsigned long long>(limit));
        for (const MemoryMapEntry& e : entries)
            std::fprintf(stderr, "entry %#llx + %#llx type %u\n", static_cast<unsigned long long>(e.addr),
                static_cast<unsigned long long>(e.size), e.type);
        for (const Range& r : reserved)
            std::fprintf(stderr, "reserved %#llx - %#llx\n", static_cast<unsigned long long>(r.start),
                static_cast<unsigned long long>(r.end));
        for (std::size_t i = 0; i < out->count(); ++i)
            std::fprintf(stderr, "usable %#llx - %#llx\n", static_cast<unsigned long long>(out->at(i).start),
                static_cast<unsigned long long>(out->at(i).end));
    };
    auto fail_with_map = [&](const char* what) {
        print_map();
        fail(what);
    };
    u64 prev_end = 0;
    for (std::size_t i = 0; i < out->count(); ++i) {
        const Range& r = out->at(i);
        if (r.empty() || r.start % k_page_size || r.end % k_page_size || (i && r.start <= prev_end))
            fail_with_map("the result is not sorted, disjoint, page-aligned ranges");
        if (r.end > limit)
            fail_with_map("usable memory at or above the limit");
        prev_end = r.end;
    }
    for (u64 p = 0; p < pages; ++p) {
        bool got = out->contains(Range { p * k_page_size, (p + 1) * k_page_size });
        if (got && !usable[p])
            fail_with_map("a page no RAM entry covers, or that another entry or a reserved range touches, is usable");
        if (!got && usable[p] && !careful[p])
            fail_with_map("a page every rule allows is missing");
    }
    return 0;
}
