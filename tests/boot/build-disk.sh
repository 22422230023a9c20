#!/bin/bash
# build-disk.sh VARIANT DISK [APT_CACHE]: a Debian 12 disk image that boots through its own
# bootloader and initramfs, for the boot suite (tests/boot/README.md). run-boots caches it in the
# build directory and rebuilds it when this file changes.
#
#   grub-bios      MBR, one ext4 root; grub-pc + initramfs-tools           (SeaBIOS)
#   grub-efi       GPT, ESP on /boot/efi + ext4 root; grub-efi-amd64 +
#                  initramfs-tools                                          (OVMF)
#   sdboot         GPT, ESP on /boot/efi + ext4 root; systemd-boot +
#                  kernel-install (BLS entries on the ESP) + dracut         (OVMF)
#
# The root is built with mmdebstrap (minbase + systemd, udev, kmod, linux-image-amd64 and the
# boot packages, no recommends) and laid out on the disk without loop devices: sfdisk writes the
# partition table into the image file, mke2fs -d and mkfs.vfat + mcopy make the file systems
# beside it, dd puts them in place. GRUB cannot be installed from here (grub-install and
# grub-mkconfig ask the running kernel about the disk), so the GRUB variants are finished by a
# first boot of the testbed kernel with the disk attached (prep.sh: grub-install, update-grub in
# a chroot of the disk, as a live USB would). systemd-boot needs no such boot: bootctl install
# and kernel-install add write plain files on the ESP directory here.
#
# Settings that differ from a stock install, each for the testbed: the serial console
# (console=ttyS0), GRUB_TIMEOUT=0 and loader.conf "timeout 0" (no menu to wait for),
# intel_iommu=off on the kernel command line (so that only `gpu-handoff setup` can turn the
# IOMMU on: the issue's "stock install with the IOMMU off"), initramfs-tools MODULES=list and
# dracut hostonly (with the virtio disk's drivers named), both compressing with zstd -1 (dracut's
# default is gzip -9: two minutes of a TCG guest's CPU for one image) to keep the images small and
# their generators fast under TCG, no gettys on the serial line, no fsck at boot, the journal in
# memory, and tb-boot.service: at each boot it
# mounts the run's 9p share (tag tb) on /tb and runs /tb/lib/boot-run (tests/boot/guest), which
# runs one phase of the scenario and reboots or powers off.
# APT_CACHE: a folder where downloaded .debs are kept between variants and builds.
# MIRROR=URL: the Debian mirror (default: the one this system's apt uses).
# shellcheck disable=SC2016 # the hooks are scripts of their own, mmdebstrap gives them the root as $1
set -euo pipefail
VARIANT=$1
DISK=$2
CACHE=${3:-}
case $VARIANT in
    grub-bios) PKGS=grub-pc,initramfs-tools LABEL=dos ;;
    grub-efi)  PKGS=grub-efi-amd64,initramfs-tools LABEL=gpt ;;
    sdboot)    PKGS=systemd-boot,dracut LABEL=gpt ;;
    *) echo "build-disk: unknown variant $VARIANT (grub-bios, grub-efi or sdboot)" >&2; exit 2 ;;
