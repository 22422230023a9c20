# shellcheck shell=sh
# disk-lib.sh: the boot suite's disk as a live USB sees it (the prep boot that installs GRUB, the
# rescue boot), in the testbed's busybox initramfs. Part of the disk images' recipe: run-boots
# rebuilds them when this file changes.
#   mount_disk DIR     the disk's root on DIR and its ESP (GPT disks) on DIR/boot/efi, with /dev
#                      /proc /sys (and efivarfs) bound in; sets DISK_ROOT, DISK_ESP
#   umount_disk DIR    the reverse, then sync
mount_disk() {
    for _m in virtio_pci virtio_blk ext4 vfat nls_cp437 nls_utf8 nls_ascii; do /sbin/modprobe -q "$_m"; done
    _i=0; while [ ! -b /dev/vda1 ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
    if [ -b /dev/vda2 ]; then DISK_ESP=/dev/vda1 DISK_ROOT=/dev/vda2; else DISK_ESP="" DISK_ROOT=/dev/vda1; fi
    mount -t ext4 "$DISK_ROOT" "$1" || return 1
    [ -z "$DISK_ESP" ] || mount -t vfat "$DISK_ESP" "$1/boot/efi" || return 1
    for _f in dev proc sys; do mount --bind "/$_f" "$1/$_f" || return 1; done
    [ -d /sys/firmware/efi/efivars ] && mount -t efivarfs efivarfs "$1/sys/firmware/efi/efivars" 2>/dev/null
    return 0
}

umount_disk() {
    umount "$1/sys/firmware/efi/efivars" 2>/dev/null
    for _f in dev proc sys; do umount "$1/$_f"; done
    [ -z "$DISK_ESP" ] || umount "$1/boot/efi"
    umount "$1"
    sync
}

