// SPDX-License-Identifier: MIT
// Fuzz target: the guest's network stack on received frames. lwIP 2.1.3 (the sysroot's sources,
// the project's lwipopts.h unchanged) runs in this process with the guest's adapter
// (net/lwip_port/netif.cpp, compiled as it is) on a fake network card: frames from the input go
// in through NetDevice::deliver(), the adapter's receive() and the tcpip thread's mailbox, as a
// virtio-net frame does in the guest. The sys_arch and the kernel calls netif.cpp makes are the
// host's (lwip/host_port.cpp: the tcpip thread as a coroutine, virtual time).
//
// So that input reaches real code paths there are open PCBs: a TCP listener on port 80 whose
// connections echo what they receive, a UDP "echo" socket on port 7, a DHCP client, and, when
// the input asks, an outgoing TCP connection and UDP datagrams to 10.0.2.2. Each input starts
// from the same state: connections aborted, ARP cache and IP reassembly emptied, the address
// from a fresh DHCP client, a DHCP exchange (canned OFFER and ACK), or static.
//
// Input (all little-endian): one byte of set-up (bits 0-1: 0 fresh DHCP, 1 DHCP-bound, 2 or 3
// static 10.0.2.15/24; bit 2: the card's transmit ring is full), then records:
//   tag % 8 in 0..3: a frame: u16 length, then that many bytes; tag >> 3 are fix-ups the harness
//       applies first, so that the fuzzer does not have to find them: bit 0 the IPv4 header
//       checksum, bit 1 the TCP/UDP/ICMP checksum, bit 2 TCP sequence and acknowledgement numbers
//       taken as offsets from the connection's own (and an outgoing connection's port), bit 3
//       the DHCP transaction id and client hardware address;
//   4: time passes: u16 milliseconds (times 64 when tag >> 3 is odd), timers fire;
//   5: the application acts: one byte (connect out, write, close, shut down, send a datagram);
//   6: the transmit ring fills or drains;
//   7: nothing (the tcpip thread runs until idle, as after every record).
#include "lwip/host_port.h"

#include <drivers/net_device.h>
#include <net/net.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/ip4_frag.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"
}

using atl::u16;
using atl::u32;
using atl::u8;

namespace {

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "lwip fuzz: invariant broken: %s\n", what);
    std::abort();
}

constexpr u8 k_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
constexpr std::size_t k_max_frame = 9216; // larger than any MTU: the adapter takes what it gets

// ---------------------------------------------------------------- the card

class FakeCard final : public atl::drivers::NetDevice {
public:
    bool ring_full = false;
    u32 transmitted = 0;

    const u8* mac() const override { return k_mac; }
    u16 mtu() const override { return 1500; }
    bool link_up() override { return true; }
    const atl::drivers::NetStats& stats() const override { return m_stats; }
    const char* name() const override { return "fuzz0"; }
    void dump(atl::kernel::DumpOutput&) override { }

    bool transmit(const atl::drivers::FramePart* parts, std::size_t count) override
    {
        if (ring_full)
            return false;
        std::size_t len = 0;
        for (std::size_t i = 0; i < count; ++i) {
            // Every byte of every part must be readable (ASan checks the copy).
            std::memcpy(m_last, parts[i].data, parts[i].len < sizeof(m_last) ? parts[i].len : 0);
            len += parts[i].len;
        }
        // The stack fragments or segments to the MTU: a longer frame would not leave the card.
        if (len < 14 || len > 14 + 1500)
            fail("the stack transmitted a frame shorter than a header or longer than the MTU");
        ++transmitted;
        if (verbose)
            trace(parts, count, len);
        return true;
    }

    void receive(const u8* frame, std::size_t len) { deliver(frame, len); }

