// SPDX-License-Identifier: MIT
#pragma once

// The virtual file system: one tree of inodes in memory (a writable ramfs root filled from the
// initrd, /dev, /proc) and the files opened on it. Open file descriptions, the descriptor
// table and readiness: <libos/core/file.h>.

#include <libos/core/file.h>

#include <kernel/list.h>
#include <kernel/sched.h>
#include <kernel/types.h>

#include <cerrno>
#include <ctime>
#include <sys/stat.h>

namespace atl::libos {

using kernel::WaitQueue;

// ---------------------------------------------------------------------------------- inodes
struct Inode;
struct DirEntry {
    ListNode order;   // insertion order: getdents walks it
    DirEntry* chain;  // hash bucket chain
    u64 cookie;       // d_off: position for getdents to resume after
    u32 hash;
    Inode* inode;
    char name[1];     // allocated to fit
};

// Device files: the operations a character device implements.
struct DeviceOps {
    long (*read)(void* buf, std::size_t n, bool nonblock);
    long (*write)(const void* buf, std::size_t n);
    u32 (*poll)();
    long (*ioctl)(unsigned long request, long arg);
};

// Generated files (/proc): content made at open.
using Generator = long (*)(char* buf, std::size_t cap);

struct Inode {
    u64 ino = 0;
    u32 mode = 0; // S_IFREG | 0644 ...
    u32 nlink = 0;
    u32 uid = 0, gid = 0;
    u32 refs = 0;      // open files and cwd references; freed when refs == 0 && nlink == 0
    u64 size = 0;
    struct timespec atime {}, mtime {}, ctime {};

    // Regular files: page-sized blocks, nullptr for holes (read as zeros).
    u64* blocks = nullptr;
    u64 block_capacity = 0;
    // Directories.
    Inode* parent = nullptr;
    DirEntry** buckets = nullptr;
    u32 bucket_count = 0;
    u32 entry_count = 0;
    u64 next_cookie = 3; // 1 and 2 are "." and ".."
    List<DirEntry, &DirEntry::order> entries;
    // Symbolic links.
    char* target = nullptr;
    // Devices and generated files.
    const DeviceOps* device = nullptr;
    Generator generator = nullptr;
    // Directories whose listing is computed (/proc/self/fd).
    long (*dynamic_lookup)(const char* name, Inode** out) = nullptr;
    long (*dynamic_list)(Inode* dir, void (*emit)(void* ctx, const char* name, u8 type), void* ctx) = nullptr;

    bool is_dir() const { return S_ISDIR(mode); }
    bool is_reg() const { return S_ISREG(mode); }
    bool is_link() const { return S_ISLNK(mode); }
};

// ------------------------------------------------------------------------ advisory locks
// (locks.cpp) fcntl's lock commands on descriptor FD (F_GETLK, F_SETLK(W), F_OFD_*).
long fcntl_lock(long fd, File* f, long cmd, long arg);
// A descriptor of F was closed: the process's POSIX locks on its file are released.
void locks_on_fd_close(File* f);
// F's last reference is going: its flock and OFD locks are released.
void locks_on_last_close(File* f);

// ------------------------------------------------------------------------ the tree
Inode* root();
void set_root(Inode* r);
Inode* cwd();
void set_cwd(Inode* dir);
Inode* new_inode(u32 mode);
void inode_get(Inode* i);
void inode_put(Inode* i);
void touch(Inode* i, bool modify);
void fill_stat(const Inode* i, struct stat* st);

// Resolution of a path relative to a directory (dirfd semantics done by the caller).
struct Lookup {
    Inode* parent = nullptr; // the directory that holds (or would hold) the last component
    Inode* inode = nullptr;  // nullptr if the last component does not exist
    const char* last = nullptr; // the last component's name (points into `name_buf`)
    char name_buf[256];
};
constexpr int k_follow = 1;     // follow a symlink in the last component
constexpr int k_want_dir = 2;   // a trailing slash or the caller needs a directory
constexpr int k_search = 4;     // the caller's ids need search permission on each directory
                                // walked (resolve_at sets it: every path a program passes)
long resolve(Inode* start, const char* path, int flags, Lookup* out);
long resolve_at(int dirfd, const char* path, int flags, Lookup* out);

long dir_add(Inode* dir, const char* name, Inode* child);
long dir_remove(Inode* dir, const char* name);
Inode* dir_find(Inode* dir, const char* name);

// Regular file data.
long file_data_read(Inode* i, void* buf, std::size_t n, u64 offset);
long file_data_write(Inode* i, const void* buf, std::size_t n, u64 offset);
long file_data_truncate(Inode* i, u64 size);
u64 ramfs_bytes(); // memory held by regular file data

// An open regular file, directory, symlink-free device or generated file.
long open_inode(Inode* i, int flags, const char* path, File** out);

// Builds /dev, /proc, /etc, /tmp; unpacks a cpio archive over the root.
const char* vfs_init(const char* image_name);
const char* vfs_add_etc(const char* hostname);
const char* unpack_cpio(const void* data, std::size_t size);

// Absolute path of a directory (for getcwd and /proc/self/fd).
long dir_path(Inode* dir, char* buf, std::size_t cap);

} // namespace atl::libos
