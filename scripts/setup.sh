#!/usr/bin/env bash
# Installs what slotgate's demo, tests and benchmarks need on Debian 12 and builds slotgate:
# redis-server and redis-tools (Debian), prometheus (Debian; a test scrapes slotgate with it),
# podman, runc and debootstrap (Debian; the image test builds and runs the container image with
# them, see scripts/image.sh), dnsmasq-base (Debian; cluster DNS of the pod-churn simulation),
# the npm packages (npm ci), then `npm run build`.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null || ! command -v redis-benchmark >/dev/null || [ ! -x /usr/bin/prometheus ] ||
  ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null || [ ! -x /usr/sbin/dnsmasq ]; then
  echo "==> installing redis-server, redis-tools, prometheus, podman, runc, debootstrap and dnsmasq-base"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists yet; only then is an update needed.
  if ! apt-cache show redis-server >/dev/null 2>&1 || ! apt-cache show podman >/dev/null 2>&1 || ! apt-cache show dnsmasq-base >/dev/null 2>&1; then "${SUDO[@]}" apt-get update; fi
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y redis-server redis-tools prometheus podman runc debootstrap dnsmasq-base
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci
fi
echo "==> npm run build"
npm run build