    bool verbose = std::getenv("ATOLL_FUZZ_VERBOSE") != nullptr;

private:
    // ATOLL_FUZZ_VERBOSE=1: one line per transmitted frame (for writing seeds).
    static void trace(const atl::drivers::FramePart* parts, std::size_t count, std::size_t len)
    {
        u8 f[64] {};
        std::size_t have = 0;
        for (std::size_t i = 0; i < count && have < sizeof(f); ++i) {
            std::size_t n = parts[i].len < sizeof(f) - have ? parts[i].len : sizeof(f) - have;
            std::memcpy(f + have, parts[i].data, n);
            have += n;
        }
        std::fprintf(stderr, "tx %zu bytes type %02x%02x", len, f[12], f[13]);
        if (f[12] == 8 && f[13] == 0 && have >= 54)
            std::fprintf(stderr, " proto %u %u.%u.%u.%u -> %u.%u.%u.%u ports %u -> %u tcp flags %02x", f[23], f[26], f[27],
                f[28], f[29], f[30], f[31], f[32], f[33], f[34] << 8 | f[35], f[36] << 8 | f[37], f[47]);
        std::fprintf(stderr, "\n");
    }

private:
    atl::drivers::NetStats m_stats;
    u8 m_last[2048];
};

FakeCard* s_card = nullptr;
struct netif* s_netif = nullptr;

// ---------------------------------------------------------------- the application

constexpr int k_max_conns = 8;
struct tcp_pcb* s_conns[k_max_conns]; // accepted connections, echoing
struct tcp_pcb* s_out = nullptr;      // the outgoing connection
struct udp_pcb* s_udp = nullptr;

void forget(struct tcp_pcb* pcb)
{
    for (auto& c : s_conns)
        if (c == pcb)
            c = nullptr;
    if (s_out == pcb)
        s_out = nullptr;
}

void on_err(void* arg, err_t)
{
    // The PCB is already freed: only drop the reference.
    auto* pcb = static_cast<struct tcp_pcb*>(arg);
    forget(pcb);
}

