// SPDX-License-Identifier: MIT
// Credentials of the one process: real, effective, saved and file-system user and group ids,
// supplementary groups, and root's capabilities as Linux derives them from the ids. The
// program starts as root, like Linux's first process. The ids are the process's (musl and
// glibc change every thread's together, so a program sees process-wide ids either way).

#include <libos/core/syscall.h>
#include <libos/fs/vfs.h>
#include <libos/proc/credentials.h>
#include <libos/proc/thread_state.h>

#include <kernel/heap.h>
#include <kernel/sched.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace atl::libos {

ProcessFlags g_process_flags;

namespace {

Credentials s_creds;
u32* s_groups = nullptr; // sorted, s_group_count of them (kernel heap)
std::size_t s_group_count = 0;

constexpr u32 k_invalid = 0xffffffffu; // (uid_t)-1: "unchanged", never an id
constexpr long k_ngroups_max = 65536;

// Linux's capability juggling when the user ids change (security/commoncap.c,
// cap_emulate_setxuid; SECURE_KEEP_CAPS is never set here): giving up every root id loses the
// capabilities for good, leaving root as effective id suspends them, returning restores them.
void fix_caps_after_setxuid(const Credentials& old)
{
    Credentials& c = s_creds;
    bool had_root = old.ruid == 0 || old.euid == 0 || old.suid == 0;
    bool has_root = c.ruid == 0 || c.euid == 0 || c.suid == 0;
    if (had_root && !has_root) {
        c.cap_permitted = false;
        c.cap_effective = c.cap_fs_effective = false;
    }
    if (old.euid == 0 && c.euid != 0)
        c.cap_effective = c.cap_fs_effective = false;
    if (old.euid != 0 && c.euid == 0)
        c.cap_effective = c.cap_fs_effective = c.cap_permitted;
}

// The same for the file-system id alone: only the file-system capabilities follow it.
void fix_caps_after_setfsuid(u32 old_fsuid)
{
    Credentials& c = s_creds;
    if (old_fsuid == 0 && c.fsuid != 0)
        c.cap_fs_effective = false;
    if (old_fsuid != 0 && c.fsuid == 0)
        c.cap_fs_effective = c.cap_permitted;
}

// After a change of credentials: a process whose effective or file-system ids changed, or
// that lost capabilities, is no longer dumpable and forgets its parent-death signals
// (kernel/cred.c, commit_creds).
void committed(const Credentials& old)
{
    const Credentials& c = s_creds;
    if (old.euid != c.euid || old.egid != c.egid || old.fsuid != c.fsuid || old.fsgid != c.fsgid ||
        (old.cap_permitted && !c.cap_permitted) || (old.cap_effective && !c.cap_effective) ||
        (old.cap_fs_effective && !c.cap_fs_effective)) {
        g_process_flags.dumpable = 0;
        for (kernel::Thread* t = kernel::first_thread(); t; t = kernel::next_thread(t)) {
            if (!t->kernel_thread && t->state != kernel::ThreadState::Dead)
                proc(t).pdeathsig = 0;
        }
    }
}

bool one_of(u32 id, u32 a, u32 b, u32 c) { return id == a || id == b || id == c; }

long put_ids(long p1, long p2, long p3, u32 a, u32 b, u32 c)
{
    // Linux stores each in turn: a bad second pointer fails after the first was written.
    const long ptrs[3] = { p1, p2, p3 };
    const u32 ids[3] = { a, b, c };
    for (int i = 0; i < 3; ++i) {
        if (long r = write_user(ptrs[i], ids[i]); r < 0)
            return r;
    }
    return 0;
}

} // namespace

const Credentials& creds() { return s_creds; }

bool capable(Capability cap)
{
    switch (cap) {
    case Capability::Chown:
    case Capability::Fowner:
    case Capability::Fsetid: return s_creds.cap_fs_effective;
    default: return s_creds.cap_effective;
    }
}

bool in_group(u32 gid)
{
    if (gid == s_creds.fsgid)
        return true;
    for (std::size_t i = 0; i < s_group_count; ++i) {
        if (s_groups[i] == gid)
            return true;
    }
    return false;
}

std::size_t group_count() { return s_group_count; }
u32 group_at(std::size_t i) { return s_groups[i]; }

// ------------------------------------------------------------------------------ user ids

