// SPDX-License-Identifier: MIT
// The control channel (kernel/control.h) on COM2. The interrupt handler only moves received
// bytes into a ring and wakes the channel's thread, which parses lines and answers. When
// the ring is full the receive interrupt is masked and the bytes stay in the UART, and QEMU
// stops reading the host's FIFO: input waits, it is never dropped.
#include <kernel/control.h>

#include <kernel/arch/cpu.h>
#include <kernel/console.h>
#include <kernel/control_protocol.h>
#include <kernel/dump.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/lock.h>
#include <kernel/memory.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <kernel/platform.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace atl::kernel {

namespace {

constexpr std::size_t k_ring_size = 1024;
constexpr std::size_t k_thread_stack = 32 * 1024;
// How long output waits for a host that does not read before it is dropped (per write).
constexpr u64 k_output_patience_ns = 2'000'000'000;

// The receive side: the interrupt handler fills it, the channel's thread drains it. Lock
// order: a leaf (what it calls under the lock, wake_all and the UART's registers, takes none).
SpinLock s_rx_lock;
u8 s_ring[k_ring_size] ATL_GUARDED_BY(s_rx_lock);
std::size_t s_ring_head ATL_GUARDED_BY(s_rx_lock) = 0;
std::size_t s_ring_count ATL_GUARDED_BY(s_rx_lock) = 0;
bool s_rx_masked ATL_GUARDED_BY(s_rx_lock) = false;
WaitQueue s_readers ATL_GUARDED_BY(s_rx_lock);

// When each line's first byte arrived (the TSC, read in the interrupt handler): the time
// exchanges with the host measure from there, not from when the thread got to the line.
// Entries are keyed by the byte's position in the stream; with more lines queued than
// entries, the later lines go unstamped (they are stamped when parsed).
struct LineStamp {
    u64 position;
    u64 tsc;
};
constexpr std::size_t k_stamps = 8;
LineStamp s_stamps[k_stamps] ATL_GUARDED_BY(s_rx_lock);
std::size_t s_stamp_head ATL_GUARDED_BY(s_rx_lock) = 0;
std::size_t s_stamp_count ATL_GUARDED_BY(s_rx_lock) = 0;
u64 s_received ATL_GUARDED_BY(s_rx_lock) = 0;         // bytes put into the ring so far
bool s_at_line_start ATL_GUARDED_BY(s_rx_lock) = true; // the next byte begins a line

long (*s_signal_hook)(int) = nullptr;

// Output (only the channel's thread writes).
bool s_output_stalled = false; // the host stopped reading: drop output until it sends again
u64 s_output_dropped = 0;
char s_small_dump_buffer[2048]; // when the heap has no room for a larger one

bool s_skip_line ATL_GUARDED_BY(s_rx_lock) = false; // the rest of "host-clock" (its 'h' was read before the FIFO went on)
bool s_clock_host = false; // the host announced it answers clock requests

// Into the ring, with the TSC when a line's first byte arrived. The caller checked for room.
void receive_byte(u8 byte, u64 tsc) ATL_REQUIRES(s_rx_lock)
{
    if (s_skip_line) {
        s_skip_line = byte != '\n';
        return;
    }
    if (s_at_line_start && s_stamp_count < k_stamps) {
        s_stamps[(s_stamp_head + s_stamp_count) % k_stamps] = LineStamp { s_received, tsc };
        ++s_stamp_count;
    }
    s_at_line_start = byte == '\n';
    s_ring[(s_ring_head + s_ring_count) % k_ring_size] = byte;
    ++s_ring_count;
    ++s_received;
}

void uart_irq(void*)
{
    SpinLockGuard guard(s_rx_lock);
    while (platform::control_port::readable()) {
        if (s_ring_count == k_ring_size) {
            // Full: leave the rest in the UART (and the host's FIFO) until the thread drains.
            platform::control_port::set_receive_interrupt(false);
            s_rx_masked = true;
            break;
        }
        u8 byte = platform::control_port::read();
        receive_byte(byte, arch::read_tsc());
    }
    if (s_ring_count)
        wake_all(s_readers);
    end_of_interrupt();
}

bool wait_thr_empty(u64* give_up)
{
    for (int spin = 0; spin < 1000; ++spin) {
        if (platform::control_port::writable())
            return true;
        arch::pause();
    }
    // QEMU cannot write to the host's FIFO (full: nobody reads it). Sleep, briefly, a while.
    if (!*give_up)
        *give_up = monotonic_ns() + k_output_patience_ns;
    while (!(platform::control_port::writable())) {
        if (monotonic_ns() > *give_up)
            return false;
        InterruptGuard irq_off; // the scheduler's: block() runs with interrupts off
        (void)block(nullptr, monotonic_ns() + 1'000'000, false);
    }
    return true;
}

// Writes n bytes; *first_tsc (if given) gets the TSC just before the first one goes out.
void uart_write(const char* s, std::size_t n, u64* first_tsc = nullptr)
{
    if (s_output_stalled) {
        s_output_dropped += n;
        return;
    }
    u64 give_up = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!wait_thr_empty(&give_up)) {
            s_output_stalled = true;
            s_output_dropped += n - i;
            log("control channel: the host stopped reading; output dropped until it sends a command");
            return;
        }
        if (i == 0 && first_tsc)
            *first_tsc = arch::read_tsc();
        platform::control_port::write(static_cast<u8>(s[i]));
    }
}

