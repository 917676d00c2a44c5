// SPDX-License-Identifier: MIT
// A fault-injecting Ethernet relay for the network tests (the kernels here have no netem).
// It sits between a guest's tap and the clients' side, inside a network namespace the test
// made:
//
//   QEMU == tap GUEST_IF ==[AF_PACKET socket]== netrelay ==[/dev/net/tun]== tap HOST_TAP (address)
//
// Frames QEMU writes to GUEST_IF arrive on the packet socket; frames sent on it go to QEMU.
// HOST_TAP is opened (or created) through /dev/net/tun and carries the clients' address.
// Each direction drops, delays, jitters, duplicates, reorders and rate-limits frames as told,
// with a seeded generator (tests/net/fault_schedule.h): a failing run can be replayed with the
// seed it printed. Counters go to stderr on SIGUSR1 and at exit (SIGTERM, SIGINT, SIGHUP).
//
// Both sides carry a virtio-net header (PACKET_VNET_HDR, IFF_VNET_HDR), passed through as it
// is: a frame with a checksum left to offload, or a TSO segment, crosses intact whatever the
// guest's driver negotiates.
//
// usage: netrelay --guest-if IF --host-tap TAP [--seed N] [--stats-every S]
//                 [--both|--to-guest|--from-guest] [fault options...]
//   --both, --to-guest, --from-guest: which direction the fault options after it set
//   (default: both). Fault options:
//   --drop P  --duplicate P  --reorder P  (probabilities, 0..1)
//   --delay MS  --jitter MS  --reorder-gap K (1)  --reorder-timeout MS (10)  --rate MBIT
//   --queue-frames N (4096)  --queue-bytes N (16 MiB): memory bounds; a frame beyond them is
//   dropped and counted, as by a router's full queue
// Without --seed the seed comes from the clock; it is printed either way.
#include "fault_schedule.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

using atl::testnet::Bytes;
using atl::testnet::Counters;
using atl::testnet::Faults;
using atl::testnet::FaultSchedule;
using atl::testnet::Limits;

