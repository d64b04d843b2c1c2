#!/usr/bin/env bash
# shellcheck disable=SC2016  # the hooks' "$1" (the chroot dir) is expanded by mmdebstrap, not here
# Builds the rehearsal droplet's disk image: Debian bookworm (the stand-in for DigitalOcean's Ubuntu 24.04 image)
# with the cloud kernel, real cloud-init, openssh-server, and every package the product's user-data installs
# pre-seeded, so a boot never needs a package mirror. Recipe: shared/LOCAL-INFRA.md ("A real booted droplet").
#
# Usage: build-image.sh OUT_DIR PACKAGE...    (PACKAGE: the user-data's packages; the base set is added here)
# Writes OUT_DIR/{disk.qcow2,vmlinuz,initrd.img,packages.txt}; OUT_DIR must not exist (the caller builds into
# a temporary sibling and renames it, so a half-built image is never used).
# Env: VM_IMAGE_MIRROR  optional mmdebstrap MIRROR argument (a URI or a sources file); default: mmdebstrap's.
#      VM_PRESEED_IMAGE, VM_PRESEED_PORT  optional: a local docker image whose layers go into the guest's docker
#                        store (preseed-docker.sh; the server image's base) and a free port for its registry.
set -euo pipefail
out=${1:?usage: build-image.sh OUT_DIR PACKAGE...}
shift
[ ! -e "$out" ] || { echo "build-image: $out exists" >&2; exit 1; }

# What any cloud image has before user-data runs: init, kernel, cloud-init and its NoCloud seed reader (blkid),
# sshd, sudo (the user-data's sudo rule), locales (cloud-init's locale module), apparmor (Ubuntu ships it; the guest
# boots with apparmor=0, droplet-vm.ts says why, and with AppArmor on dockerd needs apparmor_parser), iptables (the deploy's
# per-address connection limit, nginx/connlimit.ts; its script would apt-install it, and apt has no sources here).
# Image config that only saves emulated CPU (docs/rehearsal.md, "What differs"): no RSA host key (its generation
# took 30-55 s under TCG; ed25519 and ecdsa are generated), no grub-dpkg module (30-50 s of debconf for a grub this
# image does not have).
# Networking is systemd-networkd with qemu user-net's fixed address (the guest is always 10.0.2.15/24, gateway
# 10.0.2.2, DNS 10.0.2.3), as Ubuntu's netplan renders it for networkd: no ifupdown, no DHCP client, no
# `udevadm settle` (ifupdown's networking.service waited ~7 min on it under TCG on a busy machine).
base=systemd-sysv,udev,linux-image-cloud-amd64,initramfs-tools,cloud-init,openssh-server,netbase,iproute2,sudo,locales,apparmor,procps,ca-certificates,iptables
pkgs=$base$(printf ',%s' "$@")

mkdir -p "$out.tmp"
work=$(mktemp -d "$out.work.XXXXXX")
trap 'rm -rf "$work" "$out.tmp"' EXIT
root="$work/root"
mkdir "$root"

mmdebstrap --variant=minbase --include="$pkgs" \
  --customize-hook='echo "/dev/vda / ext4 defaults,errors=remount-ro 0 1" > "$1/etc/fstab"' \
  --customize-hook='printf "[Match]\nName=eth0\n\n[Link]\nRequiredFamilyForOnline=ipv4\n\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\nDNS=10.0.2.3\nIPv6AcceptRA=no\n" > "$1/etc/systemd/network/10-eth0.network"' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd.service' \
  --customize-hook='sed -i "s/^# *en_US.UTF-8/en_US.UTF-8/" "$1/etc/locale.gen" && chroot "$1" locale-gen >/dev/null && printf "LANG=en_US.UTF-8\n" > "$1/etc/default/locale"' \
  --customize-hook='printf "datasource_list: [NoCloud, None]\nmanage_etc_hosts: true\nnetwork:\n  config: disabled\napt:\n  preserve_sources_list: true\nssh_genkeytypes: [ed25519, ecdsa]\n" > "$1/etc/cloud/cloud.cfg.d/90-rehearsal.cfg"' \
  --customize-hook='sed -i -E "/^[[:space:]]*-[[:space:]]*grub-dpkg[[:space:]]*$/d" "$1/etc/cloud/cloud.cfg"' \
  --customize-hook='rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*; : > "$1/etc/apt/sources.list"' \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*; : > "$1/etc/machine-id"; rm -f "$1/var/lib/dbus/machine-id"' \
  --customize-hook='chroot "$1" dpkg-query -W -f="\${Package} \${Version}\n" > "$1/root/packages.txt"' \
  bookworm "$root" ${VM_IMAGE_MIRROR:+"$VM_IMAGE_MIRROR"} >&2

# After mmdebstrap (its cleanup removes the resolv.conf it copied in): qemu user-net's DNS.
rm -f "$root/etc/resolv.conf"; printf 'nameserver 10.0.2.3\n' > "$root/etc/resolv.conf"
if [ -n "${VM_PRESEED_IMAGE:-}" ]; then
  bash "$(dirname "$0")/preseed-docker.sh" "$root" "$VM_PRESEED_IMAGE" "${VM_PRESEED_PORT:?VM_PRESEED_PORT is required with VM_PRESEED_IMAGE}"
fi
cp "$root"/boot/vmlinuz-*-cloud-amd64 "$out.tmp/vmlinuz"
cp "$root"/boot/initrd.img-*-cloud-amd64 "$out.tmp/initrd.img"
mv "$root/root/packages.txt" "$out.tmp/packages.txt"
# 10 GB: the $4 droplet's disk. Sparse raw file → ext4 from the tree → compact qcow2 (the base every instance's
# overlay points at; the base itself is never written).
truncate -s 10G "$work/disk.raw"
mkfs.ext4 -q -F -L root -d "$root" "$work/disk.raw"
qemu-img convert -O qcow2 "$work/disk.raw" "$out.tmp/disk.qcow2"
chmod 0444 "$out.tmp/disk.qcow2"
mv "$out.tmp" "$out"
