// SPDX-License-Identifier: MIT
// The network stack's start-up and the adapter between Atoll's NetDevice and lwIP's netif:
// one netif per card, frames copied into pool pbufs on receive and gathered from the pbuf
// chain on transmit. Address configuration: static from the command line, or DHCP.

#include <net/net.h>

#include <drivers/net_device.h>
#include <kernel/console.h>
#include <kernel/dump.h>
#include <kernel/heap.h>
#include <kernel/interrupts.h>
#include <kernel/lock.h>
#include <kernel/sched.h>
#include <kernel/time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"
}

namespace atl::net {

namespace {

struct Interface {
    struct netif nif;
    drivers::NetDevice* dev;
};

Interface* s_interfaces[8];
std::size_t s_interface_count = 0;
u64 s_tx_dropped = 0;
u64 s_rx_no_pbuf = 0;
u64 s_rx_input_failed = 0;

err_t link_output(struct netif* nif, struct pbuf* p)
{
    auto* itf = static_cast<Interface*>(nif->state);
    drivers::FramePart parts[16];
    std::size_t n = 0;
    struct pbuf* q = p;
    for (; q && n < 16; q = q->next)
        parts[n++] = { q->payload, q->len };
    static u8 bounce[2048]; // only the tcpip thread transmits
    if (q) { // a chain longer than 16 pieces: flatten it
        if (p->tot_len > sizeof(bounce))
            return ERR_BUF;
        pbuf_copy_partial(p, bounce, p->tot_len, 0);
        parts[0] = { bounce, p->tot_len };
        n = 1;
    }
    // A full transmit ring empties as the device works: wait for it briefly rather than drop.
    for (int attempt = 0; attempt < 200; ++attempt) {
        if (itf->dev->transmit(parts, n))
            return ERR_OK;
        kernel::InterruptGuard irq_off; // the scheduler's: block() runs with interrupts off
        (void)kernel::block(nullptr, kernel::monotonic_ns() + 50000, false);
    }
    ++s_tx_dropped;
    return ERR_MEM;
}

void receive(void* context, const u8* frame, std::size_t len)
{
    auto* itf = static_cast<Interface*>(context);
    if (len > 0xffff)
        return;
    struct pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(len), PBUF_POOL);
    if (!p) {
        ++s_rx_no_pbuf; // out of pbufs: the peer retransmits
        return;
    }
    if (pbuf_take(p, frame, static_cast<u16_t>(len)) != ERR_OK || itf->nif.input(p, &itf->nif) != ERR_OK) {
        ++s_rx_input_failed;
        pbuf_free(p);
    }
}

err_t interface_init(struct netif* nif)
{
    auto* itf = static_cast<Interface*>(nif->state);
    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->hwaddr_len = 6;
    std::memcpy(nif->hwaddr, itf->dev->mac(), 6);
    nif->mtu = itf->dev->mtu();
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    nif->output = etharp_output;
    nif->linkoutput = link_output;
    netif_set_hostname(nif, "atoll");
    return ERR_OK;
}

bool parse_ip(const char* text, ip4_addr_t* out)
{
    return ip4addr_aton(text, out) != 0;
}

// "A.B.C.D/PREFIX" (prefix 0..32, default 24).
bool parse_cidr(const char* text, ip4_addr_t* addr, ip4_addr_t* mask)
{
    char buf[32];
    std::size_t n = std::strlen(text);
    if (n >= sizeof(buf))
        return false;
    std::memcpy(buf, text, n + 1);
    long prefix = 24;
    if (char* slash = std::strchr(buf, '/')) {
        *slash = '\0';
        char* end = nullptr;
        prefix = std::strtol(slash + 1, &end, 10);
        if (*end != '\0' || prefix < 0 || prefix > 32)
            return false;
    }
    if (!parse_ip(buf, addr))
        return false;
    u32 m = prefix == 0 ? 0 : ~u32(0) << (32 - prefix);
    ip4_addr_set_u32(mask, lwip_htonl(m));
    return true;
}

} // namespace

bool ensure_started()
{
    // tcpip_init starts the stack's thread and calls back from it once it runs; the caller
    // waits for that (briefly: the thread runs as soon as this one blocks).
    static volatile bool started = false, ready = false;
    if (!started) {
        started = true;
        tcpip_init([](void*) { ready = true; }, nullptr);
        register_net_dump();
    }
    for (int i = 0; i < 10000 && !ready; ++i) {
        kernel::InterruptGuard irq_off; // the scheduler's: block() runs with interrupts off
        (void)kernel::block(nullptr, kernel::monotonic_ns() + 100000, false);
    }
    return ready;
}

