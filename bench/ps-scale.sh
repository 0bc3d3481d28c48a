#!/usr/bin/env bash
# How `ps -a` time grows with the number of containers: 1, 100 and 1,000 created (never started)
# `pb-busybox true` containers, gantry beside docker. Both stores grow together (created 4 at a
# time with xargs -P 4; creation times go into the results header), and at each count one
# hyperfine call times `gantry ps -a` and `docker ps -a` (-N, no shell).
# docker's containers are counted by the daemon as a whole, so the script refuses to start when
# docker already has containers. If creating one batch of docker containers takes longer than
# DOCKER_CREATE_MAX seconds (default 300), docker is left out from that count on.
# Env: RUNS (default 10), WARMUP (default 2), COUNTS (default "1 100 1000"), DOCKER_CREATE_MAX.
# Results: bench/results/ps-scale-<count>.json, bench/results/ps-scale.md.
source "$(dirname "$0")/containers-lib.sh"
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
COUNTS=${COUNTS:-1 100 1000}
DOCKER_CREATE_MAX=${DOCKER_CREATE_MAX:-300}
ROOT=$WORK/ps-root
G="$REPO/bin/gantry --root $ROOT"
LABEL=pb-bench=ps-scale

wait_quiet
peer_images
[ -z "$(docker ps -aq)" ] || die "docker already has containers; docker ps -a would count them too"
gantry_root "$ROOT"
cleanup() {
  docker ps -aq --filter "label=$LABEL" | xargs -r -n 100 docker rm -f >/dev/null 2>&1 || true
  drop_gantry_root "$ROOT"
}
trap cleanup EXIT

HEAD=$RESULTS/ps-scale.head
{
  echo "# ps -a with 1 to 1,000 created containers (RUNS=$RUNS, WARMUP=$WARMUP)"
  echo
  machine | sed 's/^/    /'
  echo
} >"$HEAD"

# create COUNT CLI...: COUNT `CLI create --label ... pb-busybox true`, 4 at a time; prints seconds
create() {
  local n=$1 t0
  shift
  t0=$(date +%s.%N)
  seq 1 "$n" | xargs -P 4 -I{} "$@" create --label "$LABEL" "$IMG" true >/dev/null || log "WARNING: some $1 creates failed"
  echo "$(date +%s.%N) - $t0" | bc
}

have=0
docker_on=1
files=()
for n in $COUNTS; do
  add=$((n - have))
  log "creating $add containers (to $n)"
  tg=$(create "$add" $G)
  td=skipped
  if [ -n "$docker_on" ]; then
    export -f create log
    export LABEL IMG
    if td=$(timeout "$DOCKER_CREATE_MAX" bash -c 'create "$@"' _ "$add" docker); then :; else
      log "docker create of $add took more than $DOCKER_CREATE_MAX s: no docker rows from $n containers on"
      td="stopped after $DOCKER_CREATE_MAX s"
      docker_on=
    fi
  fi
  have=$n
  ng=$($G ps -aq | wc -l)
  nd=$(docker ps -aq | wc -l)
  printf -- '- to %s containers: %s creates, gantry %.1f s, docker %s (counted: gantry %s, docker %s)\n' \
    "$n" "$add" "$tg" "$( [ -n "$docker_on" ] && printf '%.1f s' "$td" || echo "$td")" "$ng" "$nd" >>"$HEAD"
  args=(-n "gantry ps -a ($ng containers)" "$G ps -a")
  [ -n "$docker_on" ] && args+=(-n "docker ps -a ($nd containers)" "docker ps -a")
  wait_quiet
  hyperfine --style basic -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$RESULTS/ps-scale-$n.json" "${args[@]}" >&2
  files+=("$RESULTS/ps-scale-$n.json")
done
echo >>"$HEAD"
{
  cat "$HEAD"
  python3 "$B/hfsum.py" --pair gantry:docker "${files[@]}"
} >"$RESULTS/ps-scale.md"
rm -f "$HEAD"
cat "$RESULTS/ps-scale.md"
