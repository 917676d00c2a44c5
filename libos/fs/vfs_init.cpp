// SPDX-License-Identifier: MIT
// The tree at boot: /dev devices, /proc, /etc files that programs expect, /tmp, and the
// initrd (cpio newc) unpacked over the root.

#include "cpio.h"
#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/proc/credentials.h>
#include <libos/proc/syscalls.h>

#include <kernel/arch/cpu.h>
#include <kernel/console.h>
#include <kernel/heap.h>
#include <kernel/memory.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <cerrno>
#include <cstdio>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

namespace atl::libos {

namespace {

// ---------------------------------------------------------------------------- devices

// The devices' buffers are ranges the system call checked (access_ok) and that are used at
// once, without blocking: with the libOS's interrupts off on one CPU nothing can unmap them
// in between, so these write and read them in place. (A device that blocks copies with
// copy_checked, as pipes do.)
long null_read(void*, std::size_t, bool) { return 0; }
long null_write(const void*, std::size_t n) { return static_cast<long>(n); }
u32 always_ready() { return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM; }
long zero_read(void* buf, std::size_t n, bool)
{
    std::memset(buf, 0, n);
    return static_cast<long>(n);
}
long random_read(void* buf, std::size_t n, bool)
{
    fill_random(buf, n);
    return static_cast<long>(n);
}
long console_write(const void* buf, std::size_t n)
{
    kernel::console_write(static_cast<const char*>(buf), n);
    return static_cast<long>(n);
}
// The application's stderr when the VM has a kernel log port: `atoll run` prints it on its
// own stderr, apart from stdout (the serial console). Not a terminal.
long errlog_write(const void* buf, std::size_t n)
{
    kernel::log_port_write(static_cast<const char*>(buf), n);
    return static_cast<long>(n);
}
// FIXME: console input. Until the UART receive path exists, the console reads as end of file.
long console_read(void*, std::size_t, bool) { return 0; }
struct termios& console_termios()
{
    static struct termios s_termios {};
    static bool s_ready = false;
    if (!s_ready) {
        s_termios.c_iflag = ICRNL;
        s_termios.c_oflag = OPOST | ONLCR;
        s_termios.c_cflag = CS8 | CREAD | B115200;
        s_termios.c_lflag = ISIG | ICANON | ECHO;
        s_ready = true;
    }
    return s_termios;
}

long console_ioctl(unsigned long request, long arg)
{
    switch (request) {
    case TIOCGWINSZ: {
        struct winsize ws {};
        ws.ws_row = 24;
        ws.ws_col = 80;
        return write_user(arg, ws);
    }
    case TCGETS:
        return write_user(arg, console_termios());
    // Kept and reported back (a program that sets raw mode reads raw mode); the console has
    // no input to echo or edit yet, and its output is passed through unchanged.
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
        return read_user(arg, &console_termios());
    case FIONREAD:
        return write_user(arg, 0);
    default:
        return -ENOTTY;
    }
}

const DeviceOps k_null { null_read, null_write, always_ready, nullptr };
const DeviceOps k_zero { zero_read, null_write, always_ready, nullptr };
const DeviceOps k_random { random_read, null_write, always_ready, nullptr };
const DeviceOps k_console { console_read, console_write, always_ready, console_ioctl };
const DeviceOps k_errlog { console_read, errlog_write, always_ready, nullptr };

// ------------------------------------------------------------------------------ /proc

const char* s_image_name = "app";

long gen_meminfo(char* buf, std::size_t cap)
{
    unsigned long long total = kernel::memory_total() >> 10, free = kernel::memory_free() >> 10;
    unsigned long long files = ramfs_bytes() >> 10, heap = kernel::heap_in_use() >> 10;
    return std::snprintf(buf, cap,
        "MemTotal:       %8llu kB\n"
        "MemFree:        %8llu kB\n"
        "MemAvailable:   %8llu kB\n"
        "Buffers:               0 kB\n"
        "Cached:         %8llu kB\n"
        "SwapCached:            0 kB\n"
        "Shmem:          %8llu kB\n"
        "Slab:           %8llu kB\n"
        "SwapTotal:             0 kB\n"
        "SwapFree:              0 kB\n",
        total, free, free, files, files, heap);
}

long gen_cpuinfo(char* buf, std::size_t cap)
{
    arch::CpuDescription cpu;
    arch::describe_cpu(&cpu);
    unsigned long long khz = kernel::tsc_hz() / 1000;
    return std::snprintf(buf, cap,
        "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\nmodel name\t: %s\n"
        "stepping\t: %u\ncpu MHz\t\t: %llu.%03llu\ncpu cores\t: 1\nflags\t\t: %s\nbogomips\t: %llu.%02llu\n\n",
        cpu.vendor, cpu.family, cpu.model, cpu.model_name, cpu.stepping, khz / 1000, khz % 1000, cpu.flags, khz / 500,
        (khz / 5) % 100);
}

// /proc/self/status: the lines programs read for their identity, as Linux formats them.
long gen_status(char* buf, std::size_t cap)
{
    const Credentials& c = creds();
    kernel::Thread* main = kernel::find_thread(static_cast<int>(k_pid));
    // Capabilities: all of Linux 6.1's 41 while root's are in force; the file-system subset
    // (CAP_FS_MASK) follows the file-system uid.
    constexpr unsigned long long k_all = 0x1ffffffffffull, k_fs = 0x10800001full;
    unsigned long long eff = (c.cap_effective ? k_all & ~k_fs : 0) | (c.cap_fs_effective ? k_fs : 0);
    long n = std::snprintf(buf, cap,
        "Name:\t%s\nState:\tR (running)\nTgid:\t%ld\nNgid:\t0\nPid:\t%ld\nPPid:\t0\nTracerPid:\t0\n"
        "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\nFDSize:\t%d\nGroups:\t",
        main ? main->name : "main", k_pid, k_pid, c.ruid, c.euid, c.suid, c.fsuid, c.rgid, c.egid, c.sgid,
        c.fsgid, k_max_fds);
    for (std::size_t i = 0; i < group_count() && n > 0 && static_cast<std::size_t>(n) < cap; ++i)
        n += std::snprintf(buf + n, cap - static_cast<std::size_t>(n), i ? " %u" : "%u", group_at(i));
    if (n > 0 && static_cast<std::size_t>(n) < cap) {
        n += std::snprintf(buf + n, cap - static_cast<std::size_t>(n),
            " \nThreads:\t%zu\nCapInh:\t0000000000000000\nCapPrm:\t%016llx\nCapEff:\t%016llx\n"
            "CapBnd:\t%016llx\nCapAmb:\t0000000000000000\n",
            kernel::thread_count(), c.cap_permitted ? k_all : 0, eff, k_all);
    }
    return n < 0 ? -EIO : (static_cast<std::size_t>(n) < cap ? n : static_cast<long>(cap) - 1);
}

// /proc/self/fd: one symlink per open descriptor, made on lookup.
Inode* s_fd_links[k_max_fds];

long fd_dir_lookup(const char* name, Inode** out)
{
    char* end = nullptr;
    long fd = std::strtol(name, &end, 10);
    if (*name == '\0' || *end != '\0' || fd < 0 || fd >= k_max_fds)
        return -ENOENT;
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -ENOENT;
    Inode*& link = s_fd_links[fd];
    if (!link) {
        link = new_inode(S_IFLNK | 0700);
        if (!link)
            return -ENOMEM;
        link->nlink = 1;
        link->target = static_cast<char*>(kernel::kmalloc(PATH_MAX));
        if (!link->target)
            return -ENOMEM;
    }
    f->describe(link->target, PATH_MAX);
    link->size = std::strlen(link->target);
    *out = link;
    return 0;
}

long fd_dir_list(Inode*, void (*emit)(void*, const char*, u8), void* ctx)
{
    char name[16];
    for (int fd = fd_next_open(0); fd >= 0; fd = fd_next_open(fd + 1)) {
        std::snprintf(name, sizeof(name), "%d", fd);
        emit(ctx, name, DT_LNK);
    }
    return 0;
}

// ------------------------------------------------------------------------------ helpers

Inode* mkdir_p(Inode* parent, const char* name, u32 perm = 0755)
{
    if (Inode* existing = dir_find(parent, name))
        return existing->is_dir() ? existing : nullptr;
    Inode* d = new_inode(S_IFDIR | perm);
    if (!d)
        return nullptr;
    d->nlink = 1; // "." ; dir_add counts the entry
    if (dir_add(parent, name, d) < 0)
        return nullptr;
    return d;
}

bool add_file(Inode* dir, const char* name, const char* content, u32 perm = 0644)
{
    if (dir_find(dir, name))
        return true; // the initrd's own version wins
    Inode* f = new_inode(S_IFREG | perm);
    if (!f || dir_add(dir, name, f) < 0)
        return false;
    return file_data_write(f, content, std::strlen(content), 0) >= 0;
}

bool add_special(Inode* dir, const char* name, u32 mode, const DeviceOps* dev, Generator gen)
{
    Inode* i = new_inode(mode);
    if (!i)
        return false;
    i->device = dev;
    i->generator = gen;
    return dir_add(dir, name, i) == 0;
}

bool add_symlink(Inode* dir, const char* name, const char* target)
{
    Inode* i = new_inode(S_IFLNK | 0777);
    if (!i)
        return false;
    std::size_t n = std::strlen(target);
    i->target = static_cast<char*>(kernel::kmalloc(n + 1));
    if (!i->target)
        return false;
    std::memcpy(i->target, target, n + 1);
    i->size = n;
    return dir_add(dir, name, i) == 0;
}

} // namespace

const char* vfs_init(const char* image_name)
{
    s_image_name = image_name;
    Inode* r = new_inode(S_IFDIR | 0755);
    if (!r)
        return "out of memory for the root directory";
    r->nlink = 2;
    r->parent = r;
    inode_get(r); // the root is never freed
    set_root(r);
    set_cwd(r);

    Inode* dev = mkdir_p(r, "dev");
    Inode* proc = mkdir_p(r, "proc", 0555);
    Inode* self = proc ? mkdir_p(proc, "self", 0555) : nullptr;
    Inode* fd = self ? mkdir_p(self, "fd", 0500) : nullptr;
    Inode* etc = mkdir_p(r, "etc");
    Inode* tmp = mkdir_p(r, "tmp", 01777);
    if (!dev || !proc || !self || !fd || !etc || !tmp)
        return "out of memory building the root file system";
    fd->dynamic_lookup = fd_dir_lookup;
    fd->dynamic_list = fd_dir_list;

    char exe[PATH_MAX];
    std::snprintf(exe, sizeof(exe), "/%s", image_name);
    bool ok = add_special(dev, "null", S_IFCHR | 0666, &k_null, nullptr) &&
              add_special(dev, "zero", S_IFCHR | 0666, &k_zero, nullptr) &&
              add_special(dev, "full", S_IFCHR | 0666, &k_zero, nullptr) &&
              add_special(dev, "urandom", S_IFCHR | 0666, &k_random, nullptr) &&
              add_special(dev, "random", S_IFCHR | 0666, &k_random, nullptr) &&
              add_special(dev, "console", S_IFCHR | 0620, &k_console, nullptr) &&
              add_special(dev, "tty", S_IFCHR | 0666, &k_console, nullptr) &&
              (!kernel::has_log_port() || add_special(dev, "debugcon", S_IFCHR | 0620, &k_errlog, nullptr)) &&
              add_symlink(dev, "stdin", "/proc/self/fd/0") && add_symlink(dev, "stdout", "/proc/self/fd/1") &&
              add_symlink(dev, "stderr", "/proc/self/fd/2") && add_symlink(dev, "fd", "/proc/self/fd") &&
              add_special(proc, "meminfo", S_IFREG | 0444, nullptr, gen_meminfo) &&
              add_special(proc, "cpuinfo", S_IFREG | 0444, nullptr, gen_cpuinfo) &&
              add_special(self, "status", S_IFREG | 0444, nullptr, gen_status) &&
              add_symlink(self, "exe", exe);
    if (!ok)
        return "out of memory building /dev and /proc";
    return nullptr;
}

// The well-known ports getaddrinfo(..., "http", ...) and getservbyname() look up.
constexpr const char k_services[] =
    "ftp\t\t21/tcp\nssh\t\t22/tcp\ntelnet\t\t23/tcp\nsmtp\t\t25/tcp\t\tmail\n"
    "domain\t\t53/tcp\ndomain\t\t53/udp\nbootps\t\t67/udp\nbootpc\t\t68/udp\ntftp\t\t69/udp\n"
    "http\t\t80/tcp\t\twww\npop3\t\t110/tcp\nntp\t\t123/udp\nimap\t\t143/tcp\n"
    "snmp\t\t161/udp\nldap\t\t389/tcp\nhttps\t\t443/tcp\nhttps\t\t443/udp\n"
    "syslog\t\t514/udp\nsubmission\t587/tcp\nldaps\t\t636/tcp\nimaps\t\t993/tcp\n"
    "pop3s\t\t995/tcp\nmqtt\t\t1883/tcp\nmysql\t\t3306/tcp\npostgresql\t5432/tcp\n"
    "amqp\t\t5672/tcp\nredis\t\t6379/tcp\nhttp-alt\t8080/tcp\nmemcache\t11211/tcp\n";

// Files a program may expect in /etc; an initrd that brings its own keeps them.
const char* vfs_add_etc(const char* hostname)
{
    Inode* etc = dir_find(root(), "etc");
    if (!etc)
        return "no /etc";
    char line[300];
    std::snprintf(line, sizeof(line), "%s\n", hostname);
    bool ok = add_file(etc, "hostname", line) &&
              add_file(etc, "hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n") &&
              add_file(etc, "resolv.conf", "nameserver 10.0.2.3\n") &&
              add_file(etc, "passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n") &&
              add_file(etc, "group", "root:x:0:\nnogroup:x:65534:\n") &&
              add_file(etc, "nsswitch.conf", "hosts: files dns\n") &&
              add_file(etc, "services", k_services);
    return ok ? nullptr : "out of memory writing /etc";
}

const char* unpack_cpio(const void* data, std::size_t size)
{
    CpioReader reader(static_cast<const u8*>(data), size);
    CpioEntry e;
    while (reader.next(&e)) {
        if (std::strcmp(e.name, ".") == 0 || e.name[0] == '\0')
            continue;
        Lookup lk;
        long r = resolve(root(), e.name, 0, &lk);
        if (r < 0 || !lk.parent) {
            kernel::log("initrd: skipping '%s' (its directory is missing)", e.name);
            continue;
        }
        u32 type = e.mode & S_IFMT;
        if (type == S_IFDIR) {
            if (!lk.inode && !mkdir_p(lk.parent, lk.last, e.mode & 07777))
                return "out of memory unpacking the initrd";
            continue;
        }
        if (lk.inode) {
            if (lk.inode->is_dir()) {
                kernel::log("initrd: '%s' is a directory here; file skipped", e.name);
                continue;
            }
            (void)dir_remove(lk.parent, lk.last); // a later entry replaces an earlier one
        }
        if (type == S_IFLNK) {
            char target[PATH_MAX];
            std::size_t n = e.size < sizeof(target) - 1 ? e.size : sizeof(target) - 1;
            std::memcpy(target, e.data, n);
            target[n] = '\0';
            if (!add_symlink(lk.parent, lk.last, target))
                return "out of memory unpacking the initrd";
        } else if (type == S_IFREG) {
            Inode* f = new_inode(S_IFREG | (e.mode & 07777));
            if (!f || dir_add(lk.parent, lk.last, f) < 0)
                return "out of memory unpacking the initrd";
            if (e.size && file_data_write(f, e.data, e.size, 0) != static_cast<long>(e.size))
                return "out of memory unpacking the initrd";
            f->mtime = f->ctime = { static_cast<time_t>(e.mtime), 0 };
        } else {
            kernel::log("initrd: '%s' is a device, fifo or socket node; skipped", e.name);
        }
    }
    if (reader.error())
        return reader.error();
    return nullptr;
}

} // namespace atl::libos
