#!/usr/bin/env python3
"""Ground truth for one lab scenario, computed without dnsflow: tshark decodes the captures, this script matches
queries to responses, and the client's own timings and the nftables counters come from the lab.

  truth.py SCENARIO_DIR  > truth.json

Matching rule (the same as the issue states, implemented independently): a response answers the most recent
unanswered query with the same transport, reversed endpoints, DNS id and question, sent at or before it within
60 s; other queries are unanswered. Latency is exact (decimal arithmetic on tshark's epoch times), in microseconds.

Re-sends (all from pod.pcap, the client's own interface):
  resends         a query whose (client address, id, question) was already sent, whatever port or transport, unless it
                  is a fan-out: the same key sent to a different server address within 50 ms of the previous send of
                  that key (musl asks every nameserver at once), counted in fanouts instead
  resends_new_id  a query whose (client address, question) was already asked, in the same lookup (client.tsv), with
                  another id that was still unanswered when this one left, at least 0.9 s before it (Go's re-sends: a
                  new socket and a new id per attempt)
"""
import csv, json, pathlib, re, subprocess, sys
from decimal import Decimal

d = pathlib.Path(sys.argv[1])
FIELDS = ["frame.number", "frame.time_epoch", "ip.src", "ip.dst", "udp.srcport", "udp.dstport", "tcp.srcport",
          "tcp.dstport", "dns.id", "dns.flags.response", "dns.qry.name", "dns.qry.type", "dns.flags.rcode",
          "dns.flags.truncated", "dns.count.answers"]

def messages(capture):
    """Every DNS message tshark sees, in capture order (several per TCP segment are split apart)."""
    argv = ["tshark", "-r", str(capture), "-Y", "dns", "-T", "fields", "-E", "separator=\t", "-E", "aggregator=|",
            "-E", "occurrence=a"]
    for f in FIELDS:
        argv += ["-e", f]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    result = []
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("\t")))
        proto = "tcp" if v["tcp.srcport"] else "udp"
        sport = int((v["tcp.srcport"] or v["udp.srcport"]).split("|")[0])
        dport = int((v["tcp.dstport"] or v["udp.dstport"]).split("|")[0])
        ids = v["dns.id"].split("|")
        n = len(ids)
        def part(field, i):
            values = v[field].split("|")
            return values[i] if i < len(values) else ""
        for i in range(n):
            result.append({
                "frame": int(v["frame.number"]), "time": Decimal(v["frame.time_epoch"]), "proto": proto,
                "src": v["ip.src"].split("|")[-1], "dst": v["ip.dst"].split("|")[-1], "sport": sport, "dport": dport,
                "id": int(ids[i], 16), "response": part("dns.flags.response", i) in ("1", "True"),
                "qname": part("dns.qry.name", i), "qtype": int(part("dns.qry.type", i) or 0),
                "rcode": int(part("dns.flags.rcode", i) or 0), "tc": part("dns.flags.truncated", i) in ("1", "True"),
                "answers": int(part("dns.count.answers", i) or 0),
            })
    return result

def transactions(msgs):
    open_queries, out = {}, []
    for m in msgs:
        if not m["response"]:
            key = (m["proto"], m["src"], m["sport"], m["dst"], m["dport"], m["id"], m["qname"].lower(), m["qtype"])
            t = {"time": str(m["time"]), "frame": m["frame"], "proto": m["proto"], "client": f'{m["src"]}.{m["sport"]}',
                 "server": f'{m["dst"]}.{m["dport"]}', "id": m["id"], "qname": m["qname"], "qtype": m["qtype"],
                 "status": "unanswered", "latency_us": None, "_t": m["time"]}
            out.append(t)
            open_queries.setdefault(key, []).append(t)
        else:
            key = (m["proto"], m["dst"], m["dport"], m["src"], m["sport"], m["id"], m["qname"].lower(), m["qtype"])
            candidates = [t for t in open_queries.get(key, []) if t["_t"] <= m["time"]]
            if candidates and m["time"] - candidates[-1]["_t"] <= 60:
                t = candidates[-1]
                open_queries[key].remove(t)
                t.update(status="answered", rcode=m["rcode"], tc=m["tc"], answers=m["answers"],
                         response_frame=m["frame"], latency_us=str((m["time"] - t["_t"]) * 1_000_000))
            else:
                out.append({"time": str(m["time"]), "frame": m["frame"], "proto": m["proto"],
                            "client": f'{m["dst"]}.{m["dport"]}', "server": f'{m["src"]}.{m["sport"]}', "id": m["id"],
                            "qname": m["qname"], "qtype": m["qtype"], "status": "orphan-response", "latency_us": None,
                            "_t": m["time"]})
    out.sort(key=lambda t: t["_t"])
    for t in out:
        del t["_t"]
    return out

