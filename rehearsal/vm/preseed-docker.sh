#!/usr/bin/env bash
# Pre-seeds a droplet image's docker store with a local image's layers (the server image's base), so that the
# guest's first `docker pull` of the server image finds them "Already exists" and fetches only the app's own
# layers: under TCG the untar of the ~270 MB base layer alone took 7-11 min of a first deploy.
#
# Why a pull (and not `docker load`): the guest's dockerd skips a layer only when its distribution metadata maps
# the registry blob's digest to the layer's diffID (moby distribution/pull_v2.go: v2LayerDescriptor.DiffID, via
# the V2MetadataService; image/<driver>/distribution/diffid-by-digest/) and the layer is in the layer store. A load
# writes no such mapping. So: push IMAGE to a throw-away registry with the host's docker (which compresses each
# layer the same way for every push: the same blob digest the rehearsal's pushes produce, seen 29 of 29 times),
# then pull it into a private dockerd whose data root is the image tree's /var/lib/docker. Same docker.io version
# (Debian bookworm's) on both sides, so the store's layout is the guest's.
#
# Usage: preseed-docker.sh ROOT IMAGE PORT   (ROOT: the image tree; IMAGE: a tag the host's docker has;
#                                            PORT: a free 127.0.0.1 port for the throw-away registry)
set -euo pipefail
root=${1:?usage: preseed-docker.sh ROOT IMAGE PORT}
image=${2:?usage: preseed-docker.sh ROOT IMAGE PORT}
port=${3:?usage: preseed-docker.sh ROOT IMAGE PORT}

work=$(mktemp -d /tmp/selfhosted-mcp-preseed.XXXXXX)
# The private dockerd's own bridge. Never `--bridge=none`: a dockerd started with it deletes the host's `docker0`
# link on start-up (moby daemon/daemon_unix.go, initNetworkController → removeDefaultBridgeInterface), which breaks
# the host's dockerd (every later `docker build` fails "could not find bridge docker0"; seen on this machine).
# A bridge given with -b is used as is and left alone; this script deletes it at the end.
bridge="smcpseed$$"
bridge=${bridge:0:15}
pids=()
cleanup() {
  local p i
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Bounded: dockerd stops its containerd before it exits.
  for p in "${pids[@]}"; do for ((i = 0; i < 300; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# wait_for WHAT COMMAND...: polls COMMAND (0.2 s apart), bounded at 60 s.
wait_for() {
  local what=$1 i
  shift
  for ((i = 0; i < 300; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "preseed-docker: timed out waiting for ${what}" >&2
  return 1
}

printf 'version: 0.1\nstorage: { filesystem: { rootdirectory: %s/registry } }\nhttp: { addr: 127.0.0.1:%s }\n' "$work" "$port" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=("$!")
wait_for "the registry on 127.0.0.1:${port}" curl -fsS "http://127.0.0.1:${port}/v2/"

ref="127.0.0.1:${port}/preseed/base"
docker tag "$image" "$ref:seed"
docker push -q "$ref:seed" >&2
docker rmi "$ref:seed" >/dev/null

sock="$work/docker.sock"
mkdir -p "$root/var/lib/docker"
ip link add "$bridge" type bridge
dockerd --data-root "$root/var/lib/docker" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" -H "unix://$sock" \
  --bridge="$bridge" --iptables=false --ip-masq=false --storage-driver=overlay2 >"$work/dockerd.log" 2>&1 &
pids=("$!" "${pids[@]}")
wait_for "the private dockerd" docker -H "unix://$sock" info || { tail -20 "$work/dockerd.log" >&2; exit 1; }
docker -H "unix://$sock" pull -q "$ref:seed" >&2
# A local name for the seeded image (the registry above is gone after the build); the layers and their
# distribution metadata stay whatever the tags.
docker -H "unix://$sock" tag "$ref:seed" "selfhosted-mcp-rehearsal/preseeded-base:latest"
docker -H "unix://$sock" rmi "$ref:seed" >/dev/null
docker -H "unix://$sock" images --digests >&2

for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do for ((i = 0; i < 300; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; done
pids=()
# Keep the image and layer stores only: the guest's dockerd makes its own networks, engine id and runtime state.
find "$root/var/lib/docker" -mindepth 1 -maxdepth 1 ! -name image ! -name overlay2 -exec rm -rf {} +
