#!/usr/bin/env python3
"""Derive the synthetic fixtures from bundled BSD-licensed captures (see Fixtures/README.md).

  dns_udp-bigendian.pcap   Fixtures/captures/dns_udp.pcap rewritten in big-endian byte order (magic a1b2c3d4
                           stored as written by a big-endian host), same packets.
  dns-cut-mid-record.pcap  Fixtures/captures/dns.pcap cut off 7 octets into a record header: a capture whose
                           writer died mid-packet.

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

to_big_endian(root / "dns_udp.pcap", root / "dns_udp-bigendian.pcap")
cut_mid_record(root / "dns.pcap", root / "dns-cut-mid-record.pcap", 20)
print("wrote", root / "dns_udp-bigendian.pcap", root / "dns-cut-mid-record.pcap")
