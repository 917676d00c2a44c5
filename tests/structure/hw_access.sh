#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The hardware seam (issue 12): port I/O, MSR access, CPUID, privileged instructions, raw TSC
# reads and the fixed addresses and ports of the PC platform belong in kernel/arch/ and
# kernel/platform/ only. Scans the C, C++ and assembly sources of kernel/, drivers/, net/ and
# libos/ outside those two folders and prints file:line and what it found; exit status 1 when
# anything is found, 0 when the tree is clean, 2 on a usage error.
#
# usage: hw_access.sh SRC_ROOT
#
# Comments do not count (they are blanked first, keeping line numbers); string literals count
# only inside asm statements. What is looked for:
#   - calls of outb/inb/outw/inw/outl/inl and their string forms, rdmsr/wrmsr, cpuid,
#     compiler intrinsics (__cpuid, __rdtsc, ...), in any namespace;
#   - in inline asm and .S/.s files: in/out/ins/outs, rdmsr/wrmsr, cpuid, rdtsc(p), cli, sti,
#     hlt, descriptor-table and TLB instructions, and any control or debug register;
#   - hex literals equal to a fixed platform address or I/O port (local APIC, I/O APIC, HPET,
#     PCI configuration ports, COM1-4, QEMU's debugcon, isa-debug-exit, CMOS, keyboard
#     controller); the one-byte ports (0x64, 0x70, 0x71, 0xe9, 0xf4) only in a statement about
#     ports, since they are also register offsets and byte values elsewhere;
#   - includes of an architecture's or a platform's private headers (a path with x86_64,
#     aarch64, ... in it, platform/<name>/, a relative path into arch/ or platform/) and of
#     <cpuid.h>, <x86intrin.h> and the like.
set -u -o pipefail
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: hw_access.sh SRC_ROOT" >&2
    exit 2
fi
exec python3 - "$1" <<'PY'
import os
import re
import sys

