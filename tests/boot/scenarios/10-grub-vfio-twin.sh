#!/bin/sh
# 10-grub-vfio-twin: binding at boot by address, on the machine with two identical GPUs
# (1234:1111 + HDA each, own root ports); GRUB (BIOS) + initramfs-tools. Also issue 13's "reboots
# to ready" (one reboot from a stock install) and the dynamic hand-over of the other GPU.
#   boot 0: stock (intel_iommu=off; both GPUs on bochs-drm, both audio functions on
#           snd_hda_intel, bochs-drm's probe of the twin is in the kernel log); setup --vfio TWIN
#           --yes --json
#   boot 1 (the one reboot): the twin and its audio on vfio-pci, bochs-drm never probed the twin
#           (no "bochs-drm TWIN" line in the kernel log), the boot GPU still drives the console
#           (fbcon on bochs-drmdrmfb, /dev/fb0 is the boot GPU's), the initramfs holds vfio-pci
#           and the modprobe.d file, /dev/vfio/N opens through the VFIO API (vfio-check), a
#           nested QEMU runs with both twin functions; doctor ready, setup status applied; then
#           attach + release of the boot GPU while the twin stays on vfio-pci; setup undo
#   boot 2: both GPUs on bochs-drm again, the command line and /etc + /boot as before
# Judged by 10-grub-vfio-twin.py (JSON documents, the one reboot) and the steps here.
# tb.disk: grub-bios
# tb.boots: 3
# tb.share: /
# tb.timeout: 900

# shellcheck source=../../vm/guest/lib.sh
. /tb/lib/lib.sh
. /tb/scenarios/boot-lib.sh
. /tb/scenarios/vfio-lib.sh
INITRD_LIST="lsinitramfs /boot/initrd.img-$(uname -r)"
vfio_twin_scenario
