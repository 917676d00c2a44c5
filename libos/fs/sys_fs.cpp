// SPDX-License-Identifier: MIT
// The file family: open, read, write, stat, directories, links, descriptors.

#include <libos/core/syscall.h>
#include <libos/fs/syscalls.h>
#include <libos/fs/vfs.h>
#include <libos/proc/credentials.h>

#include <kernel/heap.h>
#include <kernel/memory.h>
#include <kernel/paging.h>
#include <kernel/time.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <linux/stat.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/uio.h>

namespace atl::libos {


long user_string(long p, char* out, std::size_t cap)
{
    if (!p)
        return -EFAULT;
    u64 a = static_cast<u64>(p);
    for (std::size_t i = 0; i < cap; ++i) {
        if (i == 0 || ((a + i) & (k_page_size - 1)) == 0) {
            if (!kernel::access_ok(a + i, 1, false))
                return -EFAULT;
        }
        out[i] = reinterpret_cast<const char*>(a)[i];
        if (out[i] == '\0')
            return static_cast<long>(i);
    }
    return -ENAMETOOLONG;
}

// Validates an iovec array the way Linux does: EINVAL for a bad count or a total that
// overflows ssize_t, EFAULT for any unusable piece.
long check_iov(long iov, long iovcnt, bool into)
{
    if (iovcnt < 0 || iovcnt > IOV_MAX)
        return -EINVAL;
    if (!user_in(iov, static_cast<std::size_t>(iovcnt) * sizeof(struct iovec)))
        return -EFAULT;
    auto* v = reinterpret_cast<const struct iovec*>(iov);
    std::size_t total = 0;
    for (long i = 0; i < iovcnt; ++i) {
        if (v[i].iov_len > static_cast<std::size_t>(SSIZE_MAX) - total)
            return -EINVAL;
        total += v[i].iov_len;
        if (!(into ? user_ok(v[i].iov_base, v[i].iov_len) : user_in(v[i].iov_base, v[i].iov_len)))
            return -EFAULT;
    }
    return static_cast<long>(total);
}

namespace {

u32 s_umask = 022;

// A path argument copied in, with Linux's errors for bad pointers and lengths.
struct UserPath {
    char buf[PATH_MAX];
    long error;
    explicit UserPath(long p) { error = user_string(p, buf, sizeof(buf)); }
};

long stat_inode(Inode* i, long st)
{
    if (!user_ok(st, sizeof(struct stat)))
        return -EFAULT;
    struct stat s;
    fill_stat(i, &s);
    std::memcpy(reinterpret_cast<void*>(st), &s, sizeof(s));
    return 0;
}

// The inode a path names for the *at calls (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW).
long inode_at(long dirfd, long path, long flags, Inode** out)
{
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    if (p.buf[0] == '\0') {
        if (!(flags & AT_EMPTY_PATH))
            return -ENOENT;
        if (dirfd == AT_FDCWD) {
            *out = cwd();
            return 0;
        }
        File* f = fd_get(static_cast<int>(dirfd));
        if (!f)
            return -EBADF;
        if (!f->inode())
            return -EBADF;
        *out = f->inode();
        return 0;
    }
    Lookup lk;
    long r = resolve_at(static_cast<int>(dirfd), p.buf, (flags & AT_SYMLINK_NOFOLLOW) ? 0 : k_follow, &lk);
    if (r < 0)
        return r;
    if (!lk.inode)
        return -ENOENT;
    *out = lk.inode;
    return 0;
}

long do_read(File* f, void* buf, std::size_t n)
{
    if (!f->readable())
        return -EBADF;
    return f->read(buf, n);
}

long do_write(File* f, const void* buf, std::size_t n)
{
    if (!f->writable())
        return -EBADF;
    return f->write(buf, n);
}

template <typename Op>
long vector_io(long iov, long iovcnt, bool into, Op op)
{
    long r = check_iov(iov, iovcnt, into);
    if (r < 0)
        return r;
    auto* v = reinterpret_cast<const struct iovec*>(iov);
    long done = 0;
    for (long i = 0; i < iovcnt; ++i) {
        if (v[i].iov_len == 0)
            continue;
        long n = op(v[i].iov_base, v[i].iov_len, done);
        if (n < 0)
            return done ? done : n;
        done += n;
        if (static_cast<std::size_t>(n) < v[i].iov_len)
            break;
    }
    return done;
}

long create_node(Lookup& lk, u32 mode, Inode** out)
{
    if (!lk.parent->is_dir())
        return -ENOTDIR;
    if (lk.parent->nlink == 0)
        return -ENOENT;
    if (lk.parent->dynamic_lookup || lk.parent == nullptr)
        return -EACCES;
    if (long r = inode_permission(lk.parent, k_may_write | k_may_exec); r < 0)
        return r;
    Inode* i = new_inode(mode);
    if (!i)
        return -ENOSPC;
    if (S_ISDIR(mode))
        i->nlink = 1;
    init_owner(i, lk.parent);
    long r = dir_add(lk.parent, lk.last, i);
    if (r < 0) {
        kernel::destroy(i);
        return r;
    }
    *out = i;
    return 0;
}

} // namespace

long sys_openat(long dirfd, long path, long flags, long mode)
{
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return -EOPNOTSUPP;
    bool creat = flags & O_CREAT;
    bool excl = creat && (flags & O_EXCL);
    int rflags = (excl || (flags & O_NOFOLLOW)) ? 0 : k_follow;
    if (flags & O_DIRECTORY)
        rflags |= k_want_dir;
    Lookup lk;
    long r = resolve_at(static_cast<int>(dirfd), p.buf, rflags, &lk);
    if (r < 0)
        return r;
    Inode* i = lk.inode;
    int acc = static_cast<int>(flags & O_ACCMODE);
    if (acc == 3)
        return -EINVAL;
    if (i) {
        if (excl)
            return -EEXIST;
        if (i->is_link())
            return -ELOOP; // O_NOFOLLOW
        if (i->is_dir() && (acc != O_RDONLY || creat))
            return -EISDIR;
        if ((flags & O_DIRECTORY) && !i->is_dir())
            return -ENOTDIR;
        int want = (acc == O_WRONLY ? 0 : k_may_read) | (acc == O_RDONLY ? 0 : k_may_write) | ((flags & O_TRUNC) ? k_may_write : 0);
        if (long e = inode_permission(i, want); e < 0)
            return e;
    } else {
        if (!creat)
            return -ENOENT;
        if (std::strcmp(lk.last, ".") == 0 || p.buf[std::strlen(p.buf) - 1] == '/')
            return -EISDIR;
        r = create_node(lk, S_IFREG | (static_cast<u32>(mode) & 07777 & ~s_umask), &i);
        if (r < 0)
            return r;
    }
    if ((flags & O_TRUNC) && i->is_reg() && acc != O_RDONLY) {
        r = file_data_truncate(i, 0);
        if (r < 0)
            return r;
    }
    File* f = nullptr;
    r = open_inode(i, static_cast<int>(flags), p.buf, &f);
    if (r < 0)
        return r;
    return fd_install(f, flags & O_CLOEXEC);
}

long sys_open(long path, long flags, long mode) { return sys_openat(AT_FDCWD, path, flags, mode); }
long sys_creat(long path, long mode) { return sys_openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode); }

