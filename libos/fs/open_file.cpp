// SPDX-License-Identifier: MIT
// Open files of the tree: regular files, directories (getdents), device files and generated
// (/proc) files, made by open_inode.

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

namespace {

class InodeFile : public File {
public:
    InodeFile(Inode* i, const char* path) : m_inode(i)
    {
        inode_get(i);
        std::size_t n = strnlen(path, sizeof(m_path) - 1);
        std::memcpy(m_path, path, n);
        m_path[n] = '\0';
    }
    ~InodeFile() override { inode_put(m_inode); }
    Inode* inode() override { return m_inode; }
    void describe(char* buf, std::size_t cap) override { std::snprintf(buf, cap, "%s", m_path); }

protected:
    Inode* m_inode;
    u64 m_offset = 0;
    char m_path[128];
};

class RegularFile final : public InodeFile {
public:
    using InodeFile::InodeFile;
    long read(void* buf, std::size_t n) override
    {
        long r = file_data_read(m_inode, buf, n, m_offset);
        if (r > 0)
            m_offset += static_cast<u64>(r);
        return r;
    }
    long write(const void* buf, std::size_t n) override
    {
        if (flags & O_APPEND)
            m_offset = m_inode->size;
        long r = file_data_write(m_inode, buf, n, m_offset);
        if (r > 0)
            m_offset += static_cast<u64>(r);
        return r;
    }
    long pread(void* buf, std::size_t n, u64 off) override { return file_data_read(m_inode, buf, n, off); }
    long pwrite(const void* buf, std::size_t n, u64 off) override
    {
        // Linux quirk kept: with O_APPEND, pwrite appends whatever the offset.
        return file_data_write(m_inode, buf, n, (flags & O_APPEND) ? m_inode->size : off);
    }
    long seek(i64 off, int whence) override
    {
        i64 base;
        switch (whence) {
        case SEEK_SET: base = 0; break;
        case SEEK_CUR: base = static_cast<i64>(m_offset); break;
        case SEEK_END: base = static_cast<i64>(m_inode->size); break;
        case SEEK_DATA:
            if (static_cast<u64>(off) >= m_inode->size || off < 0)
                return -ENXIO;
            base = 0;
            break;
        case SEEK_HOLE:
            if (static_cast<u64>(off) >= m_inode->size || off < 0)
                return -ENXIO;
            m_offset = m_inode->size;
            return static_cast<long>(m_offset);
        default: return -EINVAL;
        }
        i64 pos = base + off;
        if ((off > 0 && pos < base) || pos < 0)
            return -EINVAL;
        m_offset = static_cast<u64>(pos);
        return static_cast<long>(pos);
    }
    long truncate(u64 size) override { return file_data_truncate(m_inode, size); }
    u32 poll() override { return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM; }
};

class DirFile final : public InodeFile {
public:
    using InodeFile::InodeFile;
    long read(void*, std::size_t) override { return -EISDIR; }
    long write(const void*, std::size_t) override { return -EISDIR; }
    long seek(i64 off, int whence) override
    {
        if (whence != SEEK_SET || off < 0)
            return -EINVAL;
        m_offset = static_cast<u64>(off);
        return off;
    }

    struct Emit {
        char* buf;
        std::size_t cap;
        std::size_t used;
        u64 cookie;     // the cookie of the entry being emitted
        u64 resume;     // emit only entries with cookie > resume
        u64 last;       // cookie of the last entry emitted
        bool full;
    };

    static void emit_one(Emit& e, u64 ino, const char* name, u8 type)
    {
        if (e.full || e.cookie <= e.resume)
            return;
        std::size_t len = std::strlen(name);
        std::size_t reclen = (offsetof(struct dirent, d_name) + len + 1 + 7) & ~std::size_t(7);
        if (e.used + reclen > e.cap) {
            e.full = true;
            return;
        }
        // In place: the buffer is a range of the application's that sys_getdents64 checked, and
        // nothing between the check and here blocks (one CPU, interrupts off), so nothing can
        // have unmapped it.
        auto* d = reinterpret_cast<struct dirent*>(e.buf + e.used);
        d->d_ino = ino;
        d->d_off = static_cast<off_t>(e.cookie);
        d->d_reclen = static_cast<unsigned short>(reclen);
        d->d_type = type;
        std::memcpy(d->d_name, name, len + 1);
        e.used += reclen;
        e.last = e.cookie;
    }

    static u8 type_of(const Inode* i)
    {
        if (i->is_dir())
            return DT_DIR;
        if (i->is_link())
            return DT_LNK;
        if (S_ISCHR(i->mode))
            return DT_CHR;
        if (S_ISFIFO(i->mode))
            return DT_FIFO;
        return DT_REG;
    }