long sys_getresuid(long r, long e, long s) { return put_ids(r, e, s, s_creds.ruid, s_creds.euid, s_creds.suid); }
long sys_getresgid(long r, long e, long s) { return put_ids(r, e, s, s_creds.rgid, s_creds.egid, s_creds.sgid); }

long sys_setuid(long uid_arg)
{
    u32 uid = static_cast<u32>(uid_arg);
    if (uid == k_invalid)
        return -EINVAL;
    Credentials old = s_creds;
    if (capable(Capability::SetUid)) {
        s_creds.ruid = s_creds.suid = uid;
    } else if (uid != old.ruid && uid != old.suid) {
        return -EPERM;
    }
    s_creds.euid = s_creds.fsuid = uid;
    fix_caps_after_setxuid(old);
    committed(old);
    return 0;
}

long sys_setreuid(long ruid_arg, long euid_arg)
{
    u32 ruid = static_cast<u32>(ruid_arg), euid = static_cast<u32>(euid_arg);
    Credentials old = s_creds;
    bool priv = capable(Capability::SetUid);
    if (ruid != k_invalid && ruid != old.ruid && ruid != old.euid && !priv)
        return -EPERM;
    if (euid != k_invalid && !one_of(euid, old.ruid, old.euid, old.suid) && !priv)
        return -EPERM;
    if (ruid != k_invalid)
        s_creds.ruid = ruid;
    if (euid != k_invalid)
        s_creds.euid = euid;
    // Setting the real id, or an effective id other than the old real one, saves it.
    if (ruid != k_invalid || (euid != k_invalid && euid != old.ruid))
        s_creds.suid = s_creds.euid;
    s_creds.fsuid = s_creds.euid;
    fix_caps_after_setxuid(old);
    committed(old);
    return 0;
}

long sys_setresuid(long ruid_arg, long euid_arg, long suid_arg)
{
    u32 r = static_cast<u32>(ruid_arg), e = static_cast<u32>(euid_arg), s = static_cast<u32>(suid_arg);
    Credentials old = s_creds;
    if ((r == k_invalid || r == old.ruid) && (e == k_invalid || (e == old.euid && e == old.fsuid)) &&
        (s == k_invalid || s == old.suid))
        return 0; // nothing changes (Linux returns before any check)
    auto foreign = [&](u32 id) { return id != k_invalid && !one_of(id, old.ruid, old.euid, old.suid); };
    if ((foreign(r) || foreign(e) || foreign(s)) && !capable(Capability::SetUid))
        return -EPERM;
    if (r != k_invalid)
        s_creds.ruid = r;
    if (e != k_invalid)
        s_creds.euid = e;
    if (s != k_invalid)
        s_creds.suid = s;
    s_creds.fsuid = s_creds.euid;
    fix_caps_after_setxuid(old);
    committed(old);
    return 0;
}

long sys_setfsuid(long uid_arg)
{
    u32 uid = static_cast<u32>(uid_arg);
    u32 old = s_creds.fsuid;
    if (uid == k_invalid)
        return old; // how programs read it
    bool allowed = one_of(uid, s_creds.ruid, s_creds.euid, s_creds.suid) || uid == old || capable(Capability::SetUid);
    if (allowed && uid != old) {
        Credentials before = s_creds;
        s_creds.fsuid = uid;
        fix_caps_after_setfsuid(old);
        committed(before);
    }
    return old;
}

// ----------------------------------------------------------------------------- group ids

long sys_setgid(long gid_arg)
{
    u32 gid = static_cast<u32>(gid_arg);
    if (gid == k_invalid)
        return -EINVAL;
    Credentials old = s_creds;
    if (capable(Capability::SetGid))
        s_creds.rgid = s_creds.sgid = gid;
    else if (gid != s_creds.rgid && gid != s_creds.sgid)
        return -EPERM;
    s_creds.egid = s_creds.fsgid = gid;
    committed(old);
    return 0;
}