long sys_close(long fd) { return fd_close(static_cast<int>(fd)); }

long sys_read(long fd, long buf, long count)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (count < 0)
        return -EINVAL;
    if (!user_ok(buf, static_cast<std::size_t>(count)))
        return -EFAULT;
    return do_read(f, reinterpret_cast<void*>(buf), static_cast<std::size_t>(count));
}

long sys_write(long fd, long buf, long count)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (count < 0)
        return -EINVAL;
    if (!user_in(buf, static_cast<std::size_t>(count)))
        return -EFAULT;
    return do_write(f, reinterpret_cast<const void*>(buf), static_cast<std::size_t>(count));
}

long sys_readv(long fd, long iov, long iovcnt)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (!f->readable())
        return -EBADF;
    return vector_io(iov, iovcnt, true, [f](void* b, std::size_t n, long) { return f->read(b, n); });
}

long sys_writev(long fd, long iov, long iovcnt)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (!f->writable())
        return -EBADF;
    return vector_io(iov, iovcnt, false, [f](void* b, std::size_t n, long) { return f->write(b, n); });
}

long sys_pread64(long fd, long buf, long count, long offset)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f || !f->readable())
        return -EBADF;
    if (count < 0 || offset < 0)
        return -EINVAL;
    if (!user_ok(buf, static_cast<std::size_t>(count)))
        return -EFAULT;
    if (f->inode() && f->inode()->is_dir())
        return -EISDIR;
    return f->pread(reinterpret_cast<void*>(buf), static_cast<std::size_t>(count), static_cast<u64>(offset));
}

