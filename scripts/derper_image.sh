#!/usr/bin/env bash
# Builds the local image derpmgr-test-derper:latest: busybox (busybox-static) plus the derper stand-in
# (tests/derper_standin, a static binary) at /usr/local/bin/derper as the entrypoint, so tests run the container
# spec derpmgr ships with a binary that takes derper's flags. No registry is reachable; never `docker pull`.
#
#   scripts/derper_image.sh [--if-built] [BINARY]
#
# BINARY defaults to $DERPMGR_DERPER_STANDIN or build/tests/derper_standin/derper-standin. The image carries the
# binary's sha256 as the label derpmgr.standin and is rebuilt only when that changes. --if-built skips quietly when
# the binary does not exist yet (services.sh start may run before the first build). Prints the image id on stdout.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

if_built=0
if [ "${1:-}" = --if-built ]; then
  if_built=1
  shift
fi
image=${DERPMGR_TEST_DERPER_IMAGE:-derpmgr-test-derper:latest}
binary=${1:-${DERPMGR_DERPER_STANDIN:-$repo/build/tests/derper_standin/derper-standin}}

if [ ! -x "$binary" ]; then
  if [ "$if_built" = 1 ]; then
    echo "services: $binary is not built yet; the image $image waits for scripts/build.sh" >&2
    exit 0
  fi
  echo "derper_image: $binary is missing (build it: ninja -C build derper-standin)" >&2
  exit 1
fi
# The image has no libraries, so both binaries must be static.
busybox=/bin/busybox
for bin in "$binary" "$busybox"; do
  if [ ! -x "$bin" ]; then
    echo "derper_image: $bin is missing (install busybox-static via scripts/deps.sh)" >&2
    exit 1
  fi
  if ldd "$bin" >/dev/null 2>&1; then
    echo "derper_image: $bin is dynamically linked; the image needs a static binary" >&2
    exit 1
  fi
done

# Several worktrees may share one Docker engine: build one image at a time.
exec 8>"${TMPDIR:-/tmp}/derpmgr-derper-image.lock"
flock -w 300 8 || {
  echo "derper_image: another build holds the lock" >&2
  exit 1
}

sha=$(sha256sum "$binary" | cut -d' ' -f1)
current=$(docker image inspect --format '{{ index .Config.Labels "derpmgr.standin" }}' "$image" 2>/dev/null || true)
if [ "$current" = "$sha" ]; then
  docker image inspect --format '{{.Id}}' "$image"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev,certs,data,usr/local/bin}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in sh cat ls sleep echo; do
  ln -s busybox "$root/bin/$applet"
done
# Symbols and debug information make the binary ten times larger; the image does not need them.
if command -v strip >/dev/null 2>&1; then
  strip -o "$root/usr/local/bin/derper" "$binary"
else
  cp "$binary" "$root/usr/local/bin/derper"
fi
chmod 0755 "$root/usr/local/bin/derper"
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP

tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$work/rootfs.tar" .
docker import \
  --change 'ENV PATH=/usr/local/bin:/bin' \
  --change 'ENTRYPOINT ["/usr/local/bin/derper"]' \
  --change "LABEL derpmgr.standin=$sha" \
  "$work/rootfs.tar" "$image" >/dev/null
echo "services: built image $image (derper stand-in $sha)" >&2
docker image inspect --format '{{.Id}}' "$image"
