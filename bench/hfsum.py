#!/usr/bin/env python3
"""hyperfine JSON -> markdown table: median, min, max, mean +- sd (seconds), and ratio to the first row."""
import json, statistics, sys

rows = json.load(open(sys.argv[1]))["results"]
print("| command | median s | min s | max s | mean ± sd s | × first |")
print("|---|---:|---:|---:|---:|---:|")
first = statistics.median(rows[0]["times"]) if rows else 1
for r in rows:
    t = r["times"]
    med = statistics.median(t)
    sd = statistics.stdev(t) if len(t) > 1 else 0
    print(f"| {r['command']} | {med:.3f} | {min(t):.3f} | {max(t):.3f} | {statistics.mean(t):.3f} ± {sd:.3f} | {med / first:.2f} |")