long sys_pwrite64(long fd, long buf, long count, long offset)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f || !f->writable())
        return -EBADF;
    if (count < 0 || offset < 0)
        return -EINVAL;
    if (!user_in(buf, static_cast<std::size_t>(count)))
        return -EFAULT;
    return f->pwrite(reinterpret_cast<const void*>(buf), static_cast<std::size_t>(count), static_cast<u64>(offset));
}

long sys_preadv(long fd, long iov, long iovcnt, long offset)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f || !f->readable())
        return -EBADF;
    if (offset < 0)
        return -EINVAL;
    return vector_io(iov, iovcnt, true,
        [f, offset](void* b, std::size_t n, long done) { return f->pread(b, n, static_cast<u64>(offset + done)); });
}

long sys_pwritev(long fd, long iov, long iovcnt, long offset)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f || !f->writable())
        return -EBADF;
    if (offset < 0)
        return -EINVAL;
    return vector_io(iov, iovcnt, false,
        [f, offset](void* b, std::size_t n, long done) { return f->pwrite(b, n, static_cast<u64>(offset + done)); });
}

long sys_lseek(long fd, long offset, long whence)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    return f->seek(offset, static_cast<int>(whence));
}

long sys_fstat(long fd, long st)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (!user_ok(st, sizeof(struct stat)))
        return -EFAULT;
    if (Inode* i = f->inode())
        return stat_inode(i, st);
    struct stat s {};
    long r = f->stat(&s);
    if (r < 0)
        return r;
    std::memcpy(reinterpret_cast<void*>(st), &s, sizeof(s));
    return 0;
}

long sys_newfstatat(long dirfd, long path, long st, long flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
        return -EINVAL;
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    if (p.buf[0] == '\0' && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD)
        return sys_fstat(dirfd, st);
    Inode* i = nullptr;
    long r = inode_at(dirfd, path, flags, &i);
    if (r < 0)
        return r;
    return stat_inode(i, st);
}

long sys_stat(long path, long st) { return sys_newfstatat(AT_FDCWD, path, st, 0); }
long sys_lstat(long path, long st) { return sys_newfstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW); }

long sys_statx(long dirfd, long path, long flags, long mask, long buf)
{
    (void)mask;
    if (!user_ok(buf, sizeof(struct statx)))
        return -EFAULT;
    struct stat s {};
    long r;
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    if (p.buf[0] == '\0' && (flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
        File* f = fd_get(static_cast<int>(dirfd));
        if (!f)
            return -EBADF;
        r = f->stat(&s);
    } else {
        Inode* i = nullptr;
        r = inode_at(dirfd, path, flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), &i);
        if (r == 0)
            fill_stat(i, &s);
    }
    if (r < 0)
        return r;
    struct statx x {};
    x.stx_mask = STATX_BASIC_STATS;
    x.stx_blksize = static_cast<u32>(s.st_blksize);
    x.stx_nlink = static_cast<u32>(s.st_nlink);
    x.stx_uid = s.st_uid;
    x.stx_gid = s.st_gid;
    x.stx_mode = static_cast<u16>(s.st_mode);
    x.stx_ino = s.st_ino;
    x.stx_size = static_cast<u64>(s.st_size);
    x.stx_blocks = static_cast<u64>(s.st_blocks);
    x.stx_atime = { s.st_atim.tv_sec, static_cast<u32>(s.st_atim.tv_nsec), 0 };
    x.stx_mtime = { s.st_mtim.tv_sec, static_cast<u32>(s.st_mtim.tv_nsec), 0 };
    x.stx_ctime = { s.st_ctim.tv_sec, static_cast<u32>(s.st_ctim.tv_nsec), 0 };
    x.stx_dev_minor = 1;
    std::memcpy(reinterpret_cast<void*>(buf), &x, sizeof(x));
    return 0;
}

long sys_getdents64(long fd, long buf, long count)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (count < 0)
        return -EINVAL;
    if (!user_ok(buf, static_cast<std::size_t>(count)))
        return -EFAULT;
    return f->getdents(reinterpret_cast<void*>(buf), static_cast<std::size_t>(count));
}

long sys_mkdirat(long dirfd, long path, long mode)
{
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    Lookup lk;
    long r = resolve_at(static_cast<int>(dirfd), p.buf, 0, &lk);
    if (r < 0)
        return r;
    if (lk.inode)
        return -EEXIST;
    Inode* i = nullptr;
    return create_node(lk, S_IFDIR | (static_cast<u32>(mode) & 07777 & ~s_umask), &i);
}

long sys_mkdir(long path, long mode) { return sys_mkdirat(AT_FDCWD, path, mode); }

