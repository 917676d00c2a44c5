// SPDX-License-Identifier: MIT
// The control channel (kernel/control.h) on COM2. The interrupt handler only moves received
// bytes into a ring and wakes the channel's thread, which parses lines and answers. When
// the ring is full the receive interrupt is masked and the bytes stay in the UART, and QEMU
// stops reading the host's FIFO: input waits, it is never dropped.
#include <kernel/control.h>

#include <kernel/arch.h>
#include <kernel/console.h>
#include <kernel/control_protocol.h>
#include <kernel/dump.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/memory.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include "uart16550.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace atl::kernel {

namespace {

using namespace uart;
constexpr u16 k_com2 = 0x2f8;
constexpr u32 k_com2_isa_irq = 3; // ISA IRQ 3 = I/O APIC input 3 on pc, q35 and microvm

constexpr std::size_t k_ring_size = 1024;
constexpr std::size_t k_thread_stack = 32 * 1024;
// How long output waits for a host that does not read before it is dropped (per write).
constexpr u64 k_output_patience_ns = 2'000'000'000;

// The receive ring; guarded by interrupts off.
u8 s_ring[k_ring_size];
std::size_t s_ring_head = 0;
std::size_t s_ring_count = 0;
bool s_rx_masked = false;
WaitQueue s_readers;

long (*s_signal_hook)(int) = nullptr;

// Output (only the channel's thread writes).
bool s_output_stalled = false; // the host stopped reading: drop output until it sends again
u64 s_output_dropped = 0;
char s_small_dump_buffer[2048]; // when the heap has no room for a larger one

void uart_irq(void*)
{
    while (arch::inb(k_com2 + k_lsr) & k_lsr_data_ready) {
        if (s_ring_count == k_ring_size) {
            // Full: leave the rest in the UART (and the host's FIFO) until the thread drains.
            arch::outb(k_com2 + k_ier, 0);
            s_rx_masked = true;
            break;
        }
        s_ring[(s_ring_head + s_ring_count) % k_ring_size] = arch::inb(k_com2 + k_rbr);
        ++s_ring_count;
    }
    if (s_ring_count)
        wake_all(s_readers);
    end_of_interrupt();
}

bool wait_thr_empty(u64* give_up)
{
    for (int spin = 0; spin < 1000; ++spin) {
        if (arch::inb(k_com2 + k_lsr) & k_lsr_thr_empty)
            return true;
        arch::pause();
    }
    // QEMU cannot write to the host's FIFO (full: nobody reads it). Sleep, briefly, a while.
    if (!*give_up)
        *give_up = monotonic_ns() + k_output_patience_ns;
    while (!(arch::inb(k_com2 + k_lsr) & k_lsr_thr_empty)) {
        if (monotonic_ns() > *give_up)
            return false;
        IrqState st = irq_save();
        (void)block(nullptr, monotonic_ns() + 1'000'000, false);
        irq_restore(st);
    }
    return true;
}

void uart_write(const char* s, std::size_t n)
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
        arch::outb(k_com2 + k_thr, static_cast<u8>(s[i]));
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
    IrqState st = irq_save();
    for (std::size_t size : { std::size_t(256 * 1024), std::size_t(32 * 1024) }) {
        if (alloc_pages(size, &pages)) {
            cap = size;
            break;
        }
    }
    irq_restore(st);
    char* buf = pages ? reinterpret_cast<char*>(pages) : s_small_dump_buffer;
    DumpOutput out(buf, pages ? cap : sizeof(s_small_dump_buffer), sink, nullptr);
    write_state_dump(out, id, pages ? cap : 0);
    if (pages) {
        st = irq_save();
        free_pages(pages, cap);
        irq_restore(st);
    }
}

void execute(const control::Command& c)
{
    using Kind = control::Command::Kind;
    switch (c.kind) {
    case Kind::Empty:
        return;
    case Kind::Dump:
        run_dump(c.id);
        return;
    case Kind::Signal: {
        IrqState st = irq_save();
        long r = s_signal_hook ? s_signal_hook(c.signal) : -1;
        irq_restore(st);
        if (!s_signal_hook)
            reply("atoll-ctl error: signal %d: there is no application to signal", c.signal);
        else if (r < 0)
            reply("atoll-ctl error: signal %d: refused (errno %ld)", c.signal, -r);
        else
            reply("atoll-ctl ok signal %d", c.signal);
        return;
    }
    case Kind::Help:
        reply("atoll-ctl ok commands: dump [ID] (state dump, ends with 'atoll-dump-end ID'), "
              "signal N (signal N to the application), help");
        return;
    case Kind::Error:
        reply("atoll-ctl error: %s", c.error);
        return;
    }
}

void control_thread(void*)
{
    control::LineReader reader;
    reply("atoll-ctl ready");
    for (;;) {
        u8 chunk[64];
        std::size_t n = 0;
        IrqState st = irq_save();
        while (s_ring_count == 0)
            (void)block(&s_readers, 0, false);
        while (n < sizeof(chunk) && s_ring_count) {
            chunk[n++] = s_ring[s_ring_head];
            s_ring_head = (s_ring_head + 1) % k_ring_size;
            --s_ring_count;
        }
        if (s_rx_masked && s_ring_count < k_ring_size / 2) {
            s_rx_masked = false;
            arch::outb(k_com2 + k_ier, k_ier_rx); // bytes still in the UART interrupt again
        }
        irq_restore(st);
        // The host is writing, so it is there again to read.
        if (s_output_stalled) {
            s_output_stalled = false;
            reply("atoll-ctl error: %llu bytes of output were lost while the host was not reading",
                static_cast<unsigned long long>(s_output_dropped));
            s_output_dropped = 0;
        }
        for (std::size_t i = 0; i < n; ++i) {
            switch (reader.feed(static_cast<char>(chunk[i]))) {
            case control::LineReader::Event::None:
                break;
            case control::LineReader::Event::Line:
                execute(control::parse_command(reader.line()));
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

const char* control_init()
{
    if (!present(k_com2, 0xa5))
        return nullptr;
    init_115200_8n1(k_com2);
    // The FIFOs stay off: switching them on empties the receive side in QEMU, and a command
    // the host wrote before the guest booted waits there.
    arch::outb(k_com2 + k_mcr, 0x0b); // DTR, RTS, OUT2 (the interrupt line's gate on a PC)
    u32 vector = allocate_irq(uart_irq, nullptr);
    if (!vector)
        return "no free interrupt vector";
    if (!route_gsi(k_com2_isa_irq, vector, false))
        return "cannot route IRQ 3 through the I/O APIC";
    if (!create_kernel_thread(control_thread, nullptr, "control", k_thread_stack))
        return "out of memory for its thread";
    arch::outb(k_com2 + k_ier, k_ier_rx);
    return nullptr;
}

} // namespace atl::kernel
