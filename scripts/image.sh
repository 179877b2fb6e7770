#!/usr/bin/env bash
# Builds slotgate's container image with podman on a machine without a Docker engine and without
# access to a container registry (Debian 12, as CI): `bash scripts/image.sh [podman build args]`.
#   1. installs podman, runc and debootstrap (Debian) when missing;
#   2. uses scripts/image/containers.conf (runc, cgroupfs, ulimits, host network) via CONTAINERS_CONF;
#   3. makes the base image offline when it is not there yet: a debootstrap'ed bookworm (minbase)
#      with this machine's node and npm, imported and tagged docker.io/library/node:20-bookworm-slim,
#      so the Dockerfile's FROM resolves locally (done once: it stays in podman's storage);
#   4. podman build --pull=never, with the host's CA bundle mounted for npm ci (the registry traffic
#      is re-signed by a CA only the host trusts), on the host network.
# SLOTGATE_IMAGE names the image (default: localhost/slotgate:dev, also tagged
# localhost/slotgate:VERSION, the name the Kubernetes manifests use). Where Docker works normally,
# `docker build -t slotgate .` is all it takes.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${SLOTGATE_IMAGE:-localhost/slotgate:dev}
BASE=docker.io/library/node:20-bookworm-slim
MIRROR=${SLOTGATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/image/containers.conf}

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
t0=$(now)

# 1. Tools.
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists yet; only then is an update needed.
  if ! apt-cache show podman >/dev/null 2>&1; then "${SUDO[@]}" apt-get update; fi
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y podman runc debootstrap
fi

# One build at a time on this machine (two worktrees' tests, say): they share podman's storage.
exec 9>"${TMPDIR:-/tmp}/slotgate-image.lock"
flock -w 900 9

# 3. The base image, offline.
if podman image exists "$BASE"; then
  echo "==> base image $BASE: present"
else
  node_bin=$(readlink -f "$(command -v node)")
  node_version=$("$node_bin" -v)
  case "$node_version" in
    v20.*) ;;
    *) echo "this machine's node is $node_version; the base image $BASE needs Node 20" >&2; exit 1 ;;
  esac
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")") # .../node_modules/npm
  echo "==> making the base image $BASE offline: debootstrap bookworm (minbase) + node $node_version and npm from this machine"
  rootfs=$(mktemp -d /var/tmp/slotgate-base.XXXXXX)
  trap '"${SUDO[@]}" rm -rf "$rootfs"' EXIT
  t=$(now)
  "${SUDO[@]}" debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 || {
    tail -20 "$rootfs.log" >&2
    exit 1
  }
  rm -f "$rootfs.log"
  echo "    debootstrap: $(since "$t")"
  # As in the official image: node in /usr/local/bin, npm in /usr/local/lib/node_modules.
  "${SUDO[@]}" install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  "${SUDO[@]}" mkdir -p "$rootfs/usr/local/lib/node_modules"
  "${SUDO[@]}" cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  "${SUDO[@]}" ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  "${SUDO[@]}" ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  "${SUDO[@]}" rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
  t=$(now)
  "${SUDO[@]}" tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change 'CMD ["node"]' \
    - localhost/slotgate-offline-node:20 >/dev/null
  podman tag localhost/slotgate-offline-node:20 "$BASE"
  echo "    import: $(since "$t"); node in the image: $(podman run --rm --pull=never "$BASE" node -v)"
fi

# 4. The image.
version=$(node -p 'require("./package.json").version')
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$revision" != unknown ] && ! git diff --quiet HEAD -- 2>/dev/null; then revision="$revision-dirty"; fi
source_url=$(git remote get-url origin 2>/dev/null || true)
tags=("$IMAGE")
if [ -z "${SLOTGATE_IMAGE:-}" ]; then tags+=("localhost/slotgate:$version"); fi
args=(--pull=never --network host --layers -f Dockerfile)
for tag in "${tags[@]}"; do args+=(-t "$tag"); done
args+=(
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "SOURCE=$source_url"
  # Also as --label: buildah's layer cache ignores ARG values in a LABEL step, so a rebuild at a
  # new commit would keep the previous revision; --label is applied to the final image every time.
  --label "org.opencontainers.image.version=$version" --label "org.opencontainers.image.revision=$revision")
if [ -r "$CA_BUNDLE" ]; then
  args+=(-v "$CA_BUNDLE:/tmp/ci-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/tmp/ci-ca.crt)
fi
echo "==> podman build: ${tags[*]} (version $version, revision $revision)"
t=$(now)
podman build "${args[@]}" "$@" .
echo "    build: $(since "$t")"
# A rebuild leaves the previous slotgate image untagged: remove those (only slotgate's, by label;
# the intermediate layers the cache needs carry no label and stay).
podman image prune -f --filter label=org.opencontainers.image.title=slotgate >/dev/null || true
echo "==> $IMAGE ready ($(podman image inspect "$IMAGE" --format '{{.Id}}' | cut -c1-12)) in $(since "$t0")"
echo "    run it with CONTAINERS_CONF=$CONTAINERS_CONF podman run --rm --network host $IMAGE --help"