long sys_unlinkat(long dirfd, long path, long flags)
{
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    Lookup lk;
    long r = resolve_at(static_cast<int>(dirfd), p.buf, 0, &lk);
    if (r < 0)
        return r;
    if (!lk.inode)
        return -ENOENT;
    if (lk.parent->dynamic_lookup)
        return -EACCES;
    bool dot = std::strcmp(lk.last, ".") == 0, dotdot = std::strcmp(lk.last, "..") == 0;
    // Permission first, then the kind of entry (fs/namei.c, may_delete).
    if (!dot && !dotdot && lk.inode != root() && (r = may_delete(lk.parent, lk.inode)) < 0)
        return r;
    if (flags & AT_REMOVEDIR) {
        if (!lk.inode->is_dir())
            return -ENOTDIR;
        if (dot)
            return -EINVAL;
        if (lk.inode == root() || dotdot)
            return -EBUSY;
        if (lk.inode->entry_count || lk.inode->dynamic_lookup)
            return -ENOTEMPTY;
    } else if (lk.inode->is_dir()) {
        return -EISDIR;
    }
    return dir_remove(lk.parent, lk.last);
}

long sys_unlink(long path) { return sys_unlinkat(AT_FDCWD, path, 0); }
long sys_rmdir(long path) { return sys_unlinkat(AT_FDCWD, path, AT_REMOVEDIR); }

long sys_renameat2(long olddirfd, long oldpath, long newdirfd, long newpath, long flags)
{
    constexpr long k_noreplace = 1, k_exchange = 2;
    if (flags & ~k_noreplace)
        return (flags & k_exchange) ? -EINVAL : -EINVAL;
    UserPath op(oldpath), np(newpath);
    if (op.error < 0)
        return op.error;
    if (np.error < 0)
        return np.error;
    Lookup from, to;
    long r = resolve_at(static_cast<int>(olddirfd), op.buf, 0, &from);
    if (r < 0)
        return r;
    if (!from.inode)
        return -ENOENT;
    r = resolve_at(static_cast<int>(newdirfd), np.buf, 0, &to);
    if (r < 0)
        return r;
    if (from.parent->dynamic_lookup || to.parent->dynamic_lookup)
        return -EACCES;
    Inode* moving = from.inode;
    if (to.inode == moving)
        return 0;
    if (moving->is_dir()) {
        // A directory cannot move below itself.
        for (Inode* d = to.parent; d; d = d->parent == d ? nullptr : d->parent) {
            if (d == moving)
                return -EINVAL;
            if (d == root())
                break;
        }
    }
    if ((r = may_delete(from.parent, moving)) < 0)
        return r;
    r = to.inode ? may_delete(to.parent, to.inode) : inode_permission(to.parent, k_may_write | k_may_exec);
    if (r < 0)
        return r;
    // A directory that changes parent rewrites its "..": it needs write permission itself.
    if (moving->is_dir() && to.parent != from.parent && (r = inode_permission(moving, k_may_write)) < 0)
        return r;
    if (to.inode) {
        if (flags & k_noreplace)
            return -EEXIST;
        if (moving->is_dir() && !to.inode->is_dir())
            return -ENOTDIR;
        if (!moving->is_dir() && to.inode->is_dir())
            return -EISDIR;
        if (to.inode->is_dir() && to.inode->entry_count)
            return -ENOTEMPTY;
    }
    inode_get(moving); // keep it alive between the unlink and the link
    if (to.inode)
        (void)dir_remove(to.parent, to.last);
    (void)dir_remove(from.parent, from.last);
    if (moving->is_dir())
        moving->nlink = 1; // dir_remove zeroed it; dir_add counts the new entry
    r = dir_add(to.parent, to.last, moving);
    inode_put(moving);
    return r;
}

long sys_renameat(long od, long op, long nd, long np) { return sys_renameat2(od, op, nd, np, 0); }
long sys_rename(long op, long np) { return sys_renameat2(AT_FDCWD, op, AT_FDCWD, np, 0); }

