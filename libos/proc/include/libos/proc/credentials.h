// SPDX-License-Identifier: MIT
#pragma once

// Credentials (credentials.cpp): the process's ids, what root's capabilities are left, and the
// file permission rules that follow from them.

#include <kernel/types.h>

#include <cstddef>

namespace atl::libos {

using ::atl::u32;

// The process's ids and what root's capabilities are left.
struct Credentials {
    u32 ruid = 0, euid = 0, suid = 0, fsuid = 0;
    u32 rgid = 0, egid = 0, sgid = 0, fsgid = 0;
    bool cap_permitted = true;    // root's capabilities can be (re)gained
    bool cap_effective = true;    // in force: CAP_SETUID, CAP_SETGID, CAP_SYS_NICE, ...
    bool cap_fs_effective = true; // in force: CAP_CHOWN, CAP_FOWNER, CAP_FSETID (follow fsuid)
};
enum class Capability { SetUid, SetGid, SysNice, SysResource, NetAdmin, Chown, Fowner, Fsetid, SysTime };
const Credentials& creds();
bool capable(Capability cap);
bool in_group(u32 gid); // the file-system gid or a supplementary group
std::size_t group_count();
u32 group_at(std::size_t i);
long sys_getresuid(long r, long e, long s);
long sys_getresgid(long r, long e, long s);
long sys_setuid(long uid);
long sys_setreuid(long ruid, long euid);
long sys_setresuid(long ruid, long euid, long suid);
long sys_setfsuid(long uid);
long sys_setgid(long gid);
long sys_setregid(long rgid, long egid);
long sys_setresgid(long rgid, long egid, long sgid);
long sys_setfsgid(long gid);
long sys_getgroups(long size, long list);
long sys_setgroups(long size, long list);
// Ownership rules for files: chown and chmod by their owner or a capable caller (-EPERM),
// the bits they drop, and the owner of a new inode in DIR.
struct Inode;
long check_chown(const Inode* i, long uid, long gid);
void apply_chown(Inode* i, long uid, long gid);
long check_chmod(const Inode* i, u32* mode);
void init_owner(Inode* i, const Inode* dir);
// Permission checks (Linux's DAC, no ACLs): 0 or -EACCES/-EPERM. Masks: k_may_*.
constexpr int k_may_exec = 1, k_may_write = 2, k_may_read = 4;
long inode_permission(const Inode* i, int mask);
long may_delete(const Inode* dir, const Inode* victim);
bool is_owner_or_capable(const Inode* i);
// While on, checks are made for the real ids (access(), faccessat without AT_EACCESS).
void check_access_with_real_ids(bool on);

} // namespace atl::libos