namespace {

// Big enough for a TSO segment and its virtio-net header.
constexpr size_t k_max_frame = 128 * 1024;
// struct virtio_net_hdr (virtio 1.2 §5.1.6 without num_buffers), the header both sides carry;
// <linux/virtio_net.h> itself does not compile as C++ (a member named `class`).
constexpr int k_vnet_hdr_size = 10;
constexpr uint8_t k_vnet_hdr_f_data_valid = 2;
// Frames taken from one side per wake-up, so the other side and the timers are not starved.
constexpr int k_batch = 64;

[[noreturn]] void die(const char* what)
{
    std::fprintf(stderr, "netrelay: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

[[noreturn]] void usage(const std::string& why)
{
    std::fprintf(stderr, "netrelay: %s\n"
                         "usage: netrelay --guest-if IF --host-tap TAP [--seed N] [--stats-every S]\n"
                         "       [--both|--to-guest|--from-guest] [--drop P] [--duplicate P] [--reorder P]\n"
                         "       [--delay MS] [--jitter MS] [--reorder-gap K] [--reorder-timeout MS] [--rate MBIT]\n"
                         "       [--queue-frames N] [--queue-bytes N]\n",
        why.c_str());
    std::exit(2);
}

uint64_t now_ns()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

double number(const std::string& option, const char* text, double lo, double hi)
{
    char* end = nullptr;
    errno = 0;
    double v = std::strtod(text, &end);
    if (errno || end == text || *end || v < lo || v > hi)
        usage(option + " wants a number from " + std::to_string(lo) + " to " + std::to_string(hi) + ", not '" + text + "'");
    return v;
}

struct Direction {
    const char* name;
    Faults faults;
    Limits limits;
    uint64_t send_failed = 0; // the kernel refused the frame (a full queue on the way out)
};

std::string describe(const Direction& d)
{
    const Faults& f = d.faults;
    char s[512];
    std::snprintf(s, sizeof s,
        "%s: drop %.4g, delay %.3g ms, jitter %.3g ms, duplicate %.4g, reorder %.4g (gap %u, timeout %.3g ms), "
        "rate %s, queue %zu frames / %zu bytes",
        d.name, f.drop, static_cast<double>(f.delay_ns) / 1e6, static_cast<double>(f.jitter_ns) / 1e6, f.duplicate,
        f.reorder, f.reorder_gap, static_cast<double>(f.reorder_timeout_ns) / 1e6,
        f.rate_bps ? (std::to_string(static_cast<double>(f.rate_bps) / 1e6) + " Mbit/s").c_str() : "unlimited",
        d.limits.max_frames, d.limits.max_bytes);
    return s;
}

void print_counters(const Direction& d, const FaultSchedule& s)
{
    const Counters& c = s.counters();
    double pct = c.frames_in ? 100.0 * static_cast<double>(c.dropped) / static_cast<double>(c.frames_in) : 0.0;
    std::fprintf(stderr,
        "netrelay: %s: in %llu frames %llu bytes, dropped %llu (%.2f%%), queue full %llu, duplicated %llu, "
        "held %llu (timed out %llu), out %llu frames %llu bytes, send failed %llu, queued %zu, peak %zu frames %zu bytes\n",
        d.name, static_cast<unsigned long long>(c.frames_in), static_cast<unsigned long long>(c.bytes_in),
        static_cast<unsigned long long>(c.dropped), pct, static_cast<unsigned long long>(c.dropped_queue_full),
        static_cast<unsigned long long>(c.duplicated), static_cast<unsigned long long>(c.held),
        static_cast<unsigned long long>(c.held_timed_out), static_cast<unsigned long long>(c.frames_out),
        static_cast<unsigned long long>(c.bytes_out), static_cast<unsigned long long>(d.send_failed), s.queued_frames(),
        c.peak_frames, c.peak_bytes);
}

int open_packet_socket(const char* ifname)
{
    unsigned index = if_nametoindex(ifname);
    if (!index)
        die((std::string("no interface ") + ifname).c_str());
    // Protocol 0 at first: nothing arrives until bind() names the interface, so no frame of
    // another interface slips in between socket() and bind().
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("packet socket");
    int one = 1;
    if (setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0)
        die("PACKET_VNET_HDR");
    // Our own transmissions would otherwise come back as received frames.
    if (setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
        die("PACKET_IGNORE_OUTGOING");
    // Room for bursts while the relay is descheduled (the starved-host test): what the socket
    // drops is counted (PACKET_STATISTICS) but is not a fault we chose.
    int bytes = 8 << 20;
    if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
        setsockopt(s, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    sockaddr_ll a {};
    a.sll_family = AF_PACKET;
    a.sll_protocol = htons(ETH_P_ALL);
    a.sll_ifindex = static_cast<int>(index);
    if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        die("bind to the guest's interface");
    return s;
}

int open_tap(const char* name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        die("/dev/net/tun");
    ifreq ifr {};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) != 0)
        die("TUNSETIFF on the host tap");
    // The packet socket's header is a struct virtio_net_hdr: the tap's must be the same size.
    int size = k_vnet_hdr_size;
    if (ioctl(fd, TUNSETVNETHDRSZ, &size) != 0)
        die("TUNSETVNETHDRSZ");
    return fd;
}

} // namespace

int main(int argc, char** argv)
{
    const char* guest_if = nullptr;
    const char* host_tap = nullptr;
    uint64_t seed = now_ns() ^ static_cast<uint64_t>(getpid());
    double stats_every = 0;
    Direction from_guest { "from-guest", {}, {} };
    Direction to_guest { "to-guest", {}, {} };
    bool set_from = true, set_to = true;
    for (int i = 1; i < argc; ++i) {
        std::string o = argv[i];
        if (o == "--both" || o == "--to-guest" || o == "--from-guest") {
            set_from = o != "--to-guest";
            set_to = o != "--from-guest";
            continue;
        }
        if (i + 1 >= argc)
            usage(o == "--help" ? "" : o + " needs a value (or is unknown)");
        const char* v = argv[++i];
        auto each = [&](auto&& apply) {
            if (set_from)
                apply(from_guest);
            if (set_to)
                apply(to_guest);
        };
        auto ms = [&](double x) { return static_cast<uint64_t>(x * 1e6); };
        if (o == "--guest-if")
            guest_if = v;
        else if (o == "--host-tap")
            host_tap = v;
        else if (o == "--seed") {
            char* end = nullptr;
            errno = 0;
            seed = std::strtoull(v, &end, 0);
            if (errno || end == v || *end)
                usage("--seed wants a whole number, not '" + std::string(v) + "'");
        }
        else if (o == "--stats-every")
            stats_every = number(o, v, 0, 3600);
        else if (o == "--drop")
            each([&, x = number(o, v, 0, 1)](Direction& d) { d.faults.drop = x; });
        else if (o == "--duplicate")
            each([&, x = number(o, v, 0, 1)](Direction& d) { d.faults.duplicate = x; });
        else if (o == "--reorder")
            each([&, x = number(o, v, 0, 1)](Direction& d) { d.faults.reorder = x; });
        else if (o == "--delay")
            each([&, x = number(o, v, 0, 10000)](Direction& d) { d.faults.delay_ns = ms(x); });
        else if (o == "--jitter")
            each([&, x = number(o, v, 0, 10000)](Direction& d) { d.faults.jitter_ns = ms(x); });
        else if (o == "--reorder-gap")
            each([&, x = number(o, v, 1, 1000)](Direction& d) { d.faults.reorder_gap = static_cast<unsigned>(x); });
        else if (o == "--reorder-timeout")
            each([&, x = number(o, v, 0, 10000)](Direction& d) { d.faults.reorder_timeout_ns = ms(x); });
        else if (o == "--rate")
            each([&, x = number(o, v, 0, 1e6)](Direction& d) { d.faults.rate_bps = static_cast<uint64_t>(x * 1e6); });
        else if (o == "--queue-frames")
            each([&, x = number(o, v, 1, 1e6)](Direction& d) { d.limits.max_frames = static_cast<size_t>(x); });
        else if (o == "--queue-bytes")
            each([&, x = number(o, v, 2048, 1e9)](Direction& d) { d.limits.max_bytes = static_cast<size_t>(x); });
        else
            usage("unknown option " + o);
    }
    if (!guest_if || !host_tap)
        usage("--guest-if and --host-tap are required");

    // Signals arrive as readable data in the poll loop, never in the middle of a send.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : { SIGTERM, SIGINT, SIGHUP, SIGUSR1 })
        sigaddset(&mask, sig);
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0)
        die("sigprocmask");
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        die("signalfd");
    // Delays are a few milliseconds: the default 50 us timer slack is noise, but say so.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

    int pkt = open_packet_socket(guest_if);
    int tap = open_tap(host_tap);
    // One generator per direction, both from the one seed printed here.
    FaultSchedule from_schedule(from_guest.faults, seed, from_guest.limits);
    FaultSchedule to_schedule(to_guest.faults, seed ^ 0x9e3779b97f4a7c15ull, to_guest.limits);
    std::fprintf(stderr, "netrelay: %s <-> %s, seed %llu\nnetrelay: %s\nnetrelay: %s\n", guest_if, host_tap,
        static_cast<unsigned long long>(seed), describe(from_guest).c_str(), describe(to_guest).c_str());

    uint64_t socket_drops = 0; // frames the packet socket's buffer had no room for
    auto report = [&] {
        tpacket_stats st {};
        socklen_t len = sizeof st;
        if (getsockopt(pkt, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) // reading resets them
            socket_drops += st.tp_drops;
        print_counters(from_guest, from_schedule);
        print_counters(to_guest, to_schedule);
        std::fprintf(stderr, "netrelay: packet socket drops %llu\n", static_cast<unsigned long long>(socket_drops));
    };
    std::printf("netrelay: ready\n");
    std::fflush(stdout);

    static uint8_t buf[k_max_frame];
    uint64_t next_stats = stats_every > 0 ? now_ns() + static_cast<uint64_t>(stats_every * 1e9) : 0;
    for (;;) {
        uint64_t now = now_ns();
        // Everything due leaves first: guest-bound frames by the packet socket, the others
        // into the host tap (the kernel receives them there).
        while (auto f = from_schedule.pop_due(now)) {
            if (write(tap, f->data(), f->size()) < 0)
                ++from_guest.send_failed;
        }
        while (auto f = to_schedule.pop_due(now)) {
            if (send(pkt, f->data(), f->size(), 0) < 0)
                ++to_guest.send_failed;
        }
        if (next_stats && now >= next_stats) {
            report();
            next_stats = now + static_cast<uint64_t>(stats_every * 1e9);
        }

        uint64_t wake = UINT64_MAX;
        for (auto due : { from_schedule.next_due_ns(), to_schedule.next_due_ns() })
            if (due)
                wake = std::min(wake, *due);
        if (next_stats)
            wake = std::min(wake, next_stats);
        timespec timeout {};
        timespec* tp = nullptr;
        if (wake != UINT64_MAX) {
            uint64_t wait = wake > now ? wake - now : 0;
            timeout.tv_sec = static_cast<time_t>(wait / 1'000'000'000ull);
            timeout.tv_nsec = static_cast<long>(wait % 1'000'000'000ull);
            tp = &timeout;
        }
        pollfd fds[3] = { { pkt, POLLIN, 0 }, { tap, POLLIN, 0 }, { sfd, POLLIN, 0 } };
        int n = ppoll(fds, 3, tp, nullptr);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("ppoll");
        }
        now = now_ns();
        if (fds[0].revents & (POLLIN | POLLERR)) {
            for (int i = 0; i < k_batch; ++i) {
                sockaddr_ll from {};
                socklen_t len = sizeof from;
                ssize_t got = recvfrom(pkt, buf, sizeof buf, MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &len);
                if (got < 0) {
                    if (errno != EAGAIN && errno != EINTR && errno != ENETDOWN)
                        die("receive from the guest's interface");
                    break;
                }
                if (static_cast<size_t>(got) > sizeof buf || from.sll_pkttype == PACKET_OUTGOING)
                    continue;
                from_schedule.submit(Bytes(buf, buf + got), now);
            }
        }
        if (fds[1].revents & (POLLIN | POLLERR)) {
            for (int i = 0; i < k_batch; ++i) {
                ssize_t got = read(tap, buf, sizeof buf);
                if (got < 0) {
                    if (errno != EAGAIN && errno != EINTR)
                        die("read from the host tap");
                    break;
                }
                // Nothing the kernel computes for its own transmissions is left to the
                // guest's side: a "data valid" mark is the tap's to give, not ours.
                if (got > k_vnet_hdr_size)
                    buf[0] &= static_cast<uint8_t>(~k_vnet_hdr_f_data_valid);
                to_schedule.submit(Bytes(buf, buf + got), now);
            }
        }
        if (fds[2].revents & POLLIN) {
            signalfd_siginfo si;
            bool stop = false;
            while (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGUSR1)
                    report();
                else
                    stop = true;
            }
            if (stop)
                break;
        }
    }
    report();
    std::fprintf(stderr, "netrelay: stopped\n");
    return 0;
}