root = sys.argv[1]
layers = ["kernel", "drivers", "net", "libos"]
allowed = ["kernel/arch/", "kernel/platform/"]
skipped_dirs = {"tests", "toolchain", "build", ".git"}
c_like = (".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".hxx", ".inc", ".ipp")
asm_files = (".S", ".s", ".asm")

# Blank comments (C, C++ and, for assembly, `#` comments that are not preprocessor directives)
# keeping every newline, so offsets and line numbers stay those of the file. Returns the text
# without comments and the (start, end) offsets of each string literal's contents.
directive = re.compile(r"#\s*(include|define|undef|if|ifdef|ifndef|elif|else|endif|pragma|error|warning|line)\b")


def strip_comments(text, asm):
    out = list(text)
    strings = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
            continue
        if asm and c == "#" and not directive.match(text, i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
            continue
        if c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.compile(r'R"([^()\\ ]{0,16})\(').match(text, i)
            if m:
                end = text.find(")" + m.group(1) + '"', m.end())
                end = n if end < 0 else end
                strings.append((m.end(), end))
                i = end + len(m.group(1)) + 2
                continue
        if c in "\"'":
            # A quote in an assembly file's code (an immediate like 'a') is rare; treat both
            # files alike.
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if c == '"':
                strings.append((i + 1, min(j, n)))
            i = j + 1
            continue
        i += 1
    return "".join(out), strings


def blank_strings(code, strings):
    out = list(code)
    for a, b in strings:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "
    return "".join(out)


port_io = {"in", "inb", "inw", "inl", "out", "outb", "outw", "outl", "ins", "insb", "insw", "insl",
           "insd", "outs", "outsb", "outsw", "outsl", "outsd"}
mnemonics = {
    "rdmsr": "MSR access", "wrmsr": "MSR access",
    "cpuid": "CPUID",
    "rdtsc": "raw TSC read", "rdtscp": "raw TSC read",
    "cli": "interrupt flag", "sti": "interrupt flag", "hlt": "halt",
    "lgdt": "descriptor table", "lidt": "descriptor table", "lldt": "descriptor table", "ltr": "task register",
    "lgdtq": "descriptor table", "lidtq": "descriptor table",
    "invlpg": "TLB", "invpcid": "TLB", "wbinvd": "cache control", "invd": "cache control",
    "swapgs": "privileged instruction", "xsetbv": "privileged instruction",
}
prefixes = {"rep", "repe", "repz", "repne", "repnz", "lock", "data16", "addr32", "notrack"}
special_reg = re.compile(r"%?%?\b((?:cr|dr)[0-9]+)\b", re.I)
label = re.compile(r"^\s*(?:[A-Za-z_.$][\w.$]*|\d+)\s*:")

calls = {name: "port I/O" for name in
         ["outb", "inb", "outw", "inw", "outl", "inl", "outsb", "outsw", "outsl", "insb", "insw", "insl",
          "outb_p", "inb_p", "__outbyte", "__inbyte", "__outword", "__inword", "__outdword", "__indword"]}
calls.update({name: "MSR access" for name in
              ["rdmsr", "wrmsr", "rdmsrl", "wrmsrl", "__readmsr", "__writemsr", "__rdmsr", "__wrmsr"]})
calls.update({name: "CPUID" for name in
              ["cpuid", "cpuid_count", "__cpuid", "__cpuid_count", "__cpuidex", "__get_cpuid",
               "__get_cpuid_count", "__get_cpuid_max"]})
calls.update({name: "raw TSC read" for name in ["__rdtsc", "__rdtscp", "_rdtsc"]})
call_re = re.compile(r"(?<![\w$])((?:[A-Za-z_]\w*\s*::\s*)*)(" + "|".join(sorted(calls, key=len, reverse=True)) +
                     r")\b(\s*\()?")
asm_kw = re.compile(r"(?<![\w$])(asm|__asm__|__asm)\b")

fixed = {
    0xfee00000: "local APIC base address", 0xfec00000: "I/O APIC base address", 0xfed00000: "HPET base address",
    0xcf8: "PCI configuration address port", 0xcfc: "PCI configuration data port",
    0x3f8: "COM1 port", 0x2f8: "COM2 port", 0x3e8: "COM3 port", 0x2e8: "COM4 port",
    0xe9: "QEMU debugcon port", 0x402: "QEMU debugcon (firmware log) port", 0xf4: "isa-debug-exit port",
    0x70: "CMOS index port", 0x71: "CMOS data port", 0x64: "keyboard controller port",
}
# Ports below 0x100 are also common register offsets and byte values (virtio-mmio's
# InterruptACK is 0x064): those count only in a statement that is about ports, one that calls
# port I/O or names a port or a 16-bit type.
ambiguous = {0xe9, 0xf4, 0x70, 0x71, 0x64}
port_context = re.compile(r"(?<![a-z])port|Port|PORT|\bu16\b|\buint16_t\b|\bunsigned short\b|\b(?:" +
                          "|".join(n for n, k in calls.items() if k == "port I/O") + r")\s*\(")
hex_re = re.compile(r"(?<![\w.'])0[xX]([0-9a-fA-F](?:'?[0-9a-fA-F])*)[uUlLzZ]*(?![\w.])")

include_re = re.compile(r'^[ \t]*#[ \t]*(?:include|include_next|import)[ \t]*[<"]([^>"\n]+)[>"]', re.M)
intrinsic_headers = {"cpuid.h", "x86intrin.h", "ia32intrin.h", "x86gprintrin.h", "immintrin.h", "sys/io.h",
                     "asm/io.h", "asm/msr.h", "arm_acle.h"}
arch_names = r"(?:x86_64|x86|x86-64|i386|i686|amd64|ia32|aarch64|arm64|arm|riscv|riscv64)"
arch_path = re.compile(r"(?:^|/)" + arch_names + r"(?:/|$)")
platform_path = re.compile(r"(?:^|/)platform/[^/]+/")
relative_private = re.compile(r"\.\./(?:.*/)?(?:arch|platform)/")

findings = []


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def report(path, text, offset, what):
    findings.append((path, line_of(text, offset), what))


def check_instruction(path, text, offset, insn):
    insn = insn.strip()
    while True:
        m = label.match(insn)
        if not m:
            break
        insn = insn[m.end():].strip()
    if not insn or insn.startswith("."):
        return
    words = insn.replace(",", " ").split()
    while words and words[0].lower() in prefixes:
        words = words[1:]
    if not words:
        return
    mnem = words[0].lower()
    if mnem in port_io:
        report(path, text, offset, f"port I/O instruction `{insn}`")
    elif mnem in mnemonics:
        report(path, text, offset, f"{mnemonics[mnem]} instruction `{insn}`")
    else:
        m = special_reg.search(" ".join(words[1:]))
        if m:
            report(path, text, offset, f"control/debug register access `{insn}`")


def asm_statements(nostr):
    """(start, end) of the parenthesised operands of every asm statement."""
    for m in asm_kw.finditer(nostr):
        i = m.end()
        while True:
            w = re.compile(r"\s*(volatile|__volatile__|inline|__inline__|goto)\b").match(nostr, i)
            if not w:
                break
            i = w.end()
        while i < len(nostr) and nostr[i].isspace():
            i += 1
        if i >= len(nostr) or nostr[i] != "(":
            continue
        depth, j = 0, i
        while j < len(nostr):
            if nostr[j] == "(":
                depth += 1
            elif nostr[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        yield i, j


def statement(code, offset):
    """The text around offset up to the nearest `;`, `{` or `}` on either side."""
    a = max(code.rfind(c, 0, offset) for c in ";{}") + 1
    ends = [e for e in (code.find(c, offset) for c in ";{}") if e >= 0]
    return code[a:min(ends) if ends else len(code)]


def scan(path, text):
    asm = path.endswith(asm_files)
    code, strings = strip_comments(text, asm)
    nostr = blank_strings(code, strings)

    for m in include_re.finditer(code):
        inc = m.group(1).strip()
        if inc in intrinsic_headers:
            report(path, code, m.start(), f"includes <{inc}> (CPU intrinsics / raw hardware access)")
        elif arch_path.search(inc) or platform_path.search(inc) or relative_private.search(inc):
            report(path, code, m.start(), f"includes an arch- or platform-private header \"{inc}\"")

    if asm:
        # Every line is assembly; `;` separates statements on a line.
        offset = 0
        for line in nostr.split("\n"):
            if not directive.match(line.strip()):
                pos = 0
                for part in line.split(";"):
                    check_instruction(path, nostr, offset + pos, part)
                    pos += len(part) + 1
            offset += len(line) + 1
    else:
        for a, b in asm_statements(nostr):
            for s, e in strings:
                if a <= s < b:
                    body = code[s:e].replace("\\n", "\n").replace("\\t", " ")
                    for part in re.split(r"[\n;]", body):
                        check_instruction(path, code, s, part)
        for m in call_re.finditer(nostr):
            qual, name = re.sub(r"\s+", "", m.group(1)), m.group(2)
            if m.group(3):
                report(path, nostr, m.start(), f"{calls[name]}: call or declaration of `{qual}{name}(`")
            elif qual:
                report(path, nostr, m.start(), f"{calls[name]}: names `{qual}{name}`")

    for m in hex_re.finditer(nostr if not asm else code):
        value = int(m.group(1).replace("'", ""), 16)
        if value in fixed:
            if value in ambiguous and not port_context.search(statement(nostr, m.start())):
                continue
            report(path, code, m.start(), f"fixed platform address/port {m.group(0)} ({fixed[value]})")


for layer in layers:
    top = os.path.join(root, layer)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in skipped_dirs)
        for name in sorted(filenames):
            if not name.endswith(c_like + asm_files):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if any(rel.startswith(a) for a in allowed):
                continue
            with open(full, encoding="utf-8", errors="replace") as f:
                text = f.read()
            scan(rel, text)

lines = {}
for path, line, what in findings:
    if (path, line, what) in lines:
        continue
    lines[(path, line, what)] = True
for path, line, what in sorted(lines, key=lambda f: (f[0], f[1])):
    print(f"{path}:{line}: {what}")
if lines:
    print(f"hw_access: FAIL: {len(lines)} hardware accesses outside kernel/arch/ and kernel/platform/")
    sys.exit(1)
print("hw_access: PASS: no hardware access outside kernel/arch/ and kernel/platform/")
PY
