#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes the committed seed corpora (tests/fuzz/corpus/NAME/): small, hand-made inputs that
# reach each parser's main paths, so a short smoke run starts past the first layer of checks.
# Deterministic: running it again gives the same files. Usage: make_seeds.py [OUTDIR]
import os
import random
import struct
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ------------------------------------------------------------------------------- cmdline
write("cmdline", "basic", "atoll.realtime=12.5 HOME=/ virtio_mmio.device=4K@0xfeb00000:12 -- alpha beta")
write("cmdline", "quotes", r'MSG="hello world" -- "two words" "say \"hi\"" "back\\slash" a"b c"d ""')
write("cmdline", "two-lines", "LOG_LEVEL=info atoll.ip=10.0.2.15/24 atoll.gw=10.0.2.2 one\0atoll.bootstats=1 -- x y\0")
write("cmdline", "appended", "-- a b virtio_mmio.device=512@0xfeb00e00:10 virtio_mmio.device=512@0xfeb00c00:11")

# ------------------------------------------------------------------------------- control
write("control", "commands", "dump\ndump cli-123-4\r\nsignal 15\nsignal 99\nhelp\n\ntime t1\nbogus words\n")
write("control", "host-time", "host-time 7 1700000000.123456789 1700000000.2\nhost-time 999999999 1 2\n")
write("control", "overlong", "dump " + "x" * 200 + "\nsignal\t2\n")

# ------------------------------------------------------------------------------- cpio


def cpio_entry(name, mode, data=b""):
    name_b = name.encode() + b"\0"
    h = b"070701" + b"".join(b"%08X" % v for v in (1, mode, 0, 0, 1, 1700000000, len(data), 0, 0, 0, 0, len(name_b), 0))
    e = h + name_b
    e += b"\0" * (-len(e) % 4)
    e += data
    e += b"\0" * (-len(e) % 4)
    return e


trailer = cpio_entry("TRAILER!!!", 0)
write("cpio", "tree", cpio_entry(".", 0o40755) + cpio_entry("./www", 0o40755)
      + cpio_entry("./www/index.html", 0o100644, b"<h1>hi</h1>") + cpio_entry("etc/x", 0o100600, b"abc")
      + cpio_entry("link", 0o120777, b"www/index.html") + trailer)
write("cpio", "concatenated", cpio_entry("a", 0o100644, b"1") + trailer + b"\0" * 8 + cpio_entry("b", 0o100644, b"22") + trailer)
write("cpio", "no-trailer", cpio_entry("/abs/file", 0o100644, b"data"))

# ------------------------------------------------------------------------------- http
req = [
    "GET /index.html?x=1 HTTP/1.1\r\nHost: example\r\nUser-Agent: t\r\n\r\n",
    "POST /api HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: keep-alive, Upgrade\r\n\r\nhelloGET / HTTP/1.1\r\nHost: b\r\n\r\n",
    "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "\r\n\nGET http://h/a HTTP/1.1\nHost: h\nExpect: 100-continue\nTransfer-Encoding: gzip, chunked\n\n",
    "PUT /x HTTP/2.0\r\nHost: x\r\n\r\n",
]
for i, r in enumerate(req):
    write("http_request", "req%d" % i, bytes([0]) + r.encode())
    write("http_request", "req%d-small" % i, bytes([0x0b]) + r.encode())
for i, t in enumerate(["/", "/index.html?x=1#f", "/sub/", "http://host/a.txt", "/%2e%2e/secret", "/link-inside",
                       "/out", "/up/outside.txt", "/fifo", "/sub/deeper/b.css", "/empty", "/a%20b%2Fc", "/secret"]):
    write("http_path", "path%d" % i, t)

# ------------------------------------------------------------------------------- virtqueue, virtio-net rx
rng = random.Random(11)
for target in ("virtqueue", "virtio_net_rx", "memmap"):
    for i in range(4):
        write(target, "random%d" % i, bytes(rng.randrange(256) for _ in range(64 + 96 * i)))

# ------------------------------------------------------------------------------- lwip
# Records of tests/fuzz/lwip.cpp's input format.
FIX_IP, FIX_L4, FIX_TCP, FIX_DHCP = 1, 2, 4, 8
OURS = bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
PEER = bytes([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02])
ME, GW = bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2])


def frame(data, fix=0):
    return bytes([(fix << 3) | 0]) + struct.pack("<H", len(data)) + data


def wait(ms):
    return bytes([4]) + struct.pack("<H", ms)


def act(what):
    return bytes([5, what])


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(payload, ethertype=0x0800, dst=OURS):
    return dst + PEER + struct.pack("!H", ethertype) + payload


