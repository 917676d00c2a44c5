// SPDX-License-Identifier: MIT
#pragma once

// The file family's system calls: open, read, write, stat, truncate (sys_file.cpp); directories,
// links, permissions (sys_path.cpp); descriptors (sys_fd.cpp); flock (locks.cpp).

namespace atl::libos {

long sys_openat(long dirfd, long path, long flags, long mode);
long sys_open(long path, long flags, long mode);
long sys_creat(long path, long mode);
long sys_close(long fd);
long sys_read(long fd, long buf, long count);
long sys_write(long fd, long buf, long count);
long sys_readv(long fd, long iov, long iovcnt);
long sys_writev(long fd, long iov, long iovcnt);
long sys_pread64(long fd, long buf, long count, long offset);
long sys_pwrite64(long fd, long buf, long count, long offset);
long sys_preadv(long fd, long iov, long iovcnt, long offset);
long sys_pwritev(long fd, long iov, long iovcnt, long offset);
long sys_lseek(long fd, long offset, long whence);
long sys_fstat(long fd, long st);
long sys_newfstatat(long dirfd, long path, long st, long flags);
long sys_stat(long path, long st);
long sys_lstat(long path, long st);
long sys_statx(long dirfd, long path, long flags, long mask, long buf);
long sys_getdents64(long fd, long buf, long count);
long sys_mkdirat(long dirfd, long path, long mode);
long sys_mkdir(long path, long mode);
long sys_unlinkat(long dirfd, long path, long flags);
long sys_unlink(long path);
long sys_rmdir(long path);
long sys_renameat2(long olddirfd, long oldpath, long newdirfd, long newpath, long flags);
long sys_renameat(long od, long op, long nd, long np);
long sys_rename(long op, long np);
long sys_linkat(long olddirfd, long oldpath, long newdirfd, long newpath, long flags);
long sys_link(long op, long np);
long sys_symlinkat(long target, long newdirfd, long linkpath);
long sys_symlink(long target, long linkpath);
long sys_readlinkat(long dirfd, long path, long buf, long bufsiz);
long sys_readlink(long path, long buf, long bufsiz);
long sys_faccessat(long dirfd, long path, long mode, long flags);
long sys_access(long path, long mode);
long sys_getcwd(long buf, long size);
long sys_chdir(long path);
long sys_fchdir(long fd);
long sys_umask(long mask);
long sys_utimensat(long dirfd, long path, long times, long flags);
long sys_ftruncate(long fd, long length);
long sys_truncate(long path, long length);
long sys_fsync(long fd);
long sys_fchmodat(long dirfd, long path, long mode);
long sys_chmod(long path, long mode);
long sys_fchmod(long fd, long mode);
long sys_fchownat(long dirfd, long path, long uid, long gid, long flags);
long sys_fchown(long fd, long uid, long gid);
long sys_statfs(long path, long buf);
long sys_fstatfs(long fd, long buf);
long sys_dup(long fd);
long sys_dup2(long oldfd, long newfd);
long sys_dup3(long oldfd, long newfd, long flags);
long sys_fcntl(long fd, long cmd, long arg);
long sys_ioctl(long fd, long request, long arg);
long sys_flock(long fd, long op);
long sys_sendfile(long out_fd, long in_fd, long offset, long count);
long sys_copy_file_range(long fd_in, long off_in, long fd_out, long off_out, long len, long flags);
long sys_fallocate(long fd, long mode, long offset, long len);

} // namespace atl::libos
