#!/usr/bin/env python3
"""Regenerate Fixtures/expected/ from the built binary, one file per line of Fixtures/MANIFEST.tsv.

Review `git diff Fixtures/expected` before committing: these files are the fixture test's ground truth.
Usage: scripts/update-expected.py [path/to/dnsflow]   (default: the debug build)
"""
import pathlib, shlex, subprocess, sys

root = pathlib.Path(__file__).resolve().parent.parent
binary = sys.argv[1] if len(sys.argv) > 1 else subprocess.run(
    ["swift", "build", "--show-bin-path"], cwd=root, capture_output=True, text=True, check=True).stdout.strip() + "/dnsflow"
captures = root / "Fixtures" / "captures"
count = 0
for line in (root / "Fixtures" / "MANIFEST.tsv").read_text().splitlines():
    if not line or line.startswith("#"):
        continue
    files, args, expected, status = line.split("\t")
    argv = [binary] + [a for f in files.split() for a in ("-r", f)] + shlex.split(args)
    run = subprocess.run(argv, cwd=captures, capture_output=True)
    if run.returncode != int(status):
        sys.exit(f"{files} {args}: exit {run.returncode}, manifest says {status}\n{run.stderr.decode()}")
    (root / "Fixtures" / "expected" / expected).write_bytes(run.stdout)
    count += 1
print(f"wrote {count} expected outputs")
