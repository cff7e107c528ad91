#!/usr/bin/env bash
# Installs every Debian package derpmgr needs to build, test and run; does nothing when all is present.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
  libmysqlcppconn7v5 libssl-dev libcurl4-openssl-dev libspdlog-dev doctest-dev
  libsodium-dev liboath-dev libqrencode-dev libmaxminddb-dev libnftables-dev
  libhowardhinnant-date-dev tzdata libtomlplusplus-dev libcli11-dev
  mariadb-server mariadb-client docker.io nftables busybox-static python3-aiosmtpd
  iproute2 curl openssl ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Connector/C++ headers: the -dev package drags Boost 1.74, so unpack its .deb into a build-local folder instead.
vendor="$here/.deps/mysqlcppconn"
if [ ! -f "$vendor/usr/include/cppconn/driver.h" ]; then
  echo "deps: unpacking Connector/C++ headers into $vendor"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq libmysqlcppconn-dev >/dev/null)
  mkdir -p "$vendor"
  dpkg -x "$tmp"/libmysqlcppconn-dev_*.deb "$vendor"
  rm -rf "$tmp"
fi
