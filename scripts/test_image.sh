#!/usr/bin/env bash
# Builds the local image derpmgr-test-busybox:latest from /bin/busybox (busybox-static) with `docker import`.
# No registry is reachable, so the integration tests run every container from this image; never `docker pull`.
set -euo pipefail

image=${DERPMGR_TEST_IMAGE:-derpmgr-test-busybox:latest}

if docker image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi

busybox=/bin/busybox
if [ ! -x "$busybox" ]; then
  echo "test_image: $busybox is missing (install busybox-static via scripts/deps.sh)" >&2
  exit 1
fi
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "test_image: $busybox does not run" >&2
  exit 1
fi
# The image has no libraries, so the binary must be static.
if ldd "$busybox" >/dev/null 2>&1; then
  echo "test_image: $busybox is dynamically linked; the image needs busybox-static" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev,var/run,usr/bin,sbin,usr/sbin}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"

applets=$("$busybox" --list)
wanted=(sh sleep cat echo ls true false)
for applet in "${wanted[@]}"; do
  if ! grep -qx "$applet" <<<"$applets"; then
    echo "test_image: busybox lacks the applet $applet" >&2
    exit 1
  fi
done
# Every applet this busybox offers, so tests are not limited to the required few.
while read -r applet; do
  case "$applet" in
    busybox | '' | */*) continue ;;
  esac
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done <<<"$applets"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo "hosts: files dns" >"$root/etc/nsswitch.conf"

tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$work/rootfs.tar" .

docker import \
  --change 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
  --change 'CMD ["/bin/sh"]' \
  "$work/rootfs.tar" "$image" >/dev/null
echo "services: built image $image"
