#!/usr/bin/env python3
"""Derive the synthetic fixtures from bundled BSD-licensed captures (see Fixtures/README.md).

  dns_udp-bigendian.pcap   Fixtures/captures/dns_udp.pcap rewritten in big-endian byte order (magic a1b2c3d4
                           stored as written by a big-endian host), same packets.
  dns-cut-mid-record.pcap  Fixtures/captures/dns.pcap cut off 7 octets into a record header: a capture whose
                           writer died mid-packet.
  hostile-text.pcap        written from nothing: names and TXT strings carrying terminal escape sequences (title,
                           clear screen, colour, 8-bit CSI), control characters (NUL, TAB, CR, LF, BEL), invalid
                           UTF-8, a bidi override, labels of 63 ESC octets, and cells a spreadsheet would run as
                           formulas (=, +, -, @ first).

Classic pcap layout (the format, not a reader dnsflow uses): 24-octet file header, then per record a 16-octet
header (ts_sec, ts_usec, incl_len, orig_len) and incl_len octets.
"""
import struct, sys, pathlib

root = pathlib.Path(__file__).resolve().parent.parent / "Fixtures" / "captures"

def to_big_endian(src, dst):
    data = src.read_bytes()
    magic, vmaj, vmin, zone, sigfigs, snaplen, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4, "expected a little-endian microsecond pcap"
    out = bytearray(struct.pack(">IHHiIII", magic, vmaj, vmin, zone, sigfigs, snaplen, linktype))
    off = 24
    while off < len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        out += struct.pack(">IIII", sec, usec, incl, orig) + data[off + 16:off + 16 + incl]
        off += 16 + incl
    dst.write_bytes(bytes(out))

def cut_mid_record(src, dst, records):
    data = src.read_bytes()
    off = 24
    for _ in range(records):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        off += 16 + incl
    dst.write_bytes(data[:off + 7])

def name(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"

def dns(id, flags, qname, qtype, answers=(), rcode=0):
    """A message: one question (class IN) and answers of (type, rdata), owner the question's name (pointer)."""
    out = struct.pack(">HHHHHH", id, flags | rcode, 1, len(answers), 0, 0) + name(qname) + struct.pack(">HH", qtype, 1)
    for rtype, rdata in answers:
        out += b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 300, len(rdata)) + rdata
    return out

def udp_frame(src, dst, sport, dport, payload):
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(src), bytes(dst))
    csum = sum(struct.unpack(">10H", ip))
    csum = (csum & 0xffff) + (csum >> 16)
    ip = ip[:10] + struct.pack(">H", ~((csum & 0xffff) + (csum >> 16)) & 0xffff) + ip[12:]
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp

def hostile_text(dst):
    """Queries and answers whose names and text carry what a terminal or a spreadsheet would obey."""
    client, server = (198, 18, 0, 1), (198, 18, 0, 53)
    A, TXT, AAAA, CNAME = 1, 16, 28, 5
    txt = lambda *strings: b"".join(bytes([len(x)]) + x for x in strings)
    exchanges = [
        ([b"\x1b]0;pwned\x07", b"\x1b[2J\x1b[31mred", b"evil"], A, [(A, bytes([198, 18, 0, 7]))], 0),
        ([b"=cmd|' /C calc'!A0", b"example", b"com"], TXT,
         [(TXT, txt(b"\x1b]2;title\x07", b"\xe2\x80\xaetxt.exe", b"\x9b31m", b"\xff\xfe invalid", b'=HYPERLINK("x")'))], 0),
        ([b"+1", b"-2", b"@SUM(1)", b"x"], A, None, 0),
        ([b"\x1b" * 63, b"\x1b" * 63, b"\x1b" * 63], A, [], 3),
        ([b"\xe2\x80\xaegnp", b"example"], AAAA,
         [(CNAME, name([b"\x00\x0d\x0a", b"\x07bell"])), (AAAA, bytes(16))], 0),
        ([b"\tTAB", b"\rCR", b"\x7fDEL"], A, [(A, bytes([198, 18, 0, 8]))], 0),
    ]
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    t = 1_764_000_000
    for i, (qname, qtype, answers, rcode) in enumerate(exchanges):
        port = 40000 + i
        frames = [udp_frame(client, server, port, 53, dns(0x100 + i, 0x0100, qname, qtype))]
        if answers is not None:
            frames.append(udp_frame(server, client, 53, port, dns(0x100 + i, 0x8180, qname, qtype, answers, rcode)))
        for j, f in enumerate(frames):
            out += struct.pack("<IIII", t + i, 1000 + 2500 * j, len(f), len(f)) + f
    dst.write_bytes(bytes(out))

to_big_endian(root / "dns_udp.pcap", root / "dns_udp-bigendian.pcap")
cut_mid_record(root / "dns.pcap", root / "dns-cut-mid-record.pcap", 20)
hostile_text(root / "hostile-text.pcap")
print("wrote", root / "dns_udp-bigendian.pcap", root / "dns-cut-mid-record.pcap", root / "hostile-text.pcap")
