/* SPDX-License-Identifier: MIT */
/* lwIP options for Atoll. Every option set here says why; the rest are lwIP 2.1.3's defaults
 * (src/include/lwip/opt.h). */
#ifndef ATOLL_LWIPOPTS_H
#define ATOLL_LWIPOPTS_H

/* ---- the OS integration ---- */
/* Threads, semaphores and mailboxes come from the Atoll kernel (sys_arch.cpp). */
#define NO_SYS 0
/* Sockets call into the stack directly under the core lock instead of posting a message to
 * the tcpip thread and waiting: one less thread switch per call. */
#define LWIP_TCPIP_CORE_LOCKING 1
/* Received frames still go through the tcpip thread's mailbox: the driver's service thread
 * never holds the core lock. */
#define LWIP_TCPIP_CORE_LOCKING_INPUT 0
/* SYS_ARCH_PROTECT is a recursive spinlock that masks interrupts (sys_arch.cpp; on one CPU,
 * "interrupts off" and nothing more). */
#define SYS_LIGHTWEIGHT_PROT 1
#define TCPIP_THREAD_NAME "tcpip"
#define TCPIP_THREAD_STACKSIZE (64 * 1024)
#define TCPIP_MBOX_SIZE 512
#define DEFAULT_THREAD_STACKSIZE (64 * 1024)
#define DEFAULT_RAW_RECVMBOX_SIZE 128
#define DEFAULT_UDP_RECVMBOX_SIZE 512 /* a burst of datagrams waits for a slow reader */
#define DEFAULT_TCP_RECVMBOX_SIZE 512
#define DEFAULT_ACCEPTMBOX_SIZE 256   /* the listen backlog's upper bound */

/* ---- memory ---- */
/* The stack's heap and its pools are the kernel heap (kmalloc): no fixed-size arenas to
 * tune, and memory the stack does not use stays with the application. */
#define MEM_LIBC_MALLOC 1
#define mem_clib_malloc atoll_lwip_malloc
#define mem_clib_calloc atoll_lwip_calloc
#define mem_clib_free atoll_lwip_free
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
/* Received frames are copied into pool pbufs sized for a full Ethernet frame. */
#define PBUF_POOL_SIZE 1024
#define PBUF_POOL_BUFSIZE 1600

/* ---- protocols ---- */
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_IPV4 1
#define LWIP_IPV6 0 /* FIXME: IPv6 sockets */
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
/* No ARP probe of the offered address: it holds boot up for a second, and the DHCP server
 * (QEMU's, or the host's) is the one that knows the address is free. */
#define DHCP_DOES_ARP_CHECK 0
/* Names are resolved by musl's resolver over UDP sockets; lwIP's DNS module is only there so
 * that DHCP records the DNS server it offers (LWIP_DHCP_PROVIDE_DNS_SERVERS). */
#define LWIP_DNS 1
#define LWIP_DHCP_PROVIDE_DNS_SERVERS 1
#define LWIP_IGMP 0
#define LWIP_AUTOIP 0
#define LWIP_BROADCAST_PING 0
#define IP_REASSEMBLY 1
#define IP_FRAG 1

/* ---- TCP tuning ---- */
/* The fast TCP timer sends delayed ACKs (and retries data a full receive mailbox refused); the
 * slow timer (twice this) is the unit of the retransmission timeout. lwIP's 250 ms would delay
 * an ACK up to 250 ms, past Linux's 200 ms minimum RTO, so a request that is not answered at
 * once is retransmitted by the peer; and with 500 ms ticks an RTO on a LAN never drops below
 * 1.5 s. 40 ms: ACKs within 40 ms (Linux's delayed-ACK bound), RTO down to 3 ticks (240 ms)
 * plus up to a tick, near Linux's 200 ms + RTT. The timer only runs while connections exist. */
#define TCP_TMR_INTERVAL 40
/* Ethernet MTU 1500 - 40 bytes of headers. */
#define TCP_MSS 1460
/* A 64 KiB window (with window scaling for more) keeps a LAN or loopback-speed link busy;
 * the lwIP default of 4 MSS caps throughput at a few hundred KB/s per connection. */
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 2
#define TCP_WND (64 * TCP_MSS)
/* The send side may keep more in flight than the receive window: a sender's unacknowledged
 * data is what fills a path with delay (bytes in flight = rate x RTT). 93 KB capped a 40 ms
 * round trip at 2.3 MB/s; with 280 KB a 16 MiB download over tests/net/loss.sh's relay (20 ms
 * each way, no loss) went from 1.8 to 4.4 MB/s (the host's Linux through the same relay: 6.9).
 * The memory is used only while the application writes faster than the path drains, and a
 * full buffer is EAGAIN to the application. */
#define TCP_SND_BUF (192 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
/* Writable again (POLLOUT) once this much is free; lwIP wants it 4 MSS below 64 KiB. */
#define TCP_SNDLOWAT (32 * TCP_MSS)
#define TCP_OVERSIZE TCP_MSS
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 128
#define LWIP_TCP_KEEPALIVE 1
#define TCP_QUEUE_OOSEQ 1
#define LWIP_TCP_SACK_OUT 0
/* TIME_WAIT (2 * MSL) is short: lwIP answers a new SYN for a connection in TIME_WAIT with an
 * ACK and ignores the peer's RST (RFC 1337), where Linux would accept the SYN; a client that
 * reuses its port a second later then waits for its SYN retransmission (1 s, then 2 s). With
 * 500 ms the slot is free before a client cycles through its ports (soak: 1-3% of new
 * connections waited 1-4 s with 2 s). */
#define TCP_MSL 250UL
#define MEMP_NUM_TCP_PCB 4096
#define MEMP_NUM_TCP_PCB_LISTEN 64
#define MEMP_NUM_UDP_PCB 256
#define MEMP_NUM_NETCONN 4096

/* ---- APIs ---- */
#define LWIP_NETCONN 1
#define LWIP_SOCKET 0 /* the libOS's own socket layer sits on netconn (libos/net/inet_socket.cpp) */
#define LWIP_NETCONN_SEM_PER_THREAD 0
#define LWIP_NETCONN_FULLDUPLEX 0
#define LWIP_SO_RCVBUF 1
#define LWIP_SO_SNDTIMEO 0
#define LWIP_SO_RCVTIMEO 0
#define SO_REUSE 1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 1
#define LWIP_NETIF_API 0
#define LWIP_NETIF_LOOPBACK 1 /* packets to the interface's own address come back */
#define LWIP_HAVE_LOOPIF 1    /* 127.0.0.1 */
#define LWIP_LOOPBACK_MAX_PBUFS 0
#define LWIP_NETIF_TX_SINGLE_PBUF 0
#define LWIP_CHECKSUM_ON_COPY 0
#define LWIP_TIMEVAL_PRIVATE 0 /* struct timeval comes from the libc */

/* ---- diagnostics ---- */
#define LWIP_STATS 0
#define LWIP_DEBUG 0
#define LWIP_NOASSERT 0

#endif
