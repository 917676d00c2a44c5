// SPDX-License-Identifier: MIT
// atoll_main: the boot phases in order, then the application's main() through musl's
// __libc_start_main with a Linux-shaped argv/envp/auxv.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/net/socket_layer.h>
#include <libos/proc/syscalls.h>
#include <libos/proc/thread_state.h>
#include <libos/signal/signal.h>
#include <libos/start/start.h>

#include <kernel/arch.h>
#include <kernel/boot.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/control.h>
#include <kernel/interrupts.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/panic.h>
#include <kernel/platform.h>
#include <kernel/sched.h>
#include <kernel/stack.h>
#include <kernel/time.h>
#include <net/net.h>
#include <virtio/transport.h>

#include <cstdio>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <elf.h>
#include <fcntl.h>

extern "C" {
// Supplied per image by add_unikernel() (generated source): the image's name (argv[0]) and
// the command line built into it.
extern const char atoll_image_name[];
extern const char atoll_builtin_cmdline[];
// The image's own root file system (a cpio archive linked in by add_unikernel's ROOTFS);
// weak: an image without one has neither symbol.
[[gnu::weak]] extern const char atoll_rootfs_start[];
[[gnu::weak]] extern const char atoll_rootfs_end[];

extern const Elf64_Ehdr __ehdr_start;
int main(int, char**, char**);
int __libc_start_main(int (*)(int, char**, char**), int, char**, void (*)(), void (*)(), void (*)());
void atoll_call_on_stack(void* stack_top, void (*fn)(void*), void* arg);

// The C++ ABI's handle for this "shared object"; the image is one.
void* __dso_handle = &__dso_handle;
}

