#!/usr/bin/env bash
# One short-lived container: create, start, run `true`, wait, remove. One hyperfine call (-N,
# no shell in between) times, interleaved:
#   gantry run --rm pb-busybox true              gantry's default bridge network (CNI bridge +
#                                                host-local: a veth, an address, NAT)
#   gantry run --rm --network none ...           a namespace of its own with lo only
#   gantry --version                             the CLI floor: Node start + loading the bundle
#   docker run --rm pb-busybox true              default bridge network
#   docker run --rm --network none ...
#   podman run --rm (both network modes)         only when podman is installed
#   runc run -b BUNDLE                           the floor: no image store, no network, no daemon
#   any arguments: one more command each ({bundle} = the OCI bundle)
# Both tools run the same image bytes (see containers-lib.sh). This is the kit's peer-start.sh
# (/work/shared/peer-bench) with gantry's rows added; the kit's script cannot be called as it is
# here, because its podman rows are fixed and podman is not installed.
# Env: RUNS (default 20), WARMUP (default 3). Results: bench/results/container-start.{json,md}.
source "$(dirname "$0")/containers-lib.sh"
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
ROOT=$WORK/start-root
G="$REPO/bin/gantry --root $ROOT"

wait_quiet
peer_images
gantry_root "$ROOT"

# OCI bundle for the floor, as the kit makes it: runc's default spec, the busybox rootfs read-only.
BUNDLE=$WORK/bundle
mkdir -p "$BUNDLE"
(cd "$BUNDLE" && rm -f config.json && runc spec)
python3 - "$BUNDLE/config.json" "$PWORK/bbroot" <<'PY'
import json, sys
p, root = sys.argv[1], sys.argv[2]
d = json.load(open(p))
d["root"] = {"path": root, "readonly": True}
d["process"]["args"] = ["/bin/true"]
d["process"]["terminal"] = False
json.dump(d, open(p, "w"), indent=1)
PY

cleanup() {
  runc delete -f pb-start-runc >/dev/null 2>&1 || true
  drop_gantry_root "$ROOT"
}
trap cleanup EXIT

args=(-n "gantry run --rm" "$G run --rm $IMG true"
  -n "gantry run --rm --network none" "$G run --rm --network none $IMG true"
  -n "gantry --version (CLI floor)" "$G --version"
  -n "docker run --rm (bridge)" "docker run --rm $IMG true"
  -n "docker run --rm --network none" "docker run --rm --network none $IMG true")
if [ -n "$HAVE_PODMAN" ]; then
  kit podman_setup
  export CONTAINERS_CONF=$PWORK/containers.conf
  args+=(-n "podman run --rm (runc, bridge)" "podman run --rm localhost/$IMG true"
    -n "podman run --rm --network none (runc)" "podman run --rm --network none localhost/$IMG true")
fi
args+=(-n "runc run (bundle, floor)" "runc run -b $BUNDLE pb-start-runc")
for c in "$@"; do args+=(-n "$c" "${c//\{bundle\}/$BUNDLE}"); done

{
  echo "# container start (RUNS=$RUNS, WARMUP=$WARMUP)"
  echo
  machine | sed 's/^/    /'
  echo
} >"$RESULTS/container-start.head"
hyperfine --style basic -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$RESULTS/container-start.json" "${args[@]}" >&2
{
  cat "$RESULTS/container-start.head"
  python3 "$B/hfsum.py" --vs "docker none=docker run --rm --network none" --vs "runc=runc run (bundle, floor)" \
    "$RESULTS/container-start.json"
} >"$RESULTS/container-start.md"
rm -f "$RESULTS/container-start.head"
cat "$RESULTS/container-start.md"
