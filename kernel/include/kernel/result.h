// SPDX-License-Identifier: MIT
#pragma once

// Errors as values (STYLE.md, "Errors and ownership"): a fallible function returns a
// Result<T>, either its value or an Error, and a caller passes an error up with TRY:
//
//     Result<Page*> map_one(u64 va)
//     {
//         u64 phys = TRY(allocate_page());    // returns the error if there is one
//         ...
//     }
//
// The Error is an errno value (ENOMEM, EINVAL, EFAULT, ...), the vocabulary the system-call
// ABI speaks, so a libOS call turns it into its -errno return with one call
// (Error::syscall_return) at the ABI and nowhere else. It holds no message: an Error stays
// four bytes, so a Result<long> is sixteen and comes back in two registers, and passing one
// up costs what passing a long did. A message belongs in the log at the place that knows what
// failed.

#include <kernel/types.h>

#include <expected>
#include <type_traits>
#include <utility>

namespace atl {

class Error {
public:
    // CODE is a positive errno value.
    static constexpr Error from_errno(int code) { return Error(code); }

    constexpr int code() const { return m_code; }
    // The system-call ABI's form: -errno.
    constexpr long syscall_return() const { return -static_cast<long>(m_code); }

    constexpr bool operator==(const Error&) const = default;

private:
    constexpr explicit Error(int code)
        : m_code(code)
    {
    }

    int m_code;
};

// The value or the error. [[nodiscard]]: an ignored Result is an ignored error; a caller that
// really does not care says so with (void).
template <typename T = void>
class [[nodiscard]] Result : public std::expected<T, Error> {
public:
    using std::expected<T, Error>::expected;
    // A bare Error converts (return Error::from_errno(EINVAL);), as std::unexpected does.
    constexpr Result(Error e)
        : std::expected<T, Error>(std::unexpect, e)
    {
    }
};

// The system-call ABI's form of a Result: the value, or -errno.
template <typename T>
constexpr long syscall_return(const Result<T>& r)
{
    if (!r)
        return r.error().syscall_return();
    if constexpr (std::is_void_v<T>)
        return 0;
    else
        return static_cast<long>(*r);
}

} // namespace atl

// Evaluates EXPR (a Result); on an error, returns that error from the enclosing function
// (which returns a Result of any type); otherwise yields the value (nothing for Result<void>).
// A GNU statement expression, as clang and GCC both take.
#define TRY(expr)                                         \
    ({                                                    \
        auto&& atl_try_result_ = (expr);                  \
        if (!atl_try_result_) [[unlikely]]                \
            return ::atl::Error(atl_try_result_.error()); \
        *std::move(atl_try_result_);                      \
    })
