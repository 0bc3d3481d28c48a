#!/usr/bin/env python3
"""hyperfine JSON -> markdown table: median, min, max, mean +- sd (seconds), and ratios.

Usage: hfsum.py [--vs NAME=LABEL]... [--pair A:B]... result.json [more.json ...]

Without options the last column is the ratio of each median to the first row's ("× first").
--vs NAME=LABEL  adds a column "× NAME": each median over the median of the row labelled LABEL.
--pair A:B       adds a column "× B": a row whose label starts with A is divided by the row with
                 the same label where that prefix is B (gantry:docker pairs "gantry ps -a (100
                 containers)" with "docker ps -a (100 containers)"); other rows stay empty.
With --vs or --pair, "× first" is left out. Several JSON files are read as one table, in order.
"""
import json, statistics, sys

vs, pairs, files = [], [], []
args = sys.argv[1:]
while args:
    a = args.pop(0)
    if a == "--vs":
        name, label = args.pop(0).split("=", 1)
        vs.append((name, label))
    elif a == "--pair":
        pairs.append(tuple(args.pop(0).split(":", 1)))
    else:
        files.append(a)

rows = []
for f in files:
    rows.extend(json.load(open(f))["results"])
med = {r["command"]: statistics.median(r["times"]) for r in rows}

cols = [f"× {n}" for n, _ in vs] + [f"× {b}" for _, b in pairs] if (vs or pairs) else ["× first"]
print("| command | median s | min s | max s | mean ± sd s | " + " | ".join(cols) + " |")
print("|---|---:|---:|---:|---:|" + "---:|" * len(cols))
first = statistics.median(rows[0]["times"]) if rows else 1
for r in rows:
    t = r["times"]
    m = statistics.median(t)
    sd = statistics.stdev(t) if len(t) > 1 else 0
    if vs or pairs:
        ratios = [f"{m / med[label]:.2f}" if label in med else "" for _, label in vs]
        for a, b in pairs:
            other = b + r["command"][len(a):] if r["command"].startswith(a) else None
            ratios.append(f"{m / med[other]:.2f}" if other in med else "")
    else:
        ratios = [f"{m / first:.2f}"]
    print(f"| {r['command']} | {m:.3f} | {min(t):.3f} | {max(t):.3f} | {statistics.mean(t):.3f} ± {sd:.3f} | "
          + " | ".join(ratios) + " |")
