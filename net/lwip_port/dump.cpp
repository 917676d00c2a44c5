// SPDX-License-Identifier: MIT
// The network stack's section of the state dump (kernel/dump.h): the interfaces with their
// counters, the tcpip thread's mailbox, and every TCP PCB with its state, addresses, queues
// and timers.
//
// The PCB lists belong to the tcpip core lock. The dump exists to diagnose a guest whose
// network has stopped, where a stuck thread may hold that lock for good, so the lock is only
// tried (for a bounded time). Without it the lists are still read, with interrupts off (no
// thread runs meanwhile on the one CPU) and every pointer checked to be mapped and every
// walk bounded, and the dump says that the holder may have left them half-changed.
#include "sys_arch_dump.h"

#include <kernel/dump.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/lock.h>
#include <kernel/paging.h>
#include <kernel/sched.h>
#include <kernel/time.h>
#include <net/net.h>

#include <cstdio>
#include <cstring>

extern "C" {
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
}

namespace atl::net {

namespace {

constexpr u64 k_lock_patience_ns = 200'000'000;
constexpr std::size_t k_max_pcbs = 2048; // per dump; the rest are counted
constexpr u32 k_max_segments = 1000;     // per queue, when counting a PCB's segments

// One PCB as read, printed after the lock (or interrupts) are released.
struct PcbRecord {
    u32 local_ip, remote_ip; // network byte order
    u16 local_port, remote_port;
    u8 state;
    u8 nrtx;
    u8 persist_backoff;
    u8 listen; // a listening PCB: only the first fields and the backlog mean anything
    u16 snd_queuelen;
    u16 flags;
    s16_t rto, rtime;
    u16 unsent, unacked, ooseq; // segments (k_max_segments: that many or more)
    u32 snd_wnd, rcv_wnd, cwnd, snd_buf;
    u8 backlog, accepts_pending;
    bool refused_data;
};

bool readable(const void* p, std::size_t n) { return p && kernel::access_ok(reinterpret_cast<u64>(p), n, false); }

u16 count_segments(const struct tcp_seg* seg)
{
    u16 n = 0;
    while (seg && n < k_max_segments && readable(seg, sizeof(*seg))) {
        ++n;
        seg = seg->next;
    }
    return n;
}

const char* state_name(u8 s)
{
    static const char* const names[] = { "CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
        "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT" };
    return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

struct Collector {
    PcbRecord* records;
    std::size_t capacity;
    std::size_t count = 0;
    std::size_t skipped = 0; // beyond capacity
    bool broken = false;     // a list ran into unreadable memory or past any sane length
};

// Walks one of lwIP's PCB lists into the collector, at most `limit` entries (a list that runs
// longer, or into memory that cannot be read, is broken); `fill` copies one PCB's fields.
template <typename Pcb, typename Fill>
void walk(Collector& c, const Pcb* pcb, std::size_t limit, Fill fill)
{
    for (std::size_t walked = 0; pcb; ++walked) {
        if (walked > limit || !readable(pcb, sizeof(*pcb))) {
            c.broken = true;
            return;
        }
        if (c.count == c.capacity) {
            ++c.skipped;
        } else {
            PcbRecord& r = c.records[c.count++];
            r = {};
            r.local_ip = ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip));
            r.local_port = pcb->local_port;
            r.state = static_cast<u8>(pcb->state);
            fill(r, *pcb);
        }
        pcb = pcb->next;
    }
}

void collect(Collector& c, const struct tcp_pcb* pcb)
{
    walk(c, pcb, MEMP_NUM_TCP_PCB, [](PcbRecord& r, const struct tcp_pcb& p) {
        r.remote_ip = ip4_addr_get_u32(ip_2_ip4(&p.remote_ip));
        r.remote_port = p.remote_port;
        r.nrtx = p.nrtx;
        r.persist_backoff = p.persist_backoff;
        r.snd_queuelen = p.snd_queuelen;
        r.flags = p.flags;
        r.rto = p.rto;
        r.rtime = p.rtime;
        r.unsent = count_segments(p.unsent);
        r.unacked = count_segments(p.unacked);
        r.ooseq = count_segments(p.ooseq);
        r.snd_wnd = p.snd_wnd;
        r.rcv_wnd = p.rcv_wnd;
        r.cwnd = p.cwnd;
        r.snd_buf = p.snd_buf;
        r.refused_data = p.refused_data != nullptr;
    });
}

void collect_listeners(Collector& c, const struct tcp_pcb_listen* pcb)
{
    walk(c, pcb, MEMP_NUM_TCP_PCB_LISTEN, [](PcbRecord& r, const struct tcp_pcb_listen& p) {
        r.listen = 1;
        r.backlog = p.backlog;
        r.accepts_pending = p.accepts_pending;
    });
}

void print_record(kernel::DumpOutput& out, const PcbRecord& r)
{
    char local[16], remote[16];
    ip4_addr_t a;
    ip4_addr_set_u32(&a, r.local_ip);
    ip4addr_ntoa_r(&a, local, sizeof(local));
    if (r.listen) {
        out.printf("  tcp %s:%u LISTEN, backlog %u, %u accepts pending\n", local, r.local_port, r.backlog,
            r.accepts_pending);
        return;
    }
    ip4_addr_set_u32(&a, r.remote_ip);
    ip4addr_ntoa_r(&a, remote, sizeof(remote));
    out.printf("  tcp %s:%u %s:%u %s, snd_queuelen %u, snd_buf %u, unsent %u, unacked %u, ooseq %u%s, rto %d ms, "
               "nrtx %u, rtime %d, snd_wnd %u, rcv_wnd %u, cwnd %u, persist_backoff %u, flags 0x%x\n",
        local, r.local_port, remote, r.remote_port, state_name(r.state), r.snd_queuelen, r.snd_buf, r.unsent,
        r.unacked, r.ooseq, r.refused_data ? ", refused data waiting" : "", r.rto * TCP_SLOW_INTERVAL, r.nrtx, r.rtime,
        r.snd_wnd, r.rcv_wnd, r.cwnd, r.persist_backoff, r.flags);
}

void dump_stack(kernel::DumpOutput& out)
{
    MailboxState mb {};
    if (tcpip_mailbox_state(&mb))
        out.printf("tcpip mailbox: %u of %u messages queued, %zu reader(s) waiting, %zu writer(s) waiting (full)\n",
            mb.count, mb.size, mb.readers_waiting, mb.writers_waiting);
    else
        out.printf("tcpip mailbox: the stack has not started\n");

    // The core lock, tried for a bounded time (a dump must not hang on a stuck holder).
    kernel::Thread* owner = nullptr;
    bool locked = try_lock_mutex(&lock_tcpip_core, &owner);
    for (u64 give_up = kernel::monotonic_ns() + k_lock_patience_ns; !locked && kernel::monotonic_ns() < give_up;) {
        {
            kernel::InterruptGuard irq_off; // the scheduler's: block() runs with interrupts off
            (void)kernel::block(nullptr, kernel::monotonic_ns() + 2'000'000, false);
        }
        locked = try_lock_mutex(&lock_tcpip_core, &owner);
    }
    if (!locked) {
        int tid = 0;
        char name[16] = "?";
        {
            // The holder cannot exit (and its Thread go back to the pool) while interrupts
            // are off on this CPU. FIXME: a second CPU needs the scheduler's lock here.
            kernel::InterruptGuard irq_off;
            tid = owner ? owner->tid : 0;
            if (owner)
                std::memcpy(name, owner->name, sizeof(name));
            name[sizeof(name) - 1] = '\0';
        }
        out.printf("core lock held by thread %d (%s) for more than %llu ms: lists below read without it, "
                   "with interrupts off; they may be half-changed\n",
            tid, name, static_cast<unsigned long long>(k_lock_patience_ns / 1000000));
    }

    // Records: a heap array when there is room, else a few on the stack.
    PcbRecord few[8];
    // lwIP's lists belong to the core lock, held here unless its holder is stuck; interrupts
    // off keeps the device's service thread (the other writer) out meanwhile. FIXME: without
    // the core lock, a second CPU could change the lists while they are read.
    auto* records = static_cast<PcbRecord*>(kernel::kmalloc(k_max_pcbs * sizeof(PcbRecord)));
    Collector c { records ? records : few, records ? k_max_pcbs : sizeof(few) / sizeof(few[0]) };
    // Interfaces first, then the PCB lists.
    struct Itf {
        char name[4];
        u32 ip, mask, gw;
        u8 flags;
        u16 mtu;
    } itfs[8];
    std::size_t itf_count = 0, listeners = 0, active_end = 0;
    {
        kernel::InterruptGuard irq_off;
        for (struct netif* n = netif_list; n && itf_count < 8 && readable(n, sizeof(*n)); n = n->next) {
            Itf& i = itfs[itf_count++];
            i.name[0] = n->name[0];
            i.name[1] = n->name[1];
            i.name[2] = static_cast<char>('0' + n->num % 10);
            i.name[3] = '\0';
            i.ip = ip4_addr_get_u32(netif_ip4_addr(n));
            i.mask = ip4_addr_get_u32(netif_ip4_netmask(n));
            i.gw = ip4_addr_get_u32(netif_ip4_gw(n));
            i.flags = n->flags;
            i.mtu = n->mtu;
        }
        collect_listeners(c, tcp_listen_pcbs.listen_pcbs);
        listeners = c.count + c.skipped;
        collect(c, tcp_active_pcbs);
        active_end = c.count + c.skipped;
        collect(c, tcp_tw_pcbs);
    }
    std::size_t skipped = c.skipped;
    bool broken = c.broken;
    if (locked)
        sys_mutex_unlock(&lock_tcpip_core);

    for (std::size_t i = 0; i < itf_count; ++i) {
        char ip[16], mask[16], gw[16];
        ip4_addr_t a;
        ip4_addr_set_u32(&a, itfs[i].ip);
        ip4addr_ntoa_r(&a, ip, sizeof(ip));
        ip4_addr_set_u32(&a, itfs[i].mask);
        ip4addr_ntoa_r(&a, mask, sizeof(mask));
        ip4_addr_set_u32(&a, itfs[i].gw);
        ip4addr_ntoa_r(&a, gw, sizeof(gw));
        out.printf("netif %s: %s/%s gw %s, mtu %u, %s, link %s\n", itfs[i].name, ip, mask, gw, itfs[i].mtu,
            (itfs[i].flags & NETIF_FLAG_UP) ? "up" : "down", (itfs[i].flags & NETIF_FLAG_LINK_UP) ? "up" : "down");
    }
    std::size_t total = c.count + skipped;
    out.printf("tcp pcbs: %zu listening, %zu active, %zu in TIME_WAIT\n", listeners, active_end - listeners,
        total - active_end);
    for (std::size_t i = 0; i < c.count; ++i)
        print_record(out, c.records[i]);
    if (skipped)
        out.printf("  ... %zu more PCBs not shown%s\n", skipped, records ? "" : " (no memory for the list)");
    if (broken)
        out.printf("  (a list ran into unreadable memory or did not end: it was being changed)\n");
    kernel::kfree(records);
}

} // namespace

void register_net_dump()
{
    static bool done = false;
    if (done)
        return;
    done = true;
    (void)kernel::register_dump_section("network stack (lwIP)", [](kernel::DumpOutput& out) {
        dump_interface_counters(out);
        dump_stack(out);
    });
}

} // namespace atl::net
