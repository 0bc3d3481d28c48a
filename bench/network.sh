#!/usr/bin/env bash
# Networking side by side with docker (issue 8):
#   1. `run --rm IMAGE true` latency on the default bridge network (and --network none, the
#      same without CNI), gantry and docker, interleaved in one hyperfine call;
#   2. throughput of a published port: HTTP requests/s (wrk, 2 threads, 32 connections, 10 s)
#      to a busybox httpd serving a small file, through 127.0.0.1 (docker: its userland proxy;
#      gantry: portmap's DNAT with route_localnet) and through each tool's own bridge gateway
#      (both: iptables DNAT; the bench sends nothing to the host's other addresses);
#   3. time to create and remove 20 networks.
# All traffic stays on this machine. Needs: docker.io (dockerd running), hyperfine, wrk.
# Env: RUNS (default 20), WARMUP (default 3). Results: bench/results/network.{json,md}.
source "$(dirname "$0")/containers-lib.sh"
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
ROOT=$WORK/network-root
G="$REPO/bin/gantry --root $ROOT"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"

wait_quiet
peer_images
gantry_root "$ROOT"

cleanup() {
  docker rm -f pb-net-web >/dev/null 2>&1 || true
  for i in $(seq 1 20); do docker network rm "pb-net-$i" >/dev/null 2>&1 || true; done
  $G network prune -f >/dev/null 2>&1 || true
  drop_gantry_root "$ROOT"
}
trap cleanup EXIT

# 1. run --rm latency.
hyperfine -N --runs "$RUNS" --warmup "$WARMUP" --export-json "$RESULTS/network-run.json" \
  -n "gantry run --rm (bridge)" "$G run --rm $IMG true" \
  -n "gantry run --rm --network none" "$G run --rm --network none $IMG true" \
  -n "docker run --rm (bridge)" "docker run --rm $IMG true" \
  -n "docker run --rm --network none" "docker run --rm --network none $IMG true" >&2

# 2. A published port: through 127.0.0.1, and through the gateway of each tool's default bridge
# (an address on a bridge the tool under test made) for the iptables DNAT path.
G_GW=$($G network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
# (docker 20.10 leaves Gateway out of its default bridge's IPAM config: docker0's address.)
D_GW=$(ip -4 -o addr show docker0 | awk '{split($4, a, "/"); print a[1]; exit}')
WEB='mkdir -p /www && head -c 1024 /dev/zero | tr "\0" x > /www/index.html && exec httpd -f -p 80 -h /www'
GPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])')
DPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])')
$G run -d --name pb-net-web -p "$GPORT:80" "$IMG" sh -c "$WEB" >/dev/null
docker run -d --name pb-net-web -p "$DPORT:80" "$IMG" sh -c "$WEB" >/dev/null
sleep 1
rps() { wrk -t2 -c32 -d10s "$1" | awk '/Requests\/sec/ {print $2}'; }
declare -A RPS
RPS[gantry-lo]=$(rps "http://127.0.0.1:$GPORT/")
RPS[docker-lo]=$(rps "http://127.0.0.1:$DPORT/")
RPS[gantry-host]=$(rps "http://$G_GW:$GPORT/")
RPS[docker-host]=$(rps "http://$D_GW:$DPORT/")
$G rm -f pb-net-web >/dev/null
docker rm -f pb-net-web >/dev/null

# 3. 20 networks created, then removed.
t() { local s e; s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
g_create=$(t bash -c "for i in \$(seq 1 20); do $G network create pb-net-\$i; done")
g_remove=$(t bash -c "for i in \$(seq 1 20); do $G network rm pb-net-\$i; done")
d_create=$(t bash -c 'for i in $(seq 1 20); do docker network create pb-net-$i; done')
d_remove=$(t bash -c 'for i in $(seq 1 20); do docker network rm pb-net-$i; done')

{
  echo "# Networking: gantry and docker"
  echo
  echo "## run --rm IMAGE true ($RUNS runs)"
  echo
  echo "| command | mean ms | ± ms |"
  echo "|---|---:|---:|"
  python3 - "$RESULTS/network-run.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"| {r['command']} | {r['mean']*1000:.0f} | {r['stddev']*1000:.0f} |")
PY
  echo
  echo "## Published port: HTTP requests/s (wrk -t2 -c32 -d10s, 1 KiB file, busybox httpd)"
  echo
  echo "| path | gantry | docker |"
  echo "|---|---:|---:|"
  echo "| 127.0.0.1:PORT | ${RPS[gantry-lo]} | ${RPS[docker-lo]} |"
  echo "| bridge gateway:PORT (gantry $G_GW, docker $D_GW) | ${RPS[gantry-host]} | ${RPS[docker-host]} |"
  echo
  echo "## 20 networks (ms for all 20)"
  echo
  echo "| | gantry | docker |"
  echo "|---|---:|---:|"
  echo "| create | $g_create | $d_create |"
  echo "| remove | $g_remove | $d_remove |"
  echo
  machine
} >"$RESULTS/network.md"
cat "$RESULTS/network.md"
