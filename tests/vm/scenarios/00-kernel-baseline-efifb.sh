#!/bin/sh
# 00-kernel-baseline-efifb: the same manual cycle as 00-kernel-baseline on the other kind of
# host: UEFI firmware and no DRM driver at boot (bochs blacklisted), so the console runs on
# the firmware framebuffer (efifb) until the hand-over. The cycle unbinds efifb; vfio-pci's
# bind unregisters it for good, so on reattach the real DRM driver is loaded (tb.drm=bochs)
# and fbcon moves to it. ~11 s with OVMF under TCG.
# tb.firmware: uefi
# tb.append: modprobe.blacklist=bochs tb.drm=bochs
# tb.tool: no
exec /tb/scenarios/00-kernel-baseline.sh
