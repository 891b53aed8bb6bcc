#!/usr/bin/env python3
"""Ground truth for one lab scenario, computed without dnsflow: tshark decodes the captures, this script matches
queries to responses, and the client's own timings and the nftables counters come from the lab.

  truth.py SCENARIO_DIR  > truth.json

Matching rule (the same as the issue states, implemented independently): a response answers the most recent
unanswered query with the same transport, reversed endpoints, DNS id and question, sent at or before it within
60 s; other queries are unanswered. Latency is exact (decimal arithmetic on tshark's epoch times), in microseconds.
"""
import csv, json, pathlib, subprocess, sys
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

captures = {}
pod_msgs = []
for name in ["pod.pcap", "node-any.pcap", "dns.pcap", "pod.pcapng"]:
    path = d / name
    if not path.exists():
        continue
    msgs = messages(path)
    if name == "pod.pcap":
        pod_msgs = msgs
    ts = transactions(msgs)
    captures[name] = {"queries": sum(1 for m in msgs if not m["response"]), **summary(ts), "transactions": ts}

# Re-sends: a query whose (client address, id, question) was already sent, whatever port or transport.
seen, resends = set(), 0
for m in pod_msgs:
    if m["response"]:
        continue
    key = (m["src"], m["id"], m["qname"].lower(), m["qtype"])
    resends += key in seen
    seen.add(key)

dropped = 0
counters = json.loads((d / "counters.json").read_text())
for item in counters.get("nftables", []):
    if "counter" in item and item["counter"].get("name") == "dropped":
        dropped = item["counter"]["packets"]

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
}
truth["summary_line"] = (
    f'{truth["queries_sent"]} queries sent, {pod.get("answered", 0)} answered, {pod.get("unanswered", 0)} unanswered, '
    f'{truth["lost_between_pod_and_server"]} lost on the way (nft dropped {dropped}), {resends} re-sends; lookups: '
    + ", ".join(f'{l["name"]} {l["wall_s"]:.3f}s' + ("" if l["status"] == 0 else f' (exit {l["status"]})') for l in lookups))
json.dump(truth, sys.stdout, indent=1)
print()