long sys_setregid(long rgid_arg, long egid_arg)
{
    u32 rgid = static_cast<u32>(rgid_arg), egid = static_cast<u32>(egid_arg);
    Credentials old = s_creds;
    bool priv = capable(Capability::SetGid);
    if (rgid != k_invalid && rgid != old.rgid && rgid != old.egid && !priv)
        return -EPERM;
    if (egid != k_invalid && !one_of(egid, old.rgid, old.egid, old.sgid) && !priv)
        return -EPERM;
    if (rgid != k_invalid)
        s_creds.rgid = rgid;
    if (egid != k_invalid)
        s_creds.egid = egid;
    if (rgid != k_invalid || (egid != k_invalid && egid != old.rgid))
        s_creds.sgid = s_creds.egid;
    s_creds.fsgid = s_creds.egid;
    committed(old);
    return 0;
}

long sys_setresgid(long rgid_arg, long egid_arg, long sgid_arg)
{
    u32 r = static_cast<u32>(rgid_arg), e = static_cast<u32>(egid_arg), s = static_cast<u32>(sgid_arg);
    Credentials old = s_creds;
    if ((r == k_invalid || r == old.rgid) && (e == k_invalid || (e == old.egid && e == old.fsgid)) &&
        (s == k_invalid || s == old.sgid))
        return 0;
    auto foreign = [&](u32 id) { return id != k_invalid && !one_of(id, old.rgid, old.egid, old.sgid); };
    if ((foreign(r) || foreign(e) || foreign(s)) && !capable(Capability::SetGid))
        return -EPERM;
    if (r != k_invalid)
        s_creds.rgid = r;
    if (e != k_invalid)
        s_creds.egid = e;
    if (s != k_invalid)
        s_creds.sgid = s;
    s_creds.fsgid = s_creds.egid;
    committed(old);
    return 0;
}

long sys_setfsgid(long gid_arg)
{
    u32 gid = static_cast<u32>(gid_arg);
    u32 old = s_creds.fsgid;
    if (gid == k_invalid)
        return old;
    if (one_of(gid, s_creds.rgid, s_creds.egid, s_creds.sgid) || gid == old || capable(Capability::SetGid)) {
        Credentials before = s_creds;
        s_creds.fsgid = gid;
        committed(before);
    }
    return old;
}

// ---------------------------------------------------------------------- supplementary groups

long sys_getgroups(long size, long list)
{
    if (static_cast<int>(size) < 0)
        return -EINVAL;
    auto n = static_cast<long>(s_group_count);
    if (size == 0)
        return n;
    if (n > size)
        return -EINVAL;
    if (n > 0) {
        if (!copy_to_user(static_cast<u64>(list), s_groups, static_cast<std::size_t>(n) * sizeof(u32)))
            return -EFAULT;
    }
    return n;
}

long sys_setgroups(long size_arg, long list)
{
    if (!capable(Capability::SetGid))
        return -EPERM;
    auto size = static_cast<unsigned>(size_arg);
    if (size > k_ngroups_max)
        return -EINVAL;
    u32* groups = nullptr;
    if (size > 0) {
        if (!user_in(list, size * sizeof(u32)))
            return -EFAULT; // before the allocation's ENOMEM
        groups = static_cast<u32*>(kernel::kmalloc(size * sizeof(u32)));
        if (!groups)
            return -ENOMEM;
        if (!copy_from_user(groups, static_cast<u64>(list), size * sizeof(u32))) {
            kernel::kfree(groups);
            return -EFAULT;
        }
        // Kept sorted, as Linux keeps them (getgroups shows the order).
        for (unsigned i = 1; i < size; ++i) {
            u32 g = groups[i];
            unsigned j = i;
            for (; j > 0 && groups[j - 1] > g; --j)
                groups[j] = groups[j - 1];
            groups[j] = g;
        }
    }
    kernel::kfree(s_groups);
    s_groups = groups;
    s_group_count = size;
    return 0;
}

// ------------------------------------------------------------------------------ files

namespace {

// Who file permissions are checked for: the file-system ids, or for access() the real ones.
struct DacIds {
    u32 uid, gid;
    bool caps; // CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH in force
};
bool s_real_ids = false;

DacIds dac_ids()
{
    const Credentials& c = s_creds;
    if (s_real_ids) // access_override_creds: root's capabilities only for a real uid of 0
        return { c.ruid, c.rgid, c.ruid == 0 && c.cap_permitted };
    return { c.fsuid, c.fsgid, c.cap_fs_effective };
}

bool dac_in_group(const DacIds& ids, u32 gid)
{
    if (gid == ids.gid)
        return true;
    for (std::size_t i = 0; i < s_group_count; ++i) {
        if (s_groups[i] == gid)
            return true;
    }
    return false;
}

} // namespace

