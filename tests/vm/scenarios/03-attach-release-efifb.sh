#!/bin/sh
# 03-attach-release-efifb: the cycle of 03-attach-release on a firmware-framebuffer host: UEFI
# (OVMF) and no DRM driver (bochs blacklisted), so the GPU has no driver and the console is
# fbcon on efifb (efi-framebuffer.0, "EFI VGA"). attach --yes must unbind fbcon and efifb,
# take the audio function from snd_hda_intel and bind both functions to vfio-pci; the group must
# be usable through the VFIO API. vfio-pci's bind of a VGA device unregisters efi-framebuffer.0
# for good (the kernel's aperture takeover), and with the last framebuffer gone fbcon's vtcon1
# disappears too. release must succeed anyway (exit 0, journal removed, a later recover has
# nothing to do) and give back everything else exactly: drivers, overrides, modules, ALSA.
# With no DRM driver the console stays dark after release: asserted as the current behaviour
# and shown as a NOTE (loading the GPU's DRM driver on release is a product decision).
# Judged by 03-attach-release-efifb.py.
# tb.firmware: uefi
# tb.append: modprobe.blacklist=bochs
# tb.iommu: pt

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
pci_facts
find_gpu
show_state "before"
host_state > /tmp/state.before
step "check:efifb-host" "grep -qx 'platform efi-framebuffer.0 driver=efi-framebuffer' /tmp/state.before &&
    grep -qx 'fb: 0 EFI VGA;' /tmp/state.before && grep -qx 'vtcon1 bind=1 (M) frame buffer device' /tmp/state.before &&
    grep -qx '$GPU none (null)' /tmp/state.before && grep -qx '$AUD snd_hda_intel (null)' /tmp/state.before &&
    ! grep -qx 'module bochs' /tmp/state.before"
capture plan gpu-handoff --json attach --dry-run --yes
capture attach gpu-handoff --json attach --yes
show_state "attached"
capture status-attached gpu-handoff --json status
step "check:vfio-drivers" "[ '$(drv "$GPU")' = vfio-pci ] && [ '$(drv "$AUD")' = vfio-pci ]"
step "check:efifb-removed-by-vfio" "[ ! -e /sys/bus/platform/devices/efi-framebuffer.0 ] && [ ! -s /proc/fb ]"
step "check:no-fbcon" "! grep -l 'frame buffer' /sys/class/vtconsole/vtcon*/name"
step "check:vfio-group-usable" "vfio-check $GPU"
capture release gpu-handoff --json release
show_state "released"
capture status-released gpu-handoff status
# Everything but the console equals the state before; the firmware framebuffer and its fbcon
# are gone for good (expected, see the header).
wait_state /tmp/state.before "check:state-restored(except-console)" '^(platform efi-framebuffer|fb: |vtcon|journal: )'
step "check:efifb-gone-for-good" "[ ! -e /sys/bus/platform/devices/efi-framebuffer.0 ] && [ ! -s /proc/fb ]"
step "check:no-journal" "[ ! -e /run/gpu-handoff/journal ]"
capture recover-after gpu-handoff recover
# What the console looks like after release (the product question: release could load the
# GPU's DRM driver, bochs, which this host had blacklisted).
note "console after release: vtcons=[$(for v in /sys/class/vtconsole/vtcon*; do printf '%s:bind=%s:%s ' "${v##*/}" "$(cat "$v/bind")" "$(cat "$v/name")"; done)] /proc/fb=[$(tr '\n' ';' < /proc/fb)] GPU driver=$(drv "$GPU")"
step "check:console-dark(current behaviour)" "[ '$(drv "$GPU")' = none ] && ! grep -l 'frame buffer' /sys/class/vtconsole/vtcon*/name &&
    [ \"\$(cat /sys/class/vtconsole/vtcon0/bind)\" = 1 ]"
dmesg_clean
result
