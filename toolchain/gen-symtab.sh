#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes the assembly for an image's panic symbol table from the first link of the image
# (function names, demangled, without parameter lists, Atoll's own without the atl:: prefix):
#   u32 count, u32 offset of the names, count x { u32 address, u32 name offset }, names.
# usage: gen-symtab.sh LLVM_NM IMAGE OUT.S
set -euo pipefail
nm=$1 image=$2 out=$3
"$nm" -n --defined-only -C "$image" | awk '
    $2 ~ /^[TtWw]$/ {
        addr = $1
        if (length(addr) > 8 && substr(addr, 1, length(addr) - 8) !~ /^0+$/) next
        if (addr == last) next
        last = addr
        name = substr($0, length($1) + length($2) + 3)
        # Qualified names without parameter lists: a backtrace names the function, and the
        # full C++ signatures were two thirds of the table (145 KB of a 900 KB hello).
        gsub(/std::__1::/, "std::", name)
        gsub(/std::basic_string<char, std::char_traits<char>, std::allocator<char>>/, "std::string", name)
        gsub(/, std::char_traits<(char|wchar_t)>/, "", name)
        gsub(/\(anonymous namespace\)/, "{anon}", name)
        # The atl:: namespace prefixes every kernel, driver and libOS function: a backtrace
        # reads the same without it (kernel::panic, libos::sys_read), and every image is
        # ~3 KB smaller.
        sub(/^atl::/, "", name)
        gsub(/\{lambda\([^)]*\)#/, "{lambda#", name)
        gsub(/operator\(\)/, "operator<call>", name)
        paren = index(name, "(")
        if (paren > 1) name = substr(name, 1, paren - 1)
        gsub(/operator<call>/, "operator()", name)
        if (length(name) > 96) name = substr(name, 1, 93) "..."
        n++; addrs[n] = addr; lens[n] = length(name)
        gsub(/\\/, "\\\\", name); gsub(/"/, "\\\"", name)
        names[n] = name
    }
    END {
        print "\t.section .atoll_symtab,\"a\""
        print "\t.balign 4"
        print "\t.global atoll_symtab"
        print "atoll_symtab:"
        printf "\t.long %d\n\t.long .Lstrings - atoll_symtab\n", n
        off = 0
        for (i = 1; i <= n; i++) {
            printf "\t.long 0x%s, %d\n", substr(addrs[i], length(addrs[i]) - 7), off
            off += lens[i] + 1
        }
        print ".Lstrings:"
        for (i = 1; i <= n; i++) printf "\t.asciz \"%s\"\n", names[i]
    }' >"$out.tmp"
mv "$out.tmp" "$out"
