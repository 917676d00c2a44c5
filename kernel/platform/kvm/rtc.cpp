// SPDX-License-Identifier: MIT
// The CMOS real-time clock (MC146818 registers behind ports 0x70/0x71), which pc and q35 have
// and microvm has unless started with rtc=off.

#include <kernel/arch/cpu.h>
#include <kernel/platform.h>
#include <kernel/time.h>

#include <arch/x86_64/io.h>

namespace atl::platform {

namespace {

constexpr u16 k_cmos_index = 0x70;
constexpr u16 k_cmos_data = 0x71;

u8 cmos(u8 reg)
{
    arch::outb(k_cmos_index, reg);
    return arch::inb(k_cmos_data);
}

} // namespace

bool read_wall_clock(u64* unix_ns)
{
    if (cmos(0x0a) == 0xff) // no RTC (microvm with rtc=off): the bus floats high
        return false;
    for (int i = 0; i < 100000 && (cmos(0x0a) & 0x80); ++i) // update in progress
        arch::pause();
    u8 sec = cmos(0), min = cmos(2), hour = cmos(4), day = cmos(7), mon = cmos(8), year = cmos(9);
    u8 status_b = cmos(0x0b);
    auto bin = [&](u8 v) -> unsigned { return (status_b & 4) ? v : (v & 0x0f) + (v >> 4) * 10; };
    bool pm = !(status_b & 2) && (hour & 0x80);
    unsigned h = bin(hour & 0x7f);
    if (pm)
        h = (h % 12) + 12;
    unsigned m = bin(mon), d = bin(day);
    if (m < 1 || m > 12 || d < 1 || d > 31 || h > 23 || bin(min) > 59 || bin(sec) > 60)
        return false;
    i64 days = kernel::days_from_civil(2000 + bin(year), m, d);
    *unix_ns = static_cast<u64>(((days * 24 + h) * 60 + bin(min)) * 60 + bin(sec)) * 1000000000ull;
    return true;
}

} // namespace atl::platform
