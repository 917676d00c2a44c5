// SPDX-License-Identifier: MIT
#pragma once

#include <kernel/types.h>

namespace atl::kernel {

// Ends the VM and reports `code` (0..255) to the host. Under QEMU: the exit code is written
// as decimal text to the debugcon port (0x402), which `atoll run` reads for the full value,
// and to isa-debug-exit (0xf4), whose QEMU exit status is (code << 1) | 1. Without either
// device, an ACPI-less reset through the keyboard controller ends QEMU run with -no-reboot.
[[noreturn]] void shutdown(int code);

} // namespace atl::kernel
