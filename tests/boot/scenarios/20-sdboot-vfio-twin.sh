#!/bin/sh
# 20-sdboot-vfio-twin: issue 13's scenarios 1 and 2 on systemd-boot (UEFI, OVMF) + kernel-install + dracut:
# setup --vfio of the twin GPU (which also turns the IOMMU on: the IOMMU scenario's checks are
# all here), one reboot, the twin on vfio-pci from the initramfs on and bochs-drm never probing
# it, doctor ready, setup status applied; setup undo, reboot, the command line and /etc + /boot
# (the ESP on /boot/efi with it) as before. The nested QEMU and the hand-over of the boot GPU do
# not depend on the bootloader: 10-grub-vfio-twin has them. Judged by 20-sdboot-vfio-twin.py.
# tb.disk: sdboot
# tb.boots: 3
# tb.timeout: 1200

# shellcheck source=../../vm/guest/lib.sh
. /tb/lib/lib.sh
. /tb/scenarios/boot-lib.sh
. /tb/scenarios/vfio-lib.sh
# The image the loader entry of the running kernel names (on the ESP), as the two files that tell:
# our modprobe.d file and the image's modules.dep naming vfio-pci.ko (lsinitrd -f extracts one
# file; its full listing of a hostonly image takes over a minute under TCG).
IMG=/boot/efi$(sed -n 's/^initrd  *//p' /boot/efi/loader/entries/*-"$(uname -r)".conf | head -n1)
INITRD_LIST="{ lsinitrd -f etc/modprobe.d/gpu-handoff.conf $IMG | sed 's|^|modprobe.d/gpu-handoff.conf: |'; lsinitrd -f usr/lib/modules/$(uname -r)/modules.dep $IMG; }"
NESTED=no ATTACH=no
vfio_twin_scenario
