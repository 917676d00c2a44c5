#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Writes the assembly for an image's panic symbol table from the first link of the image:
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
        if (length(name) > 120) name = substr(name, 1, 117) "..."
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
