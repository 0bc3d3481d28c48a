#!/usr/bin/env bash
# The hub against Debian's docker-registry (distribution 2.8) on the same machine and data:
# manifest GET requests/s and blob GET MB/s at concurrency 1, 16 and 64 (wrk, WRK_SECS each,
# keep-alive, loopback), peak RSS of each server, and `skopeo copy` of one ~200 MB image
# (OCI layout made here: one random 200 MiB layer, digests preserved) into each, timed.
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

REG_PORT=$(free_port)
cat > "$WORK/registry.yml" <<YML
{"version":"0.1","log":{"level":"error","accesslog":{"disabled":true}},
 "storage":{"filesystem":{"rootdirectory":"$WORK/registry-data"},"delete":{"enabled":true}},
 "http":{"addr":"127.0.0.1:$REG_PORT","secret":"bench"}}
YML
env -u REGISTRY_HTTP_ADDR docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 & REG_PID=$!
HUB_PORT=$(free_port)
"$REPO/bin/gantry" --root "$WORK/root" hub serve --listen "127.0.0.1:$HUB_PORT" --data "$WORK/hub-data" >"$WORK/hub.log" 2>&1 & HUB_PID=$!
wait_up "127.0.0.1:$REG_PORT"; wait_up "127.0.0.1:$HUB_PORT"

declare -A PUSH
for s in registry:$REG_PORT hub:$HUB_PORT; do
  name=${s%%:*}; port=${s##*:}
  t0=$(date +%s.%N)
  skopeo copy -q --preserve-digests --dest-tls-verify=false "oci:$WORK/layout:v1" "docker://127.0.0.1:$port/bench/img:v1"
  PUSH[$name]=$(echo "$(date +%s.%N) - $t0" | bc)
done

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
  echo "| skopeo copy of a ${LAYER_MB} MiB image, s | ${PUSH[registry]} | ${PUSH[hub]} |"
  echo "| peak RSS, MiB | $(( $(awk '/VmHWM/ {print $2}' /proc/$REG_PID/status) / 1024 )) | $(( $(awk '/VmHWM/ {print $2}' /proc/$HUB_PID/status) / 1024 )) |"
} | tee "$RESULTS/hub.md"