    long getdents(void* buf, std::size_t n) override
    {
        if (m_inode->nlink == 0)
            return -ENOENT; // the directory was removed
        Emit e { static_cast<char*>(buf), n, 0, 0, m_offset, m_offset, false };
        e.cookie = 1;
        emit_one(e, m_inode->ino, ".", DT_DIR);
        e.cookie = 2;
        emit_one(e, (m_inode->parent ? m_inode->parent : m_inode)->ino, "..", DT_DIR);
        if (m_inode->dynamic_list) {
            struct Ctx {
                Emit* e;
                u64 n;
            } ctx { &e, 3 };
            m_inode->dynamic_list(
                m_inode,
                [](void* c, const char* name, u8 type) {
                    auto* x = static_cast<Ctx*>(c);
                    x->e->cookie = x->n++;
                    emit_one(*x->e, 0x100000 + x->e->cookie, name, type);
                },
                &ctx);
        } else {
            for (DirEntry* d = m_inode->entries.front(); d && !e.full; d = m_inode->entries.next(d)) {
                e.cookie = d->cookie;
                emit_one(e, d->inode->ino, d->name, type_of(d->inode));
            }
        }
        if (e.used == 0 && e.full)
            return -EINVAL; // the buffer cannot hold one entry
        m_offset = e.last;
        touch(m_inode, false);
        return static_cast<long>(e.used);
    }
    u32 poll() override { return POLLIN | POLLRDNORM; }
};

class DeviceFile final : public InodeFile {
public:
    using InodeFile::InodeFile;
    long read(void* buf, std::size_t n) override { return m_inode->device->read(buf, n, nonblocking()); }
    long write(const void* buf, std::size_t n) override { return m_inode->device->write(buf, n); }
    long pread(void* buf, std::size_t n, u64) override { return m_inode->device->read(buf, n, nonblocking()); }
    long pwrite(const void* buf, std::size_t n, u64) override { return m_inode->device->write(buf, n); }
    long seek(i64, int) override { return 0; } // devices like /dev/null accept any seek
    long ioctl(unsigned long request, long arg) override
    {
        if (m_inode->device->ioctl) {
            long r = m_inode->device->ioctl(request, arg);
            if (r != -ENOTTY)
                return r;
        }
        return File::ioctl(request, arg);
    }
    u32 poll() override { return m_inode->device->poll(); }
};

// /proc files: the content is made once, at open, so a reader sees one consistent snapshot.
class GeneratedFile final : public InodeFile {
public:
    using InodeFile::InodeFile;
    ~GeneratedFile() override { kfree(m_data); }
    bool generate()
    {
        constexpr std::size_t k_cap = 16384;
        m_data = static_cast<char*>(kmalloc(k_cap));
        if (!m_data)
            return false;
        long n = m_inode->generator(m_data, k_cap);
        m_size = n > 0 ? static_cast<std::size_t>(n) : 0;
        return true;
    }
    long read(void* buf, std::size_t n) override
    {
        long r = pread(buf, n, m_offset);
        if (r > 0)
            m_offset += static_cast<u64>(r);
        return r;
    }
    long pread(void* buf, std::size_t n, u64 off) override
    {
        if (off >= m_size)
            return 0;
        std::size_t len = n < m_size - off ? n : m_size - static_cast<std::size_t>(off);
        if (!copy_checked(buf, m_data + off, len)) // BUF: the application's checked range
            return -EFAULT;
        return static_cast<long>(len);
    }
    long write(const void*, std::size_t) override { return -EACCES; }
    long seek(i64 off, int whence) override
    {
        i64 base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? static_cast<i64>(m_offset) : whence == SEEK_END ? static_cast<i64>(m_size) : -1;
        if (base < 0 || base + off < 0)
            return -EINVAL;
        m_offset = static_cast<u64>(base + off);
        return static_cast<long>(m_offset);
    }
private:
    char* m_data = nullptr;
    std::size_t m_size = 0;
};

} // namespace

long open_inode(Inode* i, int flags, const char* path, File** out)
{
    File* f = nullptr;
    if (i->generator) {
        auto* g = make<GeneratedFile>(i, path);
        if (g && !g->generate()) {
            delete g;
            g = nullptr;
        }
        f = g;
    } else if (i->device) {
        f = make<DeviceFile>(i, path);
    } else if (i->is_dir()) {
        f = make<DirFile>(i, path);
    } else if (i->is_reg()) {
        f = make<RegularFile>(i, path);
    } else {
        return -ENXIO;
    }
    if (!f)
        return -ENOMEM;
    f->flags = flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME);
    *out = f;
    return 0;
}

} // namespace atl::libos
