#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lock types (issue 13): interrupts are masked through kernel/lock.h's types only, and the
# `_locked` suffix is checked by the compiler. Scans the C and C++ sources of kernel/, drivers/,
# net/ and libos/ and prints file:line and what it found; exit status 1 when anything is
# found, 0 when the tree is clean, 2 on a usage error.
#
# usage: locks.sh SRC_ROOT
#
# Comments and string literals do not count (they are blanked first, keeping line numbers).
# What is looked for:
#   - a call of irq_save( or irq_restore( outside kernel/include/kernel/lock.h (the lock
#     types), kernel/include/kernel/interrupts.h (their declaration) and kernel/arch/ (their
#     definition, with the interrupt code): everything else takes a lock (SpinLock,
#     ScopedLock, InterruptGuard, Protected<T>);
#   - a function declared or defined with a name ending in `_locked` without ATL_REQUIRES(...)
#     between its parameter list and its body or `;`: the suffix says the caller holds a lock,
#     the annotation makes clang's -Wthread-safety check it.
set -u -o pipefail
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: locks.sh SRC_ROOT" >&2
    exit 2
fi
exec python3 - "$1" <<'PY'
import os
import re
import sys

root = sys.argv[1]
layers = ["kernel", "drivers", "net", "libos"]
irq_allowed = ["kernel/include/kernel/lock.h", "kernel/include/kernel/interrupts.h", "kernel/arch/"]
skipped_dirs = {"tests", "toolchain", "build", ".git"}
c_like = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".inc", ".ipp")


def strip(text):
    """Comments and string/character literals blanked, newlines kept."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            i += 1  # keep the opening quote
            j -= 1  # and the closing one
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = max(j, i + 1)
    return "".join(out)


irq_call = re.compile(r"(?<![\w$])((?:[A-Za-z_]\w*\s*::\s*)*)(irq_save|irq_restore)\s*\(")
locked_name = re.compile(r"(?<![\w$])([A-Za-z_]\w*_locked)\s*\(")
# What precedes a name in a call (an expression) rather than a declaration.
call_context = re.compile(r"(?:->|\.|[=(,!&|?:+\-/%<>\[{;}]|\breturn|\bco_return|\)|\bnew|\bdelete|::)\s*$")
decl_context = re.compile(r"(?:[\w>*&]|::)\s*$")

findings = []


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def close_paren(code, i):
    depth = 0
    for j in range(i, len(code)):
        if code[j] == "(":
            depth += 1
        elif code[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return len(code)


def scan(rel, text):
    code = strip(text)
    if not any(rel == a or rel.startswith(a) for a in irq_allowed):
        for m in irq_call.finditer(code):
            findings.append((rel, line_of(code, m.start()), f"`{m.group(2)}(` outside the lock types: take a lock "
                             "(kernel/lock.h: SpinLock, ScopedLock, InterruptGuard, Protected<T>)"))
    for m in locked_name.finditer(code):
        before = code[max(0, m.start() - 80):m.start()]
        # Strip a qualification (Class::name_locked) before looking at what precedes it.
        before = re.sub(r"(?:[A-Za-z_]\w*\s*::\s*)+$", "", before)
        if call_context.search(before) or not decl_context.search(before):
            continue
        open_at = code.index("(", m.start())
        end = close_paren(code, open_at)
        rest = code[end + 1:]
        stop = re.search(r"[{;]|=\s*(?:default|delete)\b", rest)
        tail = rest[:stop.start()] if stop else rest
        if not re.search(r"\bATL_REQUIRES\s*\(", tail):
            findings.append((rel, line_of(code, m.start()),
                             f"`{m.group(1)}` is named _locked but not declared ATL_REQUIRES(lock)"))


for layer in layers:
    top = os.path.join(root, layer)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in skipped_dirs)
        for name in sorted(filenames):
            if not name.endswith(c_like):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, encoding="utf-8", errors="replace") as f:
                scan(rel, f.read())

for path, line, what in sorted(set(findings)):
    print(f"{path}:{line}: {what}")
if findings:
    print(f"locks: FAIL: {len(set(findings))} findings")
    sys.exit(1)
print("locks: PASS: interrupts masked only through the lock types; every _locked function names its lock")
PY
