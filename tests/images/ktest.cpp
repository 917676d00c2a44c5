// SPDX-License-Identifier: MIT
// In-image kernel tests: what only a booted machine shows (page permissions, timer accuracy,
// futex races). One explicit table; `ktest NAME...` runs some, no argument runs all. The exit
// status is the number of failures.
#include <kernel/paging.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern "C" char __text_start[], __rodata_start[], __data_start[];

namespace {

int g_failures = 0;

void check(const char* test, bool ok, const char* what)
{
    std::printf("%s: %s: %s\n", test, ok ? "PASS" : "FAIL", what);
    if (!ok)
        ++g_failures;
}

int g_data_word = 1;
const char k_constant[] = "constant";

void paging()
{
    using atl::Access;
    Access a {};
    check("paging", atl::kernel::query_access(reinterpret_cast<atl::u64>(__text_start), &a) && a == Access::ReadExec,
        "text is read-execute");
    check("paging", atl::kernel::query_access(reinterpret_cast<atl::u64>(k_constant), &a) && a == Access::Read,
        "constants are read-only");
    check("paging", atl::kernel::query_access(reinterpret_cast<atl::u64>(&g_data_word), &a) && a == Access::ReadWrite,
        "data is read-write, not executable");
    check("paging", !atl::kernel::query_access(0, &a), "page 0 is not mapped");
    check("paging", !atl::kernel::query_access(0x80000, &a), "the first megabyte is not mapped");

    // mprotect through the libOS changes the page tables, and back.
    void* p = mmap(nullptr, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    auto base = reinterpret_cast<atl::u64>(p);
    check("paging", p != MAP_FAILED && atl::kernel::query_access(base, &a) && a == Access::ReadWrite, "mmap gives read-write");
    check("paging", mprotect(static_cast<char*>(p) + 4096, 4096, PROT_READ) == 0 &&
                        atl::kernel::query_access(base + 4096, &a) && a == Access::Read &&
                        atl::kernel::query_access(base, &a) && a == Access::ReadWrite,
        "mprotect(PROT_READ) changes exactly one page");
    check("paging", mprotect(p, 4096, PROT_NONE) == 0 && atl::kernel::query_access(base, &a) && a == Access::None,
        "PROT_NONE makes a page inaccessible");
    check("paging", mprotect(p, 3 * 4096, PROT_READ | PROT_WRITE | PROT_EXEC) == 0 &&
                        atl::kernel::query_access(base + 8192, &a) && a == Access::ReadWriteExec,
        "PROT_EXEC allows execution");
    check("paging", munmap(p, 3 * 4096) == 0, "munmap");
    check("paging", mprotect(p, 4096, PROT_READ) == -1 && errno == ENOMEM, "mprotect of unmapped memory is ENOMEM");
}

void timer()
{
    // Sleeps of several lengths: never early, and late by less than a few ms under TCG.
    const long lengths_us[] = { 1000, 5000, 20000 };
    for (long us : lengths_us) {
        atl::u64 start = atl::kernel::monotonic_ns();
        usleep(static_cast<useconds_t>(us));
        atl::u64 slept = atl::kernel::monotonic_ns() - start;
        char what[96];
        std::snprintf(what, sizeof(what), "usleep(%ld) took %llu us", us, static_cast<unsigned long long>(slept / 1000));
        check("timer", slept >= static_cast<atl::u64>(us) * 1000 && slept < static_cast<atl::u64>(us) * 1000 + 20000000,
            what);
    }
    atl::u64 a = atl::kernel::monotonic_ns(), b = atl::kernel::monotonic_ns();
    check("timer", b >= a, "the monotonic clock does not go back");
}

// Futex races: threads hand a token around with raw FUTEX_WAIT/FUTEX_WAKE; a lost wake-up
// would hang (the test's timeout catches it), a spurious double hand-off breaks the count.
std::atomic<int> g_token { 0 };
std::atomic<long> g_handoffs { 0 };
constexpr int k_racers = 4;
constexpr int k_rounds = 2000;

long futex(std::atomic<int>* addr, int op, int val)
{
    return syscall(SYS_futex, reinterpret_cast<int*>(addr), op | FUTEX_PRIVATE_FLAG, val, nullptr, nullptr, 0);
}

void* racer(void* arg)
{
    int me = static_cast<int>(reinterpret_cast<long>(arg));
    for (int r = 0; r < k_rounds; ++r) {
        int v;
        while ((v = g_token.load()) != me)
            futex(&g_token, FUTEX_WAIT, v);
        g_handoffs.fetch_add(1);
        g_token.store((me + 1) % k_racers);
        futex(&g_token, FUTEX_WAKE, k_racers);
    }
    return nullptr;
}

void futexes()
{
    pthread_t t[k_racers];
    for (long i = 0; i < k_racers; ++i)
        pthread_create(&t[i], nullptr, racer, reinterpret_cast<void*>(i));
    for (auto& th : t)
        pthread_join(th, nullptr);
    char what[64];
    std::snprintf(what, sizeof(what), "%ld hand-offs among %d threads", g_handoffs.load(), k_racers);
    check("futex", g_handoffs.load() == long(k_racers) * k_rounds, what);
    int word = 5;
    check("futex", syscall(SYS_futex, &word, FUTEX_WAIT, 6, nullptr, nullptr, 0) == -1 && errno == EAGAIN,
        "FUTEX_WAIT on a changed value is EAGAIN");
    struct timespec ts { 0, 2000000 };
    check("futex", syscall(SYS_futex, &word, FUTEX_WAIT, 5, &ts, nullptr, 0) == -1 && errno == ETIMEDOUT,
        "FUTEX_WAIT times out");
    check("futex", syscall(SYS_futex, reinterpret_cast<char*>(&word) + 1, FUTEX_WAKE, 1, nullptr, nullptr, 0) == -1 &&
                       errno == EINVAL,
        "a misaligned futex is EINVAL");
    check("futex", syscall(SYS_futex, reinterpret_cast<int*>(8), FUTEX_WAKE, 1, nullptr, nullptr, 0) == -1 && errno == EFAULT,
        "a bad futex address is EFAULT");
    check("futex", syscall(SYS_futex, &word, 99, 1, nullptr, nullptr, 0) == -1 && errno == ENOSYS,
        "an unknown futex operation is ENOSYS");
}

// musl's brk()/sbrk() refuse to move the break (by design); its malloc and other libcs use
// the system call directly, so that is what is tested.
char* sys_brk(char* to) { return reinterpret_cast<char*>(syscall(SYS_brk, to)); }

void program_break()
{
    char* start = sys_brk(nullptr);
    check("brk", start != nullptr, "brk(0) gives the break");
    std::size_t n = 3 * 4096 + 100;
    char* end = sys_brk(start + n);
    bool zero = end == start + n;
    for (std::size_t i = 0; zero && i < n; ++i)
        zero = start[i] == 0;
    if (end == start + n)
        std::memset(start, 0x5a, n);
    check("brk", zero, "growing gives zeroed, writable memory");
    check("brk", sys_brk(start) == start, "shrinking back");
    atl::Access a {};
    check("brk", !atl::kernel::query_access(reinterpret_cast<atl::u64>(start) + 4096, &a), "shrunk pages are unmapped");
    check("brk", sys_brk(start + (1ull << 40)) == start, "a request outside the heap window leaves the break");
    check("brk", sys_brk(start + (32ull << 30)) == start, "growing past free memory fails and keeps the break");
    check("brk", sys_brk(start + 4096) == start + 4096 && start[0] == 0, "memory reused after shrinking is zeroed again");
}

struct Test {
    const char* name;
    void (*run)();
};
const Test k_tests[] = { { "paging", paging }, { "timer", timer }, { "futex", futexes }, { "brk", program_break } };

} // namespace

int main(int argc, char** argv)
{
    for (const Test& t : k_tests) {
        bool wanted = argc < 2;
        for (int i = 1; i < argc; ++i)
            wanted = wanted || std::strcmp(argv[i], t.name) == 0;
        if (wanted)
            t.run();
    }
    std::printf("failures: %d\n", g_failures);
    return g_failures;
}