long sys_linkat(long olddirfd, long oldpath, long newdirfd, long newpath, long flags)
{
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    Inode* i = nullptr;
    long r = inode_at(olddirfd, oldpath, (flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW, &i);
    if (r < 0)
        return r;
    if (i->is_dir())
        return -EPERM;
    UserPath np(newpath);
    if (np.error < 0)
        return np.error;
    Lookup to;
    r = resolve_at(static_cast<int>(newdirfd), np.buf, 0, &to);
    if (r < 0)
        return r;
    if (to.inode)
        return -EEXIST;
    if ((r = inode_permission(to.parent, k_may_write | k_may_exec)) < 0)
        return r;
    return dir_add(to.parent, to.last, i);
}

long sys_link(long op, long np) { return sys_linkat(AT_FDCWD, op, AT_FDCWD, np, 0); }

long sys_symlinkat(long target, long newdirfd, long linkpath)
{
    UserPath t(target), lp(linkpath);
    if (t.error < 0)
        return t.error;
    if (lp.error < 0)
        return lp.error;
    if (t.buf[0] == '\0')
        return -ENOENT;
    Lookup lk;
    long r = resolve_at(static_cast<int>(newdirfd), lp.buf, 0, &lk);
    if (r < 0)
        return r;
    if (lk.inode)
        return -EEXIST;
    std::size_t n = std::strlen(t.buf);
    char* copy = static_cast<char*>(kernel::kmalloc(n + 1));
    if (!copy)
        return -ENOMEM;
    std::memcpy(copy, t.buf, n + 1);
    Inode* i = nullptr;
    r = create_node(lk, S_IFLNK | 0777, &i);
    if (r < 0) {
        kernel::kfree(copy);
        return r;
    }
    i->target = copy;
    i->size = n;
    return 0;
}

long sys_symlink(long target, long linkpath) { return sys_symlinkat(target, AT_FDCWD, linkpath); }

long sys_readlinkat(long dirfd, long path, long buf, long bufsiz)
{
    if (bufsiz <= 0)
        return -EINVAL;
    Inode* i = nullptr;
    long r = inode_at(dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &i);
    if (r < 0)
        return r;
    if (!i->is_link())
        return -EINVAL;
    if (!user_ok(buf, static_cast<std::size_t>(bufsiz)))
        return -EFAULT;
    std::size_t n = std::strlen(i->target);
    if (n > static_cast<std::size_t>(bufsiz))
        n = static_cast<std::size_t>(bufsiz);
    std::memcpy(reinterpret_cast<void*>(buf), i->target, n);
    return static_cast<long>(n);
}

long sys_readlink(long path, long buf, long bufsiz) { return sys_readlinkat(AT_FDCWD, path, buf, bufsiz); }

long sys_faccessat(long dirfd, long path, long mode, long flags)
{
    if (mode & ~(F_OK | R_OK | W_OK | X_OK))
        return -EINVAL;
    if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    // The question is asked for the real ids, unless AT_EACCESS (the path walk too).
    check_access_with_real_ids(!(flags & AT_EACCESS));
    Inode* i = nullptr;
    long r = inode_at(dirfd, path, flags & ~AT_EACCESS, &i);
    if (r == 0)
        r = inode_permission(i, static_cast<int>(mode));
    check_access_with_real_ids(false);
    return r;
}

long sys_access(long path, long mode) { return sys_faccessat(AT_FDCWD, path, mode, 0); }

long sys_getcwd(long buf, long size)
{
    if (!user_ok(buf, static_cast<std::size_t>(size < 0 ? 0 : size)))
        return -EFAULT;
    char tmp[PATH_MAX];
    long n = dir_path(cwd(), tmp, sizeof(tmp));
    if (n < 0)
        return n;
    if (n > size)
        return -ERANGE;
    std::memcpy(reinterpret_cast<void*>(buf), tmp, static_cast<std::size_t>(n));
    return n;
}

long sys_chdir(long path)
{
    UserPath p(path);
    if (p.error < 0)
        return p.error;
    Lookup lk;
    long r = resolve_at(AT_FDCWD, p.buf, k_follow, &lk);
    if (r < 0)
        return r;
    if (!lk.inode)
        return -ENOENT;
    if (!lk.inode->is_dir())
        return -ENOTDIR;
    if ((r = inode_permission(lk.inode, k_may_exec)) < 0)
        return r;
    set_cwd(lk.inode);
    return 0;
}

long sys_fchdir(long fd)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (!f->inode() || !f->inode()->is_dir())
        return -ENOTDIR;
    if (long r = inode_permission(f->inode(), k_may_exec); r < 0)
        return r;
    set_cwd(f->inode());
    return 0;
}

long sys_umask(long mask)
{
    long old = s_umask;
    s_umask = static_cast<u32>(mask) & 0777;
    return old;
}

