// SPDX-License-Identifier: MIT
// The file system calls on names in the tree: mkdir, unlink, rename, link, symlink, readlink,
// access, the working directory, umask, utimensat, chmod, chown, statfs.

#include "sys_fs.h"

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

u32 g_umask = 022;

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
    return create_node(lk, S_IFDIR | (static_cast<u32>(mode) & 07777 & ~g_umask), &i);
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
    if (!copy_to_user(static_cast<u64>(buf), i->target, n))
        return -EFAULT;
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
        return -EFAULT; // before ERANGE, as here before
    char tmp[PATH_MAX];
    long n = dir_path(cwd(), tmp, sizeof(tmp));
    if (n < 0)
        return n;
    if (n > size)
        return -ERANGE;
    if (!copy_to_user(static_cast<u64>(buf), tmp, static_cast<std::size_t>(n)))
        return -EFAULT;
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
    long old = g_umask;
    g_umask = static_cast<u32>(mask) & 0777;
    return old;
}

long sys_utimensat(long dirfd, long path, long times, long flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct timespec ts[2];
    if (times) {
        if (!copy_from_user(ts, static_cast<u64>(times), sizeof(ts)))
            return -EFAULT;
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
    struct statfs s {};
    s.f_type = 0x01021994; // TMPFS_MAGIC
    s.f_bsize = 4096;
    s.f_blocks = kernel::memory_total() / 4096;
    s.f_bfree = s.f_bavail = kernel::memory_free() / 4096;
    s.f_files = 1 << 20;
    s.f_ffree = 1 << 20;
    s.f_namelen = NAME_MAX;
    s.f_frsize = 4096;
    return write_user(buf, s);
}

long sys_statfs(long path, long buf)
{
    Inode* i = nullptr;
    long r = inode_at(AT_FDCWD, path, 0, &i);
    return r < 0 ? r : sys_statfs_common(buf);
}

long sys_fstatfs(long fd, long buf) { return fd_get(static_cast<int>(fd)) ? sys_statfs_common(buf) : -EBADF; }

} // namespace atl::libos
