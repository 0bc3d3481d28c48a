#!/usr/bin/env bash
# The hub as a registry server beside Debian's docker-registry (distribution 2.8), measured by
# the shared peer kit exactly as the issue's figures were (../shared/peer-bench/
# peer-registry.sh, NEW_REGISTRY): `docker push` of pb-big (~200 MiB, 6 layers) into each
# emptied server, `docker pull` out of each, then wrk/ab load on a fresh server process of
# each — manifest GET, config blob GET and blob HEAD at concurrency 1, 16 and 64, the 24.8 MB
# layer blob GET at 1, 16 and 64 — with each server's RSS idle, after load and at peak.
# bench/hub.sh adds `skopeo copy` pushes into both servers.
#
# Needs: docker.io (dockerd running), podman, skopeo, hyperfine, wrk, ab, jq; the peer images
# built once with ../shared/peer-bench/peer-images.sh. Results: bench/results/registry.md and
# registry-{push,pull}.*, registry-load.jsonl.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$B/.." && pwd)
PEER=${PEER_BENCH:-$REPO/../shared/peer-bench}
# Debian's docker client, the same version as its dockerd (another docker may come first on PATH).
export PATH=/usr/bin:$PATH
export BENCH_RESULTS=${BENCH_RESULTS:-$B/results}
export RUNS=${RUNS:-3} WRK_SECS=${WRK_SECS:-5} WRK_REPS=${WRK_REPS:-2} CONC_SMALL=${CONC_SMALL:-1 16 64} CONC_BIG=${CONC_BIG:-1 16 64}
NEW_REGISTRY="$REPO/bin/gantry --root {dir}/root hub serve --listen 127.0.0.1:{port} --data {dir}/hub" \
  bash "$PEER/peer-registry.sh"
