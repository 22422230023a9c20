#!/bin/sh
# 04-twenty-cycles: 20 attach/release cycles through gpu-handoff in one boot, to catch what
# builds up: a module reference, a DRM minor that moves (card0 -> card1), an override left set,
# fbcon or ALSA not coming back, kernel warnings. In every cycle attach --yes must put both
# functions on vfio-pci with a usable group (vfio-check), release must give everything back,
# and the host state after release must equal the initial one (drivers, overrides, sorted
# module list, vtcon bindings, /dev/dri, /proc/fb, ALSA cards, no journal). No WARNING, BUG or
# Oops in dmesg at the end. The checker shows the per-step timeline of the last cycle and the
# spread of attach/release times as NOTEs. Judged by 04-twenty-cycles.py.
# tb.firmware: bios
# tb.iommu: pt
# tb.timeout: 300

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
find_gpu
CYCLES=$(tb_arg cycles 20)
host_state > /tmp/state.before
i=1
while [ "$i" -le "$CYCLES" ]; do
    capture "attach-$i" gpu-handoff --json attach --yes
    step "check:vfio:$i" "[ '$(drv "$GPU")' = vfio-pci ] && [ '$(drv "$AUD")' = vfio-pci ] && vfio-check $GPU > /dev/null"
    capture "release-$i" gpu-handoff --json release
    wait_state /tmp/state.before "check:state-restored:$i"
    [ "$TB_FAILS" -gt 0 ] && break   # the first broken cycle is the evidence; later ones only repeat it
    i=$((i + 1))
done
info "cycles done: $((i > CYCLES ? CYCLES : i))"
note "$CYCLES cycles took $(($(now) - TB_T0)) ms in all"
dmesg_clean
result