[[gnu::format(printf, 1, 2)]] void reply(const char* fmt, ...)
{
    char line[192];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    std::size_t len = static_cast<std::size_t>(n) < sizeof(line) - 1 ? static_cast<std::size_t>(n) : sizeof(line) - 2;
    line[len++] = '\n';
    uart_write(line, len);
}

void sink(void*, const char* text, std::size_t len) { uart_write(text, len); }

void run_dump(const char* id)
{
    // A large buffer lets sections that hold a lock print without waiting for the UART. It
    // comes straight from the page allocator, and the dump leaves it out of its memory figures.
    u64 pages = 0;
    std::size_t cap = 0;
    for (std::size_t size : { std::size_t(256 * 1024), std::size_t(32 * 1024) }) {
        if (alloc_pages(size, &pages)) {
            cap = size;
            break;
        }
    }
    char* buf = pages ? reinterpret_cast<char*>(pages) : s_small_dump_buffer;
    DumpOutput out(buf, pages ? cap : sizeof(s_small_dump_buffer), sink, nullptr);
    write_state_dump(out, id, pages ? cap : 0);
    if (pages)
        free_pages(pages, cap);
}

// ---- The host's clock (kernel/time.h). `atoll run` announces that its relay answers clock
// requests with a line "host-clock", written before QEMU starts; the guest then sends "atoll-clock
// N" and the relay answers "host-time N T2 T3" (NTP-style: the guest notes the TSC when its
// request's first byte leaves and when the answer's first byte arrives). The thread asks, not
// the boot: each byte to the host wakes the relay, and on a busy machine the boot's exchange
// cost it 5-10 ms.

constexpr u64 k_clock_answer_patience_ns = 1'000'000'000; // then the exchange counts as lost
constexpr std::size_t k_clock_burst = 4;                   // exchanges per sample
constexpr u32 k_clock_give_up = 3; // unanswered requests before any answer: nobody keeps time

bool s_clock_waiting = false; // for the answer to s_clock_seq
u32 s_clock_seq = 0;
u64 s_clock_sent_tsc = 0;
u64 s_clock_deadline_ns = 0; // when the awaited answer counts as lost
u64 s_clock_next_ns = 0;     // when the next burst starts
std::size_t s_clock_burst_left = 0;
HostTimeSample s_clock_burst[k_clock_burst];
std::size_t s_clock_burst_count = 0;
bool s_clock_answered = false;
u32 s_clock_lost = 0;
bool s_ready_said = false;
// The first exchange waits this long after the channel's thread starts, unless a program
// reads the wall clock first (control_clock_wanted): made at once, it took its CPU time from
// the program's start (the C library's start-up was 8 ms slower on a busy machine).
constexpr u64 k_clock_first_delay_ns = 50'000'000;

// "atoll-ctl ready" once the clock is the host's (or there is no host that keeps it), so
// that what the host sees of the guest from then on has the clock set.
void say_ready()
{
    if (s_ready_said)
        return;
    s_ready_said = true;
    reply("atoll-ctl ready");
}

