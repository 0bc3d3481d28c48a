#!/usr/bin/env bash
# The README's quick start: a base image made on this machine, the image commands, then
# containers, then a build.
# Uses a throw-away state root unless GANTRY_ROOT is set.
set -euo pipefail
export GANTRY_ROOT=${GANTRY_ROOT:-$(mktemp -d /var/tmp/gantry-quickstart.XXXXXX)}
echo "+ state root: $GANTRY_ROOT"
run() { echo "+ gantry $*"; gantry "$@"; }
run image bootstrap busybox
run images
run tag busybox:latest example/busybox:1.35
run image inspect --format '{{.Id}} {{.RepoTags}} {{.Config.Cmd}}' busybox
run history busybox
run save -o "$GANTRY_ROOT/busybox.tar" busybox:latest example/busybox:1.35
run rmi busybox:latest example/busybox:1.35
run load -i "$GANTRY_ROOT/busybox.tar"
run images --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}'
run system df
run run --rm busybox echo hello from a container
run run -d --name quick-start busybox sh -c 'echo started; sleep 60'
run ps
run exec quick-start sh -c 'echo "in $(hostname): $(id)"'
run logs quick-start
run stop -t 1 quick-start
run ps -a --format 'table {{.Names}}\t{{.Status}}'
run rm quick-start
# A build: a two-stage Dockerfile over a small context, built, rebuilt from the cache, run.
ctx=$GANTRY_ROOT/quick-start-context
mkdir -p "$ctx"
echo 'hello from a build' >"$ctx/message.txt"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox AS make
COPY message.txt /src/
RUN tr a-z A-Z < /src/message.txt > /shout.txt
FROM busybox
COPY --from=make /shout.txt /
CMD ["cat", "/shout.txt"]
DOCKERFILE
run build --progress plain -t quick-start-build "$ctx"
run build -q -t quick-start-build "$ctx"
run run --rm quick-start-build
