#!/usr/bin/env bash
# push and pull of the peer benchmarks' `pb-big` image (~200 MiB, 6 layers, ~125 MB gzipped)
# through a local docker-registry 2.8, gantry beside `docker push/pull`, `skopeo copy` and
# `podman push/pull` in the same hyperfine calls: the shared peer script
# (../shared/peer-bench/peer-registry.sh) takes gantry's commands as NEW_* templates, so every
# tool is measured the same way in one run. Push: into an emptied registry each run. Pull: into
# a store without the image each run (gantry: `rmi`, which collects the image's blobs and
# snapshots). gantry keeps its own state root so the default store is not touched.
#
# Needs: docker.io (dockerd running), podman, skopeo, hyperfine, wrk, ab, jq; the peer images
# built once with ../shared/peer-bench/peer-images.sh. The server-load part of the peer script
# is shortened (WRK_SECS=2, one repetition): it measures docker-registry, not the clients.
# Results: bench/results/registry-push.{json,md}, registry-pull.{json,md}, registry.md.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$B/.." && pwd)
PEER=${PEER_BENCH:-$REPO/../shared/peer-bench}
WORK=${BENCH_WORK:-/var/tmp/gantry-bench}
ROOT=$WORK/registry-root
G="$REPO/bin/gantry --root $ROOT"
mkdir -p "$ROOT"
# Debian's docker client, the same version as its dockerd (another docker may come first on PATH).
export PATH=/usr/bin:$PATH
export BENCH_RESULTS=${BENCH_RESULTS:-$B/results}
export WRK_SECS=${WRK_SECS:-2} WRK_REPS=${WRK_REPS:-1} CONC_SMALL=${CONC_SMALL:-1} CONC_BIG=${CONC_BIG:-1}
NEW_SETUP="$G pull -q {ref} >/dev/null" \
NEW_PUSH="$G push -q {ref}" \
NEW_PULL="$G pull -q {ref}" \
NEW_RMI="$G rmi {ref}" \
  bash "$PEER/peer-registry.sh"