def ipv4(proto, payload, src=GW, dst=ME, ident=1, frag=0, total=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total or 20 + len(payload), ident, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp(sport, dport, seq, ack, flags, data=b"", options=b""):
    off = (20 + len(options)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + options + data


def udp(sport, dport, data):
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def arp(op, sender_mac, sender_ip, target_mac, target_ip, dst=b"\xff" * 6):
    return eth(struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sender_mac, sender_ip, target_mac, target_ip), 0x0806, dst)


SYN, ACK, PSH, FIN, RST = 2, 16, 8, 1, 4
mss = b"\x02\x04\x05\xb4\x01\x03\x03\x07"  # MSS 1460, NOP, window scale 7


def dhcp(msg_type):
    b = struct.pack("!BBBBIHH4s4s4s4s16s64s128sI", 2, 1, 6, 0, 0, 0, 0, b"\0" * 4, ME, GW, b"\0" * 4,
                    OURS + b"\0" * 10, b"\0" * 64, b"\0" * 128, 0x63825363)
    b += bytes([53, 1, msg_type, 54, 4]) + GW + bytes([51, 4, 0, 0, 0x0e, 0x10, 1, 4, 255, 255, 255, 0, 3, 4]) + GW
    b += bytes([6, 4, 10, 0, 2, 3, 58, 4, 0, 0, 0, 30, 255])
    return eth(ipv4(17, udp(67, 68, b), dst=b"\xff" * 4), dst=b"\xff" * 6)


STATIC, FRESH, BOUND = 2, 0, 1
# The peer asks for our address first: that puts its own in the ARP cache, so replies go out.
who_has = frame(arp(1, PEER, GW, b"\0" * 6, ME))
handshake = (who_has + frame(eth(ipv4(6, tcp(40000, 80, 1000, 0, SYN, options=mss))), FIX_IP | FIX_L4)
             + frame(eth(ipv4(6, tcp(40000, 80, 0, 0, ACK))), FIX_IP | FIX_L4 | FIX_TCP))
seeds = {
    "arp-ping": bytes([STATIC]) + frame(arp(1, PEER, GW, b"\0" * 6, ME))
    + frame(eth(ipv4(1, struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"ping" * 8)), FIX_IP | FIX_L4),
    "tcp-echo": bytes([STATIC]) + handshake
    + frame(eth(ipv4(6, tcp(40000, 80, 0, 0, PSH | ACK, b"GET / HTTP/1.0\r\n\r\n"))), FIX_IP | FIX_L4 | FIX_TCP)
    + wait(100) + frame(eth(ipv4(6, tcp(40000, 80, 0, 0, FIN | ACK))), FIX_IP | FIX_L4 | FIX_TCP) + wait(300)
    + frame(eth(ipv4(6, tcp(40000, 80, 0, 0, ACK))), FIX_IP | FIX_L4 | FIX_TCP),
    "tcp-ooseq-rst": bytes([STATIC]) + handshake
    + frame(eth(ipv4(6, tcp(40000, 80, 100, 0, ACK, b"later"))), FIX_IP | FIX_L4 | FIX_TCP)
    + frame(eth(ipv4(6, tcp(40000, 80, 0, 0, ACK, b"x" * 100))), FIX_IP | FIX_L4 | FIX_TCP)
    + act(1) + wait(1000) + frame(eth(ipv4(6, tcp(40000, 80, 0, 0, RST))), FIX_IP | FIX_L4 | FIX_TCP),
    "udp-echo": bytes([STATIC]) + who_has + frame(eth(ipv4(17, udp(5353, 7, b"hello over udp"))), FIX_IP | FIX_L4),
    "dhcp-then-tcp": bytes([FRESH]) + frame(dhcp(2), FIX_IP | FIX_L4 | FIX_DHCP) + frame(dhcp(5), FIX_IP | FIX_L4 | FIX_DHCP)
    + handshake,
    "connect-out": bytes([BOUND]) + act(0) + frame(arp(2, PEER, GW, OURS, ME, OURS))
    + frame(eth(ipv4(6, tcp(8080, 1, 5000, 0, SYN | ACK, options=mss))), FIX_IP | FIX_L4 | FIX_TCP)
    + frame(eth(ipv4(6, tcp(8080, 1, 0, 0, PSH | ACK, b"HTTP/1.1 200 OK\r\n\r\n"))), FIX_IP | FIX_L4 | FIX_TCP)
    + act(3) + wait(200),
    "udp-out-lease": bytes([BOUND]) + act(5) + frame(arp(2, PEER, GW, OURS, ME, OURS)) + bytes([4 | 8]) + struct.pack("<H", 30000)
    + bytes([4 | 8]) + struct.pack("<H", 30000),
    "ring-full": bytes([STATIC | 4]) + frame(arp(1, PEER, GW, b"\0" * 6, ME)) + bytes([6]) + handshake,
}
# An ICMP echo of 2000 bytes in two fragments (the checksum is over the whole message).
icmp = struct.pack("!BBHHH", 8, 0, 0, 9, 1) + bytes(range(256)) * 7 + b"z" * 200
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
first, second = icmp[:1480], icmp[1480:]
seeds["fragments"] = (bytes([STATIC]) + who_has + frame(eth(ipv4(1, first, ident=77, frag=0x2000)))
                      + frame(eth(ipv4(1, second, ident=77, frag=1480 // 8))))
for name, data in seeds.items():
    write("lwip", name, data)
