#!/usr/bin/env bash
# Installs the Debian packages weft needs, only those that are missing.
# Idempotent; a machine that has everything makes no network call.
set -euo pipefail

packages=(
  build-essential cmake ninja-build g++ clang python3 ccache
  libgtest-dev libbenchmark-dev relacy-dev liburing-dev libboost-dev
  libconcurrentqueue-dev libtbb-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
