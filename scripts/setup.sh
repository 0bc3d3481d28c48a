#!/usr/bin/env bash
# Installs everything gantry needs on a fresh Debian 12 machine (as root) and builds it:
# Debian packages, npm packages (with the native addons), the TypeScript build, and the
# `gantry` command on PATH. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# busybox-static: `gantry image bootstrap busybox`; runc: the OCI runtime (crun: the
# alternative `--runtime crun`, which refuses hybrid cgroup hosts); conmon: the
# per-container monitor; tini: the init process of `run --init`; procps: `ps` for `gantry top`;
# util-linux: `script`, which gives the tests a pseudo-terminal; skopeo: a peer OCI/Docker
# archive reader and writer that the tests check interoperability against; attr: getfattr in
# tests; docker-registry: the OCI Distribution registry (distribution 2.8) that the pull/push
# tests run against; apache2-utils: htpasswd, for that registry's basic-auth test; openssl:
# certificates for its token-auth test; zstd: decompresses zstd layers (Node 20's zlib has no
# zstd); python3/make/g++: node-gyp for better-sqlite3 and
# gantry's own native addon; rustc/cargo (with gcc, binutils and libc6-dev): what
# scripts/make-rust-image.sh assembles the local rust:1.76 image from (examples/blockchain);
# containernetworking-plugins (bridge, host-local, portmap), aardvark-dns (names on user-defined
# networks), iptables and iproute2: gantry's bridge networks (src/network); chromium: the
# headless browser that test/e2e/hub-ui.test.ts drives with playwright-core (the hub's web UI).
APT_PACKAGES=(busybox-static runc crun conmon tini procps util-linux skopeo attr docker-registry apache2-utils openssl zstd python3 make g++ git ca-certificates rustc cargo gcc binutils libc6-dev containernetworking-plugins aardvark-dns iptables iproute2 chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
npm run build
# `gantry` on PATH, pointing at this checkout.
ln -sf "$PWD/bin/gantry" /usr/local/bin/gantry
