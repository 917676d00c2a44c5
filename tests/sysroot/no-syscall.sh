#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The sysroot's libc.a must not execute `syscall` anywhere: every system call is a call to
# __atoll_syscall. Counts the mnemonic in the disassembly (not symbol names), and checks the
# disassembly is real by finding calls to __atoll_syscall in it.
set -euo pipefail
sysroot=$1
libc="$sysroot/lib/libc.a"
[ -f "$libc" ] || { echo "FAIL: no $libc"; exit 1; }
dis=$(llvm-objdump-19 -dr --no-show-raw-insn "$libc")
syscalls=$(grep -cE '^\s+[0-9a-f]+:\s+syscall\b' <<<"$dis" || true)
calls=$(grep -cE "R_X86_64_(PLT32|PC32)\s+__atoll_syscall" <<<"$dis" || true)
echo "libc.a: $syscalls syscall instructions, $calls call sites of __atoll_syscall"
[ "$calls" -gt 100 ] || { echo "FAIL: expected hundreds of calls to __atoll_syscall"; exit 1; }
[ "$syscalls" = 0 ] || { echo "FAIL: libc.a still executes syscall"; exit 1; }
echo PASS