namespace atl::libos {

void fill_random(void* buf, std::size_t len);

namespace {

kernel::BootInfo s_boot;
CommandLine s_cmdline;
char s_builtin_cmdline_copy[4096];

// The main thread's stack (kernel/stack.h): Linux's default limit of 8 MiB (atoll.stack=SIZE
// sets another; RLIMIT_STACK reports it and setrlimit moves it), in a reservation of at least
// 1 GiB of address space so that a raised limit has room. Only touched pages cost memory; the
// first ones are committed now for the libOS's own start-up (devices, network) on this stack.
constexpr u64 k_default_stack_limit = u64(8) << 20;
constexpr u64 k_stack_reservation = u64(1) << 30;
constexpr u64 k_stack_initial = 128 * 1024;
u64 s_main_stack_limit = k_default_stack_limit;
u64 s_stack_canary = 0;

// Parameters the kernel and libOS understand; any other key with a dot is reported.
constexpr const char* k_known_params[] = { "atoll.realtime", "atoll.bootstats", "virtio_mmio.device", "atoll.ip",
    "atoll.gw", "atoll.dns", "atoll.hostname", "virtio_net.lose_notify", "atoll.stack" };
bool s_bootstats = false;
u64 s_tsc_at_main = 0;

// A size with an optional K, M, G or T suffix (powers of 1024). By hand: at boot there is no
// thread pointer yet, so nothing that may touch errno (strtoull) can run.
bool parse_size(const char* text, u64* out)
{
    u64 v = 0;
    const char* p = text;
    for (; *p >= '0' && *p <= '9'; ++p) {
        if (v > (~u64(0) - 9) / 10)
            return false;
        v = v * 10 + u64(*p - '0');
    }
    if (p == text)
        return false;
    unsigned shift = 0;
    switch (*p) {
    case '\0': break;
    case 'k': case 'K': shift = 10; ++p; break;
    case 'm': case 'M': shift = 20; ++p; break;
    case 'g': case 'G': shift = 30; ++p; break;
    case 't': case 'T': shift = 40; ++p; break;
    default: return false;
    }
    if (*p != '\0' || v > (~u64(0) >> shift))
        return false;
    *out = v << shift;
    return true;
}

void check_params()
{
    for (std::size_t i = 0; i < s_cmdline.paramc; ++i) {
        bool known = false;
        for (const char* k : k_known_params)
            known = known || std::strcmp(s_cmdline.params[i].key, k) == 0;
        if (!known)
            kernel::log("unknown command-line parameter '%s' (ignored)", s_cmdline.params[i].key);
    }
    if (const char* stats = s_cmdline.param("atoll.bootstats"))
        s_bootstats = std::strcmp(stats, "0") != 0;
    if (const char* stack = s_cmdline.param("atoll.stack")) {
        u64 bytes = 0;
        if (parse_size(stack, &bytes) && bytes >= 64 * 1024 && bytes <= (u64(1) << 40))
            s_main_stack_limit = bytes;
        else
            kernel::log("bad atoll.stack=%s (want a size from 64K to 1T, such as 8M or 16777216): ignored", stack);
    }
    if (const char* rt = s_cmdline.param("atoll.realtime")) {
        u64 ns = 0;
        if (kernel::parse_realtime(rt, &ns))
            kernel::set_realtime_base(ns);
        else
            kernel::log("bad atoll.realtime=%s (want SECONDS[.FRACTION] since 1970): ignored", rt);
    }
}

struct StartBlock {
    char** argv;
    int argc;
};

// Lays out argv, envp and auxv as the Linux ABI does (musl finds envp after argv's NULL and
// auxv after envp's NULL) at the top of the main thread's stack, below `top`, as Linux does:
// musl's pthread_getattr_np() finds the main thread's stack from where auxv is. Returns the
// block with its lowest address in *low (the stack grows down from there).
StartBlock build_start_block(u64 top, u64* low)
{
    std::size_t argc = s_cmdline.argc + 1;
    std::size_t strings = std::strlen(atoll_image_name) + 1;
    for (std::size_t i = 0; i < s_cmdline.argc; ++i)
        strings += std::strlen(s_cmdline.args[i]) + 1;
    for (std::size_t i = 0; i < s_cmdline.envc; ++i)
        strings += std::strlen(s_cmdline.env[i]) + 1;
    constexpr std::size_t k_auxv_pairs = 20;
    std::size_t words = argc + 1 + s_cmdline.envc + 1 + 2 * k_auxv_pairs;
    std::size_t size = words * sizeof(u64) + strings + 16 /* AT_RANDOM */ + 8 /* "x86_64" */;
    if (size > k_stack_initial / 2) // the command line is bounded far below this
        kernel::panic("the program's arguments and environment take %zu bytes (at most %llu)", size,
            static_cast<unsigned long long>(k_stack_initial / 2));
    u64 block = align_down(top - size, 16);
    *low = block;
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
    vec[w++] = put(atoll_image_name);
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
    std::memcpy(random, &s_stack_canary, sizeof(s_stack_canary));
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
    return StartBlock { reinterpret_cast<char**>(vec), static_cast<int>(argc) };
}

u64 s_main_stack_top = 0;

// Phase 7 (on the main thread, now that there is a scheduler to wait on): devices and the
// network, then main().
void start_devices_and_network()
{
    // virtio-mmio devices are announced on the command line; PCI is scanned.
    virtio::MmioDevice mmio[16];
    std::size_t mmio_count = 0;
    for (std::size_t i = 0; i < s_cmdline.paramc; ++i) {
        if (std::strcmp(s_cmdline.params[i].key, "virtio_mmio.device") != 0)
            continue;
        if (mmio_count < 16 && virtio::parse_mmio_device(s_cmdline.params[i].value, &mmio[mmio_count]))
            ++mmio_count;
        else
            kernel::log("bad or too many virtio_mmio.device=%s: ignored", s_cmdline.params[i].value);
    }
    if (const char* every = s_cmdline.param("virtio_net.lose_notify")) {
        char* end = nullptr;
        unsigned long n = std::strtoul(every, &end, 10);
        if (*every && *end == '\0' && n > 0 && n < 1000000u)
            virtio::set_net_lose_notify(static_cast<unsigned>(n));
        else
            kernel::log("virtio_net.lose_notify=%s: want a count from 1 to 999999; ignored", every);
    }
    virtio::probe_devices(mmio, mmio_count);

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
    return main(argc, argv, envp);
}

void run_main(void* arg)
{
    auto* sb = static_cast<StartBlock*>(arg);
    // The libOS's own start-up below runs here too, outside any system call: commit what it needs.
    kernel::stack_ensure(reinterpret_cast<u64>(__builtin_frame_address(0)), 96 * 1024);
    kernel::StackArea area;
    if (!kernel::stack_find(s_main_stack_top - 1, &area))
        kernel::panic("the main thread's stack is not where it was made");
    kernel::sched_init(area.low, area.high);
    proc_init(kernel::current());
    kernel::set_interrupt_return_hook(deliver_signals_on_interrupt_return);
    kernel::set_fault_signal_hook(fault_signal_wanted);
    // The host's control channel: state dumps, and signals for the application as kill(2)
    // sends them (`atoll run` forwards its SIGTERM, SIGINT and SIGHUP there).
    kernel::set_signal_request_hook([](int sig) { return signal_process(sig, SI_USER, 0, {}); });
    if (const char* err = kernel::control_init())
        kernel::log("control channel: %s (no state dumps or signals from the host)", err);
    kernel::boot_mark("main stack, scheduler, control channel");
    // As on Linux, the main thread is named after the program (15 characters at most);
    // threads inherit their creator's name.
    kernel::set_thread_name(kernel::current(), atoll_image_name);
    start_devices_and_network();
    kernel::boot_mark("devices, network");
    kernel::irq_enable(); // from here on the application runs with interrupts on
    __libc_start_main(timed_main, sb->argc, sb->argv, nullptr, nullptr, nullptr);
    kernel::panic("__libc_start_main returned");
}

} // namespace

u64 main_stack_limit() { return s_main_stack_limit; }

u64 set_main_stack_limit(u64 limit)
{
    s_main_stack_limit = kernel::stack_set_limit(s_main_stack_top, limit);
    return s_main_stack_limit;
}

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

// Called by the PVH entry code (kernel/arch/x86_64/boot.S) in long mode on the boot stack.
extern "C" [[noreturn]] void atoll_main(atl::u64 start_info)
{
    using namespace atl;
    using namespace atl::libos;

    // Phase 1: early platform. Nothing may allocate before the boot info is copied.
    kernel::time_mark_boot();
    kernel::console_init();
    arch::cpu_init();
    s_stack_canary = kernel::stack_protector_init(); // first: nothing on the stack holds a canary yet
    if (const char* err = kernel::read_pvh_start_info(start_info, s_boot))
        kernel::panic("boot: %s", err);
    kernel::boot_mark("entry, long mode, console, boot info");

    // Phase 2: memory.
    Range reserved[kernel::BootInfo::k_max_modules];
    for (std::size_t i = 0; i < s_boot.module_count; ++i)
        reserved[i] = Range { s_boot.modules[i].addr, s_boot.modules[i].addr + s_boot.modules[i].size };
    if (const char* err = kernel::memory_init(s_boot.map, s_boot.map_count, reserved, s_boot.module_count))
        kernel::panic("memory: %s", err);
    if (const char* err = kernel::paging_init(s_boot.map, s_boot.map_count))
        kernel::panic("paging: %s", err);
    if (kernel::memory_ignored())
        kernel::log("using the first 512 GiB of RAM; %llu MiB above it are not used",
            static_cast<unsigned long long>(kernel::memory_ignored() >> 20));
    kernel::boot_mark("page allocator, page tables");

    // Phase 3: the command line: built-in first, the boot loader's on top of it.
    std::size_t n = std::strlen(atoll_builtin_cmdline);
    if (n >= sizeof(s_builtin_cmdline_copy))
        kernel::panic("built-in command line too long");
    std::memcpy(s_builtin_cmdline_copy, atoll_builtin_cmdline, n + 1);
    if (const char* err = parse_command_line(s_builtin_cmdline_copy, s_cmdline))
        kernel::panic("built-in command line: %s", err);
    if (const char* err = parse_command_line(s_boot.cmdline, s_cmdline))
        kernel::panic("command line: %s", err);
    check_params();
    kernel::boot_mark("command line");

    // The TSC's frequency, measured against the APIC timer (the clocks need it from here on:
    // the file tree's timestamps are its first user).
    (void)kernel::tsc_hz();
    kernel::boot_mark("TSC calibration");

    // Phase 4: the file tree: /dev, /proc, /etc, the image's own root file system, then the
    // loader's initrd (atoll run --rootfs) on top of it.
    if (const char* err = vfs_init(atoll_image_name))
        kernel::panic("vfs: %s", err);
    kernel::boot_mark("file tree: /, /dev, /proc");
    if (reinterpret_cast<uptr>(atoll_rootfs_end) > reinterpret_cast<uptr>(atoll_rootfs_start)) {
        if (const char* err = unpack_cpio(atoll_rootfs_start, static_cast<std::size_t>(atoll_rootfs_end - atoll_rootfs_start)))
            kernel::panic("the image's root file system: %s", err);
    }
    for (std::size_t i = 0; i < s_boot.module_count; ++i) {
        if (const char* err = unpack_cpio(reinterpret_cast<const void*>(s_boot.modules[i].addr),
                static_cast<std::size_t>(s_boot.modules[i].size)))
            kernel::panic("%s", err);
    }
    kernel::boot_mark("file tree: image and loader cpio");
    if (const char* err = vfs_add_etc("atoll"))
        kernel::panic("vfs: %s", err);
    open_console_fds();
    kernel::boot_mark("file tree: /etc, descriptors 0-2");

    // Phase 5: interrupts and the timer.
    if (const char* err = kernel::interrupts_init())
        kernel::panic("interrupts: %s", err);
    kernel::boot_mark("interrupts, APIC");

    // Phase 6: the application's thread, on a growable stack with a never-mapped gap below it,
    // so that an overflow faults instead of overwriting memory.
    u64 reservation = s_main_stack_limit > k_stack_reservation ? s_main_stack_limit : k_stack_reservation;
    if (const char* err = kernel::stack_reserve(reservation, s_main_stack_limit, k_stack_initial, &s_main_stack_top))
        kernel::panic("the main thread's stack: %s", err);
    u64 sp = 0;
    StartBlock sb = build_start_block(s_main_stack_top, &sp); // atoll_main never returns: its frame outlives main()
    atoll_call_on_stack(reinterpret_cast<void*>(sp), run_main, &sb);
    __builtin_unreachable();
}
