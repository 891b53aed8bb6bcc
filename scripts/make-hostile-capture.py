#!/usr/bin/env python3
"""Write one of the hostile captures of issue 20 (items 4 and 5): TCP streams built to make reassembly slow or large,
and TCP answers built to make the interface's rows large. Deterministic; every address is in 198.18.0.0/15.
Ethernet/IPv4, microsecond pcap.

  scripts/make-hostile-capture.py CASE OUT.pcap [N]

CASE (N, and its default: the size the issue measured):
  tcp-noise               one stream without its SYN: N segments of 60,000 octets of 0xff              (20: 1.2 MB)
  tcp-one-octet           one stream without its SYN: N one-octet segments of 0xff                   (100,000: 7.1 MB)
  tcp-one-octet-after-hole  N streams: a SYN, a segment lost, then 257 one-octet segments after it      (1,000: 18 MB)
  tcp-out-of-order        N streams: a SYN, a segment lost, then 256 KiB of segments after it          (4,096: 1.1 GB)
  tcp-large-answers       N DNS exchanges over TCP, each answered with 51 KB of TXT records         (20,000: 1.0 GB)
  dns-pointer-chains      N UDP answers of 62 KB whose 2,000 records' names each follow a chain of 15,000
                          compression pointers (item 3)                                             (30: 1.9 MB)
  udp-large-answers       a query nobody answers, then N DNS exchanges over UDP, each answer 60 KB of TXT
                          records in one packet (the outputs in order wait for the first)             (20,000: 1.2 GB)

The test suite keeps small ones as fixtures (Fixtures/hostile/, gzip'd; `HostileCaptureTests`); the full sizes are
for `scripts/check/hostile-memory.sh`.
"""
import struct, sys

kind, out = sys.argv[1], sys.argv[2]
defaults = {"tcp-noise": 20, "tcp-one-octet": 100_000, "tcp-one-octet-after-hole": 1_000,
            "tcp-out-of-order": 4_096, "tcp-large-answers": 20_000, "udp-large-answers": 20_000, "dns-pointer-chains": 30}
if kind not in defaults:
    sys.exit(__doc__)
count = int(sys.argv[3]) if len(sys.argv) > 3 else defaults[kind]
server = bytes([198, 19, 0, 53])


def ip_sum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s >> 16) + (s & 0xffff)
    return (~(s + (s >> 16))) & 0xffff


def frame(src, dst, sport, dport, seq, flags, payload, ident=1):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, 1, 5 << 4, flags, 65535, 0, 0) + payload
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ident & 0xffff, 0x4000, 64, 6, 0, src, dst)
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + h[:10] + struct.pack("!H", ip_sum(h)) + h[12:] + tcp


def udp(src, dst, sport, dport, payload, ident=1):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), ident & 0xffff, 0, 64, 17, 0, src, dst)
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + h[:10] + struct.pack("!H", ip_sum(h)) + h[12:] + u


def client(i):
    n = i % 65536
    return bytes([198, 18, n >> 8, n & 0xff])


SYN, ACK, PSH = 0x02, 0x10, 0x08
t = 1_764_201_600_000_000
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))

    def write(data, step=10):
        global t
        t += step
        f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(data), len(data)) + data)

    if kind == "tcp-noise":
        for i in range(count):
            write(frame(client(2), server, 40000, 53, 1000 + i * 60_000, ACK | PSH, b"\xff" * 60_000))
    elif kind == "tcp-one-octet":
        for i in range(count):
            write(frame(client(2), server, 40000, 53, 5000 + i, ACK | PSH, b"\xff"))
    elif kind in ("tcp-one-octet-after-hole", "tcp-out-of-order"):
        size, segments = (1, 257) if kind == "tcp-one-octet-after-hole" else (1024, 256)
        for s in range(count):
            src, port, isn = client(s), 1024 + s % 60000, 1000 * s
            write(frame(src, server, port, 53, isn, SYN, b""))
            # The first 100 octets after the SYN are lost; what follows them waits for them.
            for k in range(segments):
                write(frame(src, server, port, 53, isn + 1 + 100 + k * size, ACK | PSH, b"\xff" * size), step=1)
    elif kind == "tcp-large-answers":
        # 200 TXT records of 255 octets each: 51,200 octets of RDATA in one 51.6 KB message.
        txt = b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c\x01\x00\xff" + b"x" * 255
        for i in range(count):
            src, port, isn = client(i), 1024 + i % 60000, 7000 * i
            qname = b"".join(bytes([len(l)]) + l for l in (b"big%d" % i, b"example", b"test")) + b"\0"
            query = struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + qname + b"\x00\x10\x00\x01"
            answer = struct.pack("!HHHHHH", i & 0xffff, 0x8180, 1, 200, 0, 0) + qname + b"\x00\x10\x00\x01" + txt * 200
            write(frame(src, server, port, 53, isn, SYN, b""))
            write(frame(server, src, 53, port, isn * 3, SYN | ACK, b""))
            write(frame(src, server, port, 53, isn + 1, ACK | PSH, struct.pack("!H", len(query)) + query))
            reply = struct.pack("!H", len(answer)) + answer
            for k in range(0, len(reply), 1448):
                write(frame(server, src, 53, port, isn * 3 + 1 + k, ACK | PSH, reply[k:k + 1448]), step=2)
    elif kind == "dns-pointer-chains":
        chain, records = 15_000, 2_000
        for i in range(count):
            src, port = client(i), 1024 + i % 60000
            question = b"\x01a\x00\x00\x01\x00\x01"
            m = struct.pack("!HHHHHH", i & 0xffff, 0x8180, 1, 1 + records, 0, 0) + question
            # One TXT record whose RDATA is the chain: each pointer points at the one before, the first at the name.
            m += b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c" + struct.pack("!H", 2 * chain)
            start = len(m)
            m += b"".join(struct.pack("!H", 0xc000 | (12 if k == 0 else start + 2 * (k - 1))) for k in range(chain))
            last = start + 2 * (chain - 1)
            m += (struct.pack("!H", 0xc000 | last) + b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x12\x00\x01") * records
            write(udp(src, server, port, 53, struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + question, i))
            write(udp(server, src, 53, port, m, i), step=50)
    elif kind == "udp-large-answers":
        txt = b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x00\x3c\x01\x00\xff" + b"y" * 255
        lost = struct.pack("!HHHHHH", 0xdead, 0x0100, 1, 0, 0, 0) + b"\x04lost\x07example\x04test\x00\x00\x01\x00\x01"
        write(udp(client(65535), server, 999, 53, lost))
        for i in range(count):
            src, port = client(i), 1024 + i % 60000
            qname = b"".join(bytes([len(l)]) + l for l in (b"big%d" % i, b"example", b"test")) + b"\0"
            query = struct.pack("!HHHHHH", i & 0xffff, 0x0100, 1, 0, 0, 0) + qname + b"\x00\x10\x00\x01"
            answer = struct.pack("!HHHHHH", i & 0xffff, 0x8180, 1, 240, 0, 0) + qname + b"\x00\x10\x00\x01" + txt * 240
            write(udp(src, server, port, 53, query, i))
            write(udp(server, src, 53, port, answer, i), step=50)
print(f"wrote {out}: {kind}, {count}", file=sys.stderr)
