// SPDX-License-Identifier: MIT
#include <kernel/result.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <type_traits>

namespace atl {
namespace {

Result<int> parse_digit(char c)
{
    if (c < '0' || c > '9')
        return Error::from_errno(EINVAL);
    return c - '0';
}

int s_steps = 0;

Result<int> sum_of_two(const char* s)
{
    int a = TRY(parse_digit(s[0]));
    ++s_steps; // only reached when the first digit parsed
    int b = TRY(parse_digit(s[1]));
    return a + b;
}

Result<void> check_positive(int v)
{
    if (v <= 0)
        return Error::from_errno(ERANGE);
    return {};
}

Result<long> checked_twice(int v)
{
    TRY(check_positive(v));
    return 2L * v;
}

TEST(Result, ValueAndErrorCarryThrough)
{
    Result<int> ok = sum_of_two("34");
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, 7);

    Result<int> bad = sum_of_two("3x");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code(), EINVAL);
}

TEST(Result, TryReturnsAtTheFirstError)
{
    s_steps = 0;
    Result<int> bad = sum_of_two("x4");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), Error::from_errno(EINVAL));
    EXPECT_EQ(s_steps, 0);
}

TEST(Result, VoidResultsAndTheSyscallForm)
{
    EXPECT_EQ(syscall_return(checked_twice(21)), 42);
    EXPECT_EQ(syscall_return(checked_twice(0)), -ERANGE);
    EXPECT_EQ(syscall_return(check_positive(1)), 0);
    EXPECT_EQ(syscall_return(check_positive(-1)), -ERANGE);
}

// What keeps the conversion of hot paths free: a Result<long> is returned in two registers
// (the x86-64 ABI's rule: at most 16 bytes, trivial copy constructor and destructor).
static_assert(sizeof(Error) == 4);
static_assert(sizeof(Result<long>) == 16);
static_assert(std::is_trivially_copy_constructible_v<Result<long>> && std::is_trivially_destructible_v<Result<long>>);

} // namespace
} // namespace atl
