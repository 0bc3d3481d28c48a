#!/usr/bin/env bash
# Makes a local stand-in for Docker Hub's `rust:1.76` image in the gantry store, without a
# registry: a root filesystem assembled from this machine's own Debian 12 packages (rustc 1.63,
# cargo, gcc and binutils to link, libc6-dev, a shell and the usual tools) and their
# dependencies, imported with the official image's ENV.
#
#   scripts/make-rust-image.sh [NAME]        NAME defaults to rust:1.76
#
# The store is gantry's: /var/lib/gantry, or $GANTRY_ROOT. The gantry command is $GANTRY, else
# `gantry` on PATH, else this checkout's bin/gantry. The packages must be installed (they are in
# scripts/setup.sh's list). The root filesystem tarball is cached under
# $GANTRY_TEST_CACHE (/var/cache/gantry-test) keyed by the packages' versions, so a later run only
# imports it; a run whose image is already there (same key) changes nothing.
set -euo pipefail

NAME=${1:-rust:1.76}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${GANTRY_TEST_CACHE:-/var/cache/gantry-test}
# Bumped when the way the root filesystem is assembled changes (part of the cache key).
RECIPE=1
# What the image is made of; their dependencies are added. dash, coreutils and the other
# Essential packages are listed because Debian packages never depend on them.
ROOTS=(rustc cargo gcc libc6-dev binutils base-files base-passwd dash bash coreutils libc-bin sed grep findutils diffutils tar gzip debianutils ncurses-base)
# The official image's environment (docker.io/library/rust:1.76).
CHANGES=(
  --change 'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change 'ENV RUSTUP_HOME=/usr/local/rustup'
  --change 'ENV CARGO_HOME=/usr/local/cargo'
  --change 'ENV RUST_VERSION=1.76.0'
  --change 'CMD ["bash"]'
)

die() { echo "make-rust-image: $*" >&2; exit 1; }
stage=
cleanup() { if [ -n "$stage" ]; then rm -rf "$stage"; fi; }
trap cleanup EXIT
trap 'die "failed at line $LINENO: $BASH_COMMAND"' ERR

if [ -n "${GANTRY:-}" ]; then :
elif command -v gantry >/dev/null; then GANTRY=gantry
else GANTRY=$REPO/bin/gantry
fi
"$GANTRY" --version >/dev/null 2>&1 || die "cannot run gantry ($GANTRY): run scripts/setup.sh"
[ "$(id -u)" = 0 ] || die "must run as root (it reads package files and writes the gantry store)"
command -v python3 >/dev/null || die "python3 is missing: run scripts/setup.sh"
for p in rustc cargo; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' ||
    die "Debian's $p is not installed: run scripts/setup.sh (or apt-get install rustc cargo)"
done

# The packages (the roots and everything they depend on, as installed here) and their files.
# Prints "package version" lines to $1 and the files to put in the image to $2 (paths as they
# really are on this merged-/usr host: /bin/sh becomes /usr/bin/sh; /bin itself stays the
# symlink), with the parent directories of each and the update-alternatives links whose
# choice is one of the files (cc -> /etc/alternatives/cc -> gcc).
resolve() {
  python3 - "$1" "$2" "${ROOTS[@]}" <<'PY'
import os, re, subprocess, sys

pkgs_out, files_out, roots = sys.argv[1], sys.argv[2], sys.argv[3:]
native = subprocess.run(['dpkg', '--print-architecture'], capture_output=True, text=True, check=True).stdout.strip()
fmt = '${db:Status-Abbrev}\t${Package}\t${Architecture}\t${Version}\t${Provides}\t${Pre-Depends}, ${Depends}\n'
rows = subprocess.run(['dpkg-query', '-W', '-f=' + fmt], capture_output=True, text=True).stdout
installed, provides = {}, {}
name_of = lambda s: re.sub(r'\(.*?\)|\[.*?\]|<.*?>', '', s).strip().split(':')[0]
for row in rows.splitlines():
    status, pkg, arch, version, prov, deps = (row.split('\t') + [''] * 6)[:6]
    if not status.startswith('ii') or arch not in (native, 'all'):
        continue
    installed[pkg] = (version, deps)
    for p in filter(None, (name_of(x) for x in prov.split(','))):
        provides.setdefault(p, []).append(pkg)

def choose(group):
    alts = [name_of(a) for a in group.split('|') if name_of(a)]
    for a in alts:
        if a in installed:
            return a
    for a in alts:
        for p in sorted(provides.get(a, [])):
            return p
    if alts:
        sys.exit(f'make-rust-image: no installed package satisfies "{group.strip()}"')
    return None

missing = [r for r in roots if r not in installed]
if missing:
    sys.exit('make-rust-image: not installed: ' + ' '.join(missing) + ' (run scripts/setup.sh)')
seen, todo = set(), list(roots)
while todo:
    pkg = todo.pop()
    if pkg in seen:
        continue
    seen.add(pkg)
    for group in installed[pkg][1].split(','):
        dep = choose(group)
        if dep and dep not in seen:
            todo.append(dep)
pkgs = sorted(seen)
with open(pkgs_out, 'w') as f:
    f.writelines(f'{p} {installed[p][0]}\n' for p in pkgs)

listing = subprocess.run(['dpkg-query', '-L', *pkgs], capture_output=True, text=True, check=True).stdout
paths = {l for l in listing.splitlines() if l.startswith('/')}
# Alternatives: /var/lib/dpkg/alternatives/NAME holds the mode, the master link, then
# "slave name / slave link" pairs up to an empty line.
alt_dir = '/var/lib/dpkg/alternatives'
for name in os.listdir(alt_dir):
    lines = open(os.path.join(alt_dir, name)).read().split('\n')
    links = [(name, lines[1])]
    i = 2
    while i + 1 < len(lines) and lines[i]:
        links.append((lines[i], lines[i + 1]))
        i += 2
    for alt, link in links:
        target = os.path.join('/etc/alternatives', alt)
        if os.path.islink(target) and os.path.islink(link) and os.readlink(target) in paths:
            paths.update([target, link])

def real(p):
    """The path with its parent directories' symlinks resolved (the last component kept)."""
    return os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))

