#!/usr/bin/env bash
# The hub against Debian's docker-registry (distribution 2.8) on the same machine and data:
# manifest GET requests/s and blob GET MB/s at concurrency 1, 16 and 64 (wrk, WRK_SECS each,
# keep-alive, loopback), idle and peak RSS of each server, and `skopeo copy` of one ~200 MB
# image (OCI layout made here: one random 200 MiB layer, digests preserved) into each, timed:
# PUSH_RUNS (default 5) pairs of fresh, empty servers, the order alternating, medians reported.
#
# Needs: wrk, skopeo, docker-registry, node. Results: bench/results/hub.md.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$B/.." && pwd)
WORK=${BENCH_WORK:-/var/tmp/gantry-bench}/hub
SECS=${WRK_SECS:-5}
LAYER_MB=${LAYER_MB:-200}
RESULTS=${BENCH_RESULTS:-$B/results}
rm -rf "$WORK"; mkdir -p "$WORK" "$RESULTS"
PUSH_RUNS=${PUSH_RUNS:-5}
HUB_PID=; REG_PID=
trap 'kill $HUB_PID $REG_PID 2>/dev/null || true' EXIT

# An OCI layout with one image: a small layer (for blob GETs) and a big one (for the push).
node --input-type=module - "$WORK/layout" "$LAYER_MB" <<'JS'
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
const [dir, mb] = process.argv.slice(2);
const sha = (b) => createHash('sha256').update(b).digest('hex');
mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
const put = (b) => { const d = sha(b); writeFileSync(`${dir}/blobs/sha256/${d}`, b); return { digest: `sha256:${d}`, size: b.length }; };
const small = put(randomBytes(1 << 20));
// The big layer, streamed to disk.
const h = createHash('sha256'); const tmp = `${dir}/big.tmp`; const fd = openSync(tmp, 'w');
for (let i = 0; i < Number(mb); i++) { const c = randomBytes(1 << 20); h.update(c); writeSync(fd, c); }
closeSync(fd);
const bigDigest = h.digest('hex');
(await import('node:fs')).renameSync(tmp, `${dir}/blobs/sha256/${bigDigest}`);
const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...small }, { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${bigDigest}`, size: Number(mb) << 20 }] }));
const m = put(manifest);
writeFileSync(`${dir}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
writeFileSync(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
writeFileSync(`${dir}/small-digest`, small.digest);
JS
SMALL=$(cat "$WORK/layout/small-digest")

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_up() { for _ in $(seq 100); do curl -sf -o /dev/null "http://$1/v2/" && return; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }

rss_mib() { awk '/'"$2"'/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
# start_servers N: both servers on fresh ports over empty data directories run-N/.
start_servers() {
  local d=$WORK/run-$1
  mkdir -p "$d"
  REG_PORT=$(free_port)
  cat > "$d/registry.yml" <<YML
{"version":"0.1","log":{"level":"error","accesslog":{"disabled":true}},
 "storage":{"filesystem":{"rootdirectory":"$d/registry-data"},"delete":{"enabled":true}},
 "http":{"addr":"127.0.0.1:$REG_PORT","secret":"bench"}}
YML
  env -u REGISTRY_HTTP_ADDR docker-registry serve "$d/registry.yml" >"$d/registry.log" 2>&1 & REG_PID=$!
  HUB_PORT=$(free_port)
  "$REPO/bin/gantry" --root "$d/root" hub serve --listen "127.0.0.1:$HUB_PORT" --data "$d/hub-data" >"$d/hub.log" 2>&1 & HUB_PID=$!
  wait_up "127.0.0.1:$REG_PORT"; wait_up "127.0.0.1:$HUB_PORT"
}
stop_servers() {
  kill "$HUB_PID" "$REG_PID" 2>/dev/null || true
  wait "$HUB_PID" "$REG_PID" 2>/dev/null || true
  HUB_PID=; REG_PID=
}
push() {
  local t0
  t0=$(date +%s.%N)
  skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$WORK/layout:v1" "docker://127.0.0.1:$1/bench/img:v1"
  echo "$(date +%s.%N) - $t0" | bc
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

declare -A PUSH=([registry]='' [hub]='')
for i in $(seq 1 "$PUSH_RUNS"); do
  start_servers "$i"
  if [ "$i" = 1 ]; then IDLE_REG=$(rss_mib "$REG_PID" VmRSS); IDLE_HUB=$(rss_mib "$HUB_PID" VmRSS); fi
  if [ $((i % 2)) = 1 ]; then order="registry hub"; else order="hub registry"; fi
  for name in $order; do
    if [ "$name" = registry ]; then PUSH[$name]+=" $(push "$REG_PORT")"; else PUSH[$name]+=" $(push "$HUB_PORT")"; fi
  done
  stop_servers
  rm -rf "$WORK/run-$i"
done
# The load figures: one more pair of servers, each holding the image.
start_servers load
push "$REG_PORT" >/dev/null; push "$HUB_PORT" >/dev/null

ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'
rate() { wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "${SECS}s" -H "$ACCEPT" "$1" | awk '/Requests\/sec/ {print $2}'; }
mbps() { wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "${SECS}s" "$1" | awk '/Transfer\/sec/ {v=$2; u=substr(v,length(v)-1); n=v+0; if (u=="GB") n*=1024; if (u=="KB") n/=1024; printf "%.0f", n}'; }
{
  echo "# The hub against docker-registry 2.8 (bench/hub.sh, wrk ${SECS}s per cell, loopback, $(nproc) cores)"
  echo
  echo "| figure | docker-registry | gantry hub |"
  echo "|---|---|---|"
  for c in 1 16 64; do
    echo "| manifest GET req/s, c=$c | $(rate "http://127.0.0.1:$REG_PORT/v2/bench/img/manifests/v1" $c) | $(rate "http://127.0.0.1:$HUB_PORT/v2/bench/img/manifests/v1" $c) |"
  done
  for c in 1 16 64; do
    echo "| 1 MiB blob GET MB/s, c=$c | $(mbps "http://127.0.0.1:$REG_PORT/v2/bench/img/blobs/$SMALL" $c) | $(mbps "http://127.0.0.1:$HUB_PORT/v2/bench/img/blobs/$SMALL" $c) |"
  done
  echo "| skopeo copy of a ${LAYER_MB} MiB image, median of $PUSH_RUNS, s | $(median <<<"${PUSH[registry]}") | $(median <<<"${PUSH[hub]}") |"
  echo "| (each run, s) | ${PUSH[registry]# } | ${PUSH[hub]# } |"
  echo "| idle RSS (fresh server, after one request), MiB | $IDLE_REG | $IDLE_HUB |"
  echo "| peak RSS (push and load), MiB | $(rss_mib "$REG_PID" VmHWM) | $(rss_mib "$HUB_PID" VmHWM) |"
} | tee "$RESULTS/hub.md"
