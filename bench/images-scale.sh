#!/usr/bin/env bash
# How `gantry images` time grows with the number of images: 1, 100 and 1,000 distinct images,
# each in its own state root, timed with hyperfine. Results: bench/results/images-scale.{json,md}.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
RESULTS=${BENCH_RESULTS:-$B/results}
WORK=${BENCH_WORK:-/var/tmp/gantry-bench}
RUNS=${RUNS:-10}
mkdir -p "$RESULTS" "$WORK"
args=()
for n in 1 100 1000; do
  root=$WORK/images-$n
  if [ ! -f "$root/.made" ]; then
    rm -rf "$root"
    node "$B/make-images.mjs" "$root" "$n"
    touch "$root/.made"
  fi
  args+=(-n "gantry images ($n images)" "node $B/../bin/gantry.js --root $root images")
done
hyperfine --style basic --warmup 2 --runs "$RUNS" --export-json "$RESULTS/images-scale.json" "${args[@]}" >&2
python3 "$B/hfsum.py" "$RESULTS/images-scale.json" >"$RESULTS/images-scale.md"
cat "$RESULTS/images-scale.md"