void close_conn(struct tcp_pcb* pcb)
{
    forget(pcb);
    tcp_arg(pcb, nullptr);
    tcp_recv(pcb, nullptr);
    tcp_err(pcb, nullptr);
    tcp_sent(pcb, nullptr);
    if (tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

err_t on_recv(void*, struct tcp_pcb* pcb, struct pbuf* p, err_t err)
{
    if (!p) { // the peer's FIN
        close_conn(pcb);
        return ERR_OK;
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    // Echo what fits in the send buffer, then open the window by what was taken.
    static u8 buf[65536];
    u16 n = p->tot_len;
    if (n > tcp_sndbuf(pcb))
        n = tcp_sndbuf(pcb);
    if (n) {
        if (pbuf_copy_partial(p, buf, n, 0) != n)
            fail("pbuf_copy_partial copied less than tot_len");
        (void)tcp_write(pcb, buf, n, TCP_WRITE_FLAG_COPY);
        (void)tcp_output(pcb);
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

void watch(struct tcp_pcb* pcb)
{
    tcp_arg(pcb, pcb);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
}

err_t on_accept(void*, struct tcp_pcb* pcb, err_t err)
{
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    for (auto& c : s_conns) {
        if (!c) {
            c = pcb;
            watch(pcb);
            return ERR_OK;
        }
    }
    tcp_abort(pcb);
    return ERR_ABRT;
}

err_t on_connected(void*, struct tcp_pcb* pcb, err_t)
{
    static const char hello[] = "GET / HTTP/1.1\r\nHost: 10.0.2.2\r\n\r\n";
    (void)tcp_write(pcb, hello, sizeof(hello) - 1, 0);
    (void)tcp_output(pcb);
    return ERR_OK;
}

void on_udp(void*, struct udp_pcb* pcb, struct pbuf* p, const ip_addr_t* addr, u16_t port)
{
    (void)udp_sendto(pcb, p, addr, port);
    pbuf_free(p);
}

// One application action (record 5), under the core lock.
void act(u8 what)
{
    ip_addr_t peer;
    IP_ADDR4(&peer, 10, 0, 2, 2);
    struct tcp_pcb* conn = s_conns[(what >> 3) % k_max_conns];
    switch (what & 7) {
    case 0: // connect out
        if (!s_out) {
            s_out = tcp_new();
            if (!s_out)
                break;
            watch(s_out);
            if (tcp_connect(s_out, &peer, static_cast<u16_t>(8080 + ((what >> 3) & 3)), on_connected) != ERR_OK) {
                struct tcp_pcb* p = s_out;
                forget(p);
                tcp_abort(p);
            }
        }
        break;
    case 1: // write on an accepted connection
    case 2: { // write on the outgoing one
        struct tcp_pcb* pcb = (what & 7) == 1 ? conn : s_out;
        static const char data[32 * 97] = { 'x' }; // the most one write asks for (no copy: lwIP keeps a reference)
        if (pcb) {
            u16 n = static_cast<u16>(((what >> 3) + 1) * 97);
            if (n > tcp_sndbuf(pcb))
                n = tcp_sndbuf(pcb);
            if (n)
                (void)tcp_write(pcb, data, n, 0);
            (void)tcp_output(pcb);
        }
        break;
    }
    case 3: // close
        if (conn)
            close_conn(conn);
        else if (s_out)
            close_conn(s_out);
        break;
    case 4: // shut down the sending side
        if (conn)
            (void)tcp_shutdown(conn, 0, 1);
        break;
    case 5: { // a datagram to the peer (needs ARP first)
        // Up to two fragments' worth: larger ones only cost checksum time.
        struct pbuf* p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(16 + ((what >> 3) & 7) * 400), PBUF_RAM);
        if (p) {
            std::memset(p->payload, 'u', p->len);
            (void)udp_sendto(s_udp, p, &peer, 53);
            pbuf_free(p);
        }
        break;
    }
    case 6: // abort
        if (conn) {
            forget(conn);
            tcp_abort(conn);
        }
        break;
    case 7: // the application reads slowly: nothing this time
        break;
    }
}

// ---------------------------------------------------------------- frames and fix-ups

u16 rd16(const u8* p) { return static_cast<u16>(p[0] << 8 | p[1]); }
u32 rd32(const u8* p) { return u32(p[0]) << 24 | u32(p[1]) << 16 | u32(p[2]) << 8 | p[3]; }
void wr16(u8* p, u16 v)
{
    p[0] = static_cast<u8>(v >> 8);
    p[1] = static_cast<u8>(v);
}
void wr32(u8* p, u32 v)
{
    wr16(p, static_cast<u16>(v >> 16));
    wr16(p + 2, static_cast<u16>(v));
}

// RFC 1071 one's-complement sum.
u32 sum16(const u8* p, std::size_t n, u32 sum)
{
    for (std::size_t i = 0; i + 1 < n; i += 2)
        sum += rd16(p + i);
    if (n & 1)
        sum += u32(p[n - 1]) << 8;
    return sum;
}
u16 fold(u32 sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<u16>(~sum);
}

enum Fix : u8 { k_fix_ip = 1, k_fix_l4 = 2, k_fix_tcp_numbers = 4, k_fix_dhcp = 8 };

struct tcp_pcb* find_pcb(u16 local_port, u16 remote_port, bool any_local)
{
    for (struct tcp_pcb* pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
        if (pcb->remote_port == remote_port && (pcb->local_port == local_port || any_local))
            return pcb;
    return nullptr;
}

// Applies the fix-ups `fix` asks for to an Ethernet frame, within its `len` bytes.
void fix_up(u8* f, std::size_t len, u8 fix)
{
    if (len < 14 + 20 || rd16(f + 12) != 0x0800)
        return;
    u8* ip = f + 14;
    std::size_t ihl = std::size_t(ip[0] & 15) * 4;
    std::size_t total = rd16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || 14 + total > len)
        return;
    bool fragment = (rd16(ip + 6) & 0x3fff) != 0;
    u8* l4 = ip + ihl;
    std::size_t l4_len = total - ihl;
    u8 proto = ip[9];

    if (!fragment && proto == 6 && l4_len >= 20 && (fix & k_fix_tcp_numbers)) {
        u16 sport = rd16(l4), dport = rd16(l4 + 2);
        struct tcp_pcb* pcb = find_pcb(dport, sport, false);
        if (!pcb && (pcb = find_pcb(dport, sport, true)))
            wr16(l4 + 2, pcb->local_port); // an outgoing connection's port is random
        if (pcb) {
            wr32(l4 + 4, pcb->rcv_nxt + rd32(l4 + 4));
            wr32(l4 + 8, pcb->snd_nxt + rd32(l4 + 8));
        }
    }
    if (!fragment && proto == 17 && l4_len >= 8 + 44 && (fix & k_fix_dhcp) && rd16(l4 + 2) == 68) {
        struct dhcp* d = netif_dhcp_data(s_netif);
        if (d)
            wr32(l4 + 8 + 4, d->xid);
        std::memcpy(l4 + 8 + 28, k_mac, 6);
    }
    if (fix & k_fix_ip) {
        wr16(ip + 10, 0);
        wr16(ip + 10, fold(sum16(ip, ihl, 0)));
    }
    if (!fragment && (fix & k_fix_l4)) {
        if (proto == 1 && l4_len >= 4) {
            wr16(l4 + 2, 0);
            wr16(l4 + 2, fold(sum16(l4, l4_len, 0)));
        } else if (proto == 6 || proto == 17) {
            std::size_t at = proto == 6 ? 16 : 6;
            if (l4_len >= at + 2) {
                wr16(l4 + at, 0);
                u32 s = sum16(ip + 12, 8, 0) + proto + static_cast<u32>(l4_len);
                u16 c = fold(sum16(l4, l4_len, s));
                wr16(l4 + at, proto == 17 && c == 0 ? 0xffff : c);
            }
        }
    }
}

void deliver(const u8* data, std::size_t len, u8 fix)
{
    // An exactly sized copy: the adapter must not read past the frame.
    u8* frame = static_cast<u8*>(std::malloc(len ? len : 1));
    std::memcpy(frame, data, len);
    if (fix) {
        LOCK_TCPIP_CORE(); // the fix-ups read PCBs and DHCP state
        fix_up(frame, len, fix);
        UNLOCK_TCPIP_CORE();
    }
    s_card->receive(frame, len);
    std::free(frame);
    host_run_tcpip_until_idle();
}

// A DHCP reply from 10.0.2.2 (QEMU's user network) for the set-up's canned exchange.
void dhcp_reply(u8 type)
{
    u8 f[14 + 20 + 8 + 240 + 40] {};
    std::memset(f, 0xff, 6); // broadcast
    const u8 server_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
    std::memcpy(f + 6, server_mac, 6);
    wr16(f + 12, 0x0800);
    u8* ip = f + 14;
    ip[0] = 0x45;
    wr16(ip + 2, sizeof(f) - 14);
    ip[8] = 64;
    ip[9] = 17;
    const u8 src[4] = { 10, 0, 2, 2 };
    std::memcpy(ip + 12, src, 4);
    std::memset(ip + 16, 0xff, 4);
    u8* udp = ip + 20;
    wr16(udp, 67);
    wr16(udp + 2, 68);
    wr16(udp + 4, sizeof(f) - 14 - 20);
    u8* b = udp + 8;
    b[0] = 2; // BOOTREPLY
    b[1] = 1;
    b[2] = 6;
    const u8 yiaddr[4] = { 10, 0, 2, 15 };
    std::memcpy(b + 16, yiaddr, 4);
    std::memcpy(b + 20, src, 4);
    wr32(b + 236, 0x63825363);
    u8* o = b + 240;
    const u8 options[] = { 53, 1, type, 54, 4, 10, 0, 2, 2, 51, 4, 0, 1, 0x51, 0x80, 1, 4, 255, 255, 255, 0, 3, 4,
        10, 0, 2, 2, 6, 4, 10, 0, 2, 3, 255 };
    std::memcpy(o, options, sizeof(options));
    deliver(f, sizeof(f), k_fix_ip | k_fix_l4 | k_fix_dhcp);
}

// ---------------------------------------------------------------- set-up and reset

void setup()
{
    static FakeCard card;
    s_card = &card;
    host_seed_random(1);
    atl::net::Config config;
    config.dhcp_timeout_ms = 1;
    atl::net::NetInfo info;
    if (const char* err = atl::net::net_init(config, &info)) {
        std::fprintf(stderr, "lwip fuzz: net_init: %s\n", err);
        std::abort();
    }
    LOCK_TCPIP_CORE();
    s_netif = netif_default;
    struct tcp_pcb* l = tcp_new();
    if (!s_netif || !l || tcp_bind(l, IP4_ADDR_ANY, 80) != ERR_OK)
        fail("cannot set up the listener");
    l = tcp_listen_with_backlog(l, 4);
    if (!l)
        fail("tcp_listen failed");
    tcp_accept(l, on_accept);
    s_udp = udp_new();
    if (!s_udp || udp_bind(s_udp, IP4_ADDR_ANY, 7) != ERR_OK)
        fail("cannot set up the UDP socket");
    udp_recv(s_udp, on_udp, nullptr);
    UNLOCK_TCPIP_CORE();
    host_run_tcpip_until_idle();
}

void reset(u8 mode, u32 seed)
{
    host_seed_random(seed);
    LOCK_TCPIP_CORE();
    for (auto& c : s_conns)
        c = nullptr;
    s_out = nullptr;
    while (tcp_active_pcbs)
        tcp_abort(tcp_active_pcbs);
    while (tcp_tw_pcbs)
        tcp_abort(tcp_tw_pcbs);
    while (tcp_bound_pcbs)
        tcp_abort(tcp_bound_pcbs);
    etharp_cleanup_netif(s_netif);
    for (int i = 0; i <= IP_REASS_MAXAGE + 1; ++i) // every reassembly buffer times out
        ip_reass_tmr();
    dhcp_release_and_stop(s_netif);
    if (mode >= 2) {
        ip4_addr_t addr, mask, gw;
        IP4_ADDR(&addr, 10, 0, 2, 15);
        IP4_ADDR(&mask, 255, 255, 255, 0);
        IP4_ADDR(&gw, 10, 0, 2, 2);
        netif_set_addr(s_netif, &addr, &mask, &gw);
    } else if (dhcp_start(s_netif) != ERR_OK) {
        fail("dhcp_start failed");
    }
    UNLOCK_TCPIP_CORE();
    host_run_tcpip_until_idle();
    if (mode == 1) {
        dhcp_reply(2); // OFFER
        dhcp_reply(5); // ACK
        if (!dhcp_supplied_address(s_netif))
            fail("the canned DHCP exchange gave no address");
    }
}

} // namespace

// What netif.cpp's net_init() finds: one card.
namespace atl::drivers {
std::size_t net_device_count() { return 1; }
NetDevice* net_device(std::size_t index) { return index == 0 ? s_card : nullptr; }
} // namespace atl::drivers

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (!s_card)
        setup();
    if (size < 1)
        return 0;
    u8 options = data[0];
    u32 seed = 0;
    for (std::size_t i = 0; i < size; ++i)
        seed = seed * 31 + data[i];
    s_card->ring_full = false;
    reset(options & 3, seed);
    s_card->ring_full = options & 4;

    std::size_t at = 1;
    for (int records = 0; at < size && records < 256; ++records) {
        u8 tag = data[at++];
        switch (tag & 7) {
        case 0: case 1: case 2: case 3: {
            std::size_t len = 0;
            if (at + 2 <= size) {
                len = (data[at] | std::size_t(data[at + 1]) << 8) % (k_max_frame + 1);
                at += 2;
            }
            if (len > size - at)
                len = size - at;
            deliver(data + at, len, static_cast<u8>(tag >> 3));
            at += len;
            break;
        }
        case 4: {
            u32 ms = 0;
            if (at + 2 <= size) {
                ms = data[at] | u32(data[at + 1]) << 8;
                at += 2;
            }
            host_advance_ms((tag >> 3) & 1 ? ms * 64 : ms);
            break;
        }
        case 5:
            if (at < size) {
                LOCK_TCPIP_CORE();
                act(data[at++]);
                UNLOCK_TCPIP_CORE();
                host_run_tcpip_until_idle();
            }
            break;
        case 6:
            s_card->ring_full = !s_card->ring_full;
            break;
        case 7:
            host_run_tcpip_until_idle();
            break;
        }
    }
    return 0;
}