skip = re.compile(r'^/usr/share/(doc|man|info|locale|lintian|bug|bash-completion)/')
out = set()
for p in paths:
    if p in ('/', '/.'):
        continue
    r = real(p)
    if skip.match(r) or not os.path.lexists(r):
        continue
    out.add(r)
    d = os.path.dirname(r)
    while d != '/':
        out.add(d)
        d = os.path.dirname(d)
with open(files_out, 'w') as f:
    f.writelines(p.lstrip('/') + '\n' for p in sorted(out))
PY
}

mkdir -p "$CACHE"
exec 9>"$CACHE/rust-image.lock"
flock 9 # one builder of the tarball at a time; a second run waits and then finds it

stage=$(mktemp -d /var/tmp/make-rust-image.XXXXXX)
resolve "$stage/packages" "$stage/files" || exit 1
key=$( { echo "recipe $RECIPE"; cat "$stage/packages"; } | sha256sum | cut -c1-16)
tarball=$CACHE/rust-rootfs-$key.tar
# The history comment names the tarball and the config: a store whose image has both is up to date.
comment="make-rust-image rootfs $key config $(printf '%s\n' "${CHANGES[@]}" | sha256sum | cut -c1-8)"

comments=$("$GANTRY" history --no-trunc --format '{{.Comment}}' "$NAME" 2>/dev/null || true)
if grep -qxF "$comment" <<<"$comments"; then
  echo "$NAME is up to date (rootfs $key)"
  exit 0
fi

if [ ! -f "$tarball" ]; then
  echo "assembling the root filesystem ($(wc -l <"$stage/packages") packages, $(wc -l <"$stage/files") files)..."
  rootfs=$stage/rootfs
  mkdir "$rootfs"
  tar -C / --no-recursion --numeric-owner --verbatim-files-from -T "$stage/files" -cf - | tar -C "$rootfs" --numeric-owner -xpf -
  # What dpkg's maintainer scripts would have made.
  mkdir -p "$rootfs"/{tmp,var/tmp,root,etc,dev,proc,sys,run,home,usr/local/bin,usr/local/sbin,usr/local/cargo/bin,usr/local/rustup}
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 0700 "$rootfs/root"
  cp "$rootfs/usr/share/base-passwd/passwd.master" "$rootfs/etc/passwd"
  cp "$rootfs/usr/share/base-passwd/group.master" "$rootfs/etc/group"
  cp "$rootfs/usr/share/base-files/dot.bashrc" "$rootfs/root/.bashrc"
  cp "$rootfs/usr/share/base-files/dot.profile" "$rootfs/root/.profile"
  cp "$rootfs/usr/share/base-files/profile" "$rootfs/etc/profile"
  [ -e "$rootfs/etc/os-release" ] || ln -s ../usr/lib/os-release "$rootfs/etc/os-release"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n' >"$rootfs/etc/nsswitch.conf"
  ldconfig -r "$rootfs"
  cp "$stage/packages" "$rootfs/usr/share/gantry-rust-image.packages"
  tar -C "$rootfs" --numeric-owner --sort=name -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  # Older tarballs (other package versions) are of no more use.
  find "$CACHE" -maxdepth 1 -name 'rust-rootfs-*.tar' ! -name "rust-rootfs-$key.tar" -delete
fi

err=$("$GANTRY" import "${CHANGES[@]}" -m "$comment" "$tarball" "$NAME" 2>&1 >/dev/null) ||
  die "gantry import of $tarball as $NAME failed: ${err//$'\n'/ }"
echo "$NAME: $("$GANTRY" image inspect -f '{{.Id}}' "$NAME") (rootfs $key, $(du -m "$tarball" | cut -f1) MB)"