const char* net_init(const Config& config, NetInfo* info)
{
    *info = {};
    if (drivers::net_device_count() == 0) {
        // The loopback interface still works: start the stack for 127.0.0.1.
        if (!config.start_without_devices)
            return nullptr;
    }
    if (!ensure_started())
        return "the TCP/IP stack did not start";
    info->stack_running = true;

    ip4_addr_t addr {}, mask {}, gw {};
    bool static_config = config.ip && std::strcmp(config.ip, "dhcp") != 0;
    if (static_config && !parse_cidr(config.ip, &addr, &mask))
        return "atoll.ip: want A.B.C.D/PREFIX or dhcp";
    if (config.gateway && !parse_ip(config.gateway, &gw))
        return "atoll.gw: want A.B.C.D";

    for (std::size_t i = 0; i < drivers::net_device_count() && s_interface_count < 8; ++i) {
        auto* itf = kernel::make<Interface>();
        if (!itf)
            return "out of memory for a network interface";
        itf->dev = drivers::net_device(i);
        LOCK_TCPIP_CORE();
        bool first = s_interface_count == 0;
        struct netif* added = netif_add(&itf->nif, first && static_config ? &addr : IP4_ADDR_ANY4,
            first && static_config ? &mask : IP4_ADDR_ANY4, first && static_config ? &gw : IP4_ADDR_ANY4, itf,
            interface_init, tcpip_input);
        if (added) {
            if (first)
                netif_set_default(&itf->nif);
            netif_set_up(&itf->nif);
            if (itf->dev->link_up())
                netif_set_link_up(&itf->nif);
            if (!(first && static_config))
                dhcp_start(&itf->nif);
        }
        UNLOCK_TCPIP_CORE();
        if (!added)
            return "lwIP refused a network interface";
        itf->dev->set_receiver(receive, itf);
        s_interfaces[s_interface_count++] = itf;
    }
    if (s_interface_count == 0)
        return nullptr;

    // Applications expect the network at main(): wait for DHCP (bounded).
    Interface* first = s_interfaces[0];
    u64 deadline = kernel::monotonic_ns() + u64(config.dhcp_timeout_ms) * 1000000u;
    while (!static_config && !dhcp_supplied_address(&first->nif) && kernel::monotonic_ns() < deadline) {
        kernel::InterruptGuard irq_off; // the scheduler's: block() runs with interrupts off
        (void)kernel::block(nullptr, kernel::monotonic_ns() + 2000000, false);
    }
    LOCK_TCPIP_CORE();
    info->address = ip4_addr_get_u32(netif_ip4_addr(&first->nif));
    info->netmask = ip4_addr_get_u32(netif_ip4_netmask(&first->nif));
    info->gateway = ip4_addr_get_u32(netif_ip4_gw(&first->nif));
    UNLOCK_TCPIP_CORE();
    info->configured = info->address != 0;
    info->dhcp = !static_config;
    if (config.dns)
        std::snprintf(info->dns, sizeof(info->dns), "%s", config.dns);
    else if (info->configured && !static_config)
        std::snprintf(info->dns, sizeof(info->dns), "%s", ipaddr_ntoa(dns_getserver(0)));
    auto ip = [](u32 a, char* out) { ip4_addr_t x; ip4_addr_set_u32(&x, a); ip4addr_ntoa_r(&x, out, 16); };
    char a[16], g[16], m[16];
    ip(info->address, a);
    ip(info->gateway, g);
    ip(info->netmask, m);
    if (info->configured)
        kernel::log("%s: %s netmask %s gateway %s (%s)%s%s", first->dev->name(), a, m, g, static_config ? "static" : "dhcp",
            info->dns[0] ? ", dns " : "", info->dns);
    else
        kernel::log("%s: no address: DHCP got no answer in %u ms", first->dev->name(), config.dhcp_timeout_ms);
    return nullptr;
}


namespace {

// One interface's counters, the driver's and the stack's, as one line without a newline.
void format_counters(const Interface& itf, char* out, std::size_t cap)
{
    const drivers::NetStats& st = itf.dev->stats();
    std::snprintf(out, cap,
        "%s: rx %llu packets %llu bytes %llu dropped, tx %llu packets %llu bytes %llu ring-full, "
        "%llu interrupts, %llu bad device entries; stack: %llu no pbuf, %llu input failed, %llu tx dropped",
        itf.dev->name(), (unsigned long long)st.rx_packets, (unsigned long long)st.rx_bytes,
        (unsigned long long)st.rx_dropped, (unsigned long long)st.tx_packets, (unsigned long long)st.tx_bytes,
        (unsigned long long)st.tx_full, (unsigned long long)st.interrupts, (unsigned long long)st.bad_device_entries,
        (unsigned long long)s_rx_no_pbuf, (unsigned long long)s_rx_input_failed, (unsigned long long)s_tx_dropped);
}

} // namespace

void log_net_stats()
{
    char line[320];
    for (std::size_t i = 0; i < s_interface_count; ++i) {
        format_counters(*s_interfaces[i], line, sizeof(line));
        kernel::log("%s", line);
    }
}

void dump_interface_counters(kernel::DumpOutput& out)
{
    char line[320];
    for (std::size_t i = 0; i < s_interface_count; ++i) {
        format_counters(*s_interfaces[i], line, sizeof(line));
        out.printf("%s\n", line);
    }
}

} // namespace atl::net