long sys_utimensat(long dirfd, long path, long times, long flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct timespec ts[2];
    if (times) {
        if (!user_in(times, sizeof(ts)))
            return -EFAULT;
        std::memcpy(ts, reinterpret_cast<const void*>(times), sizeof(ts));
        for (auto& t : ts) {
            if (t.tv_nsec != UTIME_NOW && t.tv_nsec != UTIME_OMIT && (t.tv_nsec < 0 || t.tv_nsec >= 1000000000))
                return -EINVAL;
        }
    } else {
        ts[0].tv_nsec = ts[1].tv_nsec = UTIME_NOW;
    }
    Inode* i = nullptr;
    long r;
    if (!path) { // futimens: the file itself
        File* f = fd_get(static_cast<int>(dirfd));
        if (!f)
            return -EBADF;
        i = f->inode();
        r = i ? 0 : -EINVAL;
    } else {
        r = inode_at(dirfd, path, flags, &i);
    }
    if (r < 0)
        return r;
    // Setting a time takes ownership (or CAP_FOWNER); setting both to now, also write
    // permission (fs/attr.c, setattr_prepare).
    bool explicit_time = false;
    for (const auto& t : ts)
        explicit_time |= t.tv_nsec != UTIME_NOW && t.tv_nsec != UTIME_OMIT;
    if (explicit_time && !is_owner_or_capable(i))
        return -EPERM;
    if (ts[0].tv_nsec == UTIME_NOW && ts[1].tv_nsec == UTIME_NOW && !is_owner_or_capable(i) &&
        (r = inode_permission(i, k_may_write)) < 0)
        return r;
    u64 ns = kernel::realtime_ns();
    struct timespec now { static_cast<time_t>(ns / 1000000000u), static_cast<long>(ns % 1000000000u) };
    for (int k = 0; k < 2; ++k) {
        if (ts[k].tv_nsec == UTIME_OMIT)
            continue;
        (k == 0 ? i->atime : i->mtime) = ts[k].tv_nsec == UTIME_NOW ? now : ts[k];
    }
    i->ctime = now;
    return 0;
}

long sys_ftruncate(long fd, long length)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (length < 0)
        return -EINVAL;
    if (!f->writable() || !f->inode() || !f->inode()->is_reg())
        return -EINVAL;
    return f->truncate(static_cast<u64>(length));
}

// fallocate on the ramfs: mode 0 makes [offset, offset+len) part of the file (its unwritten
// pages read as zeros and take memory when written); FALLOC_FL_KEEP_SIZE alone changes
// nothing visible; FALLOC_FL_PUNCH_HOLE (with KEEP_SIZE) zeroes the range. Space is not
// reserved ahead: the ramfs has no blocks to reserve, only memory, taken at the write.
long sys_fallocate(long fd, long mode, long offset, long len)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (offset < 0 || len <= 0)
        return -EINVAL;
    Inode* i = f->inode();
    if (!i)
        return -ESPIPE; // pipes, sockets
    if (i->is_dir())
        return -EISDIR;
    if (!i->is_reg())
        return -ENODEV;
    if (!f->writable())
        return -EBADF;
    u64 end = static_cast<u64>(offset) + static_cast<u64>(len);
    if (end < static_cast<u64>(offset) || end > (u64(1) << 40))
        return -EFBIG;
    constexpr long k_keep_size = 0x01, k_punch_hole = 0x02;
    switch (mode) {
    case 0:
        return end > i->size ? file_data_truncate(i, end) : 0;
    case k_keep_size:
        return 0;
    case k_keep_size | k_punch_hole: {
        u64 stop = end < i->size ? end : i->size;
        static const char zeros[512] = {};
        for (u64 at = static_cast<u64>(offset); at < stop;) {
            std::size_t n = static_cast<std::size_t>(stop - at < sizeof zeros ? stop - at : sizeof zeros);
            long w = file_data_write(i, zeros, n, at);
            if (w < 0)
                return w;
            at += static_cast<u64>(w);
        }
        return 0;
    }
    default:
        return -EOPNOTSUPP; // as Linux: a hole without KEEP_SIZE; collapse, insert, zero range
    }
}

long sys_truncate(long path, long length)
{
    if (length < 0)
        return -EINVAL;
    Inode* i = nullptr;
    long r = inode_at(AT_FDCWD, path, 0, &i);
    if (r < 0)
        return r;
    if (i->is_dir())
        return -EISDIR;
    if (!i->is_reg())
        return -EINVAL;
    if ((r = inode_permission(i, k_may_write)) < 0)
        return r;
    return file_data_truncate(i, static_cast<u64>(length));
}

long sys_fsync(long fd)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    return f->inode() ? 0 : -EINVAL; // memory is as durable as it gets
}

