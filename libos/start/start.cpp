// SPDX-License-Identifier: MIT
// The libOS's part of the boot (kernel/entry.h): the file tree and descriptors, the program's
// argv/envp/auxv as Linux lays them out, the main thread's process state, the network, then
// the application's main() through musl's __libc_start_main.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/net/socket_layer.h>
#include <libos/proc/syscalls.h>
#include <libos/proc/thread_state.h>
#include <libos/signal/signal.h>
#include <libos/start/start.h>

#include <kernel/arch/cpu.h>
#include <kernel/arch/frame.h>
#include <kernel/boot.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/control.h>
#include <kernel/entry.h>
#include <kernel/interrupts.h>
#include <kernel/memory.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/time.h>
#include <net/net.h>

#include <cstdio>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <fcntl.h>

extern "C" {
extern const Elf64_Ehdr __ehdr_start;
int __libc_start_main(int (*)(int, char**, char**), int, char**, void (*)(), void (*)(), void (*)());
// The fault entry the kernel calls for a signal the program handles (libos/signal/signal.cpp).
void atoll_fault_entry(const atl::arch::InterruptFrame*, long sig, long code, atl::u64 addr);

// The C++ ABI's handle for this "shared object"; the image is one.
void* __dso_handle = &__dso_handle;
}

