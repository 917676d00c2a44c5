// SPDX-License-Identifier: MIT
// The kernel's boot: its phases in order (kernel/entry.h), the image and the libOS found in
// their registration tables, the devices given to the drivers, then the libOS's own phases.

#include <kernel/arch/cpu.h>
#include <kernel/boot.h>
#include <kernel/cmdline.h>
#include <kernel/console.h>
#include <kernel/control.h>
#include <kernel/devices.h>
#include <kernel/entry.h>
#include <kernel/interrupts.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/panic.h>
#include <kernel/sched.h>
#include <kernel/stack.h>
#include <kernel/time.h>

#include <cstring>

extern "C" void atoll_call_on_stack(void* stack_top, void (*fn)(void*), void* arg); // isr.S

namespace atl::kernel {

namespace {

BootInfo s_boot;
CommandLine s_cmdline;
char s_builtin_cmdline_copy[4096];
const ImageInfo* s_image = nullptr;
const Libos* s_libos = nullptr;

// The main thread's stack (kernel/stack.h): Linux's default limit of 8 MiB (atoll.stack=SIZE
// sets another; RLIMIT_STACK reports it and setrlimit moves it), in a reservation of at least
// 1 GiB of address space so that a raised limit has room. Only touched pages cost memory; the
// first ones are committed now for the start-up that runs on this stack (devices, network).
constexpr u64 k_default_stack_limit = u64(8) << 20;
constexpr u64 k_stack_reservation = u64(1) << 30;
constexpr u64 k_stack_initial = 128 * 1024;
u64 s_main_stack_limit = k_default_stack_limit;
u64 s_main_stack_top = 0;
u64 s_stack_canary = 0;

// Parameters the kernel and its platform read; the libOS and the drivers name their own.
constexpr const char* k_kernel_params[] = { "atoll.realtime", "virtio_mmio.device", "atoll.stack", nullptr };

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

bool in_list(const char* key, const char* const* list)
{
    for (; list && *list; ++list) {
        if (std::strcmp(key, *list) == 0)
            return true;
    }
    return false;
}

bool known_param(const char* key)
{
    if (in_list(key, k_kernel_params) || in_list(key, s_libos->params))
        return true;
    for (const DriverTable* table : registered_drivers()) {
        if (in_list(key, table->params))
            return true;
    }
    return false;
}

void check_params()
{
    for (std::size_t i = 0; i < s_cmdline.paramc; ++i) {
        if (!known_param(s_cmdline.params[i].key))
            log("unknown command-line parameter '%s' (ignored)", s_cmdline.params[i].key);
    }
    if (const char* stack = s_cmdline.param("atoll.stack")) {
        u64 bytes = 0;
        if (parse_size(stack, &bytes) && bytes >= 64 * 1024 && bytes <= (u64(1) << 40))
            s_main_stack_limit = bytes;
        else
            log("bad atoll.stack=%s (want a size from 64K to 1T, such as 8M or 16777216): ignored", stack);
    }
    if (const char* rt = s_cmdline.param("atoll.realtime")) {
        u64 ns = 0;
        if (parse_realtime(rt, &ns))
            set_realtime_base(ns);
        else
            log("bad atoll.realtime=%s (want SECONDS[.FRACTION] since 1970): ignored", rt);
    }
}

void phase_early(u64 start_info)
{
    cpu_local_init(); // first: current() and the scheduler reach their state through it
    time_mark_boot();
    console_init();
    arch::cpu_init();
    s_stack_canary = stack_protector_init(); // first: nothing on the stack holds a canary yet
    if (!read_pvh_start_info(start_info, s_boot))
        panic("boot: the loader's start info is unusable (the log says why)");
    // One of each: kernel/linker.ld fails a link without.
    s_image = *registered_image().begin();
    s_libos = *registered_libos().begin();
    boot_mark("entry, long mode, console, boot info");
}

void phase_memory()
{
    Range reserved[BootInfo::k_max_modules];
    for (std::size_t i = 0; i < s_boot.module_count; ++i)
        reserved[i] = Range { s_boot.modules[i].addr, s_boot.modules[i].addr + s_boot.modules[i].size };
    if (!memory_init(s_boot.map, s_boot.map_count, reserved, s_boot.module_count))
        panic("memory: the memory map is unusable (the log says why)");
    if (!paging_init(s_boot.map, s_boot.map_count))
        panic("paging: cannot map the kernel's address space");
    if (memory_ignored())
        log("using the first 512 GiB of RAM; %llu MiB above it are not used",
            static_cast<unsigned long long>(memory_ignored() >> 20));
    boot_mark("page allocator, page tables");
}

// The built-in command line first, the boot loader's on top of it.
void phase_command_line()
{
    std::size_t n = std::strlen(s_image->cmdline);
    if (n >= sizeof(s_builtin_cmdline_copy))
        panic("built-in command line too long");
    std::memcpy(s_builtin_cmdline_copy, s_image->cmdline, n + 1);
    if (const char* err = parse_command_line(s_builtin_cmdline_copy, s_cmdline))
        panic("built-in command line: %s", err);
    if (const char* err = parse_command_line(s_boot.cmdline, s_cmdline))
        panic("command line: %s", err);
    check_params();
    boot_mark("command line");
}

// The TSC's frequency, measured against the APIC timer (the clocks need it from here on: the
// file tree's timestamps are its first user).
void phase_clock()
{
    (void)tsc_hz();
    boot_mark("TSC calibration");
}

void phase_interrupts()
{
    if (!interrupts_init())
        panic("interrupts: cannot set up the interrupt controllers");
    boot_mark("interrupts, APIC");
}

// On the main thread, now that there is a scheduler to wait on.
void main_thread(void*)
{
    // The start-up below runs here too, outside any system call: commit what it needs.
    stack_ensure(reinterpret_cast<u64>(__builtin_frame_address(0)), 96 * 1024);
    StackArea area;
    if (!stack_find(s_main_stack_top - 1, &area))
        panic("the main thread's stack is not where it was made");
    sched_init(area.low, area.high);
    s_libos->attach(current());
    // The host's control channel: state dumps, and signals for the application as kill(2)
    // sends them (`atoll run` forwards its SIGTERM, SIGINT and SIGHUP there).
    (void)control_init(); // what failed is logged; the machine runs on without the channel
    boot_mark("main stack, scheduler, control channel");
    // As on Linux, the main thread is named after the program (15 characters at most);
    // threads inherit their creator's name.
    set_thread_name(current(), s_image->name);
    probe_devices(s_cmdline);
    s_libos->run();
    panic("libOS run returned");
}

// The program's thread, on a growable stack with a never-mapped gap below it, so that an
// overflow faults instead of overwriting memory.
[[noreturn]] void phase_main_thread()
{
    u64 reservation = s_main_stack_limit > k_stack_reservation ? s_main_stack_limit : k_stack_reservation;
    Result<u64> top = stack_reserve(reservation, s_main_stack_limit, k_stack_initial);
    if (!top)
        panic("the main thread's stack cannot be reserved");
    s_main_stack_top = *top;
    u64 sp = s_libos->start_block(s_main_stack_top, k_stack_initial);
    atoll_call_on_stack(reinterpret_cast<void*>(sp), main_thread, nullptr);
    __builtin_unreachable();
}

} // namespace

const ImageInfo& image() { return *s_image; }
const BootInfo& boot_info() { return s_boot; }
const CommandLine& command_line() { return s_cmdline; }
u64 stack_canary() { return s_stack_canary; }
u64 main_stack_top() { return s_main_stack_top; }
u64 main_stack_limit() { return s_main_stack_limit; }

u64 set_main_stack_limit(u64 limit)
{
    s_main_stack_limit = stack_set_limit(s_main_stack_top, limit);
    return s_main_stack_limit;
}

void probe_devices(const CommandLine& cmdline)
{
    for (const DriverTable* table : registered_drivers()) {
        if (table->configure)
            table->configure(cmdline);
    }
    platform::discover_devices(cmdline, [](const platform::DeviceInfo& device, void*) {
        for (const DriverTable* table : registered_drivers()) {
            for (std::size_t i = 0; i < table->count; ++i) {
                const Driver* d = table->drivers[i];
                if (d->match(device)) {
                    d->probe(device);
                    return;
                }
            }
        }
    }, nullptr);
    for (const DriverTable* table : registered_drivers()) {
        if (table->probed)
            table->probed();
    }
}

} // namespace atl::kernel

// Called by the PVH entry code (kernel/arch/x86_64/boot.S) in long mode on the boot stack.
extern "C" [[noreturn]] void atoll_kernel_main(atl::u64 start_info)
{
    using namespace atl::kernel;
    phase_early(start_info);
    phase_memory();
    phase_command_line();
    phase_clock();
    s_libos->boot();
    phase_interrupts();
    phase_main_thread();
}
