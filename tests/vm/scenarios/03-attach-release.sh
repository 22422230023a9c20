#!/bin/sh
# 03-attach-release: the full hand-over on the real kernel through gpu-handoff itself. attach
# --yes lends the GPU and its audio function to vfio-pci (fbcon, driver unbind, module unload,
# vfio-pci bind); the group must then be usable through the VFIO API (vfio-check opens the
# group and device and maps DMA, as QEMU does); release gives everything back. The host state
# after release must equal the state before: drivers, overrides, loaded modules, fbcon, DRM and
# ALSA devices, and no WARNING/BUG/Oops in dmesg. Judged by 03-attach-release.py.
# tb.firmware: bios
# tb.iommu: pt

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
if [ -z "$TB_TOOL" ] || [ ! -x "$TB_TOOL" ]; then
    echo "RESULT FAIL (gpu-handoff is not in the guest)"; exit 1
fi
before() { pci_snapshot; /sbin/lsmod | awk 'NR > 1 { print $1 }' | sort; cat /sys/class/vtconsole/vtcon*/bind; ls /dev/dri; cat /proc/asound/cards; }
before > /tmp/state.before
capture attach gpu-handoff --json attach --yes
capture status-attached gpu-handoff --json status
step "check:vfio-drivers" '[ "$(basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/driver)")" = vfio-pci ] &&
    [ "$(basename "$(readlink /sys/bus/pci/devices/0000:01:00.1/driver)")" = vfio-pci ]'
step "check:vfio-group-usable" "vfio-check 0000:01:00.0"
capture release gpu-handoff --json release
capture status-released gpu-handoff --json status
before > /tmp/state.after
step "check:state-restored" "diff -u /tmp/state.before /tmp/state.after"
step "check:no-journal" "[ ! -e /run/gpu-handoff/journal ]"
step "check:dmesg-clean" "! dmesg | grep -E 'WARNING|BUG|Oops'"
result
