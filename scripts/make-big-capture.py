#!/usr/bin/env python3
"""Write a large synthetic DNS capture for throughput measurements (not committed; made on demand).

  scripts/make-big-capture.py OUT.pcap [EXCHANGES]   (default 1,000,000 exchanges, about 2 million packets)

Ethernet/IPv4, microsecond pcap. Like a busy Kubernetes node: 2,000 pods asking 5,000 service names, A and AAAA in
pairs from one socket (glibc), answers of 1-4 records, 1 % of queries unanswered, 1 % re-sent 5 s later with the same
id, 5 % NXDOMAIN; 30 % of lookups walk the search list first (ndots:5: an NXDOMAIN pair for
NAME.<pod namespace>.svc.cluster.local on its own socket before the answer); 0.5 % ask over TCP (handshake, then
length-prefixed query and answer). Every address is in 198.18.0.0/15. Deterministic (fixed seed).
"""
import random, struct, sys

out = sys.argv[1]
exchanges = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = random.Random(20261126)

def name_wire(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"

names = [name_wire(f"svc{i}.ns{i % 37}.svc.cluster.local") for i in range(5000)]

def ip_sum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s >> 16) + (s & 0xffff)
    return (~(s + (s >> 16))) & 0xffff

def frame(src, dst, sport, dport, payload, ident):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xffff, 0x4000, 64, 17, 0, src, dst)
    h = h[:10] + struct.pack("!H", ip_sum(h)) + h[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + h + udp

def tcp_frame(src, dst, sport, dport, seq, ack, flags, payload, ident):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ident & 0xffff, 0x4000, 64, 6, 0, src, dst)
    h = h[:10] + struct.pack("!H", ip_sum(h)) + h[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + h + tcp

def response(qid, qn, qtype, rcode):
    n = 0 if rcode else rng.randint(1, 4)
    r = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, n, 0, 0) + qn + struct.pack("!HH", qtype, 1)
    for k in range(n):
        rd = bytes([198, 19, rng.randrange(256), rng.randrange(256)]) if qtype == 1 else bytes(15) + bytes([k + 1])
        r += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 30, len(rd)) + rd
    return r

namespaces = [f"team{i}" for i in range(40)]
server = bytes([198, 19, 0, 10])
records = []          # (time_us, bytes)
t = 1_795_700_000_000_000
for i in range(exchanges // 2):
    t += rng.randint(5, 80)
    client = bytes([198, 18, (i % 2000) // 250, (i % 250) + 1])
    k = rng.randrange(len(names))
    qn = names[k]
    if rng.random() < 0.30:
        # ndots:5 search list: the pod's own namespace first, NXDOMAIN for both, then the name that exists.
        step = name_wire(f"svc{k}.ns{k % 37}.{namespaces[i % len(namespaces)]}.svc.cluster.local")
        port = 30000 + rng.randint(0, 30000)
        slowest = 0
        for qtype in (1, 28):
            qid = rng.randrange(65536)
            q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + step + struct.pack("!HH", qtype, 1)
            qt = t + (0 if qtype == 1 else rng.randint(1, 30))
            records.append((qt, frame(client, server, port, 53, q, i)))
            at = qt + rng.randint(100, 3000)
            records.append((at, frame(server, client, 53, port, response(qid, step, qtype, 3), i)))
            slowest = max(slowest, at)
        t = slowest + rng.randint(5, 50)
    port = 30000 + rng.randint(0, 30000)
    if rng.random() < 0.005:
        # Over TCP (use-vc, or after a truncated answer): handshake, query, answer; the stream is left to idle out.
        cs, ss = rng.randrange(1 << 32), rng.randrange(1 << 32)
        qid = rng.randrange(65536)
        q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qn + struct.pack("!HH", 1, 1)
        r = response(qid, qn, 1, 0)
        records.append((t, tcp_frame(client, server, port, 53, cs, 0, 0x02, b"", i)))
        records.append((t + 80, tcp_frame(server, client, 53, port, ss, cs + 1, 0x12, b"", i)))
        records.append((t + 160, tcp_frame(client, server, port, 53, cs + 1, ss + 1, 0x10, b"", i)))
        records.append((t + 200, tcp_frame(client, server, port, 53, cs + 1, ss + 1, 0x18, struct.pack("!H", len(q)) + q, i)))
        records.append((t + 200 + rng.randint(100, 3000), tcp_frame(server, client, 53, port, ss + 1, cs + 1 + 2 + len(q), 0x18, struct.pack("!H", len(r)) + r, i)))
        continue
    for qtype in (1, 28):
        qid = rng.randrange(65536)
        q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qn + struct.pack("!HH", qtype, 1)
        qt = t + (0 if qtype == 1 else rng.randint(1, 30))
        records.append((qt, frame(client, server, port, 53, q, i)))
        fate = rng.random()
        if fate < 0.01:
            continue                               # never answered
        if fate < 0.02:
            qt += 5_000_000                        # re-sent after the 5 s timeout, same id, same socket
            records.append((qt, frame(client, server, port, 53, q, i + 1)))
        rcode = 3 if rng.random() < 0.05 else 0
        records.append((qt + rng.randint(100, 3000), frame(server, client, 53, port, response(qid, qn, qtype, rcode), i)))
records.sort(key=lambda r: r[0])
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    for ts, data in records:
        f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(data), len(data)) + data)
print(f"wrote {out}: {len(records)} packets")
