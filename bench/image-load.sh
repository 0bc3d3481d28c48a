#!/usr/bin/env bash
# `gantry load` of a ~200 MB, 6-layer Docker archive, beside `docker load` of the same archive
# when a docker engine answers (docker.io installed for the benchmark only), in one hyperfine
# call. Layer data: the peer benchmarks' deterministic generator (5 x 40 MiB: random, log text,
# 16 KiB files) on top of the busybox layer. Every run starts from an empty store for that
# image (untimed prepare, then sync). Results: bench/results/image-load.{json,md}.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$B/.." && pwd)
PEER=${PEER_BENCH:-$REPO/../shared/peer-bench}
RESULTS=${BENCH_RESULTS:-$B/results}
WORK=${BENCH_WORK:-/var/tmp/gantry-bench}
RUNS=${RUNS:-10}
GANTRY="$REPO/bin/gantry --root $WORK/load-root"
mkdir -p "$RESULTS" "$WORK"
ARCHIVE=$WORK/big-archive.tar
if [ ! -f "$ARCHIVE" ]; then
  D=$WORK/big-build
  rm -rf "$D" && mkdir -p "$D/ctx"
  python3 "$PEER/gen-data.py" layers "$D/ctx" 5 40
  $GANTRY image bootstrap busybox >/dev/null
  $GANTRY save -o "$D/base.tar" busybox:latest
  mkdir -p "$D/base" && tar -xf "$D/base.tar" -C "$D/base"
  python3 - "$D" "$ARCHIVE" <<'PY'
import hashlib, json, os, subprocess, sys, tarfile
d, out = sys.argv[1], sys.argv[2]
base = json.load(open(f"{d}/base/manifest.json"))[0]
cfg = json.load(open(f"{d}/base/{base['Config']}"))
layers = [f"{d}/base/{l}" for l in base["Layers"]]
for k in range(1, 6):
    lt = f"{d}/layer{k}.tar"
    subprocess.run(["tar", "-C", f"{d}/ctx", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
                    "--transform", f"s,^layer{k},data/layer{k},", "-cf", lt, f"layer{k}"], check=True)
    layers.append(lt)
    h = hashlib.sha256(open(lt, "rb").read()).hexdigest()
    cfg["rootfs"]["diff_ids"].append("sha256:" + h)
    cfg.setdefault("history", []).append({"created": cfg.get("created"), "created_by": f"COPY layer{k} /data/layer{k}"})
cfgb = json.dumps(cfg).encode()
ch = hashlib.sha256(cfgb).hexdigest()
with tarfile.open(out, "w") as t:
    names = []
    for i, l in enumerate(layers):
        n = f"{i}/layer.tar"
        t.add(l, arcname=n)
        names.append(n)
    p = f"{d}/{ch}.json"
    open(p, "wb").write(cfgb)
    t.add(p, arcname=f"{ch}.json")
    m = f"{d}/manifest.json"
    json.dump([{"Config": f"{ch}.json", "RepoTags": ["gantry-bench/big:latest"], "Layers": names}], open(m, "w"))
    t.add(m, arcname="manifest.json")
PY
  rm -rf "$D"
fi
size=$(du -m "$ARCHIVE" | cut -f1)
args=(-n "gantry load (${size} MB, 6 layers)" --prepare "$GANTRY image prune -a -f >/dev/null; sync" "$GANTRY load -q -i $ARCHIVE")
if docker info >/dev/null 2>&1; then
  args+=(-n "docker load (${size} MB, 6 layers)" --prepare "docker rmi -f gantry-bench/big:latest >/dev/null 2>&1 || true; docker image prune -f >/dev/null; sync" "docker load -q -i $ARCHIVE")
fi
args+=(-n "floor: tar -xf (outer archive only)" --prepare "rm -rf $WORK/floor && mkdir -p $WORK/floor && sync" "tar -xf $ARCHIVE -C $WORK/floor")
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$RESULTS/image-load.json" "${args[@]}" >&2
python3 "$B/hfsum.py" "$RESULTS/image-load.json" >"$RESULTS/image-load.md"
cat "$RESULTS/image-load.md"
