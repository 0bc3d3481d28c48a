#!/usr/bin/env bash
# N (default 50) long-running containers (`sleep 3600`), per tool:
#   start N sequential   one `run -d` after another
#   start N parallel     N `run -d` at once; `run -d` returns once the process runs, so the time
#                        until the last one returns is the time until all N run (checked once
#                        afterwards with `ps -q`)
#   rm -f N              one `rm -f` naming all N (untimed prepare: the parallel start)
# for gantry and docker (and podman, `rm -f -t 0`, when installed), in one hyperfine call.
# The kit's peer-fleet.sh with NEW_RUN/NEW_RM/NEW_PS does the same, but its podman rows are
# fixed and podman is not installed here, so its steps are done here with the peers present.
# Env: N (default 50), RUNS (default 5), WARMUP (default 1).
# Results: bench/results/container-fleet.{json,md}.
source "$(dirname "$0")/containers-lib.sh"
N=${N:-50}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
ROOT=$WORK/fleet-root
G="$REPO/bin/gantry --root $ROOT"

wait_quiet
peer_images
gantry_root "$ROOT"

tools=(gantry docker)
declare -A RUN RM PS
RUN[gantry]="$G run -d --name {name} $IMG sleep 3600"
RM[gantry]="$G rm -f {names}"
PS[gantry]="$G ps -q"
RUN[docker]="docker run -d --name {name} $IMG sleep 3600"
RM[docker]="docker rm -f {names}"
PS[docker]="docker ps -q --filter name=pb-fleet-docker-"
if [ -n "$HAVE_PODMAN" ]; then
  kit podman_setup
  export CONTAINERS_CONF=$PWORK/containers.conf
  tools+=(podman)
  RUN[podman]="podman run -d --name {name} localhost/$IMG sleep 3600"
  RM[podman]="podman rm -f -t 0 {names}"
  PS[podman]="podman ps -q --filter name=pb-fleet-podman-"
fi

# One small script per tool and phase keeps hyperfine's command lines short.
D=$WORK/fleet
mkdir -p "$D"
for t in "${tools[@]}"; do
  names=$(for i in $(seq 1 "$N"); do printf '%s ' "pb-fleet-$t-$i"; done)
  run=${RUN[$t]}
  rm=${RM[$t]}
  {
    echo 'set -e'
    for i in $(seq 1 "$N"); do echo "${run//\{name\}/pb-fleet-$t-$i} >/dev/null"; done
  } >"$D/$t-seq.sh"
  {
    echo 'pids=""'
    for i in $(seq 1 "$N"); do echo "${run//\{name\}/pb-fleet-$t-$i} >/dev/null & pids=\"\$pids \$!\""; done
    echo 'rc=0; for p in $pids; do wait $p || rc=1; done; exit $rc'
  } >"$D/$t-par.sh"
  echo "${rm//\{names\}/$names} >/dev/null" >"$D/$t-rm.sh"
  echo "${rm//\{names\}/$names} >/dev/null 2>&1 || true" >"$D/$t-clean.sh"
done

cleanup() {
  for t in "${tools[@]}"; do bash "$D/$t-clean.sh"; done
  drop_gantry_root "$ROOT"
  rm -rf "$D"
}
trap cleanup EXIT
for t in "${tools[@]}"; do bash "$D/$t-clean.sh"; done

args=()
for phase in seq par rm; do
  for t in "${tools[@]}"; do
    case $phase in
      seq) args+=(-n "$t: start $N sequential" --prepare "bash $D/$t-clean.sh" "bash $D/$t-seq.sh") ;;
      par) args+=(-n "$t: start $N parallel" --prepare "bash $D/$t-clean.sh" "bash $D/$t-par.sh") ;;
      rm) args+=(-n "$t: rm -f $N" --prepare "bash $D/$t-clean.sh; bash $D/$t-par.sh" "bash $D/$t-rm.sh") ;;
    esac
  done
done
{
  echo "# $N containers (RUNS=$RUNS, WARMUP=$WARMUP)"
  echo
  machine | sed 's/^/    /'
  echo
} >"$RESULTS/container-fleet.head"
hyperfine --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$RESULTS/container-fleet.json" "${args[@]}" >&2

# check: the parallel start leaves N running containers
for t in "${tools[@]}"; do
  bash "$D/$t-clean.sh"
  bash "$D/$t-par.sh" || log "WARNING: a $t start failed"
  n=$(${PS[$t]} | wc -l)
  echo "- check $t: $n of $N running after the parallel start" >>"$RESULTS/container-fleet.head"
  [ "$n" -eq "$N" ] || log "WARNING: $t has $n of $N running"
  bash "$D/$t-clean.sh"
done
echo >>"$RESULTS/container-fleet.head"
{
  cat "$RESULTS/container-fleet.head"
  python3 "$B/hfsum.py" --pair gantry:docker "$RESULTS/container-fleet.json"
} >"$RESULTS/container-fleet.md"
rm -f "$RESULTS/container-fleet.head"
cat "$RESULTS/container-fleet.md"