esac
MIRROR=${MIRROR:-$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1)}
[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

ROOT=$DISK.root
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
ESP_ID=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ' | tr a-f A-F)   # vfat volume id XXXXXXXX
ESP_UUID=${ESP_ID:0:4}-${ESP_ID:4:4}
BASE_CMDLINE="console=ttyS0"
OFF_CMDLINE="quiet intel_iommu=off"

hooks=()
if [ -n "$CACHE" ]; then
    mkdir -p "$CACHE"
    hooks+=(--setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
            --setup-hook="sync-in '$CACHE' /var/cache/apt/archives/"
            --customize-hook="sync-out /var/cache/apt/archives '$CACHE'")
fi
# Written before the packages are configured, so that the images the kernel's postinst builds
# are made the way later ones will be.
early=(--essential-hook='mkdir -p "$1/etc/default/grub.d" "$1/etc/initramfs-tools/conf.d" "$1/etc/dracut.conf.d" "$1/etc/kernel"')
case $VARIANT in
    grub-*)
        early+=(--essential-hook="printf '%s\n' 'grub-pc grub-pc/install_devices multiselect' 'grub-pc grub-pc/install_devices_empty boolean true' 'grub-efi-amd64 grub2/update_nvram boolean false' | chroot \"\$1\" debconf-set-selections"
                --essential-hook='printf "%s\n" MODULES=list COMPRESSLEVEL=1 > "$1/etc/initramfs-tools/conf.d/10-testbed.conf"'
                --essential-hook='printf "%s\n" virtio_pci virtio_blk ext4 >> "$1/etc/initramfs-tools/modules"') ;;
    sdboot)
        early+=(--essential-hook='printf "%s\n" "hostonly=\"yes\"" "hostonly_cmdline=\"no\"" "add_drivers+=\" virtio_pci virtio_blk ext4 vfat \"" "compress=\"zstd -1 -q -T0\"" > "$1/etc/dracut.conf.d/10-testbed.conf"'
                --essential-hook='printf "layout=bls\nBOOT_ROOT=/boot/efi\n" > "$1/etc/kernel/install.conf"'
                --essential-hook='echo debian > "$1/etc/kernel/entry-token"'
                --essential-hook="echo 'root=UUID=$ROOT_UUID ro $BASE_CMDLINE $OFF_CMDLINE' > \"\$1/etc/kernel/cmdline\"") ;;