void clock_send_request()
{
    s_clock_seq = s_clock_seq >= control::k_max_time_request ? 1 : s_clock_seq + 1;
    char line[32];
    int n = std::snprintf(line, sizeof(line), "atoll-clock %u\n", s_clock_seq);
    s_clock_sent_tsc = 0;
    uart_write(line, static_cast<std::size_t>(n), &s_clock_sent_tsc);
    s_clock_waiting = s_clock_sent_tsc != 0;
    s_clock_deadline_ns = monotonic_ns() + k_clock_answer_patience_ns;
    if (!s_clock_waiting) {
        // Not sent (the host stopped reading the channel): the burst is off, tried again later.
        s_clock_burst_left = 0;
        s_clock_burst_count = 0;
        s_clock_next_ns = s_clock_deadline_ns;
    }
}

void clock_finish_burst()
{
    if (s_clock_burst_count) {
        // The clock's state (kernel/src/time.cpp) changes with interrupts off, as kernel code
        // runs. FIXME: a second CPU needs a lock (or a sequence count) for it.
        InterruptGuard irq_off;
        clock_host_samples(s_clock_burst, s_clock_burst_count);
    }
    s_clock_burst_count = 0;
    s_clock_burst_left = 0;
    s_clock_next_ns = clock_host_next_sample();
    if (clock_status().host_samples >= 2)
        say_ready(); // after a full burst: the host then sees the clock as it will stay
}

// The thread's part: sends what is due, notices lost answers. Returns when to look again
// (monotonic ns; 0: only when input arrives).
u64 clock_poll()
{
    if (!s_clock_host || !clock_host_sync_active()) {
        say_ready();
        return 0;
    }
    u64 now = monotonic_ns();
    if (s_clock_waiting && now >= s_clock_deadline_ns) {
        s_clock_waiting = false;
        if (!s_clock_answered && ++s_clock_lost >= k_clock_give_up) {
            log("clock: the host announced its clock but did not answer %u requests; not asking again", s_clock_lost);
            s_clock_host = false;
            clock_host_gave_up();
            say_ready();
            return 0;
        }
        if (s_clock_burst_left && --s_clock_burst_left == 0)
            clock_finish_burst();
    }
    if (!s_clock_waiting) {
        if (!s_clock_burst_left && now >= s_clock_next_ns) {
            // The first sample is a single exchange: a program's first read of the wall clock
            // waits for it (clock_wait_for_host). A full burst follows at once.
            s_clock_burst_left = clock_status().host_samples == 0 ? 1 : k_clock_burst;
            s_clock_burst_count = 0;
        }
        if (s_clock_burst_left)
            clock_send_request();
    }
    return s_clock_waiting ? s_clock_deadline_ns : s_clock_next_ns;
}

void host_time_answer(u32 seq, u64 host_received_ns, u64 host_sent_ns, u64 received_tsc)
{
    if (!s_clock_waiting || seq != s_clock_seq)
        return; // late (counted as lost already) or not ours
    s_clock_waiting = false;
    s_clock_answered = true;
    if (s_clock_burst_count < k_clock_burst)
        s_clock_burst[s_clock_burst_count++] = HostTimeSample { s_clock_sent_tsc, received_tsc, host_received_ns, host_sent_ns };
    if (s_clock_burst_left && --s_clock_burst_left == 0)
        clock_finish_burst();
}

struct Seconds {
    unsigned long long s;
    unsigned long ns;
};
Seconds seconds(u64 ns) { return Seconds { ns / 1000000000u, static_cast<unsigned long>(ns % 1000000000u) }; }

// `time ID`: the realtime clock when the request's first byte arrived and now (just before
// the reply is written), and the monotonic clock now, for the host's NTP-style measurement.
void reply_time(const char* id, u64 received_tsc)
{
    u64 mono_rx = 0, real_rx = 0, mono = 0, real = 0;
    bool ok;
    {
        InterruptGuard irq_off; // the clock's state, as in clock_finish_burst
        ok = clocks_at_tsc(received_tsc, &mono_rx, &real_rx) && clocks_at_tsc(arch::read_tsc(), &mono, &real);
    }
    if (!ok) {
        reply("atoll-ctl error: time %s: the clock is not running yet", id);
        return;
    }
    Seconds a = seconds(real_rx), b = seconds(real), m = seconds(mono);
    reply("atoll-ctl ok time %s %llu.%09lu %llu.%09lu %llu.%09lu", id, a.s, a.ns, b.s, b.ns, m.s, m.ns);
}

