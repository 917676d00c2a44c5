// SPDX-License-Identifier: MIT
// The in-memory file tree (ramfs): inodes, directories, path resolution, regular file data.
// Open files of the tree: open_file.cpp; the descriptor table: core/file.cpp.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/proc/credentials.h>

#include <kernel/heap.h>
#include <kernel/memory.h>
#include <kernel/time.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <new>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace atl::libos {

using kernel::kfree;
using kernel::kmalloc;
using kernel::make;

// ------------------------------------------------------------------------------ inodes

void fill_stat(const Inode* i, struct stat* st)
{
    *st = {};
    st->st_dev = 1;
    st->st_ino = i->ino;
    st->st_mode = i->mode;
    st->st_nlink = i->nlink;
    st->st_uid = i->uid;
    st->st_gid = i->gid;
    st->st_size = static_cast<off_t>(i->generator ? 0 : i->size); // /proc files report 0, as on Linux
    st->st_blksize = 4096;
    st->st_blocks = static_cast<blkcnt_t>((i->size + 511) / 512);
    st->st_atim = i->atime;
    st->st_mtim = i->mtime;
    st->st_ctim = i->ctime;
    if (S_ISCHR(i->mode))
        st->st_rdev = 1 << 8;
}

namespace {

Inode* s_root = nullptr;
Inode* s_cwd = nullptr;
u64 s_next_ino = 1;
u64 s_file_pages = 0;

struct timespec now_ts()
{
    u64 ns = kernel::realtime_ns();
    return { static_cast<time_t>(ns / 1000000000u), static_cast<long>(ns % 1000000000u) };
}

u32 hash_name(const char* s)
{
    u32 h = 2166136261u; // FNV-1a
    for (; *s; ++s)
        h = (h ^ static_cast<u8>(*s)) * 16777619u;
    return h;
}

void free_inode(Inode* i)
{
    if (i->is_reg())
        (void)file_data_truncate(i, 0);
    kfree(i->blocks);
    kfree(i->buckets);
    kfree(i->target);
    kernel::destroy(i);
}

bool grow_buckets(Inode* dir)
{
    u32 n = dir->bucket_count ? dir->bucket_count * 2 : 16;
    auto** b = static_cast<DirEntry**>(kernel::kzalloc(n * sizeof(DirEntry*)));
    if (!b)
        return false;
    for (DirEntry* e = dir->entries.front(); e; e = dir->entries.next(e)) {
        e->chain = b[e->hash & (n - 1)];
        b[e->hash & (n - 1)] = e;
    }
    kfree(dir->buckets);
    dir->buckets = b;
    dir->bucket_count = n;
    return true;
}

DirEntry* find_entry(Inode* dir, const char* name, DirEntry*** link_out = nullptr)
{
    if (!dir->bucket_count)
        return nullptr;
    u32 h = hash_name(name);
    DirEntry** link = &dir->buckets[h & (dir->bucket_count - 1)];
    for (DirEntry* e = *link; e; link = &e->chain, e = e->chain) {
        if (e->hash == h && std::strcmp(e->name, name) == 0) {
            if (link_out)
                *link_out = link;
            return e;
        }
    }
    return nullptr;
}

} // namespace

Inode* root() { return s_root; }
void set_root(Inode* r) { s_root = r; }
Inode* cwd() { return s_cwd; }

void set_cwd(Inode* dir)
{
    inode_get(dir);
    Inode* old = s_cwd;
    s_cwd = dir;
    if (old)
        inode_put(old);
}

Inode* new_inode(u32 mode)
{
    Inode* i = make<Inode>();
    if (!i)
        return nullptr;
    i->ino = s_next_ino++;
    i->mode = mode;
    i->atime = i->mtime = i->ctime = now_ts();
    return i;
}

void inode_get(Inode* i) { ++i->refs; }

void inode_put(Inode* i)
{
    if (--i->refs == 0 && i->nlink == 0)
        free_inode(i);
}

void touch(Inode* i, bool modify)
{
    struct timespec t = now_ts();
    if (modify)
        i->mtime = i->ctime = t;
    else
        i->atime = t;
}

Inode* dir_find(Inode* dir, const char* name)
{
    if (dir->dynamic_lookup) {
        Inode* out = nullptr;
        return dir->dynamic_lookup(name, &out) == 0 ? out : nullptr;
    }
    DirEntry* e = find_entry(dir, name);
    return e ? e->inode : nullptr;
}

long dir_add(Inode* dir, const char* name, Inode* child)
{
    std::size_t len = std::strlen(name);
    if (len > NAME_MAX)
        return -ENAMETOOLONG;
    if (find_entry(dir, name))
        return -EEXIST;
    if (dir->entry_count + 1 > dir->bucket_count && !grow_buckets(dir))
        return -ENOSPC;
    auto* e = static_cast<DirEntry*>(kmalloc(sizeof(DirEntry) + len));
    if (!e)
        return -ENOSPC;
    new (e) DirEntry();
    std::memcpy(e->name, name, len + 1);
    e->hash = hash_name(name);
    e->cookie = dir->next_cookie++;
    e->inode = child;
    e->chain = dir->buckets[e->hash & (dir->bucket_count - 1)];
    dir->buckets[e->hash & (dir->bucket_count - 1)] = e;
    dir->entries.push_back(e);
    ++dir->entry_count;
    ++child->nlink;
    if (child->is_dir()) {
        child->parent = dir;
        ++dir->nlink; // the child's ".."
    }
    touch(dir, true);
    return 0;
}

