#!/usr/bin/env python3
"""Run lookups one after another and time each, as the application would see it (inside the pod's namespace).

  lookup.py OUT.tsv RESOLVER NAME...
RESOLVER: glibc (getent ahosts), go:PATH (the Go client, scripts/lab/go-lookup, run with GODEBUG=netdns=go so that
nothing but the pure-Go resolver answers), or a path to the musl binary.
Writes: name, start (epoch seconds), wall seconds, exit status, addresses (space-separated).
"""
import os, subprocess, sys, time

out, resolver, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "w") as f:
    f.write("name\tstart\twall_s\tstatus\taddresses\n")
    for name in names:
        env = None
        if resolver == "glibc":
            argv = ["getent", "ahosts", name]
        elif resolver.startswith("go:"):
            argv, env = [resolver[3:], name], {**os.environ, "GODEBUG": "netdns=go"}
        else:
            argv = [resolver, name]
        start_epoch, start = time.time(), time.monotonic()
        run = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        wall = time.monotonic() - start
        addresses = sorted({line.split()[0] for line in run.stdout.splitlines() if "STREAM" in line})
        f.write(f"{name}\t{start_epoch:.6f}\t{wall:.6f}\t{run.returncode}\t{' '.join(addresses)}\n")
        f.flush()
        if run.returncode != 0:
            # The client's own words on a failed lookup (Go's error, musl's gai_strerror) go to the lab's log.
            print(f"lab: {name}: exit {run.returncode}: {(run.stderr + run.stdout).strip()}", file=sys.stderr)
        time.sleep(0.2)