esac
# systemd-boot onto the ESP and the kernel's entry, in a customize hook (mmdebstrap has /proc, /sys
# and /dev mounted in the root then, for dracut). bootctl wants the ESP to be the root of a file
# system, and kernel-install writes the entry's paths relative to the file system BOOT_ROOT is on:
# a tmpfs on /boot/efi (in a mount namespace of its own) is that file system here, its files are
# copied out before the namespace goes (and into the FAT image below). SYSTEMD_RELAX_ESP_CHECKS:
# a tmpfs is no vfat.
late=()
[ "$VARIANT" = sdboot ] && late+=(--customize-hook='mkdir -p "$1/boot/efi" "$1/boot/efi.staged" && unshare -m sh -c '"'"'
    mount -t tmpfs tmpfs "$1/boot/efi" &&
    chroot "$1" env SYSTEMD_RELAX_ESP_CHECKS=1 bootctl install --esp-path=/boot/efi --no-variables &&
    for k in $(ls "$1/lib/modules"); do chroot "$1" env SYSTEMD_RELAX_ESP_CHECKS=1 kernel-install add "$k" "/boot/vmlinuz-$k" || exit 1; done &&
    cp -a "$1/boot/efi/." "$1/boot/efi.staged/"'"'"' sh "$1" && rmdir "$1/boot/efi" && mv "$1/boot/efi.staged" "$1/boot/efi"')

rm -rf "$ROOT"
mmdebstrap --variant=minbase --aptopt='APT::Install-Recommends "false"' --dpkgopt=force-unsafe-io \
    --include="systemd,systemd-sysv,udev,kmod,dbus,procps,zstd,linux-image-amd64,$PKGS" \
    "${early[@]}" "${hooks[@]}" "${late[@]}" \
    --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
    bookworm "$ROOT" "$MIRROR"

# --- the installed system's own settings ------------------------------------------------------
echo tbboot > "$ROOT/etc/hostname"
passwd -R "$ROOT" -d root >/dev/null
# No fsck at boot (pass 0): seconds of a TCG guest's CPU at every boot, on a disk thrown away
# after the run; the journal in memory only (nothing to flush to disk at each boot).
{
    echo "UUID=$ROOT_UUID / ext4 rw,relatime 0 0"
    [ "$LABEL" = gpt ] && echo "UUID=$ESP_UUID /boot/efi vfat umask=0077 0 0"
} > "$ROOT/etc/fstab"
mkdir -p "$ROOT/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$ROOT/etc/systemd/journald.conf.d/10-testbed.conf"
mkdir -p "$ROOT/boot/efi" "$ROOT/tb" "$ROOT/var/lib/tb"
# a fixed machine id, as an installed system has (kernel-install names entries after it)
cat /proc/sys/kernel/random/uuid | tr -d - > "$ROOT/etc/machine-id"
case $VARIANT in
    grub-*)
        sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/' \
               -e "s/^GRUB_CMDLINE_LINUX_DEFAULT=.*/GRUB_CMDLINE_LINUX_DEFAULT=\"$OFF_CMDLINE\"/" \
               -e "s/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX=\"$BASE_CMDLINE\"/" "$ROOT/etc/default/grub"
        grep -q "^GRUB_CMDLINE_LINUX=\"$BASE_CMDLINE\"" "$ROOT/etc/default/grub" ;;
    sdboot)
        printf 'timeout 0\nconsole-mode keep\n' > "$ROOT/boot/efi/loader/loader.conf"
        # the entry names its files from the ESP's root (not /boot/efi/...)
        grep -q '^linux  *\/debian\/' "$ROOT"/boot/efi/loader/entries/*.conf ;;
esac

cat > "$ROOT/usr/local/sbin/tb-boot" <<'SH'
#!/bin/sh
# The testbed's entry at every boot: the run's 9p share on /run/tbshare, then its boot-run.
modprobe -a 9pnet_virtio 9p
mkdir -p /run/tbshare
mount -t 9p -o trans=virtio,version=9p2000.L,ro tb /run/tbshare || { echo "TB: no 9p share 'tb'"; exit 1; }
exec /run/tbshare/tb/lib/boot-run
SH
chmod 755 "$ROOT/usr/local/sbin/tb-boot"
cat > "$ROOT/etc/systemd/system/tb-boot.service" <<'UNIT'
[Unit]
Description=gpu-handoff boot-suite scenario
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/tb-boot
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/tb-boot.service "$ROOT/etc/systemd/system/multi-user.target.wants/tb-boot.service"
systemctl --root="$ROOT" mask serial-getty@ttyS0.service getty@tty1.service >/dev/null 2>&1
rm -f "$ROOT"/etc/systemd/system/timers.target.wants/*

# --- the disk: partition table, then the file systems put in place ----------------------------
ROOT_MIB=2048 ESP_MIB=200
rm -f "$DISK" "$DISK.part"
if [ "$LABEL" = dos ]; then
    truncate -s $((1 + ROOT_MIB))M "$DISK"
    printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$DISK"
    ROOT_AT=1
else
    truncate -s $((1 + ESP_MIB + ROOT_MIB + 1))M "$DISK"
    printf 'label: gpt\nstart=2048, size=%dMiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=esp\nsize=%dMiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root\n' \
        "$ESP_MIB" "$ROOT_MIB" | sfdisk -q "$DISK"
    ROOT_AT=$((1 + ESP_MIB))
    mkfs.vfat -F 32 -i "$ESP_ID" -n ESP -C "$DISK.part" $((ESP_MIB * 1024)) >/dev/null
    if [ -n "$(ls -A "$ROOT/boot/efi")" ]; then mcopy -s -p -Q -i "$DISK.part" "$ROOT/boot/efi"/* ::/; fi
    dd if="$DISK.part" of="$DISK" bs=1M seek=1 conv=notrunc,sparse status=none
    rm -f "$DISK.part"
    rm -rf "${ROOT:?}/boot/efi" && mkdir "$ROOT/boot/efi"
fi
mke2fs -q -t ext4 -U "$ROOT_UUID" -L root -d "$ROOT" "$DISK.part" ${ROOT_MIB}M
dd if="$DISK.part" of="$DISK" bs=1M seek=$ROOT_AT conv=notrunc,sparse status=none
rm -f "$DISK.part"
rm -rf "$ROOT"
echo "build-disk: $DISK ($VARIANT, root UUID $ROOT_UUID)"
