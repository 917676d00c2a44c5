// SPDX-License-Identifier: MIT
// Threads, synchronisation, time and memory through the C++ standard library, unchanged.
// `threads NAME...` runs the named checks (all when none is named); each prints a result line
// and the exit status is the number of failed checks.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <new>
#include <pthread.h>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
int g_failures = 0;

void report(const char* name, bool ok, const std::string& detail)
{
    std::printf("%s: %s (%s)\n", name, ok ? "PASS" : "FAIL", detail.c_str());
    std::fflush(stdout);
    if (!ok)
        ++g_failures;
}

void counter()
{
    constexpr int k_threads = 1000, k_increments = 1000;
    std::mutex m;
    long count = 0;
    std::vector<std::thread> threads;
    threads.reserve(k_threads);
    for (int i = 0; i < k_threads; ++i) {
        threads.emplace_back([&] {
            for (int j = 0; j < k_increments; ++j) {
                std::lock_guard<std::mutex> lock(m);
                ++count;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    std::printf("%ld\n", count);
    report("counter", count == long(k_threads) * k_increments, std::to_string(count));
}

void pingpong()
{
    constexpr int k_rounds = 100000;
    std::mutex m;
    std::condition_variable cv;
    int turn = 0; // 0: ping's turn, 1: pong's
    int pongs = 0;
    std::thread pong([&] {
        for (int i = 0; i < k_rounds; ++i) {
            std::unique_lock<std::mutex> lock(m);
            cv.wait(lock, [&] { return turn == 1; });
            ++pongs;
            turn = 0;
            cv.notify_one();
        }
    });
    auto start = Clock::now();
    for (int i = 0; i < k_rounds; ++i) {
        std::unique_lock<std::mutex> lock(m);
        turn = 1;
        cv.notify_one();
        cv.wait(lock, [&] { return turn == 0; });
    }
    pong.join();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    report("pingpong", pongs == k_rounds, std::to_string(pongs) + " round trips in " + std::to_string(ms) + " ms");
}

void async_future()
{
    auto f1 = std::async(std::launch::async, [] { return 6 * 7; });
    std::promise<std::string> p;
    std::future<std::string> f2 = p.get_future();
    std::thread producer([&p] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        p.set_value("from a promise");
    });
    std::packaged_task<int(int)> task([](int x) { return x + 1; });
    auto f3 = task.get_future();
    std::thread(std::move(task), 41).detach();
    int a = f1.get();
    std::string b = f2.get();
    int c = f3.get();
    producer.join();
    // An exception crosses threads through a future.
    auto f4 = std::async(std::launch::async, []() -> int { throw std::runtime_error("thrown in a thread"); });
    std::string caught;
    try {
        f4.get();
    } catch (const std::exception& e) {
        caught = e.what();
    }
    report("async", a == 42 && b == "from a promise" && c == 42 && caught == "thrown in a thread",
        std::to_string(a) + ", " + b + ", " + std::to_string(c) + ", " + caught);
}

std::atomic<int> g_tls_constructed { 0 };
std::atomic<int> g_tls_destroyed { 0 };
struct Tracked {
    int value;
    Tracked() : value(7) { ++g_tls_constructed; }
    ~Tracked() { ++g_tls_destroyed; }
};
thread_local Tracked t_tracked;
thread_local int t_plain = 1;

void thread_locals()
{
    constexpr int k_threads = 8;
    std::atomic<int> sum { 0 };
    std::vector<std::thread> threads;
    for (int i = 0; i < k_threads; ++i) {
        threads.emplace_back([&, i] {
            t_plain += i;                    // each thread has its own copy
            t_tracked.value += i;            // constructed on first use in this thread
            std::this_thread::yield();
            sum += t_plain + t_tracked.value; // (1 + i) + (7 + i)
        });
    }
    for (auto& t : threads)
        t.join();
    int expected = 0;
    for (int i = 0; i < k_threads; ++i)
        expected += 8 + 2 * i;
    int c = g_tls_constructed.load(), d = g_tls_destroyed.load();
    report("tls", sum == expected && c == k_threads && d == k_threads && t_plain == 1,
        "sum " + std::to_string(sum.load()) + "/" + std::to_string(expected) + ", constructed " + std::to_string(c) +
            ", destroyed " + std::to_string(d));
}

void sleep_accuracy()
{
    auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    char buf[64];
    std::snprintf(buf, sizeof(buf), "slept %.2f ms", ms);
    report("sleep", ms >= 100.0 && ms < 150.0, buf);
}

void cancel_cond_wait()
{
    static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    static std::atomic<bool> waiting { false };
    auto body = [](void*) -> void* {
        pthread_mutex_lock(&m);
        pthread_cleanup_push([](void*) { pthread_mutex_unlock(&m); }, nullptr);
        waiting = true;
        for (;;)
            pthread_cond_wait(&c, &m); // nobody signals: only cancellation ends this
        pthread_cleanup_pop(0);
        return nullptr;
    };
    pthread_t t;
    pthread_create(&t, nullptr, body, nullptr);
    while (!waiting)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(10)); // let it block in the wait
    int rc = pthread_cancel(t);
    void* result = nullptr;
    int jrc = pthread_join(t, &result);
    bool relocked = pthread_mutex_trylock(&m) == 0; // the cleanup handler unlocked it
    if (relocked)
        pthread_mutex_unlock(&m);
    report("cancel", rc == 0 && jrc == 0 && result == PTHREAD_CANCELED && relocked,
        std::string("join ") + std::strerror(jrc) + (result == PTHREAD_CANCELED ? ", PTHREAD_CANCELED" : ", not canceled"));
}

void starvation()
{
    // A thread that spins without ever making a system call must not keep a sleeper from
    // waking: the timer interrupt preempts it.
    std::atomic<bool> stop { false };
    std::atomic<long> spins { 0 };
    std::thread spinner([&] {
        while (!stop.load(std::memory_order_relaxed))
            spins.fetch_add(1, std::memory_order_relaxed);
    });
    auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    stop = true;
    spinner.join();
    char buf[96];
    std::snprintf(buf, sizeof(buf), "sleeper woke after %.1f ms while a thread spun %ld times", ms, spins.load());
    report("starve", ms >= 50.0 && ms < 1000.0 && spins.load() > 0, buf);
}

void bad_alloc()
{
    std::vector<std::unique_ptr<char[]>> blocks;
    std::size_t mib = 0;
    bool caught = false;
    try {
        for (;;) {
            blocks.emplace_back(new char[1 << 20]);
            blocks.back()[0] = 1;
            ++mib;
        }
    } catch (const std::bad_alloc&) {
        caught = true;
    }
    blocks.clear();
    // Memory is back: allocating again works.
    bool again = false;
    try {
        auto p = std::make_unique<char[]>(8 << 20);
        again = p != nullptr;
    } catch (const std::bad_alloc&) {
    }
    report("badalloc", caught && again && mib > 0,
        "std::bad_alloc after " + std::to_string(mib) + " MiB, then an 8 MiB allocation " + (again ? "worked" : "failed"));
}

struct Check {
    const char* name;
    void (*run)();
};
const Check k_checks[] = {
    { "counter", counter }, { "pingpong", pingpong }, { "async", async_future }, { "tls", thread_locals },
    { "sleep", sleep_accuracy }, { "cancel", cancel_cond_wait }, { "starve", starvation }, { "badalloc", bad_alloc },
};

} // namespace

int main(int argc, char** argv)
{
    for (const Check& c : k_checks) {
        bool wanted = argc < 2;
        for (int i = 1; i < argc; ++i)
            wanted = wanted || std::strcmp(argv[i], c.name) == 0;
        if (wanted)
            c.run();
    }
    std::printf("failures: %d\n", g_failures);
    return g_failures;
}