long dir_remove(Inode* dir, const char* name)
{
    DirEntry** link = nullptr;
    DirEntry* e = find_entry(dir, name, &link);
    if (!e)
        return -ENOENT;
    *link = e->chain;
    dir->entries.remove(e);
    --dir->entry_count;
    Inode* child = e->inode;
    kfree(e);
    if (child->is_dir()) {
        --dir->nlink;
        child->nlink = 0; // its "." goes with it
    } else {
        --child->nlink;
    }
    touch(dir, true);
    touch(child, true);
    if (child->nlink == 0 && child->refs == 0)
        free_inode(child);
    return 0;
}

// ------------------------------------------------------------------------ resolution

namespace {

constexpr int k_max_links = 40;

long resolve_inner(Inode* start, const char* path, int flags, Lookup* out, int depth);

// Follows the symlink `link` found in `dir`; the result is the inode it names.
long follow(Inode* dir, Inode* link, int depth, int flags, Inode** result)
{
    if (depth >= k_max_links)
        return -ELOOP;
    Lookup sub;
    long r = resolve_inner(dir, link->target, k_follow | (flags & k_search), &sub, depth + 1);
    if (r < 0)
        return r;
    if (!sub.inode)
        return -ENOENT;
    *result = sub.inode;
    return 0;
}

long resolve_inner(Inode* start, const char* path, int flags, Lookup* out, int depth)
{
    if (path[0] == '\0')
        return -ENOENT;
    Inode* cur = path[0] == '/' ? s_root : start;
    const char* p = path;
    for (;;) {
        while (*p == '/')
            ++p;
        if (*p == '\0') { // the path was "/" or ended in slashes after a directory
            out->parent = cur->parent ? cur->parent : cur;
            out->inode = cur;
            std::strcpy(out->name_buf, ".");
            out->last = out->name_buf;
            return 0;
        }
        const char* end = p;
        while (*end && *end != '/')
            ++end;
        std::size_t len = static_cast<std::size_t>(end - p);
        if (len > NAME_MAX)
            return -ENAMETOOLONG;
        const char* rest = end;
        while (*rest == '/')
            ++rest;
        bool last = *rest == '\0';
        bool trailing_slash = last && *end == '/';
        if (!cur->is_dir())
            return -ENOTDIR;
        if (flags & k_search) {
            if (long r = inode_permission(cur, k_may_exec); r < 0)
                return r;
        }
        char name[NAME_MAX + 1];
        std::memcpy(name, p, len);
        name[len] = '\0';
        Inode* next;
        if (std::strcmp(name, ".") == 0)
            next = cur;
        else if (std::strcmp(name, "..") == 0)
            next = cur->parent ? cur->parent : cur;
        else
            next = dir_find(cur, name);
        if (last) {
            out->parent = cur;
            std::memcpy(out->name_buf, name, len + 1);
            out->last = out->name_buf;
            if (next && next->is_link() && ((flags & k_follow) || trailing_slash)) {
                long r = follow(cur, next, depth, flags, &next);
                if (r < 0)
                    return r;
            }
            if (next && (trailing_slash || (flags & k_want_dir)) && !next->is_dir())
                return -ENOTDIR;
            out->inode = next;
            return 0;
        }
        if (!next)
            return -ENOENT;
        if (next->is_link()) {
            long r = follow(cur, next, depth, flags, &next);
            if (r < 0)
                return r;
        }
        cur = next;
        p = end;
    }
}

} // namespace

long resolve(Inode* start, const char* path, int flags, Lookup* out)
{
    return resolve_inner(start, path, flags, out, 0);
}

long resolve_at(int dirfd, const char* path, int flags, Lookup* out)
{
    if (!path)
        return -EFAULT;
    std::size_t n = strnlen(path, PATH_MAX);
    if (n == PATH_MAX)
        return -ENAMETOOLONG;
    Inode* start = s_cwd;
    if (path[0] != '/' && dirfd != AT_FDCWD) {
        File* f = fd_get(dirfd);
        if (!f)
            return -EBADF;
        Inode* i = f->inode();
        if (!i || !i->is_dir())
            return -ENOTDIR;
        start = i;
    }
    return resolve(start, path, flags | k_search, out);
}

