// SPDX-License-Identifier: MIT
#pragma once

// How the layers above plug into the kernel's boot (kernel/src/start.cpp). The kernel owns
// the boot and runs its phases in order:
//
//   early         console, CPU tables, stack canary, the loader's boot info   (boot stack)
//   memory        page allocator, page tables
//   command line  the image's built-in one, then the loader's; parameters checked
//   clock         the cycle counter's frequency
//   libos.boot    the libOS's own state (file tree, descriptors)
//   interrupts    interrupt controllers, vectors, the timer
//   main thread   the program's stack; the scheduler; libos.attach; the control channel
//                                                                              (main stack)
//   devices       every discovered device to its driver (kernel/devices.h)
//   libos.run     the network, then the program; never returns
//
// Two things are registered from above (kernel/registry.h), so the kernel names no symbol of
// a layer above it:
//   - the image (table `image`): its name, built-in command line, root file system and
//     main(); generated for each image by add_unikernel() or the compiler drivers;
//   - the libOS (table `libos`): the phases it runs, and the parameters it reads.

#include <kernel/boot.h>
#include <kernel/cmdline.h>
#include <kernel/registry.h>
#include <kernel/types.h>

namespace atl::kernel {

struct Thread;

// Laid out by C code (the generated image-info.c): plain fields only, in this order.
struct ImageInfo {
    const char* name;
    const char* cmdline; // built into the image; parsed before the loader's
    const char* rootfs_start; // a cpio archive linked into the image, or nullptr
    const char* rootfs_end;
    int (*main)(int argc, char** argv, char** envp);
};

struct Libos {
    // The command-line parameters (KEY of KEY=VALUE) the libOS reads; nullptr-terminated.
    const char* const* params;
    // On the boot stack, after memory, command line and the clock, before interrupts.
    void (*boot)();
    // Lays out what the program finds at the top of its stack (argv, envp, auxv) below
    // `stack_top`, within the `committed` bytes there; returns the stack pointer to start at.
    u64 (*start_block)(u64 stack_top, u64 committed);
    // On the main thread, once the scheduler runs: the thread's process state, the kernel's
    // hooks (interrupt return, faults, signals from the host).
    void (*attach)(Thread* main);
    // After the devices: everything else, then the program. Never returns.
    void (*run)();
};

ATL_REGISTRY(image, ImageInfo)
ATL_REGISTRY(libos, Libos)

// What the boot gathered, for the layers above.
const ImageInfo& image();
const BootInfo& boot_info();
const CommandLine& command_line();
u64 stack_canary();              // the value every stack canary holds (AT_RANDOM's first 8 bytes)
u64 main_stack_top();            // the program's stack (kernel/stack.h)
u64 main_stack_limit();          // RLIMIT_STACK
u64 set_main_stack_limit(u64 limit); // setrlimit(RLIMIT_STACK): the limit in force afterwards

} // namespace atl::kernel
