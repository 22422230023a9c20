#!/bin/bash
# build-chroot.sh VARIANT TARBALL [APT_CACHE]: a Debian 12 root with a real boot setup, for the
# chroot suite (tests/chroot/README.md), as a tarball (run-chroot-tests caches it in the build
# directory and rebuilds it when this file changes). Nothing here boots: the root exists so
# that update-grub, update-initramfs, dracut and kernel-install run for real inside it.
#
#   grub-initramfs-tools   minbase + systemd + linux-image-amd64 + initramfs-tools + grub-pc
#   dracut-systemd-boot    minbase + systemd + linux-image-amd64 + dracut + grub-pc +
#                          systemd-boot (kernel-install, with the BLS layout on /boot/efi)
#
# One kernel, no recommends (zstd named: initramfs-tools and dracut recommend it and compress
# with it). grub-pc is installed with no install device (debconf preseeded), so its scripts never
# touch a disk and grub.cfg does not exist until the first update-grub. Two settings differ from
# a stock install, both only to keep the images small and fast to build (a MODULES=most image
# takes minutes of CPU; the tests check what the generators copy, not which drivers):
# initramfs-tools has MODULES=list (only /etc/initramfs-tools/modules and what hooks add), dracut
# hostonly=yes (the drivers of the machine the tests run on). Both are written before the
# packages are configured, so the images built at install time are made the same way.
# APT_CACHE: a folder where the downloaded .debs are kept between variants and builds (the
# kernel alone is 70 MB). MIRROR=URL: the Debian mirror (default: the one this system's apt uses).
# shellcheck disable=SC2016 # the hooks are scripts of their own, mmdebstrap gives them the root as $1
set -euo pipefail
VARIANT=$1
TARBALL=$2
CACHE=${3:-}
case $VARIANT in
    grub-initramfs-tools)
        PKGS=initramfs-tools
        CONF=etc/initramfs-tools/conf.d/10-chroot-test.conf TEXT="MODULES=list" ;;
    dracut-systemd-boot)
        PKGS=dracut,systemd-boot
        CONF=etc/dracut.conf.d/10-chroot-test.conf TEXT='hostonly="yes"' ;;
    *) echo "build-chroot: unknown variant $VARIANT" >&2; exit 2 ;;
esac
MIRROR=${MIRROR:-$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1)}
[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

hooks=()
if [ -n "$CACHE" ]; then
    mkdir -p "$CACHE"
    hooks+=(--setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
            --setup-hook="sync-in '$CACHE' /var/cache/apt/archives/"
            --customize-hook="sync-out /var/cache/apt/archives '$CACHE'")
fi
# kernel-install's BLS layout without an ESP: /boot/efi stands for it (a plain directory, as a
# mounted ESP would be there), the entry token and the command line fixed, so that
# `kernel-install add` writes /boot/efi/loader/entries/debian-KVER.conf and copies the kernel
# and the initrd to /boot/efi/debian/KVER/.
BLS=()
if [ "$VARIANT" = dracut-systemd-boot ]; then
    BLS=(--customize-hook='mkdir -p "$1/boot/efi/loader/entries" "$1/boot/efi/debian"'
         --customize-hook='printf "layout=bls\nBOOT_ROOT=/boot/efi\n" > "$1/etc/kernel/install.conf"'
         --customize-hook='echo debian > "$1/etc/kernel/entry-token"'
         --customize-hook='echo "root=/dev/vda ro quiet" > "$1/etc/kernel/cmdline"')
fi
# debconf before anything is configured: grub-pc installs to no disk and does not ask.
preseed='grub-pc grub-pc/install_devices multiselect
grub-pc grub-pc/install_devices_empty boolean true'
# dpkg's fsync after every file is most of an install's time, and a half-written root is thrown
# away anyway.
rm -f "$TARBALL.tmp.tar"
mmdebstrap --variant=minbase --aptopt='APT::Install-Recommends "false"' --dpkgopt=force-unsafe-io \
    --include="systemd,systemd-sysv,kmod,zstd,linux-image-amd64,grub-pc,$PKGS" \
    --essential-hook="echo '$preseed' | chroot \"\$1\" debconf-set-selections" \
    --essential-hook="mkdir -p \"\$1/${CONF%/*}\" && echo '$TEXT' > \"\$1/$CONF\"" \
    "${hooks[@]}" "${BLS[@]}" \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
    bookworm "$TARBALL.tmp.tar" "$MIRROR"
mv "$TARBALL.tmp.tar" "$TARBALL"
