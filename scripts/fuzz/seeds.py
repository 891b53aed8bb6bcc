#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs from capture files (pcap and pcapng).

    scripts/fuzz/seeds.py OUT_DIR CAPTURE_OR_DIR...

OUT_DIR/dns-parser:     each distinct DNS payload over UDP (Ethernet, Linux SLL/SLL2, raw IP, null/loop links).
OUT_DIR/packet-decoder: runs of up to 16 packets of a file in the target's record format
                        ([link type index][time step][length: 2][packet]), any link type the target knows.
OUT_DIR/tcp-reassembler: each TCP connection to or from port 53 in the target's record format
                        ([flags][sequence step: 2][time step][length][payload]).
OUT_DIR/capture-file:   each capture file of up to 64 KiB whole (bad ones included: headers are what it is for).
Files that do not parse as captures are skipped (the bad-input folder has several on purpose).
"""
import hashlib, os, struct, sys

# LinkType.supported sorted by value, as the packet-decoder target indexes it (keep in step with CapturedPacket.swift).
LINKS = [0, 1, 9, 10, 12, 14, 50, 101, 105, 108, 113, 127, 228, 229, 239, 258, 276]


def packets(path):
    """(link type, seconds, bytes) of each record; nothing for a file that is not a capture."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '<' if magic[0] in (0xd4, 0x4d) else '>'
        link = struct.unpack(e + 'I', data[20:24])[0] & 0x0fffffff
        off = 24
        while off + 16 <= len(data):
            sec, _, incl, _ = struct.unpack(e + 'IIII', data[off:off + 16])
            off += 16
            if incl > 262144 or off + incl > len(data):
                return
            yield link, sec, data[off:off + incl]
            off += incl
    elif magic == b'\x0a\x0d\x0d\x0a':
        e = '<' if data[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
        links, off = [], 0
        while off + 12 <= len(data):
            btype, blen = struct.unpack(e + 'II', data[off:off + 8])
            if blen < 12 or off + blen > len(data):
                return
            body = data[off + 8:off + blen - 4]
            if btype == 0x0A0D0D0A:
                e = '<' if body[:4] == b'\x4d\x3c\x2b\x1a' else '>'
                links = []
            elif btype == 1 and len(body) >= 2:
                links.append(struct.unpack(e + 'H', body[:2])[0])
            elif btype == 6 and len(body) >= 20:
                iface, hi, lo, cap, _ = struct.unpack(e + 'IIIII', body[:20])
                if iface < len(links):
                    yield links[iface], ((hi << 32) | lo) // 1000000, body[20:20 + cap]
            elif btype == 3 and len(body) >= 4 and links:
                yield links[0], 0, body[4:]
            off += blen


def ip_payload(link, pkt):
    """(protocol, source, destination, transport header and payload) of an unfragmented IPv4/IPv6 packet, or None."""
    off, ethertype = None, None
    if link == 1 and len(pkt) >= 14:
        off, ethertype = 14, struct.unpack('>H', pkt[12:14])[0]
        while ethertype in (0x8100, 0x88a8) and len(pkt) >= off + 4:
            ethertype, off = struct.unpack('>H', pkt[off + 2:off + 4])[0], off + 4
    elif link == 113 and len(pkt) >= 16:
        off, ethertype = 16, struct.unpack('>H', pkt[14:16])[0]
    elif link == 276 and len(pkt) >= 20:
        off, ethertype = 20, struct.unpack('>H', pkt[0:2])[0]
    elif link in (12, 14, 101, 228, 229) and pkt:
        off, ethertype = 0, 0x0800 if pkt[0] >> 4 == 4 else 0x86DD
    elif link in (0, 108) and len(pkt) >= 4:
        off, ethertype = 4, 0x0800 if pkt[0] == 2 or pkt[3] == 2 else 0x86DD
    if off is None:
        return None
    ip = pkt[off:]
    if ethertype == 0x0800 and len(ip) >= 20 and ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        if struct.unpack('>H', ip[6:8])[0] & 0x3fff:
            return None
        return ip[9], ip[12:16], ip[16:20], ip[ihl:]
    if ethertype == 0x86DD and len(ip) >= 40 and ip[0] >> 4 == 6:
        return ip[6], ip[8:24], ip[24:40], ip[40:]
    return None


def main():
    out = sys.argv[1]
    inputs = []
    for arg in sys.argv[2:]:
        if os.path.isdir(arg):
            for root, _, files in os.walk(arg):
                inputs += [os.path.join(root, f) for f in files if f.endswith(('.pcap', '.pcapng', '.cap', '.dmp'))]
        elif os.path.exists(arg):
            inputs.append(arg)
    for t in ('dns-parser', 'packet-decoder', 'tcp-reassembler', 'capture-file'):
        os.makedirs(os.path.join(out, t), exist_ok=True)

    def write(target, blob):
        if blob:
            with open(os.path.join(out, target, hashlib.sha1(blob).hexdigest()), 'wb') as f:
                f.write(blob)

    counts = {'dns-parser': 0, 'packet-decoder': 0, 'tcp-reassembler': 0, 'capture-file': 0}
    for path in sorted(inputs):
        if os.path.getsize(path) <= 65536:
            with open(path, 'rb') as f:
                write('capture-file', f.read()); counts['capture-file'] += 1
        try:
            run, last, streams = [], None, {}
            for link, sec, pkt in packets(path):
                if link in LINKS and len(pkt) < 65536:
                    step = 0 if last is None else max(0, min(253, int((max(0, sec - last) * 200) ** 0.5)))
                    last = sec
                    run.append(bytes([LINKS.index(link), step]) + struct.pack('>H', len(pkt)) + pkt)
                    if len(run) == 16 or sum(map(len, run)) > 4096:
                        write('packet-decoder', b''.join(run)); counts['packet-decoder'] += 1
                        run = []
                l = ip_payload(link, pkt)
                if not l:
                    continue
                proto, src, dst, seg = l
                if proto == 17 and len(seg) >= 20 and 53 in struct.unpack('>HH', seg[:4]):
                    write('dns-parser', seg[8:]); counts['dns-parser'] += 1
                elif proto == 6 and len(seg) >= 20:
                    sport, dport, seq = struct.unpack('>HHI', seg[:8])
                    if 53 not in (sport, dport):
                        continue
                    doff, flags = (seg[12] >> 4) * 4, seg[13]
                    server = sport == 53
                    key = (dst, dport, src) if server else (src, sport, dst)
                    s = streams.setdefault(key, {'records': [], 'seq': [None, None]})
                    d = 1 if server else 0
                    payload = seg[doff:doff + 255]
                    f = (1 if flags & 2 else 0) | (2 if flags & 1 else 0) | (4 if flags & 4 else 0) | (8 if server else 0)
                    prev = s['seq'][d]
                    if prev is None:
                        # An empty record setting the direction's sequence (the target's absolute step keeps only
                        # the top 16 bits), then the segment as a step from there.
                        stepv = seq >> 16
                        s['seq'][d] = stepv << 16
                        s['records'].append(bytes([(f & 8) | 64]) + struct.pack('>H', stepv) + bytes([0, 0]))
                        prev = s['seq'][d]
                    delta = (seq - prev + 64) & 0xffffffff
                    while delta > 0xffff:
                        s['records'].append(bytes([f & 8]) + struct.pack('>H', 0xffff) + bytes([0, 0]))
                        prev = (prev + 0xffff - 64) & 0xffffffff
                        delta = (seq - prev + 64) & 0xffffffff
                    s['seq'][d] = seq
                    s['records'].append(bytes([f]) + struct.pack('>H', delta) + bytes([0, len(payload)]) + payload)
            if run:
                write('packet-decoder', b''.join(run)); counts['packet-decoder'] += 1
            for s in streams.values():
                write('tcp-reassembler', b''.join(s['records'][:64])); counts['tcp-reassembler'] += 1
        except (struct.error, IndexError, ValueError):
            continue
    for t, n in counts.items():
        print(f"{t}: {n} seeds written ({len(os.listdir(os.path.join(out, t)))} distinct)", file=sys.stderr)


if __name__ == '__main__':
    main()