void execute(const control::Command& c, u64 line_tsc)
{
    using Kind = control::Command::Kind;
    switch (c.kind) {
    case Kind::Empty:
        return;
    case Kind::Dump:
        run_dump(c.id);
        return;
    case Kind::Signal: {
        long r;
        {
            InterruptGuard irq_off; // the libOS's hook runs as kernel code does
            r = s_signal_hook ? s_signal_hook(c.signal) : -1;
        }
        if (!s_signal_hook)
            reply("atoll-ctl error: signal %d: there is no application to signal", c.signal);
        else if (r < 0)
            reply("atoll-ctl error: signal %d: refused (errno %ld)", c.signal, -r);
        else
            reply("atoll-ctl ok signal %d", c.signal);
        return;
    }
    case Kind::Time:
        reply_time(c.id, line_tsc);
        return;
    case Kind::HostTime:
        host_time_answer(c.sequence, c.host_received_ns, c.host_sent_ns, line_tsc);
        return;
    case Kind::HostClock:
        // Announced after the boot looked (the relay started after the guest).
        if (!s_clock_host) {
            s_clock_host = true;
            s_clock_next_ns = monotonic_ns() + k_clock_first_delay_ns;
            clock_host_announced();
        }
        return;
    case Kind::Help:
        reply("atoll-ctl ok commands: dump [ID] (state dump, ends with 'atoll-dump-end ID'), "
              "signal N (signal N to the application), time [ID] (the guest's clocks), help");
        return;
    case Kind::Error:
        reply("atoll-ctl error: %s", c.error);
        return;
    }
}

void dump_clock(DumpOutput& out)
{
    ClockStatus c = clock_status();
    u64 mono = 0, real = 0;
    (void)clocks_at_tsc(arch::read_tsc(), &mono, &real);
    out.printf("tsc %llu Hz from %s, within %llu ppb; monotonic %llu.%09llu s, realtime %llu.%09llu\n",
        static_cast<unsigned long long>(c.tsc_hz), c.source, static_cast<unsigned long long>(c.uncertainty_ppb),
        static_cast<unsigned long long>(mono / 1000000000), static_cast<unsigned long long>(mono % 1000000000),
        static_cast<unsigned long long>(real / 1000000000), static_cast<unsigned long long>(real % 1000000000));
    out.printf("host clock: %s, %u samples, last round trip %llu us, last offset %lld us (guest - host)\n",
        !s_clock_host ? "not offered" : c.host_sync ? "followed" : "no longer followed (the program sets the time)",
        c.host_samples, static_cast<unsigned long long>(c.last_round_trip_ns / 1000),
        static_cast<long long>(c.last_offset_ns / 1000));
}

void control_thread(void*)
{
    control::LineReader reader;
    if (s_clock_host && !s_clock_next_ns)
        s_clock_next_ns = monotonic_ns() + k_clock_first_delay_ns;
    u64 consumed = 0;  // bytes taken from the ring so far (the stamps' positions)
    u64 line_tsc = 0;  // when the current line's first byte arrived; 0: not stamped
    bool line_start = true;
    for (;;) {
        u8 chunk[64];
        u64 chunk_tsc[sizeof(chunk)]; // per byte: the stamp of a line it starts, else 0
        std::size_t n = 0;
        // Woken by input, by control_clock_wanted(), or when the clock's next step is due.
        u64 wake_at = clock_poll();
        IrqState st = s_rx_lock.lock();
        while (s_ring_count == 0) {
            (void)block(&s_readers, wake_at, false);
            if (s_ring_count)
                break;
            s_rx_lock.unlock(st);
            wake_at = clock_poll();
            st = s_rx_lock.lock();
        }
        while (n < sizeof(chunk) && s_ring_count) {
            chunk_tsc[n] = 0;
            while (s_stamp_count && s_stamps[s_stamp_head].position <= consumed) {
                if (s_stamps[s_stamp_head].position == consumed)
                    chunk_tsc[n] = s_stamps[s_stamp_head].tsc;
                s_stamp_head = (s_stamp_head + 1) % k_stamps;
                --s_stamp_count;
            }
            chunk[n++] = s_ring[s_ring_head];
            s_ring_head = (s_ring_head + 1) % k_ring_size;
            --s_ring_count;
            ++consumed;
        }
        if (s_rx_masked && s_ring_count < k_ring_size / 2) {
            s_rx_masked = false;
            platform::control_port::set_receive_interrupt(true); // bytes still in the UART interrupt again
        }
        s_rx_lock.unlock(st);
        // The host is writing, so it is there again to read.
        if (s_output_stalled) {
            s_output_stalled = false;
            reply("atoll-ctl error: %llu bytes of output were lost while the host was not reading",
                static_cast<unsigned long long>(s_output_dropped));
            s_output_dropped = 0;
        }
        for (std::size_t i = 0; i < n; ++i) {
            if (line_start)
                line_tsc = chunk_tsc[i] ? chunk_tsc[i] : arch::read_tsc();
            line_start = chunk[i] == '\n';
            switch (reader.feed(static_cast<char>(chunk[i]))) {
            case control::LineReader::Event::None:
                break;
            case control::LineReader::Event::Line:
                execute(control::parse_command(reader.line()), line_tsc);
                break;
            case control::LineReader::Event::Overlong:
                reply("atoll-ctl error: a line of %zu bytes is longer than %zu: ignored", reader.overlong_length(),
                    control::k_max_line);
                break;
            }
        }
    }
}

} // namespace

