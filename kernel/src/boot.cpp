// SPDX-License-Identifier: MIT
#include <kernel/boot.h>
#include <kernel/console.h>

#include <cerrno>
#include <cstring>

namespace atl::kernel {

namespace {

// Xen public interface, arch-x86/hvm/start_info.h (version 1 adds the memory map).
constexpr u32 k_pvh_magic = 0x336ec578;

struct HvmStartInfo {
    u32 magic;
    u32 version;
    u32 flags;
    u32 nr_modules;
    u64 modlist_paddr;
    u64 cmdline_paddr;
    u64 rsdp_paddr;
    u64 memmap_paddr;
    u32 memmap_entries;
    u32 reserved;
};

struct HvmModlistEntry {
    u64 paddr;
    u64 size;
    u64 cmdline_paddr;
    u64 reserved;
};

struct HvmMemmapEntry {
    u64 addr;
    u64 size;
    u32 type;
    u32 reserved;
};

// The loader's hand-over is input: what is wrong with it goes to the log, the caller gets EINVAL.
[[gnu::cold]] Error bad_start_info(const char* why)
{
    log("boot: %s", why);
    return Error::from_errno(EINVAL);
}

} // namespace

Result<void> read_pvh_start_info(u64 paddr, BootInfo& out)
{
    if (paddr == 0 || paddr >= (u64(4) << 30))
        return bad_start_info("no PVH start info (the image must be entered through its PVH note)");
    auto* si = reinterpret_cast<const HvmStartInfo*>(paddr);
    if (si->magic != k_pvh_magic)
        return bad_start_info("bad PVH start info magic");
    if (si->version < 1 || si->memmap_paddr == 0 || si->memmap_entries == 0)
        return bad_start_info("the loader gave no memory map (PVH start info version 0)");
    if (si->memmap_entries > BootInfo::k_max_map)
        return bad_start_info("the memory map has more entries than Atoll supports (128)");

    auto* map = reinterpret_cast<const HvmMemmapEntry*>(si->memmap_paddr);
    for (u32 i = 0; i < si->memmap_entries; ++i)
        out.map[i] = MemoryMapEntry { map[i].addr, map[i].size, map[i].type };
    out.map_count = si->memmap_entries;

    if (si->cmdline_paddr) {
        const char* cmdline = reinterpret_cast<const char*>(si->cmdline_paddr);
        std::size_t n = strnlen(cmdline, BootInfo::k_max_cmdline);
        if (n == BootInfo::k_max_cmdline)
            return bad_start_info("the kernel command line is longer than 8191 bytes");
        std::memcpy(out.cmdline, cmdline, n + 1);
    }

    if (si->nr_modules > BootInfo::k_max_modules)
        return bad_start_info("more boot modules than Atoll supports (8)");
    if (si->nr_modules && si->modlist_paddr) {
        auto* mods = reinterpret_cast<const HvmModlistEntry*>(si->modlist_paddr);
        for (u32 i = 0; i < si->nr_modules; ++i)
            out.modules[i] = BootModule { mods[i].paddr, mods[i].size };
        out.module_count = si->nr_modules;
    }
    out.rsdp = si->rsdp_paddr;
    return {};
}

} // namespace atl::kernel
