#!/usr/bin/env bash
# Image builds: the kit's peer-build.sh (../shared/peer-bench) — a 3-stage Dockerfile over a
# 2,000-file context: cold (--no-cache), warm (every step cached), one file touched (mtime
# only) and one file edited — with gantry's commands passed in as NEW_BUILD templates, so
# `gantry build` and `docker build` (classic builder, DOCKER_BUILDKIT=0) are timed in the same
# hyperfine calls on the same context and the same busybox image bytes. gantry keeps its own
# state root; -q on both sides (the kit's docker commands use it), so no progress is drawn.
# Needs: docker.io (dockerd running), hyperfine, python3. PEERS (default "docker") adds
# buildah when installed. Results: bench/results/build.{json,md}.
source "$(dirname "$0")/containers-lib.sh"
ROOT=$WORK/build-root
G="$REPO/bin/gantry --root $ROOT"

wait_quiet
peer_images
gantry_root "$ROOT"
machine >"$WORK/build-machine.txt"

NEW_BUILD="$G build -q -t {tag} {ctx}" \
NEW_BUILD_COLD="$G build -q --no-cache -t {tag} {ctx}" \
NEW_CLEAN="$G rmi {tag}; $G builder prune -a -f" \
PEERS=${PEERS:-docker} BENCH_WORK=$PWORK BENCH_RESULTS=$RESULTS \
  bash "$PEER/peer-build.sh"
cat "$WORK/build-machine.txt" >>"$RESULTS/build.md"

# The kit counts cache hits for its own peers only: gantry's, from --progress plain (a step
# vertex is a `#N [stage i/n]` line, FROM included; a hit is a `#N CACHED` line).
CTX=$PWORK/buildctx ONE=$PWORK/buildctx/src/d05/f0105.txt
gantry_hits() {
  local out
  out=$($G build --progress plain -t pb-build-new:latest "$CTX" 2>&1)
  echo "| gantry | $1 | $(grep -cE '^#[0-9]+ CACHED$' <<<"$out") | $(grep -E '^#[0-9]+ \[[^]]+ [0-9]+/[0-9]+\]' <<<"$out" | cut -d' ' -f1 | sort -u | wc -l) |"
}
{
  echo
  echo "gantry's cache hits in one untimed build per variant (steps counts FROM lines too):"
  echo
  echo "| peer | variant | cache hits | steps |"
  echo "|---|---|---:|---:|"
  $G build -q -t pb-build-new:latest "$CTX" >/dev/null
  gantry_hits warm
  touch "$ONE"
  gantry_hits "touch (mtime)"
  echo "// edit $(date +%s%N)" >>"$ONE"
  gantry_hits "edit one file"
} >>"$RESULTS/build.md"
drop_gantry_root "$ROOT"
