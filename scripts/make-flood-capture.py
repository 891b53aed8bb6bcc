#!/usr/bin/env python3
"""Write a flood capture (not committed; made on demand) for the memory bounds under floods (README: Hostile input).

  scripts/make-flood-capture.py unanswered OUT.pcap [QUERIES]   (default 2,000,000)
      A queries from 65,536 clients with random ids and source ports, never answered, 100,000 a second.
  scripts/make-flood-capture.py tcp OUT.pcap [STREAMS]          (default 500,000)
      TCP connections to port 53 that never finish: a SYN, then the first 20 octets of a DNS message whose length
      prefix says 300; nothing more. 25,000 new connections a second.

Ethernet/IPv4, microsecond pcap; every address is in 198.18.0.0/15; deterministic (fixed seed).
"""
import random, struct, sys

kind, out = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else (2_000_000 if kind == "unanswered" else 500_000)
rng = random.Random(20261127)
server = bytes([198, 19, 0, 10])

def ip_sum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s >> 16) + (s & 0xffff)
    return (~(s + (s >> 16))) & 0xffff

def ip(src, proto, payload, ident):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xffff, 0x4000, 64, proto, 0, src, server)
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + h[:10] + struct.pack("!H", ip_sum(h)) + h[12:] + payload

def client(i):
    n = i % 65536
    return bytes([198, 18, n >> 8, n & 0xff])

names = [b"".join(bytes([len(l)]) + l for l in (b"flood%d" % i, b"ns%d" % (i % 50), b"svc", b"cluster", b"local")) + b"\0"
         for i in range(10_000)]

with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    t = 1_764_201_600_000_000
    for i in range(count):
        if kind == "unanswered":
            t += 10
            q = struct.pack("!HHHHHH", rng.getrandbits(16), 0x0100, 1, 0, 0, 0) + names[i % len(names)] + b"\0\x01\0\x01"
            frames = [ip(client(i), 17, struct.pack("!HHHH", rng.randint(1024, 65535), 53, 8 + len(q), 0) + q, i)]
        else:
            t += 40
            port, seq = rng.randint(1024, 65535), rng.getrandbits(32)
            syn = struct.pack("!HHIIBBHHH", port, 53, seq, 0, 5 << 4, 0x02, 65535, 0, 0)
            msg = struct.pack("!H", 300) + struct.pack("!HHHHHH", rng.getrandbits(16), 0x0100, 1, 0, 0, 0) + names[i % len(names)][:6]
            data = struct.pack("!HHIIBBHHH", port, 53, (seq + 1) & 0xffffffff, 1, 5 << 4, 0x18, 65535, 0, 0) + msg
            frames = [ip(client(i), 6, syn, i), ip(client(i), 6, data, i)]
        for j, data in enumerate(frames):
            ts = t + j * 5
            f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(data), len(data)) + data)
print(f"wrote {out}: {kind}, {count}", file=sys.stderr)
