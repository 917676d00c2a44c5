// SPDX-License-Identifier: MIT
#pragma once

// The application's memory (memory.cpp): mappings, protections, locks, brk.

namespace atl::libos {

long sys_mmap(long addr, long len, long prot, long flags, long fd, long offset);
long sys_munmap(long addr, long len);
long sys_msync(long addr, long len, long flags);
long sys_mremap(long old_addr, long old_len, long new_len, long flags, long new_addr);
long sys_mprotect(long addr, long len, long prot);
long sys_madvise(long addr, long len, long advice);
long sys_brk(long addr);
long sys_mlock(long addr, long len, long flags);
long sys_munlock(long addr, long len);
long sys_mlockall(long flags);

} // namespace atl::libos
