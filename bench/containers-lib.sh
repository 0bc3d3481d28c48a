# Shared set-up for the container benchmarks (container-start.sh, container-fleet.sh,
# container-mem.sh, ps-scale.sh). Source it; do not run it.
#
# The peers are measured with the peer benchmark kit (/work/shared/peer-bench, PEER_BENCH): its
# scratch directory (PEER_WORK, default /var/tmp/peer-bench, the kit's own default) holds the
# busybox rootfs and bbroot.tar that docker and gantry both import as pb-busybox, so both run
# the same bytes. gantry's state roots live in this project's scratch directory (BENCH_WORK,
# default /var/tmp/gantry-bench), one per script, and are removed when the script ends.
#
# Environment: BENCH_WORK, BENCH_RESULTS (default bench/results), PEER_BENCH, PEER_WORK,
#   DOCKER_CLI   the docker client to time (default /usr/bin/docker, Debian's docker.io client,
#                the same version as its dockerd; another docker may come first on PATH)
#   LOAD_MAX     wait while the 1-minute load average is above this (default 1.5), checking
#                every 60 s up to LOAD_TRIES (default 10) times, then go on with a warning.
set -euo pipefail
B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$B/.." && pwd)
PEER=${PEER_BENCH:-$(cd "$REPO/../shared/peer-bench" 2>/dev/null && pwd || echo /work/shared/peer-bench)}
PWORK=${PEER_WORK:-/var/tmp/peer-bench}
RESULTS=${BENCH_RESULTS:-$B/results}
WORK=${BENCH_WORK:-/var/tmp/gantry-bench}
IMG=pb-busybox:latest
mkdir -p "$RESULTS" "$WORK" "$PWORK"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The kit's scripts call plain `docker`: put the chosen client first on PATH for them and us.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
if [ "$(command -v docker || true)" != "$DOCKER_CLI" ]; then
  mkdir -p "$WORK/bin"
  ln -sfn "$DOCKER_CLI" "$WORK/bin/docker"
  export PATH="$WORK/bin:$PATH"
fi
docker info >/dev/null 2>&1 || die "no docker engine answers (start dockerd first)"
HAVE_PODMAN=$(command -v podman >/dev/null && echo 1 || true)

# The kit's helpers (machine_info, podman's containers.conf) in a subshell, so that its
# variables (WORK, RESULTS, ...) do not mix with ours.
kit() { BENCH_WORK=$PWORK BENCH_RESULTS=$WORK/peer-results bash -c 'source "$0/lib.sh"; "$@"' "$PEER" "$@"; }
# gantry_build: version, commit, the sha256 (start) of the bundle dist/gantry.mjs, and whether
# bin/gantry starts from its V8 startup snapshot (dist/gantry.blob, used when it is there and
# newer than node; the blob itself differs from build to build), so that results from
# different builds are told apart.
gantry_build() {
  local mjs=$REPO/dist/gantry.mjs blob=$REPO/dist/gantry.blob how=bundle
  [ -f "$blob" ] && [ "$blob" -nt "$(readlink -f "$(command -v node)")" ] && how="snapshot $(sha256sum "$blob" | cut -c1-12)"
  echo "gantry $("$REPO/bin/gantry" --version | awk '{print $3}') at $(git -C "$REPO" rev-parse --short HEAD), dist/gantry.mjs $(sha256sum "$mjs" | cut -c1-12) started from $how (node $(node --version))"
}
machine() {
  kit machine_info 2>/dev/null
  echo "$(gantry_build); docker CLI: $DOCKER_CLI $(docker version -f '{{.Client.Version}}'); conmon $(conmon --version | awk 'NR==1{print $3}')"
}

wait_quiet() {
  local i load
  for i in $(seq 1 "${LOAD_TRIES:-10}"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    awk -v l="$load" -v m="${LOAD_MAX:-1.5}" 'BEGIN{exit !(l <= m)}' && return 0
    log "load average $load > ${LOAD_MAX:-1.5}; waiting 60 s ($i)"
    sleep 60
  done
  log "WARNING: load average still $(cut -d' ' -f1 /proc/loadavg); measuring anyway"
}

# The test image for the peers: the kit's peer-images.sh when podman is installed. Without
# podman that script stops at `podman import`, so the same steps for docker are done here:
# the same static busybox rootfs, the same reproducible tarball, the same import changes.
peer_images() {
  if [ -n "$HAVE_PODMAN" ]; then
    BENCH_WORK=$PWORK BENCH_RESULTS=$WORK/peer-results "$PEER/peer-images.sh"
    return
  fi
  local r=$PWORK/bbroot a
  if [ ! -x "$r/bin/busybox" ] || [ ! -f "$PWORK/bbroot.tar" ]; then
    log "busybox rootfs in $r"
    rm -rf "$r"
    mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run}
    cp /usr/bin/busybox "$r/bin/busybox"
    for a in $("$r/bin/busybox" --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
    echo 'root:x:0:' >"$r/etc/group"
    chmod 1777 "$r/tmp"
    tar -C "$r" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$PWORK/bbroot.tar" .
  fi
  if ! docker image inspect "$IMG" >/dev/null 2>&1; then
    log "docker import $IMG"
    docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$PWORK/bbroot.tar" "$IMG" >/dev/null
  fi
}

# gantry_root DIR: a fresh state root with pb-busybox imported from the same tarball.
gantry_root() {
  rm -rf "$1"
  "$REPO/bin/gantry" --root "$1" import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
    "$PWORK/bbroot.tar" "$IMG" >/dev/null
}

# drop_gantry_root DIR: remove every container of the root, the root, and its run directory
# (/run/gantry-<first 12 hex of sha256(root)>, see src/containers/paths.ts).
drop_gantry_root() {
  local root=$1 g="$REPO/bin/gantry --root $1" ids run
  [ -d "$root" ] || return 0
  ids=$($g ps -aq 2>/dev/null || true)
  [ -z "$ids" ] || echo "$ids" | xargs -n 100 $g rm -f >/dev/null 2>&1 || true
  run=/run/gantry-$(printf %s "$root" | sha256sum | cut -c1-12)
  if [ -n "$($g ps -aq 2>/dev/null || true)" ]; then
    log "WARNING: containers left in $root; keeping it"
    return 0
  fi
  rm -rf "$root"
  # nothing mounted is left there once every container is gone: netns/ holds the bind mounts
  if [ -d "$run" ] && [ -z "$(ls -A "$run/netns" 2>/dev/null)" ]; then rm -rf "$run"; fi
  return 0
}
