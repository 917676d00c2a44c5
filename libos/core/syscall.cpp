// SPDX-License-Identifier: MIT
// The system call entry (__atoll_syscall): x86_64 Linux system call numbers to their
// handlers, by the one list of served calls (libos/core/syscalls.def).

#include <libos/core/lock.h>
#include <libos/core/syscall.h>
#include <libos/event/syscalls.h>
#include <libos/fs/syscalls.h>
#include <libos/fs/vfs.h>
#include <libos/ipc/syscalls.h>
#include <libos/mm/syscalls.h>
#include <libos/net/socket_layer.h>
#include <libos/proc/credentials.h>
#include <libos/proc/syscalls.h>
#include <libos/proc/thread_state.h>
#include <libos/signal/signal.h>
#include <libos/time/syscalls.h>

#include <kernel/interrupts.h>

#include <kernel/console.h>
#include <kernel/stack.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/syscall.h>

namespace atl::libos {

namespace {

struct SyscallName {
    long number;
    const char* name;
};

// Every number's name, from the ABI's own list (generated from the sysroot's <bits/syscall.h>
// by libos/CMakeLists.txt): it names the calls syscalls.def does not list. Those it lists are
// named by their SYS_ constants, so the two lists cannot disagree.
constexpr SyscallName k_syscall_names[] = {
#include "syscall_names.inc"
};

constexpr long k_max_logged = 1024;
bool s_logged[k_max_logged];

const char* syscall_name(long n)
{
    for (const auto& entry : k_syscall_names) {
        if (entry.number == n)
            return entry.name;
    }
    return "unknown";
}

// Numbers outside the table's range that were already logged (a program probing for new
// system calls tries a handful, not thousands).
long s_logged_other[32];
std::size_t s_logged_other_count = 0;

bool first_time(long n)
{
    if (n >= 0 && n < k_max_logged) {
        bool first = !s_logged[n];
        s_logged[n] = true;
        return first;
    }
    for (std::size_t i = 0; i < s_logged_other_count; ++i) {
        if (s_logged_other[i] == n)
            return false;
    }
    if (s_logged_other_count < sizeof(s_logged_other) / sizeof(s_logged_other[0]))
        s_logged_other[s_logged_other_count++] = n;
    return true;
}

// Socket calls go to the socket layer when the image has one (libos/net/socket_layer.h).
// Without it no descriptor can be a socket: calls on a descriptor say so, socket() and
// socketpair() are ENOSYS (the program reached them without musl's functions, e.g. through
// syscall()).
long socket_call(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    if (const SocketLayer* layer = registered_socket_layer().only())
        return layer->syscall(n, a1, a2, a3, a4, a5, a6);
    if (n == SYS_socket || n == SYS_socketpair) {
        if (first_time(n))
            kernel::log("system call %s: this image has no socket layer (it is linked in when the program "
                        "calls socket() or socketpair()): returning ENOSYS", syscall_name(n));
        return -ENOSYS;
    }
    return fd_get(static_cast<int>(a1)) ? -ENOTSOCK : -EBADF;
}

long unimplemented(long n)
{
    if (first_time(n))
        kernel::log("system call %s (%ld) is not implemented: returning ENOSYS", syscall_name(n), n);
    return -ENOSYS;
}

} // namespace

} // namespace atl::libos

namespace atl::libos {

namespace {

// The dispatch: every call syscalls.def lists, SYSCALL_UNLOCKED's excepted (unlocked_call
// serves those before this runs). The socket calls share one way to the socket layer.
long dispatch(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    switch (n) {
#define SYSCALL(name, call) \
    case SYS_##name: return (call);
#define SYSCALL_UNLOCKED(name, call)
#define SYSCALL_TRY_UNLOCKED(name, try_call, call) \
    case SYS_##name: return (call);
#define SOCKETCALL(name, call) \
    case SYS_##name: goto socket_layer;
#include <libos/core/syscalls.def>
#undef SYSCALL
#undef SYSCALL_UNLOCKED
#undef SYSCALL_TRY_UNLOCKED
#undef SOCKETCALL
    default: return unimplemented(n);
    }
socket_layer:
    return socket_call(n, a1, a2, a3, a4, a5, a6);
}

// Calls that only read state written in one store (or before the application started) run
// without masking interrupts: under TCG the mask and unmask alone cost ~110 ns, against a
// 5 ns goal for a whole call. True when handled; *r is the result.
bool unlocked_call(long n, long a1, long a2, long* r)
{
    switch (n) {
#define SYSCALL(name, call)
#define SYSCALL_UNLOCKED(name, call) \
    case SYS_##name: *r = (call); return true;
#define SYSCALL_TRY_UNLOCKED(name, try_call, call) \
    case SYS_##name: return (try_call);
#define SOCKETCALL(name, call)
#include <libos/core/syscalls.def>
#undef SYSCALL
#undef SYSCALL_UNLOCKED
#undef SYSCALL_TRY_UNLOCKED
#undef SOCKETCALL
    default: return false;
    }
}

} // namespace

} // namespace atl::libos

// Stack kept committed below a system call's entry on growable stacks: generous against the
// libOS's deepest paths (a send through lwIP, a formatted log line).
constexpr atl::u64 k_syscall_stack = 64 * 1024;

namespace atl::libos {
constinit kernel::SpinLock g_libos_lock;
}

// Every system call of the application arrives here as a function call. The libOS runs under
// its lock (libos/core/lock.h: on one CPU, interrupts off); signals for the thread are
// delivered on the way back, with the application's interrupt state restored.
extern "C" long __atoll_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
    using namespace atl;
    long r = 0;
    if (libos::unlocked_call(n, a1, a2, &r)) {
        libos::deliver_signals_after_unlocked_call();
        return r;
    }
    kernel::IrqState irq = libos::g_libos_lock.lock();
    // The libOS runs on the caller's stack: if that is a growable one, the pages its deepest
    // paths need are committed now, not by a fault inside the page allocator (kernel/stack.h).
    kernel::stack_ensure(reinterpret_cast<u64>(__builtin_frame_address(0)), k_syscall_stack);
    r = libos::dispatch(n, a1, a2, a3, a4, a5, a6);
    bool signals = libos::has_deliverable_signal() || kernel::current()->interrupt_pending;
    libos::g_libos_lock.unlock(irq);
    if (signals)
        libos::deliver_pending_signals();
    return r;
}