long sys_fchmodat(long dirfd, long path, long mode)
{
    Inode* i = nullptr;
    long r = inode_at(dirfd, path, 0, &i);
    if (r < 0)
        return r;
    u32 bits = static_cast<u32>(mode) & 07777;
    if ((r = check_chmod(i, &bits)) < 0)
        return r;
    i->mode = (i->mode & S_IFMT) | bits;
    touch(i, true);
    return 0;
}

long sys_chmod(long path, long mode) { return sys_fchmodat(AT_FDCWD, path, mode); }

long sys_fchmod(long fd, long mode)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    Inode* i = f->inode();
    if (!i)
        return -EINVAL;
    u32 bits = static_cast<u32>(mode) & 07777;
    if (long r = check_chmod(i, &bits); r < 0)
        return r;
    i->mode = (i->mode & S_IFMT) | bits;
    touch(i, true);
    return 0;
}

long sys_fchownat(long dirfd, long path, long uid, long gid, long flags)
{
    Inode* i = nullptr;
    long r = inode_at(dirfd, path, flags, &i);
    if (r < 0)
        return r;
    if ((r = check_chown(i, uid, gid)) < 0)
        return r;
    apply_chown(i, uid, gid);
    return 0;
}

long sys_fchown(long fd, long uid, long gid)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    if (Inode* i = f->inode()) {
        if (long r = check_chown(i, uid, gid); r < 0)
            return r;
        apply_chown(i, uid, gid);
    }
    return 0;
}

long sys_statfs_common(long buf)
{
    if (!user_ok(buf, sizeof(struct statfs)))
        return -EFAULT;
    struct statfs s {};
    s.f_type = 0x01021994; // TMPFS_MAGIC
    s.f_bsize = 4096;
    s.f_blocks = kernel::memory_total() / 4096;
    s.f_bfree = s.f_bavail = kernel::memory_free() / 4096;
    s.f_files = 1 << 20;
    s.f_ffree = 1 << 20;
    s.f_namelen = NAME_MAX;
    s.f_frsize = 4096;
    std::memcpy(reinterpret_cast<void*>(buf), &s, sizeof(s));
    return 0;
}

long sys_statfs(long path, long buf)
{
    Inode* i = nullptr;
    long r = inode_at(AT_FDCWD, path, 0, &i);
    return r < 0 ? r : sys_statfs_common(buf);
}

long sys_fstatfs(long fd, long buf) { return fd_get(static_cast<int>(fd)) ? sys_statfs_common(buf) : -EBADF; }

// ------------------------------------------------------------------------ descriptors

long sys_dup(long fd)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    file_get(f);
    return fd_install(f, false);
}

long sys_dup3(long oldfd, long newfd, long flags)
{
    if (flags & ~O_CLOEXEC)
        return -EINVAL;
    if (oldfd == newfd)
        return -EINVAL;
    return fd_dup_to(static_cast<int>(oldfd), static_cast<int>(newfd), flags & O_CLOEXEC);
}

long sys_dup2(long oldfd, long newfd)
{
    if (oldfd == newfd)
        return fd_get(static_cast<int>(oldfd)) ? newfd : -EBADF;
    return fd_dup_to(static_cast<int>(oldfd), static_cast<int>(newfd), false);
}

long sys_fcntl(long fd, long cmd, long arg)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if (arg < 0 || arg >= k_max_fds)
            return -EINVAL;
        file_get(f);
        return fd_install(f, cmd == F_DUPFD_CLOEXEC, static_cast<int>(arg));
    case F_GETFD: return fd_cloexec(static_cast<int>(fd)) ? FD_CLOEXEC : 0;
    case F_SETFD: fd_set_cloexec(static_cast<int>(fd), arg & FD_CLOEXEC); return 0;
    case F_GETFL: return f->flags | (f->inode() && !f->inode()->device && !f->inode()->generator ? O_LARGEFILE : 0);
    case F_SETFL: {
        constexpr int k_settable = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
        f->flags = (f->flags & ~k_settable) | (static_cast<int>(arg) & k_settable);
        return 0;
    }
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
        return fcntl_lock(fd, f, cmd, arg);
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
        return f->ioctl(static_cast<unsigned long>(cmd), arg);
    default:
        return -EINVAL;
    }
}