void set_signal_request_hook(long (*hook)(int sig)) { s_signal_hook = hook; }

void control_clock_wanted()
{
    SpinLockGuard guard(s_rx_lock); // s_readers; FIXME: the s_clock_ variables are the thread's, unguarded
    if (s_clock_host && clock_status().host_samples == 0 && !s_clock_waiting) {
        s_clock_next_ns = 1; // due now (0 is "not scheduled yet")
        wake_all(s_readers);
    }
}

bool control_clock_detect()
{
    static bool s_looked = false;
    if (s_looked)
        return s_clock_host;
    s_looked = true;
    if (!platform::control_port::present())
        return false;
    SpinLockGuard guard(s_rx_lock); // the bytes read here go into the ring
    // (Its line settings are control_init's: receiving needs none under QEMU.)
    // A byte waiting this early was written before the guest started: the relay's
    // announcement, "host-clock", whose 'h' is all that waits (the FIFO is off: QEMU holds one
    // byte).
    if (!(platform::control_port::readable()))
        return false;
    u64 first_tsc = arch::read_tsc();
    u8 first = platform::control_port::read();
    if (first != 'h') {
        receive_byte(first, first_tsc); // someone else's early command: the thread's
        return false;
    }
    // With the relay there, the receive FIFO goes on: its own lines get through QEMU faster.
    // Switching it on empties the receive side, which at this point can hold only the next
    // byte of the announcement itself (the relay writes nothing else before it is asked), so
    // the rest of that line is dropped whatever it holds. QEMU looks for more input when the
    // guest reads the receive register, not when the FIFO is switched on: hence the read (of
    // an empty FIFO: 0; else a byte of the announcement), without which input waited 10-15 ms
    // for QEMU's main loop to wake for something else.
    platform::control_port::enable_fifo();
    s_skip_line = true;
    if (u8 b = platform::control_port::read())
        receive_byte(b, arch::read_tsc());
    s_clock_host = true;
    clock_host_announced();
    return true;
}

Result<void> control_init()
{
    if (!platform::control_port::present())
        return {};
    // The FIFOs are not switched on here: that empties the receive side in QEMU, and a
    // command the host wrote before the guest booted waits there. (They are on already when
    // `atoll run`'s relay announced itself; see control_clock_detect.)
    platform::control_port::init();
    Result<u32> vector = allocate_irq(uart_irq, nullptr);
    if (!vector) {
        log("control channel: no free interrupt vector (no state dumps or signals from the host)");
        return vector.error();
    }
    if (!platform::route_gsi(platform::control_port::gsi(), *vector, false)) {
        unregister_irq(*vector);
        log("control channel: cannot route IRQ 3 through the I/O APIC (no state dumps or signals from the host)");
        return Error::from_errno(ENODEV);
    }
    if (!create_kernel_thread(control_thread, nullptr, "control", k_thread_stack)) {
        // The I/O APIC line stays routed to the freed vector, but the UART's receive interrupt
        // is not on yet, so nothing raises it.
        unregister_irq(*vector);
        log("control channel: out of memory for its thread (no state dumps or signals from the host)");
        return Error::from_errno(ENOMEM);
    }
    (void)register_dump_section("clock", dump_clock);
    platform::control_port::set_receive_interrupt(true);
    return {};
}

} // namespace atl::kernel