def summary(ts):
    return {k: sum(1 for t in ts if t["status"] == s) for k, s in
            [("answered", "answered"), ("unanswered", "unanswered"), ("orphan_responses", "orphan-response")]}

def fields(capture, display_filter, names):
    """tshark's values of some fields, one list per frame that passes the filter."""
    argv = ["tshark", "-r", str(capture), "-Y", display_filter, "-T", "fields", "-E", "separator=\t"]
    for f in names:
        argv += ["-e", f]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]

captures = {}
pod_msgs = []
for name in ["pod.pcap", "node-any.pcap", "dns.pcap", "pod.pcapng", "node.pcapng"]:
    path = d / name
    if not path.exists():
        continue
    msgs = messages(path)
    ts = transactions(msgs)
    if name == "pod.pcap":
        pod_msgs = msgs
    captures[name] = {"queries": sum(1 for m in msgs if not m["response"]), **summary(ts), "transactions": ts}
    if name == "node.pcapng":
        # dumpcap on both node interfaces at once: one file, one interface description block each.
        frames = {}
        for interface_id, interface_name in fields(path, "frame", ["frame.interface_id", "frame.interface_name"]):
            frames.setdefault((int(interface_id), interface_name), 0)
            frames[(int(interface_id), interface_name)] += 1
        captures[name]["interfaces"] = [{"id": i, "name": n, "frames": c} for (i, n), c in sorted(frames.items())]

# Re-sends: a query whose (client address, id, question) was already sent, whatever port or transport; the same key
# sent to a different server address within 50 ms of its previous send is a fan-out (one ask of several servers).
last_send, resends, fanouts = {}, 0, 0
for m in pod_msgs:
    if m["response"]:
        continue
    key = (m["src"], m["id"], m["qname"].lower(), m["qtype"])
    if key in last_send:
        previous_time, previous_server = last_send[key]
        if m["dst"] != previous_server and m["time"] - previous_time <= Decimal("0.05"):
            fanouts += 1
        else:
            resends += 1
    last_send[key] = (m["time"], m["dst"])

# Re-asks with a new id: the same (client address, question) asked again with another id, at least 0.9 s after an
# earlier query of the same lookup (the client's own start and wall time, client.tsv) whose id had no answer yet when
# the new one left. A later lookup asking again after an abandoned query is a new lookup, not a re-send.
def lookup_of(time):
    for i, l in enumerate(lookup_windows):
        if l[0] <= time <= l[1]:
            return i
    return None

lookup_windows = []
with open(d / "client.tsv") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        start = Decimal(row["start"])
        lookup_windows.append((start, start + Decimal(row["wall_s"])))
first_answer = {}
for m in pod_msgs:
    if m["response"]:
        first_answer.setdefault((m["dst"], m["id"], m["qname"].lower(), m["qtype"]), m["time"])
asked = [m for m in pod_msgs if not m["response"]]
resends_new_id = 0
for i, q in enumerate(asked):
    for p in asked[:i]:
        answered_at = first_answer.get((p["src"], p["id"], p["qname"].lower(), p["qtype"]))
        if (p["src"] == q["src"] and p["id"] != q["id"] and (p["qname"].lower(), p["qtype"]) == (q["qname"].lower(), q["qtype"])
                and q["time"] - p["time"] >= Decimal("0.9") and (answered_at is None or answered_at > q["time"])
                and lookup_of(p["time"]) is not None and lookup_of(p["time"]) == lookup_of(q["time"])):
            resends_new_id += 1
            break