long sys_ioctl(long fd, long request, long arg)
{
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    switch (static_cast<unsigned long>(request)) {
    case FIOCLEX: fd_set_cloexec(static_cast<int>(fd), true); return 0;
    case FIONCLEX: fd_set_cloexec(static_cast<int>(fd), false); return 0;
    case FIONREAD:
        if (Inode* i = f->inode(); i && i->is_reg()) {
            if (!user_ok(arg, sizeof(int)))
                return -EFAULT;
            long pos = f->seek(0, SEEK_CUR);
            *reinterpret_cast<int*>(arg) = static_cast<int>(i->size > static_cast<u64>(pos) ? i->size - static_cast<u64>(pos) : 0);
            return 0;
        }
        break;
    default: break;
    }
    return f->ioctl(static_cast<unsigned long>(request), arg);
}

// ------------------------------------------------------------------------ copying

namespace {

// Moves up to `count` bytes from `in` (at *offset or its own position) to `out`.
long copy_between(File* in, File* out, long offset_ptr, std::size_t count)
{
    if (!in->readable() || !out->writable())
        return -EBADF;
    u64 off = 0;
    if (offset_ptr) {
        if (!user_ok(offset_ptr, sizeof(i64)))
            return -EFAULT;
        i64 o = *reinterpret_cast<i64*>(offset_ptr);
        if (o < 0)
            return -EINVAL;
        off = static_cast<u64>(o);
    }
    char* buf = static_cast<char*>(kernel::kmalloc(65536));
    if (!buf)
        return -ENOMEM;
    long total = 0;
    while (static_cast<std::size_t>(total) < count) {
        std::size_t want = count - static_cast<std::size_t>(total) < 65536 ? count - static_cast<std::size_t>(total) : 65536;
        long n = offset_ptr ? in->pread(buf, want, off) : in->read(buf, want);
        if (n <= 0) {
            if (n < 0 && total == 0)
                total = n;
            break;
        }
        long w = out->write(buf, static_cast<std::size_t>(n));
        if (w < 0) {
            if (total == 0)
                total = w;
            break;
        }
        total += w;
        off += static_cast<u64>(w);
        if (w < n)
            break;
    }
    kernel::kfree(buf);
    if (offset_ptr && total > 0)
        *reinterpret_cast<i64*>(offset_ptr) = static_cast<i64>(off);
    return total;
}

} // namespace

long sys_sendfile(long out_fd, long in_fd, long offset, long count)
{
    File* out = fd_get(static_cast<int>(out_fd));
    File* in = fd_get(static_cast<int>(in_fd));
    if (!out || !in)
        return -EBADF;
    if (count < 0)
        return -EINVAL;
    if (out->flags & O_APPEND)
        return -EINVAL;
    return copy_between(in, out, offset, static_cast<std::size_t>(count));
}

long sys_copy_file_range(long fd_in, long off_in, long fd_out, long off_out, long len, long flags)
{
    if (flags != 0)
        return -EINVAL;
    File* in = fd_get(static_cast<int>(fd_in));
    File* out = fd_get(static_cast<int>(fd_out));
    if (!in || !out)
        return -EBADF;
    if (!in->inode() || !out->inode() || !in->inode()->is_reg() || !out->inode()->is_reg())
        return -EINVAL;
    if (out->flags & O_APPEND)
        return -EBADF;
    if (len < 0)
        return -EINVAL;
    if (!off_out)
        return copy_between(in, out, off_in, static_cast<std::size_t>(len));
    // An explicit output offset: write with pwrite.
    if (!user_ok(off_out, sizeof(i64)))
        return -EFAULT;
    i64 oo = *reinterpret_cast<i64*>(off_out);
    if (oo < 0)
        return -EINVAL;
    char* buf = static_cast<char*>(kernel::kmalloc(65536));
    if (!buf)
        return -ENOMEM;
    long total = 0;
    u64 in_off = 0;
    if (off_in) {
        if (!user_ok(off_in, sizeof(i64))) {
            kernel::kfree(buf);
            return -EFAULT;
        }
        in_off = static_cast<u64>(*reinterpret_cast<i64*>(off_in));
    }
    while (total < len) {
        std::size_t want = static_cast<std::size_t>(len - total < 65536 ? len - total : 65536);
        long n = off_in ? in->pread(buf, want, in_off) : in->read(buf, want);
        if (n <= 0)
            break;
        long w = out->pwrite(buf, static_cast<std::size_t>(n), static_cast<u64>(oo));
        if (w <= 0)
            break;
        total += w;
        oo += w;
        in_off += static_cast<u64>(w);
    }
    kernel::kfree(buf);
    *reinterpret_cast<i64*>(off_out) = oo;
    if (off_in)
        *reinterpret_cast<i64*>(off_in) = static_cast<i64>(in_off);
    return total;
}

} // namespace atl::libos
