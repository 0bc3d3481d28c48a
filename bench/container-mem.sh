#!/usr/bin/env bash
# Memory per running container: the kit's peer-mem.sh (/work/shared/peer-bench) with gantry as
# its "new" peer. N (default 20) `sleep 36xx` containers at once per tool, settle, read /proc:
# the per-container supervisor (conmon for gantry, containerd-shim-runc-v2 for docker) RSS and
# PSS, the container's PID 1, daemon growth (dockerd + containerd; gantry has no daemon) and the
# MemAvailable drop; then remove them. REPS (default 3) repetitions, tools interleaved.
# The kit also tries podman; without podman those starts fail (warnings) and its row is empty,
# so it is dropped from the table here. Env: N, REPS, SETTLE (the kit's).
# Results: bench/results/container-mem.{md,jsonl}.
source "$(dirname "$0")/containers-lib.sh"
ROOT=$WORK/mem-root
G="$REPO/bin/gantry --root $ROOT"

wait_quiet
peer_images
gantry_root "$ROOT"
trap 'drop_gantry_root "$ROOT"' EXIT

OUT=$WORK/peer-results/mem
mkdir -p "$OUT"
BENCH_WORK=$PWORK BENCH_RESULTS=$OUT \
  NEW_RUN="$G run -d --name {name} $IMG {cmd}" NEW_RM="$G rm -f {names}" NEW_DAEMON= \
  "$PEER/peer-mem.sh"

cp "$OUT/mem.jsonl" "$RESULTS/container-mem.jsonl"
extra="    $(gantry_build); docker CLI: $DOCKER_CLI $(docker version -f '{{.Client.Version}}')"
{
  awk -v extra="$extra" '/^    / && inblock == 0 { inblock = 1 } !/^    / && inblock == 1 { print extra; inblock = 2 } { print }' "$OUT/mem.md" |
    sed -e 's/^| new |/| gantry |/' | if [ -n "$HAVE_PODMAN" ]; then cat; else grep -v '^| podman |'; fi
} >"$RESULTS/container-mem.md"
cat "$RESULTS/container-mem.md"
