#!/usr/bin/env python3
"""Run lookups one after another and time each, as the application would see it (inside the pod's namespace).

  lookup.py OUT.tsv RESOLVER NAME...     RESOLVER: glibc (getent ahosts) or a path to the musl binary
Writes: name, start (epoch seconds), wall seconds, exit status, addresses (space-separated).
"""
import subprocess, sys, time

out, resolver, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "w") as f:
    f.write("name\tstart\twall_s\tstatus\taddresses\n")
    for name in names:
        argv = ["getent", "ahosts", name] if resolver == "glibc" else [resolver, name]
        start_epoch, start = time.time(), time.monotonic()
        run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        wall = time.monotonic() - start
        addresses = sorted({line.split()[0] for line in run.stdout.splitlines() if "STREAM" in line})
        f.write(f"{name}\t{start_epoch:.6f}\t{wall:.6f}\t{run.returncode}\t{' '.join(addresses)}\n")
        f.flush()
        time.sleep(0.2)
