#!/bin/sh
# 04-holder-refused: a process that has one of the GPU's device nodes open blocks the hand-over.
# attach --yes must refuse at its holder check, before it changes anything: exit 3 (rolled
# back, nothing to undo), stderr naming the holder by pid and command and the node it holds,
# and the host exactly as before (drivers, overrides, modules, fbcon, DRM and ALSA devices, no
# journal). Two holders, one at a time: a "compositor" on /dev/dri/card0 (human output), then a
# "sound server" on the audio function's /dev/snd/controlC0 (--json). Once the holders are
# gone, attach and release work, so the refusals left nothing behind (lock, journal). Last, a
# holder of the GPU's fbdev node /dev/fb0, which must be refused the same way.
# Judged by 04-holder-refused.py.
# tb.firmware: bios
# tb.iommu: pt

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
find_gpu
host_state > /tmp/state.before

# 1. /dev/dri/card0 held by a process whose command is "sleep"
sh -c 'exec 3</dev/dri/card0; exec sleep 300' &
HOLDER=$!
step "holder-started" "i=0; while [ \"\$(readlink /proc/$HOLDER/fd/3)\" != /dev/dri/card0 ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i+1)); done;
    ls -l /proc/$HOLDER/fd/3; cat /proc/$HOLDER/comm"
info "holder card0 pid=$HOLDER"
capture attach-card0 gpu-handoff attach --yes
wait_state /tmp/state.before "check:unchanged-after-card0-refusal"
capture status-card0 gpu-handoff status
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null

# 2. the audio function's ALSA control node, held by "sleep" too; --json this time
sh -c 'exec 3</dev/snd/controlC0; exec sleep 300' &
HOLDER=$!
step "holder2-started" "i=0; while [ \"\$(readlink /proc/$HOLDER/fd/3)\" != /dev/snd/controlC0 ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i+1)); done;
    ls -l /proc/$HOLDER/fd/3"
info "holder controlC0 pid=$HOLDER"
capture attach-snd gpu-handoff --json attach --yes
wait_state /tmp/state.before "check:unchanged-after-snd-refusal"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null

# 3. nothing holds the GPU any more: the hand-over works and gives everything back
capture attach-free gpu-handoff --json attach --yes
step "check:vfio-drivers" "[ '$(drv "$GPU")' = vfio-pci ] && [ '$(drv "$AUD")' = vfio-pci ]"
capture release-free gpu-handoff --json release
wait_state /tmp/state.before "check:state-restored"

# 4. the GPU's fbdev node /dev/fb0 (fbdev emulation of bochs-drm: a boot splash, fbterm, a
#    kiosk program): it pins the DRM driver's module just like /dev/dri/card0 does; last,
#    because a failure here changes the DRM node's number for the rest of the boot
sh -c 'exec 3</dev/fb0; exec sleep 300' &
HOLDER=$!
step "holder3-started" "i=0; while [ \"\$(readlink /proc/$HOLDER/fd/3)\" != /dev/fb0 ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i+1)); done;
    ls -l /proc/$HOLDER/fd/3; ls -l /sys/bus/pci/devices/$GPU/graphics"
info "holder fb0 pid=$HOLDER"
capture attach-fb0 gpu-handoff attach --yes
wait_state /tmp/state.before "check:unchanged-after-fb0-refusal"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
dmesg_clean
result
