// SPDX-License-Identifier: MIT
// Portable date and time arithmetic (unit-tested on the host).
#include <kernel/time.h>

namespace atl::kernel {

bool parse_realtime(const char* text, u64* unix_ns)
{
    u64 sec = 0, frac = 0, scale = 1000000000;
    const char* p = text;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; ++p) {
        sec = sec * 10 + static_cast<u64>(*p - '0');
        if (sec > u64(1) << 33) // year 2242: a typo, not a clock
            return false;
    }
    if (*p == '.') {
        for (++p; *p >= '0' && *p <= '9'; ++p) {
            if (scale > 1) {
                scale /= 10;
                frac += static_cast<u64>(*p - '0') * scale;
            }
        }
    }
    if (*p != '\0')
        return false;
    *unix_ns = sec * 1000000000ull + frac;
    return true;
}

i64 days_from_civil(i64 y, unsigned m, unsigned d)
{
    // Howard Hinnant's well-known algorithm, restated: years start in March so the leap day
    // comes last; eras are 400-year cycles of 146097 days.
    y -= m <= 2;
    const i64 era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<i64>(doe) - 719468;
}

} // namespace atl::kernel
