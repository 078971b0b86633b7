#!/usr/bin/env bash
# Installs the Debian packages vidbench builds and tests with (see README "Dependencies").
# Skips apt-get entirely when everything is already installed.
set -euo pipefail
packages=(
  build-essential pkg-config clang libclang-rt-14-dev
  libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libavfilter-dev ffmpeg
  libdnnl-dev libcurl4-openssl-dev libssl-dev libarchive-dev libsqlite3-dev libcjson-dev
  libcmocka-dev
  python3-opencv python3-numpy
  python3-dev python3-setuptools python3-pytest
  python3-nbclient python3-nbformat python3-ipykernel python3-matplotlib
  python3-torch python3-torchvision python3-av
  chromium
  slurm-wlm munge python3-yaml
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
