// SPDX-License-Identifier: MIT
// Advisory file locks, as Linux keeps them (fs/locks.c):
// - flock: whole-file, owned by the open file description; a conversion drops the old lock
//   before it waits for the new one; gone with the description's last close.
// - POSIX record locks (fcntl F_SETLK/F_SETLKW/F_GETLK): byte ranges owned by the process, so
//   in one process they never conflict with each other; the owner's ranges are split and
//   merged; every one on a file goes when any descriptor of that file is closed.
// - OFD locks (F_OFD_*): the same ranges, owned by the open file description, so they
//   conflict between descriptions (and so between threads) and with the process's POSIX locks.
// flock and record locks never see each other. A blocking request waits on one queue that
// every release wakes, and ends with EINTR when a signal comes; none is detected as a deadlock
// (Linux detects none for flock and OFD locks, and a process's POSIX locks cannot deadlock
// among themselves), so a wait ends by a release or by a signal.

#include <libos/core/syscall.h>
#include <libos/fs/syscalls.h>
#include <libos/fs/vfs.h>

#include <kernel/heap.h>
#include <kernel/list.h>
#include <kernel/sched.h>

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <sys/file.h>

namespace atl::libos {

namespace {

constexpr i64 k_offset_max = LLONG_MAX;

struct FileLock {
    ListNode node;
    const void* key = nullptr;   // the inode, or the file for files without one (pipes, sockets)
    const void* owner = nullptr; // the description (flock, OFD) or &s_process (POSIX)
    bool flock = false;
    short type = F_RDLCK;        // F_RDLCK or F_WRLCK
    i64 start = 0, end = 0;      // inclusive
};

// All locks, in Linux's order for record locks: each owner's together, sorted by start, the
// owners in the order they first locked (F_GETLK reports the first conflict in this order).
List<FileLock, &FileLock::node> s_locks;
WaitQueue s_waiters;
const char s_process = 0; // the owner of POSIX locks: the one process

const void* key_of(File* f)
{
    Inode* i = f->inode();
    return i ? static_cast<const void*>(i) : static_cast<const void*>(f);
}

bool overlaps(const FileLock* l, i64 start, i64 end) { return l->start <= end && start <= l->end; }

void drop(FileLock* l)
{
    s_locks.remove(l);
    kernel::destroy(l);
}

// The first lock of another owner that keeps OWNER from a TYPE lock on [start, end].
FileLock* record_conflict(const void* key, const void* owner, short type, i64 start, i64 end)
{
    for (FileLock* l = s_locks.front(); l; l = s_locks.next(l)) {
        if (l->flock || l->key != key || l->owner == owner || !overlaps(l, start, end))
            continue;
        if (l->type == F_WRLCK || type == F_WRLCK)
            return l;
    }
    return nullptr;
}

FileLock* flock_conflict(const void* key, const void* owner, short type)
{
    for (FileLock* l = s_locks.front(); l; l = s_locks.next(l)) {
        if (l->flock && l->key == key && l->owner != owner && (l->type == F_WRLCK || type == F_WRLCK))
            return l;
    }
    return nullptr;
}

// Waits for a release. False when a signal ended the wait.
bool wait_for_release() { return kernel::block(&s_waiters, 0, true) != kernel::WakeReason::Interrupted; }

void released() { kernel::wake_all(s_waiters); }

bool same_run(const FileLock* l, const void* key, const void* owner)
{
    return l && !l->flock && l->key == key && l->owner == owner;
}

// Applies TYPE (F_UNLCK included) over [start, end] to OWNER's record locks on KEY: the range
// is cut out of the owner's locks (splitting one that spans it), the new lock put in, and
// joined with the owner's adjacent locks of the same type. The owner's locks stay together,
// sorted, where they were (a new owner's go last), as in Linux's list. The caller checked for
// conflicts.
long apply_record(const void* key, const void* owner, short type, i64 start, i64 end)
{
    // At most two new records: the lock itself and the far part of a split one.
    FileLock* spare[2] = { kernel::make<FileLock>(), kernel::make<FileLock>() };
    if (!spare[0] || !spare[1]) {
        kernel::destroy(spare[0]);
        kernel::destroy(spare[1]);
        return -ENOLCK;
    }
    int used = 0;
    FileLock* first = nullptr; // the owner's first lock on KEY
    for (FileLock* l = s_locks.front(); l && !first; l = s_locks.next(l)) {
        if (same_run(l, key, owner))
            first = l;
    }
    FileLock* n = nullptr;
    if (type != F_UNLCK) {
        n = spare[used++];
        *n = FileLock {};
        n->key = key;
        n->owner = owner;
        n->type = type;
        n->start = start;
        n->end = end;
        s_locks.insert_before(first, n); // at the head of the owner's locks, or last
    }
    bool changed = false;
    for (FileLock* l = s_locks.front(); l;) {
        FileLock* next = s_locks.next(l);
        if (l == n || !same_run(l, key, owner)) {
            l = next;
            continue;
        }
        if (overlaps(l, start, end)) {
            changed = true;
            if (l->start < start && l->end > end) {
                FileLock* tail = spare[used++];
                *tail = *l;
                tail->node = ListNode {};
                tail->start = end + 1;
                l->end = start - 1;
                s_locks.insert_before(next, tail);
                next = tail;
            } else if (l->start < start) {
                l->end = start - 1;
            } else if (l->end > end) {
                l->start = end + 1;
            } else {
                drop(l);
            }
        }
        l = next;
    }
    // The owner's neighbours of the same type join the new lock.
    for (FileLock* l = s_locks.front(); l && n;) {
        FileLock* next = s_locks.next(l);
        if (l != n && same_run(l, key, owner) && l->type == type) {
            if (n->start > 0 && l->end == n->start - 1) {
                n->start = l->start;
                drop(l);
            } else if (n->end < k_offset_max && l->start == n->end + 1) {
                n->end = l->end;
                drop(l);
            }
        }
        l = next;
    }
    if (n) {
        // Move the new lock to its place among the owner's (sorted by start).
        FileLock* p = s_locks.next(n);
        while (same_run(p, key, owner) && p->start < n->start)
            p = s_locks.next(p);
        if (p != s_locks.next(n)) {
            s_locks.remove(n);
            s_locks.insert_before(p, n);
        }
    }
    for (int i = used; i < 2; ++i)
        kernel::destroy(spare[i]);
    if (changed)
        released();
    return 0;
}

// struct flock -> [start, end], as fs/locks.c's flock_to_posix_lock: EINVAL or EOVERFLOW.
long range_of(File* f, const struct flock& l, i64* start, i64* end)
{
    i64 base = 0;
    switch (l.l_whence) {
    case SEEK_SET: break;
    case SEEK_CUR: {
        long pos = f->seek(0, SEEK_CUR);
        base = pos > 0 ? pos : 0;
        break;
    }
    case SEEK_END: {
        Inode* i = f->inode();
        base = i ? static_cast<i64>(i->size) : 0;
        break;
    }
    default: return -EINVAL;
    }
    if (l.l_start > k_offset_max - base)
        return -EOVERFLOW;
    i64 s = base + l.l_start;
    if (s < 0)
        return -EINVAL;
    i64 e;
    if (l.l_len > 0) {
        if (l.l_len - 1 > k_offset_max - s)
            return -EOVERFLOW;
        e = s + (l.l_len - 1);
    } else if (l.l_len < 0) {
        if (s + l.l_len < 0)
            return -EINVAL;
        e = s - 1;
        s += l.l_len;
    } else {
        e = k_offset_max;
    }
    if (l.l_type != F_RDLCK && l.l_type != F_WRLCK && l.l_type != F_UNLCK)
        return -EINVAL;
    *start = s;
    *end = e;
    return 0;
}

} // namespace

long sys_flock(long fd, long op)
{
    int cmd = static_cast<int>(op) & ~LOCK_NB;
    short type;
    switch (cmd) {
    case LOCK_SH: type = F_RDLCK; break;
    case LOCK_EX: type = F_WRLCK; break;
    case LOCK_UN: type = F_UNLCK; break;
    default: return -EINVAL;
    }
    File* f = fd_get(static_cast<int>(fd));
    if (!f)
        return -EBADF;
    const void* key = key_of(f);
    for (FileLock* l = s_locks.front(); l; l = s_locks.next(l)) {
        if (l->flock && l->key == key && l->owner == f) {
            if (l->type == type)
                return 0;
            // A conversion is not atomic (as on Linux): the old lock goes first.
            drop(l);
            released();
            break;
        }
    }
    if (type == F_UNLCK)
        return 0;
    auto* lock = kernel::make<FileLock>();
    if (!lock)
        return -ENOLCK;
    // The description stays alive while this thread waits, even if another closes it.
    file_get(f);
    long r = 0;
    while (flock_conflict(key, f, type)) {
        if (op & LOCK_NB) {
            r = -EWOULDBLOCK;
            break;
        }
        if (!wait_for_release()) {
            r = -EINTR;
            break;
        }
    }
    if (r == 0) {
        lock->key = key;
        lock->owner = f;
        lock->flock = true;
        lock->type = type;
        lock->end = k_offset_max;
        s_locks.push_back(lock);
    } else {
        kernel::destroy(lock);
    }
    file_put(f);
    return r;
}

long fcntl_lock(long fd, File* f, long cmd, long arg)
{
    bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
    bool query = cmd == F_GETLK || cmd == F_OFD_GETLK;
    struct flock l;
    if (long r = read_user(arg, &l); r < 0)
        return r;
    if (query && l.l_type != F_RDLCK && l.l_type != F_WRLCK)
        return -EINVAL;
    i64 start = 0, end = 0;
    if (long r = range_of(f, l, &start, &end); r < 0)
        return r;
    if (!query && ((l.l_type == F_RDLCK && !f->readable()) || (l.l_type == F_WRLCK && !f->writable())))
        return -EBADF;
    if (ofd && l.l_pid != 0)
        return -EINVAL;
    const void* key = key_of(f);
    const void* owner = ofd ? static_cast<const void*>(f) : static_cast<const void*>(&s_process);

    if (query) {
        // The structure goes back whole, the fields that did not change as they came.
        struct flock out = l;
        FileLock* c = record_conflict(key, owner, l.l_type, start, end);
        if (!c) {
            out.l_type = F_UNLCK;
            return write_user(arg, out);
        }
        out.l_type = c->type;
        out.l_whence = SEEK_SET;
        out.l_start = c->start;
        out.l_len = c->end == k_offset_max ? 0 : c->end - c->start + 1;
        out.l_pid = c->owner == &s_process ? static_cast<pid_t>(k_pid) : -1; // -1: an OFD lock
        return write_user(arg, out);
    }

    if (l.l_type == F_UNLCK)
        return apply_record(key, owner, F_UNLCK, start, end);
    bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
    file_get(f); // alive while this thread waits, even if another thread closes it
    long r = 0;
    while (record_conflict(key, owner, l.l_type, start, end)) {
        if (!wait) {
            r = -EAGAIN;
            break;
        }
        if (!wait_for_release()) {
            r = -EINTR;
            break;
        }
    }
    if (r == 0)
        r = apply_record(key, owner, l.l_type, start, end);
    // A POSIX lock taken while another thread closed the descriptor would outlive the close
    // that should have released it: undone, EBADF (as Linux's fcntl_setlk does).
    if (r == 0 && wait && !ofd && fd_get(static_cast<int>(fd)) != f) {
        (void)apply_record(key, owner, F_UNLCK, start, end);
        r = -EBADF;
    }
    file_put(f);
    return r;
}

void locks_on_fd_close(File* f)
{
    if (s_locks.empty())
        return;
    const void* key = key_of(f);
    bool any = false;
    for (FileLock* l = s_locks.front(); l;) {
        FileLock* next = s_locks.next(l);
        if (!l->flock && l->owner == &s_process && l->key == key) {
            drop(l);
            any = true;
        }
        l = next;
    }
    if (any)
        released();
}

void locks_on_last_close(File* f)
{
    if (s_locks.empty())
        return;
    bool any = false;
    for (FileLock* l = s_locks.front(); l;) {
        FileLock* next = s_locks.next(l);
        if (l->owner == f) {
            drop(l);
            any = true;
        }
        l = next;
    }
    if (any)
        released();
}

} // namespace atl::libos
