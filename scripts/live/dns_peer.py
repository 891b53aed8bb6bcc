#!/usr/bin/env python3
"""A tiny DNS server and client for the live-capture check, inside the lab's network namespaces only.

  dns_peer.py serve ADDRESS SECONDS [drop-first-aaaa]
                                      answer A queries over UDP and TCP with 198.18.0.99 (AAAA with 2001:db8::99);
                                      never answer names starting with "drop."; with drop-first-aaaa, also drop the
                                      first AAAA query of each name (the parallel-lookup race); print each query as
                                      `TIME qtype name answered|dropped`; exit after SECONDS.
  dns_peer.py ask SERVER              send the scripted queries, print one line per answer, exit.
"""
import socket, struct, sys, threading, time, select

def qname_end(msg):
    i = 12
    while msg[i] != 0:
        i += 1 + msg[i]
    return i + 1

def qname(msg):
    labels, i = [], 12
    while msg[i] != 0:
        labels.append(msg[i + 1:i + 1 + msg[i]].decode())
        i += 1 + msg[i]
    return ".".join(labels)

def qtype(msg):
    return struct.unpack(">H", msg[qname_end(msg):qname_end(msg) + 2])[0]

def answer(query):
    end = qname_end(query) + 4
    header = query[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0)
    if qtype(query) == 28:
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 28, 1, 60, 16) + bytes.fromhex("20010db8000000000000000000000099")
    else:
        rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([198, 18, 0, 99])
    return header + query[12:end] + rr

def query(qid, name, qtype=1):
    body = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + body + struct.pack(">HH", qtype, 1)

def serve(address, seconds, mode=""):
    deadline = time.time() + seconds
    dropped_aaaa = set()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((address, 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((address, 53))
    tcp.listen(4)
    while time.time() < deadline:
        ready, _, _ = select.select([udp, tcp], [], [], 0.2)
        for s in ready:
            if s is udp:
                msg, peer = udp.recvfrom(4096)
                name, kind = qname(msg), qtype(msg)
                drop = name.startswith("drop.")
                if mode == "drop-first-aaaa" and kind == 28 and name not in dropped_aaaa:
                    dropped_aaaa.add(name)
                    drop = True
                if not drop:
                    udp.sendto(answer(msg), peer)
                print("%.6f %d %s %s" % (time.time(), kind, name, "dropped" if drop else "answered"), flush=True)
            else:
                conn, _ = tcp.accept()
                conn.settimeout(2)
                data = b""
                while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                msg = data[2:]
                reply = answer(msg)
                conn.sendall(struct.pack(">H", len(reply)) + reply)
                conn.close()

def ask(server):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.settimeout(0.5)
    for i, name in enumerate(["a.lab.example", "b.lab.example", "drop.lab.example", "c.lab.example"]):
        udp.sendto(query(0x100 + i, name), (server, 53))
        try:
            udp.recv(4096)
            print("answered", name)
        except socket.timeout:
            print("timeout", name)
    tcp = socket.create_connection((server, 53), timeout=2)
    q = query(0x200, "tcp.lab.example")
    tcp.sendall(struct.pack(">H", len(q)) + q)
    tcp.recv(4096)
    tcp.close()
    print("answered tcp.lab.example")

if sys.argv[1] == "serve":
    serve(sys.argv[2], float(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
else:
    ask(sys.argv[2])