# TCP to port 53 on the pod: the client's SYNs (retransmissions included), the SYN-ACKs it got, DNS over TCP.
tcp = {"syns_sent": 0, "syn_acks_received": 0, "dns_over_tcp": any(m["proto"] == "tcp" for m in pod_msgs)}
if (d / "pod.pcap").exists():
    for ack, sport, dport in fields(d / "pod.pcap", "tcp.flags.syn == 1", ["tcp.flags.ack", "tcp.srcport", "tcp.dstport"]):
        if ack in ("0", "False") and dport == "53":
            tcp["syns_sent"] += 1
        elif ack in ("1", "True") and sport == "53":
            tcp["syn_acks_received"] += 1

# The resolv.conf nameservers, and what the pod sent to and got from each.
nameservers = []
for line in (d / "resolv.conf").read_text().splitlines():
    match = re.match(r"\s*nameserver\s+(\S+)", line)
    if match:
        address = match.group(1)
        nameservers.append({"address": address,
                            "queries": sum(1 for m in pod_msgs if not m["response"] and m["dst"] == address),
                            "answers": sum(1 for m in pod_msgs if m["response"] and m["src"] == address)})

# Every named nftables counter; "dropped" counts the DNS queries the node dropped on purpose.
dropped_by_counter = {}
counters = json.loads((d / "counters.json").read_text())
for item in counters.get("nftables", []):
    if "counter" in item and "name" in item["counter"]:
        dropped_by_counter[item["counter"]["name"]] = item["counter"]["packets"]
dropped = dropped_by_counter.get("dropped", 0)

lookups = []
with open(d / "client.tsv") as f:
    for row in csv.DictReader(f, delimiter="\t"):
        lookups.append({"name": row["name"], "wall_s": float(row["wall_s"]), "status": int(row["status"]),
                        "addresses": row["addresses"].split()})

pod, dns = captures.get("pod.pcap", {}), captures.get("dns.pcap", {})
truth = {
    "scenario": d.name,
    "resolv_conf": (d / "resolv.conf").read_text(),
    "captures": captures,
    "queries_sent": pod.get("queries", 0),
    "queries_received_by_server": dns.get("queries", 0),
    "lost_between_pod_and_server": pod.get("queries", 0) - dns.get("queries", 0),
    "nft_dropped": dropped,
    "resends": resends,
    "lookups": lookups,
    "fanouts": fanouts,
    "resends_new_id": resends_new_id,
    "tcp": tcp,
    "dropped_by_counter": dropped_by_counter,
    "nameservers": nameservers,
}
truth["summary_line"] = (
    f'{truth["queries_sent"]} queries sent, {pod.get("answered", 0)} answered, {pod.get("unanswered", 0)} unanswered, '
    f'{truth["lost_between_pod_and_server"]} lost on the way (nft dropped {dropped}), {resends} re-sends; lookups: '
    + ", ".join(f'{l["name"]} {l["wall_s"]:.3f}s' + ("" if l["status"] == 0 else f' (exit {l["status"]})') for l in lookups))
# What summary_line (kept as it always was) does not say.
truth["summary_extra"] = (
    f'{fanouts} fan-outs, {resends_new_id} re-sends with a new id; TCP: {tcp["syns_sent"]} SYNs, '
    f'{tcp["syn_acks_received"]} SYN-ACKs, DNS over TCP {"yes" if tcp["dns_over_tcp"] else "no"}; counters: '
    + ", ".join(f"{k} {v}" for k, v in dropped_by_counter.items()) + "; servers: "
    + ", ".join(f'{n["address"]} {n["queries"]} queries {n["answers"]} answers' for n in nameservers))
json.dump(truth, sys.stdout, indent=1)
print()
