// SPDX-License-Identifier: MIT
#pragma once

// x86-64's inline accesses to the application's memory (kernel/arch/user_access.h): each load
// or store of the application's side is an `asm goto` whose instruction is recorded, with the
// label to resume at, in the __atoll_extable section; exceptions.cpp's fixup_user_access finds
// it there when that instruction faults. A structure is copied as a few 8-byte moves, as the
// plain assignment it replaces would be, so a system call that writes a timespec costs what it
// did before. The records are linked to the code they describe (section flag "o"), so the
// linker drops them with a function it drops.

#include <cstring>
#include <type_traits>

// One record: the faulting instruction and where to resume, each as an offset from itself (4
// bytes each, and no absolute relocation).
#define ATL_USER_ACCESS_RECORD(insn, fixup)                       \
    ".pushsection __atoll_extable, \"ao\", @progbits, " insn "\n" \
    ".balign 4\n"                                                 \
    ".long " insn " - ., " fixup " - .\n"                         \
    ".popsection\n"

namespace atl::arch {

// user_copy.S
extern "C" bool atoll_user_copy(void* dst, const void* src, std::size_t n);
extern "C" long atoll_user_string_copy(char* dst, const char* src, std::size_t cap);

inline bool user_copy(void* dst, const void* src, std::size_t n) { return atoll_user_copy(dst, src, n); }
inline long user_string_copy(char* dst, const char* src, std::size_t cap) { return atoll_user_string_copy(dst, src, cap); }

namespace detail {

// Types that may alias the application's structures (the moves below are of raw bytes).
using u64a [[gnu::may_alias]] = u64;
using u32a [[gnu::may_alias]] = u32;
using u16a [[gnu::may_alias]] = u16;
using u8a [[gnu::may_alias]] = u8;

// The result of a move that faulted: false, made where the fault lands. (A plain `return false`
// would have the compiler set up the false before every move: it cannot split the edge from
// an asm goto to its label, so the value is materialized on the way in.)
[[gnu::always_inline]] inline bool user_access_faulted()
{
    bool r;
    asm volatile("xor %k0, %k0" : "=r"(r));
    return r;
}

// One move of a T from SRC to DST, the application's side being DST (store) or SRC (load).
template <typename T>
[[gnu::always_inline]] inline bool user_store(void* dst, const void* src)
{
    T v;
    std::memcpy(&v, src, sizeof(T));
    asm goto(".Latl_ua_%=: mov %[v], %[m]\n" ATL_USER_ACCESS_RECORD(".Latl_ua_%=", "%l[fault]")
        : [m] "=m"(*static_cast<T*>(dst))
        : [v] "r"(v)
        :
        : fault);
    return true;
fault:
    return user_access_faulted();
}

template <typename T>
[[gnu::always_inline]] inline bool user_load(void* dst, const void* src)
{
    T v;
    asm goto(".Latl_ua_%=: mov %[m], %[v]\n" ATL_USER_ACCESS_RECORD(".Latl_ua_%=", "%l[fault]")
        : [v] "=r"(v)
        : [m] "m"(*static_cast<const T*>(src))
        :
        : fault);
    std::memcpy(dst, &v, sizeof(T));
    return true;
fault:
    return user_access_faulted();
}

// The bytes from OFFSET on, in the widest moves that fit.
template <bool Store, std::size_t N, std::size_t Offset = 0>
[[gnu::always_inline]] inline bool user_moves(char* dst, const char* src)
{
    constexpr std::size_t left = N - Offset;
    if constexpr (left == 0) {
        return true;
    } else {
        using T = std::conditional_t<left >= 8, u64a, std::conditional_t<left >= 4, u32a, std::conditional_t<left >= 2, u16a, u8a>>>;
        bool ok = Store ? user_store<T>(dst + Offset, src + Offset) : user_load<T>(dst + Offset, src + Offset);
        return ok && user_moves<Store, N, Offset + sizeof(T)>(dst, src);
    }
}

} // namespace detail

// Up to 64 bytes inline; a larger structure (struct stat, a sigaction) through the call.
template <std::size_t N>
[[gnu::always_inline]] inline bool user_read_fixed(void* dst, const void* user_src)
{
    if constexpr (N > 64)
        return atoll_user_copy(dst, user_src, N);
    else
        return detail::user_moves<false, N>(static_cast<char*>(dst), static_cast<const char*>(user_src));
}

template <std::size_t N>
[[gnu::always_inline]] inline bool user_write_fixed(void* user_dst, const void* src)
{
    if constexpr (N > 64)
        return atoll_user_copy(user_dst, src, N);
    else
        return detail::user_moves<true, N>(static_cast<char*>(user_dst), static_cast<const char*>(src));
}

} // namespace atl::arch
