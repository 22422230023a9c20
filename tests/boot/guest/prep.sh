#!/bin/sh
# prep.sh: the boot suite's image preparation, run in the testbed's busybox initramfs (the
# -kernel boot of tests/vm) with the new disk attached: it installs GRUB on the disk the way a
# live USB would - the disk's root mounted on /mnt (and its ESP on /mnt/boot/efi), /dev /proc
# /sys bound in, then grub-install and update-grub in a chroot. tb.variant= on the kernel
# command line says which (grub-bios or grub-efi; build-disk.sh). run-boots judges the
# "RESULT" line and keeps the disk only when it says PASS.
# shellcheck source=../../vm/guest/lib.sh
. /tb/lib/lib.sh
. /tb/scenarios/disk-lib.sh
VARIANT=$(tb_arg variant "")
mount_disk /mnt || { echo "RESULT FAIL (cannot mount the disk)"; exit 1; }
IN_ROOT="chroot /mnt /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin"   # (step runs sh -c: no functions)
# grub-mkconfig writes root=UUID= only when udev's by-uuid link exists; this initramfs has no udev
uuid=$(chroot /mnt /sbin/blkid -s UUID -o value "$DISK_ROOT")
step "by-uuid-link($uuid)" "[ -n '$uuid' ] && mkdir -p /dev/disk/by-uuid && ln -sf ../../${DISK_ROOT#/dev/} /dev/disk/by-uuid/$uuid"
case $VARIANT in
    grub-bios) step grub-install "$IN_ROOT grub-install --target=i386-pc /dev/vda" ;;
    grub-efi)  step grub-install "$IN_ROOT grub-install --target=x86_64-efi --efi-directory=/boot/efi --no-nvram --force-extra-removable" ;;
    *) echo "RESULT FAIL (tb.variant=$VARIANT: nothing to prepare)"; exit 1 ;;
esac
step update-grub "$IN_ROOT update-grub"
step grub.cfg-has-linux-with-uuid "grep -q '^[[:space:]]*linux[[:space:]].* root=UUID=$uuid ' /mnt/boot/grub/grub.cfg"
umount_disk /mnt
result
