// SPDX-License-Identifier: MIT
#include <kernel/time.h>

#include <gtest/gtest.h>

#include <ctime>

using namespace atl;
using namespace atl::kernel;

TEST(CivilTime, DaysFromCivilMatchesTimegm)
{
    EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
    EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
    for (int year = 1970; year < 2100; year += 7) {
        for (unsigned month = 1; month <= 12; ++month) {
            struct tm tm {};
            tm.tm_year = year - 1900;
            tm.tm_mon = static_cast<int>(month) - 1;
            tm.tm_mday = 28;
            EXPECT_EQ(days_from_civil(year, month, 28) * 86400, static_cast<i64>(timegm(&tm)))
                << year << "-" << month;
        }
    }
}

TEST(CivilTime, ParseRealtime)
{
    u64 ns = 0;
    ASSERT_TRUE(parse_realtime("1700000000.123456789", &ns));
    EXPECT_EQ(ns, 1700000000123456789ull);
    ASSERT_TRUE(parse_realtime("5.5", &ns));
    EXPECT_EQ(ns, 5500000000ull);
    ASSERT_TRUE(parse_realtime("7", &ns));
    EXPECT_EQ(ns, 7000000000ull);
    ASSERT_TRUE(parse_realtime("1.1234567891234", &ns)); // digits past ns are dropped
    EXPECT_EQ(ns, 1123456789ull);
    EXPECT_FALSE(parse_realtime("", &ns));
    EXPECT_FALSE(parse_realtime("-1", &ns));
    EXPECT_FALSE(parse_realtime("12x", &ns));
    EXPECT_FALSE(parse_realtime("99999999999999999999999", &ns));
}