namespace atl::libos {

void open_console_fds();

void fill_random(void* buf, std::size_t len);

namespace {

// Parameters the libOS reads (the kernel checks every parameter against its own, the
// drivers' and these).
constexpr const char* k_libos_params[] = { "atoll.bootstats", "atoll.ip", "atoll.gw", "atoll.dns", "atoll.hostname",
    nullptr };
bool s_bootstats = false;
u64 s_tsc_at_main = 0;

struct StartBlock {
    char** argv;
    int argc;
};
StartBlock s_start;

// Lays out argv, envp and auxv as the Linux ABI does (musl finds envp after argv's NULL and
// auxv after envp's NULL) at the top of the main thread's stack, below `top`, as Linux does:
// musl's pthread_getattr_np() finds the main thread's stack from where auxv is. Returns the
// block's lowest address (the stack grows down from there).
u64 build_start_block(u64 top, u64 committed)
{
    const CommandLine& s_cmdline = kernel::command_line();
    const char* image_name = kernel::image().name;
    std::size_t argc = s_cmdline.argc + 1;
    std::size_t strings = std::strlen(image_name) + 1;
    for (std::size_t i = 0; i < s_cmdline.argc; ++i)
        strings += std::strlen(s_cmdline.args[i]) + 1;
    for (std::size_t i = 0; i < s_cmdline.envc; ++i)
        strings += std::strlen(s_cmdline.env[i]) + 1;
    constexpr std::size_t k_auxv_pairs = 20;
    std::size_t words = argc + 1 + s_cmdline.envc + 1 + 2 * k_auxv_pairs;
    std::size_t size = words * sizeof(u64) + strings + 16 /* AT_RANDOM */ + 8 /* "x86_64" */;
    if (size > committed / 2) // the command line is bounded far below this
        kernel::panic("the program's arguments and environment take %zu bytes (at most %llu)", size,
            static_cast<unsigned long long>(committed / 2));
    u64 block = align_down(top - size, 16);
    auto* vec = reinterpret_cast<u64*>(block);
    char* str = reinterpret_cast<char*>(block + words * sizeof(u64));
    auto put = [&](const char* s) {
        std::size_t n = std::strlen(s) + 1;
        std::memcpy(str, s, n);
        char* at = str;
        str += n;
        return reinterpret_cast<u64>(at);
    };
    std::size_t w = 0;
    vec[w++] = put(image_name);
    u64 execfn = vec[0];
    for (std::size_t i = 0; i < s_cmdline.argc; ++i)
        vec[w++] = put(s_cmdline.args[i]);
    vec[w++] = 0;
    for (std::size_t i = 0; i < s_cmdline.envc; ++i)
        vec[w++] = put(s_cmdline.env[i]);
    vec[w++] = 0;
    // AT_RANDOM: musl takes the stack canary from its first 8 bytes; they are the one the
    // kernel chose at boot, for kernel threads' frames hold it too.
    auto* random = reinterpret_cast<unsigned char*>(str);
    fill_random(random, 16);
    u64 canary = kernel::stack_canary();
    std::memcpy(random, &canary, sizeof(canary));
    str += 16;
    u64 platform = put("x86_64");
    const auto* eh = &__ehdr_start;
    u64 aux[][2] = {
        { AT_PHDR, reinterpret_cast<u64>(eh) + eh->e_phoff },
        { AT_PHENT, eh->e_phentsize },
        { AT_PHNUM, eh->e_phnum },
        { AT_PAGESZ, k_page_size },
        { AT_BASE, 0 },
        { AT_FLAGS, 0 },
        { AT_ENTRY, eh->e_entry },
        { AT_UID, 0 },
        { AT_EUID, 0 },
        { AT_GID, 0 },
        { AT_EGID, 0 },
        { AT_SECURE, 0 },
        { AT_HWCAP, arch::hwcap() },
        { AT_CLKTCK, 100 },
        { AT_RANDOM, reinterpret_cast<u64>(random) },
        { AT_PLATFORM, platform },
        { AT_EXECFN, execfn },
        { AT_NULL, 0 },
    };
    static_assert(sizeof(aux) / sizeof(aux[0]) <= k_auxv_pairs);
    for (auto& pair : aux) {
        vec[w++] = pair[0];
        vec[w++] = pair[1];
    }
    s_start = StartBlock { reinterpret_cast<char**>(vec), static_cast<int>(argc) };
    return block;
}

// After the devices (on the main thread): the network, on the NICs the drivers found.
void start_network()
{
    const CommandLine& s_cmdline = kernel::command_line();
    net::Config config;
    config.ip = s_cmdline.param("atoll.ip");
    config.gateway = s_cmdline.param("atoll.gw");
    config.dns = s_cmdline.param("atoll.dns");
    const SocketLayer* sockets = registered_socket_layer().only();
    if (!sockets) {
        if (config.ip || config.gateway || config.dns)
            kernel::log("atoll.ip/gw/dns ignored: the program makes no sockets, so the image has no network");
        return;
    }
    if (const char* err = sockets->network_start(config))
        kernel::panic("network: %s", err);
}

// main() as musl calls it, after the C library's start-up and the static constructors: the
// instant atoll.bootstats calls "main()".
int timed_main(int argc, char** argv, char** envp)
{
    s_tsc_at_main = arch::read_tsc();
    return kernel::image().main(argc, argv, envp);
}

// Parameters the kernel left to the libOS.
void read_params()
{
    if (const char* stats = kernel::command_line().param("atoll.bootstats"))
        s_bootstats = std::strcmp(stats, "0") != 0;
}

// The boot phase "libos": the file tree (/dev, /proc, /etc, the image's own root file system,
// then the loader's initrd, atoll run --rootfs, on top of it) and descriptors 0-2.
void boot()
{
    read_params();
    const kernel::ImageInfo& image = kernel::image();
    if (const char* err = vfs_init(image.name))
        kernel::panic("vfs: %s", err);
    kernel::boot_mark("file tree: /, /dev, /proc");
    if (reinterpret_cast<uptr>(image.rootfs_end) > reinterpret_cast<uptr>(image.rootfs_start)) {
        if (const char* err = unpack_cpio(image.rootfs_start, static_cast<std::size_t>(image.rootfs_end - image.rootfs_start)))
            kernel::panic("the image's root file system: %s", err);
    }
    const kernel::BootInfo& info = kernel::boot_info();
    for (std::size_t i = 0; i < info.module_count; ++i) {
        if (const char* err = unpack_cpio(reinterpret_cast<const void*>(info.modules[i].addr),
                static_cast<std::size_t>(info.modules[i].size)))
            kernel::panic("%s", err);
    }
    kernel::boot_mark("file tree: image and loader cpio");
    if (const char* err = vfs_add_etc("atoll"))
        kernel::panic("vfs: %s", err);
    open_console_fds();
    kernel::boot_mark("file tree: /etc, descriptors 0-2");
}

// The main thread's process state, and the kernel's hooks into the libOS.
void attach(kernel::Thread* main)
{
    proc_init(main);
    kernel::set_interrupt_return_hook(deliver_signals_on_interrupt_return);
    kernel::set_fault_signal_hook(fault_signal_wanted, atoll_fault_entry);
    // Signals for the application from the host's control channel, as kill(2) sends them
    // (`atoll run` forwards its SIGTERM, SIGINT and SIGHUP there).
    kernel::set_signal_request_hook([](int sig) { return signal_process(sig, SI_USER, 0, {}); });
}

[[noreturn]] void run()
{
    start_network();
    kernel::boot_mark("devices, network");
    kernel::irq_enable(); // from here on the application runs with interrupts on
    __libc_start_main(timed_main, s_start.argc, s_start.argv, nullptr, nullptr, nullptr);
    kernel::panic("__libc_start_main returned");
}

} // namespace

// Named (not static): the image's link asks for it by name (-u atoll_libos).
extern "C" const kernel::Libos atoll_libos = { k_libos_params, boot, build_start_block, attach, run };
ATL_REGISTER(libos, kernel::Libos, atoll_libos);

constexpr const char* k_stdin_file = "/.atoll/stdin";

// Descriptors 0, 1 and 2: the console; stderr on the kernel log port when there is one
// (/dev/debugcon: `atoll run` shows it on its stderr, so `2>file` works as on Linux).
void open_console_fds()
{
    // stdin from a file when the loader brought one (`atoll run app < FILE`: the file rides in
    // the initrd as /.atoll/stdin): reads give its bytes, then end of file. It leaves the tree.
    Lookup in;
    bool stdin_file = resolve(root(), k_stdin_file, 0, &in) == 0 && in.inode && in.inode->is_reg();
    for (int fd = 0; fd < 3; ++fd) {
        const char* path = fd == 2 && kernel::has_log_port() ? "/dev/debugcon" : "/dev/console";
        if (fd == 0 && stdin_file)
            path = k_stdin_file;
        Lookup lk;
        File* f = nullptr;
        int flags = fd == 0 && stdin_file ? O_RDONLY : O_RDWR;
        if (resolve(root(), path, k_follow, &lk) < 0 || !lk.inode || open_inode(lk.inode, flags, path, &f) < 0 ||
            fd_install(f, false) != fd)
            kernel::panic("cannot open %s as descriptor %d", path, fd);
    }
    if (stdin_file) {
        Inode* dir = dir_find(root(), ".atoll");
        if (dir && dir_remove(dir, "stdin") == 0 && dir->entry_count == 0)
            (void)dir_remove(root(), ".atoll");
    }
}

void print_bootstats(int code)
{
    if (!s_bootstats)
        return;
    u64 now = arch::read_tsc();
    u64 hz = kernel::tsc_hz();
    auto us = [hz](u64 ticks) { return static_cast<unsigned long long>(ticks * 1000000 / hz); };
    u64 boot = kernel::tsc_at_boot();
    u64 main_at = s_tsc_at_main ? s_tsc_at_main : now;
    if (const SocketLayer* sockets = registered_socket_layer().only())
        sockets->network_stats();
    const kernel::InterruptStats& irq = kernel::interrupt_stats();
    kernel::log("bootstats: interrupts: timer %llu, devices %llu, spurious %llu",
        static_cast<unsigned long long>(irq.timer), static_cast<unsigned long long>(irq.device),
        static_cast<unsigned long long>(irq.spurious));
    const kernel::BootMark* marks = nullptr;
    std::size_t mark_count = kernel::boot_marks(&marks);
    u64 prev = boot;
    for (std::size_t i = 0; i < mark_count; ++i) {
        kernel::log("bootstats: phase %-40s %6llu us", marks[i].phase, us(marks[i].tsc - prev));
        prev = marks[i].tsc;
    }
    kernel::log("bootstats: phase %-40s %6llu us", "C library start, constructors", us(main_at - prev));
    kernel::log("bootstats: first instruction to main() %llu us, main() to exit %llu us, exit code %d, "
                "memory %llu KiB total, %llu KiB free, tsc %llu MHz",
        us(main_at - boot), us(now - main_at), code,
        static_cast<unsigned long long>(kernel::memory_total() >> 10),
        static_cast<unsigned long long>(kernel::memory_free() >> 10), static_cast<unsigned long long>(hz / 1000000));
}

} // namespace atl::libos

// musl's __stack_chk_fail (patched, toolchain/build-sysroot.sh): a frame's canary was found
// overwritten on return. As glibc's "stack smashing detected": a report and SIGABRT's status.
extern "C" [[noreturn]] void __atoll_stack_smashed()
{
    atl::kernel::panic("stack smashing detected: a function's stack canary was overwritten (a buffer overflow on the stack)");
}