long dir_path(Inode* dir, char* buf, std::size_t cap)
{
    // Walk up to the root, prepending each name found in its parent.
    char tmp[PATH_MAX];
    std::size_t pos = sizeof(tmp) - 1;
    tmp[pos] = '\0';
    Inode* cur = dir;
    while (cur != s_root) {
        Inode* parent = cur->parent;
        if (!parent)
            return -ENOENT; // removed from the tree
        DirEntry* e = parent->entries.front();
        while (e && e->inode != cur)
            e = parent->entries.next(e);
        if (!e)
            return -ENOENT;
        std::size_t len = std::strlen(e->name);
        if (len + 1 > pos)
            return -ENAMETOOLONG;
        pos -= len;
        std::memcpy(tmp + pos, e->name, len);
        tmp[--pos] = '/';
        cur = parent;
    }
    if (pos == sizeof(tmp) - 1)
        tmp[--pos] = '/';
    std::size_t total = sizeof(tmp) - 1 - pos;
    if (total + 1 > cap)
        return -ERANGE;
    std::memcpy(buf, tmp + pos, total + 1);
    return static_cast<long>(total + 1);
}

// ------------------------------------------------------------------------ file data

namespace {

bool ensure_block_capacity(Inode* i, u64 blocks)
{
    if (blocks <= i->block_capacity)
        return true;
    u64 cap = i->block_capacity ? i->block_capacity : 4;
    while (cap < blocks)
        cap *= 2;
    auto* b = static_cast<u64*>(kernel::kzalloc(cap * sizeof(u64)));
    if (!b)
        return false;
    if (i->blocks)
        std::memcpy(b, i->blocks, i->block_capacity * sizeof(u64));
    kfree(i->blocks);
    i->blocks = b;
    i->block_capacity = cap;
    return true;
}

} // namespace

long file_data_read(Inode* i, void* buf, std::size_t n, u64 offset)
{
    if (offset >= i->size)
        return 0;
    if (n > i->size - offset)
        n = static_cast<std::size_t>(i->size - offset);
    auto* out = static_cast<char*>(buf);
    std::size_t done = 0;
    while (done < n) {
        u64 pos = offset + done;
        u64 block = pos / k_page_size;
        std::size_t in = static_cast<std::size_t>(pos % k_page_size);
        std::size_t chunk = k_page_size - in < n - done ? k_page_size - in : n - done;
        u64 page = block < i->block_capacity ? i->blocks[block] : 0;
        // BUF is usually the application's (a checked range): fault-safe copies.
        bool ok = true;
        if (page) {
            ok = copy_checked(out + done, reinterpret_cast<const char*>(page) + in, chunk);
        } else {
            static const char k_zeros[256] = {};
            for (std::size_t z = 0; ok && z < chunk; z += sizeof(k_zeros))
                ok = copy_checked(out + done + z, k_zeros, chunk - z < sizeof(k_zeros) ? chunk - z : sizeof(k_zeros));
        }
        if (!ok)
            return done ? static_cast<long>(done) : -EFAULT;
        done += chunk;
    }
    return static_cast<long>(n);
}

long file_data_write(Inode* i, const void* buf, std::size_t n, u64 offset)
{
    if (n == 0)
        return 0;
    if (offset + n < offset || offset + n > (u64(1) << 40))
        return -EFBIG;
    if (!ensure_block_capacity(i, (offset + n + k_page_size - 1) / k_page_size))
        return -ENOSPC;
    auto* in = static_cast<const char*>(buf);
    std::size_t done = 0;
    while (done < n) {
        u64 pos = offset + done;
        u64 block = pos / k_page_size;
        std::size_t at = static_cast<std::size_t>(pos % k_page_size);
        std::size_t chunk = k_page_size - at < n - done ? k_page_size - at : n - done;
        if (!i->blocks[block]) {
            u64 page = 0;
            if (!kernel::alloc_pages(k_page_size, &page))
                break;
            std::memset(reinterpret_cast<void*>(page), 0, k_page_size);
            i->blocks[block] = page;
            ++s_file_pages;
        }
        // BUF: as in file_data_read.
        if (!copy_checked(reinterpret_cast<char*>(i->blocks[block]) + at, in + done, chunk)) {
            if (done == 0)
                return -EFAULT;
            break;
        }
        done += chunk;
    }
    if (done == 0)
        return -ENOSPC;
    if (offset + done > i->size)
        i->size = offset + done;
    touch(i, true);
    return static_cast<long>(done);
}

long file_data_truncate(Inode* i, u64 size)
{
    if (size > (u64(1) << 40))
        return -EFBIG;
    if (size < i->size) {
        u64 keep = (size + k_page_size - 1) / k_page_size;
        for (u64 b = keep; b < i->block_capacity; ++b) {
            if (i->blocks[b]) {
                kernel::free_pages(i->blocks[b], k_page_size);
                i->blocks[b] = 0;
                --s_file_pages;
            }
        }
        // Zero the tail of the last page so that growing again reads zeros.
        if (size % k_page_size && keep - 1 < i->block_capacity && i->blocks[keep - 1]) {
            std::size_t at = static_cast<std::size_t>(size % k_page_size);
            std::memset(reinterpret_cast<char*>(i->blocks[keep - 1]) + at, 0, k_page_size - at);
        }
    }
    i->size = size;
    touch(i, true);
    return 0;
}

u64 ramfs_bytes() { return s_file_pages * k_page_size; }

} // namespace atl::libos