void check_access_with_real_ids(bool on) { s_real_ids = on; }

// fs/namei.c, generic_permission (no ACLs): the owner's, the group's or the others' bits, then
// root's overrides: anything on a directory but writing without CAP_DAC_OVERRIDE, reading and
// writing files, executing a file that someone may execute.
long inode_permission(const Inode* i, int mask)
{
    mask &= k_may_read | k_may_write | k_may_exec;
    if (mask == 0)
        return 0;
    // /proc/self/fd: a process may always look at its own descriptors (fs/proc/fd.c).
    if (i->dynamic_lookup)
        return 0;
    DacIds ids = dac_ids();
    u32 mode = i->mode;
    if (ids.uid == i->uid)
        mode >>= 6;
    else if (dac_in_group(ids, i->gid))
        mode >>= 3;
    if ((mask & ~mode & 7) == 0)
        return 0;
    if (!ids.caps)
        return -EACCES;
    if (S_ISDIR(i->mode))
        return 0;
    if (!(mask & k_may_exec) || (i->mode & 0111))
        return 0;
    return -EACCES;
}

// Removing or renaming NAME's inode VICTIM from DIR (fs/namei.c, may_delete): write and search
// on the directory, and in a sticky directory (/tmp) only one's own entries or the directory's
// owner, unless CAP_FOWNER.
long may_delete(const Inode* dir, const Inode* victim)
{
    if (long r = inode_permission(dir, k_may_write | k_may_exec); r < 0)
        return r;
    if ((dir->mode & S_ISVTX) && victim->uid != s_creds.fsuid && dir->uid != s_creds.fsuid && !capable(Capability::Fowner))
        return -EPERM;
    return 0;
}

bool is_owner_or_capable(const Inode* i) { return s_creds.fsuid == i->uid || capable(Capability::Fowner); }

long check_chown(const Inode* i, long uid_arg, long gid_arg)
{
    u32 uid = static_cast<u32>(uid_arg), gid = static_cast<u32>(gid_arg);
    if (capable(Capability::Chown))
        return 0;
    // The owner may "change" the owner to itself and the group to one of its own groups.
    bool owner = s_creds.fsuid == i->uid;
    if (uid != k_invalid && !(owner && uid == i->uid))
        return -EPERM;
    if (gid != k_invalid && !(owner && (gid == i->gid || in_group(gid))))
        return -EPERM;
    return 0;
}

void apply_chown(Inode* i, long uid_arg, long gid_arg)
{
    u32 uid = static_cast<u32>(uid_arg), gid = static_cast<u32>(gid_arg);
    if (uid != k_invalid)
        i->uid = uid;
    if (gid != k_invalid)
        i->gid = gid;
    // Any chown of a non-directory drops set-user-ID, and set-group-ID where it means
    // "run as the group" (group execute set) or the caller could not have set it (fs/attr.c).
    if (!S_ISDIR(i->mode)) {
        i->mode &= ~static_cast<u32>(S_ISUID);
        if ((i->mode & S_ISGID) && ((i->mode & S_IXGRP) || !(in_group(i->gid) || capable(Capability::Fsetid))))
            i->mode &= ~static_cast<u32>(S_ISGID);
    }
}

long check_chmod(const Inode* i, u32* mode)
{
    if (s_creds.fsuid != i->uid && !capable(Capability::Fowner))
        return -EPERM;
    // Set-group-ID on a file of a group the caller is not in is dropped (fs/attr.c).
    if (!S_ISDIR(i->mode) && (*mode & S_ISGID) && !in_group(i->gid) && !capable(Capability::Fsetid))
        *mode &= ~static_cast<u32>(S_ISGID);
    return 0;
}

void init_owner(Inode* i, const Inode* dir)
{
    i->uid = s_creds.fsuid;
    if (dir && (dir->mode & S_ISGID)) {
        // A set-group-ID directory hands its group down, and the bit to new directories.
        i->gid = dir->gid;
        if (S_ISDIR(i->mode))
            i->mode |= S_ISGID;
        else if ((i->mode & S_ISGID) && !in_group(i->gid) && !capable(Capability::Fsetid))
            i->mode &= ~static_cast<u32>(S_ISGID);
    } else {
        i->gid = s_creds.fsgid;
    }
}

} // namespace atl::libos
