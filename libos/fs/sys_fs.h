// SPDX-License-Identifier: MIT
#pragma once

// What the file system calls share (sys_file.cpp, sys_path.cpp): path arguments, the inode
// an *at call names, new nodes in a directory, the umask.

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>

#include <climits>

namespace atl::libos {

// A path argument copied in, with Linux's errors for bad pointers and lengths.
struct UserPath {
    char buf[PATH_MAX];
    long error;
    explicit UserPath(long p) { error = user_string(p, buf, sizeof(buf)); }
};

// The process's file mode creation mask (umask; sys_path.cpp).
extern u32 g_umask;

// The inode a path names for the *at calls (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW).
long inode_at(long dirfd, long path, long flags, Inode** out);
// A new inode of MODE under the name LK resolved to, owned as the caller's ids say.
long create_node(Lookup& lk, u32 mode, Inode** out);

} // namespace atl::libos
